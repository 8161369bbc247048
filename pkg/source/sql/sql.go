// Package sql reads prediction records and reference samples from PostgreSQL and
// PostgreSQL-compatible engines (DESIGN §3 `sql.*`): pgx with one connection pool per data source
// instance, bind parameters for every value and pgx-quoted identifiers for every name from the
// settings.
package sql

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// Options configure a Source.
type Options struct {
	Settings *settings.SQLSettings
	// Password is secureJsonData.sqlPassword.
	Password string
	// Timeout is the statement_timeout of every statement (timeoutSeconds).
	Timeout time.Duration
	// MaxReferenceSamples caps a reference sample's rows (0: limits.DefaultMaxReferenceSamples).
	MaxReferenceSamples int
	// TLS, when set, replaces the TLS configuration that sslmode gives (the SDK's TLS settings:
	// CA certificate, client certificate, skip verify); it is used only when sslmode asks for TLS.
	TLS *tls.Config
	// Tracer, when set, sees every statement (tests use it to EXPLAIN the statements issued).
	Tracer pgx.QueryTracer
	// Dial, when set, opens the network connections (benchmarks count the bytes received).
	Dial pgconn.DialFunc
}

// metaTTL is how long the model list and the column types are reused.
const metaTTL = 30 * time.Second

// Source is the PostgreSQL source of one data source instance. It is safe for concurrent use.
type Source struct {
	pool        *pgxpool.Pool
	rec, ref    settings.Table
	errorStatus string
	maxRef      int

	mu       sync.Mutex
	models   []source.Model
	modelsAt time.Time
	cols     map[string]tableInfo
	colsAt   map[string]time.Time
}

var _ source.PredictionLog = (*Source)(nil)

// New builds the pool; it connects lazily (a database that is down fails the first query, not the
// instance).
func New(opts Options) (*Source, error) {
	s := opts.Settings
	if s == nil {
		return nil, errors.New("postgresql: no settings")
	}
	cfg, err := pgxpool.ParseConfig(s.URL)
	if err != nil {
		// pgx's message may quote the URL: say only what to fix.
		return nil, fmt.Errorf("sql.url is not a valid PostgreSQL connection URL")
	}
	cfg.ConnConfig.Password = opts.Password
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	if opts.Dial != nil {
		cfg.ConnConfig.DialFunc = opts.Dial
	}
	cfg.MaxConns = int32(max(1, min(s.MaxConnections, limits.MaxSQLConnections))) // #nosec G115 -- bounded by MaxSQLConnections
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > opts.Timeout {
		cfg.ConnConfig.ConnectTimeout = min(opts.Timeout, 30*time.Second)
	}
	if opts.TLS != nil && cfg.ConnConfig.TLSConfig != nil {
		t := opts.TLS.Clone()
		if t.ServerName == "" {
			t.ServerName = cfg.ConnConfig.Host
		}
		cfg.ConnConfig.TLSConfig = t
		for _, fb := range cfg.ConnConfig.Fallbacks {
			if fb.TLSConfig != nil {
				fb.TLSConfig = t
			}
		}
	}
	// statement_timeout bounds every statement on the server too (a cancelled context also
	// cancels it); sessions are read-only: the source never writes.
	ms := opts.Timeout.Milliseconds()
	if ms <= 0 {
		ms = limits.DefaultTimeout.Milliseconds()
	}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, "SET statement_timeout = "+strconv.FormatInt(ms, 10)+"; SET default_transaction_read_only = on; SET application_name = 'modellens'")
		if err != nil {
			return err
		}
		// No JIT compilation: the statements are wide expressions (a CASE per feature, a FILTER per
		// bin) over many rows, whose cost PostgreSQL's default thresholds judge worth compiling,
		// and compiling them costs more than it saves (PostgreSQL 15, 1M records × 20 jsonb
		// features: the binned drift statement 10.2 s with JIT, 6.3 s without; the sampled read
		// 11.1 s, 2.1 s). An engine without the setting (42704, unknown parameter) goes on.
		_, err = c.Exec(ctx, "SET jit = off")
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42704" {
			err = nil
		}
		return err
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("postgresql: %w", err)
	}
	maxRef := opts.MaxReferenceSamples
	if maxRef <= 0 {
		maxRef = limits.DefaultMaxReferenceSamples
	}
	return &Source{pool: pool, rec: s.Records, ref: s.Reference, errorStatus: s.ErrorStatus, maxRef: maxRef,
		cols: map[string]tableInfo{}, colsAt: map[string]time.Time{}}, nil
}

// Close closes the pool (Dispose).
func (s *Source) Close() {
	if s.pool != nil {
		s.pool.Close()
	}
}

// Pool is the connection pool (for push-down statements and tests).
func (s *Source) Pool() *pgxpool.Pool { return s.pool }

// ident quotes a table's name, schema-qualified when the settings say so.
func ident(t settings.Table) string {
	if t.Schema != "" {
		return pgx.Identifier{t.Schema, t.Name}.Sanitize()
	}
	return pgx.Identifier{t.Name}.Sanitize()
}

// tableText names a table for messages.
func tableText(t settings.Table) string {
	if t.Schema != "" {
		return t.Schema + "." + t.Name
	}
	return t.Name
}

func col(name string) string { return pgx.Identifier{name}.Sanitize() }

// colType is what the source needs to know of a column's type.
type colType struct {
	// typ is the type's name (format_type), cat its pg_type.typcategory: N numeric, S string,
	// B boolean, E enum, D date/time, U user-defined (json, jsonb).
	typ string
	cat string
}

func (c colType) jsonb() bool   { return c.typ == "jsonb" || c.typ == "json" }
func (c colType) numeric() bool { return c.cat == "N" }
func (c colType) text() bool    { return c.cat == "S" || c.cat == "B" || c.cat == "E" }
func (c colType) time() bool    { return c.cat == "D" && strings.HasPrefix(c.typ, "timestamp") }

// tableInfo maps a table's columns to their types; exists is false when the table does not exist.
type tableInfo struct {
	exists bool
	cols   map[string]colType
}

// describe reads a table's column types from the catalog (cached for metaTTL).
func (s *Source) describe(ctx context.Context, t settings.Table) (tableInfo, error) {
	key := ident(t)
	s.mu.Lock()
	if ti, ok := s.cols[key]; ok && time.Since(s.colsAt[key]) < metaTTL {
		s.mu.Unlock()
		return ti, nil
	}
	s.mu.Unlock()
	rows, err := s.pool.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory::text
		FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
		WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`, key)
	if err != nil {
		return tableInfo{}, s.dbError(ctx, "reading the columns of table "+tableText(t), err)
	}
	ti := tableInfo{cols: map[string]colType{}}
	for rows.Next() {
		var name string
		var ct colType
		if err := rows.Scan(&name, &ct.typ, &ct.cat); err != nil {
			rows.Close()
			return tableInfo{}, s.dbError(ctx, "reading the columns of table "+tableText(t), err)
		}
		ti.cols[name] = ct
	}
	if err := rows.Err(); err != nil {
		return tableInfo{}, s.dbError(ctx, "reading the columns of table "+tableText(t), err)
	}
	ti.exists = len(ti.cols) > 0
	s.mu.Lock()
	s.cols[key], s.colsAt[key] = ti, time.Now()
	s.mu.Unlock()
	return ti, nil
}

// ErrSchema is a table or column that is missing or of the wrong type: the settings or the table
// must be fixed.
var ErrSchema = errors.New("table layout")

// mapped is one mapped column of a table and what it holds.
type mapped struct {
	field, name string
}

func mappedColumns(t settings.Table, records bool) []mapped {
	out := []mapped{{"model", t.Model}, {"ts", t.TS}, {"version", t.Version}, {"latencyMs", t.LatencyMs}, {"status", t.Status},
		{"prediction", t.Prediction}, {"score", t.Score}, {"label", t.Label}, {"labelTs", t.LabelTS}, {"features", t.Features}}
	kept := out[:0]
	for _, m := range out {
		if m.name != "" {
			kept = append(kept, m)
		}
	}
	for _, f := range t.FeatureColumns {
		kept = append(kept, mapped{"featureColumns", f})
	}
	return kept
}

// checkTable verifies that a table exists and has every mapped column with a usable type; the
// error names the table, the column, the setting and the type.
func (s *Source) checkTable(ctx context.Context, key string, t settings.Table, records bool) (tableInfo, error) {
	ti, err := s.describe(ctx, t)
	if err != nil {
		return ti, err
	}
	if !ti.exists {
		return ti, backend.DownstreamError(fmt.Errorf("%w: table %q does not exist (sql.%s.table)", ErrSchema, tableText(t), key))
	}
	for _, m := range mappedColumns(t, records) {
		setting := fmt.Sprintf("sql.%s.columns.%s", key, m.field)
		if m.field == "featureColumns" {
			setting = fmt.Sprintf("sql.%s.featureColumns", key)
		}
		ct, ok := ti.cols[m.name]
		if !ok {
			return ti, backend.DownstreamError(fmt.Errorf("%w: table %q has no column %q (%s)", ErrSchema, tableText(t), m.name, setting))
		}
		if why := wrongType(m.field, ct); why != "" {
			return ti, backend.DownstreamError(fmt.Errorf("%w: column %q of table %q is %s; %s (%s)", ErrSchema, m.name, tableText(t), ct.typ, why, setting))
		}
	}
	return ti, nil
}

// wrongType says why a column's type does not fit its role, or "".
func wrongType(field string, ct colType) string {
	switch field {
	case "ts", "labelTs":
		if !ct.time() {
			return "it must be a timestamp (timestamptz)"
		}
	case "model", "version", "status":
		if !ct.text() {
			return "it must be text"
		}
	case "latencyMs", "score":
		if !ct.numeric() {
			return "it must be numeric"
		}
	case "features":
		if !ct.jsonb() {
			return "it must be a jsonb object of feature values"
		}
	case "prediction", "label", "featureColumns":
		if !ct.numeric() && !ct.text() && !ct.jsonb() {
			return "it must be numeric, text or jsonb"
		}
	}
	return ""
}

// dbError turns a database failure into a per-query error with a message that names what failed:
// the database's own message (which names unknown tables and columns), a timeout, or a connection
// that failed or dropped. The URL's password is never part of it (there is none in the URL, and
// pgx does not print the one it sends).
func (s *Source) dbError(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "57014":
		return backend.DownstreamError(fmt.Errorf("postgresql: %s: timed out (statement_timeout): %w", what, context.DeadlineExceeded))
	case errors.As(err, &pe):
		msg := pe.Message
		if pe.Detail != "" {
			msg += " (" + pe.Detail + ")"
		}
		return backend.DownstreamError(fmt.Errorf("postgresql: %s: %s (SQLSTATE %s)", what, msg, pe.Code))
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return backend.DownstreamError(fmt.Errorf("postgresql: %s: timed out: %w", what, context.DeadlineExceeded))
	case errors.Is(err, context.Canceled):
		return backend.DownstreamError(fmt.Errorf("postgresql: %s: %w", what, context.Canceled))
	case errors.As(err, new(*tls.CertificateVerificationError)):
		return backend.DownstreamError(fmt.Errorf("postgresql: %s: TLS: the server's certificate is not trusted (with sslmode verify-ca or verify-full, give the CA certificate that signed it in the TLS settings): %s", what, connText(err)))
	case pgconn.SafeToRetry(err) || isConnError(err):
		return backend.DownstreamError(fmt.Errorf("postgresql: %s: cannot reach the database: %s", what, connText(err)))
	}
	return backend.DownstreamError(fmt.Errorf("postgresql: %s: %s", what, connText(err)))
}

func isConnError(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "unexpected EOF")
}

// connText is an error's text, cut to a readable length.
func connText(err error) string {
	t := err.Error()
	if len(t) > 300 {
		t = t[:300] + "…"
	}
	return t
}

// Ping checks that the database answers.
func (s *Source) Ping(ctx context.Context) error {
	var one int
	if err := s.pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return s.dbError(ctx, "connecting", err)
	}
	return nil
}

// Check is Save & test: the connection, the tables and every mapped column (present, of a usable
// type); it names what is wrong. It returns what it found for the health message.
func (s *Source) Check(ctx context.Context) (string, error) {
	if err := s.Ping(ctx); err != nil {
		return "", err
	}
	s.forget()
	if _, err := s.checkTable(ctx, "records", s.rec, true); err != nil {
		return "", err
	}
	refInfo, err := s.describe(ctx, s.ref)
	if err != nil {
		return "", err
	}
	refNote := ""
	if refInfo.exists {
		if _, err := s.checkTable(ctx, "reference", s.ref, false); err != nil {
			return "", err
		}
	} else {
		refNote = fmt.Sprintf(", no reference table %q (drift needs a reference window)", tableText(s.ref))
	}
	ms, err := s.Models(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d models in %s%s", len(ms), tableText(s.rec), refNote), nil
}

// forget drops the cached model list and column types.
func (s *Source) forget() {
	s.mu.Lock()
	s.models = nil
	s.cols = map[string]tableInfo{}
	s.colsAt = map[string]time.Time{}
	s.mu.Unlock()
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
