package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/prometheus/common/model"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// Traffic metric names (the "metric" label), as in the query model (DESIGN §4).
const (
	MetricRate       = "rate"
	MetricCount      = "count"
	MetricErrors     = "errors"
	MetricErrorCount = "errorCount"
	MetricErrorRatio = "errorRatio"
)

// Notices of Traffic.
const (
	NoticeGoRates   = "rates computed from raw counter samples with Prometheus rate/increase semantics"
	NoticePromRates = "rates computed by Prometheus (rate/increase)"
)

// trafficSums are the per-group sums over a group's counter series at each step.
type trafficSums struct {
	labels                               map[string]string
	rate, increase, errRate, errIncrease *dense
}

// Traffic returns the asked traffic metrics per model (and version) with Prometheus rate/increase
// semantics: rate = Σ rate(requests[window]) (requests/s), count = Σ increase(requests[window]),
// errors and errorCount the same over the error series, errorRatio = errors/rate. Where the
// server's semantics are known (Prometheus 2.x before 2.51) the rates are computed in Go from the
// raw counter samples with stats.PromCounterWindows; elsewhere, or when the raw samples would
// exceed MaxResponseBytes, Prometheus computes them. A model that served requests but has no error
// series in a window gets 0 errors there (Prometheus would return no sample).
func (s *Source) Traffic(ctx context.Context, req source.MetricsRequest, metrics []string) (*source.SeriesResult, error) {
	w, err := toWindow(req)
	if err != nil {
		return nil, err
	}
	g, err := s.grouping(req)
	if err != nil {
		return nil, err
	}
	if len(metrics) == 0 {
		metrics = []string{MetricRate}
	}
	p := s.preset
	res := &source.SeriesResult{}
	var wantRate, wantInc, wantErrRate, wantErrInc bool
	var served []string
	for _, m := range metrics {
		switch m {
		case MetricRate:
			wantRate = true
		case MetricCount:
			wantInc = true
		case MetricErrors, MetricErrorCount, MetricErrorRatio:
			if p.errLabel == "" {
				res.Notices = addNotice(res.Notices, fmt.Sprintf("preset %s exports no per-model error counter: errors, errorCount and errorRatio are not available", p.name))
				continue
			}
			// the error metrics are reported where the model served requests, so the totals are needed too
			if m == MetricErrorCount {
				wantErrInc, wantInc = true, true
			} else {
				wantErrRate, wantRate = true, true
			}
		default:
			return nil, backend.DownstreamError(fmt.Errorf("unknown traffic metric %q (use rate, count, errors, errorCount, errorRatio)", m))
		}
		served = append(served, m)
	}
	if len(served) == 0 {
		return nil, backend.DownstreamError(fmt.Errorf("preset %s exports no per-model error counter; ask for rate or count", p.name))
	}
	total := g.sel(p.requests[0])
	if len(p.requests) > 1 {
		total = g.sel("", "__name__=~"+quote(strings.Join(p.requests, "|")))
	}
	var errMatch *regexp.Regexp
	errSel := ""
	if p.errLabel != "" {
		errMatch = regexp.MustCompile("^(?:" + p.errRegex + ")$")
		name := "" // several counters: the error counter is selected by __name__
		if len(p.requests) == 1 {
			name = p.requests[0]
		}
		errSel = g.sel(name, p.errLabel+"=~"+quote(p.errRegex))
	}
	goRates := s.detect(ctx)
	groups := map[string]*trafficSums{}
	var queries []string
	done := false
	if goRates {
		var tooLarge bool
		queries, tooLarge, err = s.trafficFromSamples(ctx, total, errMatch, g, w, groups, res)
		if err != nil {
			return nil, err
		}
		if tooLarge {
			res.Notices = addNotice(res.Notices, fmt.Sprintf("raw samples exceed %d MiB: rates computed by Prometheus", MaxResponseBytes>>20))
			groups = map[string]*trafficSums{}
		} else {
			done = true
			res.Notices = addNotice(res.Notices, NoticeGoRates)
		}
	}
	if !done {
		queries, err = s.trafficFromPromQL(ctx, errSel, g, w, wantRate, wantInc, wantErrRate, wantErrInc, groups, res)
		if err != nil {
			return nil, err
		}
		res.Notices = addNotice(res.Notices, NoticePromRates)
	}
	res.Query = strings.Join(queries, "\n")
	for _, ts := range groups {
		for _, m := range served {
			se := source.Series{Labels: withLabel(ts.labels, "metric", m)}
			base := ts.rate
			if m == MetricCount || m == MetricErrorCount {
				base = ts.increase
			}
			if base == nil {
				continue
			}
			for i := range base.v {
				if !base.has[i] {
					continue
				}
				var v float64
				switch m {
				case MetricRate, MetricCount:
					v = base.v[i]
				case MetricErrors:
					v = valueOrZero(ts.errRate, i)
				case MetricErrorCount:
					v = valueOrZero(ts.errIncrease, i)
				case MetricErrorRatio:
					if e := valueOrZero(ts.errRate, i); e != 0 {
						v = e / base.v[i]
					}
				}
				se.Times = append(se.Times, timeOf(w, i))
				se.Values = append(se.Values, v)
			}
			res.Series = append(res.Series, se)
		}
	}
	sortSeries(res.Series)
	return res, nil
}

func valueOrZero(d *dense, i int) float64 {
	if d == nil || !d.has[i] {
		return 0
	}
	return d.v[i]
}

func (ts *trafficSums) get(which **dense, w window) *dense {
	if *which == nil {
		*which = newDense(w)
	}
	return *which
}

// trafficFromSamples fetches the raw samples of every request counter series over
// [start − window, end] with one range-vector query and evaluates rate and increase per series and
// step in Go; tooLarge reports that the answer exceeded MaxResponseBytes.
func (s *Source) trafficFromSamples(ctx context.Context, total string, errMatch *regexp.Regexp, g grouping, w window, groups map[string]*trafficSums, res *source.SeriesResult) ([]string, bool, error) {
	q := total + "[" + durationMs(w.end-w.start+w.width) + "]"
	m, ws, err := s.queryMatrix(ctx, "/api/v1/query", url.Values{"query": {q}, "time": {formatTime(time.UnixMilli(w.end))}}, 0)
	if err != nil {
		if errors.Is(err, ErrResponseTooLarge) {
			return nil, true, nil
		}
		return nil, false, s.downstream(err, "request counters")
	}
	for _, n := range s.warningNotices(ws) {
		res.Notices = addNotice(res.Notices, n)
	}
	evals := w.evalTimes()
	var samples []stats.Sample
	var rates, incs []float64
	var resets []int
	for _, ss := range m {
		samples = samples[:0]
		for _, sp := range ss.Values {
			samples = append(samples, stats.Sample{T: int64(sp.Timestamp), V: float64(sp.Value)})
		}
		k, labels := g.key(ss.Metric)
		ts := groups[k]
		if ts == nil {
			ts = &trafficSums{labels: labels}
			groups[k] = ts
		}
		rates, resets = stats.PromCounterWindows(samples, evals, w.width, true, rates, resets)
		incs, resets = stats.PromCounterWindows(samples, evals, w.width, false, incs, resets)
		isErr := false
		if errMatch != nil {
			isErr = errMatch.MatchString(string(ss.Metric[model.LabelName(s.preset.errLabel)]))
		}
		addWindows(ts.get(&ts.rate, w), rates)
		addWindows(ts.get(&ts.increase, w), incs)
		if isErr {
			addWindows(ts.get(&ts.errRate, w), rates)
			addWindows(ts.get(&ts.errIncrease, w), incs)
		}
	}
	return []string{q}, false, nil
}

func addWindows(d *dense, vals []float64) {
	for i, v := range vals {
		if v == v { // not NaN: the window had at least 2 samples
			d.v[i] += v
			d.has[i] = true
		}
	}
}

// trafficFromPromQL lets Prometheus compute sum by (group) (rate|increase(...[window])).
func (s *Source) trafficFromPromQL(ctx context.Context, errSel string, g grouping, w window, wantRate, wantInc, wantErrRate, wantErrInc bool, groups map[string]*trafficSums, res *source.SeriesResult) ([]string, error) {
	type job struct {
		q      string
		target func(*trafficSums) **dense
		m      model.Matrix
		n      []string
	}
	wd := durationMs(w.width)
	var jobs []*job
	// one query per counter: rate() drops the metric name, so two counters of one model cannot
	// share a query; their sums are added here.
	add := func(fn, sel string, target func(*trafficSums) **dense) {
		jobs = append(jobs, &job{q: fmt.Sprintf("sum by (%s) (%s(%s[%s]))", g.by(), fn, sel, wd), target: target})
	}
	p := s.preset
	for _, name := range p.requests {
		sel := g.sel(name)
		if wantRate {
			add("rate", sel, func(t *trafficSums) **dense { return &t.rate })
		}
		if wantInc {
			add("increase", sel, func(t *trafficSums) **dense { return &t.increase })
		}
	}
	if wantErrRate && errSel != "" {
		add("rate", errSel, func(t *trafficSums) **dense { return &t.errRate })
	}
	if wantErrInc && errSel != "" {
		add("increase", errSel, func(t *trafficSums) **dense { return &t.errIncrease })
	}
	fns := make([]func() error, len(jobs))
	for i, j := range jobs {
		fns[i] = func() (err error) { j.m, j.n, err = s.queryRange(ctx, j.q, w, "traffic"); return }
	}
	if err := parallel(fns...); err != nil {
		return nil, err
	}
	var queries []string
	for _, j := range jobs {
		queries = append(queries, j.q)
		for _, n := range j.n {
			res.Notices = addNotice(res.Notices, n)
		}
		for _, ss := range j.m {
			k, labels := g.key(ss.Metric)
			ts := groups[k]
			if ts == nil {
				ts = &trafficSums{labels: labels}
				groups[k] = ts
			}
			ts.get(j.target(ts), w).add(ss.Values, w)
		}
	}
	return queries, nil
}
