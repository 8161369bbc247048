package query

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// driftFromMetrics answers a drift query from a metrics store's feature histograms: the bucket
// counts of each window against those of a reference window. Only the binned methods apply (the
// buckets are the bins); methods that need raw samples are an error when asked for and skipped
// from the defaults.
func (h *Handler) driftFromMetrics(ctx context.Context, r *request, src Resolved, g grid) (data.Frames, error) {
	q := &r.q
	if q.Output == OutputTable {
		return nil, userError("the drift table needs raw records (prediction log or demo fleet); with Prometheus use output %q or %q", OutputTimeSeries, OutputLatest)
	}
	if q.Reference == nil || q.Reference.Kind != ReferenceWindow {
		return nil, userError("with Prometheus, drift compares feature histograms with a reference window: set reference.kind to %q with reference.from and reference.to (e.g. now-7d, now-6d)", ReferenceWindow)
	}
	th, err := thresholds(q.Thresholds)
	if err != nil {
		return nil, err
	}
	var notices []data.Notice
	methods := dedupe(q.Methods)
	spec := featureSpec{kind: source.Numeric, th: th}
	for _, m := range methods {
		switch {
		case m == MethodStatus:
			spec.status = true
		case slices.Contains(numericOnly, m):
			return nil, userError("method %s needs raw samples; Prometheus has histogram buckets only (use psi, js, hellinger, tvd, kld, linf, mlrun, chi2 or chi2_pvalue)", m)
		default:
			spec.methods = append(spec.methods, m)
		}
	}
	defaults := slices.DeleteFunc(slices.Clone(DefaultNumericMethods), func(m string) bool { return slices.Contains(numericOnly, m) })
	if len(methods) == 0 {
		spec.methods = defaults
		notices = append(notices, frames.InfoNotice("Prometheus has histogram buckets only: ks_pvalue and wasserstein_norm are not computed"))
	}
	if spec.status {
		spec.statusFrom = spec.methods
		if len(spec.statusFrom) == 0 {
			spec.statusFrom = defaults
		}
	}
	spec.need = dedupe(append(slices.Clone(spec.methods), spec.statusFrom...))

	cur, refBy, hn, err := histograms(ctx, r, src, g)
	if err != nil {
		return nil, err
	}
	notices = append(notices, hn...)
	notices = append(notices, frames.InfoNotice("drift from histogram buckets (the buckets are the bins)"))
	calc := &driftCalc{spec: &spec}
	var out seriesSet
	missing := 0
	for i := range cur {
		c := &cur[i]
		key := data.Labels(c.Labels).String()
		rh := refBy[key]
		if rh == nil || len(rh.Counts) == 0 {
			missing++
			continue
		}
		edges := commonEdges(c.Edges, rh.Edges)
		rc := coarsen(rh.Edges, rh.Counts[len(rh.Counts)-1], edges)
		p := stats.Proportions(rc, nil)
		series := make([][]float64, len(spec.methods)+1)
		for j := range series {
			series[j] = make([]float64, len(c.Times))
		}
		for ti := range c.Times {
			v := nanValues()
			if ti < len(c.Counts) {
				cc := coarsen(c.Edges, c.Counts[ti], edges)
				if sumOf(cc) > 0 && sumOf(rc) > 0 {
					qv := stats.Proportions(cc, nil)
					for _, m := range spec.need {
						v[methodIndex[m]] = calc.binned(m, p, qv, rc, cc)
					}
				}
			}
			for j, m := range spec.methods {
				series[j][ti] = v[methodIndex[m]]
			}
			if spec.status {
				series[len(spec.methods)][ti] = spec.statusOf(&v)
			}
		}
		for j, m := range spec.methods {
			l := data.Labels(c.Labels).Copy()
			l["method"] = m
			out.add(l, "value", "", c.Times, series[j])
		}
		if spec.status {
			l := data.Labels(c.Labels).Copy()
			l["method"] = MethodStatus
			out.add(l, "value", "", c.Times, series[len(spec.methods)])
		}
	}
	if missing > 0 {
		notices = append(notices, frames.WarningNotice(fmt.Sprintf("%d feature histogram(s) have no data in the reference window", missing)))
	}
	return out.frames(g, frames.Info{Source: src.Name, Notices: notices}), nil
}

// commonEdges returns the edges present in both histograms, so that each histogram's buckets fall
// whole into the common ones.
func commonEdges(a, b []float64) []float64 {
	var out []float64
	for _, e := range a {
		if slices.Contains(b, e) {
			out = append(out, e)
		}
	}
	return out
}

// coarsen adds the counts of a histogram with edges from (len(counts) == len(from)+1) into the
// bins of edges to, a subset of from.
func coarsen(from, counts, to []float64) []float64 {
	out := make([]float64, len(to)+1)
	if len(counts) != len(from)+1 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	j := 0
	for i, c := range counts {
		// bucket i is [from[i-1], from[i]); it lies in target bin j where to[j-1] <= from[i-1].
		for i > 0 && j < len(to) && from[i-1] >= to[j] {
			j++
		}
		out[j] += c
	}
	return out
}

// histograms fetches the feature histograms of the query's grid and those of its reference window
// (one point covering the window), the latter by label set. The current series are sorted by labels.
func histograms(ctx context.Context, r *request, src Resolved, g grid) ([]source.HistogramSeries, map[string]*source.HistogramSeries, []data.Notice, error) {
	q := &r.q
	now := r.dq.TimeRange.To
	from, err := ParseTime(q.Reference.From, now)
	if err != nil {
		return nil, nil, nil, userError("reference.from: %v", err)
	}
	to, err := ParseTime(q.Reference.To, now)
	if err != nil {
		return nil, nil, nil, userError("reference.to: %v", err)
	}
	cur, curNotes, err := src.Metrics.FeatureHistograms(ctx, metricsRequest(q, g), q.Features)
	if err != nil {
		return nil, nil, nil, sourceError(src.Name, err)
	}
	span := to.Sub(from)
	ref, refNotes, err := src.Metrics.FeatureHistograms(ctx, source.MetricsRequest{Model: q.Model, Version: q.Version,
		Start: to, End: to, Step: span, Window: span}, q.Features)
	if err != nil {
		return nil, nil, nil, sourceError(src.Name, err)
	}
	var notices []data.Notice
	for _, n := range append(curNotes, refNotes...) {
		notices = append(notices, frames.InfoNotice(n))
	}
	refBy := map[string]*source.HistogramSeries{}
	for i := range ref {
		refBy[data.Labels(ref[i].Labels).String()] = &ref[i]
	}
	sort.Slice(cur, func(i, j int) bool {
		return data.Labels(cur[i].Labels).String() < data.Labels(cur[j].Labels).String()
	})
	return cur, refBy, notices, nil
}

// distributionFromMetrics answers a distribution query from feature histograms: per feature, the
// bucket proportions of the window ending at the end of the range against those of the reference
// window, on the bucket bounds both share.
func (h *Handler) distributionFromMetrics(ctx context.Context, r *request, src Resolved, g grid) (data.Frames, error) {
	q := &r.q
	if q.Reference == nil || q.Reference.Kind != ReferenceWindow {
		return nil, userError("with Prometheus, distribution compares feature histograms with a reference window: set reference.kind to %q with reference.from and reference.to", ReferenceWindow)
	}
	cur, refBy, notices, err := histograms(ctx, r, src, g)
	if err != nil {
		return nil, err
	}
	notices = append(notices, frames.InfoNotice("bins are the histogram buckets"))
	var out data.Frames
	for i := range cur {
		c := &cur[i]
		l := data.Labels(c.Labels)
		rh := refBy[l.String()]
		if rh == nil || len(rh.Counts) == 0 || len(c.Counts) == 0 {
			notices = append(notices, frames.WarningNotice(fmt.Sprintf("%s: no data in the current or the reference window", l.String())))
			continue
		}
		edges := commonEdges(c.Edges, rh.Edges)
		rc := coarsen(rh.Edges, rh.Counts[len(rh.Counts)-1], edges)
		cc := coarsen(c.Edges, c.Counts[len(c.Counts)-1], edges)
		name := l["feature"]
		if allModels(q.Model) || q.Version == WildcardAllVersions {
			name = l["model"] + versionSuffix(l["version"]) + " / " + name
		}
		out = append(out, frames.Table(name, []*data.Field{
			frames.StringField("bin", binLabels(edges)),
			frames.NumberField("reference", "percentunit", proportions(rc)),
			frames.NumberField("current", "percentunit", proportions(cc)),
			frames.NumberField("reference count", "", rc),
			frames.NumberField("current count", "", cc),
		}, frames.Info{Source: src.Name}))
	}
	if len(out) == 0 {
		return data.Frames{frames.Empty(data.FrameTypeTable, frames.Info{Source: src.Name, Notices: notices})}, nil
	}
	frames.AddNotices(out, notices...)
	return out, nil
}
