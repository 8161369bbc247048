package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/offline"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// ReferenceFeast is the reference kind "feast": Feast's data-quality baseline of the feature.
const ReferenceFeast = "feast"

// feastBaseline is the baseline histogram a model feature is compared with.
type feastBaseline struct {
	view, feature string
	hist          offline.Histogram
	date          time.Time
	// edges and counts are the reference bins: numeric, the baseline's edges with open outer bins
	// (len(counts) = len(edges)+1, the outer counts 0); categorical, its top categories and "other".
	edges, counts []float64
}

// baselineFor finds the Feast feature a model feature names ("{feature}", "{view}__{feature}" or
// "{view}:{feature}") among the baseline rows, preferring the batch source's row.
func baselineFor(name string, rows []offline.MetricRow) *offline.MetricRow {
	var best *offline.MetricRow
	for i := range rows {
		r := &rows[i]
		if name != r.Feature && name != r.View+"__"+r.Feature && name != r.View+":"+r.Feature {
			continue
		}
		if best == nil || (r.DataSourceType == offline.SourceBatch && best.DataSourceType != offline.SourceBatch) ||
			(r.DataSourceType == best.DataSourceType && r.ComputedAt.After(best.ComputedAt)) {
			best = r
		}
	}
	return best
}

// binCurrent counts a window's values on a baseline's bins: numeric values in [e_i, e_{i+1})
// (the last edge inclusive, as numpy.histogram), below the first edge in the first (open) bin and
// above the last in the last; categories by name, the rest in "other".
func binCurrent(b *feastBaseline, col *source.Column, idx []int32, catIndex map[string]int) []float64 {
	out := make([]float64, len(b.counts))
	if b.hist.Numeric() {
		e := b.edges
		for _, k := range idx {
			v := col.Num[k]
			if math.IsNaN(v) {
				continue
			}
			switch {
			case v < e[0]:
				out[0]++
			case v > e[len(e)-1]:
				out[len(out)-1]++
			case v == e[len(e)-1]:
				out[len(out)-2]++
			default:
				out[sort.SearchFloat64s(e, math.Nextafter(v, math.Inf(1)))]++
			}
		}
		return out
	}
	for _, k := range idx {
		code := col.Cat[k]
		if code < 0 || int(code) >= len(col.Dict) {
			continue
		}
		if j, ok := catIndex[col.Dict[code]]; ok {
			out[j]++
		} else {
			out[len(out)-1]++
		}
	}
	return out
}

// driftFromFeast answers a drift query with reference.kind "feast": each model feature that names
// a Feast feature with a data-quality baseline (feast_monitoring_feature_metrics, is_baseline) is
// compared, per window, with the baseline's histogram: numeric values counted on the baseline's
// bin edges (plus open outer bins, empty in the baseline), categorical values on its top
// categories plus "other". Only the binned methods apply (and ks on the binned CDFs).
func (h *Handler) driftFromFeast(ctx context.Context, r *request, g grid) (data.Frames, error) {
	q := &r.q
	if q.Output == OutputTable {
		return nil, userError("reference.kind %q answers time series or latest, not a table", ReferenceFeast)
	}
	fd, err := h.feast(TypeDrift, false, true)
	if err != nil {
		return nil, err
	}
	th, err := thresholds(q.Thresholds)
	if err != nil {
		return nil, err
	}
	var notices []data.Notice
	spec := featureSpec{th: th}
	for _, m := range dedupe(q.Methods) {
		switch {
		case m == MethodStatus:
			spec.status = true
		case m == MethodKSPValue || m == MethodWasserstein || m == MethodWassersteinNorm:
			return nil, userError("method %s needs raw reference samples; Feast's baseline is a histogram: use %s", m, binnedMethods)
		default:
			spec.methods = append(spec.methods, m)
		}
	}
	defaults := []string{MethodPSI, MethodJS, MethodHellinger}
	if len(spec.methods) == 0 {
		spec.methods = defaults
	}
	if spec.status {
		spec.statusFrom = spec.methods
		if err := spec.checkStatus(); err != nil {
			return nil, err
		}
	}
	spec.need = dedupe(append(slices.Clone(spec.methods), spec.statusFrom...))

	baselines, _, err := fd.Offline.FeatureMetrics(ctx, offline.MetricsQuery{Project: fd.Project, Baseline: true})
	if err != nil {
		if errors.Is(err, offline.ErrNoMonitoring) {
			return nil, userError("%v", err)
		}
		return nil, feastError("feast offline store", err)
	}
	src, err := h.recordsSource(ctx, recordSource(q.Source), q.Model, "drift against Feast's baseline needs the model's prediction records, which source %q does not have")
	if err != nil {
		return nil, err
	}
	got, fnotices, err := h.gridRecords(ctx, src, q, g)
	if err != nil {
		return nil, err
	}
	notices = append(notices, fnotices...)
	calc := &driftCalc{spec: &spec}
	var out seriesSet
	var missing []string
	for _, f := range got {
		b := f.batch
		names := q.Features
		if len(names) == 0 {
			names = b.FeatureNames
		}
		for _, name := range names {
			col := b.Features[name]
			if col == nil {
				if len(q.Features) > 0 {
					return nil, userError("model %q has no feature %s", f.model.Name, quoteName(name))
				}
				continue
			}
			row := baselineFor(name, baselines)
			if row == nil {
				missing = append(missing, name)
				continue
			}
			fb := &feastBaseline{view: row.View, feature: row.Feature, date: row.Date}
			fb.hist, err = offline.ParseHistogram(row.Histogram)
			if err != nil {
				notices = append(notices, frames.WarningNotice(fmt.Sprintf("%s: Feast's baseline of %s:%s has no usable histogram (%v)", name, row.View, row.Feature, err)))
				continue
			}
			catIndex := map[string]int{}
			if fb.hist.Numeric() {
				if col.Kind != source.Numeric {
					notices = append(notices, frames.WarningNotice(fmt.Sprintf("%s is categorical but Feast's baseline of %s:%s is numeric", name, row.View, row.Feature)))
					continue
				}
				fb.edges = fb.hist.Edges
				fb.counts = append(append([]float64{0}, fb.hist.Counts...), 0)
			} else {
				if col.Kind != source.Categorical {
					notices = append(notices, frames.WarningNotice(fmt.Sprintf("%s is numeric but Feast's baseline of %s:%s is categorical", name, row.View, row.Feature)))
					continue
				}
				for i, c := range fb.hist.Categories {
					catIndex[c] = i
				}
				fb.counts = append(slices.Clone(fb.hist.CatCounts), fb.hist.Other)
			}
			p := stats.Proportions(fb.counts, nil)
			notices = append(notices, frames.InfoNotice(fmt.Sprintf("%s: reference is Feast's data-quality baseline of %s:%s (%s of %s, %d bins); drift from its histogram bins",
				name, row.View, row.Feature, row.DataSourceType, row.Date.Format(time.DateOnly), len(fb.counts))))
			for _, grp := range groups(b, q.Version) {
				series := make([][]float64, len(spec.methods)+1)
				for j := range series {
					series[j] = make([]float64, len(g.times))
				}
				err := g.windows(ctx, b.TS, grp.idx, func(i int, _ time.Time, lo, hi int) {
					v := nanValues()
					cc := binCurrent(fb, col, grp.idx[lo:hi], catIndex)
					if sumOf(cc) > 0 && sumOf(fb.counts) > 0 {
						qv := stats.Proportions(cc, nil)
						for _, m := range spec.need {
							if m == MethodKS {
								v[methodIndex[m]] = stats.KSBinned(fb.counts, cc)
								continue
							}
							v[methodIndex[m]] = calc.binned(m, p, qv, fb.counts, cc)
						}
					}
					for j, m := range spec.methods {
						series[j][i] = v[methodIndex[m]]
					}
					if spec.status {
						series[len(spec.methods)][i] = spec.statusOf(&v)
					}
				})
				if err != nil {
					return nil, err
				}
				for j, m := range spec.methods {
					l := labels(f.model.Name, q, &grp)
					l["feature"], l["method"] = name, m
					out.add(l, "value", "", g.times, series[j])
				}
				if spec.status {
					l := labels(f.model.Name, q, &grp)
					l["feature"], l["method"] = name, MethodStatus
					out.add(l, "value", "", g.times, series[len(spec.methods)])
				}
			}
		}
	}
	if len(missing) > 0 {
		notices = append(notices, frames.InfoNotice(fmt.Sprintf("no Feast data-quality baseline for %s in project %q: not compared",
			quoteAll(dedupe(missing)), fd.Project)))
	}
	return out.frames(g, frames.Info{Source: src.Name, Notices: notices}), nil
}
