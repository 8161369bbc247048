package pluginproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// benchData is the drift benchmark's data: 1,000,000 prediction records over one hour and a
// 100,000-row reference without times, five numeric features (f1 shifted in current data).
func benchData(to time.Time) (records, reference []byte) {
	const nRec, nRef = 1_000_000, 100_000
	var rb bytes.Buffer
	rb.Grow(nRec * 200)
	from := to.Add(-time.Hour)
	step := time.Hour / nRec
	for i := 0; i < nRec; i++ {
		ts := from.Add(time.Duration(i+1) * step)
		fmt.Fprintf(&rb, `{"ts":"%s","model":"ranker","version":"v1","latency_ms":12.5,"status":"ok","prediction":%.6f,"features":%s}`+"\n",
			ts.UTC().Format(time.RFC3339Nano), unit(uint64(i), 9), rankerFeatures(uint64(i), 0.2))
	}
	var fb bytes.Buffer
	for i := 0; i < nRef; i++ {
		fmt.Fprintf(&fb, `{"model":"ranker","version":"v1","prediction":%.6f,"features":%s}`+"\n", unit(uint64(i)+1<<40, 9), rankerFeatures(uint64(i)+1<<40, 0))
	}
	return rb.Bytes(), fb.Bytes()
}

// BenchmarkDriftEndToEnd is one drift query (psi, ks, js, wasserstein of five features; 1M
// records against a 100k-row reference, one window) through the built plugin over the plugin
// protocol, the Prediction Log on loopback. Each iteration uses a new data source instance, so
// the reference is fetched and prepared every time. With MODELLENS_BENCH_DIR set, the data and
// the plugin's answer are written there for scripts/bench/drift_peer.py:
//
//	MODELLENS_BENCH_DIR=/tmp/bench go test ./pkg/e2e/pluginproto -run '^$' -bench DriftEndToEnd -benchtime 3x
//	/usr/bin/python3 scripts/bench/drift_peer.py /tmp/bench
func BenchmarkDriftEndToEnd(b *testing.B) {
	to := time.Now().UTC().Truncate(time.Second)
	records, reference := benchData(to)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/models", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"models":[{"name":"ranker","versions":["v1"],"features":[{"name":"f1"},{"name":"f2"},{"name":"f3"},{"name":"f4"},{"name":"f5"}],"prediction":{"type":"numeric"}}]}`)
	})
	mux.HandleFunc("/api/v1/records", func(w http.ResponseWriter, r *http.Request) { w.Write(records) })
	mux.HandleFunc("/api/v1/reference", func(w http.ResponseWriter, r *http.Request) { w.Write(reference) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	p := startPlugin(b)
	methods := []string{"psi", "ks", "js", "wasserstein"}
	var last *backend.DataResponse
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pc := pluginContext(fmt.Sprintf("bench-%d", i), map[string]any{"predictionLog": map[string]any{"url": srv.URL + "/api/v1"}, "timeoutSeconds": 300}, false)
		resp := p.query(b, pc, nil, to.Add(-time.Hour), to, map[string]map[string]any{"A": {"queryType": "drift", "model": "ranker", "output": "latest", "window": "1h", "methods": methods}})
		r := resp.Responses["A"]
		if r.Error != nil {
			b.Fatal(r.Error)
		}
		last = &r
	}
	b.StopTimer()
	b.ReportMetric(p.peakRSSMB(b), "peak-RSS-MiB")
	dir := os.Getenv("MODELLENS_BENCH_DIR")
	if dir == "" || last == nil {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	vals := map[string]float64{}
	for k, v := range latestValues(b, last.Frames) {
		vals[k] = v
	}
	out, _ := json.MarshalIndent(map[string]any{"values": vals, "nsPerQuery": b.Elapsed().Nanoseconds() / int64(b.N)}, "", "  ")
	for name, body := range map[string][]byte{"records.ndjson": records, "reference.ndjson": reference, "plugin.json": out} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}
