package sql

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// Conn is what CreateTables and Load write through: *pgx.Conn, *pgxpool.Pool and pgx.Tx have
// these methods.
type Conn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error)
}

// Columns of the default layout (DESIGN §3: the §6 record names), in the order Load writes them.
var defaultColumns = []string{"ts", "model", "version", "latency_ms", "status", "prediction", "score", "label", "label_ts", "features"}

// CreateTables creates, when they do not exist, a records table and a reference table of the
// default layout (the §6 record names as columns, prediction and label as jsonb so that one table
// holds classifiers and regressors, features as a jsonb object) and the indexes the source reads
// through: (model, ts) for the records of a query's range, (model, version) for listing versions
// without reading the table.
func CreateTables(ctx context.Context, c Conn, records, reference string) error {
	for _, t := range []struct {
		name  string
		tsReq string
	}{{records, " NOT NULL"}, {reference, ""}} {
		id := pgx.Identifier{t.name}.Sanitize()
		ddl := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
	ts timestamptz%s,
	model text NOT NULL,
	version text,
	latency_ms double precision,
	status text,
	prediction jsonb,
	score double precision,
	label jsonb,
	label_ts timestamptz,
	features jsonb
)`, id, t.tsReq)
		if _, err := c.Exec(ctx, ddl); err != nil {
			return fmt.Errorf("create table %s: %w", id, err)
		}
	}
	rec := pgx.Identifier{records}.Sanitize()
	ref := pgx.Identifier{reference}.Sanitize()
	for _, ddl := range []string{
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (model, ts)`, pgx.Identifier{records + "_model_ts"}.Sanitize(), rec),
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (model, version)`, pgx.Identifier{records + "_model_version"}.Sanitize(), rec),
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (model, version)`, pgx.Identifier{reference + "_model_version"}.Sanitize(), ref),
	} {
		if _, err := c.Exec(ctx, ddl); err != nil {
			return fmt.Errorf("create index: %w", err)
		}
	}
	return nil
}

// Load writes batches into a table of the default layout (CreateTables) with COPY and returns the
// number of rows written. Times are rounded up to the microsecond (timestamptz holds
// microseconds): for window edges at whole microseconds (every grid point and Grafana time range),
// t − w < ts <= t holds for the rounded time exactly when it holds for the original, so every
// record stays in the same windows. Null values are written as JSON null in features and as SQL
// NULL elsewhere.
func Load(ctx context.Context, c Conn, table string, batches ...*source.Batch) (int64, error) {
	return load(ctx, c, table, false, batches)
}

// LoadPooledReference writes reference batches with a NULL version: the rows of a model's pooled
// reference sample (all versions together), which the source reads for queries that do not split
// by version, apart from per-version samples written with Load.
func LoadPooledReference(ctx context.Context, c Conn, table string, batches ...*source.Batch) (int64, error) {
	return load(ctx, c, table, true, batches)
}

func load(ctx context.Context, c Conn, table string, pooled bool, batches []*source.Batch) (int64, error) {
	var total int64
	for _, b := range batches {
		if b == nil || b.Len() == 0 {
			continue
		}
		n, err := c.CopyFrom(ctx, pgx.Identifier{table}, defaultColumns, &batchRows{b: b, pooled: pooled, i: -1})
		total += n
		if err != nil {
			return total, fmt.Errorf("copy into %s: %w", pgx.Identifier{table}.Sanitize(), err)
		}
	}
	return total, nil
}

// LoadFleet writes every model's records with start < ts <= end and its reference samples (the
// pooled one with a NULL version, then one per version) from a source into tables of the default
// layout, creating them when needed. It returns the numbers of record and reference rows written.
func LoadFleet(ctx context.Context, c Conn, log source.PredictionLog, records, reference string, start, end time.Time) (int64, int64, error) {
	if err := CreateTables(ctx, c, records, reference); err != nil {
		return 0, 0, err
	}
	models, err := log.Models(ctx)
	if err != nil {
		return 0, 0, err
	}
	var nrec, nref int64
	for _, m := range models {
		// One hour at a time keeps memory bounded whatever the range.
		for lo := start; lo.Before(end); lo = lo.Add(time.Hour) {
			hi := lo.Add(time.Hour)
			if hi.After(end) {
				hi = end
			}
			b, err := log.Records(ctx, source.RecordsRequest{Model: m.Name, Start: lo, End: hi})
			if err != nil {
				return nrec, nref, fmt.Errorf("records of %s: %w", m.Name, err)
			}
			n, err := Load(ctx, c, records, b)
			nrec += n
			if err != nil {
				return nrec, nref, err
			}
		}
		ref, err := log.Reference(ctx, m.Name, "")
		if err != nil {
			return nrec, nref, fmt.Errorf("reference of %s: %w", m.Name, err)
		}
		n, err := LoadPooledReference(ctx, c, reference, ref)
		nref += n
		if err != nil {
			return nrec, nref, err
		}
		for _, v := range m.Versions {
			ref, err := log.Reference(ctx, m.Name, v)
			if err != nil {
				return nrec, nref, fmt.Errorf("reference of %s version %s: %w", m.Name, v, err)
			}
			n, err := Load(ctx, c, reference, ref)
			nref += n
			if err != nil {
				return nrec, nref, err
			}
		}
	}
	return nrec, nref, nil
}

// batchRows is a pgx.CopyFromSource over a batch.
type batchRows struct {
	b      *source.Batch
	pooled bool
	i      int
	row    []any
}

func (r *batchRows) Next() bool {
	r.i++
	return r.i < r.b.Len()
}

func (r *batchRows) Err() error { return nil }

// usec rounds Unix nanoseconds up to the microsecond.
func usec(ns int64) time.Time {
	us := ns / 1000
	if ns%1000 > 0 {
		us++
	}
	return time.UnixMicro(us).UTC()
}

func (r *batchRows) Values() ([]any, error) {
	b, i := r.b, r.i
	row := r.row[:0]
	var ts any
	if i < len(b.TS) {
		ts = usec(b.TS[i])
	}
	var version any
	if !r.pooled && i < len(b.Version) && b.Version[i] >= 0 && int(b.Version[i]) < len(b.Versions) {
		version = b.Versions[b.Version[i]]
	}
	status := "ok"
	if i < len(b.Error) && b.Error[i] {
		status = "error"
	}
	var labelTS any
	if i < len(b.LabelTS) && b.LabelTS[i] != source.NoTime {
		labelTS = usec(b.LabelTS[i])
	}
	feats := make(map[string]any, len(b.FeatureNames))
	for _, name := range b.FeatureNames {
		feats[name] = value(b.Features[name], i)
	}
	row = append(row, ts, b.Model, version, num(b.LatencyMs, i), status, jsonValue(b.Prediction, i),
		num(b.Score, i), jsonValue(b.Label, i), labelTS, feats)
	r.row = row
	return row, nil
}

// num is x[i], or nil (NULL) for NaN or a missing value.
func num(x []float64, i int) any {
	if i >= len(x) || math.IsNaN(x[i]) || math.IsInf(x[i], 0) {
		return nil
	}
	return x[i]
}

// value is a column's i-th value as JSON: a number, a string, or nil for null.
func value(c *source.Column, i int) any {
	if c == nil {
		return nil
	}
	if c.Kind == source.Categorical {
		if i >= len(c.Cat) || c.Cat[i] < 0 || int(c.Cat[i]) >= len(c.Dict) {
			return nil
		}
		return c.Dict[c.Cat[i]]
	}
	return num(c.Num, i)
}

// jsonValue is value for a jsonb column, encoded (pgx sends a Go string to jsonb as JSON text
// as it is): SQL NULL for a null value.
func jsonValue(c *source.Column, i int) any {
	v := value(c, i)
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}
