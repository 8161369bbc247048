package offline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/pgconn"
)

// Key column SQL types of a point-in-time probe.
const (
	KeyBigint  = "bigint"
	KeyInteger = "integer"
	KeyText    = "text"
)

// AsOfQuery asks, for each probe (a time and the values of the join keys), for the latest row of
// a batch source with event time <= the probe's time (and >= time − TTL when TTL > 0), as Feast's
// point-in-time join does.
type AsOfQuery struct {
	// Relation is the FROM clause (SourceRelation).
	Relation string
	// TimestampField and CreatedField (optional tie-breaker) name the source's event and created
	// time columns.
	TimestampField string
	CreatedField   string
	// JoinKeys are the source's join-key columns and KeyTypes their SQL types (KeyBigint,
	// KeyInteger, KeyText); probe key values must be int64 for the integer types, string for text.
	JoinKeys []string
	KeyTypes []string
	// Columns are the feature columns to read.
	Columns []string
	TTL     time.Duration
	Probes  []Probe
}

// Probe is one point-in-time lookup.
type Probe struct {
	At   time.Time
	Keys []any
}

// Cell is one value read from the source: a number, a text, or null.
type Cell struct {
	Null  bool
	IsNum bool
	Num   float64
	Str   string
}

// AsOfRow is the answer of one probe.
type AsOfRow struct {
	Found     bool
	EventTime time.Time
	Cells     []Cell
}

// asOfBatch is how many probes one statement carries.
const asOfBatch = 5000

// AsOf runs the point-in-time lookups in PostgreSQL, asOfBatch probes per statement:
//
//	SELECT p.i, s.* FROM unnest($1::timestamptz[], $2::bigint[], ...) WITH ORDINALITY AS p(at, k0, ..., i)
//	LEFT JOIN LATERAL (SELECT b."ts", b."f1", ... FROM source b WHERE b."key" = p.k0 AND b."ts" <= p.at
//	  AND b."ts" >= p.at - ttl ORDER BY b."ts" DESC, b."created" DESC LIMIT 1) s ON true
//
// Every value is a bind parameter; identifiers are quoted. At most limits.FeastMaxSkewRecords
// probes are accepted.
func (s *Store) AsOf(ctx context.Context, q AsOfQuery) ([]AsOfRow, error) {
	if len(q.Probes) > limits.FeastMaxSkewRecords {
		return nil, fmt.Errorf("%d point-in-time probes; at most %d are accepted", len(q.Probes), limits.FeastMaxSkewRecords)
	}
	if len(q.JoinKeys) == 0 || len(q.JoinKeys) != len(q.KeyTypes) {
		return nil, errors.New("point-in-time lookup needs the join keys and their types")
	}
	if q.TimestampField == "" {
		return nil, errors.New("the batch source has no timestamp field")
	}
	id := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	ts := "b." + id(q.TimestampField)
	var unnest, alias, conds, cols []string
	for i, k := range q.JoinKeys {
		switch q.KeyTypes[i] {
		case KeyBigint, KeyInteger, KeyText:
		default:
			return nil, fmt.Errorf("join key %q has unsupported type %q", k, q.KeyTypes[i])
		}
		unnest = append(unnest, fmt.Sprintf("$%d::%s[]", i+2, q.KeyTypes[i]))
		alias = append(alias, fmt.Sprintf("k%d", i))
		conds = append(conds, fmt.Sprintf("b.%s = p.k%d", id(k), i))
	}
	conds = append(conds, ts+" <= p.at")
	if q.TTL > 0 {
		conds = append(conds, fmt.Sprintf("%s >= p.at - $%d::bigint * interval '1 microsecond'", ts, len(q.JoinKeys)+2))
	}
	for i, c := range q.Columns {
		cols = append(cols, fmt.Sprintf("b.%s AS c%d", id(c), i))
	}
	order := ts + " DESC"
	if q.CreatedField != "" {
		order += ", b." + id(q.CreatedField) + " DESC NULLS LAST"
	}
	sel := append([]string{ts + " AS ts"}, cols...)
	sql := fmt.Sprintf(`SELECT p.i, s.* FROM unnest($1::timestamptz[], %s) WITH ORDINALITY AS p(at, %s, i)
LEFT JOIN LATERAL (SELECT %s FROM %s b WHERE %s ORDER BY %s LIMIT 1) s ON true`,
		strings.Join(unnest, ", "), strings.Join(alias, ", "), strings.Join(sel, ", "), q.Relation,
		strings.Join(conds, " AND "), order)

	out := make([]AsOfRow, len(q.Probes))
	for start := 0; start < len(q.Probes); start += asOfBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+asOfBatch, len(q.Probes))
		args := make([]any, 0, len(q.JoinKeys)+2)
		at := make([]time.Time, 0, end-start)
		for _, p := range q.Probes[start:end] {
			at = append(at, p.At.UTC())
		}
		args = append(args, at)
		for k, typ := range q.KeyTypes {
			if typ == KeyText {
				col := make([]*string, 0, end-start)
				for _, p := range q.Probes[start:end] {
					v, ok := p.Keys[k].(string)
					if !ok {
						col = append(col, nil) // never equal: the probe finds no row
						continue
					}
					col = append(col, &v)
				}
				args = append(args, col)
			} else {
				col := make([]*int64, 0, end-start)
				for _, p := range q.Probes[start:end] {
					v, ok := p.Keys[k].(int64)
					if !ok {
						col = append(col, nil)
						continue
					}
					col = append(col, &v)
				}
				args = append(args, col)
			}
		}
		if q.TTL > 0 {
			args = append(args, q.TTL.Microseconds())
		}
		rows, err := s.pool.Query(ctx, sql, args...)
		if err != nil {
			return nil, s.asOfError(err, q)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				rows.Close()
				return nil, s.asOfError(err, q)
			}
			if len(vals) != len(q.Columns)+2 {
				rows.Close()
				return nil, fmt.Errorf("point-in-time lookup answered %d columns", len(vals))
			}
			i, ok := vals[0].(int64)
			if !ok || i < 1 || int(i) > end-start {
				rows.Close()
				return nil, errors.New("point-in-time lookup answered an unknown probe")
			}
			r := &out[start+int(i)-1]
			t, found := vals[1].(time.Time)
			if !found {
				continue
			}
			r.Found, r.EventTime = true, t.UTC()
			r.Cells = make([]Cell, len(q.Columns))
			for c := range q.Columns {
				r.Cells[c] = toCell(vals[c+2])
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, s.asOfError(err, q)
		}
	}
	return out, nil
}

func (s *Store) asOfError(err error, q AsOfQuery) error {
	switch {
	case pgconn.UndefinedTable(err):
		return fmt.Errorf("batch source %s does not exist in the offline store: %w", q.Relation, s.wrap(err))
	case pgconn.UndefinedColumn(err):
		return fmt.Errorf("batch source %s lacks a column the feature view names: %w", q.Relation, s.wrap(err))
	}
	return s.wrap(err)
}

// toCell converts a value pgx decoded into a number, a text or null.
func toCell(v any) Cell {
	switch x := v.(type) {
	case nil:
		return Cell{Null: true}
	case float64:
		return Cell{IsNum: true, Num: x}
	case float32:
		return Cell{IsNum: true, Num: float64(x)}
	case int64:
		return Cell{IsNum: true, Num: float64(x)}
	case int32:
		return Cell{IsNum: true, Num: float64(x)}
	case int16:
		return Cell{IsNum: true, Num: float64(x)}
	case bool:
		if x {
			return Cell{IsNum: true, Num: 1}
		}
		return Cell{IsNum: true, Num: 0}
	case string:
		return Cell{Str: x}
	case pgtype.Numeric:
		if !x.Valid {
			return Cell{Null: true}
		}
		f, err := x.Float64Value()
		if err != nil || !f.Valid {
			return Cell{Null: true}
		}
		return Cell{IsNum: true, Num: f.Float64}
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return Cell{IsNum: true, Num: f}
	case time.Time:
		return Cell{IsNum: true, Num: float64(x.Unix())}
	case []byte:
		return Cell{Str: string(x)}
	}
	s := fmt.Sprint(v)
	if s == "" {
		return Cell{Null: true, Num: math.NaN()}
	}
	return Cell{Str: s}
}
