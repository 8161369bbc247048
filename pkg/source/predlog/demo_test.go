package predlog

import (
	"context"
	"math"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// TestAgainstDemoServer reads the demo model server's Prediction Log API over HTTP and checks that
// every record decodes to exactly what the in-process demo fleet returns for the same request:
// both ends of the §6 wire contract agree.
func TestAgainstDemoServer(t *testing.T) {
	fleet := demo.NewFleet(demo.DefaultSeed)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(demo.NewServer(fleet, demo.ServerOptions{Clock: func() time.Time { return now }}))
	defer srv.Close()
	c, err := New(srv.Client(), Options{BaseURL: srv.URL + "/api/v1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	models, err := c.Models(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := fleet.Models(ctx)
	if len(models) == 0 || len(models) != len(want) {
		t.Fatalf("%d models over HTTP, %d in process", len(models), len(want))
	}
	for _, m := range models {
		for _, req := range []source.RecordsRequest{
			{Model: m.Name, Start: now.Add(-20 * time.Minute), End: now},
			{Model: m.Name, Start: now.Add(-3 * time.Hour), End: now.Add(-2 * time.Hour), Limit: 150},
			{Model: m.Name, Version: m.Versions[len(m.Versions)-1], Start: now.Add(-30 * time.Minute), End: now},
		} {
			got, err := c.Records(ctx, req)
			if err != nil {
				t.Fatalf("%s: %v", m.Name, err)
			}
			exp, err := fleet.Records(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if got.Len() == 0 {
				t.Fatalf("%s %+v: no records", m.Name, req)
			}
			sameBatch(t, m.Name, got, exp)
		}
		got, err := c.Reference(ctx, m.Name, "")
		if err != nil {
			t.Fatal(err)
		}
		exp, _ := fleet.Reference(ctx, m.Name, "")
		sameBatch(t, m.Name+" reference", got, exp)
	}
}

// sameBatch compares two batches value by value (categorical columns by value, not by code).
func sameBatch(t *testing.T, what string, got, want *source.Batch) {
	t.Helper()
	if got.Len() != want.Len() || got.Truncated != want.Truncated || got.Model != want.Model {
		t.Fatalf("%s: len %d/%d truncated %v/%v model %q/%q", what, got.Len(), want.Len(), got.Truncated, want.Truncated, got.Model, want.Model)
	}
	for i := 0; i < got.Len(); i++ {
		if got.TS[i] != want.TS[i] || got.Versions[got.Version[i]] != want.Versions[want.Version[i]] || got.Error[i] != want.Error[i] {
			t.Fatalf("%s: record %d: ts/version/status differ", what, i)
		}
	}
	eqFloats(t, what+" latency", got.LatencyMs, want.LatencyMs)
	eqFloats(t, what+" score", got.Score, want.Score)
	sameColumn(t, what+" prediction", got.Prediction, want.Prediction)
	sameColumn(t, what+" label", got.Label, want.Label)
	if len(got.FeatureNames) != len(want.FeatureNames) {
		t.Fatalf("%s: features %v, want %v", what, got.FeatureNames, want.FeatureNames)
	}
	for _, name := range want.FeatureNames {
		sameColumn(t, what+" "+name, got.Features[name], want.Features[name])
	}
}

func sameColumn(t *testing.T, what string, got, want *source.Column) {
	t.Helper()
	if got == nil || want == nil || got.Kind != want.Kind || got.Len() != want.Len() {
		t.Fatalf("%s: columns differ in kind or length", what)
	}
	if got.Kind == source.Categorical {
		eqStrings(t, what, cats(got), cats(want))
		return
	}
	for i := range got.Num {
		if got.Num[i] != want.Num[i] && !(math.IsNaN(got.Num[i]) && math.IsNaN(want.Num[i])) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got.Num[i], want.Num[i])
		}
	}
}
