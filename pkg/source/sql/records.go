package sql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// model returns a model of the records table; source.ErrUnknownModel when it has no records.
func (s *Source) model(ctx context.Context, name string) (*source.Model, error) {
	ms, err := s.Models(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		if ms[i].Name == name {
			return &ms[i], nil
		}
	}
	return nil, fmt.Errorf("%w: %q has no records in table %s", source.ErrUnknownModel, name, tableText(s.rec))
}

// variable is one value column of a SELECT: how it is read and where it goes.
type variable struct {
	expr string
	// num scans a numeric column (float8); otherwise text: a text column, or a jsonb value's
	// JSON text.
	num   bool
	jsonb bool
	col   *source.Column
	// raw receives the value: f a float8, t the text as pgx holds it in the row's buffer (valid until
	// the next row; nil for NULL), so that a value needs no string of its own unless it is a new
	// category (1M records × 20 jsonb features: 21M allocations fewer than a string per value).
	f pgtype.Float8
	t pgtype.DriverBytes
	// buf holds a numeric column's value formatted for a categorical variable.
	buf []byte
}

// scanTarget is where the variable's value is scanned.
func (v *variable) target() any {
	if v.num {
		return &v.f
	}
	return &v.t
}

// value is the scanned value, read as the Prediction Log path reads the same JSON value
// (predlog's decoder): a numeric variable takes numbers, and strings that hold a number (as
// strconv.ParseFloat reads them); a categorical one takes strings, numbers (their text) and
// booleans ("true", "false"); anything else is null, and so are non-finite numbers. bad is true
// for a value of the wrong type (source.Column.Mismatch), whatever it is read as: a string or a
// boolean for a numeric variable, a number for a categorical one, an object or an array for
// either. A text column's value is a string, a numeric column's a number. cat is valid until the
// next row is scanned.
func (v *variable) value() (num float64, cat []byte, ok, bad bool) {
	numeric := v.col.Kind != source.Categorical
	if v.num {
		if !v.f.Valid {
			return math.NaN(), nil, false, false
		}
		if !numeric {
			if math.IsInf(v.f.Float64, 0) || math.IsNaN(v.f.Float64) {
				return math.NaN(), nil, false, true
			}
			v.buf = strconv.AppendFloat(v.buf[:0], v.f.Float64, 'g', -1, 64)
			return 0, v.buf, true, true
		}
		if math.IsInf(v.f.Float64, 0) || math.IsNaN(v.f.Float64) {
			return math.NaN(), nil, false, false
		}
		return v.f.Float64, nil, true, false
	}
	if v.t == nil {
		return math.NaN(), nil, false, false
	}
	txt := []byte(v.t)
	if v.jsonb {
		switch {
		case len(txt) == 0 || string(txt) == "null":
			return math.NaN(), nil, false, false
		case txt[0] == '{' || txt[0] == '[':
			return math.NaN(), nil, false, true
		case txt[0] == '"':
			str, valid := jsonString(txt)
			if !valid {
				return math.NaN(), nil, false, true
			}
			if numeric {
				return parseNumber(str)
			}
			return 0, str, true, false
		case string(txt) == "true" || string(txt) == "false":
			if numeric {
				return math.NaN(), nil, false, true
			}
			return 0, txt, true, false
		}
		// A JSON number.
		if !numeric {
			return 0, txt, true, true
		}
		f, err := strconv.ParseFloat(string(txt), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return math.NaN(), nil, false, false
		}
		return f, nil, true, false
	}
	if !numeric {
		return 0, txt, true, false
	}
	return parseNumber(txt)
}

// jsonString is the value of a JSON string literal, as encoding/json decodes it: its bytes
// between the quotes when it has no escapes and is valid UTF-8 (what json.Unmarshal returns
// unchanged), otherwise json.Unmarshal's result. valid is false for a malformed literal.
func jsonString(lit []byte) (str []byte, valid bool) {
	if len(lit) >= 2 && lit[len(lit)-1] == '"' {
		body := lit[1 : len(lit)-1]
		plain := true
		for _, c := range body {
			if c == '\\' || c == '"' || c < ' ' {
				plain = false
				break
			}
		}
		if plain && utf8.Valid(body) {
			return body, true
		}
	}
	var s string
	if json.Unmarshal(lit, &s) != nil {
		return nil, false
	}
	return []byte(s), true
}

// parseNumber reads a string given for a numeric variable: its number when it holds one (NaN for
// a non-finite one), else null; always a type mismatch.
func parseNumber(s []byte) (float64, []byte, bool, bool) {
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return math.NaN(), nil, false, true
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return math.NaN(), nil, true, true
	}
	return f, nil, true, true
}

// params collects the bind parameters of a statement: bind appends a value and returns its
// placeholder ($n).
type params struct {
	args []any
}

func (p *params) bind(v any) string {
	p.args = append(p.args, v)
	return "$" + strconv.Itoa(len(p.args))
}

// selectList builds the value columns of a table for a model: prediction, label and features.
type selectList struct {
	params
	vars []*variable
}

// newVariable reads a column (or a jsonb feature key) into c.
func (l *selectList) add(ct colType, expr string, c *source.Column) {
	v := &variable{col: c}
	switch {
	case ct.jsonb():
		// The JSON text, read in the plugin as the Prediction Log path reads its NDJSON
		// (strconv.ParseFloat for numbers, beyond float8's range null): jsonb's text output is
		// cheaper in PostgreSQL than a conversion to float8 (numeric → text → float8 there) and
		// cannot fail (1M records × 20 features: 4.9 s against 7.8 s for jsonb_typeof + ::float8).
		v.expr, v.jsonb = "("+expr+")::text", true
	case ct.numeric():
		v.expr, v.num = floatOf(expr, ct), true
	default:
		v.expr = "(" + expr + ")::text"
	}
	l.vars = append(l.vars, v)
}

// reader reads rows of a table into a batch.
type reader struct {
	b      *source.Batch
	t      settings.Table
	list   selectList
	fixed  []string // ts, version, latency, error, score, label_ts expressions
	ts     pgtype.Timestamptz
	ver    pgtype.DriverBytes // valid until the next row
	lat    pgtype.Float8
	isErr  pgtype.Bool
	score  pgtype.Float8
	lts    pgtype.Timestamptz
	dest   []any
	vcodes map[string]int32
	hasTS  bool
	hasLTS bool
}

// newReader prepares the SELECT list of a table for a model. errorStatus is bound as a parameter.
// lean reads only the time, the version and the variables (source.Sampler): latency and score only
// when named, status and label time not at all.
func (s *Source) newReader(m *source.Model, t settings.Table, info tableInfo, errorStatus string, variables []string, lean bool) *reader {
	wanted := func(name string) bool { return variables == nil || containsString(variables, name) }
	r := &reader{t: t, vcodes: map[string]int32{}}
	b := &source.Batch{Model: m.Name, Prediction: source.NewColumn(m.Prediction.Type, 0), Label: source.NewColumn(m.Prediction.Type, 0),
		Features: make(map[string]*source.Column, len(m.Features))}
	r.b = b
	l := &r.list
	// $1 is the model; the caller binds the rest after the select list.
	l.bind(m.Name)
	add := func(expr string, target any) {
		r.fixed = append(r.fixed, expr)
		r.dest = append(r.dest, target)
	}
	null := "NULL"
	if t.TS != "" {
		add(col(t.TS), &r.ts)
		r.hasTS = true
	} else {
		add(null+"::timestamptz", &r.ts)
	}
	if t.Version != "" {
		add(col(t.Version)+"::text", &r.ver)
	} else {
		add(null+"::text", &r.ver)
	}
	if t.LatencyMs != "" && (!lean || wanted("latency")) {
		add(floatOf(col(t.LatencyMs), info.cols[t.LatencyMs]), &r.lat)
	} else {
		add(null+"::float8", &r.lat)
	}
	if t.Status != "" && !lean {
		add("("+col(t.Status)+"::text = "+l.bind(errorStatus)+")", &r.isErr)
	} else {
		add("false", &r.isErr)
	}
	if t.Score != "" && (!lean || wanted("score")) {
		add(floatOf(col(t.Score), info.cols[t.Score]), &r.score)
	} else {
		add(null+"::float8", &r.score)
	}
	if t.LabelTS != "" && !lean {
		add(col(t.LabelTS), &r.lts)
		r.hasLTS = true
	} else {
		add(null+"::timestamptz", &r.lts)
	}
	if t.Prediction != "" && wanted("prediction") {
		l.add(info.cols[t.Prediction], col(t.Prediction), b.Prediction)
	}
	if t.Label != "" && wanted("label") {
		l.add(info.cols[t.Label], col(t.Label), b.Label)
	}
	for _, f := range m.Features {
		if !wanted(f.Name) {
			continue
		}
		c := source.NewColumn(f.Type, 0)
		b.FeatureNames = append(b.FeatureNames, f.Name)
		b.Features[f.Name] = c
		switch {
		case len(t.FeatureColumns) > 0:
			if ct, ok := info.cols[f.Name]; ok && containsString(t.FeatureColumns, f.Name) {
				l.add(ct, col(f.Name), c)
			} else {
				l.vars = append(l.vars, &variable{expr: "NULL::text", col: c})
			}
		case t.Features != "":
			l.add(colType{typ: "jsonb"}, col(t.Features)+" -> "+l.bind(f.Name), c)
		default:
			l.vars = append(l.vars, &variable{expr: "NULL::text", col: c})
		}
	}
	for _, v := range l.vars {
		r.dest = append(r.dest, v.target())
	}
	return r
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// selectSQL is the SELECT list.
func (r *reader) selectSQL() string {
	parts := append([]string(nil), r.fixed...)
	for _, v := range r.list.vars {
		parts = append(parts, v.expr)
	}
	return strings.Join(parts, ", ")
}

// columns is the number of columns of the select list.
func (r *reader) columns() int {
	return len(r.fixed) + len(r.list.vars)
}

// row decodes the scanned row; slot says where: len = append, else replace that record.
func (r *reader) row(slot int) error {
	b := r.b
	app := slot == b.Len()
	ts := int64(0)
	if r.ts.Valid && r.ts.InfinityModifier == pgtype.Finite {
		ts = r.ts.Time.UnixNano()
	}
	// A NULL version is "" (no allocation for a known version: the map lookup does not copy).
	code, ok := r.vcodes[string(r.ver)]
	if !ok {
		c, err := source.NextCode(len(b.Versions))
		if err != nil {
			return err
		}
		code = c
		vname := string(r.ver)
		r.vcodes[vname] = code
		b.Versions = append(b.Versions, vname)
	}
	lat, score := math.NaN(), math.NaN()
	if r.lat.Valid {
		lat = finite(r.lat.Float64)
	}
	if r.score.Valid {
		score = finite(r.score.Float64)
	}
	isErr := r.isErr.Valid && r.isErr.Bool
	lts := source.NoTime
	if r.lts.Valid && r.lts.InfinityModifier == pgtype.Finite {
		lts = r.lts.Time.UnixNano()
	}
	if app {
		b.TS = append(b.TS, ts)
		b.Version = append(b.Version, code)
		b.LatencyMs = append(b.LatencyMs, lat)
		b.Error = append(b.Error, isErr)
		b.Score = append(b.Score, score)
		if r.hasLTS {
			b.LabelTS = append(b.LabelTS, lts)
		}
	} else {
		b.TS[slot], b.Version[slot], b.LatencyMs[slot], b.Error[slot], b.Score[slot] = ts, code, lat, isErr, score
		if r.hasLTS {
			b.LabelTS[slot] = lts
		}
	}
	for _, v := range r.list.vars {
		num, cat, ok, bad := v.value()
		c := v.col
		if bad || c.Mismatch != nil {
			c.MarkMismatch(slot, bad)
		}
		if c.Kind == source.Categorical {
			code := int32(-1)
			if ok {
				var err error
				if code, err = c.CodeBytes(cat); err != nil {
					return err
				}
			}
			if app {
				c.Cat = append(c.Cat, code)
			} else {
				c.Cat[slot] = code
			}
			continue
		}
		if app {
			c.Num = append(c.Num, num)
		} else {
			c.Num[slot] = num
		}
	}
	// A variable the table does not have (no prediction or label column) stays null.
	for _, c := range []*source.Column{b.Prediction, b.Label} {
		if c.Len() < b.Len() {
			c.AppendNull()
		}
	}
	return nil
}

func finite(v float64) float64 {
	if math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
}

// Records reads the records of a model with Start < ts <= End (source.PredictionLog), through the
// (model, ts) index: with a Limit the newest Limit+1 first (ORDER BY ts DESC LIMIT), so that a cut
// keeps the newest windows complete, as the Prediction Log API does with order=desc.
func (s *Source) Records(ctx context.Context, req source.RecordsRequest) (*source.Batch, error) {
	m, err := s.model(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	info, err := s.checkTable(ctx, "records", s.rec, true)
	if err != nil {
		return nil, err
	}
	r := s.newReader(m, s.rec, info, s.errorStatus, req.Variables, false)
	b := r.b
	if !req.End.After(req.Start) {
		return b, nil
	}
	l := &r.list
	where := fmt.Sprintf("%s = $1 AND %s > %s AND %s <= %s", col(s.rec.Model), col(s.rec.TS), l.bind(req.Start), col(s.rec.TS), l.bind(req.End))
	if req.Version != "" && s.rec.Version != "" {
		where += fmt.Sprintf(" AND %s = %s", col(s.rec.Version), l.bind(req.Version))
	}
	order := " ORDER BY " + col(s.rec.TS)
	if req.Limit > 0 {
		order += " DESC LIMIT " + l.bind(int64(req.Limit)+1)
	}
	q := "SELECT " + r.selectSQL() + " FROM " + ident(s.rec) + " WHERE " + where + order
	what := fmt.Sprintf("records of model %q", req.Model)
	rows, err := s.pool.Query(ctx, q, l.args...)
	if err != nil {
		return nil, s.dbError(ctx, what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if req.Limit > 0 && b.Len() == req.Limit {
			b.Truncated = true
			break
		}
		if err := rows.Scan(r.dest...); err != nil {
			return nil, s.dbError(ctx, what, err)
		}
		if err := r.row(b.Len()); err != nil {
			return nil, s.dbError(ctx, what, err)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.dbError(ctx, what, err)
	}
	if req.Limit > 0 {
		reverse(b)
		if b.Truncated && b.Len() > 0 {
			b.Newest, b.CompleteAfter = true, b.TS[0]
		}
	}
	return b, nil
}

// reverse turns a newest-first batch into ascending time order.
func reverse(b *source.Batch) {
	rev := func(n int, swap func(i, j int)) {
		for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
			swap(i, j)
		}
	}
	n := b.Len()
	rev(n, func(i, j int) { b.TS[i], b.TS[j] = b.TS[j], b.TS[i] })
	rev(n, func(i, j int) { b.Version[i], b.Version[j] = b.Version[j], b.Version[i] })
	rev(n, func(i, j int) { b.LatencyMs[i], b.LatencyMs[j] = b.LatencyMs[j], b.LatencyMs[i] })
	rev(n, func(i, j int) { b.Error[i], b.Error[j] = b.Error[j], b.Error[i] })
	rev(n, func(i, j int) { b.Score[i], b.Score[j] = b.Score[j], b.Score[i] })
	if len(b.LabelTS) == n {
		rev(n, func(i, j int) { b.LabelTS[i], b.LabelTS[j] = b.LabelTS[j], b.LabelTS[i] })
	}
	cols := []*source.Column{b.Prediction, b.Label}
	for _, name := range b.FeatureNames {
		cols = append(cols, b.Features[name])
	}
	for _, c := range cols {
		if c.Mismatch != nil && n > 0 {
			c.MarkMismatch(n-1, c.MismatchAt(n-1)) // full length before reversing
			rev(n, func(i, j int) { c.Mismatch[i], c.Mismatch[j] = c.Mismatch[j], c.Mismatch[i] })
		}
		if c.Kind == source.Categorical {
			rev(len(c.Cat), func(i, j int) { c.Cat[i], c.Cat[j] = c.Cat[j], c.Cat[i] })
		} else {
			rev(len(c.Num), func(i, j int) { c.Num[i], c.Num[j] = c.Num[j], c.Num[i] })
		}
	}
}

// Reference reads a model's reference sample (source.PredictionLog). With a version, the rows of
// that version; without, the model's pooled sample: its rows with a NULL version when it has any,
// else all its rows. A table without a version column answers every version with all the model's
// rows. Beyond maxReferenceSamples rows a deterministic uniform sample (source.Reservoir, in
// the order the table returns the rows: ORDER BY ts when the table has times) is kept.
func (s *Source) Reference(ctx context.Context, model, version string) (*source.Batch, error) {
	m, err := s.model(ctx, model)
	if err != nil {
		return nil, err
	}
	info, err := s.describe(ctx, s.ref)
	if err != nil {
		return nil, err
	}
	if !info.exists {
		return nil, fmt.Errorf("%w: table %q does not exist (sql.reference.table)", source.ErrNoReference, tableText(s.ref))
	}
	if info, err = s.checkTable(ctx, "reference", s.ref, false); err != nil {
		return nil, err
	}
	r := s.newReader(m, s.ref, info, s.errorStatus, nil, false)
	b := r.b
	l := &r.list
	where := col(s.ref.Model) + " = $1"
	what := fmt.Sprintf("reference of model %q", model)
	if s.ref.Version != "" {
		if version != "" {
			where += " AND " + col(s.ref.Version) + " = " + l.bind(version)
		} else {
			var pooled bool
			q := fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s WHERE %s = $1 AND %s IS NULL)", ident(s.ref), col(s.ref.Model), col(s.ref.Version))
			if err := s.pool.QueryRow(ctx, q, model).Scan(&pooled); err != nil {
				return nil, s.dbError(ctx, what, err)
			}
			if pooled {
				where += " AND " + col(s.ref.Version) + " IS NULL"
			}
		}
	}
	order := ""
	if s.ref.TS != "" {
		order = " ORDER BY " + col(s.ref.TS)
	}
	q := "SELECT " + r.selectSQL() + " FROM " + ident(s.ref) + " WHERE " + where + order
	rows, err := s.pool.Query(ctx, q, l.args...)
	if err != nil {
		return nil, s.dbError(ctx, what, err)
	}
	defer rows.Close()
	res := source.NewReservoir(s.maxRef)
	for rows.Next() {
		slot := res.Next()
		if slot < 0 {
			continue
		}
		if err := rows.Scan(r.dest...); err != nil {
			return nil, s.dbError(ctx, what, err)
		}
		if err := r.row(slot); err != nil {
			return nil, s.dbError(ctx, what, err)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.dbError(ctx, what, err)
	}
	if res.Seen() > int64(b.Len()) {
		b.SampledFrom = res.Seen()
	}
	return b, nil
}
