package prometheus_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/prometheus"
)

// feastOpenMetrics writes 30 minutes of 15 s scrapes of a Feast feature server with the exact
// names and labels of sdk/python/feast/metrics.py (feast-dev/feast f0bc0700): the freshness gauge
// of two views (driver_stats materialized at t0 and never again; zipcode every 5 minutes), the
// request counter {endpoint,status} and the latency histogram {endpoint,feature_count,
// feature_view_count} of /get-online-features (10 requests per scrape, 1 error in 10; 7 of 10 in
// the 0.025 s bucket, the rest in 0.05 s).
func feastOpenMetrics(t0 int64) string {
	var b strings.Builder
	put := func(name, labels string, ts int64, v float64) {
		fmt.Fprintf(&b, "%s{%s} %g %d\n", name, labels, v, ts)
	}
	b.WriteString("# TYPE feast_feature_freshness_seconds gauge\n")
	for i := int64(0); i <= 120; i++ {
		ts := t0 + 15*i
		put("feast_feature_freshness_seconds", `feature_view="driver_stats",project="rides"`, ts, float64(15*i))
		put("feast_feature_freshness_seconds", `feature_view="zipcode",project="rides"`, ts, float64((15*i)%300))
	}
	b.WriteString("# TYPE feast_feature_server_request counter\n")
	for i := int64(0); i <= 120; i++ {
		put("feast_feature_server_request_total", `endpoint="/get-online-features",status="success"`, t0+15*i, float64(9*i))
		put("feast_feature_server_request_total", `endpoint="/get-online-features",status="error"`, t0+15*i, float64(i))
	}
	b.WriteString("# TYPE feast_feature_server_request_latency_seconds histogram\n")
	l := `endpoint="/get-online-features",feature_count="3",feature_view_count="1"`
	for i := int64(0); i <= 120; i++ {
		ts := t0 + 15*i
		for _, le := range []string{"0.005", "0.01"} {
			put("feast_feature_server_request_latency_seconds_bucket", l+`,le="`+le+`"`, ts, 0)
		}
		put("feast_feature_server_request_latency_seconds_bucket", l+`,le="0.025"`, ts, float64(7*i))
		for _, le := range []string{"0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf"} {
			put("feast_feature_server_request_latency_seconds_bucket", l+`,le="`+le+`"`, ts, float64(10*i))
		}
		put("feast_feature_server_request_latency_seconds_sum", l, ts, 0.3*float64(i))
		put("feast_feature_server_request_latency_seconds_count", l, ts, float64(10*i))
	}
	b.WriteString("# EOF\n")
	return b.String()
}

// TestFeastPresetRealPrometheus backfills Feast's metric names into a real Prometheus (Debian's,
// with promtool) and runs the feast preset's freshness, traffic and latency through it.
func TestFeastPresetRealPrometheus(t *testing.T) {
	if os.Getenv("MODELLENS_SKIP_PROMETHEUS") == "1" {
		t.Skip("MODELLENS_SKIP_PROMETHEUS=1")
	}
	bin := debianPrometheus()
	promtool, err := exec.LookPath("promtool")
	if bin == "" || err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("prometheus and promtool (Debian) are needed")
		}
		t.Skip("prometheus and promtool (Debian) not installed")
	}
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC).Unix()
	om := filepath.Join(dir, "feast.om")
	if err := os.WriteFile(om, []byte(feastOpenMetrics(t0)), 0o600); err != nil {
		t.Fatal(err)
	}
	tsdb := filepath.Join(dir, "tsdb")
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", om, tsdb).CombinedOutput(); err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	start(t, dir, "prometheus", bin, "--config.file="+cfg, "--storage.tsdb.path="+tsdb,
		"--storage.tsdb.retention.time=100y", "--web.listen-address="+addr)
	base := "http://" + addr
	waitHTTP(t, base+"/-/ready", 60*time.Second)

	s, err := prometheus.New(&http.Client{Timeout: 30 * time.Second}, settings.Prometheus{URL: base, Preset: settings.PresetFeast}, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start0 := time.Unix(t0, 0).Add(10 * time.Minute)
	req := source.MetricsRequest{Start: start0, End: start0.Add(10 * time.Minute), Step: time.Minute, Window: 5 * time.Minute}

	res, err := s.Freshness(ctx, req, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Series) != 2 {
		t.Fatalf("want 2 freshness series, got %+v", res.Series)
	}
	for _, sr := range res.Series {
		if sr.Labels["project"] != "rides" || len(sr.Values) != 11 {
			t.Fatalf("series %v: %d values", sr.Labels, len(sr.Values))
		}
		for i, v := range sr.Values {
			el := float64(sr.Times[i].Unix() - t0)
			want := el
			if sr.Labels["feature_view"] == "zipcode" {
				want = math.Mod(el, 300)
			}
			if v != want {
				t.Fatalf("%s at %v: %v, want %v", sr.Labels["feature_view"], sr.Times[i], v, want)
			}
		}
	}
	one, err := s.Freshness(ctx, req, "zipcode")
	if err != nil || len(one.Series) != 1 || one.Series[0].Labels["feature_view"] != "zipcode" {
		t.Fatalf("one view: %v %+v", err, one)
	}

	traffic, err := s.Traffic(ctx, source.MetricsRequest{Model: "/get-online-features", Start: req.Start, End: req.End, Step: req.Step, Window: req.Window},
		[]string{"rate", "errorRatio"})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, sr := range traffic.Series {
		for _, v := range sr.Values {
			switch sr.Labels["metric"] {
			case "rate": // 10 requests per 15 s
				if math.Abs(v-10.0/15) > 1e-9 {
					t.Fatalf("rate %v, want %v", v, 10.0/15)
				}
			case "errorRatio":
				if math.Abs(v-0.1) > 1e-9 {
					t.Fatalf("errorRatio %v, want 0.1", v)
				}
			}
		}
		found[sr.Labels["metric"]] = true
	}
	if !found["rate"] || !found["errorRatio"] {
		t.Fatalf("traffic series: %+v", traffic.Series)
	}

	lat, err := s.Latency(ctx, source.MetricsRequest{Model: "/get-online-features", Start: req.Start, End: req.End, Step: req.Step, Window: req.Window}, []float64{50})
	if err != nil {
		t.Fatal(err)
	}
	got50 := false
	for _, sr := range lat.Series {
		if sr.Labels["quantile"] == "0.5" {
			// histogram_quantile(0.5): rank 5 of 10 in the (0.01, 0.025] bucket holding 7:
			// 0.01 + (0.025-0.01)·5/7 s.
			want := (0.01 + 0.015*5/7) * 1000
			for _, v := range sr.Values {
				if math.Abs(v-want) > 1e-9 {
					t.Fatalf("p50 %v ms, want %v", v, want)
				}
			}
			got50 = true
		}
	}
	if !got50 {
		t.Fatalf("latency series: %+v", lat.Series)
	}
}
