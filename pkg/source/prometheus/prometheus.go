// Package prometheus reads model-serving metrics from Prometheus and compatible stores (Mimir,
// Cortex, Thanos, VictoriaMetrics) over the HTTP API and turns them into ModelLens series: latency
// percentiles computed from histogram buckets with Prometheus' histogram_quantile semantics (plus
// the bucket bounds as error bars), and traffic with rate/increase semantics.
package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/upstream"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// MaxResponseBytes caps the body of one Prometheus response.
const MaxResponseBytes = limits.PrometheusBody

// maxPoints is Prometheus' own limit on points per series of a range query.
const maxPoints = 11000

// ErrResponseTooLarge is matched (errors.Is) when a response body exceeds its cap.
var ErrResponseTooLarge = upstream.ErrTooLarge

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Source is the Prometheus metrics source. It implements source.Metrics and is safe for
// concurrent use.
type Source struct {
	api          v1.API
	raw          api.Client
	preset       preset
	modelLabel   string
	versionLabel string
	tenant       bool
	now          func() time.Time
	redact       *upstream.Redactor

	mu        sync.Mutex
	detected  bool   // the server answered the build-info request (with its version or an error)
	goRates   bool   // compute rate/increase in Go from raw samples (server semantics known)
	serverVer string // as reported by /api/v1/status/buildinfo
}

var _ source.Metrics = (*Source)(nil)

// New returns a source that calls cfg.URL with client (the data source's base client from
// upstream.NewBase: TLS, basic auth, custom headers, timeout; nil means upstream's defaults),
// wrapped by upstream.NewClient: a non-empty token is sent as a bearer token and cfg.TenantID as
// the X-Scope-OrgID header, response bodies are limited to MaxResponseBytes and redirects to
// another origin refused.
func New(client *http.Client, cfg settings.Prometheus, token string) (*Source, error) {
	return newSource(client, cfg, token, MaxResponseBytes)
}

func newSource(client *http.Client, cfg settings.Prometheus, token string, limit int64) (*Source, error) {
	if cfg.URL == "" {
		return nil, errors.New("prometheus.url is not set")
	}
	p, ok := presetFor(cfg.Preset)
	if !ok {
		return nil, fmt.Errorf("prometheus.preset %q is not one of %v", cfg.Preset, settings.Presets)
	}
	s := &Source{preset: p, modelLabel: p.modelLabel, versionLabel: p.versionLabel, tenant: cfg.TenantID != "", now: time.Now}
	if cfg.ModelLabel != "" {
		if !labelName.MatchString(cfg.ModelLabel) {
			return nil, fmt.Errorf("prometheus.modelLabel %q is not a valid label name", cfg.ModelLabel)
		}
		s.modelLabel = cfg.ModelLabel
	}
	if cfg.VersionLabel != "" {
		if !labelName.MatchString(cfg.VersionLabel) {
			return nil, fmt.Errorf("prometheus.versionLabel %q is not a valid label name", cfg.VersionLabel)
		}
		s.versionLabel = cfg.VersionLabel
	}
	var hdr http.Header
	if cfg.TenantID != "" {
		hdr = http.Header{"X-Scope-OrgID": {cfg.TenantID}}
	}
	up, err := upstream.NewClient(client, upstream.Config{URL: cfg.URL, Token: token, Header: hdr, MaxBody: limit})
	if err != nil {
		return nil, fmt.Errorf("prometheus.url: %w", err)
	}
	s.redact = up.Redactor
	ac, err := api.NewClient(api.Config{Address: cfg.URL, Client: up.HTTP})
	if err != nil {
		return nil, fmt.Errorf("prometheus.url: %w", err)
	}
	s.raw = ac
	s.api = v1.NewAPI(ac)
	return s, nil
}

// detect asks the server for its version: rates are computed in Go only where the server's
// rate/increase semantics are known to equal ModelLens' kernels (Prometheus 2.x before 2.51:
// closed range selectors and the 2.42 zero-point order); anywhere else Prometheus computes them.
// An answer (a version, or an API error from a server without the endpoint) settles it; a failure
// to reach the server leaves it to the next query.
// It returns whether to compute rates in Go.
func (s *Source) detect(ctx context.Context) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.detected || s.tenant { // Mimir/Cortex report their own versions and semantics
		return s.goRates
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	bi, err := s.api.Buildinfo(ctx)
	var perr *v1.Error
	switch {
	case err == nil:
		s.serverVer = bi.Version
		s.goRates = goRatesFor(bi.Version)
	case !errors.As(err, &perr):
		return false
	}
	s.detected = true
	return s.goRates
}

func goRatesFor(version string) bool {
	parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	return err1 == nil && err2 == nil && major == 2 && minor < 51
}

// downstream turns an upstream failure into a downstream error with a message that says what
// happened; upstream text in it is redacted before it is cut, so no secret, whole or in part,
// reaches it.
func (s *Source) downstream(err error, what string) error {
	var perr *v1.Error
	var tl *upstream.TooLargeError
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return backend.DownstreamError(fmt.Errorf("Prometheus did not answer in time (%s); shorten the time range or raise timeoutSeconds", what))
	case errors.As(err, &tl):
		return backend.DownstreamError(fmt.Errorf("Prometheus answer to %s is too large (%s); shorten the time range or raise the interval", what, tl))
	case errors.As(err, &perr) && perr.Type == v1.ErrBadResponse:
		msg := perr.Msg
		// client_golang's JSON errors quote windows of the body ("... byte of ...|<bytes>|...");
		// they are cut at both ends, so they are dropped rather than redacted.
		if i := strings.Index(msg, " of ...|"); i >= 0 {
			msg = msg[:i]
		}
		return backend.DownstreamError(fmt.Errorf("the answer to %s is not a Prometheus API response (check prometheus.url): %s", what, s.redact.Excerpt(msg, limits.ErrorExcerpt)))
	case errors.As(err, &perr):
		msg := s.redact.Excerpt(perr.Msg, maxMessage)
		if perr.Detail != "" && perr.Type != v1.ErrBadData && perr.Type != v1.ErrExec {
			msg += ": " + s.redact.BodyExcerpt(strings.NewReader(perr.Detail))
		}
		return backend.DownstreamError(fmt.Errorf("Prometheus %s error (%s): %s", perr.Type, what, msg))
	case upstream.IsTransport(err):
		var busy *upstream.BusyError
		if errors.As(err, &busy) {
			return backend.DownstreamError(s.redact.Error(fmt.Errorf("Prometheus (%s): %w", what, upstream.Classify(context.Background(), err))))
		}
		return backend.DownstreamError(s.redact.Error(fmt.Errorf("cannot reach Prometheus (%s): %w", what, upstream.Classify(context.Background(), err))))
	}
	return backend.DownstreamError(s.redact.Error(fmt.Errorf("Prometheus (%s): %w", what, err)))
}

// maxMessage bounds an upstream error or warning message quoted in an answer.
const maxMessage = 500

func (s *Source) warningNotices(ws v1.Warnings) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, "Prometheus warning: "+s.redact.Excerpt(w, maxMessage))
	}
	return out
}

// window is the request's time frame in Prometheus' millisecond resolution.
type window struct {
	start, end, step, width int64 // Unix ms, ms
}

func (w window) evalTimes() []int64 {
	n := (w.end-w.start)/w.step + 1
	ts := make([]int64, 0, n)
	for t := w.start; t <= w.end; t += w.step {
		ts = append(ts, t)
	}
	return ts
}

func (w window) promRange() v1.Range {
	return v1.Range{Start: time.UnixMilli(w.start), End: time.UnixMilli(w.end), Step: time.Duration(w.step) * time.Millisecond}
}

// durationMs formats a duration in ms as PromQL does ("5m", "1h30m", "1500ms").
func durationMs(ms int64) string {
	return model.Duration(time.Duration(ms) * time.Millisecond).String()
}

func toWindow(req source.MetricsRequest) (window, error) {
	w := window{start: req.Start.UnixMilli(), end: req.End.UnixMilli(), step: req.Step.Milliseconds(), width: req.Window.Milliseconds()}
	if w.step <= 0 {
		return w, backend.DownstreamError(errors.New("the query interval (step) must be at least 1ms"))
	}
	if w.end < w.start {
		return w, backend.DownstreamError(errors.New("the time range ends before it starts"))
	}
	if (w.end-w.start)/w.step+1 > maxPoints {
		return w, backend.DownstreamError(fmt.Errorf("%d points per series exceed Prometheus' limit of %d; raise the interval or shorten the range", (w.end-w.start)/w.step+1, maxPoints))
	}
	if w.width <= 0 {
		w.width = w.step
	}
	return w, nil
}

// grouping is how the request splits series: by model always, by version when asked.
type grouping struct {
	modelLabel, versionLabel string
	byVersion                bool
	matchers                 string // `model_name="m",model_version="v"` (may be empty)
}

func (s *Source) grouping(req source.MetricsRequest) (grouping, error) {
	g := grouping{modelLabel: s.modelLabel, versionLabel: s.versionLabel}
	var m []string
	if req.Model != "" && req.Model != "*" {
		m = append(m, s.modelLabel+"="+quote(req.Model))
	}
	if req.Version != "" {
		if s.versionLabel == "" {
			return g, backend.DownstreamError(fmt.Errorf("preset %s has no version label; set prometheus.versionLabel to split by version", s.preset.name))
		}
		g.byVersion = true
		if req.Version != "*" {
			m = append(m, s.versionLabel+"="+quote(req.Version))
		}
	}
	g.matchers = strings.Join(m, ",")
	return g, nil
}

// by is the PromQL grouping clause content, with extra labels first ("le", "feature").
func (g grouping) by(extra ...string) string {
	l := append(extra, g.modelLabel)
	if g.byVersion {
		l = append(l, g.versionLabel)
	}
	return strings.Join(l, ", ")
}

// sel is a selector of metric name with the request's matchers and extra ones.
func (g grouping) sel(name string, extra ...string) string {
	m := extra
	if g.matchers != "" {
		m = append([]string{g.matchers}, extra...)
	}
	if len(m) == 0 && name != "" {
		return name
	}
	return name + "{" + strings.Join(m, ",") + "}"
}

// key identifies a series group and gives its output labels.
func (g grouping) key(m model.Metric) (string, map[string]string) {
	labels := map[string]string{"model": string(m[model.LabelName(g.modelLabel)])}
	k := labels["model"]
	if g.byVersion {
		labels["version"] = string(m[model.LabelName(g.versionLabel)])
		k += "\xff" + labels["version"]
	}
	return k, labels
}

// quote is a PromQL string literal (Go escapes are valid PromQL escapes).
func quote(s string) string { return strconv.Quote(s) }

// sortSeries orders series by their labels so that answers are deterministic.
func sortSeries(ss []source.Series) {
	sort.SliceStable(ss, func(i, j int) bool { return labelsKey(ss[i].Labels) < labelsKey(ss[j].Labels) })
}

func labelsKey(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(l[k])
		b.WriteByte(0xff)
	}
	return b.String()
}

func (s *Source) queryRange(ctx context.Context, q string, w window, what string) (model.Matrix, []string, error) {
	r := w.promRange()
	args := url.Values{"query": {q}, "start": {formatTime(r.Start)}, "end": {formatTime(r.End)},
		"step": {strconv.FormatFloat(r.Step.Seconds(), 'f', -1, 64)}}
	m, ws, err := s.queryMatrix(ctx, "/api/v1/query_range", args, int((w.end-w.start)/w.step+1))
	if err != nil {
		return nil, nil, s.downstream(err, what)
	}
	return m, s.warningNotices(ws), nil
}

func (s *Source) queryAt(ctx context.Context, q string, t time.Time, what string) (model.Value, []string, error) {
	v, ws, err := s.api.Query(ctx, q, t)
	if err != nil {
		return nil, nil, s.downstream(err, what)
	}
	return v, s.warningNotices(ws), nil
}

// parallel runs fns concurrently and returns the first error.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, f := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func addNotice(ns []string, n string) []string {
	for _, x := range ns {
		if x == n {
			return ns
		}
	}
	return append(ns, n)
}
