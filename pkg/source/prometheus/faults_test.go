package prometheus

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

const secretToken = "s3cr3t-token-value"

// fakeProm answers the Prometheus API with handler-chosen bodies; buildinfo says version (or 404).
func fakeProm(t *testing.T, version string, h func(w http.ResponseWriter, path, query string)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("form: %v", err)
		}
		if r.URL.Path == "/api/v1/status/buildinfo" {
			if version == "" {
				http.NotFound(w, r)
				return
			}
			fmt.Fprintf(w, `{"status":"success","data":{"version":%q}}`, version)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		h(w, r.URL.Path, r.Form.Get("query"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func faultReq() source.MetricsRequest {
	return source.MetricsRequest{Start: time.Unix(1000, 0), End: time.Unix(1120, 0), Step: time.Minute, Window: 5 * time.Minute}
}

func mustNew(t *testing.T, url string, preset settings.Preset) *Source {
	t.Helper()
	s, err := New(&http.Client{}, settings.Prometheus{URL: url, Preset: preset}, secretToken)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func wantDownstream(t *testing.T, err error, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", contains)
	}
	if !backend.IsDownstreamError(err) {
		t.Errorf("error %q is not a downstream error", err)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Errorf("error %q does not contain %q", err, contains)
	}
	if strings.Contains(err.Error(), secretToken) {
		t.Errorf("error leaks the token: %q", err)
	}
}

func TestUpstreamErrors(t *testing.T) {
	cases := []struct {
		name, body, want string
		status           int
	}{
		{"bad data", `{"status":"error","errorType":"bad_data","error":"1:10: parse error: unexpected character"}`, "bad_data error (latency sum): 1:10: parse error", 400},
		{"execution", `{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}`, "too many samples", 422},
		{"timeout", `{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}`, "query timed out", 503},
		{"proxy 502", `<html><body>502 Bad Gateway</body></html>`, "server error: 502", 502},
		{"proxy 503", `upstream connect error`, "server error: 503: upstream connect error", 503},
		{"not prometheus", `<html>Sign in</html>`, "not a Prometheus API response (check prometheus.url)", 200},
		{"unauthorized", `Unauthorized`, "client error: 401", 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := fakeProm(t, "", func(w http.ResponseWriter, _, _ string) {
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			})
			s := mustNew(t, srv.URL, settings.PresetGeneric)
			_, err := s.Latency(context.Background(), faultReq(), nil)
			wantDownstream(t, err, c.want)
			_, err = s.Traffic(context.Background(), faultReq(), nil)
			wantDownstream(t, err, "Prometheus")
			_, err = s.Models(context.Background())
			wantDownstream(t, err, "model list")
			_, err = s.Targets(context.Background())
			wantDownstream(t, err, "targets")
			_, _, err = s.FeatureHistograms(context.Background(), faultReq(), nil)
			wantDownstream(t, err, "feature histograms")
		})
	}
}

func TestTimeoutAndUnreachable(t *testing.T) {
	release := make(chan struct{})
	srv := fakeProm(t, "", func(w http.ResponseWriter, _, _ string) { <-release })
	defer close(release)
	s := mustNew(t, srv.URL, settings.PresetGeneric)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := s.Latency(ctx, faultReq(), nil)
	wantDownstream(t, err, "did not answer in time")

	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	s = mustNew(t, url, settings.PresetGeneric)
	_, err = s.Traffic(context.Background(), faultReq(), nil)
	wantDownstream(t, err, "cannot reach Prometheus")
}

const bucketsNoInf = `{"status":"success","data":{"resultType":"matrix","result":[
 {"metric":{"le":"0.1","model_name":"m"},"values":[[1000,"4"],[1060,"5"],[1120,"0"]]},
 {"metric":{"le":"1","model_name":"m"},"values":[[1000,"10"],[1060,"12"],[1120,"0"]]}]}}`

const bucketsOK = `{"status":"success","data":{"resultType":"matrix","result":[
 {"metric":{"le":"0.1","model_name":"m"},"values":[[1000,"4"],[1120,"0"]]},
 {"metric":{"le":"1","model_name":"m"},"values":[[1000,"10"],[1120,"0"]]},
 {"metric":{"le":"+Inf","model_name":"m"},"values":[[1000,"10"],[1120,"0"]]}]},
 "warnings":["partial response: store 10.0.0.3:10901 unavailable"]}`

const sumCount = `{"status":"success","data":{"resultType":"matrix","result":[
 {"metric":{"model_name":"m"},"values":[[1000,"2.5"],[1060,"3"],[1120,"0"]]}]}}`

func TestHistogramWithoutInfBucket(t *testing.T) {
	srv := fakeProm(t, "", func(w http.ResponseWriter, _, q string) {
		if strings.Contains(q, "_bucket") {
			io.WriteString(w, bucketsNoInf)
			return
		}
		io.WriteString(w, sumCount)
	})
	res, err := mustNew(t, srv.URL, settings.PresetGeneric).Latency(context.Background(), faultReq(), []float64{95})
	if err != nil {
		t.Fatal(err)
	}
	p95 := findSeries(res.Series, "m", "0.95")
	if p95 == nil || len(p95.Values) != 3 {
		t.Fatalf("p95 series: %+v", p95)
	}
	for _, v := range p95.Values {
		if !math.IsNaN(v) {
			t.Errorf("p95 without +Inf bucket = %v, want NaN", v)
		}
	}
	if !hasNotice(res.Notices, "no +Inf bucket") {
		t.Errorf("notices %q lack the +Inf notice", res.Notices)
	}
	mean := findSeries(res.Series, "m", "mean")
	// sum/count = 2.5/2.5 s, 3/3 s, 0/0 → 1000 ms, 1000 ms, NaN
	if mean == nil || mean.Values[0] != 1000 || mean.Values[1] != 1000 || !math.IsNaN(mean.Values[2]) {
		t.Fatalf("mean: %+v", mean)
	}
}

// Partial data: a Thanos-style answer with a warning and steps missing for a model. The warning
// becomes a notice, missing steps are absent (not zero), windows without requests are NaN.
func TestWarningsAndPartialData(t *testing.T) {
	srv := fakeProm(t, "", func(w http.ResponseWriter, _, q string) {
		if strings.Contains(q, "_bucket") {
			io.WriteString(w, bucketsOK)
			return
		}
		io.WriteString(w, sumCount)
	})
	res, err := mustNew(t, srv.URL, settings.PresetGeneric).Latency(context.Background(), faultReq(), []float64{50})
	if err != nil {
		t.Fatal(err)
	}
	if !hasNotice(res.Notices, "Prometheus warning: partial response: store 10.0.0.3:10901 unavailable") {
		t.Errorf("notices %q lack the warning", res.Notices)
	}
	p50 := findSeries(res.Series, "m", "0.5")
	if p50 == nil || len(p50.Times) != 2 || p50.Times[1].Unix() != 1120 {
		t.Fatalf("p50: %+v", p50)
	}
	// rank 5 of 10: bucket (0.1, 1] holding counts 4..10 → 0.1 + 0.9·(5−4)/6 = 0.25 s
	if math.Abs(p50.Values[0]-250) > 1e-9 || p50.Lower[0] != 100 || p50.Upper[0] != 1000 {
		t.Errorf("p50 = %v [%v, %v], want 250 [100, 1000]", p50.Values[0], p50.Lower[0], p50.Upper[0])
	}
	if !math.IsNaN(p50.Values[1]) || !hasNotice(res.Notices, "no requests in some windows") {
		t.Errorf("empty window: %v, notices %q", p50.Values[1], res.Notices)
	}
}

func TestHeadersAndSizeLimit(t *testing.T) {
	var sawAuth, sawTenant atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth.Store(r.Header.Get("Authorization"))
		sawTenant.Store(r.Header.Get("X-Scope-OrgID"))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"model_name":"m"},"values":[`)
		for i := 0; i < 5000; i++ {
			fmt.Fprintf(w, `[%d,"1"],`, 1000+i)
		}
		io.WriteString(w, `[99999,"1"]]}]}}`)
	}))
	defer srv.Close()
	s, err := newSource(&http.Client{}, settings.Prometheus{URL: srv.URL, TenantID: "team-a"}, secretToken, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Latency(context.Background(), faultReq(), nil)
	wantDownstream(t, err, "too large")
	if sawAuth.Load() != "Bearer "+secretToken || sawTenant.Load() != "team-a" {
		t.Errorf("headers: Authorization %q, X-Scope-OrgID %q", sawAuth.Load(), sawTenant.Load())
	}
}

// When the raw counter samples are too large, Prometheus computes the rates instead.
func TestTrafficFallsBackWhenRawSamplesTooLarge(t *testing.T) {
	srv := fakeProm(t, "2.42.0", func(w http.ResponseWriter, path, q string) {
		if path == "/api/v1/query" { // the raw range-vector fetch
			io.WriteString(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"model_name":"m"},"values":[`)
			for i := 0; i < 5000; i++ {
				fmt.Fprintf(w, `[%d,"%d"],`, 1000+i, i)
			}
			io.WriteString(w, `[99999,"1"]]}]}}`)
			return
		}
		if strings.Contains(q, `status=~"error"`) {
			io.WriteString(w, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
			return
		}
		io.WriteString(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"model_name":"m"},"values":[[1000,"2"],[1060,"4"]]}]}}`)
	})
	s, err := newSource(&http.Client{}, settings.Prometheus{URL: srv.URL}, "", 20_000)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Traffic(context.Background(), faultReq(), []string{MetricRate, MetricErrorRatio})
	if err != nil {
		t.Fatal(err)
	}
	if !s.goRates || !hasNotice(res.Notices, "rates computed by Prometheus") || !hasNotice(res.Notices, "raw samples exceed") {
		t.Fatalf("goRates %v, notices %q", s.goRates, res.Notices)
	}
	rate := findSeries(res.Series, "m", MetricRate)
	ratio := findSeries(res.Series, "m", MetricErrorRatio)
	if rate == nil || len(rate.Values) != 2 || rate.Values[1] != 4 || ratio == nil || ratio.Values[0] != 0 {
		t.Fatalf("rate %+v ratio %+v", rate, ratio)
	}
}

func TestBadInput(t *testing.T) {
	srv := fakeProm(t, "", func(w http.ResponseWriter, _, _ string) {
		t.Errorf("bad input reached Prometheus")
	})
	ctx := context.Background()
	s := mustNew(t, srv.URL, settings.PresetGeneric)
	r := faultReq()
	r.Step = 0
	_, err := s.Latency(ctx, r, nil)
	wantDownstream(t, err, "step")
	r = faultReq()
	r.End = r.Start.Add(-time.Second)
	_, err = s.Traffic(ctx, r, nil)
	wantDownstream(t, err, "ends before it starts")
	r = faultReq()
	r.Step = time.Second
	r.End = r.Start.Add(24 * time.Hour)
	_, err = s.Latency(ctx, r, nil)
	wantDownstream(t, err, "exceed Prometheus' limit of 11000")
	_, err = s.Latency(ctx, faultReq(), []float64{0})
	wantDownstream(t, err, "not in (0, 100]")
	_, err = s.Latency(ctx, faultReq(), []float64{math.NaN()})
	wantDownstream(t, err, "not in (0, 100]")
	_, err = s.Traffic(ctx, faultReq(), []string{"qps"})
	wantDownstream(t, err, `unknown traffic metric "qps"`)

	ks := mustNew(t, srv.URL, settings.PresetKServe)
	r = faultReq()
	r.Version = "*"
	_, err = ks.Latency(ctx, r, nil)
	wantDownstream(t, err, "preset kserve has no version label")
	_, err = ks.Traffic(ctx, faultReq(), []string{MetricErrors})
	wantDownstream(t, err, "preset kserve exports no per-model error counter")
	_, _, err = ks.FeatureHistograms(ctx, faultReq(), nil)
	wantDownstream(t, err, "preset kserve exports no feature histograms")

	for _, cfg := range []settings.Prometheus{
		{},
		{URL: srv.URL, Preset: "sagemaker"},
		{URL: srv.URL, ModelLabel: "model-name"},
		{URL: srv.URL, VersionLabel: `v"}`},
	} {
		if _, err := New(nil, cfg, secretToken); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		} else if strings.Contains(err.Error(), secretToken) {
			t.Errorf("error leaks the token: %v", err)
		}
	}
}

// A model name is a PromQL string literal, never PromQL: quotes and backslashes are escaped.
func TestModelNameIsQuoted(t *testing.T) {
	var got atomic.Value
	srv := fakeProm(t, "", func(w http.ResponseWriter, _, q string) {
		got.Store(q)
		io.WriteString(w, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
	})
	r := faultReq()
	r.Model = `a"} or vector(1) or x{y="`
	if _, err := mustNew(t, srv.URL, settings.PresetGeneric).Traffic(context.Background(), r, nil); err != nil {
		t.Fatal(err)
	}
	want := `sum by (model_name) (rate(ml_prediction_requests_total{model_name="a\"} or vector(1) or x{y=\""}[5m]))`
	if got.Load() != want {
		t.Errorf("query %q, want %q", got.Load(), want)
	}
}

func TestGoRatesFor(t *testing.T) {
	for v, want := range map[string]bool{"2.42.0+ds": true, "v2.45.0": true, "2.50.1": true, "2.51.0": false, "2.53.1": false,
		"3.1.0": false, "1.8.2": false, "": false, "garbage": false} {
		if got := goRatesFor(v); got != want {
			t.Errorf("goRatesFor(%q) = %v", v, got)
		}
	}
}

func hasNotice(ns []string, sub string) bool {
	for _, n := range ns {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}

// prometheus.modelLabel and prometheus.versionLabel replace the preset's labels in every query.
func TestLabelOverrides(t *testing.T) {
	var got []string
	var mu sync.Mutex
	srv := fakeProm(t, "", func(w http.ResponseWriter, _, q string) {
		mu.Lock()
		got = append(got, q)
		mu.Unlock()
		io.WriteString(w, `{"status":"success","data":{"resultType":"matrix","result":[
 {"metric":{"app":"m","rev":"7"},"values":[[1000,"3"]]}]}}`)
	})
	s, err := New(nil, settings.Prometheus{URL: srv.URL, Preset: settings.PresetKServe, ModelLabel: "app", VersionLabel: "rev"}, "")
	if err != nil {
		t.Fatal(err)
	}
	r := faultReq()
	r.Model, r.Version = "m", "*"
	res, err := s.Traffic(context.Background(), r, []string{MetricRate})
	if err != nil {
		t.Fatal(err)
	}
	want := `sum by (app, rev) (rate(request_predict_seconds_count{app="m"}[5m]))`
	if len(got) != 1 || got[0] != want {
		t.Fatalf("queries %q, want %q", got, want)
	}
	if len(res.Series) != 1 || res.Series[0].Labels["model"] != "m" || res.Series[0].Labels["version"] != "7" || res.Series[0].Values[0] != 3 {
		t.Fatalf("series %+v", res.Series)
	}
}

// Concurrent queries on one source (Grafana runs a dashboard's queries in parallel).
func TestConcurrentQueries(t *testing.T) {
	srv := recordingServer(t, "generic-gorates", "")
	s := testSource(t, srv.URL, settings.Prometheus{Preset: settings.PresetGeneric})
	want, err := s.Traffic(context.Background(), recReq("", ""), allTraffic)
	if err != nil {
		t.Fatal(err)
	}
	s = testSource(t, srv.URL, settings.Prometheus{Preset: settings.PresetGeneric})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.Traffic(context.Background(), recReq("", ""), allTraffic)
			if err != nil || len(got.Series) != len(want.Series) || got.Series[0].Values[3] != want.Series[0].Values[3] {
				t.Errorf("concurrent traffic: %v", err)
			}
		}()
	}
	wg.Wait()
}

// A proxy that only allows GET (405 on POST) still gets the matrix queries, as client_golang does.
func TestGetFallback(t *testing.T) {
	var posts, gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		gets.Add(1)
		if r.URL.Path == "/api/v1/status/buildinfo" {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("query") == "" {
			t.Errorf("GET without the query: %s", r.URL)
		}
		io.WriteString(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"model_name":"m"},"values":[[1000,"2"]]}]}}`)
	}))
	defer srv.Close()
	res, err := mustNew(t, srv.URL, settings.PresetGeneric).Traffic(context.Background(), faultReq(), []string{MetricRate})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Series) != 1 || res.Series[0].Values[0] != 2 || posts.Load() == 0 || gets.Load() < 2 {
		t.Fatalf("series %+v, %d POST, %d GET", res.Series, posts.Load(), gets.Load())
	}
}

// A server echoing the Authorization header — in a 500 body, in an API error, in a warning and in
// a 200 body that is not JSON — with the token at every cut position: no piece of the token of
// limits.SecretPrefix characters reaches an error or a notice.
func TestEchoedTokenNeverLeaksInPart(t *testing.T) {
	for pad := 150; pad <= 520; pad += 3 {
		for _, kind := range []string{"text500", "apiError", "warning", "notJSON"} {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				echo := strings.Repeat("x", pad) + " Authorization: " + r.Header.Get("Authorization") + " tail"
				switch kind {
				case "text500":
					w.WriteHeader(http.StatusInternalServerError)
					io.WriteString(w, echo)
				case "apiError":
					w.WriteHeader(http.StatusUnprocessableEntity)
					fmt.Fprintf(w, `{"status":"error","errorType":"execution","error":%q}`, echo)
				case "warning":
					fmt.Fprintf(w, `{"status":"success","warnings":[%q],"data":{"resultType":"matrix","result":[]}}`, echo)
				case "notJSON":
					io.WriteString(w, `{"status":"success","data":`+echo)
				}
			}))
			s := mustNew(t, srv.URL, settings.PresetGeneric)
			res, err := s.Latency(context.Background(), faultReq(), nil)
			srv.Close()
			var texts []string
			if err != nil {
				texts = append(texts, err.Error())
			}
			if res != nil {
				texts = append(texts, res.Notices...)
			}
			if len(texts) == 0 {
				t.Fatalf("%s pad %d: neither an error nor a notice", kind, pad)
			}
			for _, text := range texts {
				for i := 0; i+limits.SecretPrefix <= len(secretToken); i++ {
					if p := secretToken[i : i+limits.SecretPrefix]; strings.Contains(text, p) {
						t.Fatalf("%s pad %d: %q of the token in %q", kind, pad, p, text)
					}
				}
			}
		}
	}
}
