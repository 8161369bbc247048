package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// tableExtra are the methods a drift table always shows (MLRun's feature-analysis columns).
var tableExtra = []string{MethodTVD, MethodHellinger, MethodKLD}

// binning returns the query's binning with defaults.
func binning(q *Query) (string, int) {
	strategy, bins := BinningQuantile, DefaultBins
	if q.Binning != nil {
		if q.Binning.Strategy != "" {
			strategy = q.Binning.Strategy
		}
		if q.Binning.Bins != 0 {
			bins = q.Binning.Bins
		}
	}
	return strategy, bins
}

// driftModel is one model's data for a drift query: its specs and current records.
type driftModel struct {
	model source.Model
	specs []featureSpec
	batch *source.Batch
	// refs maps a group's version ("" when versions are not split) to its reference.
	refs map[string]refSample
	// pushed names the specs whose windows the source counts in its database (push-down); the
	// batch then holds only the other specs' columns (and, with version "*", the versions).
	pushed map[string]bool
	// shifts maps a group's version to its reference per point (reference kinds offset and
	// version); refs is then empty.
	shifts map[string]*shiftedRef
}

// prepareDrift resolves the source, features, methods and thresholds of a drift-like query, and
// fetches current records for (start, end] and the references. allowLatency admits the `latency`
// variable (distribution queries); extra methods are always computed (table columns).
func (h *Handler) prepareDrift(ctx context.Context, r *request, g grid, allowLatency bool, extra []string) (Resolved, []driftModel, []data.Notice, error) {
	return h.prepareDriftPush(ctx, r, g, allowLatency, extra, false)
}

// prepareDriftPush is prepareDrift that, with push, lets a source that aggregates in its database
// count the windows of the specs whose methods are all binned (see pushSpecs).
func (h *Handler) prepareDriftPush(ctx context.Context, r *request, g grid, allowLatency bool, extra []string, push bool) (Resolved, []driftModel, []data.Notice, error) {
	q := &r.q
	th, err := thresholds(q.Thresholds)
	if err != nil {
		return Resolved{}, nil, nil, err
	}
	src, err := h.cat.Resolve(ctx, q.Source, q.Model)
	if err != nil {
		return src, nil, nil, err
	}
	if src.Log == nil {
		return src, nil, nil, userError("%s queries need the prediction log or the demo fleet: source %q has no raw records to compare with a reference", q.QueryType, src.Name)
	}
	models, mnotices, err := h.queryModels(ctx, src, q)
	if err != nil {
		return src, nil, nil, err
	}
	methods := perFeatureMethods(q)
	if q.QueryType == TypeDistribution {
		methods = nil
	}
	notices := mnotices
	out := make([]driftModel, 0, len(models))
	covered := make([]source.Model, 0, len(models))
	var firstMissing error
	for i := range models {
		m := &models[i]
		names := q.Features
		explicit := len(names) > 0
		if !explicit {
			for _, f := range m.Features {
				names = append(names, f.Name)
			}
		}
		dm := driftModel{model: *m}
		var missing []string
		for _, name := range dedupe(names) {
			kind, err := featureKind(m, name, allowLatency)
			if err != nil && allModels(q.Model) {
				// Over every model, a feature that only some models have is compared where it exists.
				if firstMissing == nil {
					firstMissing = err
				}
				missing = append(missing, name)
				continue
			}
			if err != nil {
				return src, nil, nil, err
			}
			spec, skipped, err := specFor(name, kind, methods, explicit, th, extra)
			if err != nil {
				return src, nil, nil, err
			}
			if len(skipped) > 0 {
				notices = append(notices, frames.InfoNotice(fmt.Sprintf("%s/%s is categorical: %s skipped", m.Name, name, describeMethods(skipped))))
			}
			dm.specs = append(dm.specs, spec)
		}
		if len(missing) > 0 {
			notices = append(notices, frames.InfoNotice(fmt.Sprintf("%s has no feature %s: not compared there", m.Name, strings.Join(missing, ", "))))
		}
		if len(dm.specs) == 0 {
			continue
		}
		out = append(out, dm)
		covered = append(covered, *m)
	}
	if len(out) == 0 && firstMissing != nil {
		// No model has any of the features asked for.
		return src, nil, nil, firstMissing
	}
	models = covered
	start, end := g.fetchRange()
	var agg source.Aggregator
	if push {
		agg, _ = h.aggregator(src)
	}
	fetchedAll, fnotices, err := h.driftRecords(ctx, src, agg, q, g, models, out, start, end)
	if err != nil {
		return src, nil, nil, err
	}
	notices = append(notices, fnotices...)
	kept := out[:0]
	for i := range out {
		out[i].batch = fetchedAll[i].batch
		out[i].pushed = fetchedAll[i].pushed
		var refs map[string]refSample
		var rnotices []data.Notice
		if shiftedKind(q.Reference) {
			out[i].shifts, rnotices, err = h.shiftedReferences(ctx, src, r, g, &out[i].model, out[i].batch, len(out))
		} else {
			refs, rnotices, err = h.references(ctx, src, r, &out[i].model, out[i].batch)
		}
		var bad *BadQueryError
		if err != nil && allModels(q.Model) && errors.As(err, &bad) {
			// Over every model, one model without a usable reference must not silence the others.
			notices = append(notices, frames.WarningNotice(fmt.Sprintf("%s skipped: %v", out[i].model.Name, err)))
			continue
		}
		if err != nil {
			return src, nil, nil, err
		}
		out[i].refs = refs
		notices = append(notices, rnotices...)
		kept = append(kept, out[i])
	}
	return src, kept, notices, nil
}

// drift answers `drift` (DESIGN §4, §5): per feature and method, the drift of each window's records
// against the reference; `status` is the worst status of the other methods asked (or of the
// defaults). Output time series, `latest` numbers, or a table per feature.
func (h *Handler) drift(ctx context.Context, r *request) (data.Frames, error) {
	q := &r.q
	single := q.Output == OutputLatest || q.Output == OutputTable
	g, err := newGrid(r.dq, q.Window, single)
	if err != nil {
		return nil, err
	}
	if q.Reference != nil && q.Reference.Kind == ReferenceFeast {
		return h.driftFromFeast(ctx, r, g)
	}
	g = persistentGrid(g, persistenceWindows(q), q.Window)
	if h.deps.Metrics != nil {
		src, err := h.cat.Resolve(ctx, q.Source, q.Model)
		if err != nil {
			return nil, err
		}
		if src.Metrics != nil {
			if newDriftPost(q, "", 0) != nil {
				return nil, userError("significance, correction and persistence need raw records (prediction log, SQL or demo source), not Prometheus histograms")
			}
			return h.driftFromMetrics(ctx, r, src, g)
		}
	}
	var extra []string
	if q.Output == OutputTable {
		extra = tableExtra
	}
	src, models, notices, err := h.prepareDriftPush(ctx, r, g, false, extra, q.Output != OutputTable)
	if err != nil {
		return nil, err
	}
	strategy, bins := binning(q)
	info := frames.Info{Source: src.Name, Notices: notices}
	if q.Output == OutputTable {
		f, err := h.driftTable(ctx, models, q, g, strategy, bins, &info)
		if err != nil {
			return nil, err
		}
		return data.Frames{f}, nil
	}
	var out seriesSet
	post := newDriftPost(q, strategy, bins)
	empty := 0
	pca, perFeature := multivariateAsked(q)
	for mi := range models {
		dm := &models[mi]
		b := dm.batch
		specs := dm.specs
		if !perFeature {
			specs = nil
		}
		for _, grp := range groups(b, q.Version) {
			grp := grp
			if !dm.hasRef(grp.version) {
				continue
			}
			if pca {
				err := h.pcaSeries(ctx, dm, &grp, q, g, slices.Contains(q.Methods, MethodStatus), &out, &info)
				var bad *BadQueryError
				if err != nil && allModels(q.Model) && errors.As(err, &bad) {
					// Over every model, one whose features PCA cannot use must not silence the others.
					info.Notices = append(info.Notices, frames.WarningNotice(err.Error()))
				} else if err != nil {
					return nil, err
				}
			}
			for si := range specs {
				spec := &dm.specs[si]
				calcs := newCalcs(ctx, dm, grp.version, spec, strategy, bins, &info)
				col := b.Column(spec.name)
				run := post.track(dm.model.Name, &grp, spec, dm.refs[grp.version], calcs.fixed, len(g.times))
				series := make([][]float64, len(spec.methods)+1)
				for i := range series {
					series[i] = make([]float64, len(g.times))
				}
				put := func(i int, v values, n int) {
					run.set(i, &v, n)
					for j, m := range spec.methods {
						series[j][i] = v[methodIndex[m]]
					}
					if spec.status {
						series[len(spec.methods)][i] = spec.statusOf(&v)
					}
				}
				var err error
				if dm.pushed[spec.name] {
					err = h.pushedDrift(ctx, src, q, g, dm.model.Name, grp.version, calcs.fixed, func(i int, v values, n int) {
						if n == 0 {
							empty++
						}
						put(i, v, n)
					})
				} else {
					err = g.windows(ctx, b.TS, grp.idx, func(i int, _ time.Time, lo, hi int) {
						v, n := calcs.at(i).computeWindow(col, grp.idx, lo, hi)
						if n == 0 {
							empty++
						}
						put(i, v, n)
					})
				}
				if err != nil {
					return nil, err
				}
				if run != nil {
					continue // its series come from post.finish
				}
				for j, m := range spec.methods {
					l := labels(dm.model.Name, q, &grp)
					l["feature"] = spec.name
					l["method"] = m
					out.add(l, "value", "", g.times, series[j])
				}
				if spec.status {
					l := labels(dm.model.Name, q, &grp)
					l["feature"] = spec.name
					l["method"] = MethodStatus
					out.add(l, "value", "", g.times, series[len(spec.methods)])
				}
			}
		}
	}
	if post != nil {
		th, err := thresholds(q.Thresholds)
		if err != nil {
			return nil, err
		}
		if err := post.finish(ctx, &out, g, th, &info); err != nil {
			return nil, err
		}
	}
	if empty > 0 {
		info.Notices = append(info.Notices, frames.InfoNotice(fmt.Sprintf("%d feature window(s) had no values: drift is not defined there", empty)))
	}
	return out.frames(g, info), nil
}

// driftTable builds the drift table: per model (version) and feature, the methods asked plus tvd,
// hellinger and kld, the status, the attribution (rank, drift share and, when the model gives
// feature importances, importance and impact: see attribution.go), reference and current counts
// and min/mean/max; then per model (version) the sum and mean of tvd, hellinger and kld over the
// features (the sum row's drift share is 1 and its impact the importance-weighted mean hellinger).
func (h *Handler) driftTable(ctx context.Context, models []driftModel, q *Query, g grid, strategy string, bins int, info *frames.Info) (*data.Frame, error) {
	// Columns: every value method asked for any feature, then the extras.
	var cols []string
	for mi := range models {
		for _, s := range models[mi].specs {
			cols = append(cols, s.methods...)
		}
	}
	cols = dedupe(append(cols, tableExtra...))
	var (
		modelCol, versionCol, featureCol, typeCol, statusCol []string
		refN, curN, refMin, refMean, refMax                  []float64
		curMin, curMean, curMax                              []float64
		methodCols                                           = make([][]float64, len(cols))
		rankCol, shareCol, importanceCol, impactCol          []float64
		anyImportance                                        bool
		hellinger                                            = slices.Index(cols, MethodHellinger)
	)
	addRow := func(model, version, feature, kind, status string, v *values, rn, cn float64, rs, cs [3]float64) {
		modelCol = append(modelCol, model)
		versionCol = append(versionCol, version)
		featureCol = append(featureCol, feature)
		typeCol = append(typeCol, kind)
		statusCol = append(statusCol, status)
		for j, m := range cols {
			methodCols[j] = append(methodCols[j], v[methodIndex[m]])
		}
		refN, curN = append(refN, rn), append(curN, cn)
		refMin, refMean, refMax = append(refMin, rs[0]), append(refMean, rs[1]), append(refMax, rs[2])
		curMin, curMean, curMax = append(curMin, cs[0]), append(curMean, cs[1]), append(curMax, cs[2])
		nan := math.NaN()
		rankCol, shareCol, importanceCol, impactCol = append(rankCol, nan), append(shareCol, nan), append(importanceCol, nan), append(impactCol, nan)
	}
	nan3 := [3]float64{math.NaN(), math.NaN(), math.NaN()}
	var scratch []float64
	empty := 0
	for mi := range models {
		dm := &models[mi]
		b := dm.batch
		for _, grp := range groups(b, q.Version) {
			ref := dm.refAt(grp.version, 0)
			if ref == nil {
				continue
			}
			var lo, hi int
			if err := g.windows(ctx, b.TS, grp.idx, func(_ int, _ time.Time, l, h int) { lo, hi = l, h }); err != nil {
				return nil, err
			}
			idx := grp.idx[lo:hi]
			first := len(featureCol)
			var imp []float64
			sum := nanValues()
			nfeat := 0
			for _, m := range tableExtra {
				sum[methodIndex[m]] = 0
			}
			for si := range dm.specs {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				spec := &dm.specs[si]
				calc := newDriftCalc(spec, ref, strategy, bins)
				calc.check = ctx.Err
				col := b.Column(spec.name)
				v, n := calc.compute(col, idx)
				status := ""
				specStatus := *spec
				if len(specStatus.statusFrom) == 0 {
					specStatus.statusFrom = spec.methods
					if len(specStatus.statusFrom) == 0 {
						specStatus.statusFrom = defaultMethods(spec.kind)
					}
				}
				if st := specStatus.statusOf(&v); !math.IsNaN(st) {
					status = Status(int(st)).String()
				}
				rs, cs := nan3, nan3
				if spec.kind != source.Categorical {
					rs = minMeanMax(ref.Sorted(spec.name))
					scratch = scratch[:0]
					if col != nil {
						for _, k := range idx {
							if int(k) < len(col.Num) && !math.IsNaN(col.Num[k]) {
								scratch = append(scratch, col.Num[k])
							}
						}
					}
					cs = minMeanMax(scratch)
				}
				addRow(dm.model.Name, grp.version, spec.name, string(spec.kind), status, &v, float64(calc.refSize()), float64(n), rs, cs)
				imp = append(imp, importanceOf(dm, spec.name))
				if n == 0 {
					empty++
				}
				if calc.refSize() == 0 {
					info.Notices = append(info.Notices, frames.WarningNotice(errNoValues(dm.model.Name, spec.name, "reference")))
				}
				if text, ok := calc.constantReference(dm.model.Name); ok {
					info.Notices = append(info.Notices, frames.InfoNotice(text))
				}
				if n > 0 && calc.refSize() > 0 {
					// Features with values on both sides; one without reference values has NaN
					// drift and would make the sums NaN.
					nfeat++
					for _, m := range tableExtra {
						sum[methodIndex[m]] += v[methodIndex[m]]
					}
				}
			}
			mean := nanValues()
			if nfeat == 0 {
				sum = nanValues()
			} else {
				for _, m := range tableExtra {
					mean[methodIndex[m]] = sum[methodIndex[m]] / float64(nfeat)
				}
			}
			at := attribute(methodCols[hellinger][first:], imp)
			copy(rankCol[first:], at.rank)
			copy(shareCol[first:], at.share)
			copy(importanceCol[first:], at.importance)
			copy(impactCol[first:], at.impact)
			anyImportance = anyImportance || !math.IsNaN(at.impactSum)
			nan := math.NaN()
			addRow(dm.model.Name, grp.version, "(sum over features)", "overall", "", &sum, nan, nan, nan3, nan3)
			shareCol[len(shareCol)-1], impactCol[len(impactCol)-1] = at.shareSum, at.impactSum
			addRow(dm.model.Name, grp.version, "(mean over features)", "overall", "", &mean, nan, nan, nan3, nan3)
		}
	}
	if empty > 0 {
		info.Notices = append(info.Notices, frames.InfoNotice(fmt.Sprintf("%d feature(s) had no values in the window: drift is not defined there", empty)))
	}
	fields := []*data.Field{frames.StringField("model", modelCol)}
	if q.Version != "" {
		fields = append(fields, frames.StringField("version", versionCol))
	}
	fields = append(fields, frames.StringField("feature", featureCol), frames.StringField("type", typeCol))
	for j, m := range cols {
		fields = append(fields, frames.NumberField(m, "", methodCols[j]))
	}
	fields = append(fields,
		frames.StatusField("status", statusCol),
		frames.NumberField("rank", "", rankCol),
		frames.NumberField("drift share", "percentunit", shareCol))
	if anyImportance {
		fields = append(fields, frames.NumberField("importance", "", importanceCol), frames.NumberField("impact", "", impactCol))
	}
	fields = append(fields,
		frames.NumberField("reference count", "", refN),
		frames.NumberField("current count", "", curN),
		frames.NumberField("reference min", "", refMin),
		frames.NumberField("reference mean", "", refMean),
		frames.NumberField("reference max", "", refMax),
		frames.NumberField("current min", "", curMin),
		frames.NumberField("current mean", "", curMean),
		frames.NumberField("current max", "", curMax),
	)
	return frames.Table("drift", fields, *info), nil
}

// minMeanMax returns the minimum, mean and maximum of x (NaN for an empty x).
func minMeanMax(x []float64) [3]float64 {
	if len(x) == 0 {
		return [3]float64{math.NaN(), math.NaN(), math.NaN()}
	}
	lo, hi := x[0], x[0]
	for _, v := range x {
		lo = math.Min(lo, v)
		hi = math.Max(hi, v)
	}
	mean, _ := stats.MeanStd(x)
	return [3]float64{lo, mean, hi}
}
