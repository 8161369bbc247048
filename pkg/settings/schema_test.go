package settings

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testutil"
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
	SecretKeys            []string                     `json:"secretKeys"`
	DefaultTimeoutSeconds float64                      `json:"defaultTimeoutSeconds"`
	MaxTimeoutSeconds     float64                      `json:"maxTimeoutSeconds"`
	DefaultMaxSamples     int                          `json:"defaultMaxSamples"`
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
		SecretKeys:            SecretKeys,
		DefaultTimeoutSeconds: DefaultTimeout.Seconds(),
		MaxTimeoutSeconds:     MaxTimeout.Seconds(),
		DefaultMaxSamples:     DefaultMaxSamples,
	}
	b, err := json.MarshalIndent(s, "", "  ")
	require.NoError(t, err)
	testutil.Golden(t, filepath.Join("testdata", "settings_model.json"), append(b, '\n'))
}
