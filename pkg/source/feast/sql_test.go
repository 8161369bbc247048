package feast

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
)

// sqlRegistryDDL creates Feast's SQL registry tables (sdk/python/feast/infra/registry/sql.py at
// f0bc0700): the object name and project_id as the key, last_updated_timestamp in epoch seconds,
// and the whole serialized proto in <kind>_proto.
const sqlRegistryDDL = `
CREATE TABLE projects (project_id VARCHAR(255) PRIMARY KEY, project_name VARCHAR(255) NOT NULL,
  last_updated_timestamp BIGINT NOT NULL, project_proto BYTEA NOT NULL);
CREATE TABLE entities (entity_name VARCHAR(255), project_id VARCHAR(255), last_updated_timestamp BIGINT NOT NULL,
  entity_proto BYTEA NOT NULL, PRIMARY KEY (entity_name, project_id));
CREATE TABLE data_sources (data_source_name VARCHAR(255), project_id VARCHAR(255), last_updated_timestamp BIGINT NOT NULL,
  data_source_proto BYTEA NOT NULL, PRIMARY KEY (data_source_name, project_id));
CREATE TABLE feature_views (feature_view_name VARCHAR(255), project_id VARCHAR(255), last_updated_timestamp BIGINT NOT NULL,
  materialized_intervals BYTEA, feature_view_proto BYTEA NOT NULL, user_metadata BYTEA, PRIMARY KEY (feature_view_name, project_id));
CREATE TABLE feature_services (feature_service_name VARCHAR(255), project_id VARCHAR(255), last_updated_timestamp BIGINT NOT NULL,
  feature_service_proto BYTEA NOT NULL, PRIMARY KEY (feature_service_name, project_id));
CREATE TABLE feast_metadata (project_id VARCHAR(255), metadata_key VARCHAR(50), metadata_value VARCHAR(50) NOT NULL,
  last_updated_timestamp BIGINT NOT NULL, PRIMARY KEY (metadata_key, project_id));
`

// splitRegistry returns the serialized objects of a registry file by Registry field number, as
// Feast's SQL registry stores them one per row.
func splitRegistry(t *testing.T, b []byte) map[protowire.Number][][]byte {
	out := map[protowire.Number][][]byte{}
	require.NoError(t, walk(b, "registry", func(f field) error {
		if f.typ == protowire.BytesType {
			out[f.num] = append(out[f.num], f.bytes)
		}
		return nil
	}))
	return out
}

// TestSQLRegistry fills a real PostgreSQL 15 with the objects of Feast's registry.db in the SQL
// registry's layout (plus one materialization run appended to credit_history's meta, as `feast
// materialize` records it, and another project's view) and reads it back.
func TestSQLRegistry(t *testing.T) {
	pg := testdb.StartPostgres(t)
	ctx := context.Background()
	conn := pg.Conn(t)
	_, err := conn.Exec(ctx, sqlRegistryDDL)
	require.NoError(t, err)

	objs := splitRegistry(t, fixtureBytes(t))
	now := time.Now().Unix()
	ins := func(q string, args ...any) {
		t.Helper()
		_, err := conn.Exec(ctx, q, args...)
		require.NoError(t, err)
	}
	for _, p := range objs[regProjects] {
		ins(`INSERT INTO projects VALUES ($1, $1, $2, $3)`, fixtureProject, now, p)
	}
	for _, e := range objs[regEntities] {
		ent, err := DecodeEntity(e)
		require.NoError(t, err)
		ins(`INSERT INTO entities VALUES ($1, $2, $3, $4)`, ent.Name, fixtureProject, now, e)
	}
	for _, d := range objs[regDataSources] {
		ds, err := DecodeDataSource(d)
		require.NoError(t, err)
		ins(`INSERT INTO data_sources VALUES ($1, $2, $3, $4)`, ds.Name, fixtureProject, now, d)
	}
	for _, v := range objs[regFeatureViews] {
		fv, err := DecodeFeatureView(v)
		require.NoError(t, err)
		if fv.Name == "credit_history" {
			v = append(append([]byte(nil), v...), msg(nil).sub(2, intervalMeta(iv1, iv2))...)
		}
		ins(`INSERT INTO feature_views (feature_view_name, project_id, last_updated_timestamp, feature_view_proto) VALUES ($1, $2, $3, $4)`,
			fv.Name, fixtureProject, now, v)
	}
	for _, s := range objs[regFeatureServices] {
		fs, err := DecodeFeatureService(s)
		require.NoError(t, err)
		ins(`INSERT INTO feature_services VALUES ($1, $2, $3, $4)`, fs.Name, fixtureProject, now, s)
	}
	// Another project's view in the same tables is not read.
	ins(`INSERT INTO feature_views (feature_view_name, project_id, last_updated_timestamp, feature_view_proto) VALUES ($1, $2, $3, $4)`,
		"driver_hourly_stats", "rides", now, []byte(driverView(iv1)))

	fs := settings.FeastSettings{Project: fixtureProject, RegistrySQL: pg.URLWithoutPassword()}
	r, err := New(Options{Settings: fs, RegistryToken: pg.Password, Timeout: 20 * time.Second})
	require.NoError(t, err)
	defer r.Close()
	reg, err := r.Registry(ctx)
	require.NoError(t, err)

	want := fixtureViews()
	want[0].MaterializationIntervals = []Interval{iv1, iv2}
	require.ElementsMatch(t, want, reg.FeatureViews)
	require.ElementsMatch(t, fixtureEntities(), reg.Entities)
	require.ElementsMatch(t, fixtureServices(), reg.FeatureServices)
	require.Len(t, reg.DataSources, 3)
	require.Equal(t, fixtureProject, reg.Projects[0].Name)
	_, v, err := r.FeatureView(ctx, "credit_history")
	require.NoError(t, err)
	require.Equal(t, iv2.End, v.LastMaterialized())

	// Without the projects table (registries written before Feast had projects) the rest is read.
	ins(`DROP TABLE projects`)
	r2, err := New(Options{Settings: fs, RegistryToken: pg.Password})
	require.NoError(t, err)
	defer r2.Close()
	reg, err = r2.Registry(ctx)
	require.NoError(t, err)
	require.Len(t, reg.FeatureViews, 3)

	// A wrong password, a project with nothing, a database without the registry tables.
	bad, err := New(Options{Settings: fs, RegistryToken: "not-the-password"})
	require.NoError(t, err)
	defer bad.Close()
	_, err = bad.Registry(ctx)
	require.ErrorContains(t, err, "feast SQL registry: PostgreSQL refused the login (check the user in feast.registry.sql and the password in feastRegistryToken)")
	require.NotContains(t, err.Error(), "not-the-password")

	other, err := New(Options{Settings: settings.FeastSettings{Project: "nope", RegistrySQL: pg.URLWithoutPassword()}, RegistryToken: pg.Password})
	require.NoError(t, err)
	defer other.Close()
	_, err = other.Registry(ctx)
	require.ErrorContains(t, err, `project "nope" is not in the registry (it has none): check feast.project`)

	ins(`DROP TABLE feature_views`)
	_, err = (&Reader{project: fixtureProject, kind: "SQL registry", load: r2.load, ttl: time.Second, timeout: 10 * time.Second, now: time.Now}).Registry(ctx)
	require.ErrorContains(t, err, "table feature_views does not exist: is feast.registry.sql the database of a Feast SQL registry?")
}
