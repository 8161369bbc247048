package query

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// querySchema describes the Go query model for the frontend's type test (src/types.test.ts), which
// fails when src/types.ts and this model disagree.
type querySchema struct {
	QueryTypes     []QueryType                  `json:"queryTypes"`
	Sources        []string                     `json:"sources"`
	Outputs        []string                     `json:"outputs"`
	TrafficMetrics []string                     `json:"trafficMetrics"`
	DriftMethods   []string                     `json:"driftMethods"`
	Types          map[string]map[string]string `json:"types"`
}

// jsonKind names the JSON type of a Go type, as TypeScript sees it.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.String:
		return "string"
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int32, reflect.Int64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice:
		return jsonKind(t.Elem()) + "[]"
	case reflect.Map:
		return "record<" + jsonKind(t.Elem()) + ">"
	case reflect.Struct:
		return t.Name()
	}
	return t.String()
}

func fieldsOf(t reflect.Type) map[string]string {
	out := map[string]string{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		out[name] = jsonKind(f.Type)
	}
	return out
}

func TestQueryModelSchemaFile(t *testing.T) {
	s := querySchema{
		QueryTypes:     QueryTypes,
		Sources:        Sources,
		Outputs:        Outputs,
		TrafficMetrics: TrafficMetrics,
		DriftMethods:   DriftMethods,
		Types: map[string]map[string]string{
			"Query":     fieldsOf(reflect.TypeOf(Query{})),
			"Reference": fieldsOf(reflect.TypeOf(Reference{})),
			"Binning":   fieldsOf(reflect.TypeOf(Binning{})),
			"Threshold": fieldsOf(reflect.TypeOf(Threshold{})),
		},
	}
	b, err := json.MarshalIndent(s, "", "  ")
	require.NoError(t, err)
	b = append(b, '\n')
	path := filepath.Join("testdata", "query_model.json")
	old, _ := os.ReadFile(path)
	if string(old) != string(b) {
		// The file is generated: write it, and fail so that a stale committed copy is noticed.
		require.NoError(t, os.WriteFile(path, b, 0o644))
		if os.Getenv("CI") != "" {
			t.Fatalf("%s was stale and has been rewritten; commit it", path)
		}
	}
}
