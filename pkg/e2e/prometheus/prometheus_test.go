// Package prometheus_test runs the Prometheus source against real Prometheus servers — Debian's
// 2.42 ($PROMETHEUS_BIN or `prometheus` on the PATH) and 3.16 built from its Go module
// ($PROMETHEUS3_BIN or the cache of scripts/prometheus3-deps.sh) — and VictoriaMetrics
// single-node ($VICTORIAMETRICS_BIN or the cache of scripts/victoriametrics-deps.sh), each scraping
// (or fed by) the demo model server every second, and checks that its latency percentiles, means,
// rates and feature histograms equal the server's own answers.
// Set MODELLENS_SKIP_PROMETHEUS=1 to skip. A missing server skips its subtest, except under CI=true
// where it fails.
package prometheus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	promsrc "github.com/modellens/mlmonitoring-datasource/pkg/source/prometheus"
)

// Tolerance: 1e-9 relative. Prometheus and ModelLens evaluate the same formulas on the same float64
// samples; only the order of a sum over series can differ in the last bits.
const tol = 1e-9

const (
	window = 10 * time.Second
	step   = 2 * time.Second
	span   = 12 * time.Second
)

func TestRealPrometheus(t *testing.T) {
	if os.Getenv("MODELLENS_SKIP_PROMETHEUS") == "1" {
		t.Skip("MODELLENS_SKIP_PROMETHEUS=1")
	}
	servers := []struct {
		name            string
		bin             string
		major, minMinor int
	}{
		{name: "2.42", bin: findServer(t, "PROMETHEUS_BIN", debianPrometheus(), "scripts/prometheus-deps.sh"), major: 2},
		{name: "3.16", bin: findServer(t, "PROMETHEUS3_BIN", cachedBin("prometheus-3.16.0", "prometheus"), "scripts/prometheus3-deps.sh"), major: 3, minMinor: 16},
	}
	demoAddr := startDemo(t)
	for _, srv := range servers {
		srv := srv
		t.Run(srv.name, func(t *testing.T) {
			if srv.bin == "" {
				t.Skipf("Prometheus %s not installed", srv.name)
			}
			t.Parallel()
			checkPrometheus(t, srv.bin, demoAddr, srv.major, srv.minMinor)
		})
	}
}

// startDemo builds and starts the demo model server (seed 42, 5 requests/s) and returns its address.
func startDemo(t *testing.T) string {
	root := moduleRoot(t)
	dir := t.TempDir()
	demoBin := filepath.Join(dir, "demo-model")
	build := exec.Command("go", "build", "-o", demoBin, "./pkg/cmd/demo-model")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./pkg/cmd/demo-model: %v\n%s", err, out)
	}
	demoAddr := freeAddr(t)
	start(t, dir, "demo-model", demoBin, "-listen", demoAddr, "-seed", "42", "-rate", "5", "-tick", "1s")
	waitHTTP(t, "http://"+demoAddr+"/metrics", 20*time.Second)
	return demoAddr
}

// checkPrometheus starts the Prometheus binary scraping the demo server every second and compares
// the source's answers with the server's own; the server must report version major.minor with
// minor >= minMinor. The source must compute rates in Go from raw samples before 2.51 and leave
// them to Prometheus from 2.51 on (left-open range selectors).
func checkPrometheus(t *testing.T, promBin, demoAddr string, major, minMinor int) {
	dir := t.TempDir()
	promAddr := freeAddr(t)
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: demo-model\n    static_configs:\n      - targets: [%q]\n", demoAddr)
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, dir, "prometheus", promBin, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--storage.tsdb.retention.time=1h")
	promURL := "http://" + promAddr
	waitHTTP(t, promURL+"/-/ready", 30*time.Second)
	minor := checkVersion(t, promURL, major, minMinor)
	goRates := major == 2 && minor < 51

	// Wait until the first window of the checked range is covered by 1 s scrapes.
	need := span + window + 3*time.Second
	deadline := time.Now().Add(need + 40*time.Second)
	for {
		v := promInstant(t, promURL, fmt.Sprintf("min(count_over_time(ml_prediction_requests_total[%ds]))", int(need.Seconds())))
		if len(v) > 0 && v[0] >= need.Seconds()-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus did not collect %v of samples (have %v)", need, v)
		}
		time.Sleep(time.Second)
	}
	end := time.Now().Add(-3 * time.Second).Truncate(time.Second)
	req := source.MetricsRequest{Start: end.Add(-span), End: end, Step: step, Window: window}
	w := strconv.Itoa(int(window.Seconds())) + "s"

	s, err := promsrc.New(&http.Client{Timeout: 20 * time.Second}, settings.Prometheus{URL: promURL, Preset: settings.PresetGeneric}, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Latency percentiles and mean.
	lat, err := s.Latency(ctx, req, []float64{50, 95, 99})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, q := range []string{"0.5", "0.95", "0.99"} {
		ref := promRange(t, promURL, "histogram_quantile("+q+", sum by (le, model_name) (increase(ml_prediction_latency_seconds_bucket["+w+"])))", req)
		checked += compare(t, "p"+q, lat.Series, func(l map[string]string) bool { return l["quantile"] == q }, ref, 1000)
	}
	ref := promRange(t, promURL, "sum by (model_name) (increase(ml_prediction_latency_seconds_sum["+w+"])) / sum by (model_name) (increase(ml_prediction_latency_seconds_count["+w+"]))", req)
	checked += compare(t, "mean", lat.Series, func(l map[string]string) bool { return l["stat"] == "mean" }, ref, 1000)

	// Traffic: computed in Go from raw samples before Prometheus 2.51, by Prometheus from 2.51 on.
	tr, err := s.Traffic(ctx, req, []string{"rate", "count", "errors", "errorRatio"})
	if err != nil {
		t.Fatal(err)
	}
	wantNotice, otherNotice := promsrc.NoticePromRates, promsrc.NoticeGoRates
	if goRates {
		wantNotice, otherNotice = otherNotice, wantNotice
	}
	if !contains(tr.Notices, wantNotice) || contains(tr.Notices, otherNotice) {
		t.Fatalf("rates path: want notice %q, got %q", wantNotice, tr.Notices)
	}
	is := func(m string) func(map[string]string) bool {
		return func(l map[string]string) bool { return l["metric"] == m }
	}
	checked += compare(t, "rate", tr.Series, is("rate"), promRange(t, promURL, "sum by (model_name) (rate(ml_prediction_requests_total["+w+"]))", req), 1)
	checked += compare(t, "count", tr.Series, is("count"), promRange(t, promURL, "sum by (model_name) (increase(ml_prediction_requests_total["+w+"]))", req), 1)
	checked += compare(t, "errors", tr.Series, is("errors"), promRange(t, promURL, `sum by (model_name) (rate(ml_prediction_requests_total{status="error"}[`+w+"]))", req), 1)
	checked += compare(t, "errorRatio", tr.Series, is("errorRatio"), promRange(t, promURL,
		`sum by (model_name) (rate(ml_prediction_requests_total{status="error"}[`+w+"])) / sum by (model_name) (rate(ml_prediction_requests_total["+w+"]))", req), 1)

	// Feature histograms: the per-window bucket counts add up to Prometheus' increase of _count.
	hs, _, err := s.FeatureHistograms(ctx, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) == 0 {
		t.Fatal("no feature histograms")
	}
	counts := promRange(t, promURL, "sum by (model_name, feature) (increase(ml_feature_value_count["+w+"]))", req)
	for _, h := range hs {
		want := counts[h.Labels["model"]+"/"+h.Labels["feature"]]
		if len(want) != len(h.Times) {
			t.Fatalf("feature %v: %d steps, Prometheus %d", h.Labels, len(h.Times), len(want))
		}
		for i, c := range h.Counts {
			total := 0.0
			for _, x := range c {
				if x < 0 {
					t.Errorf("feature %v: negative bucket count %v", h.Labels, x)
				}
				total += x
			}
			if !closeRel(total, want[i].v, tol) {
				t.Errorf("feature %v at %v: %v observations, Prometheus %v", h.Labels, h.Times[i], total, want[i].v)
			}
			checked++
		}
	}

	// Drift of a feature's histograms against the model's reference sample.
	checked += checkDatasetDrift(t, s, promURL, demoAddr, 42, req)

	// Saturation: process_* of client_golang's process collector and the synthetic GPU gauges.
	checked += checkSaturation(t, s, promURL, demoAddr, req)

	models, err := s.Models(ctx)
	if err != nil || len(models) == 0 {
		t.Fatalf("models: %v %v", models, err)
	}
	for _, m := range models {
		if len(m.Versions) == 0 {
			t.Errorf("model %s has no versions", m.Name)
		}
	}
	targets, err := s.Targets(ctx)
	if err != nil || len(targets) == 0 {
		t.Fatalf("targets: %v %v", targets, err)
	}
	for _, tg := range targets {
		if !tg.Up || tg.Instance != demoAddr || time.Since(tg.LastScrape) > 10*time.Second {
			t.Errorf("target %+v: want up, instance %s, scraped in the last 10 s", tg, demoAddr)
		}
	}
	if checked < 50 {
		t.Fatalf("only %d values compared", checked)
	}
	t.Logf("compared %d values with Prometheus %s", checked, promURL)

	// End-to-end latency of a latency query next to the raw PromQL request for one percentile.
	srcBench := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := s.Latency(ctx, req, []float64{50, 95, 99}); err != nil {
				b.Fatal(err)
			}
		}
	})
	rawBench := testing.Benchmark(func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			promRange(t, promURL, "histogram_quantile(0.95, sum by (le, model_name) (increase(ml_prediction_latency_seconds_bucket["+w+"])))", req)
		}
	})
	t.Logf("latency query (3 percentiles + bounds + mean) through the source: %v/op, %d allocs/op; raw PromQL histogram_quantile(0.95, ...): %v/op",
		time.Duration(srcBench.NsPerOp()), srcBench.AllocsPerOp(), time.Duration(rawBench.NsPerOp()))
}

type point struct {
	t int64 // Unix ms
	v float64
}

// compare checks the source's series selected by pick against Prometheus' answer (by model, or
// model/feature), scaling Prometheus' values by scale; it returns the number of values compared.
func compare(t *testing.T, what string, series []source.Series, pick func(map[string]string) bool, ref map[string][]point, scale float64) int {
	t.Helper()
	if len(ref) == 0 {
		t.Fatalf("%s: Prometheus returned no series", what)
	}
	n := 0
	for mdl, pts := range ref {
		var se *source.Series
		for i := range series {
			if series[i].Labels["model"] == mdl && pick(series[i].Labels) {
				se = &series[i]
			}
		}
		if se == nil {
			t.Errorf("%s: no series for model %q", what, mdl)
			continue
		}
		if len(se.Times) != len(pts) {
			t.Errorf("%s %s: %d points, Prometheus %d", what, mdl, len(se.Times), len(pts))
			continue
		}
		for i, p := range pts {
			want := p.v * scale
			if se.Times[i].UnixMilli() != p.t || !closeRel(se.Values[i], want, tol) {
				t.Errorf("%s %s at %v: %v, Prometheus %v", what, mdl, se.Times[i], se.Values[i], want)
			}
			n++
		}
	}
	return n
}

func closeRel(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) || b == 0 {
		return a == b
	}
	return math.Abs(a-b) <= tol*math.Abs(b)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

type apiResp struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

func promGet(t testing.TB, u string) apiResp {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r apiResp
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("%s: %v %s", u, err, r.Error)
	}
	return r
}

func parsePair(t testing.TB, p [2]any) point {
	ts, _ := p[0].(float64)
	vs, _ := p[1].(string)
	v, err := strconv.ParseFloat(vs, 64)
	if err != nil {
		t.Fatalf("bad value %v", p)
	}
	return point{t: int64(math.Round(ts * 1000)), v: v}
}

// promRange is Prometheus' own answer to a range query, keyed by model_name (and /feature).
func promRange(t testing.TB, base, q string, req source.MetricsRequest) map[string][]point {
	t.Helper()
	u := base + "/api/v1/query_range?" + url.Values{"query": {q}, "start": {strconv.FormatInt(req.Start.Unix(), 10)},
		"end": {strconv.FormatInt(req.End.Unix(), 10)}, "step": {strconv.Itoa(int(req.Step.Seconds()))}}.Encode()
	r := promGet(t, u)
	out := map[string][]point{}
	for _, s := range r.Data.Result {
		k := s.Metric["model_name"]
		if f, ok := s.Metric["feature"]; ok {
			k += "/" + f
		}
		for _, p := range s.Values {
			out[k] = append(out[k], parsePair(t, p))
		}
	}
	return out
}

func promInstant(t *testing.T, base, q string) []float64 {
	t.Helper()
	r := promGet(t, base+"/api/v1/query?"+url.Values{"query": {q}}.Encode())
	var out []float64
	for _, s := range r.Data.Result {
		out = append(out, parsePair(t, s.Value).v)
	}
	return out
}

// findServer returns the server binary named by $env, else fallback when it exists, else "" (the
// caller skips); under CI=true a missing server fails the test.
func findServer(t *testing.T, env, fallback, script string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = fallback
	}
	if p != "" {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("server not found (%s=%q, default %q): run %s", env, os.Getenv(env), fallback, script)
	}
	t.Logf("server not found (%s=%q, default %q): run %s, or set MODELLENS_SKIP_PROMETHEUS=1", env, os.Getenv(env), fallback, script)
	return ""
}

// debianPrometheus is `prometheus` on the PATH (Debian's package), or "".
func debianPrometheus() string {
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p
	}
	return ""
}

// cachedBin is where the deps scripts install a server built from its Go module:
// ${XDG_CACHE_HOME:-$HOME/.cache}/modellens/<dir>/<name>.
func cachedBin(dir, name string) string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "modellens", dir, name)
}

// checkVersion checks the version a server reports at /api/v1/status/buildinfo: major.minor with
// minor >= minMinor.
// It returns the minor version.
func checkVersion(t *testing.T, base string, major, minMinor int) int {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/status/buildinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var bi struct {
		Data struct {
			Version string `json:"version"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&bi); err != nil {
		t.Fatalf("buildinfo: %v", err)
	}
	var maj, min int
	if _, err := fmt.Sscanf(bi.Data.Version, "%d.%d", &maj, &min); err != nil || maj != major || min < minMinor {
		t.Fatalf("server reports version %q, want %d.x with x >= %d", bi.Data.Version, major, minMinor)
	}
	t.Logf("%s reports version %s", base, bi.Data.Version)
	return min
}

func moduleRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s", file)
	}
	if _, err := os.Stat(filepath.Join(root, "pkg", "cmd", "demo-model", "main.go")); err != nil {
		t.Fatalf("the demo model server (pkg/cmd/demo-model) is missing: %v", err)
	}
	return root
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs a process in its own process group, logging to dir/<name>.log, and stops the group
// in t.Cleanup.
func start(t *testing.T, dir, name, bin string, args ...string) {
	t.Helper()
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		pgid := cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
		logFile.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logFile.Name()); err == nil {
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				if len(lines) > 15 {
					lines = lines[len(lines)-15:]
				}
				t.Logf("%s log (tail):\n%s", name, strings.Join(lines, "\n"))
			}
		}
	})
}

func waitHTTP(t *testing.T, u string, max time.Duration) {
	t.Helper()
	deadline := time.Now().Add(max)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %v: %v", u, max, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
