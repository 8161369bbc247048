package feastdemo_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo/feastdemo"
	"github.com/modellens/mlmonitoring-datasource/pkg/demo/feastdemo/feastdemotest"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
)

var day = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

func runQuery(t *testing.T, h *query.Handler, q map[string]any, from, to time.Time) backend.DataResponse {
	t.Helper()
	q["refId"] = "A"
	raw, err := json.Marshal(q)
	require.NoError(t, err)
	resp, err := h.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{{
		RefID: "A", QueryType: q["queryType"].(string), JSON: raw, TimeRange: backend.TimeRange{From: from, To: to},
		Interval: time.Minute, MaxDataPoints: 500}}})
	require.NoError(t, err)
	r := resp.Responses["A"]
	require.NoError(t, r.Error)
	return r
}

// values collects the last value of every numeric field by its labels (minus the ones named).
func values(t *testing.T, r backend.DataResponse) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, f := range r.Frames {
		for _, fld := range f.Fields {
			if !fld.Type().Numeric() || fld.Len() == 0 {
				continue
			}
			v, err := fld.FloatAt(fld.Len() - 1)
			require.NoError(t, err)
			out[data.Labels(fld.Labels).String()] = v
		}
	}
	return out
}

func TestIntervalsAndStaleSchedule(t *testing.T) {
	ivs := feastdemo.Intervals(feastdemo.StaleView, day.Add(10*time.Hour), day.Add(24*time.Hour+30*time.Minute))
	require.Equal(t, [][2]time.Time{
		{day.Add(10 * time.Hour), day.Add(11 * time.Hour)},
		{day.Add(11 * time.Hour), day.Add(12 * time.Hour)},
		{day.Add(12 * time.Hour), day.Add(24 * time.Hour)},
	}, ivs)
	require.Len(t, feastdemo.Intervals("fraud_transactions", day, day.Add(24*time.Hour)), 24)
	require.False(t, feastdemo.Stale(day.Add(feastdemo.StaleAt)))
	require.True(t, feastdemo.Stale(day.Add(feastdemo.StaleAt+time.Second)))
	require.True(t, feastdemo.Stale(day.Add(24*time.Hour-time.Second)))
	require.False(t, feastdemo.Stale(day.Add(24*time.Hour)))
}

// TestRegistryDecodes: the registry the demo writes decodes with pkg/source/feast into the views,
// entities, sources and intervals it was built from.
func TestRegistryDecodes(t *testing.T) {
	at := day.Add(15*time.Hour + 30*time.Minute)
	reg, err := feast.DecodeRegistry(feastdemo.Registry(at, 24*time.Hour))
	require.NoError(t, err)
	require.Len(t, reg.Projects, 1)
	require.Equal(t, feastdemo.Project, reg.Projects[0].Name)
	require.Equal(t, at, reg.LastUpdated)
	require.Len(t, reg.FeatureViews, len(feastdemo.Views))
	require.Len(t, reg.FeatureServices, len(feastdemo.Views))
	for _, dv := range feastdemo.Views {
		v, ok := reg.FeatureView(feastdemo.Project, dv.Name)
		require.True(t, ok, dv.Name)
		require.Equal(t, dv.TTL, v.TTL)
		require.True(t, v.Online)
		require.Equal(t, dv.JoinKeys, v.Entities)
		var names []string
		for _, f := range v.Features {
			names = append(names, f.Name)
			require.Equal(t, feast.ValueDouble, f.ValueType)
		}
		require.Equal(t, dv.Features, names)
		jk := reg.JoinKeys(v)
		for i, k := range dv.JoinKeys {
			require.Equal(t, feast.Field{Name: k, ValueType: feast.ValueString}, jk[i])
		}
		require.Equal(t, dv.Table, v.BatchSource.Table)
		require.Equal(t, feastdemo.TimestampField, v.BatchSource.TimestampField)
		require.Equal(t, feastdemo.CreatedField, v.BatchSource.CreatedTimestampColumn)
		require.Equal(t, "CUSTOM_SOURCE", v.BatchSource.Type)
		require.Equal(t, feastdemo.LastMaterialization(dv.Name, at), v.LastMaterialized())
	}
	v, _ := reg.FeatureView(feastdemo.Project, feastdemo.StaleView)
	require.Equal(t, day.Add(feastdemo.StaleStop), v.LastMaterialized())
	v, _ = reg.FeatureView(feastdemo.Project, "price_listings")
	require.Equal(t, day.Add(15*time.Hour), v.LastMaterialized())
	require.Len(t, v.MaterializationIntervals, 24)
}

// TestDemoFeastAnswers loads the demo's Feast side into a real PostgreSQL and Redis and checks
// the known answers: the stale view's freshness status is 0 before its stop, 1 in warning, 2 after
// StaleAt; lookups find exactly the missing entities NOT_FOUND (and the stale view's values
// outside their max age); skew finds the miles in distance_km and nothing else; the monitoring
// rows carry a baseline and batch and log rows.
func TestDemoFeastAnswers(t *testing.T) {
	env := feastdemotest.Start(t, day.Add(12*time.Hour), day.Add(16*time.Hour), day.Add(-3*24*time.Hour))

	status := func(at time.Time) map[string]float64 {
		h := env.At(t, at)
		r := runQuery(t, h, map[string]any{"queryType": "freshness", "output": "latest"}, at.Add(-time.Hour), at)
		out := map[string]float64{}
		for k, v := range values(t, r) {
			for _, dv := range feastdemo.Views {
				if k == (data.Labels{"featureView": dv.Name, "metric": query.FreshStatus}).String() {
					out[dv.Name] = v
				}
			}
		}
		return out
	}
	ok := map[string]float64{"fraud_transactions": 0, "churn_accounts": 0, "price_listings": 0}
	require.Equal(t, ok, status(day.Add(11*time.Hour+59*time.Minute)))
	require.Equal(t, ok, status(day.Add(12*time.Hour+30*time.Minute)))
	require.Equal(t, map[string]float64{"fraud_transactions": 0, "churn_accounts": 1, "price_listings": 0}, status(day.Add(14*time.Hour+30*time.Minute)))
	require.Equal(t, map[string]float64{"fraud_transactions": 0, "churn_accounts": 2, "price_listings": 0}, status(day.Add(feastdemo.StaleAt+time.Minute)))
	require.Equal(t, map[string]float64{"fraud_transactions": 0, "churn_accounts": 2, "price_listings": 0}, status(day.Add(23*time.Hour+50*time.Minute)))
	require.Equal(t, ok, status(day.Add(24*time.Hour+10*time.Minute)))

	// Lookups at 15:30 of the entities in the last hour's records.
	at := day.Add(15*time.Hour + 30*time.Minute)
	h := env.At(t, at)
	got := map[string]map[string]float64{}
	for _, dv := range feastdemo.Views {
		r := runQuery(t, h, map[string]any{"queryType": "lookups", "output": "latest", "model": dv.Model, "featureView": dv.Name}, at.Add(-time.Hour), at)
		got[dv.Name] = map[string]float64{}
		for _, st := range query.LookupStatuses {
			got[dv.Name][st] = values(t, r)[data.Labels{"featureView": dv.Name, "status": st}.String()]
		}
	}
	// 3 of the 18 (merchant_category, channel) entities are "gaming", never materialized.
	require.InDelta(t, 3.0/18, got["fraud_transactions"][query.StatusNotFound], 1e-12)
	require.Zero(t, got["fraud_transactions"][query.StatusOutsideMaxAge])
	require.InDelta(t, 1, got["fraud_transactions"][query.StatusPresent]+got["fraud_transactions"][query.StatusNullValue]+3.0/18, 1e-12)
	require.Equal(t, map[string]float64{query.StatusPresent: 0, query.StatusNotFound: 0, query.StatusNullValue: 0, query.StatusOutsideMaxAge: 1},
		got["churn_accounts"])
	require.Zero(t, got["price_listings"][query.StatusNotFound])
	require.Zero(t, got["price_listings"][query.StatusOutsideMaxAge])

	// Skew over an hour: distance_km differs in every record with a value, nothing else does.
	for _, dv := range feastdemo.Views {
		r := runQuery(t, h, map[string]any{"queryType": "skew", "output": "latest", "model": dv.Model,
			"metrics": []string{"mismatch", "meanAbsDiff", "notFound", "compared"}}, at.Add(-time.Hour), at)
		vals := values(t, r)
		for _, f := range dv.Features {
			l := func(m string) string {
				return data.Labels{"model": dv.Model, "featureView": dv.Name, "feature": f, "metric": m}.String()
			}
			require.Contains(t, vals, l("mismatch"), "%s %v", dv.Name, vals)
			require.Greater(t, vals[l("compared")], 1000.0, l("compared"))
			require.Zero(t, vals[l("notFound")], l("notFound"))
			if dv.Name == feastdemo.SkewView && f == feastdemo.SkewFeature {
				require.Greater(t, vals[l("mismatch")], 0.9, l("mismatch"))
				require.Greater(t, vals[l("meanAbsDiff")], 1.0, l("meanAbsDiff"))
				continue
			}
			require.Zero(t, vals[l("mismatch")], l("mismatch"))
			require.Zero(t, vals[l("meanAbsDiff")], l("meanAbsDiff"))
		}
	}

	// featureStats: batch and log rows per day, a baseline; the batch source's distance_km is in miles.
	r := runQuery(t, h, map[string]any{"queryType": "featureStats", "featureView": feastdemo.SkewView, "features": []string{feastdemo.SkewFeature},
		"metrics": []string{"mean"}, "window": "1d"}, day.Add(-3*24*time.Hour), at)
	vals := values(t, r)
	mean := func(dst, baseline string) float64 {
		for k, v := range vals {
			l, err := data.LabelsFromString(k)
			require.NoError(t, err)
			if l["dataSourceType"] == dst && l["metric"] == "mean" && (l["baseline"] == "true") == (baseline == "true") {
				return v
			}
		}
		t.Fatalf("no %s mean (baseline %s) in %v", dst, baseline, vals)
		return 0
	}
	logMean, batchMean := mean("log", ""), mean("batch", "")
	require.InDelta(t, feastdemo.KmPerMile, logMean/batchMean, 0.01)
	require.False(t, math.IsNaN(mean("batch", "true")))
}
