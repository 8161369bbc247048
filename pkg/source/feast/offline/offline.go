// Package offline reads a Feast offline store in PostgreSQL: Feast's data-quality monitoring
// tables (feast_monitoring_feature_metrics, Feast v0.64+) and point-in-time rows of feature views'
// batch sources (PostgreSQLSource tables), with the work pushed to PostgreSQL.
package offline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/pgconn"
)

// Store reads the offline store database.
type Store struct {
	pool     *pgxpool.Pool
	password string
}

// Options configure the offline store connection (feast.offlineStore).
type Options struct {
	URL      string
	Password string
	Timeout  time.Duration
}

// New returns a reader of the offline store (it connects lazily).
func New(o Options) (*Store, error) {
	pool, err := pgconn.Open(pgconn.Options{URL: o.URL, Password: o.Password, Timeout: o.Timeout, MaxConns: 4,
		What: "feast.offlineStore"})
	if err != nil {
		return nil, err
	}
	return &Store{pool: pool, password: o.Password}, nil
}

// NewFromPool wraps an existing pool (tests and the demo).
func NewFromPool(p *pgxpool.Pool) *Store { return &Store{pool: p} }

// Close closes the pool.
func (s *Store) Close() error { s.pool.Close(); return nil }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.wrap(s.pool.Ping(ctx)) }

func (s *Store) wrap(err error) error { return pgconn.Wrap(err, "feast offline store", s.password) }

// MetricsTable is Feast's per-feature monitoring table.
const MetricsTable = "feast_monitoring_feature_metrics"

// ErrNoMonitoring means the offline store has no monitoring tables: Feast's data-quality
// monitoring was never run against it.
var ErrNoMonitoring = errors.New("Feast data-quality monitoring is not set up in the offline store: table " + MetricsTable +
	" does not exist (it is created by Feast v0.64+ monitoring jobs, `feast monitor`)")

// Data source types of monitoring rows.
const (
	SourceBatch = "batch"
	SourceLog   = "log"
)

// MetricRow is one row of feast_monitoring_feature_metrics. Nullable numbers are NaN when null.
type MetricRow struct {
	View, Feature  string
	Date           time.Time // metric_date, UTC midnight
	Granularity    string
	DataSourceType string
	ComputedAt     time.Time
	IsBaseline     bool
	FeatureType    string
	RowCount       float64
	NullCount      float64
	NullRate       float64
	Mean, Stddev   float64
	Min, Max       float64
	P50, P75, P90  float64
	P95, P99       float64
	// Histogram is the raw JSONB (nil when null).
	Histogram json.RawMessage
}

// MetricsQuery selects monitoring rows.
type MetricsQuery struct {
	Project string
	// View empty means every view; Features empty every feature.
	View     string
	Features []string
	// Granularity empty means every granularity.
	Granularity string
	// DataSourceType empty means both.
	DataSourceType string
	// Start and End bound metric_date (inclusive, by UTC date).
	Start, End time.Time
	// Baseline selects only baseline rows (whatever their date) when true.
	Baseline bool
	// Limit caps the rows (0: limits.FeastMaxDQMRows).
	Limit int
}

const metricColumns = `feature_view_name, feature_name, metric_date, granularity, data_source_type, computed_at,
	is_baseline, feature_type, row_count, null_count, null_rate, mean, stddev, min_val, max_val, p50, p75, p90, p95, p99, histogram`

// FeatureMetrics returns the selected rows ordered by view, feature, data source type and date,
// at most Limit of them (truncated is then true). A missing table is ErrNoMonitoring.
func (s *Store) FeatureMetrics(ctx context.Context, q MetricsQuery) (rows []MetricRow, truncated bool, err error) {
	limit := q.Limit
	if limit <= 0 {
		limit = limits.FeastMaxDQMRows
	}
	where := []string{"project_id = $1"}
	args := []any{q.Project}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if q.View != "" {
		add("feature_view_name = $%d", q.View)
	}
	if len(q.Features) > 0 {
		add("feature_name = ANY($%d)", q.Features)
	}
	if q.Granularity != "" {
		add("granularity = $%d", q.Granularity)
	}
	if q.DataSourceType != "" {
		add("data_source_type = $%d", q.DataSourceType)
	}
	if q.Baseline {
		where = append(where, "is_baseline")
	} else {
		if !q.Start.IsZero() {
			add("metric_date >= $%d::date", q.Start.UTC().Format(time.DateOnly))
		}
		if !q.End.IsZero() {
			add("metric_date <= $%d::date", q.End.UTC().Format(time.DateOnly))
		}
	}
	args = append(args, limit+1)
	sql := "SELECT " + metricColumns + " FROM " + MetricsTable + " WHERE " + strings.Join(where, " AND ") +
		fmt.Sprintf(" ORDER BY feature_view_name, feature_name, data_source_type, granularity, metric_date, computed_at LIMIT $%d", len(args))
	res, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		if pgconn.UndefinedTable(err) {
			return nil, false, ErrNoMonitoring
		}
		return nil, false, s.wrap(err)
	}
	defer res.Close()
	for res.Next() {
		if len(rows) == limit {
			truncated = true
			break
		}
		var r MetricRow
		var date pgtype.Date
		var gran, dst, ftype *string
		var nums [10]*float64
		var rc, nc *int64
		if err := res.Scan(&r.View, &r.Feature, &date, &gran, &dst, &r.ComputedAt, &r.IsBaseline, &ftype, &rc, &nc,
			&nums[0], &nums[1], &nums[2], &nums[3], &nums[4], &nums[5], &nums[6], &nums[7], &nums[8], &nums[9], &r.Histogram); err != nil {
			return nil, false, s.wrap(err)
		}
		r.Date = date.Time.UTC()
		r.Granularity, r.DataSourceType, r.FeatureType = deref(gran), deref(dst), deref(ftype)
		r.ComputedAt = r.ComputedAt.UTC()
		r.RowCount, r.NullCount = intOrNaN(rc), intOrNaN(nc)
		f := func(i int) float64 {
			if nums[i] == nil {
				return math.NaN()
			}
			return *nums[i]
		}
		r.NullRate, r.Mean, r.Stddev, r.Min, r.Max = f(0), f(1), f(2), f(3), f(4)
		r.P50, r.P75, r.P90, r.P95, r.P99 = f(5), f(6), f(7), f(8), f(9)
		if string(r.Histogram) == "null" {
			r.Histogram = nil
		}
		rows = append(rows, r)
	}
	if err := res.Err(); err != nil {
		if pgconn.UndefinedColumn(err) {
			return nil, false, fmt.Errorf("%s does not have the columns of Feast v0.64+ monitoring: %w", MetricsTable, s.wrap(err))
		}
		return nil, false, s.wrap(err)
	}
	return rows, truncated, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func intOrNaN(x *int64) float64 {
	if x == nil {
		return math.NaN()
	}
	return float64(*x)
}

// Histogram is a decoded monitoring histogram: numeric (Edges, Counts with len(Edges) =
// len(Counts)+1) or categorical (Categories with counts, Other = the count outside the top k).
type Histogram struct {
	Edges      []float64
	Counts     []float64
	Categories []string
	CatCounts  []float64
	Other      float64
	Unique     float64
}

// Numeric reports whether the histogram is numeric.
func (h *Histogram) Numeric() bool { return len(h.Edges) > 0 }

// maxHistogramBins bounds a decoded histogram.
const maxHistogramBins = 10_000

// ParseHistogram decodes Feast's histogram JSON (sdk/python/feast/monitoring/metrics_calculator.py):
// numeric {"bins": [edges], "counts": [...], "bin_width": w}; categorical {"values": [{"value",
// "count"}], "other_count", "unique_count"}.
func ParseHistogram(raw json.RawMessage) (Histogram, error) {
	var h Histogram
	if len(raw) == 0 {
		return h, errors.New("no histogram")
	}
	var j struct {
		Bins     []float64 `json:"bins"`
		Counts   []float64 `json:"counts"`
		BinWidth *float64  `json:"bin_width"`
		Values   []struct {
			Value json.RawMessage `json:"value"`
			Count float64         `json:"count"`
		} `json:"values"`
		Other  float64 `json:"other_count"`
		Unique float64 `json:"unique_count"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return h, fmt.Errorf("histogram is not Feast's JSON: %v", err)
	}
	if len(j.Bins) > maxHistogramBins+1 || len(j.Values) > maxHistogramBins {
		return h, fmt.Errorf("histogram has more than %d bins", maxHistogramBins)
	}
	switch {
	case len(j.Counts) > 0:
		edges := j.Bins
		if len(edges) == len(j.Counts) && j.BinWidth != nil && len(edges) > 0 {
			edges = append(append([]float64(nil), edges...), edges[len(edges)-1]+*j.BinWidth)
		}
		if len(edges) != len(j.Counts)+1 {
			return h, fmt.Errorf("numeric histogram has %d edges for %d counts", len(j.Bins), len(j.Counts))
		}
		for i, e := range edges {
			if math.IsNaN(e) || math.IsInf(e, 0) || (i > 0 && !(e > edges[i-1])) {
				return h, errors.New("numeric histogram edges are not finite and increasing")
			}
		}
		for _, c := range j.Counts {
			if !(c >= 0) || math.IsInf(c, 1) {
				return h, errors.New("numeric histogram has a negative or non-finite count")
			}
		}
		h.Edges, h.Counts = edges, j.Counts
	case j.Values != nil:
		for _, v := range j.Values {
			var s string
			if err := json.Unmarshal(v.Value, &s); err != nil {
				s = string(v.Value)
			}
			if !(v.Count >= 0) || math.IsInf(v.Count, 1) {
				return h, errors.New("categorical histogram has a negative or non-finite count")
			}
			h.Categories = append(h.Categories, s)
			h.CatCounts = append(h.CatCounts, v.Count)
		}
		if !(j.Other >= 0) || math.IsInf(j.Other, 1) {
			return h, errors.New("categorical histogram has a negative other_count")
		}
		h.Other, h.Unique = j.Other, j.Unique
	default:
		return h, errors.New("histogram has neither counts nor values")
	}
	return h, nil
}

// identRE is a plain SQL identifier, optionally schema-qualified.
var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)

// SourceRelation returns the FROM clause of a batch source: a table name as Feast writes it into
// its SQL (unquoted, so PostgreSQL folds it to lower case; "schema.table" allowed, or parts
// already double-quoted), or a PostgreSQLSource query as a subquery.
func SourceRelation(table, query string) (string, error) {
	if table == "" && query == "" {
		return "", errors.New("the batch source has neither a table nor a query")
	}
	if table == "" {
		q := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(query), ";"))
		if strings.Contains(q, ";") {
			return "", errors.New("the batch source's query holds several statements")
		}
		return "(" + q + ")", nil
	}
	parts := strings.Split(table, ".")
	if len(parts) > 3 {
		return "", fmt.Errorf("batch source table %q is not [database.][schema.]table", table)
	}
	var out []string
	for _, p := range parts {
		switch {
		case identRE.MatchString(p):
			out = append(out, pgx.Identifier{strings.ToLower(p)}.Sanitize())
		case len(p) > 2 && p[0] == '"' && p[len(p)-1] == '"' && !strings.Contains(p[1:len(p)-1], `"`):
			out = append(out, pgx.Identifier{p[1 : len(p)-1]}.Sanitize())
		default:
			return "", fmt.Errorf("batch source table %q is not [schema.]table", table)
		}
	}
	return strings.Join(out, "."), nil
}
