package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// qualityFeature is one variable of a dataQuality query with what its reference says.
type qualityFeature struct {
	name string
	kind source.Kind
	// lo and hi are the reference's [min, max] (NaN when it has no values), numeric only.
	lo, hi float64
	// known[code] says whether the reference has category col.Dict[code] (categorical only).
	known []bool
	// refEmpty is true when the reference has no value of the variable.
	refEmpty bool
}

// qualityApplies reports whether a data-quality metric applies to a feature kind: outOfRange to
// numeric features, newCategory to categorical ones, the others to both.
func qualityApplies(metric string, kind source.Kind) bool {
	switch metric {
	case QualityOutOfRange:
		return kind != source.Categorical
	case QualityNewCategory:
		return kind == source.Categorical
	}
	return true
}

// qualityValue is a metric's share in a window's counts (status excluded).
func qualityValue(metric string, qc stats.Quality) float64 {
	null, oor, nc, mm := qc.Shares()
	switch metric {
	case QualityNullRatio:
		return null
	case QualityOutOfRange:
		return oor
	case QualityNewCategory:
		return nc
	case QualityTypeMismatch:
		return mm
	}
	return math.NaN()
}

// qualityStatus is the worst status of the metrics that apply to the feature (NaN for an empty
// window, or when the reference has no values: its range and categories are unknown).
func qualityStatus(f *qualityFeature, qc stats.Quality, th map[string]statusThreshold) float64 {
	if qc.N == 0 {
		return math.NaN()
	}
	st, any := StatusOK, false
	for _, m := range QualityMetrics {
		if m == QualityStatus || !qualityApplies(m, f.kind) {
			continue
		}
		if f.refEmpty && (m == QualityOutOfRange || m == QualityNewCategory) {
			continue
		}
		if s, ok := classify(qualityValue(m, qc), th[m]); ok {
			st, any = worst(st, s), true
		}
	}
	if !any {
		return math.NaN()
	}
	return float64(st)
}

// counts computes the data-quality counts of a column over the records idx.
func (f *qualityFeature) counts(col *source.Column, idx []int32) stats.Quality {
	switch {
	case col == nil:
		return stats.Quality{N: len(idx), Null: len(idx)}
	case col.Kind == source.Categorical:
		return stats.CategoricalQuality(col.Cat, col.Mismatch, idx, f.known)
	default:
		lo, hi := f.lo, f.hi
		if f.refEmpty {
			lo, hi = math.NaN(), math.NaN()
		}
		return stats.NumericQuality(col.Num, col.Mismatch, idx, lo, hi)
	}
}

// prepareQuality fills in what the reference says about a feature, for the current column col.
func prepareQuality(ref refSample, name string, kind source.Kind, col *source.Column) qualityFeature {
	f := qualityFeature{name: name, kind: kind, lo: math.NaN(), hi: math.NaN()}
	if kind == source.Categorical {
		cats, _ := ref.Categories(name) // ascending by name
		f.refEmpty = len(cats) == 0
		if col != nil {
			f.known = make([]bool, len(col.Dict))
			for i, d := range col.Dict {
				_, f.known[i] = slices.BinarySearch(cats, d)
			}
		}
		return f
	}
	sorted := ref.Sorted(name)
	if len(sorted) == 0 {
		f.refEmpty = true
		return f
	}
	f.lo, f.hi = sorted[0], sorted[len(sorted)-1]
	return f
}

// qualityModel is one model's records, features and references for a dataQuality query.
type qualityModel struct {
	model    source.Model
	features []string
	kinds    []source.Kind
	batch    *source.Batch
	refs     map[string]refSample
}

// dataQuality answers `dataQuality` (DESIGN §4, §5 Data quality): per feature and window, the
// shares of the window's records whose value is null (nullRatio), outside the reference's [min,
// max] (outOfRange, numeric features), of a category the reference never had (newCategory,
// categorical features) or of the wrong type (typeMismatch), and their worst `status` under the
// thresholds. Labels feature and metric; time series, `latest` numbers or a table.
func (h *Handler) dataQuality(ctx context.Context, r *request) (data.Frames, error) {
	q := &r.q
	th, err := qualityThresholds(q.Thresholds)
	if err != nil {
		return nil, err
	}
	metrics := dedupe(q.Metrics)
	if len(metrics) == 0 {
		metrics = QualityMetrics
	}
	single := q.Output == OutputLatest || q.Output == OutputTable
	g, err := newGrid(r.dq, q.Window, single)
	if err != nil {
		return nil, err
	}
	src, err := h.recordsSource(ctx, q.Source, q.Model, "dataQuality queries need prediction records (the prediction log, sql or the demo fleet): source %q has none")
	if err != nil {
		return nil, err
	}
	models, notices, err := h.qualityModels(ctx, r, src, g)
	if err != nil {
		return nil, err
	}
	info := frames.Info{Source: src.Name, Notices: notices}
	if q.Output == OutputTable {
		f, err := qualityTable(ctx, models, q, g, th, &info)
		if err != nil {
			return nil, err
		}
		return data.Frames{f}, nil
	}
	var out seriesSet
	skipped := map[string]bool{}
	empty := 0
	for mi := range models {
		qm := &models[mi]
		b := qm.batch
		for _, grp := range groups(b, q.Version) {
			grp := grp
			ref := qm.refs[grp.version]
			if ref == nil {
				continue
			}
			for fi, name := range qm.features {
				col := b.Column(name)
				f := prepareQuality(ref, name, qm.kinds[fi], col)
				if f.refEmpty {
					info.Notices = append(info.Notices, frames.WarningNotice(fmt.Sprintf(
						"%s/%s: the reference has no values: outOfRange, newCategory and their status are not defined", qm.model.Name, name)))
				}
				var ms []string
				for _, m := range metrics {
					if qualityApplies(m, f.kind) {
						ms = append(ms, m)
					} else if len(q.Metrics) > 0 {
						skipped[m] = true
					}
				}
				series := make([][]float64, len(ms))
				for i := range series {
					series[i] = make([]float64, len(g.times))
				}
				err := g.windows(ctx, b.TS, grp.idx, func(i int, _ time.Time, lo, hi int) {
					qc := f.counts(col, grp.idx[lo:hi])
					if qc.N == 0 {
						empty++
					}
					for j, m := range ms {
						switch {
						case m == QualityStatus:
							series[j][i] = qualityStatus(&f, qc, th)
						case f.refEmpty && (m == QualityOutOfRange || m == QualityNewCategory):
							series[j][i] = math.NaN()
						default:
							series[j][i] = qualityValue(m, qc)
						}
					}
				})
				if err != nil {
					return nil, err
				}
				for j, m := range ms {
					l := labels(qm.model.Name, q, &grp)
					l["feature"] = name
					l["metric"] = m
					unit := "percentunit"
					if m == QualityStatus {
						unit = ""
					}
					out.add(l, "value", unit, g.times, series[j])
				}
			}
		}
	}
	if len(skipped) > 0 {
		var names []string
		for m := range skipped {
			names = append(names, m)
		}
		sort.Strings(names)
		info.Notices = append(info.Notices, frames.InfoNotice(fmt.Sprintf(
			"%s skipped where it does not apply (outOfRange: numeric features; newCategory: categorical features)", strings.Join(names, ", "))))
	}
	if empty > 0 {
		info.Notices = append(info.Notices, frames.InfoNotice(fmt.Sprintf("%d feature window(s) had no records: data quality is not defined there", empty)))
	}
	return out.frames(g, info), nil
}

// qualityModels resolves the models and features of a dataQuality query and fetches their records
// and references. Over every model a feature only some models have is covered where it exists,
// and a model without a usable reference is skipped with a notice.
func (h *Handler) qualityModels(ctx context.Context, r *request, src Resolved, g grid) ([]qualityModel, []data.Notice, error) {
	q := &r.q
	models, notices, err := h.queryModels(ctx, src, q)
	if err != nil {
		return nil, nil, err
	}
	var out []qualityModel
	var covered []source.Model
	var firstMissing error
	for i := range models {
		m := &models[i]
		qm := qualityModel{model: *m}
		missing, missErr, err := eachFeature(q, m, false, func(name string, kind source.Kind) error {
			qm.features = append(qm.features, name)
			qm.kinds = append(qm.kinds, kind)
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		if firstMissing == nil {
			firstMissing = missErr
		}
		if len(missing) > 0 {
			notices = append(notices, frames.InfoNotice(fmt.Sprintf("%s has no feature %s: not covered there", m.Name, strings.Join(missing, ", "))))
		}
		if len(qm.features) == 0 {
			continue
		}
		out = append(out, qm)
		covered = append(covered, *m)
	}
	if len(out) == 0 && firstMissing != nil {
		return nil, nil, firstMissing
	}
	start, end := g.fetchRange()
	fetchedAll, fnotices, err := h.fetchRecords(ctx, src, covered, q.Version, start, end)
	if err != nil {
		return nil, nil, err
	}
	notices = append(notices, fnotices...)
	kept := out[:0]
	for i := range out {
		out[i].batch = fetchedAll[i].batch
		refs, rnotices, err := h.references(ctx, src, r, &out[i].model, out[i].batch)
		var bad *BadQueryError
		if err != nil && allModels(q.Model) && errors.As(err, &bad) {
			notices = append(notices, frames.WarningNotice(fmt.Sprintf("%s skipped: %v", out[i].model.Name, err)))
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		out[i].refs = refs
		notices = append(notices, rnotices...)
		kept = append(kept, out[i])
	}
	return kept, notices, nil
}

// qualityTable is the dataQuality table over the last window: per model (version) and feature the
// records, each share, the status and the reference's range or number of categories.
func qualityTable(ctx context.Context, models []qualityModel, q *Query, g grid, th map[string]statusThreshold, info *frames.Info) (*data.Frame, error) {
	var (
		modelCol, versionCol, featureCol, typeCol, statusCol []string
		records, refLo, refHi, refCats                       []float64
		shares                                               = map[string][]float64{}
	)
	cols := []string{QualityNullRatio, QualityOutOfRange, QualityNewCategory, QualityTypeMismatch}
	nan := math.NaN()
	for mi := range models {
		qm := &models[mi]
		b := qm.batch
		for _, grp := range groups(b, q.Version) {
			ref := qm.refs[grp.version]
			if ref == nil {
				continue
			}
			idx, err := g.lastWindow(ctx, b.TS, grp.idx)
			if err != nil {
				return nil, err
			}
			for fi, name := range qm.features {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				col := b.Column(name)
				f := prepareQuality(ref, name, qm.kinds[fi], col)
				qc := f.counts(col, idx)
				modelCol = append(modelCol, qm.model.Name)
				versionCol = append(versionCol, grp.version)
				featureCol = append(featureCol, name)
				typeCol = append(typeCol, string(f.kind))
				status := ""
				if st := qualityStatus(&f, qc, th); !math.IsNaN(st) {
					status = Status(int(st)).String()
				}
				statusCol = append(statusCol, status)
				records = append(records, float64(qc.N))
				for _, m := range cols {
					v := qualityValue(m, qc)
					if !qualityApplies(m, f.kind) || (f.refEmpty && (m == QualityOutOfRange || m == QualityNewCategory)) {
						v = nan
					}
					shares[m] = append(shares[m], v)
				}
				nc := nan
				if f.kind == source.Categorical {
					cats, _ := ref.Categories(name)
					nc = float64(len(cats))
				}
				refLo, refHi, refCats = append(refLo, f.lo), append(refHi, f.hi), append(refCats, nc)
			}
		}
	}
	fields := frames.ModelFields(modelCol, versionCol, q.Version != "")
	fields = append(fields, frames.StringField("feature", featureCol), frames.StringField("type", typeCol),
		frames.NumberField("records", "", records))
	for _, m := range cols {
		fields = append(fields, frames.NumberField(m, "percentunit", shares[m]))
	}
	fields = append(fields,
		frames.StatusField("status", statusCol),
		frames.NumberField("reference min", "", refLo),
		frames.NumberField("reference max", "", refHi),
		frames.NumberField("reference categories", "", refCats),
	)
	return frames.Table("dataQuality", fields, *info), nil
}
