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

// genRecords writes n NDJSON records about one second apart from t0, with a few nulls and
// errors, the way the demo model server and Python's json.dumps write them: features in name
// order, scores and computed values with all the digits of the shortest round-trip form.
func genRecords(n int, t0 time.Time, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	plans := []string{"basic", "standard", "premium", "family"}
	regions := []string{"eu-west", "eu-north", "us-east", "us-west", "ap-south"}
	var buf bytes.Buffer
	buf.Grow(n * 360)
	full := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	fixed := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	for i := 0; i < n; i++ {
		ts := t0.Add(time.Duration(i) * time.Second).Add(time.Duration(r.IntN(1000)) * time.Microsecond)
		status, pred := "ok", `"stay"`
		if r.IntN(50) == 0 {
			status, pred = "error", "null"
		} else if r.IntN(4) == 0 {
			pred = `"churn"`
		}
		spend := fixed(20+r.Float64()*80, 2)
		if r.IntN(100) == 0 {
			spend = "null"
		}
		fmt.Fprintf(&buf, `{"ts":"%s","model":"churn","version":"v%d","latency_ms":%s,"status":"%s","prediction":%s,"score":%s,"label":null,"features":{"age":%d,"data_gb":%s,"discount":%s,"monthly_spend":%s,"plan":"%s","region":"%s","support_calls":%d,"tenure_months":%d}}`+"\n",
			ts.UTC().Format(time.RFC3339Nano), 1+r.IntN(2), fixed(5+r.ExpFloat64()*20, 3), status, pred, full(r.Float64()),
			18+r.IntN(60), full(r.ExpFloat64()*12), fixed(r.Float64()*0.3, 2), spend,
			plans[r.IntN(len(plans))], regions[r.IntN(len(regions))], r.IntN(8), r.IntN(120))
	}
	return buf.Bytes()
}

// BenchmarkDecodeNDJSON decodes 1,048,576 records of eight features held in memory; records/s is
// the figure to compare with the 1M records/s target.
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
