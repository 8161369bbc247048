package predlog

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// benchModel has eight features (six numeric, two categorical) and a categorical prediction, the
// shape of the demo fleet's models.
var benchModel = source.Model{
	Name:     "churn",
	Versions: []string{"v1", "v2"},
	Features: []source.Feature{
		{Name: "age", Type: source.Numeric},
		{Name: "tenure_months", Type: source.Numeric},
		{Name: "monthly_spend", Type: source.Numeric},
		{Name: "support_calls", Type: source.Numeric},
		{Name: "data_gb", Type: source.Numeric},
		{Name: "discount", Type: source.Numeric},
		{Name: "plan", Type: source.Categorical},
		{Name: "region", Type: source.Categorical},
	},
	Prediction: source.Output{Type: source.Categorical},
}

// genRecords writes n NDJSON records one second apart from t0, with a few nulls, as a Python
// server using json.dumps would.
func genRecords(n int, t0 time.Time, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	plans := []string{"basic", "standard", "premium", "family"}
	regions := []string{"eu-west", "eu-north", "us-east", "us-west", "ap-south"}
	var buf bytes.Buffer
	buf.Grow(n * 330)
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	for i := 0; i < n; i++ {
		ts := t0.Add(time.Duration(i) * time.Second).Add(time.Duration(r.IntN(1000)) * time.Microsecond)
		status, pred := "ok", `"stay"`
		if r.IntN(50) == 0 {
			status, pred = "error", "null"
		} else if r.IntN(4) == 0 {
			pred = `"churn"`
		}
		spend := f(20+r.Float64()*80, 2)
		if r.IntN(100) == 0 {
			spend = "null"
		}
		fmt.Fprintf(&buf, `{"ts":"%s","model":"churn","version":"v%d","latency_ms":%s,"status":"%s","prediction":%s,"score":%s,"label":null,"features":{"age":%d,"tenure_months":%d,"monthly_spend":%s,"support_calls":%d,"data_gb":%s,"discount":%s,"plan":"%s","region":"%s"}}`+"\n",
			ts.UTC().Format(time.RFC3339Nano), 1+r.IntN(2), f(5+r.ExpFloat64()*20, 3), status, pred, f(r.Float64(), 6),
			18+r.IntN(60), r.IntN(120), spend, r.IntN(8), f(r.ExpFloat64()*12, 4), f(r.Float64()*0.3, 2),
			plans[r.IntN(len(plans))], regions[r.IntN(len(regions))])
	}
	return buf.Bytes()
}

// BenchmarkDecodeNDJSON decodes 1,048,576 records of eight features held in memory.
//
//	go test ./pkg/source/predlog -run '^$' -bench DecodeNDJSON -benchtime 5x
func BenchmarkDecodeNDJSON(b *testing.B) {
	const n = 1 << 20
	data := genRecords(n, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), 7)
	opt := decodeOptions{model: &benchModel, sizeHint: int64(len(data))}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch, err := decodeNDJSON(bytes.NewReader(data), opt)
		if err != nil {
			b.Fatal(err)
		}
		if batch.Len() != n {
			b.Fatalf("decoded %d records, want %d", batch.Len(), n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
