package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/offline"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/online"
)

// skewRelTol is the relative tolerance under which two numbers are the same value: training
// pipelines and serving often round-trip a value through float32 (relative error up to 6e-8) or
// decimal text, which is not skew.
const skewRelTol = 1e-6

// skewColumn maps a feature of a view to the model's record column and the batch source column.
type skewColumn struct {
	feature string
	record  string
	source  string
}

// sourceColumn is the batch source's column of a feature or join key: the field_mapping key that
// maps to it, else the name itself.
func sourceColumn(ds *feast.DataSource, name string) string {
	for col, feat := range ds.FieldMapping {
		if feat == name {
			return col
		}
	}
	return name
}

// recordColumn finds a view's feature among a model's record columns: "{feature}",
// "{view}__{feature}" (Feast's full feature names) or "{view}:{feature}".
func recordColumn(b *source.Batch, view, feature string) string {
	for _, n := range []string{feature, view + "__" + feature, view + ":" + feature} {
		if b.Features[n] != nil {
			return n
		}
	}
	return ""
}

// skewCompare compares a served value (the record's) with the offline value: both null match;
// numbers match within skewRelTol (diff is |a−b|, NaN when either is not a number); texts match
// when equal (numbers are compared with texts through their decimal text).
func skewCompare(served any, c offline.Cell) (mismatch bool, diff float64) {
	diff = math.NaN()
	if served == nil || c.Null {
		return !(served == nil && c.Null), diff
	}
	switch s := served.(type) {
	case float64:
		if c.IsNum {
			diff = math.Abs(s - c.Num)
			return diff > skewRelTol*math.Max(1, math.Max(math.Abs(s), math.Abs(c.Num))), diff
		}
		if x, err := strconv.ParseFloat(c.Str, 64); err == nil {
			diff = math.Abs(s - x)
			return diff > skewRelTol*math.Max(1, math.Max(math.Abs(s), math.Abs(x))), diff
		}
		return true, diff
	case string:
		if c.IsNum {
			if x, err := strconv.ParseFloat(s, 64); err == nil {
				diff = math.Abs(x - c.Num)
				return diff > skewRelTol*math.Max(1, math.Max(math.Abs(x), math.Abs(c.Num))), diff
			}
			return true, diff
		}
		return s != c.Str, diff
	}
	return true, diff
}

// skew answers `skew` (training–serving skew): for the model's prediction records in the range,
// the point-in-time row of each feature view's batch source in the offline store (the latest row
// with event time <= the record's time and >= time − ttl, by the join keys taken from the
// record's features; the join is run by PostgreSQL) is compared with the record's value of each
// of the view's features the model has. Per window, label metric: `mismatch` = share of the
// records with a point-in-time row whose value differs, `meanAbsDiff` = mean |served − offline|
// over numeric pairs, `notFound` = share of the records without a point-in-time row, `compared` =
// the number of records with one. Labels model, featureView, feature, metric.
func (h *Handler) skew(ctx context.Context, r *request) (data.Frames, error) {
	q := &r.q
	fd, err := h.feast(TypeSkew, false, true)
	if err != nil {
		return nil, err
	}
	if q.Model == "" {
		return nil, userError("skew queries compare a model's prediction records with the offline store: name a model")
	}
	reg, views, err := h.feastViews(ctx, q, func(v *feast.FeatureView) bool {
		return v.BatchSource.TimestampField != "" && (v.BatchSource.Table != "" || v.BatchSource.Query != "")
	})
	if err != nil {
		return nil, err
	}
	metrics := dedupe(q.Metrics)
	if len(metrics) == 0 {
		metrics = DefaultSkewMetrics
	}
	g, err := newGrid(r.dq, q.Window, q.Output == OutputLatest)
	if err != nil {
		return nil, err
	}
	src, err := h.recordsSource(ctx, recordSource(q.Source), q.Model, "skew queries need prediction records, which source %q does not have")
	if err != nil {
		return nil, err
	}
	got, notices, err := h.gridRecords(ctx, src, q, g)
	if err != nil {
		return nil, err
	}
	var filter map[string]bool
	if len(q.Entities) > 0 {
		filter = map[string]bool{}
		for _, e := range q.Entities {
			filter[probeKey(e)] = true
		}
	}
	named := q.FeatureView != "" && q.FeatureView != "*"
	var out seriesSet
	for _, f := range got {
		b := f.batch
		for _, v := range views {
			series, ns, err := h.skewView(ctx, fd, reg, v, b, g, metrics, filter, named)
			if err != nil {
				return nil, err
			}
			notices = append(notices, ns...)
			for _, s := range series {
				s.Labels["model"] = f.model.Name
				out.add(s.Labels, "value", s.Unit, s.Times, s.Values)
			}
		}
	}
	if len(out.series) == 0 && len(got) > 0 {
		notices = append(notices, frames.InfoNotice("no feature view's join keys and features are among the model's record features: nothing to compare"))
	}
	return out.frames(g, frames.Info{Source: SourceFeast, Notices: notices}), nil
}

// skewView compares one model's records with one view's batch source.
func (h *Handler) skewView(ctx context.Context, fd *feastStores, reg *feast.Registry, v *feast.FeatureView, b *source.Batch, g grid,
	metrics []string, filter map[string]bool, named bool) ([]frames.Series, []data.Notice, error) {
	var notices []data.Notice
	skip := func(why string) ([]frames.Series, []data.Notice, error) {
		if named {
			return nil, nil, userError("skew of feature view %q: %s", v.Name, why)
		}
		return nil, nil, nil
	}
	if v.BatchSource.TimestampField == "" || (v.BatchSource.Table == "" && v.BatchSource.Query == "") {
		return skip("its batch source has no table (or query) and timestamp field in the registry")
	}
	jk := reg.JoinKeys(v)
	for _, k := range jk {
		if b.Features[k.Name] == nil {
			return skip(fmt.Sprintf("the records of %s have no feature %q (the join key)", b.Model, k.Name))
		}
	}
	var cols []skewColumn
	for _, feat := range v.Features {
		if rc := recordColumn(b, v.Name, feat.Name); rc != "" {
			cols = append(cols, skewColumn{feature: feat.Name, record: rc, source: sourceColumn(&v.BatchSource, feat.Name)})
		}
	}
	if len(cols) == 0 {
		return skip(fmt.Sprintf("the records of %s have none of its features", b.Model))
	}
	if len(jk) == 0 {
		return skip("it has no entities")
	}
	rel, err := offline.SourceRelation(v.BatchSource.Table, v.BatchSource.Query)
	if err != nil {
		return nil, nil, userError("feature view %q: %v", v.Name, err)
	}
	// The records that carry every join key, newest first up to the cap.
	keyTypes := make([]string, len(jk))
	var idx []int32
	var probes []offline.Probe
	for i := b.Len() - 1; i >= 0 && len(idx) < limits.FeastMaxSkewRecords; i-- {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		keys := make([]any, len(jk))
		p := make(map[string]any, len(jk))
		ok := true
		for k, key := range jk {
			raw := recordValue(b.Features[key.Name], i)
			ev, good := entityValue(raw, key.ValueType)
			if raw == nil || !good {
				ok = false
				break
			}
			p[key.Name] = raw
			typ := offline.KeyText
			switch ev.Type {
			case online.TypeInt64, online.TypeInt32, online.TypeUnixTimestamp:
				typ = offline.KeyBigint
				keys[k] = ev.Int
			case online.TypeString:
				keys[k] = ev.Str
			default:
				ok = false
			}
			if keyTypes[k] == "" {
				keyTypes[k] = typ
			} else if keyTypes[k] != typ {
				ok = false
			}
		}
		if !ok || (filter != nil && !filter[probeKey(p)]) {
			continue
		}
		idx = append(idx, int32(i)) // #nosec G115 -- indexes are below the record cap (limits.FeastMaxSkewRecords)
		probes = append(probes, offline.Probe{At: time.Unix(0, b.TS[i]).UTC(), Keys: keys})
	}
	if len(idx) == 0 {
		return skip(fmt.Sprintf("no record of %s in the range carries its join keys %s", b.Model, joinKeyNames(jk)))
	}
	if len(idx) == limits.FeastMaxSkewRecords {
		notices = append(notices, frames.WarningNotice(fmt.Sprintf("%s, feature view %s: only the newest %d records are compared (limit); earlier windows may be incomplete",
			b.Model, v.Name, limits.FeastMaxSkewRecords)))
	}
	// Ascending time order for the windows.
	for i, j := 0, len(idx)-1; i < j; i, j = i+1, j-1 {
		idx[i], idx[j] = idx[j], idx[i]
		probes[i], probes[j] = probes[j], probes[i]
	}
	srcCols := make([]string, len(cols))
	for i, c := range cols {
		srcCols[i] = c.source
	}
	joinCols := make([]string, len(jk))
	for i, k := range jk {
		joinCols[i] = sourceColumn(&v.BatchSource, k.Name)
	}
	rows, err := fd.Offline.AsOf(ctx, offline.AsOfQuery{Relation: rel, TimestampField: v.BatchSource.TimestampField,
		CreatedField: v.BatchSource.CreatedTimestampColumn, JoinKeys: joinCols, KeyTypes: keyTypes, Columns: srcCols,
		TTL: v.TTL, Probes: probes})
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, nil, err
		}
		return nil, nil, feastError(fmt.Sprintf("feast offline store, feature view %s", v.Name), err)
	}
	n := len(idx)
	found := make([]int, n+1) // prefix sums over idx positions
	for j, row := range rows {
		found[j+1] = found[j]
		if row.Found {
			found[j+1]++
		}
	}
	var series []frames.Series
	for c, col := range cols {
		mis := make([]int, n+1)
		diffSum := make([]float64, n+1)
		diffN := make([]int, n+1)
		for j, row := range rows {
			mis[j+1], diffSum[j+1], diffN[j+1] = mis[j], diffSum[j], diffN[j]
			if !row.Found {
				continue
			}
			m, d := skewCompare(recordValue(b.Features[col.record], int(idx[j])), row.Cells[c])
			if m {
				mis[j+1]++
			}
			if !math.IsNaN(d) {
				diffSum[j+1] += d
				diffN[j+1]++
			}
		}
		vals := make([][]float64, len(metrics))
		for m := range vals {
			vals[m] = make([]float64, len(g.times))
		}
		err := g.windows(ctx, b.TS, idx, func(i int, _ time.Time, lo, hi int) {
			recs, cmp := hi-lo, found[hi]-found[lo]
			for m, name := range metrics {
				x := math.NaN()
				switch name {
				case SkewMismatch:
					if cmp > 0 {
						x = float64(mis[hi]-mis[lo]) / float64(cmp)
					}
				case SkewMeanAbsDiff:
					if k := diffN[hi] - diffN[lo]; k > 0 {
						x = (diffSum[hi] - diffSum[lo]) / float64(k)
					}
				case SkewNotFound:
					if recs > 0 {
						x = float64(recs-cmp) / float64(recs)
					}
				case SkewCompared:
					x = float64(cmp)
				}
				vals[m][i] = x
			}
		})
		if err != nil {
			return nil, nil, err
		}
		for m, name := range metrics {
			unit := ""
			switch name {
			case SkewMismatch, SkewNotFound:
				unit = "percentunit"
			case SkewCompared:
				unit = "none"
			}
			series = append(series, frames.Series{Labels: data.Labels{"featureView": v.Name, "feature": col.feature, "metric": name},
				Times: g.times, Values: vals[m], Unit: unit})
		}
	}
	if found[n] == 0 {
		notices = append(notices, frames.WarningNotice(fmt.Sprintf("%s, feature view %s: no record has a point-in-time row in %s within the ttl (%s)",
			b.Model, v.Name, rel, v.TTL)))
	}
	return series, notices, nil
}
