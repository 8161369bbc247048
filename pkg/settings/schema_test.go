package settings

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testutil"
	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// settingsSchema describes the Go settings for the frontend's type test (src/types.test.ts), which
// fails when ModelLensOptions in src/types.ts and these settings disagree. The file
// testdata/settings_model.json is only compared on a plain `go test`; UPDATE_GOLDEN=1 rewrites it.
type settingsSchema struct {
	// Types maps each struct of jsonData (the root is "Settings") to its fields' JSON kinds:
	// string, number, boolean, a struct name, or <struct>[].
	Types                 map[string]map[string]string `json:"types"`
	Presets               []Preset                     `json:"presets"`
	Protocols             []string                     `json:"protocols"`
	FeastOnlineTypes      []string                     `json:"feastOnlineTypes"`
	FeastKeyVersions      []int                        `json:"feastKeySerializationVersions"`
	FeastDefaultKeyVer    int                          `json:"feastDefaultKeySerializationVersion"`
	SecretKeys            []string                     `json:"secretKeys"`
	DefaultTimeoutSeconds float64                      `json:"defaultTimeoutSeconds"`
	MaxTimeoutSeconds     float64                      `json:"maxTimeoutSeconds"`
	DefaultMaxSamples     int                          `json:"defaultMaxSamples"`
	// SQL holds the PostgreSQL source's defaults, which the config editor shows as its input fields' placeholder text.
	SQL sqlDefaults `json:"sql"`
}

// sqlDefaults are what an `sql` object with only a URL resolves to.
type sqlDefaults struct {
	RecordsTable      string            `json:"recordsTable"`
	ReferenceTable    string            `json:"referenceTable"`
	Columns           map[string]string `json:"columns"`
	ErrorStatus       string            `json:"errorStatus"`
	MaxConnections    int               `json:"maxConnections"`
	MaxMaxConnections int               `json:"maxMaxConnections"`
}

// sqlDefaultsOf parses an `sql` object with only a URL and reads back every default.
func sqlDefaultsOf(t *testing.T) sqlDefaults {
	t.Helper()
	s, err := Parse([]byte(`{"sql":{"url":"postgres://grafana@db:5432/ml"}}`), nil)
	require.NoError(t, err)
	r, ref := s.SQL.Records, s.SQL.Reference
	// The reference table resolves its columns as the records table does.
	require.Equal(t, r.Features, ref.Features)
	require.Equal(t, r.TS, ref.TS)
	return sqlDefaults{
		RecordsTable:   r.Name,
		ReferenceTable: ref.Name,
		Columns: map[string]string{
			"ts": r.TS, "model": r.Model, "version": r.Version, "latencyMs": r.LatencyMs, "status": r.Status,
			"prediction": r.Prediction, "score": r.Score, "label": r.Label, "labelTs": r.LabelTS, "features": r.Features,
		},
		ErrorStatus:       s.SQL.ErrorStatus,
		MaxConnections:    s.SQL.MaxConnections,
		MaxMaxConnections: limits.MaxSQLConnections,
	}
}

// kindOf names the JSON kind of a Go type and records the structs it holds in types.
func kindOf(t reflect.Type, types map[string]map[string]string) string {
	switch t.Kind() {
	case reflect.Pointer:
		return kindOf(t.Elem(), types)
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int32, reflect.Int64:
		return "number"
	case reflect.Slice:
		return kindOf(t.Elem(), types) + "[]"
	case reflect.Map:
		return "record<" + kindOf(t.Elem(), types) + ">"
	case reflect.Struct:
		name := t.Name()
		if t == reflect.TypeOf(raw{}) {
			name = "Settings"
		}
		if _, done := types[name]; !done {
			fields := map[string]string{}
			types[name] = fields
			for i := 0; i < t.NumField(); i++ {
				if n := jsonName(t.Field(i)); n != "" {
					fields[n] = kindOf(t.Field(i).Type, types)
				}
			}
		}
		return name
	}
	return t.String()
}

func TestSettingsSchemaFile(t *testing.T) {
	types := map[string]map[string]string{}
	kindOf(reflect.TypeOf(raw{}), types)
	s := settingsSchema{
		Types:                 types,
		Presets:               Presets,
		Protocols:             Protocols,
		FeastOnlineTypes:      FeastOnlineTypes,
		FeastDefaultKeyVer:    DefaultKeySerializationVersion,
		SecretKeys:            SecretKeys,
		DefaultTimeoutSeconds: DefaultTimeout.Seconds(),
		MaxTimeoutSeconds:     MaxTimeout.Seconds(),
		DefaultMaxSamples:     DefaultMaxSamples,
		SQL:                   sqlDefaultsOf(t),
	}
	for v := MinKeySerializationVersion; v <= MaxKeySerializationVersion; v++ {
		s.FeastKeyVersions = append(s.FeastKeyVersions, v)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	require.NoError(t, err)
	testutil.Golden(t, filepath.Join("testdata", "settings_model.json"), append(b, '\n'))
}
