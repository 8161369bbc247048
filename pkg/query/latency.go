package query

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// quantileLabel formats a percentile p ∈ (0, 100] as the `quantile` label: 95 → "0.95".
func quantileLabel(p float64) string {
	return source.QuantileLabel(p)
}

// latency answers `latency`: per window, the exact type-7 percentiles (numpy.percentile) of the
// records' latency_ms, errors included; label `quantile`, unit ms. A window without latencies
// gives NaN and a notice.
func (h *Handler) latency(ctx context.Context, r *request) (data.Frames, error) {
	q := &r.q
	ps := q.Percentiles
	if len(ps) == 0 {
		ps = DefaultPercentiles
	}
	ps = dedupeFloats(ps)
	g, err := newGrid(r.dq, q.Window, q.Output == OutputLatest)
	if err != nil {
		return nil, err
	}
	src, fs, answered, err := h.metricsOrRecords(ctx, q, g, func(m source.Metrics, req source.MetricsRequest) (*source.SeriesResult, error) {
		return m.Latency(ctx, req, ps)
	}, func(data.Labels) string { return LatencyUnit })
	if err != nil || answered {
		return fs, err
	}
	var out seriesSet
	if agg, ok := h.aggregator(src); ok && !g.overlapping() {
		models, notices, ok, err := h.aggModels(ctx, src, q)
		if err != nil {
			return nil, err
		}
		if ok {
			// Push-down: percentile_cont per window in PostgreSQL; windows do not overlap, so
			// each record is sorted once.
			empty := 0
			for _, m := range models {
				gs, err := agg.WindowPercentiles(ctx, aggRequest(m.Name, q, g), FeatureLatency, ps)
				if err != nil {
					return nil, sourceError(src.Name, err)
				}
				total := 0.0
				for _, gp := range gs {
					for _, n := range gp.N {
						total += n
						if n == 0 {
							empty++
						}
					}
					for j, p := range ps {
						l := labels(m.Name, q, aggGroup(q, gp.Version))
						l["quantile"] = quantileLabel(p)
						out.add(l, "value", LatencyUnit, g.times, gp.Values[j])
					}
				}
				if total == 0 {
					notices = append(notices, noRecordsNotice(m.Name, q.Version, g))
				}
			}
			if empty > 0 {
				notices = append(notices, frames.InfoNotice(fmt.Sprintf("%d window(s) had no records with a latency: no value there", empty)))
			}
			return out.frames(g, frames.Info{Source: src.Name, Notices: notices}), nil
		}
	}
	// Overlapping windows (or no push-down): the latencies, sampled in the database above
	// maxSamples when the source can (fetchSampledOf).
	fetchedAll, notices, err := h.gridSampledOf(ctx, src, q, g, []string{FeatureLatency})
	if err != nil {
		return nil, err
	}
	var scratch []float64
	pv := make([]float64, len(ps))
	empty := 0
	for _, f := range fetchedAll {
		b := f.batch
		for _, grp := range groups(b, q.Version) {
			vals := make([][]float64, len(ps))
			for i := range vals {
				vals[i] = make([]float64, len(g.times))
			}
			err := g.windows(ctx, b.TS, grp.idx, func(i int, _ time.Time, lo, hi int) {
				scratch = scratch[:0]
				for _, k := range grp.idx[lo:hi] {
					if int(k) < len(b.LatencyMs) {
						if v := b.LatencyMs[k]; !math.IsNaN(v) {
							scratch = append(scratch, v)
						}
					}
				}
				if len(scratch) == 0 {
					empty++
					for j := range ps {
						vals[j][i] = math.NaN()
					}
					return
				}
				pv, _ = stats.PercentilesCheck(scratch, ps, pv[:0], ctx.Err) // cancelled: windows returns ctx's error next
				for j := range ps {
					vals[j][i] = pv[j]
				}
			})
			if err != nil {
				return nil, err
			}
			for j, p := range ps {
				l := labels(f.model.Name, q, &grp)
				l["quantile"] = quantileLabel(p)
				out.add(l, "value", LatencyUnit, g.times, vals[j])
			}
		}
	}
	if empty > 0 {
		notices = append(notices, frames.InfoNotice(fmt.Sprintf("%d window(s) had no records with a latency: no value there", empty)))
	}
	return out.frames(g, frames.Info{Source: src.Name, Notices: notices}), nil
}

// dedupeFloats removes percentiles that repeat an earlier one's `quantile` label (95 and
// 95.0000000000001 both give "0.95"), keeping the first occurrence: every series keeps a unique
// label set.
func dedupeFloats(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	seen := make(map[string]bool, len(xs))
	for _, x := range xs {
		if l := quantileLabel(x); !seen[l] {
			seen[l] = true
			out = append(out, x)
		}
	}
	return out
}
