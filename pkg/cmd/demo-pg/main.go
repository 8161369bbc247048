// Command demo-pg loads the ModelLens demo fleet (package demo) into PostgreSQL, in the default
// layout of the sql source (pkg/source/sql.CreateTables): prediction records in table
// "predictions" (with the recommended index on (model, ts)) and the reference samples in table
// "reference" (each model's pooled sample with a NULL version, and one sample per version). The
// rows are the records the demo model server's Prediction Log API serves for the same seed, rate
// and range, times rounded up to the microsecond (timestamptz).
//
// Usage:
//
//	PGPASSWORD=... demo-pg -postgres postgres://user@host:5432/db?sslmode=disable \
//	    [-backfill 24h] [-end RFC3339] [-follow 10s] [-seed 42] [-rate 1] \
//	    [-records-table predictions] [-reference-table reference]
//
// It creates the tables when missing and, in one transaction, replaces the fleet's rows (running it
// again is harmless; rows of other models are left alone). The password comes from PGPASSWORD or ~/.pgpass, never
// from the command line: a URL with a password is refused. With -follow it keeps running, appending
// each period's new records and deleting those older than -backfill, so that dashboards over
// "now" stay current; without it, it loads (end − backfill, end] and exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
)

type config struct {
	url      string
	seed     int64
	rate     float64
	backfill time.Duration
	end      time.Time // zero: now
	follow   time.Duration
	// records and reference are the table names.
	records, reference string
}

// errPasswordInURL refuses a password on the command line, where every user of the machine can
// read it in the process list.
var errPasswordInURL = errors.New("-postgres must not contain a password: set PGPASSWORD (or use ~/.pgpass) instead")

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	var end string
	fs := flag.NewFlagSet("demo-pg", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.url, "postgres", "", "PostgreSQL URL without a password, e.g. postgres://modellens@localhost:5432/modellens?sslmode=disable (password: PGPASSWORD)")
	fs.Int64Var(&c.seed, "seed", demo.DefaultSeed, "fleet seed (the plugin's built-in demo and demo-model use the default)")
	fs.Float64Var(&c.rate, "rate", 1, fmt.Sprintf("traffic multiplier, in (0, %d]", demo.MaxRate))
	fs.DurationVar(&c.backfill, "backfill", demo.DefaultBackfill, "how much history to load, ending at -end")
	fs.StringVar(&end, "end", "", "end of the loaded range, RFC3339 (default: now)")
	fs.DurationVar(&c.follow, "follow", 0, "keep running and append new records every period (0: load once and exit)")
	fs.StringVar(&c.records, "records-table", defaultRecordsTable, "records table")
	fs.StringVar(&c.reference, "reference-table", defaultReferenceTable, "reference table")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.url == "" {
		return c, errors.New("-postgres is required")
	}
	u, err := url.Parse(c.url)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return c, errors.New("-postgres must be a postgres:// or postgresql:// URL")
	}
	if _, has := u.User.Password(); has || u.Query().Has("password") {
		return c, errPasswordInURL
	}
	if err := checkTable("-records-table", c.records); err != nil {
		return c, err
	}
	if err := checkTable("-reference-table", c.reference); err != nil {
		return c, err
	}
	if c.records == c.reference {
		return c, errors.New("-records-table and -reference-table must differ")
	}
	if c.backfill <= 0 {
		return c, fmt.Errorf("-backfill must be positive, got %s", c.backfill)
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
		fmt.Fprintln(os.Stderr, "demo-pg:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, logger, time.Now); err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("demo-pg failed", "error", err)
		os.Exit(1)
	}
}

// connectTimeout bounds connecting (and each retry while the database starts).
const connectTimeout = 10 * time.Second

// run loads the fleet, then, with c.follow, appends new records every period until ctx ends.
func run(ctx context.Context, c config, logger *slog.Logger, now func() time.Time) error {
	fleet, err := demo.NewFleetWithRate(c.seed, c.rate)
	if err != nil {
		return err
	}
	cfg, err := pgx.ParseConfig(c.url) // the password from PGPASSWORD or ~/.pgpass
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

	end := c.end
	if end.IsZero() {
		end = now().UTC()
	}
	t0 := time.Now()
	nrec, nref, err := load(ctx, conn, fleet, c.records, c.reference, end.Add(-c.backfill), end)
	if err != nil {
		return err
	}
	logger.Info("demo fleet loaded", "records", nrec, "reference", nref,
		"from", end.Add(-c.backfill).Format(time.RFC3339), "to", end.Format(time.RFC3339),
		"recordsTable", c.records, "referenceTable", c.reference, "seconds", time.Since(t0).Seconds())
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
		added, err := appendRecords(ctx, conn, fleet, c.records, end, next, next.Add(-c.backfill))
		if err != nil {
			return err
		}
		logger.Debug("records appended", "records", added, "to", next.Format(time.RFC3339Nano))
		end = next
	}
}
