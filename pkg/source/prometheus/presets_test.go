package prometheus

import (
	"context"
	"strconv"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

type presetCase struct {
	preset settings.Preset
	model  string // a model of the recorded data
}

var presetCases = []presetCase{
	{settings.PresetGeneric, "churn"},
	{settings.PresetKServe, "sklearn-iris"},
	{settings.PresetBentoML, "iris_classifier"},
	{settings.PresetSeldon, "classifier"},
	{settings.PresetTriton, "densenet_onnx"},
	{settings.PresetTorchServe, "resnet-18"},
	{settings.PresetMLServer, "iris-sklearn"},
}

var allTraffic = []string{MetricRate, MetricCount, MetricErrors, MetricErrorCount, MetricErrorRatio}

func recReq(model, version string) source.MetricsRequest {
	return source.MetricsRequest{Model: model, Version: version, Start: recStart, End: recEnd, Step: time.Minute, Window: 5 * time.Minute}
}

// TestPresetsGolden runs every capability of every preset against recorded Prometheus answers and
// compares the results with the golden files.
func TestPresetsGolden(t *testing.T) {
	for _, pc := range presetCases {
		t.Run(string(pc.preset), func(t *testing.T) {
			srv := recordingServer(t, string(pc.preset), "")
			s := testSource(t, srv.URL, settings.Prometheus{Preset: pc.preset})
			ctx := context.Background()
			out := map[string]any{}

			models, err := s.Models(ctx)
			if err != nil {
				t.Fatalf("models: %v", err)
			}
			if len(models) == 0 {
				t.Fatalf("no models")
			}
			out["models"] = models
			targets, err := s.Targets(ctx)
			if err != nil {
				t.Fatalf("targets: %v", err)
			}
			if len(targets) == 0 {
				t.Fatalf("no targets")
			}
			out["targets"] = targets
			lat, err := s.Latency(ctx, recReq("", ""), nil)
			if err != nil {
				t.Fatalf("latency: %v", err)
			}
			out["latency"] = gOf(lat, nil)
			out["latency_by_version"] = gOf(s.Latency(ctx, recReq(pc.model, "*"), []float64{90}))
			tr, err := s.Traffic(ctx, recReq("", ""), allTraffic)
			if err != nil {
				t.Fatalf("traffic: %v", err)
			}
			out["traffic"] = gOf(tr, nil)
			out["traffic_latest"] = gOf(s.Traffic(ctx, source.MetricsRequest{Model: pc.model, Start: recEnd, End: recEnd, Step: time.Minute, Window: 5 * time.Minute}, []string{MetricRate}))
			hs, notices, err := s.FeatureHistograms(ctx, recReq(pc.model, ""), nil)
			if err != nil {
				out["features"] = map[string]string{"error": err.Error()}
			} else {
				out["features"] = map[string]any{"series": hs, "notices": notices}
			}
			golden(t, string(pc.preset), out)

			for _, se := range lat.Series {
				if len(se.Times) == 0 {
					t.Errorf("latency series %v is empty", se.Labels)
				}
				if se.Labels["model"] == "" {
					t.Errorf("latency series without model: %v", se.Labels)
				}
			}
			for _, se := range tr.Series {
				if len(se.Times) == 0 {
					t.Errorf("traffic series %v is empty", se.Labels)
				}
			}
		})
	}
}

// TestLatencyEqualsPrometheus compares each preset's latency with Prometheus' own answer over the
// same recorded data: for histogram presets
//
//	histogram_quantile(q, sum by (le, <model>) (increase(<hist>_bucket[5m])))
//
// and for every preset the mean sum(increase(sum))/sum(increase(count)); within 1e-9 relative.
func TestLatencyEqualsPrometheus(t *testing.T) {
	for _, pc := range presetCases {
		t.Run(string(pc.preset), func(t *testing.T) {
			srv := recordingServer(t, string(pc.preset)+"-reference", "")
			s := testSource(t, srv.URL, settings.Prometheus{Preset: pc.preset})
			ctx := context.Background()
			res, err := s.Latency(ctx, recReq("", ""), []float64{50, 95, 99})
			if err != nil {
				t.Fatal(err)
			}
			p := s.preset
			ref := map[string]string{}
			if p.histogram != "" {
				for _, q := range []string{"0.5", "0.95", "0.99"} {
					ref[q] = "histogram_quantile(" + q + ", sum by (le, " + s.modelLabel + ") (increase(" + p.histogram + "_bucket[5m])))"
				}
				ref["mean"] = "sum by (" + s.modelLabel + ") (increase(" + p.histogram + "_sum[5m])) / sum by (" + s.modelLabel + ") (increase(" + p.histogram + "_count[5m]))"
			} else {
				ref["mean"] = "sum by (" + s.modelLabel + ") (increase(" + p.meanSum + "[5m])) / sum by (" + s.modelLabel + ") (increase(" + p.meanCount + "[5m]))"
			}
			checked := 0
			for key, q := range ref {
				m := promMatrix(t, s, q)
				for _, ss := range m {
					mdl := string(ss.Metric[model.LabelName(s.modelLabel)])
					se := findSeries(res.Series, mdl, key)
					if se == nil {
						t.Fatalf("%s: no ModelLens series for model %q", key, mdl)
					}
					if len(se.Times) != len(ss.Values) {
						t.Fatalf("%s %s: %d points, Prometheus %d", key, mdl, len(se.Times), len(ss.Values))
					}
					for i, sp := range ss.Values {
						want := float64(sp.Value) * p.toMs
						if !se.Times[i].Equal(sp.Timestamp.Time()) || !closeRel(se.Values[i], want, 1e-9) {
							t.Errorf("%s %s at %v: %v, Prometheus %v", key, mdl, se.Times[i], se.Values[i], want)
						}
						checked++
					}
				}
			}
			if checked < 16 {
				t.Fatalf("only %d points compared", checked)
			}
		})
	}
}

// TestTrafficEqualsPrometheus compares the rates computed in Go from raw samples (the recorded
// server is Prometheus 2.42) with Prometheus' own sum by (<model>) (rate|increase(...[5m])), and
// with the answer of the path where Prometheus computes them (server reporting version 3.1.0).
func TestTrafficEqualsPrometheus(t *testing.T) {
	for _, pc := range presetCases {
		t.Run(string(pc.preset), func(t *testing.T) {
			srvGo := recordingServer(t, string(pc.preset)+"-gorates", "")
			srvProm := recordingServer(t, string(pc.preset)+"-promql", "3.1.0")
			sGo := testSource(t, srvGo.URL, settings.Prometheus{Preset: pc.preset})
			sProm := testSource(t, srvProm.URL, settings.Prometheus{Preset: pc.preset})
			ctx := context.Background()
			goRes, err := sGo.Traffic(ctx, recReq("", ""), allTraffic)
			if err != nil {
				t.Fatal(err)
			}
			if !sGo.goRates || sProm.goRates {
				t.Fatalf("rate paths: 2.42 goRates=%v, 3.1.0 goRates=%v", sGo.goRates, sProm.goRates)
			}
			promRes, err := sProm.Traffic(ctx, recReq("", ""), allTraffic)
			if err != nil {
				t.Fatal(err)
			}
			if len(goRes.Series) != len(promRes.Series) || len(goRes.Series) == 0 {
				t.Fatalf("%d series computed in Go, %d by Prometheus", len(goRes.Series), len(promRes.Series))
			}
			checked := 0
			for i, a := range goRes.Series {
				b := promRes.Series[i]
				if labelsKey(a.Labels) != labelsKey(b.Labels) || len(a.Values) != len(b.Values) {
					t.Fatalf("series %v (%d points) vs %v (%d points)", a.Labels, len(a.Values), b.Labels, len(b.Values))
				}
				for j := range a.Values {
					if !a.Times[j].Equal(b.Times[j]) || !closeRel(a.Values[j], b.Values[j], 1e-9) {
						t.Errorf("%v at %v: Go %v, Prometheus %v", a.Labels, a.Times[j], a.Values[j], b.Values[j])
					}
					checked++
				}
			}
			// and directly against the plain PromQL rate, summed over the preset's request counters
			want := map[string]map[int64]float64{}
			for _, name := range sGo.preset.requests {
				for _, ss := range promMatrix(t, sProm, "sum by ("+sProm.modelLabel+") (rate("+name+"[5m]))") {
					mdl := string(ss.Metric[model.LabelName(sGo.modelLabel)])
					if want[mdl] == nil {
						want[mdl] = map[int64]float64{}
					}
					for _, sp := range ss.Values {
						want[mdl][int64(sp.Timestamp)] += float64(sp.Value)
					}
				}
			}
			if len(want) == 0 {
				t.Fatal("no reference rates")
			}
			for mdl, byT := range want {
				se := findSeries(goRes.Series, mdl, "rate")
				if se == nil || len(se.Values) != len(byT) {
					t.Fatalf("rate of %q: %v, Prometheus %d points", mdl, se, len(byT))
				}
				for i, tm := range se.Times {
					if w, ok := byT[tm.UnixMilli()]; !ok || !closeRel(se.Values[i], w, 1e-9) {
						t.Errorf("rate %s at %v: %v, Prometheus %v (%v)", mdl, tm, se.Values[i], w, ok)
					}
					checked++
				}
			}
			if checked < 20 {
				t.Fatalf("only %d points compared", checked)
			}
		})
	}
}

// promMatrix runs a reference range query over the recorded range through the source's client.
func promMatrix(t *testing.T, s *Source, q string) model.Matrix {
	t.Helper()
	v, _, err := s.api.QueryRange(context.Background(), q, v1.Range{Start: recStart, End: recEnd, Step: time.Minute})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v.(model.Matrix)
}

// findSeries finds the series of a model with quantile q ("0.95"), "mean", or traffic metric.
func findSeries(ss []source.Series, mdl, key string) *source.Series {
	for i := range ss {
		l := ss[i].Labels
		if l["model"] != mdl {
			continue
		}
		if l["quantile"] == key || (key == "mean" && l["stat"] == "mean") || l["metric"] == key {
			return &ss[i]
		}
	}
	return nil
}

func TestQuantileLabel(t *testing.T) {
	for p, want := range map[float64]string{95: "0.95", 50: "0.5", 99.9: "0.999", 100: "1", 99.99: "0.9999", 12.5: "0.125"} {
		if got := QuantileLabel(p); got != want {
			t.Errorf("QuantileLabel(%v) = %q, want %q", p, got, want)
		}
	}
	if _, err := strconv.ParseFloat(QuantileLabel(33.3333333), 64); err != nil {
		t.Error(err)
	}
}
