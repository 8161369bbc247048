package sql_test

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/predlog"
	sqlsource "github.com/modellens/mlmonitoring-datasource/pkg/source/sql"
)

// The benchmark fixture: MODELLENS_SQL_BENCH_ROWS records (default 1,000,000) of one model with
// 20 numeric features over 24 h, generated deterministically, loaded into PostgreSQL with COPY and
// served, from memory, by a minimal Prediction Log API for comparison (up to 2M rows). Built once
// per process by the first benchmark that needs it; nothing is committed.
const benchFeatures = 20

var benchDay = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

type benchFixture struct {
	pg      *testdb.Postgres
	rows    int
	batches []*source.Batch
	pl      *httptest.Server
	read    atomic.Int64 // bytes received from PostgreSQL
}

// countingConn counts the bytes read from PostgreSQL.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func benchBatch(rng *rand.Rand, from, n int, total int) *source.Batch {
	b := &source.Batch{Model: "bench", Versions: []string{"v1", "v2"}, Prediction: source.NewColumn(source.Numeric, n),
		Label: source.NewColumn(source.Numeric, n), Features: map[string]*source.Column{}}
	for f := 0; f < benchFeatures; f++ {
		name := fmt.Sprintf("f%02d", f)
		b.FeatureNames = append(b.FeatureNames, name)
		b.Features[name] = source.NewColumn(source.Numeric, n)
	}
	step := int64(24*time.Hour) / int64(total)
	for i := from; i < from+n; i++ {
		ts := benchDay.UnixNano() + int64(i+1)*step
		b.TS = append(b.TS, ts)
		b.Version = append(b.Version, int32(i%2))
		b.LatencyMs = append(b.LatencyMs, math.Round(math.Exp(3+0.4*rng.NormFloat64())*1000)/1000)
		b.Error = append(b.Error, rng.Float64() < 0.02)
		b.Score = append(b.Score, rng.Float64())
		b.Prediction.AppendNum(rng.NormFloat64())
		b.Label.AppendNull()
		drift := 0.0
		if i > total/2 {
			drift = 0.3
		}
		for f, name := range b.FeatureNames {
			b.Features[name].AppendNum(math.Round((float64(f)+drift*float64(f%3)+rng.NormFloat64())*1e6) / 1e6)
		}
	}
	return b
}

func setupBench(b *testing.B) *benchFixture {
	rows := 1_000_000
	if v := os.Getenv("MODELLENS_SQL_BENCH_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(b, err)
		rows = n
	}
	pg := testdb.StartPostgres(b)
	f := &benchFixture{pg: pg, rows: rows}
	ctx := context.Background()
	conn := pg.Conn(b)
	start := time.Now()
	require.NoError(b, sqlsource.CreateTables(ctx, conn, "predictions", "reference"))
	rng := rand.New(rand.NewPCG(1, 2))
	const chunk = 100_000
	for i := 0; i < rows; i += chunk {
		bt := benchBatch(rng, i, min(chunk, rows-i), rows)
		_, err := sqlsource.Load(ctx, conn, "predictions", bt)
		require.NoError(b, err)
		if rows <= 2_000_000 {
			f.batches = append(f.batches, bt)
		}
	}
	ref := benchBatch(rand.New(rand.NewPCG(3, 4)), 0, 20_000, rows)
	_, err := sqlsource.LoadPooledReference(ctx, conn, "reference", ref)
	require.NoError(b, err)
	_, err = conn.Exec(ctx, "VACUUM ANALYZE")
	require.NoError(b, err)
	var size string
	require.NoError(b, conn.QueryRow(ctx, "SELECT pg_size_pretty(pg_total_relation_size('predictions'))").Scan(&size))
	b.Logf("bench fixture: %d records × %d features loaded in %s (%s with indexes)", rows, benchFeatures, time.Since(start).Round(time.Second), size)
	if f.batches != nil {
		f.pl = httptest.NewServer(benchLog(f.batches, ref))
		b.Cleanup(f.pl.Close)
	}
	return f
}

// benchLog is a minimal Prediction Log API (DESIGN §6) over the fixture's batches.
func benchLog(batches []*source.Batch, ref *source.Batch) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /models", func(w http.ResponseWriter, _ *http.Request) {
		out := `{"models":[{"name":"bench","versions":["v1","v2"],"prediction":{"type":"numeric"},"features":[`
		for f := 0; f < benchFeatures; f++ {
			if f > 0 {
				out += ","
			}
			out += fmt.Sprintf(`{"name":"f%02d","type":"numeric"}`, f)
		}
		_, _ = w.Write([]byte(out + "]}]}"))
	})
	write := func(w *bufio.Writer, b *source.Batch, i int, withTS bool) {
		buf := make([]byte, 0, 600)
		buf = append(buf, '{')
		if withTS {
			buf = append(buf, `"ts":"`...)
			buf = time.Unix(0, b.TS[i]).UTC().AppendFormat(buf, time.RFC3339Nano)
			buf = append(buf, `",`...)
		}
		buf = append(buf, `"model":"bench","version":"`...)
		buf = append(buf, b.Versions[b.Version[i]]...)
		buf = append(buf, `","latency_ms":`...)
		if math.IsNaN(b.LatencyMs[i]) {
			buf = append(buf, "null"...)
		} else {
			buf = strconv.AppendFloat(buf, b.LatencyMs[i], 'g', -1, 64)
		}
		if b.Error[i] {
			buf = append(buf, `,"status":"error","prediction":`...)
		} else {
			buf = append(buf, `,"status":"ok","prediction":`...)
		}
		buf = strconv.AppendFloat(buf, b.Prediction.Num[i], 'g', -1, 64)
		buf = append(buf, `,"score":`...)
		buf = strconv.AppendFloat(buf, b.Score[i], 'g', -1, 64)
		buf = append(buf, `,"label":null,"features":{`...)
		for f, name := range b.FeatureNames {
			if f > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, '"')
			buf = append(buf, name...)
			buf = append(buf, `":`...)
			buf = strconv.AppendFloat(buf, b.Features[name].Num[i], 'g', -1, 64)
		}
		buf = append(buf, "}}\n"...)
		_, _ = w.Write(buf)
	}
	mux.HandleFunc("GET /records", func(w http.ResponseWriter, r *http.Request) {
		start, _ := time.Parse(time.RFC3339Nano, r.URL.Query().Get("start"))
		end, _ := time.Parse(time.RFC3339Nano, r.URL.Query().Get("end"))
		v := r.URL.Query().Get("version")
		bw := bufio.NewWriterSize(w, 1<<16)
		for _, b := range batches {
			for i := range b.TS {
				if b.TS[i] > start.UnixNano() && b.TS[i] <= end.UnixNano() && (v == "" || b.Versions[b.Version[i]] == v) {
					write(bw, b, i, true)
				}
			}
		}
		_ = bw.Flush()
	})
	mux.HandleFunc("GET /reference", func(w http.ResponseWriter, _ *http.Request) {
		bw := bufio.NewWriterSize(w, 1<<16)
		for i := 0; i < ref.Len(); i++ {
			write(bw, ref, i, false)
		}
		_ = bw.Flush()
	})
	return mux
}

// benchHandler is a query handler over the fixture: "pushdown" and "raw" read PostgreSQL (with and
// without push-down), "predlog" the Prediction Log API.
func benchHandler(b *testing.B, f *benchFixture, variant string) *query.Handler {
	// The plugin's reference cache, as in pkg/plugin: the reference sample is read once.
	deps := query.Deps{MaxSamples: settings.DefaultMaxSamples, Timeout: 10 * time.Minute, References: refstats.New(10 * time.Minute)}
	switch variant {
	case "predlog":
		if f.pl == nil {
			b.Skip("the Prediction Log comparison holds at most 2M records in memory")
		}
		pl, err := predlog.New(f.pl.Client(), predlog.Options{BaseURL: f.pl.URL})
		require.NoError(b, err)
		deps.PredictionLog = pl
	default:
		s, err := settings.Parse([]byte(`{"sql": {"url": "`+f.pg.URLWithoutPassword()+`"}}`), nil)
		require.NoError(b, err)
		d := &net.Dialer{}
		src, err := sqlsource.New(sqlsource.Options{Settings: s.SQL, Password: f.pg.Password, Timeout: 10 * time.Minute,
			Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := d.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return countingConn{Conn: c, n: &f.read}, nil
			}})
		require.NoError(b, err)
		b.Cleanup(src.Close)
		deps.SQL, deps.NoPushdown = src, variant == "raw"
	}
	return query.New(deps)
}

func runBench(b *testing.B, f *benchFixture, q map[string]any, interval time.Duration) {
	for _, variant := range []string{"pushdown", "raw", "predlog"} {
		b.Run(variant, func(b *testing.B) {
			h := benchHandler(b, f, variant)
			src := query.SourceSQL
			if variant == "predlog" {
				src = query.SourcePredictionLog
			}
			from, to := benchDay, benchDay.Add(24*time.Hour)
			r := answer(h, src, q, from, to, interval) // warm: the model list and the reference cache
			require.NoError(b, r.Error)
			b.ReportAllocs()
			f.read.Store(0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := answer(h, src, q, from, to, interval)
				if r.Error != nil {
					b.Fatal(r.Error)
				}
			}
			b.StopTimer()
			if variant != "predlog" {
				b.ReportMetric(float64(f.read.Load())/float64(b.N), "pg-bytes/op")
			}
		})
	}
}

// BenchmarkSQL loads the fixture once (MODELLENS_SQL_BENCH_ROWS records × 20 numeric features over
// 24 h) and measures, through PostgreSQL with push-down, PostgreSQL reading raw rows, and the
// Prediction Log API:
//   - drift: 20 features, psi, js, ks_pvalue, wasserstein_norm, 24 windows of 1 h;
//   - driftBinned: the same with psi and js only (counts only);
//   - latency: p50, p95, p99 over 288 windows of 5 min.
//
// go test ./pkg/source/sql -run '^$' -bench BenchmarkSQL -benchtime 3x
func BenchmarkSQL(b *testing.B) {
	f := setupBench(b)
	b.Run("drift", func(b *testing.B) {
		runBench(b, f, map[string]any{"queryType": "drift", "model": "bench", "methods": []string{"psi", "js", "ks_pvalue", "wasserstein_norm"}}, time.Hour)
	})
	b.Run("driftBinned", func(b *testing.B) {
		runBench(b, f, map[string]any{"queryType": "drift", "model": "bench", "methods": []string{"psi", "js"}}, time.Hour)
	})
	b.Run("latency", func(b *testing.B) {
		runBench(b, f, map[string]any{"queryType": "latency", "model": "bench", "percentiles": []float64{50, 95, 99}}, 5*time.Minute)
	})
}
