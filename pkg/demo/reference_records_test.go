package demo

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// TestEachReferenceMatchesReference checks that EachReference walks exactly the rows of the batch
// Reference returns, pooled and per version.
func TestEachReferenceMatchesReference(t *testing.T) {
	f := NewFleet(DefaultSeed)
	ctx := context.Background()
	for _, c := range []struct{ model, version string }{{"fraud-detector", ""}, {"fraud-detector", "v2"}, {"price-regressor", ""}} {
		b, err := f.Reference(ctx, c.model, c.version)
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		err = f.EachReference(ctx, c.model, c.version, func(r Record) error {
			if r.TS.UnixNano() != b.TS[i] || r.Version != b.Versions[b.Version[i]] || r.Status != StatusOK || !math.IsNaN(r.LatencyMs) {
				t.Fatalf("%s/%s row %d: %+v", c.model, c.version, i, r)
			}
			for _, name := range b.FeatureNames {
				col := b.Features[name]
				var want any
				if col.Kind == source.Categorical {
					if code := col.Cat[i]; code >= 0 {
						want = col.Dict[code]
					}
				} else if !math.IsNaN(col.Num[i]) {
					want = col.Num[i]
				}
				if r.Features[name] != want {
					t.Fatalf("%s/%s row %d feature %s: %v, want %v", c.model, c.version, i, name, r.Features[name], want)
				}
			}
			if (r.Score == nil) != math.IsNaN(b.Score[i]) || (r.Score != nil && *r.Score != b.Score[i]) {
				t.Fatalf("%s/%s row %d score %v, want %v", c.model, c.version, i, r.Score, b.Score[i])
			}
			i++
			return nil
		})
		if err != nil || i != len(b.TS) || i != ReferenceSize {
			t.Fatalf("%s/%s: %d rows (batch %d), %v", c.model, c.version, i, len(b.TS), err)
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := f.EachReference(ctx, "churn-classifier", "", func(Record) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("callback error: %v after %d rows", err, n)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := f.EachReference(cctx, "churn-classifier", "", func(Record) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if err := f.EachReference(ctx, "nope", "", func(Record) error { return nil }); !errors.Is(err, source.ErrUnknownModel) {
		t.Errorf("unknown model: %v", err)
	}
}
