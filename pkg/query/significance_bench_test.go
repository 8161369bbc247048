package query

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// batchLog is a prediction log that answers prebuilt batches (benchmarks).
type batchLog struct {
	model    source.Model
	ref, cur *source.Batch
}

func (l *batchLog) Models(context.Context) ([]source.Model, error) {
	return []source.Model{l.model}, nil
}
func (l *batchLog) Records(context.Context, source.RecordsRequest) (*source.Batch, error) {
	return l.cur, nil
}
func (l *batchLog) Reference(context.Context, string, string) (*source.Batch, error) {
	return l.ref, nil
}

// benchBatch has n records over the hour before end and features f00..f(k-1), log-normal with
// location mu (plus 0.01 per feature).
func benchBatch(n, k int, mu float64, end time.Time, seed uint64) *source.Batch {
	r := rand.New(rand.NewPCG(seed, 1))
	b := &source.Batch{Model: "bench", Versions: []string{"v1"}, Features: map[string]*source.Column{}}
	b.TS = make([]int64, n)
	b.Version = make([]int32, n)
	b.LatencyMs = make([]float64, n)
	b.Error = make([]bool, n)
	b.Score = make([]float64, n)
	start := end.Add(-time.Hour).UnixNano()
	for i := range b.TS {
		b.TS[i] = start + 1 + int64(i)*int64(time.Hour-1)/int64(n)
		b.Score[i] = math.NaN()
	}
	for f := 0; f < k; f++ {
		name := fmt.Sprintf("f%02d", f)
		c := source.NewColumn(source.Numeric, n)
		for i := 0; i < n; i++ {
			c.AppendNum(math.Exp(mu + 0.01*float64(f) + r.NormFloat64()))
		}
		b.FeatureNames = append(b.FeatureNames, name)
		b.Features[name] = c
	}
	return b
}

var benchData = sync.OnceValue(func() *batchLog {
	const k = 20
	end := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	m := source.Model{Name: "bench", Versions: []string{"v1"}}
	for f := 0; f < k; f++ {
		m.Features = append(m.Features, source.Feature{Name: fmt.Sprintf("f%02d", f), Type: source.Numeric})
	}
	return &batchLog{model: m, ref: benchBatch(100_000, k, 3.6, end, 1), cur: benchBatch(1_000_000, k, 3.62, end, 2)}
})

// BenchmarkDriftSignificance: one latest drift query of 20 numeric features, a 100k-row reference
// and 1M current records in its window, methods psi, js, hellinger, tvd, wasserstein_norm.
//
//	off:        no significance, reference cache warm (the query's own work)
//	cold:       significance with a fresh reference cache per query: the reference is fetched and
//	            sorted and 100 null distributions (20 features x 5 measures) are simulated
//	cold-off:   the same fresh cache without significance (cold − cold-off = the simulations)
//	warm:       significance with the null distributions cached (a dashboard refresh)
//
// go test ./pkg/query -run '^$' -bench BenchmarkDriftSignificance -benchtime 3x
func BenchmarkDriftSignificance(b *testing.B) {
	log := benchData()
	end := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	q := func(sig bool) []byte {
		raw, _ := json.Marshal(map[string]any{"queryType": "drift", "model": "bench", "output": "latest", "window": "1h",
			"methods": []string{"psi", "js", "hellinger", "tvd", "wasserstein_norm"}, "significance": sig})
		return raw
	}
	runQ := func(b *testing.B, h *Handler, raw []byte) {
		r := h.One(context.Background(), backend.PluginContext{}, backend.DataQuery{RefID: "A", JSON: raw,
			TimeRange: backend.TimeRange{From: end.Add(-time.Hour), To: end}, Interval: time.Minute, MaxDataPoints: 100}, false)
		if r.Error != nil {
			b.Fatal(r.Error)
		}
		if want := 20 * 5; !sig(raw) && len(r.Frames) != want || sig(raw) && len(r.Frames) != 3*want {
			b.Fatalf("%d frames", len(r.Frames))
		}
	}
	deps := func(c *refstats.Cache) Deps {
		return Deps{PredictionLog: log, References: c, MaxSamples: 2_000_000, MaxReferenceSamples: 1_000_000}
	}
	for _, c := range []struct {
		name  string
		sig   bool
		fresh bool
	}{{"off", false, false}, {"cold", true, true}, {"cold-off", false, true}, {"warm", true, false}} {
		b.Run(c.name, func(b *testing.B) {
			cache := refstats.New(time.Hour)
			h := New(deps(cache))
			if !c.fresh {
				runQ(b, h, q(c.sig))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if c.fresh {
					b.StopTimer()
					h = New(deps(refstats.New(time.Hour)))
					b.StartTimer()
				}
				runQ(b, h, q(c.sig))
			}
		})
	}
}

func sig(raw []byte) bool {
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m["significance"] == true
}
