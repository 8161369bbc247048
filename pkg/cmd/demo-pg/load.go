package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	pgsql "github.com/modellens/mlmonitoring-datasource/pkg/source/sql"
)

// Default table names (the sql source's defaults, DESIGN §3).
const (
	defaultRecordsTable   = "predictions"
	defaultReferenceTable = "reference"
)

// lockKey serialises loaders of the same database (pg_advisory_xact_lock): two loaders never
// interleave their deletes and copies.
const lockKey int64 = 0x4d4c_6465_6d6f // "MLdemo"

// checkTable accepts a table name for the loader (the source's own layout, in the URL's schema).
func checkTable(flag, name string) error {
	if name == "" || strings.ContainsAny(name, ".\x00") {
		return fmt.Errorf("%s must be a table name without a schema (choose the schema with ?search_path=... in -postgres)", flag)
	}
	return nil
}

func fleetModels(ctx context.Context, f *demo.Fleet) ([]string, error) {
	ms, err := f.Models(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return names, nil
}

// load replaces the fleet's rows in one transaction: it creates the tables and indexes when missing
// (pkg/source/sql.CreateTables), deletes every row of the fleet's models from both tables, and
// writes the records with start < ts <= end and the reference samples (pkg/source/sql.LoadFleet:
// each model's pooled sample with a NULL version, then one sample per version). Running it again
// leaves the same rows; rows of other models are left alone.
func load(ctx context.Context, conn *pgx.Conn, f *demo.Fleet, records, reference string, start, end time.Time) (nrec, nref int64, err error) {
	models, err := fleetModels(ctx, f)
	if err != nil {
		return 0, 0, err
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey); err != nil {
			return err
		}
		if err := pgsql.CreateTables(ctx, tx, records, reference); err != nil {
			return err
		}
		for _, t := range []string{records, reference} {
			if _, err := tx.Exec(ctx, "DELETE FROM "+pgx.Identifier{t}.Sanitize()+" WHERE model = ANY($1)", models); err != nil {
				return fmt.Errorf("delete the demo rows of %s: %w", t, err)
			}
		}
		nrec, nref, err = pgsql.LoadFleet(ctx, tx, f, records, reference, start, end)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	// Fresh statistics, so that the planner reads a model's range through the (model, ts) index.
	for _, t := range []string{records, reference} {
		if _, err := conn.Exec(ctx, "ANALYZE "+pgx.Identifier{t}.Sanitize()); err != nil {
			return nrec, nref, fmt.Errorf("analyze %s: %w", t, err)
		}
	}
	return nrec, nref, nil
}

// appendRecords writes the fleet's records with start < ts <= end into the records table and
// deletes the fleet's records with ts <= pruneBefore, in one transaction: one step of -follow.
func appendRecords(ctx context.Context, conn *pgx.Conn, f *demo.Fleet, records string, start, end, pruneBefore time.Time) (int64, error) {
	models, err := fleetModels(ctx, f)
	if err != nil {
		return 0, err
	}
	var n int64
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM "+pgx.Identifier{records}.Sanitize()+" WHERE model = ANY($1) AND ts <= $2", models, pruneBefore); err != nil {
			return fmt.Errorf("delete old records of %s: %w", records, err)
		}
		for _, m := range models {
			b, err := f.Records(ctx, source.RecordsRequest{Model: m, Start: start, End: end})
			if err != nil {
				return fmt.Errorf("records of %s: %w", m, err)
			}
			c, err := pgsql.Load(ctx, tx, records, b)
			n += c
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
