// Package pgload writes the demo fleet (package demo) into PostgreSQL tables of the default layout
// of ModelLens's sql source (DESIGN §3): prediction records in a table "predictions" and each
// model's reference sample in a table "reference", one column per DESIGN §6 record name.
//
//	ts          timestamptz       (records: NOT NULL; reference: the sample's row stamps)
//	model       text NOT NULL
//	version     text
//	latency_ms  double precision  (NULL in the reference sample)
//	status      text              ("ok" or "error")
//	prediction  jsonb             (a number or a string, as in the Prediction Log API: the fleet
//	label       jsonb              has classifiers and a regressor in one table)
//	score       double precision
//	label_ts    timestamptz       (NULL: the demo fleet does not stamp its labels)
//	features    jsonb             ({"name": number | string | null, ...})
//
// and the index on (model, ts) that the README recommends for every records table. The rows are
// exactly the fleet's: Fleet.Each over the range for the records, Fleet.EachReference with version
// "" (the pooled sample, each row carrying its version) for the reference.
package pgload

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
)

// Default table names (the sql source's defaults, DESIGN §3).
const (
	DefaultRecordsTable   = "predictions"
	DefaultReferenceTable = "reference"
)

// Columns are the table columns in COPY order.
var Columns = []string{"ts", "model", "version", "latency_ms", "status", "prediction", "score", "label", "label_ts", "features"}

// chunk is the span of records generated and copied at once: memory stays bounded by one chunk
// (about 9 records/s × 1 h at rate 1) whatever the range.
const chunk = time.Hour

// Options name the tables (empty = the defaults; "schema.table" is allowed).
type Options struct {
	RecordsTable   string
	ReferenceTable string
}

// Counts are the rows written.
type Counts struct {
	Records   int64
	Reference int64
}

// ident quotes a table name, table or schema.table.
func ident(name string) (string, error) {
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return "", fmt.Errorf("table %q must be table or schema.table", name)
	}
	for _, p := range parts {
		if p == "" || strings.ContainsRune(p, 0) {
			return "", fmt.Errorf("table %q must be table or schema.table", name)
		}
	}
	return pgx.Identifier(parts).Sanitize(), nil
}

type tables struct {
	recName, refName pgx.Identifier
	rec, ref         string // quoted
	recIndex         string // quoted index name
}

func (o Options) resolve() (tables, error) {
	var t tables
	rec, ref := o.RecordsTable, o.ReferenceTable
	if rec == "" {
		rec = DefaultRecordsTable
	}
	if ref == "" {
		ref = DefaultReferenceTable
	}
	var err error
	if t.rec, err = ident(rec); err != nil {
		return t, err
	}
	if t.ref, err = ident(ref); err != nil {
		return t, err
	}
	if t.rec == t.ref {
		return t, fmt.Errorf("the records and reference tables must differ (both %s)", rec)
	}
	t.recName, t.refName = strings.Split(rec, "."), strings.Split(ref, ".")
	t.recIndex = pgx.Identifier{t.recName[len(t.recName)-1] + "_model_ts"}.Sanitize()
	return t, nil
}

// schemaSQL returns the statements that create the tables and the index if they do not exist.
func (t tables) schemaSQL() []string {
	cols := func(tsNull string) string {
		return "ts timestamptz" + tsNull + ", model text NOT NULL, version text, latency_ms double precision, status text, " +
			"prediction jsonb, score double precision, label jsonb, label_ts timestamptz, features jsonb"
	}
	return []string{
		"CREATE TABLE IF NOT EXISTS " + t.rec + " (" + cols(" NOT NULL") + ")",
		// The index every records table should have: the sql source reads one model's rows of a
		// time range (WHERE model = $1 AND ts > $2 AND ts <= $3).
		"CREATE INDEX IF NOT EXISTS " + t.recIndex + " ON " + t.rec + " (model, ts)",
		"CREATE TABLE IF NOT EXISTS " + t.ref + " (" + cols("") + ")",
		"CREATE INDEX IF NOT EXISTS " + pgx.Identifier{t.refName[len(t.refName)-1] + "_model"}.Sanitize() + " ON " + t.ref + " (model)",
	}
}

// lockKey serialises loaders of the same database (pg_advisory_xact_lock).
const lockKey = 0x4d4c_6465_6d6f // "MLdemo"

func modelNames(ctx context.Context, f *demo.Fleet) ([]string, error) {
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

// Load creates the tables and the index when missing and, in one transaction, replaces the fleet's
// rows: every row of the fleet's models is deleted from both tables, then the records with
// start < ts <= end and each model's pooled reference sample are copied in. Running it again with
// the same range leaves the same rows; rows of other models are left alone.
func Load(ctx context.Context, conn *pgx.Conn, f *demo.Fleet, start, end time.Time, o Options) (Counts, error) {
	var n Counts
	t, err := o.resolve()
	if err != nil {
		return n, err
	}
	if end.Before(start) {
		return n, fmt.Errorf("end %s is before start %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	models, err := modelNames(ctx, f)
	if err != nil {
		return n, err
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(lockKey)); err != nil {
			return err
		}
		for _, s := range t.schemaSQL() {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("create tables: %w", err)
			}
		}
		for _, tab := range []string{t.rec, t.ref} {
			if _, err := tx.Exec(ctx, "DELETE FROM "+tab+" WHERE model = ANY($1)", models); err != nil {
				return fmt.Errorf("delete the demo rows of %s: %w", tab, err)
			}
		}
		for _, m := range models {
			c, err := copyRecords(ctx, tx, t.recName, f, m, start, end)
			n.Records += c
			if err != nil {
				return err
			}
			c, err = copyReference(ctx, tx, t.refName, f, m)
			n.Reference += c
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Counts{}, err
	}
	for _, tab := range []string{t.rec, t.ref} {
		if _, err := conn.Exec(ctx, "ANALYZE "+tab); err != nil {
			return n, fmt.Errorf("analyze %s: %w", tab, err)
		}
	}
	return n, nil
}

// Append copies the fleet's records with start < ts <= end into the records table (which Load
// created) and deletes the fleet's records with ts <= pruneBefore (zero time: none), in one
// transaction: the follow loop of the demo-pg command, which keeps the table current.
func Append(ctx context.Context, conn *pgx.Conn, f *demo.Fleet, start, end, pruneBefore time.Time, o Options) (int64, error) {
	t, err := o.resolve()
	if err != nil {
		return 0, err
	}
	models, err := modelNames(ctx, f)
	if err != nil {
		return 0, err
	}
	var n int64
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(lockKey)); err != nil {
			return err
		}
		if !pruneBefore.IsZero() {
			if _, err := tx.Exec(ctx, "DELETE FROM "+t.rec+" WHERE model = ANY($1) AND ts <= $2", models, pruneBefore); err != nil {
				return fmt.Errorf("prune %s: %w", t.rec, err)
			}
		}
		for _, m := range models {
			c, err := copyRecords(ctx, tx, t.recName, f, m, start, end)
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

// copyRecords copies one model's records with start < ts <= end, an hour at a time.
func copyRecords(ctx context.Context, tx pgx.Tx, table pgx.Identifier, f *demo.Fleet, model string, start, end time.Time) (int64, error) {
	var total int64
	rows := make([][]any, 0, 1024)
	for lo := start; lo.Before(end); lo = lo.Add(chunk) {
		hi := lo.Add(chunk)
		if hi.After(end) {
			hi = end
		}
		rows = rows[:0]
		err := f.Each(ctx, model, "", lo, hi, func(r demo.Record) error {
			row, err := Row(r)
			rows = append(rows, row)
			return err
		})
		if err != nil {
			return total, err
		}
		n, err := tx.CopyFrom(ctx, table, Columns, pgx.CopyFromRows(rows))
		total += n
		if err != nil {
			return total, fmt.Errorf("copy the records of %s into %s: %w", model, table.Sanitize(), err)
		}
	}
	return total, nil
}

// copyReference copies one model's pooled reference sample.
func copyReference(ctx context.Context, tx pgx.Tx, table pgx.Identifier, f *demo.Fleet, model string) (int64, error) {
	rows := make([][]any, 0, demo.ReferenceSize)
	err := f.EachReference(ctx, model, "", func(r demo.Record) error {
		row, err := Row(r)
		rows = append(rows, row)
		return err
	})
	if err != nil {
		return 0, err
	}
	n, err := tx.CopyFrom(ctx, table, Columns, pgx.CopyFromRows(rows))
	if err != nil {
		return n, fmt.Errorf("copy the reference sample of %s into %s: %w", model, table.Sanitize(), err)
	}
	return n, nil
}

// Row returns the values of one record in Columns order: NaN latency and absent score become NULL,
// prediction and label jsonb (a number, a string or NULL), features a jsonb object.
func Row(r demo.Record) ([]any, error) {
	var latency, score any
	if !math.IsNaN(r.LatencyMs) {
		latency = r.LatencyMs
	}
	if r.Score != nil && !math.IsNaN(*r.Score) {
		score = *r.Score
	}
	pred, err := jsonValue(r.Prediction)
	if err != nil {
		return nil, fmt.Errorf("prediction: %w", err)
	}
	label, err := jsonValue(r.Label)
	if err != nil {
		return nil, fmt.Errorf("label: %w", err)
	}
	feats, err := featuresJSON(r.Features)
	if err != nil {
		return nil, err
	}
	return []any{r.TS, r.Model, r.Version, latency, r.Status, pred, score, label, nil, feats}, nil
}

// jsonValue encodes a prediction or label for a jsonb column; nil stays NULL.
func jsonValue(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := appendValue(nil, v)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// featuresJSON encodes the features as a JSON object, names in order, missing values null.
func featuresJSON(fs map[string]any) ([]byte, error) {
	names := make([]string, 0, len(fs))
	for k := range fs {
		names = append(names, k)
	}
	sort.Strings(names)
	b := make([]byte, 0, 32*len(names)+2)
	b = append(b, '{')
	for i, k := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendValue(b, fs[k]); err != nil {
			return nil, fmt.Errorf("feature %q: %w", k, err)
		}
	}
	return append(b, '}'), nil
}

// appendValue appends nil, a finite number or a string as JSON (NaN and ±Inf become null: JSON has
// no such numbers, and the fleet marks missing values with them).
func appendValue(b []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, t), nil
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return append(b, "null"...), nil
		}
		// The shortest decimal that parses back to the same float64: jsonb keeps it exactly, so
		// (features->>'x')::float8 is the fleet's value bit for bit.
		return strconv.AppendFloat(b, t, 'g', -1, 64), nil
	}
	return nil, fmt.Errorf("unsupported value of type %T", v)
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}
