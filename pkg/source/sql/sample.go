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
// time, the version and the named variables cross the wire (float8 values in PostgreSQL's binary
// format). When the range holds more than Limit records, the Limit records with the smallest hash
// of their time and values are read:
//
//	SELECT ts, version, v… FROM t WHERE model = $1 AND ts > $2 AND ts <= $3 [AND version = $4]
//	ORDER BY hashtextextended(concat_ws(',', v…), hashint8extended(<ts in µs>, 0)), 1, 2, … LIMIT $n
//
// A hash is a pseudo-random key that does not depend on a row's position, so the sample is a
// uniform one of the whole range (every window keeps its share, in proportion to its records),
// and the same rows give the same sample in every run; the select list after the hash breaks
// ties, so that equal hashes cannot make it vary either. PostgreSQL sorts with a bounded heap of
// Limit rows (top-N), and the plugin holds at most Limit records. The range's count comes first
// (through the (model, ts) index), so that a range within the limit is read whole and in time
// order, without hashing.
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
		var cargs []any
		cwhere := s.rangeWhere(func(v any) string { cargs = append(cargs, v); return "$" + strconv.Itoa(len(cargs)) }, "", req)
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM "+ident(s.rec)+" WHERE "+cwhere, cargs...).Scan(&total); err != nil {
			return nil, s.dbError(ctx, what, err)
		}
	}
	sampled := req.Limit > 0 && total > int64(req.Limit)
	q := "SELECT " + r.selectSQL() + " FROM " + ident(s.rec) + " WHERE " + where
	switch {
	case sampled:
		key := make([]string, 0, len(l.vars)+1)
		for _, v := range l.vars {
			key = append(key, "("+v.expr+")::text")
			if v.other != "" {
				key = append(key, v.other)
			}
		}
		n := r.columns()
		pos := make([]string, 0, n)
		for i := 1; i <= n; i++ {
			pos = append(pos, strconv.Itoa(i))
		}
		q = fmt.Sprintf("SELECT * FROM (%s\nORDER BY hashtextextended(concat_ws(',', %s), hashint8extended((extract(epoch FROM %s) * 1000000)::int8, 0)), %s LIMIT %s) s ORDER BY 1",
			q, strings.Join(append(key, "''"), ", "), col(s.rec.TS), strings.Join(pos, ", "), l.bind(int64(req.Limit)))
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
