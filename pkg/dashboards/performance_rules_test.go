package dashboards

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
)

// TestAccuracyRuleFiresOnTheDemoIncident evaluates the accuracy rule as Grafana would at each
// time, with the labels the demo fleet has delivered by then (a handler whose clock is the
// evaluation time): during the fraud detector's known quality incident (demo.FraudDegraded, from
// demo.DriftStart to midnight UTC) it fires for the realised accuracy of both versions — not for
// the CBPE estimates, which cannot see the new fraud pattern; before the incident it stays quiet,
// from 02:00 (when its 2-hour window no longer holds the previous evening) to 06:00 on three days.
func TestAccuracyRuleFiresOnTheDemoIncident(t *testing.T) {
	var rule Rule
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			if r.UID == "modellens-accuracy" {
				rule = r
			}
		}
	}
	require.Equal(t, "modellens-accuracy", rule.UID)
	fleet := demo.NewFleet(demo.DefaultSeed)
	at := func(when time.Time) []string {
		h := query.New(query.Deps{Demo: fleet, Now: func() time.Time { return when }})
		var out []string
		for _, l := range evaluate(t, h, rule, when) {
			key := l["model"] + "/" + l["version"]
			if e, ok := l["estimate"]; ok {
				key += "/" + e
			}
			out = append(out, key)
		}
		slices.Sort(out)
		return out
	}
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	for d := 0; d < 3; d++ {
		// From 02:00 the rule's 2-hour window holds no record of the previous evening's incident.
		for off := 2 * time.Hour; off <= demo.DriftStart; off += 20 * time.Minute {
			when := day.Add(time.Duration(d)*24*time.Hour + off)
			require.False(t, demo.FraudDegraded(when.Add(-2*time.Hour)) || demo.FraudDegraded(when.Add(-time.Second)))
			require.Empty(t, at(when), "accuracy rule fired at %s, before the incident", when)
		}
	}
	for _, off := range []time.Duration{8 * time.Hour, 12 * time.Hour, 18 * time.Hour, 23*time.Hour + 30*time.Minute} {
		when := day.Add(off)
		require.True(t, demo.FraudDegraded(when))
		require.Equal(t, []string{"fraud-detector/v1", "fraud-detector/v2"}, at(when), "at %s", when)
	}
	// The query really carries the estimates (they stay above the threshold).
	h := query.New(query.Deps{Demo: fleet, Now: func() time.Time { return day.Add(12 * time.Hour) }})
	raw, err := rule.Data[0].ModelJSON()
	require.NoError(t, err)
	saved := [2]time.Time{runFrom, runTo}
	runFrom, runTo = day.Add(10*time.Hour), day.Add(12*time.Hour)
	defer func() { runFrom, runTo = saved[0], saved[1] }()
	resp := run(t, h, raw, true)
	require.NoError(t, resp.Error)
	estimates := 0
	for _, f := range resp.Frames {
		for _, fld := range f.Fields {
			if fld.Labels["estimate"] == query.EstimateCBPE {
				estimates++
				v, err := fld.FloatAt(0)
				require.NoError(t, err)
				require.Greater(t, v, 0.85)
			}
		}
	}
	require.Equal(t, 2, estimates)
}

// TestPerformanceDashboardQualityPanels: the performance dashboard shows realised and
// CBPE-estimated quality, label coverage and delay, and a quality table.
func TestPerformanceDashboardQualityPanels(t *testing.T) {
	d := byUID(t, "modellens-performance")
	acc := targetQuery(t, panelByTitle(t, d, `^Accuracy`), 0)
	require.Equal(t, query.TypePerformance, acc.QueryType)
	require.Contains(t, acc.Metrics, "accuracy")
	require.True(t, acc.Estimated)
	require.NotEmpty(t, acc.PositiveClass)
	require.Equal(t, []string{"labelCoverage"}, targetQuery(t, panelByTitle(t, d, `^Label coverage`), 0).Metrics)
	require.Equal(t, []string{"labelDelay"}, targetQuery(t, panelByTitle(t, d, `^Label delay`), 0).Metrics)
	tbl := targetQuery(t, panelByTitle(t, d, `^Quality over the time range`), 0)
	require.Equal(t, query.OutputTable, tbl.Output)
	require.True(t, tbl.Estimated)
}
