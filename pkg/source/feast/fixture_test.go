package feast

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testutil"
)

// fixturePath is Feast's own registry file, ../shared/fixtures/feast/registry.db beside the
// repository (MODELLENS_SHARED_DIR names another shared directory, for a checkout elsewhere). It is
// Feast's data (Apache-2.0) and stays out of this repository; a missing fixture fails the test.
func fixturePath(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("MODELLENS_SHARED_DIR")
	if dir == "" {
		dir = filepath.Join(testutil.RepoRoot(t), "..", "shared")
	}
	p := filepath.Join(dir, "fixtures", "feast", "registry.db")
	_, err := os.Stat(p)
	require.NoError(t, err, "Feast's registry fixture (../shared/fixtures/feast/registry.db; set MODELLENS_SHARED_DIR for another location)")
	return p
}

func fixtureBytes(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(fixturePath(t))
	require.NoError(t, err)
	require.Len(t, b, 10410, "the fixture is feast-dev/feast ui/public/registry.db at f0bc0700 (10,410 bytes)")
	return b
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func fields(vt ValueType, names ...string) []Field {
	out := make([]Field, len(names))
	for i, n := range names {
		out[i] = Field{Name: n, ValueType: vt}
	}
	return out
}

const fixtureProject = "credit_scoring_aws"

// fixtureViews are the feature views of Feast's registry.db, as its protobuf holds them
// (decoded independently with a generic wire dump: field numbers only).
func fixtureViews() []FeatureView {
	tags := func(date, exps string) map[string]string {
		return map[string]string{"date_added": date, "access_group": "feast-team@feast.ai", "experiments": exps}
	}
	file := func(name, path string) DataSource {
		return DataSource{Name: name, Type: "BATCH_FILE", Class: "feast.infra.offline_stores.file_source.FileSource",
			Path: path, TimestampField: "event_timestamp", CreatedTimestampColumn: "created_timestamp"}
	}
	return []FeatureView{
		{
			Name: "credit_history", Project: fixtureProject, Entities: []string{"dob_ssn"},
			Features: fields(ValueInt64, "credit_card_due", "mortgage_due", "student_loan_due", "vehicle_loan_due",
				"hard_pulls", "missed_payments_2y", "missed_payments_1y", "missed_payments_6m", "bankruptcies"),
			EntityColumns: fields(ValueString, "dob_ssn"),
			TTL:           777600000 * time.Second, Online: true,
			BatchSource: file("credit_history", "data/credit_history.parquet"),
			Created:     ts("2024-11-20T16:10:12.904918Z"), LastUpdated: ts("2024-11-20T16:10:12.904918Z"),
			Tags: tags("2022-02-6", "experiment-A"),
		},
		{
			Name: "zipcode_features", Project: fixtureProject, Entities: []string{"zipcode"},
			Features: append(fields(ValueString, "city", "state", "location_type"),
				fields(ValueInt64, "tax_returns_filed", "population", "total_wages")...),
			EntityColumns: fields(ValueInt64, "zipcode"),
			TTL:           315360000 * time.Second, Online: true,
			BatchSource: file("zipcode", "data/zipcode_table.parquet"),
			Created:     ts("2024-11-20T16:10:12.905252Z"), LastUpdated: ts("2024-11-20T16:10:12.905252Z"),
			Tags: tags("2022-02-7", "experiment-A,experiment-B,experiment-C"),
		},
		{
			Name: "zipcode_money_features", Project: fixtureProject, Entities: []string{"zipcode"},
			Features:      fields(ValueInt64, "tax_returns_filed", "total_wages"),
			EntityColumns: fields(ValueInt64, "zipcode"),
			TTL:           315360000 * time.Second, Online: true,
			BatchSource: file("zipcode", "data/zipcode_table.parquet"),
			Created:     ts("2024-11-20T16:10:12.905564Z"), LastUpdated: ts("2024-11-20T16:10:12.905564Z"),
			Tags: tags("2022-02-7", "experiment-A,experiment-B,experiment-C"),
		},
	}
}

func fixtureEntities() []Entity {
	return []Entity{
		{Name: "__dummy", Project: fixtureProject, JoinKey: "__dummy_id"},
		{Name: "zipcode", Project: fixtureProject, JoinKey: "zipcode", Description: "A zipcode"},
		{Name: "dob_ssn", Project: fixtureProject, JoinKey: "dob_ssn", Description: "Date of birth and last four digits of social security number"},
	}
}

func fixtureServices() []FeatureService {
	zip := FeatureViewProjection{FeatureView: "zipcode_features", Features: append(fields(ValueString, "city", "state", "location_type"),
		fields(ValueInt64, "tax_returns_filed", "population", "total_wages")...)}
	credit3 := FeatureViewProjection{FeatureView: "credit_history", Features: fields(ValueInt64, "mortgage_due", "credit_card_due", "missed_payments_1y")}
	return []FeatureService{
		{Name: "credit_score_v2", Project: fixtureProject, Description: "Credit scoring model", Features: []FeatureViewProjection{credit3, zip}},
		{Name: "zipcode_model", Project: fixtureProject, Description: "Location model", Features: []FeatureViewProjection{zip}},
		{Name: "zipcode_model_v2", Project: fixtureProject, Description: "Location model", Features: []FeatureViewProjection{
			{FeatureView: "zipcode_money_features", Features: fields(ValueInt64, "tax_returns_filed", "total_wages")}}},
		{Name: "credit_score_v3", Project: fixtureProject, Description: "Credit scoring model", Features: []FeatureViewProjection{credit3, zip,
			{FeatureView: "transaction_gt_last_credit_card_due", Features: fields(ValueBool, "transaction_gt_last_credit_card_due")}}},
		{Name: "credit_score_v1", Project: fixtureProject, Description: "Credit scoring model", Features: []FeatureViewProjection{
			{FeatureView: "credit_history", Features: fields(ValueInt64, "credit_card_due", "missed_payments_1y")}, zip}},
	}
}

// TestFixtureRegistry decodes the registry Feast itself wrote and asserts its whole content.
func TestFixtureRegistry(t *testing.T) {
	r, err := DecodeRegistry(fixtureBytes(t))
	require.NoError(t, err)
	require.Equal(t, []Project{{Name: fixtureProject, Created: ts("2024-11-20T16:10:12.868329Z"), LastUpdated: ts("2024-11-20T16:10:12.868329Z")}}, r.Projects)
	require.Equal(t, fixtureEntities(), r.Entities)
	require.Equal(t, fixtureViews(), r.FeatureViews)
	require.Equal(t, fixtureServices(), r.FeatureServices)
	require.Equal(t, "1607e20e-dc39-45a8-9e5b-ec52ba7176ef", r.VersionID)
	require.Equal(t, ts("2024-11-20T16:10:12.908567Z"), r.LastUpdated)
	require.Len(t, r.DataSources, 3)
	require.Equal(t, []string{"zipcode", "transaction", "credit_history"}, []string{r.DataSources[0].Name, r.DataSources[1].Name, r.DataSources[2].Name})
	require.Equal(t, "REQUEST_SOURCE", r.DataSources[1].Type)
	require.Equal(t, fixtureProject, r.DataSources[2].Project)

	// The views were never materialized: no interval, so no last materialization.
	v, ok := r.FeatureView(fixtureProject, "credit_history")
	require.True(t, ok)
	require.True(t, v.LastMaterialized().IsZero())
	// The entities leave value_type unset: the join keys' types come from the entity columns.
	require.Equal(t, []Field{{Name: "dob_ssn", ValueType: ValueString}}, r.JoinKeys(v))
	v, _ = r.FeatureView(fixtureProject, "zipcode_features")
	require.Equal(t, []Field{{Name: "zipcode", ValueType: ValueInt64}}, r.JoinKeys(v))
	require.Equal(t, []string{"credit_history", "zipcode_features", "zipcode_money_features"}, r.FeatureViewNames())
}
