package demo

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches /metrics and parses the text exposition.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: status %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// find returns the metric of a family with exactly the given labels.
func find(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	fam, ok := fams[name]
	if !ok {
		t.Fatalf("no metric family %s", name)
	}
	for _, m := range fam.GetMetric() {
		got := labelsOf(m)
		if len(got) != len(labels) {
			continue
		}
		match := true
		for k, v := range labels {
			if got[k] != v {
				match = false
			}
		}
		if match {
			return m
		}
	}
	t.Fatalf("no %s series with labels %v", name, labels)
	return nil
}

// TestMetricsReplayFleet drives the live loop with a fake clock and checks that /metrics counts
// exactly the records the Prediction Log serves for the same period.
func TestMetricsReplayFleet(t *testing.T) {
	t0 := at(9, 0) // the fraud-detector v2 error burst starts at 09:00
	s, hs, clock := newTestServer(t, t0)
	fams := scrape(t, hs.URL)
	if v := find(t, fams, MetricRequests, map[string]string{"model_name": "fraud-detector", "model_version": "v2", "status": "error"}).GetCounter().GetValue(); v != 0 {
		t.Fatalf("before any tick: %v errors", v)
	}
	t1 := t0.Add(90 * time.Second)
	clock.Set(t1)
	n, err := s.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fleet := NewFleet(DefaultSeed)
	total := 0
	fams = scrape(t, hs.URL)
	for _, m := range specs {
		b := records(t, fleet, m.name, "", t0, t1)
		total += b.Len()
		for vi, v := range m.versions {
			var ok, bad, ageN int
			var latSum float64
			for i := range b.TS {
				if int(b.Version[i]) != vi {
					continue
				}
				if b.Error[i] {
					bad++
				} else {
					ok++
				}
				latSum += b.LatencyMs[i] / 1000
				if m.name == "fraud-detector" && !math.IsNaN(b.Features["account_age_days"].Num[i]) {
					ageN++
				}
			}
			lv := map[string]string{"model_name": m.name, "model_version": v}
			if got := find(t, fams, MetricRequests, with(lv, "status", "ok")).GetCounter().GetValue(); got != float64(ok) {
				t.Errorf("%s %s ok: %v, the fleet has %d", m.name, v, got, ok)
			}
			if got := find(t, fams, MetricRequests, with(lv, "status", "error")).GetCounter().GetValue(); got != float64(bad) {
				t.Errorf("%s %s error: %v, the fleet has %d", m.name, v, got, bad)
			}
			h := find(t, fams, MetricLatency, lv).GetHistogram()
			// The exposition prints sums with full precision; summation order is the same.
			if h.GetSampleCount() != uint64(ok+bad) || math.Abs(h.GetSampleSum()-latSum) > 1e-9*latSum {
				t.Errorf("%s %s latency: count %d sum %v, want %d %v", m.name, v, h.GetSampleCount(), h.GetSampleSum(), ok+bad, latSum)
			}
			if len(h.GetBucket()) != len(LatencyBuckets)+1 {
				t.Errorf("latency buckets: %d", len(h.GetBucket()))
			}
			if m.name == "fraud-detector" {
				fh := find(t, fams, MetricFeature, with(lv, "feature", "account_age_days")).GetHistogram()
				if fh.GetSampleCount() != uint64(ageN) {
					t.Errorf("%s account_age_days: %d observations, want %d non-null values", v, fh.GetSampleCount(), ageN)
				}
				edges, _ := fleet.FeatureBuckets("fraud-detector", "account_age_days")
				for i, e := range edges {
					if fh.GetBucket()[i].GetUpperBound() != e {
						t.Errorf("bucket %d bound %v, want the reference decile %v", i, fh.GetBucket()[i].GetUpperBound(), e)
					}
				}
			}
			find(t, fams, MetricInfer, with(lv, "status", "ok"))
		}
	}
	if n != total || total < 500 {
		t.Errorf("tick observed %d records, the fleet has %d", n, total)
	}
	// The v2 burst shows in the counters: about 30% errors.
	v2 := map[string]string{"model_name": "fraud-detector", "model_version": "v2"}
	e := find(t, fams, MetricRequests, with(v2, "status", "error")).GetCounter().GetValue()
	o := find(t, fams, MetricRequests, with(v2, "status", "ok")).GetCounter().GetValue()
	if r := e / (e + o); r < 0.15 || r > 0.45 {
		t.Errorf("v2 error ratio during the burst: %.3f", r)
	}
	// Categorical features have no histogram; every numeric feature has one.
	for _, m := range fams[MetricFeature].GetMetric() {
		l := labelsOf(m)
		if l["feature"] == "merchant_category" {
			t.Error("histogram of a categorical feature")
		}
	}
	if got := len(fams[MetricFeature].GetMetric()); got != 4*2+4+5 {
		t.Errorf("%d feature histogram series, want 17 (numeric features × versions)", got)
	}

	// No time passed: nothing new.
	if n, err := s.Tick(context.Background()); n != 0 || err != nil {
		t.Errorf("second tick at the same time: %d, %v", n, err)
	}
}

func with(l map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range l {
		out[a] = b
	}
	return out
}

func TestMetricsReadyAndInferCounters(t *testing.T) {
	s, hs, clock := newTestServer(t, at(12, 0))
	fams := scrape(t, hs.URL)
	if v := find(t, fams, MetricReady, map[string]string{"model_name": "churn-classifier"}).GetGauge().GetValue(); v != 1 {
		t.Errorf("churn ready gauge %v at noon", v)
	}
	post(t, hs.URL+"/v2/models/price-regressor/infer", `{"inputs":[{"name":"sqft","datatype":"FP64","shape":[2],"data":[1000,2000]}]}`)
	post(t, hs.URL+"/v2/models/price-regressor/infer", `{"inputs":[{"name":"sqft","datatype":"BYTES","shape":[1],"data":["x"]}]}`)
	post(t, hs.URL+"/v2/models/price-regressor/infer", `{"inputs":[]}`)
	outage := outageTime().Add(24 * time.Hour) // the next day's outage
	clock.Set(outage)
	if _, err := s.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	fams = scrape(t, hs.URL)
	if v := find(t, fams, MetricReady, map[string]string{"model_name": "churn-classifier"}).GetGauge().GetValue(); v != 0 {
		t.Errorf("churn ready gauge %v during the outage", v)
	}
	if v := find(t, fams, MetricReady, map[string]string{"model_name": "fraud-detector"}).GetGauge().GetValue(); v != 1 {
		t.Errorf("fraud ready gauge %v during the churn outage", v)
	}
	lv := map[string]string{"model_name": "price-regressor", "model_version": "v1"}
	if ok, bad := find(t, fams, MetricInfer, with(lv, "status", "ok")).GetCounter().GetValue(), find(t, fams, MetricInfer, with(lv, "status", "error")).GetCounter().GetValue(); ok != 1 || bad != 2 {
		t.Errorf("infer counters ok %v error %v, want 1 and 2", ok, bad)
	}
	// The outage is 15 h 20 min after the server's start: the replay is bounded by MaxCatchUp.
	total := 0.0
	for _, m := range fams[MetricRequests].GetMetric() {
		total += m.GetCounter().GetValue()
	}
	want := 0
	for _, m := range specs {
		want += records(t, NewFleet(DefaultSeed), m.name, "", outage.Add(-DefaultMaxCatchUp), outage).Len()
	}
	if total != float64(want) {
		t.Errorf("after a long stall the tick replayed %v records, want the last %s (%d)", total, DefaultMaxCatchUp, want)
	}
}

func TestRunLoop(t *testing.T) {
	s, hs, clock := newTestServer(t, at(12, 0))
	if err := s.Run(context.Background(), 0); err == nil {
		t.Error("Run accepted a zero period")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, 5*time.Millisecond) }()
	clock.Set(at(12, 1))
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams := scrape(t, hs.URL)
		v := find(t, fams, MetricRequests, map[string]string{"model_name": "price-regressor", "model_version": "v1", "status": "ok"}).GetCounter().GetValue()
		if v > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the live loop did not tick")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	body := func() string {
		resp, err := http.Get(hs.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var sb strings.Builder
		buf := make([]byte, 1<<16)
		for {
			n, err := resp.Body.Read(buf)
			sb.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return sb.String()
	}()
	for _, want := range []string{"# TYPE ml_prediction_latency_seconds histogram", "# TYPE ml_prediction_requests_total counter",
		"# TYPE ml_feature_value histogram", `ml_feature_value_bucket{feature="sqft",model_name="price-regressor",model_version="v1",le="+Inf"}`,
		"go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
