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
	fetchedAll, notices, err := h.gridRecords(ctx, src, q, g)
	if err != nil {
		return nil, err
	}
	secs := g.window.Seconds()
	var out seriesSet
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
					var v float64
					switch name {
					case MetricRate:
						v = float64(n) / secs
					case MetricCount:
						v = float64(n)
					case MetricErrors:
						v = float64(errs) / secs
					case MetricErrorCount:
						v = float64(errs)
					case MetricErrorRatio:
						v = math.NaN()
						if n > 0 {
							v = float64(errs) / float64(n)
						}
					}
					vals[m][i] = v
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
