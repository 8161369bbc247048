package resources

import (
	"context"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
)

type fakeFeast struct {
	fakeCatalog
	reg *feast.Registry
	err error
}

func (f *fakeFeast) FeastRegistry(context.Context) (*feast.Registry, error) { return f.reg, f.err }

func testRegistry() *feast.Registry {
	return &feast.Registry{
		Entities: []feast.Entity{{Name: "driver", JoinKey: "driver_id", Description: "a driver"}, {Name: "zipcode", JoinKey: "zipcode", ValueType: feast.ValueInt64}},
		FeatureViews: []feast.FeatureView{
			{Name: "zipcode_features", Entities: []string{"zipcode"}, Features: []feast.Field{{Name: "city", ValueType: feast.ValueString}}, Online: true},
			{Name: "driver_hourly_stats", Entities: []string{"driver"}, Online: true, TTL: 36 * time.Hour,
				Features:      []feast.Field{{Name: "conv_rate", ValueType: feast.ValueFloat}, {Name: "trips", ValueType: feast.ValueInt64}},
				EntityColumns: []feast.Field{{Name: "driver_id", ValueType: feast.ValueInt64}},
				BatchSource:   feast.DataSource{Name: "driver_stats", Type: "CUSTOM_SOURCE", Table: "driver_stats", TimestampField: "event_timestamp"},
				MaterializationIntervals: []feast.Interval{
					{Start: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)},
					{Start: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
				}},
		},
	}
}

func TestFeastResources(t *testing.T) {
	h := New(&fakeFeast{reg: testRegistry()})
	code, body := get(t, h, "/feast/featureViews")
	require.Equal(t, 200, code)
	require.JSONEq(t, `[
	 {"name":"driver_hourly_stats","entities":["driver"],"joinKeys":[{"name":"driver_id","type":"INT64"}],
	  "features":[{"name":"conv_rate","type":"FLOAT"},{"name":"trips","type":"INT64"}],"ttlSeconds":129600,"online":true,
	  "batchSource":{"name":"driver_stats","type":"CUSTOM_SOURCE","table":"driver_stats","timestampField":"event_timestamp"},
	  "lastMaterialized":"2026-12-03T00:00:00Z"},
	 {"name":"zipcode_features","entities":["zipcode"],"joinKeys":[{"name":"zipcode","type":"INT64"}],
	  "features":[{"name":"city","type":"STRING"}],"ttlSeconds":0,"online":true,"batchSource":null,"lastMaterialized":null}
	]`, body)

	code, body = get(t, h, "/feast/featureViews/zipcode_features")
	require.Equal(t, 200, code)
	require.Contains(t, body, `"name":"zipcode_features"`)
	code, body = get(t, h, "/feast/featureViews/nope")
	require.Equal(t, 404, code)
	require.Contains(t, body, `feature view not in the Feast registry: \"nope\"`)

	code, body = get(t, h, "/feast/entities")
	require.Equal(t, 200, code)
	require.JSONEq(t, `[{"name":"driver","joinKey":"driver_id","type":"INT64","description":"a driver"},
	 {"name":"zipcode","joinKey":"zipcode","type":"INT64"}]`, body, "an unset entity type comes from the views' entity columns")

	h = New(&fakeFeast{err: backend.DownstreamError(userErr{feast.ErrNotConfigured})})
	code, body = get(t, h, "/feast/featureViews")
	require.Equal(t, 400, code)
	require.Contains(t, body, "no Feast feature store is configured")

	// A catalog without Feast has no Feast routes.
	code, _ = get(t, New(&fakeCatalog{sources: map[string][]source.Model{}}), "/feast/featureViews")
	require.Equal(t, 404, code)
}
