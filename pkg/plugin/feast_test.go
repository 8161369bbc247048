package plugin

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testutil"
)

// feastFixture is Feast's own registry file beside the repository (MODELLENS_SHARED_DIR names
// another shared directory).
func feastFixture(t *testing.T) string {
	dir := os.Getenv("MODELLENS_SHARED_DIR")
	if dir == "" {
		dir = filepath.Join(testutil.RepoRoot(t), "..", "shared")
	}
	p := filepath.Join(dir, "fixtures", "feast", "registry.db")
	_, err := os.Stat(p)
	require.NoError(t, err, "Feast's registry fixture (set MODELLENS_SHARED_DIR for another location)")
	return p
}

// TestFeastDatasource: a data source configured with Feast's registry file answers Save & test,
// the Feast resources and a freshness query; a token never shows.
func TestFeastDatasource(t *testing.T) {
	js, _ := json.Marshal(map[string]any{"feast": map[string]any{"project": "credit_scoring_aws", "registry": map[string]any{"path": feastFixture(t)}}})
	d := newTestDatasource(t, string(js), map[string]string{"feastRegistryToken": secret})
	ctx := context.Background()

	res, err := d.CheckHealth(ctx, &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusOk, res.Status, res.Message)
	require.Equal(t, "OK: Feast registry (project credit_scoring_aws, 3 feature views)", res.Message)

	var got *backend.CallResourceResponse
	err = d.CallResource(ctx, &backend.CallResourceRequest{Method: http.MethodGet, Path: "feast/featureViews/credit_history", URL: "feast/featureViews/credit_history"},
		backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error { got = r; return nil }))
	require.NoError(t, err)
	require.Equal(t, 200, got.Status)
	require.JSONEq(t, `{"name":"credit_history","entities":["dob_ssn"],"joinKeys":[{"name":"dob_ssn","type":"STRING"}],
	 "features":[{"name":"credit_card_due","type":"INT64"},{"name":"mortgage_due","type":"INT64"},{"name":"student_loan_due","type":"INT64"},
	  {"name":"vehicle_loan_due","type":"INT64"},{"name":"hard_pulls","type":"INT64"},{"name":"missed_payments_2y","type":"INT64"},
	  {"name":"missed_payments_1y","type":"INT64"},{"name":"missed_payments_6m","type":"INT64"},{"name":"bankruptcies","type":"INT64"}],
	 "ttlSeconds":777600000,"online":true,
	 "batchSource":{"name":"credit_history","type":"BATCH_FILE","path":"data/credit_history.parquet","timestampField":"event_timestamp","createdTimestampColumn":"created_timestamp"},
	 "lastMaterialized":null}`, string(got.Body))

	now := time.Now()
	resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{
		{RefID: "A", QueryType: "freshness", JSON: []byte(`{"queryType":"freshness","featureView":"zipcode_features","output":"latest"}`),
			TimeRange: backend.TimeRange{From: now.Add(-time.Hour), To: now}},
		{RefID: "B", QueryType: "freshness", JSON: []byte(`{"queryType":"freshness","featureView":"nope"}`),
			TimeRange: backend.TimeRange{From: now.Add(-time.Hour), To: now}},
	}})
	require.NoError(t, err)
	a := resp.Responses["A"]
	require.NoError(t, a.Error)
	require.Len(t, a.Frames, 1, "the ttl; never materialized and no online store: nothing else")
	require.Equal(t, "ttl", a.Frames[0].Fields[0].Labels["metric"])
	require.ErrorContains(t, resp.Responses["B"].Error, `"nope" is not a feature view of project "credit_scoring_aws"`)
	require.Equal(t, backend.ErrorSourceDownstream, resp.Responses["B"].ErrorSource)

	// A bad registry path is a health error naming the setting.
	d = newTestDatasource(t, `{"feast":{"project":"p","registry":{"path":"/nonexistent/registry.db"}}}`, nil)
	res, err = d.CheckHealth(ctx, &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusError, res.Status)
	require.Contains(t, res.Message, "Feast registry: feast registry file: /nonexistent/registry.db does not exist (check feast.registry.path)")
}
