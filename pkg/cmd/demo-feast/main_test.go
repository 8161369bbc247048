package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/demo/feastdemo"
	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
)

const testURL = "postgres://modellens@localhost:5432/modellens?sslmode=disable"

func TestParseFlags(t *testing.T) {
	base := []string{"-postgres", testURL, "-redis", "localhost:6379", "-registry", "/data/registry.db"}
	c, err := parseFlags(base, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 24*time.Hour, c.backfill)
	require.Equal(t, 14, c.metricsDays)
	require.Zero(t, c.follow)
	for _, extra := range [][]string{
		{"-postgres", "postgres://u:secret@h/db"},
		{"-redis", "localhost"},
		{"-registry", "registry.db"},
		{"-backfill", "10m"},
		{"-metrics-days", "-1"},
		{"-follow", "-1s"},
		{"-rate", "0"},
		{"-end", "2026-03-10T00:00:00Z", "-follow", "1m"},
		{"extra"},
	} {
		_, err := parseFlags(append(append([]string(nil), base...), extra...), io.Discard)
		require.Error(t, err, "%v", extra)
	}
	_, err = parseFlags([]string{"-redis", "localhost:6379", "-registry", "/r.db"}, io.Discard)
	require.Error(t, err)
}

// TestRunLoadsTheStores runs the loader once against a real PostgreSQL and Redis: the batch
// sources hold the range's rows, the monitoring table the days' rows and baselines, Redis the
// views' entities, and the registry file decodes with the views materialized up to -end.
func TestRunLoadsTheStores(t *testing.T) {
	pg := testdb.StartPostgres(t)
	rs := testdb.StartRedis(t)
	t.Setenv("PGPASSWORD", pg.Password)
	end := time.Date(2026, 3, 10, 13, 30, 0, 0, time.UTC)
	c := config{url: pg.URLWithoutPassword(), redis: rs.Addr, registry: filepath.Join(t.TempDir(), "registry.db"),
		seed: 42, rate: 1, backfill: 2 * time.Hour, metricsDays: 1, end: end}
	require.NoError(t, run(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now))
	// Again: the same rows, not twice as many.
	require.NoError(t, run(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now))

	ctx := context.Background()
	conn := pg.Conn(t)
	var n int64
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM feast_fraud_transactions`).Scan(&n))
	want, err := demo.NewFleet(42).Records(ctx, source.RecordsRequest{Model: "fraud-detector", Start: end.Add(-2 * time.Hour), End: end})
	require.NoError(t, err)
	require.Equal(t, int64(want.Len()), n, "one row per record (no join key is ever null)")
	var first, last time.Time
	require.NoError(t, conn.QueryRow(ctx, `SELECT min(event_timestamp), max(event_timestamp) FROM feast_churn_accounts`).Scan(&first, &last))
	require.True(t, first.After(end.Add(-2*time.Hour)) && !last.After(end), "%s %s", first, last)
	// Per view and feature: one baseline, one batch and one log row for the day before end.
	var rows, baselines int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE is_baseline) FROM feast_monitoring_feature_metrics
		WHERE project_id = $1`, feastdemo.Project).Scan(&rows, &baselines))
	features := 0
	for _, v := range feastdemo.Views {
		features += len(v.Features)
	}
	require.Equal(t, 3*features, rows)
	require.Equal(t, features, baselines)

	keys, err := rs.Client(t).DBSize(ctx).Result()
	require.NoError(t, err)
	require.Equal(t, int64(18-3+9+16), keys, "fraud 18 entities but the 3 gaming ones, churn 9, price 16")

	b, err := os.ReadFile(c.registry)
	require.NoError(t, err)
	reg, err := feast.DecodeRegistry(b)
	require.NoError(t, err)
	v, ok := reg.FeatureView(feastdemo.Project, feastdemo.StaleView)
	require.True(t, ok)
	require.Equal(t, end.Truncate(24*time.Hour).Add(feastdemo.StaleStop), v.LastMaterialized())
	v, _ = reg.FeatureView(feastdemo.Project, "price_listings")
	require.Equal(t, end.Truncate(time.Hour), v.LastMaterialized())
	require.Len(t, v.MaterializationIntervals, 2)
}
