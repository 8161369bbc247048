package query

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
)

// TestPersistenceFewerFalseAlertsSameDelay is the alerting scenario of `persistence` on the demo
// fleet: an alert rule evaluated every 3 minutes on fraud-detector's amount with 1-minute drift
// windows (psi and status, output latest), firing when status >= 1 (psi >= 0.1). Rule A reads the
// last window (k = 1); rule B asks persistence {"windows": 3}, so it reads the three windows of
// the evaluation interval and fires only when all three are beyond the threshold. Over three
// healthy nights (00:00–06:00 UTC, no drift in the demo) every firing is a false alert; the drift
// starts at 06:00 (demo.DriftStart), and the detection delay is the first firing after it. Rule C
// is rule A with significance: the status needs the PSI's p-value below 0.15 as well.
func TestPersistenceFewerFalseAlertsSameDelay(t *testing.T) {
	h := demoHandler()
	fire := func(t *testing.T, end time.Time, k int) bool {
		q := map[string]any{"queryType": "drift", "model": "fraud-detector", "features": []string{"amount"},
			"methods": []string{"psi", "status"}, "output": "latest", "window": "1m"}
		if k > 1 {
			q["persistence"] = map[string]any{"windows": k}
		}
		if k == 0 { // rule C: one window, with significance
			q["significance"] = true
		}
		r := run(h, q, end.Add(-3*time.Minute), end, time.Minute)
		requireOK(t, r)
		st := seriesOf(t, byLabels(t, r.Frames), "method=status")
		require.Len(t, st, 1)
		return st[0] >= 1
	}
	falseA, falseB, falseC, evals := 0, 0, 0, 0
	for day := 0; day < 3; day++ {
		night := day0.AddDate(0, 0, day)
		for end := night.Add(3 * time.Minute); end.Before(night.Add(demo.DriftStart)); end = end.Add(3 * time.Minute) {
			evals++
			if fire(t, end, 1) {
				falseA++
			}
			if fire(t, end, 3) {
				falseB++
			}
			if fire(t, end, 0) {
				falseC++
			}
		}
		// Detection delay: the first evaluation after the onset that fires.
		onset := night.Add(demo.DriftStart)
		delay := func(k int) time.Duration {
			for end := onset.Add(3 * time.Minute); end.Before(onset.Add(time.Hour)); end = end.Add(3 * time.Minute) {
				if fire(t, end, k) {
					return end.Sub(onset)
				}
			}
			return time.Hour
		}
		dA, dB, dC := delay(1), delay(3), delay(0)
		require.Equal(t, 3*time.Minute, dA, "day %d: delay of k = 1", day)
		require.Equal(t, dA, dB, "day %d: delay of k = 3", day)
		require.Equal(t, dA, dC, "day %d: delay with significance", day)
	}
	t.Logf("healthy nights: %d evaluations, false alerts: k=1 %d, k=3 %d, k=1 with significance %d", evals, falseA, falseB, falseC)
	require.Equal(t, 3*119, evals)
	require.Greater(t, falseA, 10, "the 1-minute windows must be noisy enough at night for the comparison to mean something")
	require.LessOrEqual(t, 4*falseB, falseA, "persistence must cut the false alerts at least fourfold")
	// Significance gates psi >= 0.1 with psi_pvalue < 0.15: a 1-minute window's PSI of 0.1 is
	// mostly noise at night's few records.
	require.Less(t, falseC, falseA/2, "significance must cut the false alerts of small windows")
}
