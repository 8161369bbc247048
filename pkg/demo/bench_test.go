package demo

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// BenchmarkRecords24h generates one day of fraud-detector records (about 345,000, both versions)
// into a columnar batch, as the plugin's demo source does for a 24 h panel.
func BenchmarkRecords24h(b *testing.B) {
	f := NewFleet(DefaultSeed)
	req := source.RecordsRequest{Model: "fraud-detector", Start: day0, End: day0.Add(24 * time.Hour)}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		batch, err := f.Records(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		n = batch.Len()
	}
	b.ReportMetric(float64(n), "records/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n)*1e5/1e6, "ms/100k-records")
}

// BenchmarkRecords1h is the common dashboard case: the last hour of one model.
func BenchmarkRecords1h(b *testing.B) {
	f := NewFleet(DefaultSeed)
	req := source.RecordsRequest{Model: "churn-classifier", Start: at(15, 0), End: at(16, 0)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Records(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReference(b *testing.B) {
	f := NewFleet(DefaultSeed)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Reference(context.Background(), "fraud-detector", ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServeRecords1h streams an hour of fraud-detector records as NDJSON over HTTP.
func BenchmarkServeRecords1h(b *testing.B) {
	clock := &fakeClock{t: at(23, 0)}
	hs := httptest.NewServer(NewServer(NewFleet(DefaultSeed), ServerOptions{Clock: clock.Now}))
	defer hs.Close()
	u := recordsURL(hs.URL, map[string]string{"model": "fraud-detector", "start": at(14, 0).Format(time.RFC3339), "end": at(15, 0).Format(time.RFC3339)})
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		b.SetBytes(n)
	}
}
