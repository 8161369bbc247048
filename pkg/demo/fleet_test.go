package demo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// day0 is an arbitrary day; every event of the fleet recurs daily, so any day would do.
var day0 = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

func at(h, m int) time.Time {
	return day0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

func records(t testing.TB, f *Fleet, model, version string, start, end time.Time) *source.Batch {
	t.Helper()
	b, err := f.Records(context.Background(), source.RecordsRequest{Model: model, Version: version, Start: start, End: end})
	if err != nil {
		t.Fatalf("Records(%s, %s, %s..%s): %v", model, version, start, end, err)
	}
	return b
}

// batchLines renders each record of a batch as one line, every column included (NaN prints as NaN,
// so equal lines mean bit-for-bit equal records apart from NaN payloads).
func batchLines(b *source.Batch) []string {
	out := make([]string, b.Len())
	for i := range out {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%d %s %v %v %v", b.TS[i], b.Versions[b.Version[i]], b.LatencyMs[i], b.Error[i], b.Score[i])
		for _, c := range []*source.Column{b.Prediction, b.Label} {
			sb.WriteString(" " + cell(c, i))
		}
		for _, n := range b.FeatureNames {
			sb.WriteString(" " + n + "=" + cell(b.Features[n], i))
		}
		out[i] = sb.String()
	}
	return out
}

func cell(c *source.Column, i int) string {
	if c.Kind == source.Categorical {
		if c.Cat[i] < 0 {
			return "null"
		}
		return c.Dict[c.Cat[i]]
	}
	return fmt.Sprint(c.Num[i])
}

func TestModelsMetadata(t *testing.T) {
	f := NewFleet(DefaultSeed)
	models, err := f.Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]source.Kind{}
	for _, m := range models {
		kinds[m.Name] = m.Prediction.Type
		if len(m.Features) < 5 || len(m.Features) > 10 {
			t.Errorf("%s has %d features, want 5..10", m.Name, len(m.Features))
		}
		var num, cat int
		for _, ft := range m.Features {
			if ft.Type == source.Numeric {
				num++
			} else {
				cat++
			}
		}
		if num == 0 || cat == 0 {
			t.Errorf("%s: %d numeric and %d categorical features, want both kinds", m.Name, num, cat)
		}
		for _, d := range DriftedFeatures[m.Name] {
			if _, ok := m.Feature(d); !ok {
				t.Errorf("%s: drifted feature %q is not a feature", m.Name, d)
			}
		}
	}
	want := map[string]source.Kind{"fraud-detector": source.Categorical, "churn-classifier": source.Categorical, "price-regressor": source.Numeric}
	for n, k := range want {
		if kinds[n] != k {
			t.Errorf("model %s prediction kind = %q, want %q", n, kinds[n], k)
		}
	}
	if got := models[0].Versions; len(got) != 2 {
		t.Errorf("fraud-detector versions = %v, want two", got)
	}
	// Models returns copies.
	models[0].Versions[0] = "changed"
	again, _ := f.Models(context.Background())
	if again[0].Versions[0] != "v1" {
		t.Error("Models exposes the fleet's internal slices")
	}
}

func TestRecordsDeterministic(t *testing.T) {
	a := batchLines(records(t, NewFleet(DefaultSeed), "fraud-detector", "", at(9, 0), at(9, 20)))
	b := batchLines(records(t, NewFleet(DefaultSeed), "fraud-detector", "", at(9, 0), at(9, 20)))
	if len(a) < 1000 {
		t.Fatalf("only %d records in 20 minutes", len(a))
	}
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatal("two fleets with the same seed generated different records")
	}
	c := batchLines(records(t, NewFleet(7), "fraud-detector", "", at(9, 0), at(9, 20)))
	same := 0
	for i := range min(len(a), len(c)) {
		if a[i] == c[i] {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seeds 42 and 7 share %d identical records", same)
	}
}

func TestRecordsRangeSplitInvariance(t *testing.T) {
	f := NewFleet(DefaultSeed)
	start, end := at(5, 59), at(6, 11)
	whole := batchLines(records(t, f, "churn-classifier", "", start, end))
	// Split points: whole seconds, mid-second and one nanosecond either side of a record.
	b := records(t, f, "churn-classifier", "", start, end)
	splits := []time.Time{at(6, 0), start.Add(123456789 * time.Nanosecond), time.Unix(0, b.TS[len(b.TS)/2]), time.Unix(0, b.TS[len(b.TS)/2]-1)}
	for _, mid := range splits {
		left := batchLines(records(t, f, "churn-classifier", "", start, mid))
		right := batchLines(records(t, f, "churn-classifier", "", mid, end))
		joined := append(left, right...)
		if strings.Join(joined, "\n") != strings.Join(whole, "\n") {
			t.Errorf("split at %s: [a,b] ∪ (b,c] has %d records, [a,c] has %d, or they differ", mid.Format(time.RFC3339Nano), len(joined), len(whole))
		}
	}
}

func TestRecordsBoundsAndOrder(t *testing.T) {
	f := NewFleet(DefaultSeed)
	start, end := at(12, 0).Add(250*time.Millisecond), at(12, 5).Add(750*time.Millisecond)
	b := records(t, f, "price-regressor", "", start, end)
	if b.Len() == 0 {
		t.Fatal("no records")
	}
	for i, ts := range b.TS {
		if ts <= start.UnixNano() || ts > end.UnixNano() {
			t.Fatalf("record %d at %d outside (start, end]", i, ts)
		}
		if i > 0 && ts <= b.TS[i-1] {
			t.Fatalf("records %d and %d not strictly ascending", i-1, i)
		}
	}
	// A record exactly at end is included, exactly at start excluded.
	mid := time.Unix(0, b.TS[10])
	if n := records(t, f, "price-regressor", "", start, mid).Len(); n != 11 {
		t.Errorf("(start, ts10] has %d records, want 11", n)
	}
	if n := records(t, f, "price-regressor", "", mid, end).Len(); n != b.Len()-11 {
		t.Errorf("(ts10, end] has %d records, want %d", n, b.Len()-11)
	}
	// Column lengths agree.
	n := b.Len()
	lens := []int{len(b.Version), len(b.LatencyMs), len(b.Error), len(b.Score), b.Prediction.Len(), b.Label.Len()}
	for _, c := range b.Features {
		lens = append(lens, c.Len())
	}
	for _, l := range lens {
		if l != n {
			t.Fatalf("column lengths %v, want all %d", lens, n)
		}
	}
}

func TestRecordsLimit(t *testing.T) {
	f := NewFleet(DefaultSeed)
	full := records(t, f, "fraud-detector", "", at(1, 0), at(1, 10))
	b, err := f.Records(context.Background(), source.RecordsRequest{Model: "fraud-detector", Start: at(1, 0), End: at(1, 10), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 100 || !b.Truncated {
		t.Fatalf("limit 100: %d records, truncated %v; want 100, true", b.Len(), b.Truncated)
	}
	// The newest records are kept (the windows alert rules read), ascending.
	if strings.Join(batchLines(b), "\n") != strings.Join(batchLines(full)[full.Len()-100:], "\n") {
		t.Error("a limited answer is not the last records of the range")
	}
	if !b.Newest || b.CompleteAfter != b.TS[0] {
		t.Errorf("Newest %v CompleteAfter %d", b.Newest, b.CompleteAfter)
	}
	exact, err := f.Records(context.Background(), source.RecordsRequest{Model: "fraud-detector", Start: at(1, 0), End: at(1, 10), Limit: full.Len()})
	if err != nil {
		t.Fatal(err)
	}
	if exact.Len() != full.Len() || exact.Truncated {
		t.Errorf("limit = size: %d records, truncated %v; want %d, false", exact.Len(), exact.Truncated, full.Len())
	}
	if full.Truncated {
		t.Error("unlimited answer marked truncated")
	}
}

// TestRecordsLimitVersion: with a version and a limit that bites, the answer is the newest
// records of that version, exactly those of the unlimited answer.
func TestRecordsLimitVersion(t *testing.T) {
	f := NewFleet(DefaultSeed)
	for _, version := range []string{"", "v2"} {
		full := records(t, f, "fraud-detector", version, at(1, 0), at(1, 30))
		for _, limit := range []int{1, 257, full.Len() - 1, full.Len(), full.Len() + 1} {
			b, err := f.Records(context.Background(), source.RecordsRequest{Model: "fraud-detector", Version: version, Start: at(1, 0), End: at(1, 30), Limit: limit})
			require.NoError(t, err)
			want := min(limit, full.Len())
			require.Equal(t, want, b.Len(), "version %q limit %d", version, limit)
			require.Equal(t, limit < full.Len(), b.Truncated, "version %q limit %d", version, limit)
			require.Equal(t, batchLines(full)[full.Len()-want:], batchLines(b), "version %q limit %d", version, limit)
			require.Equal(t, cap(b.TS), b.Len(), "the batch is allocated at its size")
		}
	}
}

// TestRecordsVariables: a request naming variables carries only those features and outputs, with
// the values of the full answer; the other columns are left out (outputs empty).
func TestRecordsVariables(t *testing.T) {
	f := NewFleet(DefaultSeed)
	full := records(t, f, "fraud-detector", "", at(1, 0), at(1, 10))
	name := full.FeatureNames[2]
	for _, limit := range []int{0, 100} {
		b, err := f.Records(context.Background(), source.RecordsRequest{Model: "fraud-detector", Start: at(1, 0), End: at(1, 10), Limit: limit, Variables: []string{name, "label"}})
		require.NoError(t, err)
		off := 0
		if limit > 0 {
			off = full.Len() - limit
		}
		require.Equal(t, []string{name}, b.FeatureNames)
		require.Len(t, b.Features, 1)
		require.Zero(t, b.Prediction.Len(), "prediction left out")
		require.Equal(t, b.Len(), b.Label.Len())
		require.Equal(t, full.TS[off:], b.TS)
		require.Equal(t, full.LatencyMs[off:], b.LatencyMs)
		for i := 0; i < b.Len(); i++ {
			require.Equal(t, cell(full.Features[name], off+i), cell(b.Features[name], i))
			require.Equal(t, cell(full.Label, off+i), cell(b.Label, i))
		}
	}
	none, err := f.Records(context.Background(), source.RecordsRequest{Model: "fraud-detector", Start: at(1, 0), End: at(1, 10), Variables: []string{}})
	require.NoError(t, err)
	require.Empty(t, none.FeatureNames)
	require.Equal(t, full.Len(), none.Len())
	require.Zero(t, none.Label.Len())
}

func TestRecordsErrors(t *testing.T) {
	f := NewFleet(DefaultSeed)
	ctx := context.Background()
	cases := []struct {
		name    string
		req     source.RecordsRequest
		unknown bool
		msg     string
	}{
		{"unknown model", source.RecordsRequest{Model: "nope", Start: at(1, 0), End: at(2, 0)}, true, `"nope"`},
		{"unknown version", source.RecordsRequest{Model: "fraud-detector", Version: "v9", Start: at(1, 0), End: at(2, 0)}, true, `"v9"`},
		{"end before start", source.RecordsRequest{Model: "fraud-detector", Start: at(2, 0), End: at(1, 0)}, false, "before start"},
		{"negative limit", source.RecordsRequest{Model: "fraud-detector", Start: at(1, 0), End: at(2, 0), Limit: -1}, false, "negative"},
		{"too large without limit", source.RecordsRequest{Model: "fraud-detector", Start: at(0, 0), End: at(0, 0).AddDate(0, 1, 0)}, false, "set a limit"},
	}
	for _, c := range cases {
		_, err := f.Records(ctx, c.req)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if errors.Is(err, source.ErrUnknownModel) != c.unknown || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %q (unknown model: %v), want one mentioning %q with unknown=%v", c.name, err, errors.Is(err, source.ErrUnknownModel), c.msg, c.unknown)
		}
	}
	// Degenerate ranges are empty, not errors; ranges beyond the supported years are clamped.
	for _, r := range [][2]time.Time{{at(1, 0), at(1, 0)}, {time.Time{}, time.Unix(0, 0)}, {time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2301, 1, 1, 0, 0, 0, 0, time.UTC)}} {
		b, err := f.Records(ctx, source.RecordsRequest{Model: "price-regressor", Start: r[0], End: r[1], Limit: 10})
		if err != nil || b.Len() != 0 {
			t.Errorf("range %v: %d records, error %v; want empty", r, b.Len(), err)
		}
	}
	// The zero start time with a limit yields the first records after the Unix epoch.
	b, err := f.Records(ctx, source.RecordsRequest{Model: "price-regressor", End: time.Unix(60, 0), Limit: 5})
	if err != nil || b.Len() != 5 || b.TS[0] <= 0 {
		t.Errorf("zero start: %v records, error %v", b, err)
	}
	// Cancellation stops a long generation.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.Records(cctx, source.RecordsRequest{Model: "fraud-detector", Start: at(0, 0), End: at(12, 0)}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error %v, want context.Canceled", err)
	}
}

func TestNewFleetWithRate(t *testing.T) {
	for _, r := range []float64{0, -1, math.NaN(), math.Inf(1), MaxRate + 1} {
		if _, err := NewFleetWithRate(1, r); err == nil {
			t.Errorf("rate %v accepted", r)
		}
	}
	base := records(t, NewFleet(DefaultSeed), "price-regressor", "", at(10, 0), at(11, 0)).Len()
	f, err := NewFleetWithRate(DefaultSeed, 5)
	if err != nil {
		t.Fatal(err)
	}
	fast := records(t, f, "price-regressor", "", at(10, 0), at(11, 0)).Len()
	// Counts are Poisson: 5× the rate gives 5× the records within 5 standard deviations.
	if ratio := float64(fast) / float64(base); math.Abs(ratio-5) > 5*5*math.Sqrt(1/float64(base)+1/float64(fast)) {
		t.Errorf("rate 5: %d records vs %d at rate 1 (ratio %.3f)", fast, base, ratio)
	}
	if f.Rate() != 5 || f.Seed() != DefaultSeed {
		t.Errorf("Rate() = %v, Seed() = %v", f.Rate(), f.Seed())
	}
}

// TestTrafficShape checks the daily volume against the expected integral and the diurnal swing.
func TestTrafficShape(t *testing.T) {
	f := NewFleet(DefaultSeed)
	for _, m := range specs {
		b := records(t, f, m.name, "", day0, day0.Add(24*time.Hour))
		mean := m.baseRate * 86400
		// The minute noise makes the daily count vary more than Poisson: σ ≈ rate·60·σ_noise·√1440
		// ≈ 0.5% of a day; 5σ ≈ 2.5%.
		if d := math.Abs(float64(b.Len())-mean) / mean; d > 0.025 {
			t.Errorf("%s: %d records in a day, expected %.0f (off by %.1f%%)", m.name, b.Len(), mean, 100*d)
		}
		if b.Len() > 400000 {
			t.Errorf("%s: %d records per day, more than a few hundred thousand", m.name, b.Len())
		}
		peak, trough := 0, 0
		ph := int(m.peak / time.Hour)
		for _, ts := range b.TS {
			h := int(timeOfDay(ts) / int64(time.Hour))
			if h == ph {
				peak++
			}
			if h == (ph+12)%24 {
				trough++
			}
		}
		// (1+0.6)/(1−0.6) = 4 at the extremes; averaged over an hour, still well above 3.
		if float64(peak) < 3*float64(trough) {
			t.Errorf("%s: %d records in the peak hour vs %d in the trough hour, want a ≥ 3× swing", m.name, peak, trough)
		}
	}
}

func TestVersionSplit(t *testing.T) {
	f := NewFleet(DefaultSeed)
	all := records(t, f, "fraud-detector", "", at(8, 0), at(10, 0))
	v2 := records(t, f, "fraud-detector", "v2", at(8, 0), at(10, 0))
	v1 := records(t, f, "fraud-detector", "v1", at(8, 0), at(10, 0))
	if v1.Len()+v2.Len() != all.Len() {
		t.Fatalf("v1 %d + v2 %d != all %d", v1.Len(), v2.Len(), all.Len())
	}
	share := float64(v2.Len()) / float64(all.Len())
	want := VersionShares["fraud-detector"]["v2"]
	if se := math.Sqrt(want * (1 - want) / float64(all.Len())); math.Abs(share-want) > 5*se {
		t.Errorf("v2 share %.4f, want %.2f ± %.4f", share, want, 5*se)
	}
	// The per-version answer is exactly the filtered all-versions answer.
	var filtered []string
	lines := batchLines(all)
	for i := range lines {
		if all.Versions[all.Version[i]] == "v2" {
			filtered = append(filtered, lines[i])
		}
	}
	if strings.Join(filtered, "\n") != strings.Join(batchLines(v2), "\n") {
		t.Error("version v2 records differ from the v2 records of the all-versions answer")
	}
	if len(v2.Versions) != 1 || v2.Versions[0] != "v2" {
		t.Errorf("v2 batch Versions = %v", v2.Versions)
	}
	// v2 is faster: compare medians of successful records.
	if m1, m2 := medianLatency(v1), medianLatency(v2); !(m2 < 0.8*m1) {
		t.Errorf("median latency v1 %.1f ms, v2 %.1f ms; want v2 clearly faster", m1, m2)
	}
}

func medianLatency(b *source.Batch) float64 {
	var l []float64
	for i, v := range b.LatencyMs {
		if !b.Error[i] {
			l = append(l, v)
		}
	}
	sort.Float64s(l)
	return quantile7(l, 0.5)
}

func TestLatencyHeavyTail(t *testing.T) {
	f := NewFleet(DefaultSeed)
	for _, m := range specs {
		b := records(t, f, m.name, "", at(12, 0), at(14, 0))
		var l []float64
		for i, v := range b.LatencyMs {
			if !b.Error[i] {
				l = append(l, v)
			}
			if !(v > 0) {
				t.Fatalf("%s: latency %v", m.name, v)
			}
		}
		sort.Float64s(l)
		p50, p95, p99 := quantile7(l, 0.5), quantile7(l, 0.95), quantile7(l, 0.99)
		// Log-normal body with σ = 0.35: p95/p50 = e^(1.645·0.35) ≈ 1.8; the Pareto tail (2%)
		// lifts p99 to several times the median.
		if p50 < 10 || p50 > 60 {
			t.Errorf("%s: median latency %.1f ms, want tens of ms", m.name, p50)
		}
		if p99 < 3*p50 || p95 < 1.5*p50 {
			t.Errorf("%s: p50 %.1f p95 %.1f p99 %.1f ms, want a heavy tail", m.name, p50, p95, p99)
		}
	}
}

// errorShare returns the share of error records of a version ("" = all) in [from, to).
func errorShare(t *testing.T, f *Fleet, model, version string, from, to time.Time) (float64, int) {
	b := records(t, f, model, version, from, to)
	e := 0
	for _, x := range b.Error {
		if x {
			e++
		}
	}
	return float64(e) / float64(b.Len()), b.Len()
}

func TestErrorBursts(t *testing.T) {
	f := NewFleet(DefaultSeed)
	within := func(name string, got float64, n int, want float64) {
		t.Helper()
		// Binomial: 5 standard errors.
		if se := math.Sqrt(want * (1 - want) / float64(n)); math.Abs(got-want) > 5*se+1e-9 {
			t.Errorf("%s: error ratio %.4f over %d records, want %.4f ± %.4f", name, got, n, want, 5*se)
		}
	}
	for _, w := range ErrorBursts {
		start := day0.Add(w.Start)
		got, n := errorShare(t, f, w.Model, w.Version, start, start.Add(w.Duration))
		within(fmt.Sprintf("%s %s burst", w.Model, w.Version), got, n, w.ErrorRatio)
		before, n := errorShare(t, f, w.Model, w.Version, start.Add(-2*time.Hour), start.Add(-10*time.Minute))
		within(fmt.Sprintf("%s before its burst", w.Model), before, n, BaselineErrorRatio)
	}
	// The fraud-detector burst hits only v2: v1 stays at the baseline.
	w := ErrorBursts[0]
	start := day0.Add(w.Start)
	got, n := errorShare(t, f, "fraud-detector", "v1", start, start.Add(w.Duration))
	within("fraud-detector v1 during the v2 burst", got, n, BaselineErrorRatio)
	// Error records have no prediction, score or label; successful classifier records have a score.
	b := records(t, f, "fraud-detector", "", start, start.Add(w.Duration))
	for i := range b.TS {
		if b.Error[i] != (b.Prediction.Cat[i] < 0) || b.Error[i] != math.IsNaN(b.Score[i]) || (b.Error[i] && b.Label.Cat[i] >= 0) {
			t.Fatalf("record %d: error %v, prediction %d, score %v, label %d", i, b.Error[i], b.Prediction.Cat[i], b.Score[i], b.Label.Cat[i])
		}
	}
}

func TestOutagesAndReady(t *testing.T) {
	f := NewFleet(DefaultSeed)
	for _, o := range Outages {
		start := day0.Add(o.Start)
		if !f.Ready(o.Model, start.Add(-time.Nanosecond)) {
			t.Errorf("%s not ready just before its outage", o.Model)
		}
		if f.Ready(o.Model, start) || f.Ready(o.Model, start.Add(o.Duration-time.Nanosecond)) {
			t.Errorf("%s ready during its outage", o.Model)
		}
		if !f.Ready(o.Model, start.Add(o.Duration)) {
			t.Errorf("%s not ready at the end of its outage", o.Model)
		}
		if !f.Ready(o.Model, start.Add(24*time.Hour+o.Duration+time.Minute)) || f.Ready(o.Model, start.AddDate(0, 0, 3)) {
			t.Errorf("%s: the outage does not recur daily", o.Model)
		}
		got, n := errorShare(t, f, o.Model, o.Version, start, start.Add(o.Duration-time.Nanosecond))
		if got != 1 || n == 0 {
			t.Errorf("%s outage: error ratio %.3f over %d records, want every record an error", o.Model, got, n)
		}
	}
	if !f.Ready("fraud-detector", day0.Add(Outages[0].Start)) {
		t.Error("fraud-detector not ready during another model's outage")
	}
	if f.Ready("nope", day0) {
		t.Error("an unknown model is ready")
	}
}

// ksD is the two-sample Kolmogorov–Smirnov statistic sup|F_a − F_b| (ties handled by advancing
// both samples past equal values).
func ksD(a, b []float64) float64 {
	a, b = append([]float64(nil), a...), append([]float64(nil), b...)
	sort.Float64s(a)
	sort.Float64s(b)
	i, j, d := 0, 0, 0.0
	for i < len(a) && j < len(b) {
		x := math.Min(a[i], b[j])
		for i < len(a) && a[i] == x {
			i++
		}
		for j < len(b) && b[j] == x {
			j++
		}
		d = math.Max(d, math.Abs(float64(i)/float64(len(a))-float64(j)/float64(len(b))))
	}
	return d
}

// ksCritical is the asymptotic critical value of D at α = 0.001: c(α)·sqrt((n+m)/(nm)) with
// c = sqrt(−ln(α/2)/2) = 1.9495.
func ksCritical(n, m int) float64 {
	return 1.9495 * math.Sqrt(float64(n+m)/float64(n*m))
}

// psi is Σ (q−p)·ln(q/p) over categories, zero proportions replaced by 1e-4 (DESIGN §5).
func psi(ref, cur []string) float64 {
	p, q := map[string]float64{}, map[string]float64{}
	for _, v := range ref {
		p[v] += 1 / float64(len(ref))
	}
	for _, v := range cur {
		q[v] += 1 / float64(len(cur))
	}
	s := 0.0
	for k := range merge(p, q) {
		pk, qk := math.Max(p[k], 1e-4), math.Max(q[k], 1e-4)
		s += (qk - pk) * math.Log(qk/pk)
	}
	return s
}

func merge(a, b map[string]float64) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func numValues(c *source.Column, keep func(i int) bool) []float64 {
	var out []float64
	for i, v := range c.Num {
		if !math.IsNaN(v) && keep(i) {
			out = append(out, v)
		}
	}
	return out
}

func catValues(c *source.Column, keep func(i int) bool) []string {
	var out []string
	for i, v := range c.Cat {
		if v >= 0 && keep(i) {
			out = append(out, c.Dict[v])
		}
	}
	return out
}

// driftScores compares every feature and the outputs of a window against the reference sample:
// KS D minus its α = 0.001 critical value for numeric variables (> 0: drift), PSI minus 0.02 for
// categorical ones (PSI's sampling noise with ≤ 6 categories and n ≥ 5,000 is about
// (k−1)(1/n+1/m) ≈ 0.001, and the standard "no drift" threshold is 0.1).
func driftScores(t *testing.T, f *Fleet, model string, from, to time.Time) map[string]float64 {
	ref, err := f.Reference(context.Background(), model, "")
	if err != nil {
		t.Fatal(err)
	}
	cur := records(t, f, model, "", from, to)
	ok := func(i int) bool { return !cur.Error[i] }
	all := func(int) bool { return true }
	out := map[string]float64{}
	vars := append(append([]string(nil), cur.FeatureNames...), "prediction", "score")
	for _, name := range vars {
		rc, cc := ref.Column(name), cur.Column(name)
		keep := all
		if name == "prediction" || name == "score" {
			keep = ok
		}
		if cc.Kind == source.Categorical {
			out[name] = psi(catValues(rc, all), catValues(cc, keep)) - 0.02
			continue
		}
		a, b := numValues(rc, all), numValues(cc, keep)
		if len(a) == 0 && len(b) == 0 {
			continue // the regressor has no score
		}
		out[name] = ksD(a, b) - ksCritical(len(a), len(b))
	}
	return out
}

func TestDriftAppearsInNamedFeaturesOnly(t *testing.T) {
	f := NewFleet(DefaultSeed)
	if !DriftActive(at(6, 0)) || DriftActive(at(5, 59).Add(59*time.Second+999*time.Millisecond)) || DriftActive(at(0, 0)) || !DriftActive(at(23, 59)) {
		t.Fatal("DriftActive does not match DriftStart..midnight")
	}
	for _, m := range specs {
		drifted := map[string]bool{"prediction": true, "score": true}
		for _, d := range DriftedFeatures[m.name] {
			drifted[d] = true
		}
		// Before the drift starts (00:30–05:30) nothing drifts, outputs included.
		for name, s := range driftScores(t, f, m.name, at(0, 30), at(5, 30)) {
			if s > 0 {
				t.Errorf("%s before drift: %s drifts (score %+.4f)", m.name, name, s)
			}
		}
		// After it starts (07:00–09:00) exactly the named features and the outputs drift.
		for name, s := range driftScores(t, f, m.name, at(7, 0), at(9, 0)) {
			if drifted[name] != (s > 0) {
				t.Errorf("%s after drift: %s drift score %+.4f, drift expected: %v", m.name, name, s, drifted[name])
			}
		}
	}
}

func TestPredictionShiftFollowsDrift(t *testing.T) {
	f := NewFleet(DefaultSeed)
	share := func(from, to time.Time, class string) float64 {
		b := records(t, f, "fraud-detector", "", from, to)
		n, k := 0, 0
		for i, c := range b.Prediction.Cat {
			if !b.Error[i] {
				n++
				if b.Prediction.Dict[c] == class {
					k++
				}
			}
		}
		return float64(k) / float64(n)
	}
	before, after := share(at(0, 0), at(6, 0), "fraud"), share(at(6, 0), at(12, 0), "fraud")
	if !(after > 2*before) {
		t.Errorf("fraud share %.4f before drift, %.4f after; want it to at least double", before, after)
	}
}

func TestReference(t *testing.T) {
	f := NewFleet(DefaultSeed)
	ctx := context.Background()
	for _, m := range specs {
		for _, v := range append([]string{""}, m.versions...) {
			b, err := f.Reference(ctx, m.name, v)
			if err != nil {
				t.Fatal(err)
			}
			if b.Len() != ReferenceSize {
				t.Errorf("%s %q: reference has %d rows, want %d", m.name, v, b.Len(), ReferenceSize)
			}
			again, _ := f.Reference(ctx, m.name, v)
			if strings.Join(batchLines(b), "\n") != strings.Join(batchLines(again), "\n") {
				t.Errorf("%s %q: reference not deterministic", m.name, v)
			}
			for i := range b.TS {
				if b.Error[i] || !math.IsNaN(b.LatencyMs[i]) || cell(b.Label, i) == "null" || cell(b.Prediction, i) == "null" {
					t.Fatalf("%s %q row %d: error %v latency %v label %s prediction %s", m.name, v, i, b.Error[i], b.LatencyMs[i], cell(b.Label, i), cell(b.Prediction, i))
				}
			}
			if b.TS[0] != ReferenceTime.UnixNano() {
				t.Errorf("%s: first reference row at %d", m.name, b.TS[0])
			}
		}
	}
	// The pooled fraud-detector reference follows the traffic split.
	b, _ := f.Reference(ctx, "fraud-detector", "")
	n2 := 0
	for _, v := range b.Version {
		if b.Versions[v] == "v2" {
			n2++
		}
	}
	if s := float64(n2) / ReferenceSize; math.Abs(s-0.3) > 5*math.Sqrt(0.3*0.7/ReferenceSize) {
		t.Errorf("pooled reference: v2 share %.3f, want 0.3", s)
	}
	other, _ := NewFleet(1).Reference(ctx, "fraud-detector", "")
	if batchLines(other)[0] == batchLines(b)[0] {
		t.Error("references of different seeds start with the same row")
	}
	if _, err := f.Reference(ctx, "nope", ""); !errors.Is(err, source.ErrUnknownModel) {
		t.Errorf("unknown model: %v", err)
	}
	if _, err := f.Reference(ctx, "fraud-detector", "v7"); !errors.Is(err, source.ErrUnknownModel) {
		t.Errorf("unknown version: %v", err)
	}
}

// TestInferReproducesRecords checks that the outputs stored in records are the toy model's outputs
// on the stored features, also after a JSON round trip of the record.
func TestInferReproducesRecords(t *testing.T) {
	f := NewFleet(DefaultSeed)
	for _, m := range specs {
		n := 0
		err := f.Each(context.Background(), m.name, "", at(13, 0), at(13, 2), func(r Record) error {
			if r.Status != StatusOK {
				return nil
			}
			data, err := r.MarshalJSON()
			if err != nil {
				return err
			}
			var back Record
			if err := back.UnmarshalJSON(data); err != nil {
				return err
			}
			for _, rec := range []Record{r, back} {
				p, s, err := f.Infer(m.name, rec.Version, rec.Features)
				if err != nil {
					return err
				}
				if p != rec.Prediction || (s == nil) != (rec.Score == nil) || (s != nil && *s != *rec.Score) {
					return fmt.Errorf("%s %s: Infer gives %v/%v, the record has %v/%v", m.name, rec.TS, p, s, rec.Prediction, rec.Score)
				}
			}
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < 100 {
			t.Errorf("%s: only %d records checked", m.name, n)
		}
	}
}

func TestInfer(t *testing.T) {
	f := NewFleet(DefaultSeed)
	// Higher amounts in a risky category raise the fraud score; v2 is the default version.
	low, s1, err := f.Infer("fraud-detector", "", map[string]any{"amount": 20.0, "merchant_category": "grocery", "channel": "pos"})
	if err != nil || low != "legit" || s1 == nil {
		t.Fatalf("low-risk: %v %v %v", low, s1, err)
	}
	high, s2, err := f.Infer("fraud-detector", "", map[string]any{"amount": 5000, "merchant_category": "gaming", "channel": "web", "distance_km": 900, "txn_count_24h": int64(12)})
	if err != nil || high != "fraud" || *s2 <= 0.5 {
		t.Fatalf("high-risk: %v %v %v", high, s2, err)
	}
	v1, _, _ := f.Infer("fraud-detector", "v1", map[string]any{"amount": 700, "channel": "web", "merchant_category": "electronics"})
	v2, _, _ := f.Infer("fraud-detector", "v2", map[string]any{"amount": 700, "channel": "web", "merchant_category": "electronics"})
	_, sv1, _ := f.Infer("fraud-detector", "v1", map[string]any{"amount": 700.0})
	_, sv2, _ := f.Infer("fraud-detector", "v2", map[string]any{"amount": 700.0})
	if *sv1 == *sv2 {
		t.Errorf("v1 and v2 give the same score %v (predictions %v, %v)", *sv1, v1, v2)
	}
	// Regressor: numeric prediction, no score, rises with size.
	small, sc, err := f.Infer("price-regressor", "v1", map[string]any{"sqft": 900, "neighborhood": "rural"})
	if err != nil || sc != nil {
		t.Fatalf("regressor: %v %v %v", small, sc, err)
	}
	big, _, _ := f.Infer("price-regressor", "", map[string]any{"sqft": 3000, "neighborhood": "rural"})
	if !(big.(float64) > small.(float64)) {
		t.Errorf("price of 3000 sqft %v not above 900 sqft %v", big, small)
	}
	// Multiclass: the score is the top class probability, at least 1/3.
	cls, s, err := f.Infer("churn-classifier", "", map[string]any{"monthly_charges": 140, "contract": "month-to-month", "support_tickets": 6, "tenure_months": 2})
	if err != nil || cls != "churn" || *s < 1.0/3 {
		t.Errorf("churn: %v %v %v", cls, s, err)
	}
	bad := []struct {
		model string
		in    map[string]any
		msg   string
	}{
		{"fraud-detector", map[string]any{"amount": "big"}, "want a number"},
		{"fraud-detector", map[string]any{"channel": 3.0}, "want a string"},
		{"fraud-detector", map[string]any{"colour": "red"}, `no feature "colour"`},
		{"fraud-detector", map[string]any{"amount": math.Inf(1)}, "infinite"},
		{"fraud-detector", map[string]any{"amount": []int{1}}, "want a number"},
		{"nope", nil, "unknown model"},
	}
	for _, c := range bad {
		if _, _, err := f.Infer(c.model, "", c.in); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Infer(%v): error %v, want one containing %q", c.in, err, c.msg)
		}
	}
}

func TestEachMatchesRecords(t *testing.T) {
	f := NewFleet(DefaultSeed)
	b := records(t, f, "fraud-detector", "v1", at(16, 0), at(16, 3))
	var got []int64
	err := f.Each(context.Background(), "fraud-detector", "v1", at(16, 0), at(16, 3), func(r Record) error {
		if r.Version != "v1" || r.Model != "fraud-detector" || len(r.Features) != 7 {
			return fmt.Errorf("bad record %+v", r)
		}
		got = append(got, r.TS.UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(b.TS) {
		t.Errorf("Each gave %d records, Records %d, or different times", len(got), b.Len())
	}
	stop := errors.New("stop here")
	calls := 0
	err = f.Each(context.Background(), "fraud-detector", "", at(16, 0), at(16, 3), func(Record) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("callback error: %v after %d calls", err, calls)
	}
	if err := f.Each(context.Background(), "nope", "", at(0, 0), at(1, 0), func(Record) error { return nil }); !errors.Is(err, source.ErrUnknownModel) {
		t.Errorf("unknown model: %v", err)
	}
	if err := f.Each(context.Background(), "fraud-detector", "", at(0, 0), at(1, 0), nil); err == nil {
		t.Error("a nil callback accepted")
	}
}

func TestFeatureBuckets(t *testing.T) {
	f := NewFleet(DefaultSeed)
	for _, m := range specs {
		for _, fs := range m.features {
			b, err := f.FeatureBuckets(m.name, fs.name)
			if fs.kind == source.Categorical {
				if err == nil {
					t.Errorf("%s.%s: buckets for a categorical feature", m.name, fs.name)
				}
				continue
			}
			if err != nil || len(b) < 3 || len(b) > 9 {
				t.Errorf("%s.%s: %v, %v", m.name, fs.name, b, err)
			}
			if !sort.Float64sAreSorted(b) {
				t.Errorf("%s.%s: buckets not ascending %v", m.name, fs.name, b)
			}
		}
	}
	// The buckets are the reference deciles: about 10% of the reference at or below the first.
	ref, _ := f.Reference(context.Background(), "fraud-detector", "")
	b, _ := f.FeatureBuckets("fraud-detector", "amount")
	below := 0
	for _, v := range ref.Features["amount"].Num {
		if v <= b[0] {
			below++
		}
	}
	if s := float64(below) / ReferenceSize; math.Abs(s-0.1) > 0.002 {
		t.Errorf("share of the reference at or below the first decile: %.4f", s)
	}
	if _, err := f.FeatureBuckets("nope", "amount"); err == nil {
		t.Error("unknown model accepted")
	}
}

func TestQuantile7(t *testing.T) {
	// numpy.percentile([1, 2, 3, 4, 10], [0, 10, 50, 90, 100]) = [1.0, 1.4, 3.0, 7.6, 10.0]
	x := []float64{1, 2, 3, 4, 10}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {0.1, 1.4}, {0.5, 3}, {0.9, 7.6}, {1, 10}} {
		if got := quantile7(x, c.p); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("quantile7(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if !math.IsNaN(quantile7(nil, 0.5)) {
		t.Error("empty sample")
	}
}
