package query

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// distribution answers `distribution`: for each feature (or prediction, score, latency) a table of
// bins, "[a, b)" for numeric variables (the drift binning of the reference, outer bins open) or one
// per category of reference ∪ current, with the reference and current proportions and counts, and
// each bin's contribution to psi and js (fields "psi contribution" and "js contribution", labels
// method "psi_contribution" and "js_contribution": stats.PSIContributions, stats.JSContributions; each sums over the bins to the
// drift query's psi or js of the same window). The current sample is the window ending at the end
// of the range (default: the whole range).
//
// Latency is compared with the reference's latency_ms when the reference sample records latencies,
// else the query must give a reference window (reference.kind "window"). With Prometheus, the bins
// are the feature histograms' buckets and the reference is the model's reference sample counted on
// them, or a reference window (distributionFromMetrics).
func (h *Handler) distribution(ctx context.Context, r *request) (data.Frames, error) {
	q := &r.q
	g, err := newGrid(r.dq, q.Window, true)
	if err != nil {
		return nil, err
	}
	if h.deps.Metrics != nil {
		src, err := h.cat.Resolve(ctx, q.Source, q.Model)
		if err != nil {
			return nil, err
		}
		if src.Metrics != nil {
			return h.distributionFromMetrics(ctx, r, src, g)
		}
	}
	src, models, notices, err := h.prepareDrift(ctx, r, g, true, []string{})
	if err != nil {
		return nil, err
	}
	strategy, bins := binning(q)
	var out data.Frames
	for mi := range models {
		dm := &models[mi]
		b := dm.batch
		for _, grp := range groups(b, q.Version) {
			ref := dm.refAt(grp.version, 0)
			if ref == nil {
				continue
			}
			idx, err := g.lastWindow(ctx, b.TS, grp.idx)
			if err != nil {
				return nil, err
			}
			for si := range dm.specs {
				spec := &dm.specs[si]
				info := frames.Info{Source: src.Name}
				var binNames []string
				var refCounts, curCounts []float64
				if spec.kind == source.Categorical {
					binNames, refCounts, curCounts = categoricalBins(ref, spec.name, b.Column(spec.name), idx)
				} else {
					sorted := ref.Sorted(spec.name)
					if len(sorted) < minReferenceRows {
						if spec.name == FeatureLatency {
							return nil, userError("the reference of model %q has no latencies (latency_ms): set reference.kind to %q with reference.from and reference.to", dm.model.Name, ReferenceWindow)
						}
						info.Notices = append(info.Notices, frames.WarningNotice(errNoValues(dm.model.Name, spec.name, "reference")))
					}
					edges, rc := ref.Binned(spec.name, strategy, bins)
					refCounts = append([]float64(nil), rc...)
					if len(sorted) == 0 {
						refCounts = make([]float64, len(edges)+1)
					}
					cur := gatherNum(b.Column(spec.name), idx)
					if err := stats.SortFloat64sCheck(cur, ctx.Err); err != nil {
						return nil, err
					}
					curCounts = stats.CountsSorted(edges, cur, nil)
					binNames = binLabels(edges)
				}
				if sumOf(curCounts) == 0 {
					info.Notices = append(info.Notices, frames.InfoNotice(errNoValues(dm.model.Name, spec.name, "current window")))
				}
				refP := proportions(refCounts)
				curP := proportions(curCounts)
				name := spec.name
				if len(models) > 1 || q.Version == WildcardAllVersions {
					name = dm.model.Name + versionSuffix(grp.version) + " / " + spec.name
				}
				f := frames.Table(name, []*data.Field{
					frames.StringField("bin", binNames),
					frames.NumberField("reference", "percentunit", refP),
					frames.NumberField("current", "percentunit", curP),
					frames.NumberField("reference count", "", refCounts),
					frames.NumberField("current count", "", curCounts),
					frames.LabelledNumberField("psi contribution", data.Labels{"method": MethodPSI + contributionSuffix}, "psi contribution",
						stats.PSIContributions(refP, curP, nil)),
					frames.LabelledNumberField("js contribution", data.Labels{"method": MethodJS + contributionSuffix}, "js contribution",
						stats.JSContributions(refP, curP, nil)),
				}, info)
				out = append(out, f)
			}
		}
	}
	if len(out) == 0 {
		return data.Frames{frames.Empty(data.FrameTypeTable, frames.Info{Source: src.Name, Notices: notices})}, nil
	}
	// The notices of the whole response go on the first table only (Grafana shows every frame's
	// notices); each table keeps its own.
	if len(notices) > 0 {
		out[0].Meta.Notices = append(append([]data.Notice(nil), notices...), out[0].Meta.Notices...)
	}
	return out, nil
}

// contributionSuffix ends the `method` label of a bin's contribution to a measure.
const contributionSuffix = "_contribution"

// categoricalBins returns the categories of reference ∪ current (reference order, then new ones in
// order of appearance) and both counts.
func categoricalBins(ref refSample, name string, col *source.Column, idx []int32) ([]string, []float64, []float64) {
	cats, rc := ref.Categories(name)
	names := append([]string(nil), cats...)
	refCounts := append([]float64(nil), rc...)
	pos := make(map[string]int, len(names))
	for i, c := range names {
		pos[c] = i
	}
	curCounts := make([]float64, len(names))
	if col != nil && col.Kind == source.Categorical {
		for _, k := range idx {
			if int(k) >= len(col.Cat) {
				continue
			}
			code := col.Cat[k]
			if code < 0 || int(code) >= len(col.Dict) {
				continue
			}
			s := col.Dict[code]
			i, ok := pos[s]
			if !ok {
				i = len(names)
				pos[s] = i
				names = append(names, s)
				refCounts = append(refCounts, 0)
				curCounts = append(curCounts, 0)
			}
			curCounts[i]++
		}
	}
	return names, refCounts, curCounts
}

func gatherNum(col *source.Column, idx []int32) []float64 {
	var out []float64
	if col == nil || col.Kind == source.Categorical {
		return out
	}
	for _, k := range idx {
		if int(k) < len(col.Num) && !math.IsNaN(col.Num[k]) {
			out = append(out, col.Num[k])
		}
	}
	return out
}

// binLabels names the bins of interior edges e: "(-inf, e0)", "[e0, e1)", ..., "[en, +inf)".
func binLabels(edges []float64) []string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	if len(edges) == 0 {
		return []string{"(-inf, +inf)"}
	}
	out := make([]string, 0, len(edges)+1)
	out = append(out, fmt.Sprintf("(-inf, %s)", f(edges[0])))
	for i := 1; i < len(edges); i++ {
		out = append(out, fmt.Sprintf("[%s, %s)", f(edges[i-1]), f(edges[i])))
	}
	return append(out, fmt.Sprintf("[%s, +inf)", f(edges[len(edges)-1])))
}

func sumOf(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s
}

// proportions divides counts by their sum (NaN when the sum is 0).
func proportions(counts []float64) []float64 {
	out := make([]float64, len(counts))
	s := sumOf(counts)
	for i, c := range counts {
		if s > 0 {
			out[i] = c / s
		} else {
			out[i] = math.NaN()
		}
	}
	return out
}
