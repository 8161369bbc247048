package settings

import (
	"fmt"
	"strings"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// SQL configures the PostgreSQL source (DESIGN §3 `sql.*`): prediction records and reference
// samples in tables of a PostgreSQL or PostgreSQL-compatible database.
type SQL struct {
	// URL is postgres://user@host:5432/db?sslmode=require, without a password (the password comes
	// from secureJsonData.sqlPassword).
	URL       string    `json:"url"`
	Records   *SQLTable `json:"records"`
	Reference *SQLTable `json:"reference"`
	// ErrorStatus is the value of the status column that marks an error record (default "error").
	ErrorStatus string `json:"errorStatus"`
	// MaxConnections is the size of the instance's connection pool (default 4).
	MaxConnections *int `json:"maxConnections"`
}

// SQLTable maps one table: its name (optionally schema-qualified, schema.table), its columns and,
// for a wide table, the feature columns.
type SQLTable struct {
	Table   string     `json:"table"`
	Columns SQLColumns `json:"columns"`
	// FeatureColumns lists one column per feature (wide tables); empty means the features jsonb column.
	FeatureColumns []string `json:"featureColumns"`
}

// SQLColumns maps the DESIGN §6 record names to column names; nil means the default name, ""
// means the table has no such column.
type SQLColumns struct {
	TS         *string `json:"ts"`
	Model      *string `json:"model"`
	Version    *string `json:"version"`
	LatencyMs  *string `json:"latencyMs"`
	Status     *string `json:"status"`
	Prediction *string `json:"prediction"`
	Score      *string `json:"score"`
	Label      *string `json:"label"`
	LabelTS    *string `json:"labelTs"`
	Features   *string `json:"features"`
}

// Default table names.
const (
	DefaultRecordsTable   = "predictions"
	DefaultReferenceTable = "reference"
	DefaultErrorStatus    = "error"
)

// Table is a validated table mapping: every column name resolved ("" = absent).
type Table struct {
	// Schema is empty when the table name is not schema-qualified.
	Schema, Name                                                                       string
	TS, Model, Version, LatencyMs, Status, Prediction, Score, Label, LabelTS, Features string
	// FeatureColumns, when set, replaces the features jsonb column (a wide table).
	FeatureColumns []string
}

// SQLSettings are the validated PostgreSQL settings.
type SQLSettings struct {
	// URL is the connection URL without a password.
	URL            string
	Records        Table
	Reference      Table
	ErrorStatus    string
	MaxConnections int
}

// parseSQL validates the `sql` object; password is secureJsonData.sqlPassword.
func parseSQL(r *SQL) (*SQLSettings, error) {
	if r == nil {
		return nil, nil
	}
	u := strings.TrimSpace(r.URL)
	if u == "" {
		if r.Records != nil || r.Reference != nil || r.ErrorStatus != "" || r.MaxConnections != nil {
			return nil, fmt.Errorf("sql.url is required when other sql settings are set")
		}
		return nil, nil
	}
	if err := checkPostgresURL(u, "the PostgreSQL password field (secureJsonData.sqlPassword)"); err != nil {
		return nil, fmt.Errorf("sql.url: %w", err)
	}
	s := &SQLSettings{URL: u, ErrorStatus: DefaultErrorStatus, MaxConnections: limits.DefaultSQLConnections}
	if r.ErrorStatus != "" {
		s.ErrorStatus = r.ErrorStatus
	}
	if r.MaxConnections != nil {
		n := *r.MaxConnections
		if n < 1 || n > limits.MaxSQLConnections {
			return nil, fmt.Errorf("sql.maxConnections must be a whole number in [1, %d], got %d", limits.MaxSQLConnections, n)
		}
		s.MaxConnections = n
	}
	var err error
	if s.Records, err = tableOf("sql.records", r.Records, DefaultRecordsTable, true); err != nil {
		return nil, err
	}
	if s.Reference, err = tableOf("sql.reference", r.Reference, DefaultReferenceTable, false); err != nil {
		return nil, err
	}
	return s, nil
}

// tableOf resolves a table mapping with the DESIGN §3 defaults. records says whether ts is
// required (records have times; a reference sample need not).
func tableOf(key string, t *SQLTable, defTable string, records bool) (Table, error) {
	if t == nil {
		t = &SQLTable{}
	}
	name := strings.TrimSpace(t.Table)
	if name == "" {
		name = defTable
	}
	out := Table{Name: name}
	if i := strings.IndexByte(name, '.'); i >= 0 {
		out.Schema, out.Name = name[:i], name[i+1:]
		if out.Schema == "" || out.Name == "" || strings.Contains(out.Name, ".") {
			return Table{}, fmt.Errorf("%s.table %q must be table or schema.table", key, name)
		}
	}
	col := func(field string, p *string, def string) (string, error) {
		if p == nil {
			return def, nil
		}
		v := *p
		if len(v) > limits.MaxNameLength {
			return "", fmt.Errorf("%s.columns.%s is longer than %d bytes", key, field, limits.MaxNameLength)
		}
		if strings.ContainsRune(v, 0) {
			return "", fmt.Errorf("%s.columns.%s contains a NUL character", key, field)
		}
		return v, nil
	}
	c := t.Columns
	fields := []struct {
		field string
		p     *string
		def   string
		dst   *string
	}{
		{"ts", c.TS, "ts", &out.TS},
		{"model", c.Model, "model", &out.Model},
		{"version", c.Version, "version", &out.Version},
		{"latencyMs", c.LatencyMs, "latency_ms", &out.LatencyMs},
		{"status", c.Status, "status", &out.Status},
		{"prediction", c.Prediction, "prediction", &out.Prediction},
		{"score", c.Score, "score", &out.Score},
		{"label", c.Label, "label", &out.Label},
		{"labelTs", c.LabelTS, "label_ts", &out.LabelTS},
		{"features", c.Features, "features", &out.Features},
	}
	for _, f := range fields {
		v, err := col(f.field, f.p, f.def)
		if err != nil {
			return Table{}, err
		}
		*f.dst = v
	}
	if out.Model == "" {
		return Table{}, fmt.Errorf("%s.columns.model must name a column: every row belongs to a model", key)
	}
	if records && out.TS == "" {
		return Table{}, fmt.Errorf("%s.columns.ts must name a column: prediction records need times", key)
	}
	seen := map[string]bool{}
	for i, f := range t.FeatureColumns {
		if strings.TrimSpace(f) == "" || len(f) > limits.MaxNameLength || strings.ContainsRune(f, 0) {
			return Table{}, fmt.Errorf("%s.featureColumns[%d] must be a column name of at most %d bytes", key, i, limits.MaxNameLength)
		}
		if seen[f] {
			return Table{}, fmt.Errorf("%s.featureColumns[%d]: %q is listed twice", key, i, f)
		}
		seen[f] = true
	}
	if len(t.FeatureColumns) > 0 {
		out.FeatureColumns = append([]string(nil), t.FeatureColumns...)
		if c.Features == nil {
			out.Features = "" // a wide table has no features jsonb column unless it is mapped
		}
	}
	return out, nil
}
