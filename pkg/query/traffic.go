package query

import (
	"context"
	"math"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
)

// trafficUnits are the Grafana units of the traffic metrics.
var trafficUnits = map[string]string{
	MetricRate:       "reqps",
	MetricCount:      "none",
	MetricErrors:     "reqps",
	MetricErrorCount: "none",
	MetricErrorRatio: "percentunit",
}

// traffic answers `traffic`: per window, rate = records/s, count, errors = error records/s,
// errorCount, errorRatio = errors/count (NaN when the window is empty). Label `metric`.
func (h *Handler) traffic(ctx context.Context, r *request) (data.Frames, error) {
	q := &r.q
	metrics := q.Metrics
	if len(metrics) == 0 {
		metrics = []string{MetricRate}
	}
	metrics = dedupe(metrics)
	g, err := newGrid(r.dq, q.Window, q.Output == OutputLatest)
	if err != nil {
		return nil, err
	}
	src, err := h.cat.Resolve(ctx, q.Source, q.Model)
	if err != nil {
		return nil, err
	}
	if src.Metrics != nil {
		res, err := src.Metrics.Traffic(ctx, metricsRequest(q, g), metrics)
		if err != nil {
			return nil, sourceError(src.Name, err)
		}
		return seriesFrames(res, g, func(l data.Labels) string { return trafficUnits[l["metric"]] }, src.Name), nil
	}
	if src.Log == nil {
		return nil, userError("traffic queries need a prediction log, the demo fleet or Prometheus, not %q", src.Name)
	}
	secs := g.window.Seconds()
	var out seriesSet
	if agg, ok := h.aggregator(src); ok {
		models, notices, ok, err := h.aggModels(ctx, src, q)
		if err != nil {
			return nil, err
		}
		if ok {
			// Push-down: PostgreSQL counts each window's records and errors (source.Aggregator).
			for _, m := range models {
				gs, err := agg.WindowCounts(ctx, aggRequest(m.Name, q, g))
				if err != nil {
					return nil, sourceError(src.Name, err)
				}
				total := 0.0
				for _, gc := range gs {
					grp := aggGroup(q, gc.Version)
					for _, c := range gc.Counts {
						total += c
					}
					for _, name := range metrics {
						vals := make([]float64, len(g.times))
						for i := range vals {
							vals[i] = trafficValue(name, gc.Counts[i], gc.Errors[i], secs)
						}
						l := labels(m.Name, q, grp)
						l["metric"] = name
						out.add(l, "value", trafficUnits[name], g.times, vals)
					}
				}
				if total == 0 {
					notices = append(notices, noRecordsNotice(m.Name, q.Version, g))
				}
			}
			return out.frames(g, frames.Info{Source: src.Name, Notices: notices}), nil
		}
	}
	// Times, versions and statuses only: a source may leave the features and outputs out.
	fetchedAll, notices, err := h.gridRecordsOf(ctx, src, q, g, []string{})
	if err != nil {
		return nil, err
	}
	for _, f := range fetchedAll {
		b := f.batch
		for _, grp := range groups(b, q.Version) {
			vals := make([][]float64, len(metrics))
			for i := range vals {
				vals[i] = make([]float64, len(g.times))
			}
			// errBefore[j] counts the error records among idx[:j]: a window's errors in O(1).
			errBefore := make([]int, len(grp.idx)+1)
			for j, k := range grp.idx {
				errBefore[j+1] = errBefore[j]
				if int(k) < len(b.Error) && b.Error[k] {
					errBefore[j+1]++
				}
			}
			err := g.windows(ctx, b.TS, grp.idx, func(i int, _ time.Time, lo, hi int) {
				n := hi - lo
				errs := errBefore[hi] - errBefore[lo]
				for m, name := range metrics {
					vals[m][i] = trafficValue(name, float64(n), float64(errs), secs)
				}
			})
			if err != nil {
				return nil, err
			}
			for m, name := range metrics {
				l := labels(f.model.Name, q, &grp)
				l["metric"] = name
				out.add(l, "value", trafficUnits[name], g.times, vals[m])
			}
		}
	}
	return out.frames(g, frames.Info{Source: src.Name, Notices: notices}), nil
}

// trafficValue is a traffic metric of a window of n records, errs of them errors, over secs
// seconds: rate = n/secs, count = n, errors = errs/secs, errorCount = errs, errorRatio = errs/n
// (NaN when the window is empty).
func trafficValue(name string, n, errs, secs float64) float64 {
	switch name {
	case MetricRate:
		return n / secs
	case MetricCount:
		return n
	case MetricErrors:
		return errs / secs
	case MetricErrorCount:
		return errs
	case MetricErrorRatio:
		if n > 0 {
			return errs / n
		}
	}
	return math.NaN()
}
