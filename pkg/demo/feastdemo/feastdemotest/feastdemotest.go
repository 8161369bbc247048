// Package feastdemotest runs the demo's Feast side for tests: a real PostgreSQL (the offline store:
// batch sources and monitoring rows) and Redis (the online store) started by pkg/internal/testdb,
// loaded by package feastdemo, and query handlers reading them as the plugin does.
package feastdemotest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/demo/feastdemo"
	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/offline"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/online"
)

// History is the registry's materialization history.
const History = 24 * time.Hour

// Env is the demo's Feast stores for one test.
type Env struct {
	Fleet        *demo.Fleet
	Pool         *pgxpool.Pool
	Redis        *redis.Client
	RegistryPath string
	Postgres     *testdb.Postgres
	RedisServer  *testdb.Redis
}

// Start starts PostgreSQL and Redis, creates the batch source and monitoring tables, loads the
// batch sources over (from, to] and the monitoring rows of the days from metricsFrom to to's day
// (included, as if that day had ended: panels over a few hours of it have daily rows).
func Start(t testing.TB, from, to, metricsFrom time.Time) *Env {
	t.Helper()
	ctx := context.Background()
	pg := testdb.StartPostgres(t)
	rs := testdb.StartRedis(t)
	pool, err := pgxpool.New(ctx, pg.URL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	e := &Env{Fleet: demo.NewFleet(demo.DefaultSeed), Pool: pool, Redis: rs.Client(t),
		RegistryPath: filepath.Join(t.TempDir(), "registry.db"), Postgres: pg, RedisServer: rs}
	require.NoError(t, feastdemo.CreateTables(ctx, pool))
	_, err = feastdemo.LoadBatch(ctx, pool, e.Fleet, from, to, time.Time{})
	require.NoError(t, err)
	require.NoError(t, feastdemo.WriteMetrics(ctx, pool, e.Fleet, metricsFrom, to.UTC().Truncate(24*time.Hour).Add(24*time.Hour)))
	return e
}

// At writes the registry and the online store as the demo loader leaves them at time at, and
// returns a handler of the demo fleet and these Feast stores whose clocks read at.
func (e *Env) At(t testing.TB, at time.Time) *query.Handler {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, feastdemo.WriteRegistry(e.RegistryPath, at, History))
	require.NoError(t, feastdemo.WriteOnline(ctx, e.Redis, e.Fleet, at))
	reg, err := feast.New(feast.Options{Settings: settings.FeastSettings{Project: feastdemo.Project, RegistryPath: e.RegistryPath}})
	require.NoError(t, err)
	store := online.NewRedisFromClient(e.Redis, feastdemo.Project, feastdemo.KeyVersion)
	clock := func() time.Time { return at }
	return query.New(query.Deps{Demo: e.Fleet, Feast: reg, FeastOnline: online.Freshness{Store: store, Registry: reg},
		FeastLookups: store, FeastOffline: offline.NewFromPool(e.Pool), FeastNow: clock, Now: clock})
}
