package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// Sub-windows of the endpoints table, ending at the end of the range.
const (
	endpointsRateWindow    = 5 * time.Minute
	endpointsLatencyWindow = time.Hour
	endpointsDriftWindow   = time.Hour
)

// Health column values.
const (
	healthReady    = "ready"
	healthNotReady = "not ready"
)

// endpointRow is one row of the endpoints table.
type endpointRow struct {
	model, version       string
	first, last          *time.Time
	rate, avgLat, p95Lat float64
	errCount, errRatio   float64
	driftStatus, health  string
	driftScore           float64
}

// endpoints answers `endpoints`: a table with one row per model (per model and version with
// version "*"): first and last request in the range, predictions/s over the last 5 minutes of the
// range, mean and p95 latency over the last hour, error count and ratio over the range, the drift
// status and score (MLRun's measure mean(hellinger, tvd) of the worst feature, last hour against
// the reference) and health (a configured endpoint serving the model, or the demo fleet).
func (h *Handler) endpoints(ctx context.Context, r *request) (data.Frames, error) {
	q := &r.q
	src, err := h.cat.Resolve(ctx, q.Source, q.Model)
	if err != nil {
		return nil, err
	}
	from, to := r.dq.TimeRange.From, r.dq.TimeRange.To
	if !from.Before(to) {
		return nil, userError("the time range is empty")
	}
	info := frames.Info{Source: src.Name}
	var rows []endpointRow
	switch {
	case src.Log != nil:
		rows, info.Notices, err = h.endpointsFromLog(ctx, r, src)
	case src.Metrics != nil:
		rows, info.Notices, err = h.endpointsFromMetrics(ctx, r, src)
	default:
		return nil, userError("endpoints queries need the prediction log, the demo fleet or Prometheus, not %q", src.Name)
	}
	if err != nil {
		return nil, err
	}
	hn := h.healthColumn(ctx, src, rows, to)
	info.Notices = append(info.Notices, hn...)
	return data.Frames{endpointsFrame(rows, q.Version != "", info)}, nil
}

func (h *Handler) endpointsFromLog(ctx context.Context, r *request, src Resolved) ([]endpointRow, []data.Notice, error) {
	q := &r.q
	from, to := r.dq.TimeRange.From, r.dq.TimeRange.To
	models, mnotices, err := h.queryModels(ctx, src, q)
	if err != nil {
		return nil, nil, err
	}
	// The rate, latency and drift columns summarise the last 5 minutes and the last hour before
	// the end of the range, even when the range is shorter; first/last request and errors cover
	// the range.
	start := from
	if s := to.Add(-max(endpointsRateWindow, endpointsLatencyWindow, endpointsDriftWindow)); s.Before(start) {
		start = s
	}
	fetchedAll, notices, err := h.fetchRecords(ctx, src, models, q.Version, start, to)
	if err != nil {
		return nil, nil, err
	}
	notices = append(mnotices, notices...)
	toNs, fromNs := to.UnixNano(), from.UnixNano()
	var rows []endpointRow
	var lat []float64
	for _, f := range fetchedAll {
		b := f.batch
		var refs map[string]refSample
		var specs []featureSpec
		if len(f.model.Features) > 0 {
			var rnotices []data.Notice
			refs, rnotices, err = h.references(ctx, src, r, &f.model, b)
			if err != nil {
				// No usable reference: the row has no drift, the table still answers.
				var msg string
				if errors.Is(err, source.ErrNoReference) {
					msg = fmt.Sprintf("%s: no reference sample, no drift", f.model.Name)
				} else {
					msg = fmt.Sprintf("%s: no drift: %v", f.model.Name, err)
				}
				notices = append(notices, frames.WarningNotice(msg))
				refs = nil
			}
			// Which reference each row used is routine here (the drift panels say it); only
			// warnings about the reference reach the table.
			for _, n := range rnotices {
				if n.Severity != data.NoticeSeverityInfo {
					notices = append(notices, n)
				}
			}
			// The status is the `status` rule over each feature's default distance methods (psi,
			// js and wasserstein_norm or linf: the defaults without the p-value tests, which over a
			// fleet flag trivial differences once windows hold thousands of records, and do so
			// across many features at once); the row shows the worst feature. The score is MLRun's
			// general drift measure (mean of hellinger and tvd) of the worst feature.
			th, _ := thresholds(nil)
			for _, ft := range f.model.Features {
				from := endpointNumericMethods
				if ft.Type == source.Categorical {
					from = endpointCategoricalMethods
				}
				specs = append(specs, featureSpec{name: ft.Name, kind: ft.Type, th: th, statusFrom: from,
					need: dedupe(append([]string{MethodMLRun}, from...))})
			}
		}
		strategy, bins := binning(q)
		for _, grp := range groups(b, q.Version) {
			row := endpointRow{model: f.model.Name, version: grp.version, driftScore: math.NaN()}
			idx := grp.idx
			inRange := idx[lowerBound(b.TS, idx, fromNs):]
			if len(inRange) > 0 {
				t0, t1 := time.Unix(0, b.TS[inRange[0]]).UTC(), time.Unix(0, b.TS[inRange[len(inRange)-1]]).UTC()
				row.first, row.last = &t0, &t1
			}
			rateLo := lowerBound(b.TS, idx, toNs-int64(endpointsRateWindow))
			row.rate = float64(len(idx)-rateLo) / endpointsRateWindow.Seconds()
			lat = lat[:0]
			for _, k := range idx[lowerBound(b.TS, idx, toNs-int64(endpointsLatencyWindow)):] {
				if int(k) < len(b.LatencyMs) && !math.IsNaN(b.LatencyMs[k]) {
					lat = append(lat, b.LatencyMs[k])
				}
			}
			row.avgLat, row.p95Lat = math.NaN(), math.NaN()
			if len(lat) > 0 {
				row.avgLat, _ = stats.MeanStd(lat)
				row.p95Lat = stats.Percentiles(lat, []float64{95}, nil)[0]
			}
			errs := 0
			for _, k := range inRange {
				if int(k) < len(b.Error) && b.Error[k] {
					errs++
				}
			}
			row.errCount = float64(errs)
			row.errRatio = math.NaN()
			if len(inRange) > 0 {
				row.errRatio = float64(errs) / float64(len(inRange))
			}
			if ref := refs[grp.version]; ref != nil {
				cur := idx[lowerBound(b.TS, idx, toNs-int64(endpointsDriftWindow)):]
				worst, status := math.NaN(), math.NaN()
				for si := range specs {
					if err := ctx.Err(); err != nil {
						return nil, nil, err
					}
					calc := newDriftCalc(&specs[si], ref, strategy, bins)
					calc.check = ctx.Err
					v, n := calc.compute(b.Column(specs[si].name), cur)
					if n == 0 {
						continue
					}
					if x := v[methodIndex[MethodMLRun]]; !math.IsNaN(x) && (math.IsNaN(worst) || x > worst) {
						worst = x
					}
					if st := specs[si].statusOf(&v); !math.IsNaN(st) && (math.IsNaN(status) || st > status) {
						status = st
					}
				}
				row.driftScore = worst
				if !math.IsNaN(status) {
					row.driftStatus = Status(status).String()
				}
			}
			rows = append(rows, row)
		}
	}
	return rows, notices, nil
}

// The methods behind the endpoints table's drift status: the default methods of DESIGN §4 less
// the p-value tests (ks_pvalue, chi2_pvalue).
var (
	endpointNumericMethods     = []string{MethodPSI, MethodJS, MethodWassersteinNorm}
	endpointCategoricalMethods = []string{MethodPSI, MethodJS, MethodLInf}
)

// lowerBound returns the first position of idx whose time is after t (ts[idx[i]] > t).
func lowerBound(ts []int64, idx []int32, t int64) int {
	lo, hi := 0, len(idx)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if ts[idx[mid]] <= t {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

func (h *Handler) endpointsFromMetrics(ctx context.Context, r *request, src Resolved) ([]endpointRow, []data.Notice, error) {
	q := &r.q
	from, to := r.dq.TimeRange.From, r.dq.TimeRange.To
	at := func(w time.Duration) source.MetricsRequest {
		return source.MetricsRequest{Model: q.Model, Version: q.Version, Start: to, End: to, Step: w, Window: w}
	}
	rows := map[string]*endpointRow{}
	var order []string
	row := func(l map[string]string) *endpointRow {
		k := l["model"] + "\x00" + l["version"]
		if x, ok := rows[k]; ok {
			return x
		}
		x := &endpointRow{model: l["model"], version: l["version"], rate: math.NaN(), avgLat: math.NaN(), p95Lat: math.NaN(),
			errCount: math.NaN(), errRatio: math.NaN(), driftScore: math.NaN()}
		rows[k] = x
		order = append(order, k)
		return x
	}
	last := func(s source.Series) float64 {
		if len(s.Values) == 0 {
			return math.NaN()
		}
		return s.Values[len(s.Values)-1]
	}
	var notices []data.Notice
	note := func(res *source.SeriesResult) {
		for _, n := range res.Notices {
			notices = append(notices, frames.InfoNotice(n))
		}
	}
	res, err := src.Metrics.Traffic(ctx, at(endpointsRateWindow), []string{MetricRate})
	if err != nil {
		return nil, nil, sourceError(src.Name, err)
	}
	note(res)
	for _, s := range res.Series {
		row(s.Labels).rate = last(s)
	}
	res, err = src.Metrics.Traffic(ctx, at(to.Sub(from)), []string{MetricErrorCount, MetricErrorRatio})
	if err != nil {
		return nil, nil, sourceError(src.Name, err)
	}
	note(res)
	for _, s := range res.Series {
		switch s.Labels["metric"] {
		case MetricErrorCount:
			row(s.Labels).errCount = last(s)
		case MetricErrorRatio:
			row(s.Labels).errRatio = last(s)
		}
	}
	res, err = src.Metrics.Latency(ctx, at(endpointsLatencyWindow), []float64{95})
	if err != nil {
		return nil, nil, sourceError(src.Name, err)
	}
	note(res)
	for _, s := range res.Series {
		switch {
		case s.Labels["stat"] == "mean":
			row(s.Labels).avgLat = last(s)
		case s.Labels["quantile"] == quantileLabel(95):
			row(s.Labels).p95Lat = last(s)
		}
	}
	slices.Sort(order)
	out := make([]endpointRow, 0, len(order))
	for _, k := range order {
		out = append(out, *rows[k])
	}
	notices = append(notices, frames.InfoNotice("Prometheus has no per-request times or raw samples: first/last request and drift are empty"))
	return out, dedupeNotices(notices), nil
}

// healthColumn fills each row's health from the configured endpoints (an endpoint named like the
// model, or one listing it), the demo fleet, or Prometheus targets.
func (h *Handler) healthColumn(ctx context.Context, src Resolved, rows []endpointRow, at time.Time) []data.Notice {
	var notices []data.Notice
	set := func(row *endpointRow, ok bool) {
		if ok {
			row.health = healthReady
		} else {
			row.health = healthNotReady
		}
	}
	switch {
	case len(h.deps.Endpoints) > 0:
		served := make([][]string, len(h.deps.Endpoints))
		for i, ep := range h.deps.Endpoints {
			ms, err := ep.Client.Models(ctx)
			if err != nil {
				notices = append(notices, frames.WarningNotice(fmt.Sprintf("endpoint %s: cannot list models: %v", ep.Name, err)))
			}
			served[i] = ms
		}
		for i := range rows {
			for j, ep := range h.deps.Endpoints {
				if ep.Name != rows[i].model && !slices.Contains(served[j], rows[i].model) {
					continue
				}
				ok, err := ep.Client.Ready(ctx, rows[i].model)
				if err != nil {
					notices = append(notices, frames.WarningNotice(fmt.Sprintf("endpoint %s, model %s: %v", ep.Name, rows[i].model, err)))
				}
				set(&rows[i], ok && err == nil)
				break
			}
		}
	case src.Name == SourceDemo && h.deps.Demo != nil:
		for i := range rows {
			set(&rows[i], h.deps.Demo.Ready(rows[i].model, at))
		}
	case src.Metrics != nil:
		targets, err := src.Metrics.Targets(ctx)
		if err != nil {
			return []data.Notice{frames.WarningNotice(fmt.Sprintf("scrape targets: %v", err))}
		}
		for i := range rows {
			seen, up := false, false
			for _, t := range targets {
				if t.Model == rows[i].model && (rows[i].version == "" || t.Version == rows[i].version) {
					seen = true
					up = up || t.Up
				}
			}
			if seen {
				set(&rows[i], up)
			}
		}
	}
	return notices
}

func endpointsFrame(rows []endpointRow, withVersion bool, info frames.Info) *data.Frame {
	n := len(rows)
	model, version, drift, health := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	first, last := make([]*time.Time, n), make([]*time.Time, n)
	rate, avg, p95, ec, er, score := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, r := range rows {
		model[i], version[i], drift[i], health[i] = r.model, r.version, r.driftStatus, r.health
		first[i], last[i] = r.first, r.last
		rate[i], avg[i], p95[i], ec[i], er[i], score[i] = r.rate, r.avgLat, r.p95Lat, r.errCount, r.errRatio, r.driftScore
	}
	fields := frames.ModelFields(model, version, withVersion)
	fields = append(fields,
		data.NewField("first request", nil, first),
		data.NewField("last request", nil, last),
		frames.NumberField("predictions/s (5m)", "reqps", rate),
		frames.NumberField("mean latency (1h)", LatencyUnit, avg),
		frames.NumberField("p95 latency (1h)", LatencyUnit, p95),
		frames.NumberField("errors", "none", ec),
		frames.NumberField("error ratio", "percentunit", er),
		frames.StatusField("drift status", drift),
		frames.NumberField("drift score", "", score),
		frames.StringField("health", health),
	)
	return frames.Table("endpoints", fields, info)
}

func dedupeNotices(ns []data.Notice) []data.Notice {
	seen := map[string]bool{}
	out := ns[:0]
	for _, n := range ns {
		if !seen[n.Text] {
			seen[n.Text] = true
			out = append(out, n)
		}
	}
	return out
}
