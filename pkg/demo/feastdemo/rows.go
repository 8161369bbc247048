package feastdemo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/offline"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/online"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// BatchRow is one row of a view's batch source: one prediction record's join keys, features (NaN
// = NULL; the skewed feature in miles) and time.
type BatchRow struct {
	Keys     []string
	Features []float64
	Time     time.Time
}

// batchValue is the batch source's value of a feature given the record's value.
func batchValue(view, feature string, served float64) float64 {
	if view == SkewView && feature == SkewFeature && !math.IsNaN(served) {
		return math.Round(served/KmPerMile*1000) / 1000
	}
	return served
}

// key returns a record's join-key values; false when one is null.
func (v *View) key(b *source.Batch, i int) ([]string, bool) {
	out := make([]string, len(v.JoinKeys))
	for k, name := range v.JoinKeys {
		c := b.Features[name]
		if c == nil || c.Kind != source.Categorical {
			return nil, false
		}
		code := c.Cat[i]
		if code < 0 || int(code) >= len(c.Dict) {
			return nil, false
		}
		out[k] = c.Dict[code]
	}
	return out, true
}

// records reads the view's model's records with start < ts <= end.
func (v *View) records(ctx context.Context, f *demo.Fleet, start, end time.Time) (*source.Batch, error) {
	b, err := f.Records(ctx, source.RecordsRequest{Model: v.Model, Start: start, End: end})
	if err != nil {
		return nil, fmt.Errorf("records of %s: %w", v.Model, err)
	}
	for _, name := range append(append([]string(nil), v.JoinKeys...), v.Features...) {
		if b.Features[name] == nil {
			return nil, fmt.Errorf("the records of %s have no feature %q", v.Model, name)
		}
	}
	return b, nil
}

// BatchRows are the rows of the view's batch source for the records with start < ts <= end (a
// record with a null join key has none).
func (v *View) BatchRows(ctx context.Context, f *demo.Fleet, start, end time.Time) ([]BatchRow, error) {
	b, err := v.records(ctx, f, start, end)
	if err != nil {
		return nil, err
	}
	out := make([]BatchRow, 0, b.Len())
	for i := 0; i < b.Len(); i++ {
		keys, ok := v.key(b, i)
		if !ok {
			continue
		}
		r := BatchRow{Keys: keys, Features: make([]float64, len(v.Features)), Time: time.Unix(0, b.TS[i]).UTC()}
		for j, name := range v.Features {
			r.Features[j] = batchValue(v.Name, name, b.Features[name].Num[i])
		}
		out = append(out, r)
	}
	return out, nil
}

// onlineLookback is how far back materialization looks for an entity's latest row.
const onlineLookback = 6 * time.Hour

// OnlineRows are what the online store holds for the view at time t: per entity (join-key
// combination seen in the records of the lookback before the last materialization, except the
// missing ones), its latest batch source row up to the last materialization.
func (v *View) OnlineRows(ctx context.Context, f *demo.Fleet, t time.Time) ([]online.WriteRow, error) {
	end := LastMaterialization(v.Name, t)
	rows, err := v.BatchRows(ctx, f, end.Add(-onlineLookback), end)
	if err != nil {
		return nil, err
	}
	latest := map[string]int{}
	var order []string
	missing := slices.Index(v.JoinKeys, MissingKey)
	for i, r := range rows {
		if v.Name == MissingView && missing >= 0 && r.Keys[missing] == MissingValue {
			continue
		}
		k := fmt.Sprintf("%q", r.Keys)
		if _, seen := latest[k]; !seen {
			order = append(order, k)
		}
		latest[k] = i
	}
	slices.Sort(order)
	out := make([]online.WriteRow, 0, len(order))
	for _, k := range order {
		r := rows[latest[k]]
		ek := online.EntityKey{JoinKeys: append([]string(nil), v.JoinKeys...), Values: make([]online.Value, len(r.Keys))}
		for i, s := range r.Keys {
			ek.Values[i] = online.String(s)
		}
		vals := make(map[string]online.Value, len(v.Features))
		for j, name := range v.Features {
			if x := r.Features[j]; math.IsNaN(x) {
				vals[name] = online.Null()
			} else {
				vals[name] = online.Double(x)
			}
		}
		out = append(out, online.WriteRow{Key: ek, Values: vals, EventTime: r.Time})
	}
	return out, nil
}

// Monitoring constants: Feast's daily granularity, 20 numeric histogram bins.
const (
	Granularity   = "daily"
	histogramBins = 20
	featureType   = "numeric"
)

// metricRow computes one monitoring row from a feature's values (NaN = null).
func metricRow(view, feature string, values []float64) offline.MetricRow {
	r := offline.MetricRow{View: view, Feature: feature, Granularity: Granularity, FeatureType: featureType}
	var x []float64
	for _, v := range values {
		if !math.IsNaN(v) {
			x = append(x, v)
		}
	}
	r.RowCount = float64(len(values))
	r.NullCount = float64(len(values) - len(x))
	r.NullRate = math.NaN()
	if len(values) > 0 {
		r.NullRate = r.NullCount / r.RowCount
	}
	r.Mean, r.Stddev = stats.MeanStd(x)
	r.Min, r.Max = math.NaN(), math.NaN()
	r.P50, r.P75, r.P90, r.P95, r.P99 = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if len(x) == 0 {
		return r
	}
	slices.Sort(x)
	r.Min, r.Max = x[0], x[len(x)-1]
	r.P50, r.P75, r.P90 = stats.QuantileSorted(x, 0.50), stats.QuantileSorted(x, 0.75), stats.QuantileSorted(x, 0.90)
	r.P95, r.P99 = stats.QuantileSorted(x, 0.95), stats.QuantileSorted(x, 0.99)
	r.Histogram = histogram(x)
	return r
}

// histogram is Feast's numeric histogram JSON (sdk/python/feast/monitoring/metrics_calculator.py):
// histogramBins equal-width bins over [min, max], the last bin closed (numpy.histogram).
func histogram(sorted []float64) json.RawMessage {
	lo, hi := sorted[0], sorted[len(sorted)-1]
	if hi == lo {
		hi = lo + 1
	}
	w := (hi - lo) / histogramBins
	edges := make([]float64, histogramBins+1)
	for i := range edges {
		edges[i] = lo + float64(i)*w
	}
	edges[histogramBins] = hi
	counts := make([]int64, histogramBins)
	for _, v := range sorted {
		i := int((v - lo) / w)
		if i >= histogramBins {
			i = histogramBins - 1
		}
		counts[i]++
	}
	b, _ := json.Marshal(struct {
		Bins     []float64 `json:"bins"`
		Counts   []int64   `json:"counts"`
		BinWidth float64   `json:"bin_width"`
	}{edges, counts, w})
	return b
}

// DailyMetrics are the view's monitoring rows of the UTC day starting at day (a midnight): per
// feature one "batch" row (the batch source's rows of the day) and one "log" row (the values the
// model was served, its records of the day).
func (v *View) DailyMetrics(ctx context.Context, f *demo.Fleet, day time.Time) ([]offline.MetricRow, error) {
	day = day.UTC().Truncate(24 * time.Hour)
	b, err := v.records(ctx, f, day.Add(-time.Nanosecond), day.Add(24*time.Hour-time.Nanosecond))
	if err != nil {
		return nil, err
	}
	computed := day.Add(24*time.Hour + 5*time.Minute)
	var out []offline.MetricRow
	for _, name := range v.Features {
		col := b.Features[name].Num
		var batch []float64
		for i := 0; i < b.Len(); i++ {
			if _, ok := v.key(b, i); ok {
				batch = append(batch, batchValue(v.Name, name, col[i]))
			}
		}
		for _, r := range []offline.MetricRow{metricRow(v.Name, name, batch), metricRow(v.Name, name, col)} {
			r.Date, r.ComputedAt = day, computed
			out = append(out, r)
		}
		out[len(out)-2].DataSourceType = offline.SourceBatch
		out[len(out)-1].DataSourceType = offline.SourceLog
	}
	return out, nil
}

// BaselineMetrics are the view's baseline rows (is_baseline, data source type batch): the model's
// pooled reference sample as the batch source holds it, dated demo.ReferenceTime.
func (v *View) BaselineMetrics(ctx context.Context, f *demo.Fleet) ([]offline.MetricRow, error) {
	b, err := f.Reference(ctx, v.Model, "")
	if err != nil {
		return nil, err
	}
	day := demo.ReferenceTime.UTC().Truncate(24 * time.Hour)
	var out []offline.MetricRow
	for _, name := range v.Features {
		c := b.Features[name]
		if c == nil {
			return nil, fmt.Errorf("the reference of %s has no feature %q", v.Model, name)
		}
		vals := make([]float64, len(c.Num))
		for i, x := range c.Num {
			vals[i] = batchValue(v.Name, name, x)
		}
		r := metricRow(v.Name, name, vals)
		r.Date, r.ComputedAt, r.IsBaseline, r.DataSourceType = day, day.Add(24*time.Hour), true, offline.SourceBatch
		out = append(out, r)
	}
	return out, nil
}
