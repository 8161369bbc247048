package sql

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

var _ source.Aggregator = (*Source)(nil)

// Push-down: the statements below let PostgreSQL aggregate each window's records and send the
// plugin counts or a few numbers per window instead of the rows. They read only the rows of the
// query's model, version and range through the (model, ts) index; values and names are bind
// parameters and identifiers from the settings are quoted by pgx. How rows find their windows:
// aggStatement.from.

// aggStatement is what one push-down statement needs.
type aggStatement struct {
	params
	versions bool // GROUP BY the version too
	overlap  bool
	table    string
	where    string // the rows of the model, version and whole range
	ts       string // the ts column
	ends     string // the bind parameter ($n) that holds the windows' end times
	version  string // the version expression (split by version)
	width    string // the bind parameter ($n) that holds the window width in microseconds
	// fence keeps the rows' subquery from being merged into the statement (OFFSET 0), so that an
	// expression of its select list is computed once per row however often the outer query
	// refers to it.
	fence bool
}

// newAgg binds the model, the windows and the range of req; bindFirst may bind more parameters.
func (s *Source) newAgg(ctx context.Context, req source.AggRequest, bindFirst func(a *aggStatement)) (*aggStatement, error) {
	if _, err := s.model(ctx, req.Model); err != nil {
		return nil, err
	}
	if len(req.Windows.Ends) == 0 {
		return nil, fmt.Errorf("postgresql: no windows")
	}
	a := &aggStatement{versions: req.SplitVersions && s.rec.Version != "", overlap: req.Windows.Overlapping(), table: ident(s.rec), ts: col(s.rec.TS)}
	a.bind(req.Model)
	ends := make([]time.Time, len(req.Windows.Ends))
	copy(ends, req.Windows.Ends)
	a.ends = a.bind(ends) + "::timestamptz[]"
	a.width = a.bind(req.Windows.Width.Microseconds()) + "::bigint * interval '1 microsecond'"
	if bindFirst != nil {
		bindFirst(a)
	}
	// The constant bounds of the whole range let the planner read it once through the (model, ts)
	// index (it does not know how many windows the array holds).
	lo := a.bind(ends[0].Add(-req.Windows.Width))
	hi := a.bind(ends[len(ends)-1])
	a.where = fmt.Sprintf("%[1]s = $1 AND %[2]s > %[3]s AND %[2]s <= %[4]s", col(s.rec.Model), a.ts, lo, hi)
	if req.Version != "" && s.rec.Version != "" {
		a.where += " AND " + col(s.rec.Version) + " = " + a.bind(req.Version)
	}
	if a.versions {
		a.version = col(s.rec.Version) + "::text"
	}
	return a, nil
}

// from is the FROM clause over the windows' rows, r(i, cols…[, version]) with i the 1-based
// window, keeping the rows that satisfy cond.
//
// Windows that do not overlap: one pass over the range, each row's window found by binary search
// over the end times — width_bucket(ts − 1 µs, ends) + 1 is the first end >= ts — and kept when
// it is inside that window (ts > end − width):
//
//	FROM (SELECT width_bucket(ts - interval '1 microsecond', $ends) + 1 AS i, ts AS wts, … FROM t
//	      WHERE model = $1 AND ts > $first_start AND ts <= $last_end) r
//	WHERE r.i <= cardinality($ends) AND r.wts > ($ends)[r.i] - $width
//
// Overlapping windows: one lateral join per window, each row read once per window it is in:
//
//	FROM unnest($ends) WITH ORDINALITY AS w(t, i)
//	JOIN LATERAL (SELECT w.i AS i, … FROM t WHERE model = $1 AND ts > $first_start AND ts <= $last_end
//	              AND ts > w.t - $width AND ts <= w.t) r ON true
//
// Both are the DESIGN §5 window t − w < ts <= t exactly (timestamptz holds microseconds; window
// widths and ends are whole microseconds).
func (a *aggStatement) from(cols []string, cond string) string {
	return a.fromJoin(cols, cond, "")
}

// fromJoin is from with a join after the rows r (before the windows' WHERE in the non-overlapping
// form), e.g. a LATERAL over each row's columns.
func (a *aggStatement) fromJoin(cols []string, cond, join string) string {
	if join != "" {
		join = "\n" + join
	}
	sel := append([]string{}, cols...)
	if a.versions {
		sel = append(sel, a.version+" AS version")
	}
	where := a.where
	if cond != "" {
		where += " AND " + cond
	}
	fence := ""
	if a.fence {
		fence = " OFFSET 0"
	}
	if a.overlap {
		return fmt.Sprintf("FROM unnest(%s) WITH ORDINALITY AS w(t, i)\nJOIN LATERAL (SELECT %s FROM %s WHERE %s AND %s > w.t - %s AND %s <= w.t%s) r ON true%s",
			a.ends, strings.Join(append([]string{"w.i AS i"}, sel...), ", "), a.table, where, a.ts, a.width, a.ts, fence, join)
	}
	sel = append([]string{fmt.Sprintf("width_bucket(%s - interval '1 microsecond', %s) + 1 AS i", a.ts, a.ends), a.ts + " AS wts"}, sel...)
	return fmt.Sprintf("FROM (SELECT %s FROM %s WHERE %s%s) r%s\nWHERE r.i <= cardinality(%s) AND r.wts > (%s)[r.i] - %s",
		strings.Join(sel, ", "), a.table, where, fence, join, a.ends, a.ends, a.width)
}

// groupBy returns the GROUP BY list and the version column of the select list.
func (a *aggStatement) groupBy(extra ...string) (string, string) {
	g := append([]string{"r.i"}, extra...)
	v := "''::text"
	if a.versions {
		g = append(g, "r.version")
		v = "r.version"
	}
	return strings.Join(g, ", "), v
}

// numExpr is a numeric variable as a float8 expression over the records table (NULL where the
// value is not a number), and a condition that keeps finite values only (NaN compares above
// Infinity in PostgreSQL, so the range test drops NaN, ±Inf and NULL: the raw path's rule).
func (s *Source) numExpr(ctx context.Context, a *aggStatement, variable string) (string, string, error) {
	info, err := s.checkTable(ctx, "records", s.rec, true)
	if err != nil {
		return "", "", err
	}
	var e string
	switch variable {
	case "latency":
		if s.rec.LatencyMs == "" {
			return "", "", fmt.Errorf("%w: the records table has no latency column (sql.records.columns.latencyMs)", ErrSchema)
		}
		e = floatOf(col(s.rec.LatencyMs), info.cols[s.rec.LatencyMs])
	case "score":
		if s.rec.Score == "" {
			return "NULL::float8", "false", nil
		}
		e = floatOf(col(s.rec.Score), info.cols[s.rec.Score])
	default:
		x, ct, ok := s.varColumn(a, variable, info)
		if !ok {
			return "NULL::float8", "false", nil
		}
		switch {
		case ct.jsonb():
			e = jsonNumExpr(x) // numbers, and strings that hold one (as the raw path reads them)
		case ct.numeric():
			e = floatOf(x, ct)
		default:
			return "", "", fmt.Errorf("%w: %s is a %s column, not numeric", ErrSchema, variable, ct.typ)
		}
	}
	return e, fmt.Sprintf("%[1]s > '-Infinity'::float8 AND %[1]s < 'Infinity'::float8", e), nil
}

// floatOf is the numeric column x as float8; a numeric (decimal) column through
// numericFloatExpr, whose values may lie outside float8's range.
func floatOf(x string, ct colType) string {
	if ct.typ == "numeric" {
		return numericFloatExpr(x)
	}
	return "(" + x + ")::float8"
}

// catExpr is a categorical variable as a text expression (NULL where absent): strings as they
// are, numbers and booleans as their JSON text (the raw path's rule).
func (s *Source) catExpr(ctx context.Context, a *aggStatement, variable string) (string, error) {
	info, err := s.checkTable(ctx, "records", s.rec, true)
	if err != nil {
		return "", err
	}
	x, ct, ok := s.varColumn(a, variable, info)
	if !ok {
		return "NULL::text", nil
	}
	if ct.jsonb() {
		return fmt.Sprintf("(CASE jsonb_typeof(%[1]s) WHEN 'string' THEN (%[1]s) #>> '{}' WHEN 'number' THEN (%[1]s)::text WHEN 'boolean' THEN (%[1]s)::text END)", x), nil
	}
	if ct.numeric() {
		return "", fmt.Errorf("%w: %s is a numeric column, not categorical", ErrSchema, variable)
	}
	return "(" + x + ")::text", nil
}

// varColumn is the SQL expression of a feature or of the prediction, and its column's type; ok is
// false when the table does not hold the variable.
func (s *Source) varColumn(a *aggStatement, variable string, info tableInfo) (string, colType, bool) {
	t := s.rec
	if variable == "prediction" {
		if t.Prediction == "" {
			return "", colType{}, false
		}
		return col(t.Prediction), info.cols[t.Prediction], true
	}
	if len(t.FeatureColumns) > 0 {
		if !containsString(t.FeatureColumns, variable) {
			return "", colType{}, false
		}
		return col(variable), info.cols[variable], true
	}
	if t.Features == "" {
		return "", colType{}, false
	}
	return col(t.Features) + " -> " + a.bind(variable), colType{typ: "jsonb"}, true
}

// groupIndex keeps the groups of a result in version order.
type groupIndex[G any] struct {
	byVersion map[string]*G
	make      func(v string) *G
}

func (g *groupIndex[G]) get(v string) *G {
	if x, ok := g.byVersion[v]; ok {
		return x
	}
	x := g.make(v)
	g.byVersion[v] = x
	return x
}

func (g *groupIndex[G]) sorted(req source.AggRequest) []G {
	keys := sortedKeys(g.byVersion)
	if !req.SplitVersions && len(keys) == 0 {
		keys = []string{""}
		g.get("")
	}
	out := make([]G, 0, len(keys))
	for _, k := range keys {
		out = append(out, *g.byVersion[k])
	}
	return out
}

// window converts a 1-based ordinality to a window index.
func window(i int64, n int) (int, bool) {
	return int(i - 1), i >= 1 && i <= int64(n)
}

// WindowCounts counts each window's records and error records (traffic):
//
//	SELECT r.i, version, count(*), count(*) FILTER (WHERE r.err) … GROUP BY r.i [, version]
//
// One row per window (and version) crosses the wire, whatever the number of records.
func (s *Source) WindowCounts(ctx context.Context, req source.AggRequest) ([]source.GroupCounts, error) {
	var errStatus string
	a, err := s.newAgg(ctx, req, func(a *aggStatement) {
		if s.rec.Status != "" {
			errStatus = a.bind(s.errorStatus)
		}
	})
	if err != nil {
		return nil, err
	}
	cols := []string{"1 AS one"}
	errExpr := "0"
	if errStatus != "" {
		cols = []string{"(" + col(s.rec.Status) + "::text = " + errStatus + ") AS err"}
		errExpr = "count(*) FILTER (WHERE r.err)"
	}
	gb, vc := a.groupBy()
	q := fmt.Sprintf("SELECT r.i, %s, count(*), %s\n%s\nGROUP BY %s", vc, errExpr, a.from(cols, ""), gb)
	n := len(req.Windows.Ends)
	idx := &groupIndex[source.GroupCounts]{byVersion: map[string]*source.GroupCounts{}, make: func(v string) *source.GroupCounts {
		return &source.GroupCounts{Version: v, Counts: make([]float64, n), Errors: make([]float64, n)}
	}}
	what := fmt.Sprintf("counting the records of model %q", req.Model)
	rows, err := s.pool.Query(ctx, q, a.args...)
	if err != nil {
		return nil, s.dbError(ctx, what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, c, e int64
		var v pgtype.Text
		if err := rows.Scan(&i, &v, &c, &e); err != nil {
			return nil, s.dbError(ctx, what, err)
		}
		if k, ok := window(i, n); ok {
			g := idx.get(v.String)
			g.Counts[k], g.Errors[k] = float64(c), float64(e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbError(ctx, what, err)
	}
	return idx.sorted(req), nil
}

// WindowPercentiles computes each window's type-7 percentiles of a numeric variable in the
// database:
//
//	SELECT r.i, version, count(r.v), percentile_cont($ps::float8[]) WITHIN GROUP (ORDER BY r.v) … GROUP BY r.i [, version]
//
// percentile_cont interpolates linearly between the order statistics at (n − 1)·p, which is
// Hyndman–Fan type 7 = numpy.percentile (DESIGN §5); the plugin's kernel computes the same
// interpolation with another rounding order (b − (b−a)(1−g) for g ≥ 0.5), so the two agree to a
// few units in the last place. Callers use it where windows do not overlap: each row is then sorted
// once.
func (s *Source) WindowPercentiles(ctx context.Context, req source.AggRequest, variable string, ps []float64) ([]source.GroupPercentiles, error) {
	if len(ps) == 0 || len(ps) > limits.MaxPercentiles {
		return nil, fmt.Errorf("postgresql: %d percentiles", len(ps))
	}
	a, err := s.newAgg(ctx, req, nil)
	if err != nil {
		return nil, err
	}
	e, cond, err := s.numExpr(ctx, a, variable)
	if err != nil {
		return nil, err
	}
	fr := make([]float64, len(ps))
	for i, p := range ps {
		fr[i] = p / 100
	}
	pa := a.bind(fr)
	gb, vc := a.groupBy()
	q := fmt.Sprintf("SELECT r.i, %s, count(r.v), percentile_cont(%s::float8[]) WITHIN GROUP (ORDER BY r.v)\n%s\nGROUP BY %s", vc, pa, a.from([]string{e + " AS v"}, cond), gb)
	n := len(req.Windows.Ends)
	idx := &groupIndex[source.GroupPercentiles]{byVersion: map[string]*source.GroupPercentiles{}, make: func(v string) *source.GroupPercentiles {
		g := &source.GroupPercentiles{Version: v, N: make([]float64, n), Values: make([][]float64, len(ps))}
		for j := range g.Values {
			g.Values[j] = make([]float64, n)
			for i := range g.Values[j] {
				g.Values[j][i] = math.NaN()
			}
		}
		return g
	}}
	what := fmt.Sprintf("percentiles of %s of model %q", variable, req.Model)
	rows, err := s.pool.Query(ctx, q, a.args...)
	if err != nil {
		return nil, s.dbError(ctx, what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, c int64
		var v pgtype.Text
		var vals []pgtype.Float8
		if err := rows.Scan(&i, &v, &c, &vals); err != nil {
			return nil, s.dbError(ctx, what, err)
		}
		k, ok := window(i, n)
		if !ok || len(vals) != len(ps) {
			continue
		}
		g := idx.get(v.String)
		g.N[k] = float64(c)
		for j, x := range vals {
			if x.Valid {
				g.Values[j][k] = x.Float64
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbError(ctx, what, err)
	}
	return idx.sorted(req), nil
}
