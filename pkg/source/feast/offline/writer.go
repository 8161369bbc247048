package offline

import (
	"context"
	"math"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Execer is a pgx connection or pool.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// EnsureMonitoringTables creates Feast's per-feature monitoring table as Feast's PostgreSQL
// monitoring store does (sdk/python/feast/infra/offline_stores/contrib/postgres_offline_store,
// ensure_tables), for the demo and tests.
func EnsureMonitoringTables(ctx context.Context, db Execer) error {
	_, err := db.Exec(ctx, `CREATE TABLE IF NOT EXISTS feast_monitoring_feature_metrics (
		project_id        VARCHAR(255) NOT NULL,
		feature_view_name VARCHAR(255) NOT NULL,
		feature_name      VARCHAR(255) NOT NULL,
		metric_date       DATE         NOT NULL,
		granularity       VARCHAR(20)  NOT NULL DEFAULT 'daily',
		data_source_type  VARCHAR(50)  NOT NULL DEFAULT 'batch',
		computed_at       TIMESTAMPTZ  NOT NULL DEFAULT NOW(),
		is_baseline       BOOLEAN      NOT NULL DEFAULT FALSE,
		feature_type      VARCHAR(50)  NOT NULL,
		row_count         BIGINT,
		null_count        BIGINT,
		null_rate         DOUBLE PRECISION,
		mean              DOUBLE PRECISION,
		stddev            DOUBLE PRECISION,
		min_val           DOUBLE PRECISION,
		max_val           DOUBLE PRECISION,
		p50               DOUBLE PRECISION,
		p75               DOUBLE PRECISION,
		p90               DOUBLE PRECISION,
		p95               DOUBLE PRECISION,
		p99               DOUBLE PRECISION,
		histogram         JSONB,
		PRIMARY KEY (project_id, feature_view_name, feature_name, metric_date, granularity, data_source_type));
	CREATE INDEX IF NOT EXISTS idx_fm_feature_metrics_view ON feast_monitoring_feature_metrics (project_id, feature_view_name);
	CREATE INDEX IF NOT EXISTS idx_fm_feature_metrics_baseline ON feast_monitoring_feature_metrics
		(project_id, feature_view_name, feature_name) WHERE is_baseline = TRUE;`)
	return err
}

// WriteFeatureMetrics upserts monitoring rows as Feast's save_feature_metrics does (NaN numbers
// are written as NULL).
func WriteFeatureMetrics(ctx context.Context, db Execer, project string, rows []MetricRow) error {
	const q = `INSERT INTO feast_monitoring_feature_metrics (project_id, feature_view_name, feature_name, metric_date,
		granularity, data_source_type, computed_at, is_baseline, feature_type, row_count, null_count, null_rate, mean, stddev,
		min_val, max_val, p50, p75, p90, p95, p99, histogram)
		VALUES ($1, $2, $3, $4::date, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22::jsonb)
		ON CONFLICT (project_id, feature_view_name, feature_name, metric_date, granularity, data_source_type) DO UPDATE SET
		computed_at = EXCLUDED.computed_at, is_baseline = EXCLUDED.is_baseline, feature_type = EXCLUDED.feature_type,
		row_count = EXCLUDED.row_count, null_count = EXCLUDED.null_count, null_rate = EXCLUDED.null_rate, mean = EXCLUDED.mean,
		stddev = EXCLUDED.stddev, min_val = EXCLUDED.min_val, max_val = EXCLUDED.max_val, p50 = EXCLUDED.p50, p75 = EXCLUDED.p75,
		p90 = EXCLUDED.p90, p95 = EXCLUDED.p95, p99 = EXCLUDED.p99, histogram = EXCLUDED.histogram`
	num := func(x float64) any {
		if math.IsNaN(x) {
			return nil
		}
		return x
	}
	cnt := func(x float64) any {
		if math.IsNaN(x) {
			return nil
		}
		return int64(x)
	}
	for _, r := range rows {
		var hist any
		if r.Histogram != nil {
			hist = string(r.Histogram)
		}
		gran, dst := r.Granularity, r.DataSourceType
		if gran == "" {
			gran = "daily"
		}
		if dst == "" {
			dst = SourceBatch
		}
		computed := r.ComputedAt
		if computed.IsZero() {
			computed = r.Date.Add(24 * time.Hour)
		}
		if _, err := db.Exec(ctx, q, project, r.View, r.Feature, r.Date.UTC().Format(time.DateOnly), gran, dst, computed,
			r.IsBaseline, r.FeatureType, cnt(r.RowCount), cnt(r.NullCount), num(r.NullRate), num(r.Mean), num(r.Stddev),
			num(r.Min), num(r.Max), num(r.P50), num(r.P75), num(r.P90), num(r.P95), num(r.P99), hist); err != nil {
			return err
		}
	}
	return nil
}
