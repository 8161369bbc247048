package prometheus_test

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// checkSaturation compares the generic preset's saturation answer over the demo model server's
// scrapes with Prometheus' own answers to
//
//	sum by (instance) (rate(process_cpu_seconds_total{instance="<demo>"}[10s]))
//	sum by (instance) (avg_over_time(process_resident_memory_bytes{instance="<demo>"}[10s]))
//	avg by (instance, gpu) (avg_over_time(DCGM_FI_DEV_GPU_UTIL{instance="<demo>"}[10s])) / 100
//
// (client_golang's process collector and the server's synthetic DCGM gauges), and the GPU values
// with demo.GPUUtilization over the window (the gauge holds whole percent set every 1 s tick:
// within 0.01). It returns the number of values compared.
func checkSaturation(t *testing.T, s source.Metrics, promURL, demoAddr string, req source.MetricsRequest) int {
	t.Helper()
	res, err := s.Saturation(context.Background(), source.MetricsRequest{Model: "fraud-detector", Start: req.Start, End: req.End,
		Step: req.Step, Window: req.Window}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(res.Notices, "\n"), "no queue metric") {
		t.Errorf("generic preset: want a notice for queue, got %q", res.Notices)
	}
	w := strconv.Itoa(int(req.Window.Seconds())) + "s"
	inst := `{instance="` + demoAddr + `"}`
	refs := map[string]string{
		"cpu":    "sum by (instance) (rate(process_cpu_seconds_total" + inst + "[" + w + "]))",
		"memory": "sum by (instance) (avg_over_time(process_resident_memory_bytes" + inst + "[" + w + "]))",
		"gpu":    "avg by (instance, gpu) (avg_over_time(DCGM_FI_DEV_GPU_UTIL" + inst + "[" + w + "])) / 100",
	}
	n := 0
	for metric, q := range refs {
		ref := promRange(t, promURL, q, req)[""]
		var se *source.Series
		for i := range res.Series {
			l := res.Series[i].Labels
			if l["metric"] == metric && l["model"] == "fraud-detector" && l["instance"] == demoAddr {
				se = &res.Series[i]
			}
		}
		if se == nil || len(ref) == 0 {
			t.Fatalf("saturation %s: series %v, Prometheus %d points", metric, se, len(ref))
		}
		if len(se.Times) != len(ref) {
			t.Fatalf("saturation %s: %d points, Prometheus %d", metric, len(se.Times), len(ref))
		}
		for i, p := range ref {
			if se.Times[i].UnixMilli() != p.t || !closeRel(se.Values[i], p.v, tol) || !(se.Values[i] > 0) {
				t.Errorf("saturation %s at %v: %v, Prometheus %v", metric, se.Times[i], se.Values[i], p.v)
			}
			if metric == "gpu" {
				want := 0.0
				for d := time.Duration(0); d < req.Window; d += time.Second {
					want += demo.GPUUtilization(se.Times[i].Add(-d))
				}
				want /= req.Window.Seconds()
				if math.Abs(se.Values[i]-want) > 0.01 {
					t.Errorf("gpu at %v: %v, demo.GPUUtilization over the window %v", se.Times[i], se.Values[i], want)
				}
			}
			n++
		}
	}
	return n
}
