package dashboards

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo/feastdemo"
	"github.com/modellens/mlmonitoring-datasource/pkg/demo/feastdemo/feastdemotest"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
)

// The feature store dashboard and rules read a Feast feature store: the provisioned data source
// feastDS, whose stores demo-feast fills.
const (
	feastDashboard = "modellens-feature-store"
	feastDS        = "modellens-feast"
)

// TestFeastDashboardAndRule loads the demo's Feast side into a real PostgreSQL and Redis, runs
// every panel query of the feature store dashboard for every demo model (no errors, data in every
// panel, display names filled from the series' labels), and evaluates the "feature view stale"
// rule: quiet before feastdemo.StaleAt (in warning, status 1, at 14:30; ok in the morning and
// after midnight), firing for exactly the stale view after it.
func TestFeastDashboardAndRule(t *testing.T) {
	ctx := context.Background()
	day := runTo.Truncate(24 * time.Hour)
	env := feastdemotest.Start(t, runTo.Add(-4*time.Hour), runTo, day.Add(-2*24*time.Hour))
	models, err := env.Fleet.Models(ctx)
	require.NoError(t, err)

	t.Run("dashboard", func(t *testing.T) {
		h := env.At(t, runTo)
		d := byUID(t, feastDashboard)
		for _, m := range models {
			b := binding{model: m.Name}
			for _, p := range d.AllPanels() {
				if p.Type == "row" {
					continue
				}
				name := fmt.Sprintf("%s/%s/%s", d.UID, m.Name, p.Title)
				var names []string
				var labels []data.Labels
				for _, tg := range p.Targets {
					r := run(t, h, interpolate(t, tg.Raw, b, ""), false)
					require.NoError(t, r.Error, "%s target %s", name, tg.RefID)
					for _, f := range r.Frames {
						for _, fld := range f.Fields {
							names = append(names, fld.Name)
							if fld.Type().Numeric() && fld.Labels != nil {
								labels = append(labels, fld.Labels)
							}
						}
					}
				}
				require.NotEmpty(t, labels, "%s: no data", name)
				if dn := displayNameOf(t, p); dn != "" {
					for _, l := range labels {
						got := strings.TrimSpace(labelRef.ReplaceAllStringFunc(dn, func(s string) string {
							return l[labelRef.FindStringSubmatch(s)[1]]
						}))
						require.NotEmpty(t, got, "%s: display name %q is empty for %v", name, dn, l)
						require.NotContains(t, got, "  ", "%s: display name %q misses a label of %v", name, dn, l)
					}
				}
				for _, ref := range fieldRefs(t, p, nil) {
					require.True(t, slices.ContainsFunc(names, func(n string) bool { return matches(ref, n) }), "%s refers to field %q", name, ref)
				}
			}
		}
	})

	t.Run("stale rule", func(t *testing.T) {
		rule := ruleByUID(t, "modellens-feature-view-stale")
		at := func(when time.Time) []string {
			h := env.At(t, when)
			var out []string
			for _, l := range evaluate(t, h, rule, when) {
				require.Equal(t, query.FreshStatus, l["metric"], "the rule judges the status only: %v", l)
				out = append(out, l["featureView"])
			}
			return out
		}
		for _, off := range []time.Duration{30 * time.Minute, 9 * time.Hour, 12*time.Hour + 30*time.Minute, 14*time.Hour + 30*time.Minute,
			feastdemo.StaleAt - time.Minute, 24*time.Hour + 10*time.Minute} {
			when := day.Add(off)
			require.Empty(t, at(when), "stale rule fired at %s", when)
		}
		for _, off := range []time.Duration{feastdemo.StaleAt + time.Minute, 18 * time.Hour, 23*time.Hour + 50*time.Minute} {
			when := day.Add(off)
			require.Equal(t, []string{feastdemo.StaleView}, at(when), "at %s", when)
		}
	})
}
