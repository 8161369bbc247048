package sql

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// typeSample is how many rows (the newest records, and reference rows) the feature and prediction
// types of a jsonb column are read from.
const typeSample = 1000

// Models lists the models of the records table (source.PredictionLog), cached for metaTTL.
//
// Names and versions come from loose index scans: a recursive CTE that asks the index for the
// smallest name greater than the previous one, one index probe per distinct value, so that listing
// three models in a table of ten million rows reads a handful of index pages, not the table
// (PostgreSQL has no skip scan; SELECT DISTINCT would read every row). The model scan uses the
// (model, ts) index; the version scan the (model, version) index (README).
//
// Feature and prediction types come from the column types (numeric → numeric; text, boolean,
// enum → categorical) or, for jsonb, from the values: the model's reference rows first, else its
// newest records (any string or boolean value makes a variable categorical).
func (s *Source) Models(ctx context.Context) ([]source.Model, error) {
	s.mu.Lock()
	if s.models != nil && time.Since(s.modelsAt) < metaTTL {
		ms := s.models
		s.mu.Unlock()
		return ms, nil
	}
	s.mu.Unlock()
	recInfo, err := s.checkTable(ctx, "records", s.rec, true)
	if err != nil {
		return nil, err
	}
	refInfo, err := s.describe(ctx, s.ref)
	if err != nil {
		return nil, err
	}
	if refInfo.exists {
		if refInfo, err = s.checkTable(ctx, "reference", s.ref, false); err != nil {
			return nil, err
		}
	}
	names, err := s.modelNames(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]source.Model, 0, len(names))
	for _, name := range names {
		m, err := s.describeModel(ctx, name, recInfo, refInfo)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	s.mu.Lock()
	s.models, s.modelsAt = out, time.Now()
	s.mu.Unlock()
	return out, nil
}

// modelNames is the loose index scan over the model column (at most limits.MaxSQLModels names).
func (s *Source) modelNames(ctx context.Context) ([]string, error) {
	t, m := ident(s.rec), col(s.rec.Model)
	q := fmt.Sprintf(`WITH RECURSIVE m(name) AS (
	(SELECT %[2]s FROM %[1]s WHERE %[2]s IS NOT NULL ORDER BY %[2]s LIMIT 1)
	UNION ALL
	SELECT (SELECT %[2]s FROM %[1]s WHERE %[2]s > m.name ORDER BY %[2]s LIMIT 1) FROM m WHERE m.name IS NOT NULL
) SELECT name FROM m WHERE name IS NOT NULL LIMIT $1`, t, m)
	return s.strings(ctx, "listing the models of table "+tableText(s.rec), q, limits.MaxSQLModels)
}

// versions is the loose index scan over one model's versions.
func (s *Source) versions(ctx context.Context, model string) ([]string, error) {
	if s.rec.Version == "" {
		return nil, nil
	}
	t, m, v := ident(s.rec), col(s.rec.Model), col(s.rec.Version)
	q := fmt.Sprintf(`WITH RECURSIVE v(name) AS (
	(SELECT %[3]s FROM %[1]s WHERE %[2]s = $2 AND %[3]s IS NOT NULL ORDER BY %[3]s LIMIT 1)
	UNION ALL
	SELECT (SELECT %[3]s FROM %[1]s WHERE %[2]s = $2 AND %[3]s > v.name ORDER BY %[3]s LIMIT 1) FROM v WHERE v.name IS NOT NULL
) SELECT name FROM v WHERE name IS NOT NULL LIMIT $1`, t, m, v)
	return s.strings(ctx, fmt.Sprintf("listing the versions of model %q", model), q, limits.MaxSQLVersions, model)
}

func (s *Source) strings(ctx context.Context, what, q string, limit int, args ...any) ([]string, error) {
	rows, err := s.pool.Query(ctx, q, append([]any{limit}, args...)...)
	if err != nil {
		return nil, s.dbError(ctx, what, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, s.dbError(ctx, what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbError(ctx, what, err)
	}
	return out, nil
}

// describeModel reads a model's versions, features and prediction type.
func (s *Source) describeModel(ctx context.Context, name string, recInfo, refInfo tableInfo) (source.Model, error) {
	m := source.Model{Name: name, Prediction: source.Output{Type: source.Numeric}}
	var err error
	if m.Versions, err = s.versions(ctx, name); err != nil {
		return m, err
	}
	if m.Versions == nil {
		m.Versions = []string{}
	}
	// Variables whose type comes from values: jsonb columns, and jsonb feature objects.
	type kinds struct{ refCat, refNum, recCat, recNum bool }
	vals := map[string]*kinds{}
	decide := func(k *kinds) source.Kind {
		switch {
		case k == nil:
			return source.Numeric
		case k.refCat:
			return source.Categorical
		case k.refNum:
			return source.Numeric
		case k.recCat:
			return source.Categorical
		}
		return source.Numeric
	}
	jsonKinds := func(isRef bool, info tableInfo) error {
		tb := s.rec
		if isRef {
			tb = s.ref
		}
		var parts []string
		if tb.Features != "" && info.cols[tb.Features].jsonb() {
			parts = append(parts, fmt.Sprintf(`SELECT 'f:' || e.key AS k, jsonb_typeof(e.value) AS t FROM r,
	jsonb_each(CASE WHEN jsonb_typeof(r.%[1]s) = 'object' THEN r.%[1]s ELSE '{}'::jsonb END) e`, col(tb.Features)))
		}
		if p := tb.Prediction; p != "" && info.cols[p].jsonb() {
			parts = append(parts, fmt.Sprintf(`SELECT 'p:' AS k, jsonb_typeof(r.%s::jsonb) AS t FROM r`, col(p)))
		}
		for _, f := range tb.FeatureColumns {
			if info.cols[f].jsonb() {
				parts = append(parts, fmt.Sprintf(`SELECT %s AS k, jsonb_typeof(r.%s::jsonb) AS t FROM r`, quoteLiteral("f:"+f), col(f)))
			}
		}
		if len(parts) == 0 {
			return nil
		}
		order := ""
		if !isRef {
			order = " ORDER BY " + col(tb.TS) + " DESC"
		}
		q := fmt.Sprintf(`WITH r AS (SELECT * FROM %s WHERE %s = $1%s LIMIT %d)
SELECT k, bool_or(t IN ('string', 'boolean')), bool_or(t = 'number') FROM (%s) x GROUP BY k ORDER BY k LIMIT %d`,
			ident(tb), col(tb.Model), order, typeSample, strings.Join(parts, "\nUNION ALL\n"), limits.MaxSQLFeatures+1)
		rows, err := s.pool.Query(ctx, q, name)
		if err != nil {
			return s.dbError(ctx, fmt.Sprintf("reading the feature types of model %q from table %s", name, tableText(tb)), err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var cat, num *bool
			if err := rows.Scan(&k, &cat, &num); err != nil {
				return s.dbError(ctx, "reading feature types", err)
			}
			kk := vals[k]
			if kk == nil {
				kk = &kinds{}
				vals[k] = kk
			}
			c, n := cat != nil && *cat, num != nil && *num
			if isRef {
				kk.refCat, kk.refNum = c, n
			} else {
				kk.recCat, kk.recNum = c, n
			}
		}
		return s.dbError(ctx, "reading feature types", rows.Err())
	}
	if refInfo.exists {
		if err := jsonKinds(true, refInfo); err != nil {
			return m, err
		}
	}
	if err := jsonKinds(false, recInfo); err != nil {
		return m, err
	}
	// Prediction.
	if p := s.rec.Prediction; p != "" {
		ct := recInfo.cols[p]
		switch {
		case ct.jsonb():
			m.Prediction.Type = decide(vals["p:"])
		case ct.numeric():
			m.Prediction.Type = source.Numeric
		default:
			m.Prediction.Type = source.Categorical
		}
	}
	delete(vals, "p:")
	// Features: the wide columns in their order, else the keys of the jsonb objects by name.
	if len(s.rec.FeatureColumns) > 0 {
		for _, f := range s.rec.FeatureColumns {
			ct := recInfo.cols[f]
			kind := source.Numeric
			switch {
			case ct.jsonb():
				kind = decide(vals["f:"+f])
			case !ct.numeric():
				kind = source.Categorical
			}
			m.Features = append(m.Features, source.Feature{Name: f, Type: kind})
		}
	} else {
		for _, k := range sortedKeys(vals) {
			if len(m.Features) == limits.MaxSQLFeatures {
				break
			}
			m.Features = append(m.Features, source.Feature{Name: strings.TrimPrefix(k, "f:"), Type: decide(vals[k])})
		}
	}
	return m, nil
}

// quoteLiteral quotes a string as an SQL literal (for constant labels in generated SQL; values
// from queries are always bind parameters).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, "\x00", ""), "'", "''") + "'"
}
