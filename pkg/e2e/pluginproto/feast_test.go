package pluginproto

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testutil"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/online"
)

// feastFixture is Feast's own registry file (../shared/fixtures/feast/registry.db; MODELLENS_SHARED_DIR
// names another shared directory).
func feastFixture(t *testing.T) string {
	dir := os.Getenv("MODELLENS_SHARED_DIR")
	if dir == "" {
		dir = filepath.Join(testutil.RepoRoot(t), "..", "shared")
	}
	p := filepath.Join(dir, "fixtures", "feast", "registry.db")
	_, err := os.Stat(p)
	require.NoError(t, err, "Feast's registry fixture (set MODELLENS_SHARED_DIR)")
	return p
}

// TestFeastLookupsOverProtocol runs a lookups query through the built plugin, as Grafana does: the
// registry is the file Feast wrote (project credit_scoring_aws, view credit_history keyed by the
// STRING join key dob_ssn, ttl 9000 days), the online store a real Redis filled in Feast's layout.
func TestFeastLookupsOverProtocol(t *testing.T) {
	reg := feastFixture(t)
	rd := testdb.StartRedis(t)
	c := rd.Client(t)
	now := time.Now().UTC()
	key := func(s string) online.EntityKey {
		return online.EntityKey{JoinKeys: []string{"dob_ssn"}, Values: []online.Value{online.String(s)}}
	}
	vals := func(null bool) map[string]online.Value {
		m := map[string]online.Value{}
		for _, f := range []string{"credit_card_due", "mortgage_due", "student_loan_due", "vehicle_loan_due", "hard_pulls",
			"missed_payments_2y", "missed_payments_1y", "missed_payments_6m", "bankruptcies"} {
			m[f] = online.Int64(1)
		}
		if null {
			m["bankruptcies"] = online.Null()
		}
		return m
	}
	require.NoError(t, online.WriteRedis(context.Background(), c, "credit_scoring_aws", online.KeyV3, "credit_history", []online.WriteRow{
		{Key: key("19530219_5179"), Values: vals(false), EventTime: now.Add(-time.Hour)},
		{Key: key("19520816_8737"), Values: vals(true), EventTime: now.Add(-time.Hour)},
	}, 0))

	p := startPlugin(t)
	pc := pluginContext("feast-e2e", map[string]any{"feast": map[string]any{
		"project":     "credit_scoring_aws",
		"registry":    map[string]any{"path": reg},
		"onlineStore": map[string]any{"type": "redis", "address": rd.Addr},
	}}, true)
	health := p.checkHealth(t, pc)
	require.Equal(t, backend.HealthStatusOk, health.Status, health.Message)
	require.Contains(t, health.Message, "Feast online store")

	resp := p.query(t, pc, nil, now.Add(-time.Hour), now, map[string]map[string]any{
		"A": {"queryType": "lookups", "featureView": "credit_history", "output": "latest",
			"entities": []any{map[string]any{"dob_ssn": "19530219_5179"}, map[string]any{"dob_ssn": "19520816_8737"},
				map[string]any{"dob_ssn": "00000000_0000"}}},
		"B": {"queryType": "lookups", "featureView": "no_such_view", "entities": []any{map[string]any{"dob_ssn": "x"}}},
	})
	a := resp.Responses["A"]
	require.NoError(t, a.Error)
	got := map[string]float64{}
	for _, f := range a.Frames {
		require.Equal(t, data.FrameTypeNumericMulti, f.Meta.Type)
		v := f.Fields[0]
		got[v.Labels["status"]] = v.At(0).(float64)
	}
	// 3 entities × 9 features: 17 PRESENT, 1 NULL_VALUE, 9 NOT_FOUND.
	require.InDelta(t, 17.0/27, got["PRESENT"], 1e-12)
	require.InDelta(t, 1.0/27, got["NULL_VALUE"], 1e-12)
	require.InDelta(t, 9.0/27, got["NOT_FOUND"], 1e-12)
	require.Equal(t, 0.0, got["OUTSIDE_MAX_AGE"])
	b := resp.Responses["B"]
	require.Error(t, b.Error)
	require.Equal(t, backend.ErrorSourceDownstream, b.ErrorSource)
	require.Contains(t, b.Error.Error(), "no_such_view")
}
