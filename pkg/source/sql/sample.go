package sql

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

var _ source.Sampler = (*Source)(nil)

// SampleRecords reads the records of a model with Start < ts <= End (source.Sampler): only the
// time, the version and the named variables cross the wire (numeric columns as float8 in
// PostgreSQL's binary format, jsonb values as their JSON text). When the range holds more than Limit records, the Limit records with the smallest hash
// of their time are read, in two statements:
//
//	WITH a AS MATERIALIZED (SELECT <h> AS h FROM t WHERE <range> ORDER BY 1 LIMIT $n)
//	SELECT max(h), count(*) FILTER (WHERE h < (SELECT max(h) FROM a)) FROM a      -- thr, c
//
//	SELECT * FROM (SELECT ts, version, v… FROM t WHERE <range> AND <h> < $thr) lo
//	UNION ALL SELECT * FROM (SELECT ts, version, v… FROM t WHERE <range> AND <h> = $thr
//	                         ORDER BY <hash of the values>, 1, 2, … LIMIT $n − c) eq
//	ORDER BY 1
//
// with <h> = hashint8extended(<ts in µs>, 0) and <range> the model, version and range. A hash is a
// pseudo-random key that does not depend on a row's position, so the sample is a uniform one of
// the whole range (every window keeps its share, in proportion to its records), and the same rows
// give the same sample in every run. Hashing the time alone keeps the first statement on the
// (model, ts) index and the second one's jsonb reads to the rows kept: ordering every row by a
// hash of its values (top-N over the rows with every value extracted, spilled to disk above
// work_mem) took 8× longer over 1M records × 20 jsonb features. Records with the same time share a
// hash: they are kept or dropped together, but at the threshold, where a hash of their values and
// then the values decide, so that ties cannot make the sample vary or exceed Limit. The range's
// count comes first (through the (model, ts) index), so that a range within the limit is read
// whole and in time order, without hashing.
func (s *Source) SampleRecords(ctx context.Context, req source.RecordsRequest) (*source.Batch, error) {
	m, err := s.model(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	info, err := s.checkTable(ctx, "records", s.rec, true)
	if err != nil {
		return nil, err
	}
	r := s.newReader(m, s.rec, info, "", req.Variables, true)
	b := r.b
	if !req.End.After(req.Start) {
		return b, nil
	}
	l := &r.list
	where := s.rangeWhere(l.bind, "$1", req) // the reader bound the model as $1
	what := fmt.Sprintf("records of model %q", req.Model)
	var total int64
	if req.Limit > 0 {
		var c params
		cwhere := s.rangeWhere(c.bind, "", req)
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM "+ident(s.rec)+" WHERE "+cwhere, c.args...).Scan(&total); err != nil {
			return nil, s.dbError(ctx, what, err)
		}
	}
	sampled := req.Limit > 0 && total > int64(req.Limit)
	q := "SELECT " + r.selectSQL() + " FROM " + ident(s.rec) + " WHERE " + where
	switch {
	case sampled:
		h := fmt.Sprintf("hashint8extended((extract(epoch FROM %s) * 1000000)::int8, 0)", col(s.rec.TS))
		var thr *int64 // NULL when the range's records were deleted since the count
		var below int64
		var tp params
		twhere := s.rangeWhere(tp.bind, "", req)
		tq := fmt.Sprintf("WITH a AS MATERIALIZED (SELECT %s AS h FROM %s WHERE %s ORDER BY 1 LIMIT %s)\nSELECT max(h), count(*) FILTER (WHERE h < (SELECT max(h) FROM a)) FROM a",
			h, ident(s.rec), twhere, tp.bind(int64(req.Limit)))
		if err := s.pool.QueryRow(ctx, tq, tp.args...).Scan(&thr, &below); err != nil {
			return nil, s.dbError(ctx, what, err)
		}
		if thr == nil {
			return b, nil
		}
		key := make([]string, 0, len(l.vars)+1)
		for _, v := range l.vars {
			key = append(key, "("+v.expr+")::text")
		}
		n := r.columns()
		pos := make([]string, 0, n)
		for i := 1; i <= n; i++ {
			pos = append(pos, strconv.Itoa(i))
		}
		t := l.bind(*thr)
		q = fmt.Sprintf("SELECT * FROM (%s AND %s < %s) lo\nUNION ALL SELECT * FROM (%s AND %s = %s\nORDER BY hashtextextended(concat_ws(',', %s), 0), %s LIMIT %s) eq\nORDER BY 1",
			q, h, t, q, h, t, strings.Join(append(key, "''"), ", "), strings.Join(pos, ", "), l.bind(int64(req.Limit)-below))
	case req.Limit > 0:
		// Rows added since the count cannot make the batch larger than the limit.
		q += " ORDER BY " + col(s.rec.TS) + " LIMIT " + l.bind(int64(req.Limit))
	default:
		q += " ORDER BY " + col(s.rec.TS)
	}
	rows, err := s.pool.Query(ctx, q, l.args...)
	if err != nil {
		return nil, s.dbError(ctx, what, err)
	}
	defer rows.Close()
	for rows.Next() {
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
	if sampled {
		b.SampledFrom = total
	}
	return b, nil
}

// rangeWhere is the condition of a request's rows: its model (the parameter model, or bound when
// ""), range and version.
func (s *Source) rangeWhere(bind func(any) string, model string, req source.RecordsRequest) string {
	if model == "" {
		model = bind(req.Model)
	}
	where := fmt.Sprintf("%s = %s AND %s > %s AND %s <= %s", col(s.rec.Model), model, col(s.rec.TS), bind(req.Start), col(s.rec.TS), bind(req.End))
	if req.Version != "" && s.rec.Version != "" {
		where += fmt.Sprintf(" AND %s = %s", col(s.rec.Version), bind(req.Version))
	}
	return where
}
