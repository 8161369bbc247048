package query

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
)

// TestEndpointsDriftStatus runs the endpoints table on the demo fleet, whose inputs drift every day
// from demo.DriftStart (06:00 UTC): before it no model's drift status is drift (a warning may show:
// at night churn-classifier's tenure_months runs a little low, wasserstein_norm ≈ 0.06), after it
// every model's is drift. The p-value tests are left out of this status on purpose: with them, about a
// third of the healthy hours show a model as drifting (thousands of records per hour make trivial
// differences significant, over seven features at once).
func TestEndpointsDriftStatus(t *testing.T) {
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed), References: refstats.New(time.Hour)})
	statuses := func(to time.Time) []any {
		r := run(h, map[string]any{"queryType": "endpoints"}, to.Add(-time.Hour), to, time.Minute)
		require.NoError(t, r.Error)
		f := r.Frames[0]
		col := -1
		for i, fl := range f.Fields {
			if fl.Name == "drift status" {
				col = i
			}
		}
		require.GreaterOrEqual(t, col, 0)
		out := make([]any, f.Rows())
		for i := range out {
			out[i] = f.Fields[col].At(i)
		}
		return out
	}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for hh := 1; hh <= 6; hh++ {
		for _, st := range statuses(day.Add(time.Duration(hh) * time.Hour)) {
			require.Contains(t, []any{"ok", "warning"}, st, "%02d:00, before the drift starts", hh)
		}
	}
	require.Equal(t, []any{"ok", "ok", "ok"}, statuses(day.Add(5*time.Hour)))
	for _, hh := range []int{8, 15, 22} {
		require.Equal(t, []any{"drift", "drift", "drift"}, statuses(day.Add(time.Duration(hh)*time.Hour)), "%02d:00, drifting", hh)
	}
}
