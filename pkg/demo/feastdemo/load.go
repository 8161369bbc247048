package feastdemo

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/offline"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/online"
)

// DB is a PostgreSQL connection, pool or transaction (pgx).
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// WriteRegistry writes the registry of time at (Registry) to path, atomically (a temporary file
// in the same directory renamed over it), readable by everyone: Grafana reads it from a shared
// volume as another user.
func WriteRegistry(path string, at time.Time, history time.Duration) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".registry-*.db")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(Registry(at, history)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// WriteOnline writes every view's online rows of time t (View.OnlineRows) into Redis in Feast's
// layout (online.WriteRedis), replacing what an earlier write left for the same entities.
func WriteOnline(ctx context.Context, c *redis.Client, f *demo.Fleet, t time.Time) error {
	for _, v := range Views {
		rows, err := v.OnlineRows(ctx, f, t)
		if err != nil {
			return err
		}
		if err := online.WriteRedis(ctx, c, Project, KeyVersion, v.Name, rows, 0); err != nil {
			return fmt.Errorf("write the online rows of %s: %w", v.Name, err)
		}
	}
	return nil
}

func quote(s string) string { return pgx.Identifier{s}.Sanitize() }

// CreateTables creates the views' batch source tables (with an index on the join keys and event
// time, what the point-in-time join reads) and Feast's monitoring table, when missing.
func CreateTables(ctx context.Context, db DB) error {
	for _, v := range Views {
		var cols, keys []string
		for _, k := range v.JoinKeys {
			cols = append(cols, quote(k)+" TEXT NOT NULL")
			keys = append(keys, quote(k))
		}
		for _, f := range v.Features {
			cols = append(cols, quote(f)+" DOUBLE PRECISION")
		}
		cols = append(cols, quote(TimestampField)+" TIMESTAMPTZ NOT NULL", quote(CreatedField)+" TIMESTAMPTZ NOT NULL")
		q := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s); CREATE INDEX IF NOT EXISTS %s ON %s (%s, %s)",
			quote(v.Table), strings.Join(cols, ", "), quote(v.Table+"_pit"), quote(v.Table), strings.Join(keys, ", "), quote(TimestampField))
		if _, err := db.Exec(ctx, q); err != nil {
			return fmt.Errorf("create %s: %w", v.Table, err)
		}
	}
	return offline.EnsureMonitoringTables(ctx, db)
}

// LoadBatch replaces the views' batch source rows with start < event time <= end by those of the
// fleet's records (View.BatchRows), and deletes the rows with event time <= pruneBefore (zero:
// none). It returns the rows written.
func LoadBatch(ctx context.Context, db DB, f *demo.Fleet, start, end, pruneBefore time.Time) (int64, error) {
	var n int64
	for _, v := range Views {
		ts := quote(TimestampField)
		if _, err := db.Exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s > $1 AND %s <= $2", quote(v.Table), ts, ts), start, end); err != nil {
			return n, fmt.Errorf("delete from %s: %w", v.Table, err)
		}
		if !pruneBefore.IsZero() {
			if _, err := db.Exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s <= $1", quote(v.Table), ts), pruneBefore); err != nil {
				return n, fmt.Errorf("prune %s: %w", v.Table, err)
			}
		}
		rows, err := v.BatchRows(ctx, f, start, end)
		if err != nil {
			return n, err
		}
		cols := append(append([]string(nil), v.JoinKeys...), v.Features...)
		cols = append(cols, TimestampField, CreatedField)
		c, err := db.CopyFrom(ctx, pgx.Identifier{v.Table}, cols, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := rows[i]
			out := make([]any, 0, len(cols))
			for _, k := range r.Keys {
				out = append(out, k)
			}
			for _, x := range r.Features {
				if math.IsNaN(x) {
					out = append(out, nil)
				} else {
					out = append(out, x)
				}
			}
			return append(out, r.Time, r.Time), nil
		}))
		n += c
		if err != nil {
			return n, fmt.Errorf("copy into %s: %w", v.Table, err)
		}
		// Fresh statistics, so that the point-in-time join reads through the index.
		if _, err := db.Exec(ctx, "ANALYZE "+quote(v.Table)); err != nil {
			return n, fmt.Errorf("analyze %s: %w", v.Table, err)
		}
	}
	return n, nil
}

// WriteMetrics writes (upserts) the views' baseline monitoring rows and the daily rows of the
// days [from, to) (UTC midnights).
func WriteMetrics(ctx context.Context, db DB, f *demo.Fleet, from, to time.Time) error {
	for _, v := range Views {
		rows, err := v.BaselineMetrics(ctx, f)
		if err != nil {
			return err
		}
		for d := from.UTC().Truncate(24 * time.Hour); d.Before(to); d = d.Add(24 * time.Hour) {
			r, err := v.DailyMetrics(ctx, f, d)
			if err != nil {
				return err
			}
			rows = append(rows, r...)
		}
		if err := offline.WriteFeatureMetrics(ctx, db, Project, rows); err != nil {
			return fmt.Errorf("write the monitoring rows of %s: %w", v.Name, err)
		}
	}
	return nil
}
