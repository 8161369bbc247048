package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
)

const testURL = "postgres://modellens@localhost:5432/modellens?sslmode=disable"

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-postgres", testURL}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.url != testURL || c.seed != demo.DefaultSeed || c.rate != 1 || c.backfill != 24*time.Hour || !c.end.IsZero() || c.follow != 0 ||
		c.records != "predictions" || c.reference != "reference" {
		t.Errorf("defaults: %+v", c)
	}
	c, err = parseFlags([]string{"-postgres", testURL, "-seed", "7", "-rate", "2", "-backfill", "2h", "-follow", "5s",
		"-records-table", "preds 2", "-reference-table", `ref"2`}, io.Discard)
	if err != nil || c.seed != 7 || c.rate != 2 || c.backfill != 2*time.Hour || c.follow != 5*time.Second ||
		c.records != "preds 2" || c.reference != `ref"2` {
		t.Errorf("flags: %+v, %v", c, err)
	}
	c, err = parseFlags([]string{"-postgres", testURL, "-end", "2026-03-02T09:20:00Z"}, io.Discard)
	if err != nil || !c.end.Equal(time.Date(2026, 3, 2, 9, 20, 0, 0, time.UTC)) {
		t.Errorf("-end: %+v, %v", c, err)
	}
	for _, args := range [][]string{
		nil,
		{"-postgres", "localhost:5432"},
		{"-postgres", "mysql://x@h/db"},
		{"-postgres", testURL, "-backfill", "0s"},
		{"-postgres", testURL, "-follow", "-1s"},
		{"-postgres", testURL, "-rate", "0"},
		{"-postgres", testURL, "-end", "yesterday"},
		{"-postgres", testURL, "-end", "2026-03-02T09:20:00Z", "-follow", "1s"},
		{"-postgres", testURL, "extra"},
		{"-postgres", testURL, "-records-table", "ml.preds"},
		{"-postgres", testURL, "-reference-table", ""},
		{"-postgres", testURL, "-records-table", "x", "-reference-table", "x"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	// A password on the command line is refused, and the error does not repeat it.
	for _, u := range []string{"postgres://modellens:s3cret@localhost/modellens", "postgres://modellens@localhost/modellens?password=s3cret"} {
		_, err := parseFlags([]string{"-postgres", u}, io.Discard)
		if !errors.Is(err, errPasswordInURL) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: %v", u, err)
		}
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

// clock is a settable time source for the follow loop.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// TestRunLoadsWithPGPASSWORD runs the command against a real PostgreSQL with the password from
// PGPASSWORD: one load of a fixed range, then a follow run whose clock moves on.
func TestRunLoadsWithPGPASSWORD(t *testing.T) {
	pg := testdb.StartPostgres(t)
	conn := pg.Conn(t)
	ctx := context.Background()
	f := demo.NewFleet(demo.DefaultSeed)
	countFleet := func(start, end time.Time) int64 {
		var n int64
		models, _ := f.Models(ctx)
		for _, m := range models {
			_ = f.Each(ctx, m.Name, "", start, end, func(demo.Record) error { n++; return nil })
		}
		return n
	}
	countTable := func() int64 {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM predictions").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Without a password the server refuses the connection.
	t.Setenv("PGPASSWORD", "")
	t.Setenv("PGPASSFILE", "/nonexistent")
	end := time.Date(2026, 3, 2, 9, 20, 0, 0, time.UTC)
	c := config{url: pg.URLWithoutPassword(), records: "predictions", reference: "reference", seed: demo.DefaultSeed, rate: 1, backfill: 10 * time.Minute, end: end}
	if err := run(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now); err == nil {
		t.Fatal("connected without a password")
	}

	t.Setenv("PGPASSWORD", pg.Password)
	var logs bytes.Buffer
	if err := run(ctx, c, slog.New(slog.NewTextHandler(&logs, nil)), time.Now); err != nil {
		t.Fatal(err)
	}
	if got, want := countTable(), countFleet(end.Add(-10*time.Minute), end); got != want || want == 0 {
		t.Errorf("loaded %d records, the fleet has %d", got, want)
	}
	if !strings.Contains(logs.String(), "demo fleet loaded") || strings.Contains(logs.String(), pg.Password) {
		t.Errorf("log: %s", logs.String())
	}

	// Follow: the clock moves 3 minutes on; the table then holds (t1 − backfill, t1].
	clk := &clock{t: end}
	c = config{url: pg.URLWithoutPassword(), records: "predictions", reference: "reference", seed: demo.DefaultSeed, rate: 1, backfill: 10 * time.Minute, follow: 10 * time.Millisecond}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(runCtx, c, slog.New(slog.NewTextHandler(io.Discard, nil)), clk.now) }()
	t1 := end.Add(3 * time.Minute)
	want := countFleet(t1.Add(-10*time.Minute), t1)
	deadline := time.Now().Add(60 * time.Second)
	for {
		clk.set(t1)
		var newest time.Time
		_ = conn.QueryRow(ctx, "SELECT coalesce(max(ts), 'epoch') FROM predictions").Scan(&newest)
		if got := countTable(); got == want && newest.After(end) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("follow: %d records, want %d", countTable(), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("follow ended with %v", err)
	}
}

// TestComposeReaderRole applies provisioning/postgres/init.sql as the postgres image of
// docker-compose.yaml does (superuser modellens, database modellens, before any table exists),
// loads the fleet as modellens, and checks that the role the provisioned data source connects as
// reads both tables and may not write.
func TestComposeReaderRole(t *testing.T) {
	pg := testdb.StartPostgres(t)
	if pg.User != "modellens" || pg.Database != "modellens" {
		t.Fatalf("the compose database is modellens/modellens, the test server %s/%s", pg.User, pg.Database)
	}
	ctx := context.Background()
	initSQL, err := os.ReadFile(filepath.Join("..", "..", "..", "provisioning", "postgres", "init.sql"))
	if err != nil {
		t.Fatal(err)
	}
	role := regexp.MustCompile(`(?m)^CREATE ROLE (\w+) LOGIN PASSWORD '([^']*)';$`).FindStringSubmatch(string(initSQL))
	if role == nil {
		t.Fatal("init.sql creates no login role")
	}
	if _, err := pg.Conn(t).Exec(ctx, string(initSQL)); err != nil {
		t.Fatalf("init.sql: %v", err)
	}
	t.Setenv("PGPASSWORD", pg.Password)
	end := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	c := config{url: pg.URLWithoutPassword(), records: "predictions", reference: "reference", seed: demo.DefaultSeed, rate: 1, backfill: 5 * time.Minute, end: end}
	if err := run(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now); err != nil {
		t.Fatal(err)
	}
	reader, err := pgx.Connect(ctx, fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", role[1], role[2], pg.Host, pg.Port, pg.Database))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close(ctx)
	for _, table := range []string{"predictions", "reference"} {
		var n int64
		if err := reader.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n == 0 {
			t.Errorf("%s reads %s: %d rows, %v", role[1], table, n, err)
		}
	}
	if _, err := reader.Exec(ctx, "DELETE FROM predictions"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("%s may delete: %v", role[1], err)
	}
	if _, err := reader.Exec(ctx, "CREATE TABLE x (a int)"); err == nil {
		t.Errorf("%s may create tables", role[1])
	}
}
