package query

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
)

// countAtLeast counts the points of each series (by label key) whose value is >= min.
func countAtLeast(t *testing.T, h *Handler, q map[string]any, from, to time.Time, step time.Duration, min float64) map[string]int {
	t.Helper()
	r := run(h, q, from, to, step)
	requireOK(t, r)
	out := map[string]int{}
	for k, v := range byLabels(t, r.Frames) {
		for _, x := range v {
			if x >= min {
				out[k]++
			}
		}
	}
	return out
}

// TestDriftOffsetReferenceDailyCycle runs drift over two days of the demo fleet, whose inputs
// follow a daily cycle (amount and merchant_category of fraud-detector shift every day from
// demo.DriftStart, 06:00 UTC, to midnight: the model's normal day). Hourly points from 00:00 of day
// one to 00:00 of day three (49 points, each the hour ending there):
//   - against the dataset reference every daytime hour is flagged: the point at 00:00 (23:00–24:00
//     of the day before) and the 18 points 07:00..24:00 of each day: 1 + 18 + 18 = 37;
//   - against the same hour one day earlier (offset 1d) none is: the cycle is not drift;
//   - against the same hour 6 h earlier (offset 6h), the hours whose reference lies on the other
//     side of a phase change are flagged: 01:00–06:00 compare night with the previous evening and
//     07:00–12:00 day with night, 12 points a day: 24.
func TestDriftOffsetReferenceDailyCycle(t *testing.T) {
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed), References: refstats.New(time.Hour), MaxSamples: 2_000_000})
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	flagged := func(ref map[string]any) map[string]int {
		q := map[string]any{"queryType": "drift", "model": "fraud-detector", "features": []string{"amount", "merchant_category", "distance_km"},
			"methods": []string{"psi", "status"}, "window": "1h"}
		if ref != nil {
			q["reference"] = ref
		}
		got := countAtLeast(t, h, q, day, day.Add(48*time.Hour), time.Hour, 2)
		out := map[string]int{}
		for k, n := range got {
			if strings.Contains(k, "method=status") {
				out[strings.Split(k, ",")[0]] = n
			}
		}
		return out
	}
	require.Equal(t, map[string]int{"feature=amount": 37, "feature=merchant_category": 37}, flagged(nil))
	require.Equal(t, map[string]int{}, flagged(map[string]any{"kind": "offset", "offset": "1d"}))
	require.Equal(t, map[string]int{"feature=amount": 24, "feature=merchant_category": 24}, flagged(map[string]any{"kind": "offset", "offset": "6h"}))

	// The reference's notice says what was compared.
	r := run(h, map[string]any{"queryType": "drift", "model": "fraud-detector", "features": []string{"amount"}, "output": "latest",
		"reference": map[string]any{"kind": "offset", "offset": "7d"}}, day, day.Add(time.Hour), time.Minute)
	requireOK(t, r)
	require.Contains(t, notices(r.Frames), "reference: model fraud-detector, the same window 7d earlier")
	require.Contains(t, notices(r.Frames), "from 2026-02-23T00:00:00Z to 2026-02-23T01:00:00Z")
}

// TestDriftVersionReferenceCanary compares fraud-detector v2 with v1 in the same windows: both
// versions see the same inputs (the fleet draws features independently of the version), so no
// input feature drifts between them, while v2's own model (other coefficients, a learnt
// interaction) moves the score: the canary question "does v2 behave like v1?".
func TestDriftVersionReferenceCanary(t *testing.T) {
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed), MaxSamples: 2_000_000})
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	q := map[string]any{"queryType": "drift", "model": "fraud-detector", "version": "v2", "window": "6h",
		"features": []string{"amount", "distance_km", "score"}, "methods": []string{"psi", "ks_pvalue"},
		"reference": map[string]any{"kind": "version", "version": "v1"}}
	r := run(h, q, day.Add(6*time.Hour), day.Add(24*time.Hour), 6*time.Hour)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	for k, v := range got {
		require.Len(t, v, 4, k)
		for _, x := range v {
			// Measured: input psi 0.0002–0.001, score psi 0.023–0.042 (ks p-value < 1e-10).
			switch {
			case strings.Contains(k, "feature=score") && strings.Contains(k, "method=psi"):
				require.Greater(t, x, 0.02, k) // the score moved
			case strings.Contains(k, "feature=score") && strings.Contains(k, "method=ks_pvalue"):
				require.Less(t, x, 1e-6, k) // and significantly so
			case strings.Contains(k, "method=psi") && !strings.Contains(k, "feature=prediction"):
				require.Less(t, x, 0.005, k) // same inputs
			}
		}
	}
	require.Contains(t, notices(r.Frames), "reference: model fraud-detector version v2, version v1 in the same window")
	// Each version against v1 ("*"): v1 against itself has no drift at all.
	q["version"] = "*"
	q["output"] = "latest"
	q["features"] = []string{"score"}
	q["methods"] = []string{"psi"}
	r = run(h, q, day.Add(6*time.Hour), day.Add(12*time.Hour), time.Minute)
	requireOK(t, r)
	got = byLabels(t, r.Frames)
	require.Equal(t, 0.0, got["feature=score, method=psi, model=fraud-detector, version=v1"][0])
	require.Greater(t, got["feature=score, method=psi, model=fraud-detector, version=v2"][0], 0.02)
	// The table and the distribution use the same reference.
	q["output"] = "table"
	q["version"] = "v2"
	r = run(h, q, day.Add(6*time.Hour), day.Add(12*time.Hour), time.Minute)
	require.NoError(t, r.Error)
	require.Equal(t, "score", r.Frames[0].Fields[2].At(0))
	psi := r.Frames[0].Fields[4]
	require.Equal(t, "psi", psi.Name)
	require.InDelta(t, got["feature=score, method=psi, model=fraud-detector, version=v2"][0], psi.At(0), 1e-12)
	q["queryType"] = "distribution"
	delete(q, "output")
	delete(q, "methods")
	r = run(h, q, day.Add(6*time.Hour), day.Add(12*time.Hour), time.Minute)
	require.NoError(t, r.Error)
	require.Contains(t, notices(r.Frames), "version v1 in the same window")
}

func TestShiftedReferenceErrors(t *testing.T) {
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed)})
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		q    map[string]any
		from time.Time
		want string
	}{
		{"no offset", map[string]any{"reference": map[string]any{"kind": "offset"}}, day, "needs reference.offset"},
		{"bad offset", map[string]any{"reference": map[string]any{"kind": "offset", "offset": "a week"}}, day, "is not a duration"},
		{"zero offset", map[string]any{"reference": map[string]any{"kind": "offset", "offset": "0d"}}, day, "must be a positive duration"},
		{"negative offset", map[string]any{"reference": map[string]any{"kind": "offset", "offset": "-1h"}}, day, "must be a positive duration"},
		{"negative days", map[string]any{"reference": map[string]any{"kind": "offset", "offset": "-1d"}}, day, "must be a positive duration"},
		{"offset too long", map[string]any{"reference": map[string]any{"kind": "offset", "offset": "400y"}}, day, "is not a duration"},
		{"offset before 1677", map[string]any{"reference": map[string]any{"kind": "offset", "offset": "200y"}},
			time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC), "reaches before 1677-09-21"},
		{"offset with from", map[string]any{"reference": map[string]any{"kind": "offset", "offset": "1d", "from": "now-1d"}}, day, "apply only to reference.kind \"window\""},
		{"version with offset", map[string]any{"reference": map[string]any{"kind": "version", "version": "v1", "offset": "1d"}}, day, "reference.offset applies only"},
		{"no version", map[string]any{"reference": map[string]any{"kind": "version"}}, day, "needs reference.version"},
		{"wildcard version", map[string]any{"reference": map[string]any{"kind": "version", "version": "*"}}, day, "must name one version"},
		{"unknown version", map[string]any{"reference": map[string]any{"kind": "version", "version": "v9"}}, day, `has no version "v9"`},
		{"itself", map[string]any{"version": "v1", "reference": map[string]any{"kind": "version", "version": "v1"}}, day, "compared with itself"},
		{"not for latency", map[string]any{"queryType": "latency", "reference": map[string]any{"kind": "offset", "offset": "1d"}}, day, "applies to drift and distribution"},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := map[string]any{"queryType": "drift", "model": "fraud-detector", "features": []string{"amount"}}
			for k, v := range c.q {
				q[k] = v
			}
			r := run(h, q, c.from, c.from.Add(time.Hour), time.Minute)
			require.Error(t, r.Error)
			require.Contains(t, r.Error.Error(), c.want)
		})
	}
}
