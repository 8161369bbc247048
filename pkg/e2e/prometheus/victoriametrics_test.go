package prometheus_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	promsrc "github.com/modellens/mlmonitoring-datasource/pkg/source/prometheus"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// TestVictoriaMetrics runs the Prometheus source against VictoriaMetrics single-node v1.151.0
// holding exactly the samples that a Prometheus 2.42 scraped from the demo server (Prometheus
// remote-writes every sample to VictoriaMetrics), so that both servers' answers can be compared on
// the same data. What it asserts:
//   - VictoriaMetrics reports the Prometheus version 2.24.0 at /api/v1/status/buildinfo, so
//     ModelLens computes rates in Go from raw samples: rate, count, errors and errorRatio through
//     VictoriaMetrics equal Prometheus' own rate/increase on the same samples (1e-9 relative);
//   - latency means, per-window feature-histogram totals and drift equal VictoriaMetrics' own
//     answers (sums of MetricsQL increase, which does not extrapolate);
//   - latency percentiles equal Prometheus' histogram_quantile rule applied to VictoriaMetrics'
//     bucket increases, checked against VictoriaMetrics' own histogram_quantile where both agree.
//
// It logs, as figures, how far MetricsQL's rate, increase and histogram_quantile are from
// Prometheus' on the same samples.
func TestVictoriaMetrics(t *testing.T) {
	if os.Getenv("MODELLENS_SKIP_PROMETHEUS") == "1" {
		t.Skip("MODELLENS_SKIP_PROMETHEUS=1")
	}
	promBin := findServer(t, "PROMETHEUS_BIN", debianPrometheus(), "scripts/prometheus-deps.sh")
	vmBin := findServer(t, "VICTORIAMETRICS_BIN", cachedBin("victoria-metrics-v1.151.0", "victoria-metrics"), "scripts/victoriametrics-deps.sh")
	if promBin == "" || vmBin == "" {
		t.Skip("Prometheus 2.x or VictoriaMetrics not installed")
	}
	demoAddr := startDemo(t)
	dir := t.TempDir()

	vmAddr := freeAddr(t)
	start(t, dir, "victoria-metrics", vmBin, "-httpListenAddr="+vmAddr, "-storageDataPath="+filepath.Join(dir, "vm"),
		"-retentionPeriod=1d", "-search.latencyOffset=0s", "-search.disableCache", "-loggerLevel=ERROR")
	vmURL := "http://" + vmAddr
	waitHTTP(t, vmURL+"/health", 30*time.Second)
	checkVersion(t, vmURL, 2, 0) // VictoriaMetrics answers with a fixed Prometheus version

	promAddr := freeAddr(t)
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: demo-model\n    static_configs:\n      - targets: [%q]\n"+
		"remote_write:\n  - url: %q\n    queue_config:\n      batch_send_deadline: 500ms\n", demoAddr, vmURL+"/api/v1/write")
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, dir, "prometheus", promBin, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--storage.tsdb.retention.time=1h")
	promURL := "http://" + promAddr
	waitHTTP(t, promURL+"/-/ready", 30*time.Second)
	if minor := checkVersion(t, promURL, 2, 0); minor >= 51 {
		t.Fatalf("the reference server must be Prometheus 2.x before 2.51 (closed range selectors, as ModelLens' Go rates)")
	}

	// Wait until Prometheus has the checked range and VictoriaMetrics has every sample of it.
	need := span + window + 3*time.Second
	deadline := time.Now().Add(need + 60*time.Second)
	var end time.Time
	var countQ []string
	for _, m := range []string{"ml_prediction_requests_total", "ml_prediction_latency_seconds_bucket", "ml_prediction_latency_seconds_sum",
		"ml_prediction_latency_seconds_count", "ml_feature_value_bucket", "ml_feature_value_count"} {
		countQ = append(countQ, fmt.Sprintf("sum(count_over_time(%s[%ds]))", m, int(need.Seconds())+5))
	}
	for {
		v := promInstant(t, promURL, fmt.Sprintf("min(count_over_time(ml_prediction_requests_total[%ds]))", int(need.Seconds())))
		if len(v) > 0 && v[0] >= need.Seconds()-1 {
			if end.IsZero() {
				// an even second, so that every step falls on the same instants in both servers
				end = time.Now().Add(-3 * time.Second).Truncate(2 * time.Second)
			}
			at, all := end.Add(2*time.Second), true
			for _, q := range countQ {
				p, m := promInstantAt(t, promURL, q, at), promInstantAt(t, vmURL, q, at)
				all = all && len(p) == 1 && len(m) == 1 && p[0] == m[0]
			}
			if all {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("VictoriaMetrics did not receive the samples Prometheus scraped (have %v)", v)
		}
		time.Sleep(time.Second)
	}
	req := source.MetricsRequest{Start: end.Add(-span), End: end, Step: step, Window: window}
	w := strconv.Itoa(int(window.Seconds())) + "s"

	s, err := promsrc.New(&http.Client{Timeout: 20 * time.Second}, settings.Prometheus{URL: vmURL, Preset: settings.PresetGeneric}, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	checked := 0
	is := func(m string) func(map[string]string) bool {
		return func(l map[string]string) bool { return l["metric"] == m }
	}

	// Traffic: raw samples from VictoriaMetrics, Prometheus 2.x semantics in Go = Prometheus' answer.
	tr, err := s.Traffic(ctx, req, []string{"rate", "count", "errors", "errorRatio"})
	if err != nil {
		t.Fatal(err)
	}
	if !contains(tr.Notices, promsrc.NoticeGoRates) {
		t.Fatalf("rates were not computed in Go: notices %q", tr.Notices)
	}
	rateQ := "sum by (model_name) (rate(ml_prediction_requests_total[" + w + "]))"
	incQ := "sum by (model_name) (increase(ml_prediction_requests_total[" + w + "]))"
	promRate := promRange(t, promURL, rateQ, req)
	promInc := promRange(t, promURL, incQ, req)
	checked += compare(t, "rate", tr.Series, is("rate"), promRate, 1)
	checked += compare(t, "count", tr.Series, is("count"), promInc, 1)
	checked += compare(t, "errors", tr.Series, is("errors"), promRange(t, promURL, `sum by (model_name) (rate(ml_prediction_requests_total{status="error"}[`+w+"]))", req), 1)
	checked += compare(t, "errorRatio", tr.Series, is("errorRatio"), promRange(t, promURL,
		`sum by (model_name) (rate(ml_prediction_requests_total{status="error"}[`+w+"])) / sum by (model_name) (rate(ml_prediction_requests_total["+w+"]))", req), 1)

	// Latency: mean = VictoriaMetrics' own increase(_sum)/increase(_count).
	lat, err := s.Latency(ctx, req, []float64{50, 95, 99})
	if err != nil {
		t.Fatal(err)
	}
	checked += compare(t, "mean", lat.Series, func(l map[string]string) bool { return l["stat"] == "mean" },
		promRange(t, vmURL, "sum by (model_name) (increase(ml_prediction_latency_seconds_sum["+w+"])) / sum by (model_name) (increase(ml_prediction_latency_seconds_count["+w+"]))", req), 1000)

	// Percentiles: ModelLens applies Prometheus' histogram_quantile to VictoriaMetrics' bucket
	// increases. Where MetricsQL's histogram_quantile gives the same value (1e-9 relative) it is
	// counted as a check; where it differs, the figure is logged and the ModelLens value must lie
	// within the bucket bounds it reports.
	var same, differ int
	maxDiff := 0.0
	for _, q := range []string{"0.5", "0.95", "0.99"} {
		ref := promRange(t, vmURL, "histogram_quantile("+q+", sum by (le, model_name) (increase(ml_prediction_latency_seconds_bucket["+w+"])))", req)
		if len(ref) == 0 {
			t.Fatalf("p%s: VictoriaMetrics returned no series", q)
		}
		for mdl, pts := range ref {
			se := findSeries(lat.Series, mdl, "quantile", q)
			if se == nil {
				t.Errorf("p%s: no series for model %q", q, mdl)
				continue
			}
			for _, p := range pts {
				i := indexOf(se.Times, p.t)
				if i < 0 {
					t.Errorf("p%s %s: no value at %v (VictoriaMetrics has %v)", q, mdl, time.UnixMilli(p.t), p.v)
					continue
				}
				got, want := se.Values[i], p.v*1000
				if closeRel(got, want, tol) {
					same++
					continue
				}
				differ++
				maxDiff = math.Max(maxDiff, math.Abs(got-want))
				t.Logf("p%s %s at %v: ModelLens %v ms, MetricsQL histogram_quantile %v ms", q, mdl, time.UnixMilli(p.t).UTC().Format("15:04:05"), got, want)
				if len(se.Lower) != len(se.Values) || len(se.Upper) != len(se.Values) || !(got >= se.Lower[i] && got <= se.Upper[i]) {
					t.Errorf("p%s %s: %v outside its bucket bounds %v", q, mdl, got, se)
				}
			}
		}
	}
	if same == 0 {
		t.Fatalf("no percentile equals MetricsQL's histogram_quantile (%d differ)", differ)
	}
	checked += same

	// Feature histograms: per-window totals = VictoriaMetrics' increase of _count.
	hs, _, err := s.FeatureHistograms(ctx, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) == 0 {
		t.Fatal("no feature histograms")
	}
	counts := promRange(t, vmURL, "sum by (model_name, feature) (increase(ml_feature_value_count["+w+"]))", req)
	for _, h := range hs {
		want := counts[h.Labels["model"]+"/"+h.Labels["feature"]]
		if len(want) != len(h.Times) {
			t.Fatalf("feature %v: %d steps, VictoriaMetrics %d", h.Labels, len(h.Times), len(want))
		}
		for i, c := range h.Counts {
			total := 0.0
			for _, x := range c {
				total += x
			}
			if !closeRel(total, want[i].v, tol) {
				t.Errorf("feature %v at %v: %v observations, VictoriaMetrics %v", h.Labels, h.Times[i], total, want[i].v)
			}
			checked++
		}
	}
	checked += checkDatasetDrift(t, s, vmURL, demoAddr, 42, req)
	if checked < 50 {
		t.Fatalf("only %d values compared", checked)
	}

	// Figures: MetricsQL against Prometheus on the same samples.
	rd := relDiff(promRange(t, vmURL, rateQ, req), promRate)
	id := relDiff(promRange(t, vmURL, incQ, req), promInc)
	t.Logf("compared %d values; on the same samples MetricsQL rate differs from Prometheus' by %s, increase by %s; "+
		"%d of %d percentiles equal MetricsQL's histogram_quantile, the others differ by up to %.3g ms",
		checked, rd, id, same, same+differ, maxDiff)
}

// promInstantAt is the server's answer to an instant query at time at.
func promInstantAt(t *testing.T, base, q string, at time.Time) []float64 {
	t.Helper()
	r := promGet(t, base+"/api/v1/query?"+url.Values{"query": {q}, "time": {strconv.FormatInt(at.Unix(), 10)}}.Encode())
	var out []float64
	for _, s := range r.Data.Result {
		out = append(out, parsePair(t, s.Value).v)
	}
	return out
}

func findSeries(series []source.Series, mdl, key, val string) *source.Series {
	for i := range series {
		if series[i].Labels["model"] == mdl && series[i].Labels[key] == val {
			return &series[i]
		}
	}
	return nil
}

func indexOf(ts []time.Time, ms int64) int {
	for i, x := range ts {
		if x.UnixMilli() == ms {
			return i
		}
	}
	return -1
}

// relDiff summarises |a-b|/|b| over the points both answers have: "mean x, max y (n points)".
func relDiff(a, b map[string][]point) string {
	n, sum, max := 0, 0.0, 0.0
	for k, pb := range b {
		byT := map[int64]float64{}
		for _, p := range a[k] {
			byT[p.t] = p.v
		}
		for _, p := range pb {
			v, ok := byT[p.t]
			if !ok || p.v == 0 {
				continue
			}
			d := math.Abs(v-p.v) / math.Abs(p.v)
			n++
			sum += d
			max = math.Max(max, d)
		}
	}
	if n == 0 {
		return "(no common points)"
	}
	return fmt.Sprintf("mean %.1f%%, max %.1f%% (%d points)", 100*sum/float64(n), 100*max, n)
}

// TestHistogramQuantileEdges evaluates histogram_quantile over literal bucket vectors, e.g.
//
//	histogram_quantile(0.5, label_replace(vector(5), "le", "0.1", "", "") or label_replace(vector(10), "le", "+Inf", "", ""))
//
// on Prometheus 2.42 and 3.16 and on VictoriaMetrics, and checks that ModelLens' kernel
// (stats.PromHistogram, which computes every Prometheus-connector percentile) equals each
// Prometheus' answer, and that MetricsQL answers as the README documents: the same except in the
// cases marked below (no sample where Prometheus answers NaN; an answer without a +Inf bucket, for
// q = 0 over an empty first bucket, and inside a first bucket with a negative bound).
func TestHistogramQuantileEdges(t *testing.T) {
	if os.Getenv("MODELLENS_SKIP_PROMETHEUS") == "1" {
		t.Skip("MODELLENS_SKIP_PROMETHEUS=1")
	}
	type bk struct {
		le string
		n  float64
	}
	none := math.Inf(-1) // VictoriaMetrics returns no sample
	cases := []struct {
		q       float64
		buckets []bk
		vm      float64 // MetricsQL's answer where it differs from Prometheus', else NaN
	}{
		{0.5, []bk{{"0.1", 5}, {"0.2", 10}, {"+Inf", 10}}, math.NaN()},             // rank at a bucket's upper edge
		{0.5, []bk{{"0.1", 5}, {"0.2", 5}, {"0.4", 10}, {"+Inf", 10}}, math.NaN()}, // rank at the edge of an empty bucket
		{0.5, []bk{{"0.1", 4}, {"0.2", 10}, {"+Inf", 10}}, math.NaN()},
		{0.5, []bk{{"0.1", 0}, {"0.2", 10}, {"+Inf", 10}}, math.NaN()},
		{0.95, []bk{{"0.1", 5}, {"0.2", 10}, {"0.4", 10}, {"+Inf", 10}}, math.NaN()},
		{0.99, []bk{{"0.1", 5}, {"0.2", 10}, {"+Inf", 20}}, math.NaN()}, // in the +Inf bucket
		{0.5, []bk{{"0.1", 0}, {"0.2", 0}, {"+Inf", 10}}, math.NaN()},
		{1, []bk{{"0.1", 5}, {"0.2", 10}, {"+Inf", 10}}, math.NaN()},
		{0.5, []bk{{"0.1", 6}, {"0.2", 4}, {"+Inf", 10}}, math.NaN()}, // not cumulative
		{0.5, []bk{{"-1", 2}, {"0", 4}, {"1", 10}, {"+Inf", 10}}, math.NaN()},
		{0.5, []bk{{"0.1", 0}, {"0.2", 0}, {"+Inf", 0}}, none},                   // no observations
		{0.5, []bk{{"+Inf", 10}}, none},                                          // a single bucket
		{0, []bk{{"0.1", 0}, {"0.2", 10}, {"+Inf", 10}}, 0.1},                    // q = 0, empty first bucket
		{0.5, []bk{{"0.1", 5}, {"0.2", 10}}, 0.1},                                // no +Inf bucket
		{0.5, []bk{{"-0.5", 6}, {"0.2", 10}, {"+Inf", 10}}, -0.4166666666666667}, // first bound negative
	}
	expr := func(q float64, bs []bk) string {
		var terms []string
		for _, b := range bs {
			terms = append(terms, fmt.Sprintf(`label_replace(vector(%v), "le", %q, "", "")`, b.n, b.le))
		}
		return fmt.Sprintf("histogram_quantile(%v, %s)", q, strings.Join(terms, " or "))
	}
	servers := []struct{ name, bin string }{
		{"Prometheus 2.42", findServer(t, "PROMETHEUS_BIN", debianPrometheus(), "scripts/prometheus-deps.sh")},
		{"Prometheus 3.16", findServer(t, "PROMETHEUS3_BIN", cachedBin("prometheus-3.16.0", "prometheus"), "scripts/prometheus3-deps.sh")},
		{"VictoriaMetrics", findServer(t, "VICTORIAMETRICS_BIN", cachedBin("victoria-metrics-v1.151.0", "victoria-metrics"), "scripts/victoriametrics-deps.sh")},
	}
	at := time.Unix(1700000000, 0)
	differ := 0
	for _, srv := range servers {
		if srv.bin == "" {
			continue
		}
		dir := t.TempDir()
		addr := freeAddr(t)
		base := "http://" + addr
		if srv.name == "VictoriaMetrics" {
			start(t, dir, "victoria-metrics", srv.bin, "-httpListenAddr="+addr, "-storageDataPath="+filepath.Join(dir, "vm"), "-loggerLevel=ERROR")
			waitHTTP(t, base+"/health", 30*time.Second)
		} else {
			cfg := filepath.Join(dir, "prometheus.yml")
			if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 15s\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			start(t, dir, "prometheus", srv.bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--web.listen-address="+addr)
			waitHTTP(t, base+"/-/ready", 30*time.Second)
		}
		for _, c := range cases {
			e := expr(c.q, c.buckets)
			got := promInstantAt(t, base, e, at)
			var bs []stats.Bucket
			for _, b := range c.buckets {
				le, err := strconv.ParseFloat(b.le, 64)
				if err != nil {
					t.Fatal(err)
				}
				bs = append(bs, stats.Bucket{UpperBound: le, Count: b.n})
			}
			sort.Slice(bs, func(i, j int) bool { return bs[i].UpperBound < bs[j].UpperBound })
			kernel := stats.NewPromHistogram(bs, nil).Quantile(c.q)
			want := kernel
			if srv.name == "VictoriaMetrics" && !math.IsNaN(c.vm) {
				want = c.vm
				differ++
				t.Logf("%s: Prometheus %v, MetricsQL %v", e, kernel, fmtAnswer(got))
			}
			switch {
			case want == none:
				if len(got) != 0 {
					t.Errorf("%s on %s: %v, want no sample", e, srv.name, got)
				}
			case len(got) != 1 || !closeRel(got[0], want, tol):
				t.Errorf("%s on %s: %v, want %v (ModelLens %v)", e, srv.name, fmtAnswer(got), want, kernel)
			}
		}
	}
	if differ == 0 {
		t.Log("VictoriaMetrics not run")
	}
}

func fmtAnswer(v []float64) string {
	if len(v) == 0 {
		return "no sample"
	}
	return fmt.Sprint(v)
}
