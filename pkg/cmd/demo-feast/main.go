// Command demo-feast writes the Feast side of the ModelLens demo fleet (package feastdemo): the
// registry file of project modellens_demo, the online store in Redis (Feast's layout), and in
// PostgreSQL the feature views' batch source tables and Feast's data-quality monitoring rows.
//
// Usage:
//
//	PGPASSWORD=... demo-feast -postgres postgres://user@host:5432/db?sslmode=disable \
//	    -redis host:6379 -registry /path/registry.db [-backfill 24h] [-metrics-days 14] \
//	    [-end RFC3339] [-follow 1m] [-seed 42] [-rate 1]
//
// It loads the batch sources over (end − backfill, end] (one row per prediction record of the
// fleet, the records demo-pg and the demo model server hold for the same seed and rate), the
// monitoring rows of the metrics-days days before end's day plus each view's baseline, the online
// store as materialization left it at end, and the registry (materialization intervals of the last
// backfill). With -follow it keeps running: every period it appends the new records' rows and
// prunes those older than -backfill; on each hour it rewrites the online store and the registry
// (the materialization schedule, with churn_accounts' daily stop at 12:00 UTC); on each new day it
// writes the finished day's monitoring rows. The PostgreSQL password comes from PGPASSWORD (or
// ~/.pgpass) and the Redis password from REDIS_PASSWORD, never from the command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/demo/feastdemo"
)

type config struct {
	url, redis, registry string
	seed                 int64
	rate                 float64
	backfill             time.Duration
	metricsDays          int
	end                  time.Time // zero: now
	follow               time.Duration
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	var end string
	fs := flag.NewFlagSet("demo-feast", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.url, "postgres", "", "PostgreSQL URL of the offline store, without a password (password: PGPASSWORD)")
	fs.StringVar(&c.redis, "redis", "", "Redis host:port of the online store (password: REDIS_PASSWORD)")
	fs.StringVar(&c.registry, "registry", "", "absolute path of the registry file to write")
	fs.Int64Var(&c.seed, "seed", demo.DefaultSeed, "fleet seed (the plugin's built-in demo uses the default)")
	fs.Float64Var(&c.rate, "rate", 1, fmt.Sprintf("traffic multiplier, in (0, %d]", demo.MaxRate))
	fs.DurationVar(&c.backfill, "backfill", demo.DefaultBackfill, "history of the batch sources and the registry, ending at -end")
	fs.IntVar(&c.metricsDays, "metrics-days", 14, "days of daily monitoring rows before -end's day")
	fs.StringVar(&end, "end", "", "end of the loaded range, RFC3339 (default: now)")
	fs.DurationVar(&c.follow, "follow", 0, "keep running and update the stores every period (0: load once and exit)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.url == "" || c.redis == "" || c.registry == "" {
		return c, errors.New("-postgres, -redis and -registry are required")
	}
	u, err := url.Parse(c.url)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return c, errors.New("-postgres must be a postgres:// or postgresql:// URL")
	}
	if _, has := u.User.Password(); has || u.Query().Has("password") {
		return c, errors.New("-postgres must not contain a password: set PGPASSWORD (or use ~/.pgpass) instead")
	}
	if host, port, err := net.SplitHostPort(c.redis); err != nil || host == "" || port == "" {
		return c, errors.New("-redis must be host:port")
	}
	if !filepath.IsAbs(c.registry) {
		return c, errors.New("-registry must be an absolute path")
	}
	if c.backfill < time.Hour {
		return c, fmt.Errorf("-backfill must be at least 1h, got %s", c.backfill)
	}
	if c.metricsDays < 0 || c.metricsDays > 366 {
		return c, fmt.Errorf("-metrics-days must be in [0, 366], got %d", c.metricsDays)
	}
	if c.follow < 0 {
		return c, fmt.Errorf("-follow must not be negative, got %s", c.follow)
	}
	if !(c.rate > 0 && c.rate <= demo.MaxRate) {
		return c, fmt.Errorf("-rate must be in (0, %d], got %v", demo.MaxRate, c.rate)
	}
	if end != "" {
		if c.end, err = time.Parse(time.RFC3339Nano, end); err != nil {
			return c, fmt.Errorf("-end: %q is not an RFC3339 time", end)
		}
		if c.follow > 0 {
			return c, errors.New("-end and -follow exclude each other: following starts at now")
		}
	}
	return c, nil
}

func main() {
	c, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "demo-feast:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, logger, time.Now); err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("demo-feast failed", "error", err)
		os.Exit(1)
	}
}

const connectTimeout = 10 * time.Second

// lockKey serialises loaders of the same database (pg_advisory_xact_lock).
const lockKey int64 = 0x4d4c_6665_6173 // "MLfeas"

func day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// run loads the stores as of end, then, with c.follow, keeps them current until ctx ends.
func run(ctx context.Context, c config, logger *slog.Logger, now func() time.Time) error {
	fleet, err := demo.NewFleetWithRate(c.seed, c.rate)
	if err != nil {
		return err
	}
	cfg, err := pgx.ParseConfig(c.url)
	if err != nil {
		return fmt.Errorf("-postgres: %w", err)
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > connectTimeout {
		cfg.ConnectTimeout = connectTimeout
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	defer conn.Close(context.Background())
	rc := redis.NewClient(&redis.Options{Addr: c.redis, Password: os.Getenv("REDIS_PASSWORD"), DialTimeout: connectTimeout})
	defer rc.Close()
	if err := rc.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("connect to Redis %s: %w", c.redis, err)
	}

	end := c.end
	if end.IsZero() {
		end = now().UTC()
	}
	t0 := time.Now()
	var rows int64
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey); err != nil {
			return err
		}
		if err := feastdemo.CreateTables(ctx, tx); err != nil {
			return err
		}
		if rows, err = feastdemo.LoadBatch(ctx, tx, fleet, end.Add(-c.backfill), end, end.Add(-c.backfill)); err != nil {
			return err
		}
		return feastdemo.WriteMetrics(ctx, tx, fleet, day(end).AddDate(0, 0, -c.metricsDays), day(end))
	})
	if err != nil {
		return err
	}
	if err := materialize(ctx, rc, fleet, c, end); err != nil {
		return err
	}
	logger.Info("demo Feast stores loaded", "project", feastdemo.Project, "batchRows", rows, "metricsDays", c.metricsDays,
		"registry", c.registry, "from", end.Add(-c.backfill).Format(time.RFC3339), "to", end.Format(time.RFC3339),
		"seconds", time.Since(t0).Seconds())
	if c.follow == 0 {
		return nil
	}
	tick := time.NewTicker(c.follow)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		next := now().UTC()
		if !next.After(end) {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey); err != nil {
				return err
			}
			n, err := feastdemo.LoadBatch(ctx, tx, fleet, end, next, next.Add(-c.backfill))
			if err != nil {
				return err
			}
			logger.Debug("batch rows appended", "rows", n, "to", next.Format(time.RFC3339Nano))
			if day(next).After(day(end)) {
				return feastdemo.WriteMetrics(ctx, tx, fleet, day(end), day(next))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if next.Truncate(feastdemo.MaterializeEvery).After(end.Truncate(feastdemo.MaterializeEvery)) {
			if err := materialize(ctx, rc, fleet, c, next); err != nil {
				return err
			}
			logger.Info("materialized", "at", next.Truncate(feastdemo.MaterializeEvery).Format(time.RFC3339))
		}
		end = next
	}
}

// materialize writes the online store and the registry as of t.
func materialize(ctx context.Context, rc *redis.Client, fleet *demo.Fleet, c config, t time.Time) error {
	if err := feastdemo.WriteOnline(ctx, rc, fleet, t); err != nil {
		return err
	}
	if err := feastdemo.WriteRegistry(c.registry, t, c.backfill); err != nil {
		return fmt.Errorf("write the registry %s: %w", c.registry, err)
	}
	return nil
}
