package query

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testutil"
	"github.com/modellens/mlmonitoring-datasource/pkg/limits"

	"github.com/stretchr/testify/require"
)

// querySchema describes the Go query model for the frontend's type test (src/types.test.ts), which
// fails when src/types.ts and this model disagree. TestQueryModelSchemaFile fails when the
// committed testdata/query_model.json is stale; UPDATE_GOLDEN=1 rewrites it.
type querySchema struct {
	QueryTypes     []QueryType `json:"queryTypes"`
	Sources        []string    `json:"sources"`
	Outputs        []string    `json:"outputs"`
	TrafficMetrics []string    `json:"trafficMetrics"`
	DriftMethods   []string    `json:"driftMethods"`
	// Performance vocabulary.
	PerformanceMetrics []string                     `json:"performanceMetrics"`
	EstimatedMetrics   []string                     `json:"estimatedMetrics"`
	Averages           []string                     `json:"averages"`
	ScoreOfs           []string                     `json:"scoreOfs"`
	ReferenceKinds     []string                     `json:"referenceKinds"`
	Multivariate       []string                     `json:"multivariateMethods"`
	Types              map[string]map[string]string `json:"types"`

	// What the query editor offers and shows as defaults, from the handlers' own values.
	OutputsByType             map[QueryType][]string     `json:"outputsByType"` // default first
	NumericOnlyMethods        []string                   `json:"numericOnlyMethods"`
	DefaultNumericMethods     []string                   `json:"defaultNumericMethods"`
	DefaultCategoricalMethods []string                   `json:"defaultCategoricalMethods"`
	DefaultThresholds         map[string]schemaThreshold `json:"defaultThresholds"`
	DefaultPercentiles        []float64                  `json:"defaultPercentiles"`
	DefaultBins               int                        `json:"defaultBins"`
	MinBins                   int                        `json:"minBins"`
	MaxBins                   int                        `json:"maxBins"`

	// Feast query types.
	FeatureStatsMetrics        []string                   `json:"featureStatsMetrics"`
	DefaultFeatureStatsMetrics []string                   `json:"defaultFeatureStatsMetrics"`
	SkewMetrics                []string                   `json:"skewMetrics"`
	FreshnessMetrics           []string                   `json:"freshnessMetrics"`
	DefaultSkewMetrics         []string                   `json:"defaultSkewMetrics"`
	LookupStatuses             []string                   `json:"lookupStatuses"`
	FreshnessMeasures          []string                   `json:"freshnessMeasures"`
	QualityMetrics             []string                   `json:"qualityMetrics"`
	DefaultQualityThresholds   map[string]schemaThreshold `json:"defaultQualityThresholds"`
	SaturationMetrics          []string                   `json:"saturationMetrics"`
	// significance, correction, persistence (significance.go).
	Corrections           []string `json:"corrections"`
	SignificanceMethods   []string `json:"significanceMethods"`
	MaxPersistenceWindows int      `json:"maxPersistenceWindows"`
}

type schemaThreshold struct {
	Warning      float64 `json:"warning"`
	Drift        float64 `json:"drift"`
	LowerIsWorse bool    `json:"lowerIsWorse"`
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
	case reflect.Interface:
		// The query model's only interface values are the entities' join-key values, which
		// validateFeast accepts as JSON numbers or strings.
		return "number|string"
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
		QueryTypes:         QueryTypes,
		Sources:            Sources,
		Outputs:            Outputs,
		TrafficMetrics:     TrafficMetrics,
		DriftMethods:       DriftMethods,
		PerformanceMetrics: PerformanceMetrics,
		EstimatedMetrics:   EstimatedMetrics,
		Averages:           Averages,
		ScoreOfs:           ScoreOfs,
		ReferenceKinds:     ReferenceKinds,
		Multivariate:       MultivariateMethods,
		Types: map[string]map[string]string{
			"Query":       fieldsOf(reflect.TypeOf(Query{})),
			"Reference":   fieldsOf(reflect.TypeOf(Reference{})),
			"Binning":     fieldsOf(reflect.TypeOf(Binning{})),
			"Threshold":   fieldsOf(reflect.TypeOf(Threshold{})),
			"Persistence": fieldsOf(reflect.TypeOf(Persistence{})),
		},
		OutputsByType:             map[QueryType][]string{},
		NumericOnlyMethods:        numericOnly,
		DefaultNumericMethods:     DefaultNumericMethods,
		DefaultCategoricalMethods: DefaultCategoricalMethods,
		DefaultThresholds:         map[string]schemaThreshold{},
		DefaultPercentiles:        DefaultPercentiles,
		DefaultBins:               DefaultBins,
		MinBins:                   limits.MinBins,
		MaxBins:                   limits.MaxBins,

		FeatureStatsMetrics:        FeatureStatsMetrics,
		DefaultFeatureStatsMetrics: DefaultFeatureStatsMetrics,
		SkewMetrics:                SkewMetrics,
		FreshnessMetrics:           FreshMetrics,
		DefaultSkewMetrics:         DefaultSkewMetrics,
		LookupStatuses:             LookupStatuses,
		FreshnessMeasures:          FreshnessMeasures,
		QualityMetrics:             QualityMetrics,
		DefaultQualityThresholds:   map[string]schemaThreshold{},
		SaturationMetrics:          SaturationMetrics,
		Corrections:                Corrections,
		SignificanceMethods:        SignificanceMethods,
		MaxPersistenceWindows:      MaxPersistenceWindows,
	}
	for _, m := range QualityMetrics {
		if th, ok := defaultQualityThreshold(m); ok {
			s.DefaultQualityThresholds[m] = schemaThreshold{Warning: th.Warning, Drift: th.Drift}
		}
	}
	for _, qt := range QueryTypes {
		s.OutputsByType[qt] = outputsFor(qt)
	}
	for _, m := range methodsWithDefaults {
		th, ok := defaultThreshold(m)
		require.True(t, ok, "no default threshold for %s", m)
		require.Equal(t, slices.Contains(lowerIsWorse, m), th.LowerIsWorse, "%s: direction", m)
		s.DefaultThresholds[m] = schemaThreshold{Warning: th.Warning, Drift: th.Drift, LowerIsWorse: th.LowerIsWorse}
	}
	b, err := json.MarshalIndent(s, "", "  ")
	require.NoError(t, err)
	testutil.Golden(t, filepath.Join("testdata", "query_model.json"), append(b, '\n'))
}
