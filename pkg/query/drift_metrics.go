package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// NoticeBinnedKS explains ks computed from histogram buckets.
const NoticeBinnedKS = "ks from histogram buckets: the maximum CDF difference at the bucket bounds (a lower bound of the exact statistic)"

// binnedMethods lists the methods a metrics store's histograms support, for messages.
const binnedMethods = "ks, psi, js, hellinger, tvd, kld, linf, mlrun, chi2 or chi2_pvalue"

// driftFromMetrics answers a drift query from a metrics store's feature histograms: per window,
// the bucket counts of each feature against a reference on the same buckets, either the model's
// reference sample binned on the histogram's bounds (reference.kind dataset, the default) or the
// counts of a reference window of the same store (reference.kind window). Only the binned methods
// apply (the buckets are the bins), plus ks on the binned CDFs (stats.KSBinned, a lower bound of
// the exact statistic); methods that need raw samples are an error when asked for and skipped from
// the defaults.
func (h *Handler) driftFromMetrics(ctx context.Context, r *request, src Resolved, g grid) (data.Frames, error) {
	q := &r.q
	if q.Output == OutputTable {
		return nil, userError("the drift table needs raw records (prediction log or demo fleet); with Prometheus use output %q or %q", OutputTimeSeries, OutputLatest)
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
		case m == MethodKSPValue:
			return nil, userError("method %s needs raw samples: from histogram buckets only a lower bound of the KS statistic is known (method %s), and a p-value computed from it would understate drift; use %s", m, MethodKS, binnedMethods)
		case m == MethodWasserstein || m == MethodWassersteinNorm:
			return nil, userError("method %s needs raw samples: the distance depends on where the values lie inside each bucket, which histogram buckets do not record (and the outer buckets are unbounded); use %s", m, binnedMethods)
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
		if err := spec.checkStatus(); err != nil {
			return nil, err
		}
	}
	spec.need = dedupe(append(slices.Clone(spec.methods), spec.statusFrom...))

	cur, refs, hn, err := h.metricsReferences(ctx, r, src, g)
	if err != nil {
		return nil, err
	}
	notices = append(notices, hn...)
	notices = append(notices, frames.InfoNotice("drift from histogram buckets (the buckets are the bins)"))
	if slices.Contains(spec.need, MethodKS) {
		notices = append(notices, frames.InfoNotice(NoticeBinnedKS))
	}
	calc := &driftCalc{spec: &spec}
	var out seriesSet
	for i := range cur {
		c := &cur[i]
		ref := &refs[i]
		if ref.counts == nil {
			continue
		}
		rc := ref.counts
		p := stats.Proportions(rc, nil)
		series := make([][]float64, len(spec.methods)+1)
		for j := range series {
			series[j] = make([]float64, len(c.Times))
		}
		for ti := range c.Times {
			v := nanValues()
			if ti < len(c.Counts) {
				cc := coarsen(c.Edges, c.Counts[ti], ref.edges)
				if sumOf(cc) > 0 && sumOf(rc) > 0 {
					qv := stats.Proportions(cc, nil)
					for _, m := range spec.need {
						if m == MethodKS {
							v[methodIndex[m]] = stats.KSBinned(rc, cc)
							continue
						}
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
// buckets of edges to, a subset of from. Bucket i of from is (from[i-1], from[i]] (Prometheus `le`
// buckets; the same sums hold for [from[i-1], from[i]) bins): it lies whole in bucket j of to
// where to[j-1] <= from[i-1] and from[i] <= to[j].
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
		for i > 0 && j < len(to) && from[i-1] >= to[j] {
			j++
		}
		out[j] += c
	}
	return out
}

// binnedRef is the reference of one current feature histogram: the bucket bounds it is compared
// on and the reference counts over their len(edges)+1 buckets; counts is nil when the reference
// has no data for that histogram (a notice says so).
type binnedRef struct {
	edges, counts []float64
}

// metricsReferences fetches the feature histograms of the query's grid (sorted by labels) and the
// reference of each: with reference.kind window, the same store's histogram over the reference
// window, both on the bounds they share; otherwise (dataset, the default) the model's reference
// sample counted on the histogram's own bounds with `le` semantics (stats.CountsSortedLE on the
// sample's memoised sorted values).
func (h *Handler) metricsReferences(ctx context.Context, r *request, src Resolved, g grid) ([]source.HistogramSeries, []binnedRef, []data.Notice, error) {
	q := &r.q
	if shiftedKind(q.Reference) {
		return nil, nil, nil, userError("reference.kind %q compares raw records: it needs the prediction log or the demo fleet as source, not %s (use reference.kind %q with Prometheus)",
			q.Reference.Kind, src.Name, ReferenceWindow)
	}
	if q.Reference != nil && q.Reference.Kind == ReferenceWindow {
		cur, refBy, notices, err := histograms(ctx, r, src, g)
		if err != nil {
			return nil, nil, nil, err
		}
		refs := make([]binnedRef, len(cur))
		missing := 0
		for i := range cur {
			rh := refBy[data.Labels(cur[i].Labels).String()]
			if rh == nil || len(rh.Counts) == 0 {
				missing++
				continue
			}
			edges := commonEdges(cur[i].Edges, rh.Edges)
			refs[i] = binnedRef{edges: edges, counts: coarsen(rh.Edges, rh.Counts[len(rh.Counts)-1], edges)}
		}
		if missing > 0 {
			notices = append(notices, frames.WarningNotice(fmt.Sprintf("%d feature histogram(s) have no data in the reference window", missing)))
		}
		return cur, refs, notices, nil
	}
	if h.deps.PredictionLog == nil && h.deps.Demo == nil {
		return nil, nil, nil, noReferenceSample(q, "neither the prediction log nor the demo fleet is configured")
	}
	cur, curNotes, err := src.Metrics.FeatureHistograms(ctx, metricsRequest(q, g), q.Features)
	if err != nil {
		return nil, nil, nil, sourceError(src.Name, err)
	}
	var notices []data.Notice
	for _, n := range curNotes {
		notices = append(notices, frames.InfoNotice(n))
	}
	sortHistograms(cur)
	type sample struct {
		ref refSample
		ok  bool
	}
	samples := map[string]sample{}
	refs := make([]binnedRef, len(cur))
	for i := range cur {
		c := &cur[i]
		model, version := c.Labels["model"], ""
		if q.Version != "" {
			version = c.Labels["version"]
		}
		key := model + "\x00" + version
		s, seen := samples[key]
		if !seen {
			ref, rn, err := h.sampleReference(ctx, q, model, version)
			var bad *BadQueryError
			switch {
			case err != nil && allModels(q.Model) && errors.As(err, &bad):
				// Over every model, one model without a reference must not silence the others.
				notices = append(notices, frames.WarningNotice(fmt.Sprintf("%s skipped: %v", model, err)))
			case err != nil:
				return nil, nil, nil, err
			default:
				s = sample{ref: ref, ok: true}
				notices = append(notices, rn...)
			}
			samples[key] = s
		}
		if !s.ok {
			continue
		}
		feature := c.Labels["feature"]
		sorted := s.ref.Sorted(feature)
		if len(sorted) == 0 {
			notices = append(notices, frames.WarningNotice(fmt.Sprintf("%s/%s: no numeric values in the reference sample%s", model, feature, versionSuffix(version))))
			continue
		}
		refs[i] = binnedRef{edges: c.Edges, counts: stats.CountsSortedLE(c.Edges, sorted, nil)}
	}
	return cur, refs, notices, nil
}

// sortHistograms sorts histogram series by their labels.
func sortHistograms(hs []source.HistogramSeries) {
	sort.Slice(hs, func(i, j int) bool {
		return data.Labels(hs[i].Labels).String() < data.Labels(hs[j].Labels).String()
	})
}

// histograms fetches the feature histograms of the query's grid and those of its reference window
// (one point covering the window), the latter by label set. The current series are sorted by labels.
func histograms(ctx context.Context, r *request, src Resolved, g grid) ([]source.HistogramSeries, map[string]*source.HistogramSeries, []data.Notice, error) {
	q := &r.q
	from, to, err := referenceWindow(q.Reference, r.dq.TimeRange.To)
	if err != nil {
		return nil, nil, nil, err
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
	sortHistograms(cur)
	return cur, refBy, notices, nil
}

// distributionFromMetrics answers a distribution query from feature histograms: per feature, the
// bucket proportions of the window ending at the end of the range against those of the reference
// (the model's reference sample counted on the histogram's bounds, or a reference window on the
// bounds both share). Bins are labelled as Prometheus buckets: "(a, b]".
func (h *Handler) distributionFromMetrics(ctx context.Context, r *request, src Resolved, g grid) (data.Frames, error) {
	q := &r.q
	cur, refs, notices, err := h.metricsReferences(ctx, r, src, g)
	if err != nil {
		return nil, err
	}
	notices = append(notices, frames.InfoNotice("bins are the histogram buckets"))
	var out data.Frames
	for i := range cur {
		c := &cur[i]
		l := data.Labels(c.Labels)
		ref := &refs[i]
		if ref.counts == nil {
			continue // the reference's notice says why
		}
		rc := ref.counts
		cc := make([]float64, len(ref.edges)+1)
		if len(c.Counts) > 0 {
			cc = coarsen(c.Edges, c.Counts[len(c.Counts)-1], ref.edges)
		}
		if sumOf(cc) == 0 {
			notices = append(notices, frames.InfoNotice(fmt.Sprintf("%s: no data in the current window", l.String())))
		}
		name := l["feature"]
		if allModels(q.Model) || q.Version == WildcardAllVersions {
			name = l["model"] + versionSuffix(l["version"]) + " / " + name
		}
		out = append(out, frames.Table(name, []*data.Field{
			frames.StringField("bin", bucketLabels(ref.edges)),
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

// bucketLabels names the Prometheus buckets of bounds e, each including its upper bound:
// "(-inf, e0]", "(e0, e1]", ..., "(en, +inf)".
func bucketLabels(edges []float64) []string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	if len(edges) == 0 {
		return []string{"(-inf, +inf)"}
	}
	out := make([]string, 0, len(edges)+1)
	out = append(out, fmt.Sprintf("(-inf, %s]", f(edges[0])))
	for i := 1; i < len(edges); i++ {
		out = append(out, fmt.Sprintf("(%s, %s]", f(edges[i-1]), f(edges[i])))
	}
	return append(out, fmt.Sprintf("(%s, +inf)", f(edges[len(edges)-1])))
}
