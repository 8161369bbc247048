package sql

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

var _ source.Aggregator = (*Source)(nil)

// Push-down: the statements below let PostgreSQL aggregate each window's records and send the
// plugin counts or a few numbers per window instead of the rows.
//
// Every statement has the same shape: the windows' end times are one array parameter, unnested
// with their ordinality, and each window joins its own rows through the (model, ts) index,
//
//	FROM unnest($2::timestamptz[]) WITH ORDINALITY AS w(t, i)
//	JOIN LATERAL (SELECT … FROM predictions
//	              WHERE model = $1 AND ts > $first_start AND ts <= $last_end
//	                AND ts > w.t - $3 * interval '1 microsecond' AND ts <= w.t) r ON true
//	GROUP BY w.i [, r.version] …
//
// which is the DESIGN §5 window t − w < ts <= t exactly (timestamptz holds microseconds; window
// widths are whole microseconds), reads only the rows of the query's range, model and version,
// and works for windows that overlap as for those that do not. Values and names are bind
// parameters; identifiers from the settings are quoted by pgx.

// aggStatement is what one push-down statement needs.
type aggStatement struct {
	args     []any
	from     string // the FROM … JOIN LATERAL (…) r ON true clause
	versions bool   // GROUP BY the version too
}

func (a *aggStatement) bind(v any) string {
	a.args = append(a.args, v)
	return "$" + strconv.Itoa(len(a.args))
}

// newAgg builds the windows join for req; cols are the extra columns of the lateral subquery
// (expressions AS names), cond an extra condition on its rows.
func (s *Source) newAgg(ctx context.Context, req source.AggRequest, cols []string, cond string, bindFirst func(a *aggStatement)) (*aggStatement, error) {
	if _, err := s.model(ctx, req.Model); err != nil {
		return nil, err
	}
	if len(req.Windows.Ends) == 0 {
		return nil, fmt.Errorf("postgresql: no windows")
	}
	a := &aggStatement{versions: req.SplitVersions && s.rec.Version != ""}
	a.bind(req.Model)
	ends := make([]time.Time, len(req.Windows.Ends))
	copy(ends, req.Windows.Ends)
	wt := a.bind(ends)
	width := a.bind(req.Windows.Width.Microseconds())
	if bindFirst != nil {
		bindFirst(a)
	}
	sel := append([]string{}, cols...)
	if a.versions {
		sel = append(sel, col(s.rec.Version)+"::text AS version")
	}
	if len(sel) == 0 {
		sel = []string{"1 AS one"}
	}
	ts := col(s.rec.TS)
	// The constant bounds of the whole range let the planner read the range once through the
	// (model, ts) index whether or not it keeps the lateral join per window (it does not know how
	// many windows the array holds).
	lo := a.bind(ends[0].Add(-req.Windows.Width))
	hi := a.bind(ends[len(ends)-1])
	where := fmt.Sprintf("%[1]s = $1 AND %[2]s > %[4]s AND %[2]s <= %[5]s AND %[2]s > w.t - %[3]s::bigint * interval '1 microsecond' AND %[2]s <= w.t",
		col(s.rec.Model), ts, width, lo, hi)
	if req.Version != "" && s.rec.Version != "" {
		where += " AND " + col(s.rec.Version) + " = " + a.bind(req.Version)
	}
	if cond != "" {
		where += " AND " + cond
	}
	a.from = fmt.Sprintf("FROM unnest(%s::timestamptz[]) WITH ORDINALITY AS w(t, i)\nJOIN LATERAL (SELECT %s FROM %s WHERE %s) r ON true",
		wt, strings.Join(sel, ", "), ident(s.rec), where)
	return a, nil
}

// groupCols are the GROUP BY columns and the version select column.
func (a *aggStatement) groupBy(extra ...string) (string, string) {
	g := append([]string{"w.i"}, extra...)
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
		e = col(s.rec.LatencyMs) + "::float8"
	case "score":
		if s.rec.Score == "" {
			return "NULL::float8", "false", nil
		}
		e = col(s.rec.Score) + "::float8"
	default:
		x, ct, ok := s.varColumn(a, variable, info)
		if !ok {
			return "NULL::float8", "false", nil
		}
		switch {
		case ct.jsonb():
			e = fmt.Sprintf("(CASE WHEN jsonb_typeof(%[1]s) = 'number' THEN (%[1]s)::float8 END)", x)
		case ct.numeric():
			e = "(" + x + ")::float8"
		default:
			return "", "", fmt.Errorf("%w: %s is a %s column, not numeric", ErrSchema, variable, ct.typ)
		}
	}
	return e, fmt.Sprintf("%[1]s > '-Infinity'::float8 AND %[1]s < 'Infinity'::float8", e), nil
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
//	SELECT w.i, version, count(*), count(*) FILTER (WHERE r.err) … GROUP BY w.i [, version]
//
// One row per window (and version) crosses the wire, whatever the number of records.
func (s *Source) WindowCounts(ctx context.Context, req source.AggRequest) ([]source.GroupCounts, error) {
	var errStatus string
	a, err := s.newAgg(ctx, req, nil, "", func(a *aggStatement) {
		if s.rec.Status != "" {
			errStatus = a.bind(s.errorStatus)
		}
	})
	if err != nil {
		return nil, err
	}
	errExpr := "0"
	if errStatus != "" {
		// Rebuild the lateral list with the error flag.
		a.from = strings.Replace(a.from, "JOIN LATERAL (SELECT ", "JOIN LATERAL (SELECT ("+col(s.rec.Status)+"::text = "+errStatus+") AS err, ", 1)
		errExpr = "count(*) FILTER (WHERE r.err)"
	}
	gb, vc := a.groupBy()
	q := fmt.Sprintf("SELECT w.i, %s, count(*), %s\n%s\nGROUP BY %s", vc, errExpr, a.from, gb)
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
//	SELECT w.i, version, count(r.v), percentile_cont($ps::float8[]) WITHIN GROUP (ORDER BY r.v) … GROUP BY w.i [, version]
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
	a, err := s.newAgg(ctx, req, nil, "", nil)
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
	a.from = strings.Replace(a.from, "JOIN LATERAL (SELECT ", "JOIN LATERAL (SELECT "+e+" AS v, ", 1)
	a.from = strings.Replace(a.from, ") r ON true", " AND "+cond+") r ON true", 1)
	pa := a.bind(fr)
	gb, vc := a.groupBy()
	q := fmt.Sprintf("SELECT w.i, %s, count(r.v), percentile_cont(%s::float8[]) WITHIN GROUP (ORDER BY r.v)\n%s\nGROUP BY %s", vc, pa, a.from, gb)
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

// WindowBinCounts counts each window's values of a numeric variable per bin of the reference's
// interior edges:
//
//	SELECT w.i, version, width_bucket(r.v, $edges::float8[]), count(*) … GROUP BY w.i, [version,] 3
//
// width_bucket with an array of thresholds returns the number of thresholds <= v: 0 below the
// first edge, k at or above the last of k edges, i for e_i <= v < e_{i+1} — the DESIGN §5 bin
// rule with open outer bins. Binned drift measures need only these counts.
func (s *Source) WindowBinCounts(ctx context.Context, req source.AggRequest, variable string, edges []float64) ([]source.GroupBins, error) {
	if !sort.Float64sAreSorted(edges) {
		return nil, fmt.Errorf("postgresql: bin edges must ascend")
	}
	a, err := s.newAgg(ctx, req, nil, "", nil)
	if err != nil {
		return nil, err
	}
	e, cond, err := s.numExpr(ctx, a, variable)
	if err != nil {
		return nil, err
	}
	a.from = strings.Replace(a.from, "JOIN LATERAL (SELECT ", "JOIN LATERAL (SELECT "+e+" AS v, ", 1)
	a.from = strings.Replace(a.from, ") r ON true", " AND "+cond+") r ON true", 1)
	bucket := "0"
	if len(edges) > 0 {
		bucket = "width_bucket(r.v, " + a.bind(edges) + "::float8[])"
	}
	gb, vc := a.groupBy("3")
	q := fmt.Sprintf("SELECT w.i, %s, %s, count(*)\n%s\nGROUP BY %s", vc, bucket, a.from, gb)
	n, nb := len(req.Windows.Ends), len(edges)+1
	idx := &groupIndex[source.GroupBins]{byVersion: map[string]*source.GroupBins{}, make: func(v string) *source.GroupBins {
		g := &source.GroupBins{Version: v, Counts: make([][]float64, n)}
		for i := range g.Counts {
			g.Counts[i] = make([]float64, nb)
		}
		return g
	}}
	what := fmt.Sprintf("bin counts of %s of model %q", variable, req.Model)
	rows, err := s.pool.Query(ctx, q, a.args...)
	if err != nil {
		return nil, s.dbError(ctx, what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, b, c int64
		var v pgtype.Text
		if err := rows.Scan(&i, &v, &b, &c); err != nil {
			return nil, s.dbError(ctx, what, err)
		}
		if k, ok := window(i, n); ok && b >= 0 && b < int64(nb) {
			idx.get(v.String).Counts[k][b] = float64(c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbError(ctx, what, err)
	}
	return idx.sorted(req), nil
}

// WindowCategoryCounts counts each window's values of a categorical variable:
//
//	SELECT w.i, version, r.v, count(*) … GROUP BY w.i, [version,] r.v
//
// At most limits.MaxDistinctValues categories; more is an error, as on the raw path.
func (s *Source) WindowCategoryCounts(ctx context.Context, req source.AggRequest, variable string) ([]source.GroupCategories, error) {
	a, err := s.newAgg(ctx, req, nil, "", nil)
	if err != nil {
		return nil, err
	}
	e, err := s.catExpr(ctx, a, variable)
	if err != nil {
		return nil, err
	}
	a.from = strings.Replace(a.from, "JOIN LATERAL (SELECT ", "JOIN LATERAL (SELECT "+e+" AS v, ", 1)
	a.from = strings.Replace(a.from, ") r ON true", " AND "+e+" IS NOT NULL) r ON true", 1)
	gb, vc := a.groupBy("r.v")
	q := fmt.Sprintf("SELECT w.i, %s, r.v, count(*)\n%s\nGROUP BY %s", vc, a.from, gb)
	n := len(req.Windows.Ends)
	type acc struct {
		g     source.GroupCategories
		index map[string]int
	}
	byVersion := map[string]*acc{}
	what := fmt.Sprintf("category counts of %s of model %q", variable, req.Model)
	rows, err := s.pool.Query(ctx, q, a.args...)
	if err != nil {
		return nil, s.dbError(ctx, what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, c int64
		var v pgtype.Text
		var cat string
		if err := rows.Scan(&i, &v, &cat, &c); err != nil {
			return nil, s.dbError(ctx, what, err)
		}
		k, ok := window(i, n)
		if !ok {
			continue
		}
		x := byVersion[v.String]
		if x == nil {
			x = &acc{g: source.GroupCategories{Version: v.String, Counts: make([][]float64, n)}, index: map[string]int{}}
			byVersion[v.String] = x
		}
		ci, ok := x.index[cat]
		if !ok {
			if len(x.g.Categories) >= limits.MaxDistinctValues {
				return nil, s.dbError(ctx, what, source.ErrTooManyValues)
			}
			ci = len(x.g.Categories)
			x.index[cat] = ci
			x.g.Categories = append(x.g.Categories, cat)
		}
		row := x.g.Counts[k]
		for len(row) <= ci {
			row = append(row, 0)
		}
		row[ci] = float64(c)
		x.g.Counts[k] = row
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbError(ctx, what, err)
	}
	keys := sortedKeys(byVersion)
	if !req.SplitVersions && len(keys) == 0 {
		return []source.GroupCategories{{Counts: make([][]float64, n)}}, nil
	}
	out := make([]source.GroupCategories, 0, len(keys))
	for _, k := range keys {
		g := byVersion[k].g
		for i := range g.Counts {
			for len(g.Counts[i]) < len(g.Categories) {
				g.Counts[i] = append(g.Counts[i], 0)
			}
		}
		out = append(out, g)
	}
	return out, nil
}
