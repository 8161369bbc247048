package demo

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// The demo model server's synthetic GPU, and the saturation the built-in demo fleet answers. The
// GPU's utilisation is a deterministic function of the time of day: a daily swing with the
// fleet's traffic (about 0.15 to 0.55), and GPUSaturation, a known period at about 0.97. The demo
// model server exports it as the NVIDIA DCGM exporter does (DCGM_FI_DEV_GPU_UTIL in percent,
// DCGM_FI_DEV_FB_USED in MiB, labels gpu, UUID, modelName), next to client_golang's process_*
// metrics.

// GPUSaturation is the daily period (UTC) when the demo GPU runs at about 97% utilisation:
// 15:00 to 15:40.
var GPUSaturation = Window{Start: 15 * time.Hour, Duration: 40 * time.Minute}

// Demo GPU identity and size.
const (
	DemoGPU         = "0"
	DemoGPUUUID     = "GPU-6d6f6465-6c6c-656e-0000-000000000000"
	DemoGPUModel    = "NVIDIA A100-SXM4-40GB"
	DemoGPUTotalMiB = 40960
	// DemoInstance is the instance label of the built-in demo fleet's saturation series.
	DemoInstance = "demo-model"
	// DCGM metric names the demo model server exports.
	MetricGPUUtil = "DCGM_FI_DEV_GPU_UTIL"
	MetricGPUFB   = "DCGM_FI_DEV_FB_USED"
)

// GPUUtilization is the demo GPU's utilisation in [0, 1] at t: 0.97 ± 0.01 during GPUSaturation,
// else 0.35 + 0.2·cos(2π(h − 14)/24) + 0.03·sin(2π·s/1020) at UTC hour h and second of day s.
func GPUUtilization(t time.Time) float64 {
	ns := t.UnixNano()
	tod := float64(timeOfDay(ns)) / 1e9
	wiggle := math.Sin(2 * math.Pi * tod / 1020)
	if GPUSaturation.containsNano(ns) {
		return 0.97 + 0.01*wiggle
	}
	return 0.35 + 0.2*math.Cos(2*math.Pi*(tod-14*3600)/86400) + 0.03*wiggle
}

// GPUMemoryMiB is the demo GPU's used framebuffer in MiB at t: 6144 + 20480·utilisation, rounded.
func GPUMemoryMiB(t time.Time) float64 { return math.Round(6144 + 20480*GPUUtilization(t)) }

// demoCPUCores and demoMemoryBytes are the built-in fleet's synthetic process figures (the demo
// model server reports its real process_* instead).
func demoCPUCores(t time.Time) float64 { return 0.2 + 1.5*GPUUtilization(t) }

func demoMemoryBytes(t time.Time) float64 {
	return math.Round(768+512*GPUUtilization(t)) * 1048576
}

// gaugeSamples is the spacing of the samples a window's mean is taken over (a 15 s scrape), and
// maxGaugeSamples bounds their number per point (longer windows space them out evenly).
const (
	// maxSaturationPoints bounds the points of one saturation series (as Prometheus bounds a range
	// query's).
	maxSaturationPoints = 11000

	gaugeSamples    = 15 * time.Second
	maxGaugeSamples = 240
)

// windowMean is the mean of fn over the times t − k·15s, k ≥ 0, inside (t − w, t]: what
// avg_over_time over a 15 s scrape of the gauge gives (at most maxGaugeSamples samples, evenly
// spaced over longer windows).
func windowMean(fn func(time.Time) float64, t time.Time, w time.Duration) float64 {
	every := gaugeSamples
	if w > maxGaugeSamples*gaugeSamples {
		every = w / maxGaugeSamples
	}
	sum, n := 0.0, 0
	for d := time.Duration(0); (d < w || n == 0) && n < maxGaugeSamples; d += every {
		sum += fn(t.Add(-d))
		n++
	}
	return sum / float64(n)
}

// Saturation answers the saturation metrics for the built-in demo fleet (label "metric"; all when
// none are asked): cpu (cores), memory (bytes), gpu (0–1) and gpuMemory (bytes) of the one demo
// instance serving every model, each point the mean of the synthetic gauge over the window; the
// fleet has no queue metric (a notice says so).
func (f *Fleet) Saturation(ctx context.Context, req source.MetricsRequest, metrics []string) (*source.SeriesResult, error) {
	var models []*modelSpec
	if req.Model == "" || req.Model == "*" {
		models = specs
	} else {
		m, _, err := f.lookup(req.Model, "")
		if err != nil {
			return nil, err
		}
		models = []*modelSpec{m}
	}
	if req.Step <= 0 || req.End.Before(req.Start) {
		return nil, fmt.Errorf("demo: bad saturation range")
	}
	if n := req.End.Sub(req.Start) / req.Step; n >= maxSaturationPoints {
		return nil, fmt.Errorf("demo: %d points per series exceed %d; raise the interval", n+1, maxSaturationPoints)
	}
	w := req.Window
	if w <= 0 {
		w = req.Step
	}
	if len(metrics) == 0 {
		metrics = []string{"cpu", "memory", "gpu", "gpuMemory", "queue"}
	}
	res := &source.SeriesResult{}
	var times []time.Time
	for t := req.Start; !t.After(req.End); t = t.Add(req.Step) {
		times = append(times, t)
	}
	for _, metric := range metrics {
		var fn func(time.Time) float64
		switch metric {
		case "cpu":
			fn = demoCPUCores
		case "memory":
			fn = demoMemoryBytes
		case "gpu":
			fn = GPUUtilization
		case "gpuMemory":
			fn = func(t time.Time) float64 { return GPUMemoryMiB(t) * 1048576 }
		case "queue":
			res.Notices = append(res.Notices, "the demo fleet has no queue metric")
			continue
		default:
			return nil, fmt.Errorf("unknown saturation metric %q", metric)
		}
		values := make([]float64, len(times))
		for i, t := range times {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			values[i] = windowMean(fn, t, w)
		}
		for _, m := range models {
			var versions []string
			switch req.Version {
			case "":
				versions = []string{""}
			case "*":
				versions = m.versions
			default:
				if m.versionIndex(req.Version) < 0 {
					continue
				}
				versions = []string{req.Version}
			}
			for _, v := range versions {
				l := map[string]string{"model": m.name, "metric": metric, "instance": DemoInstance}
				if req.Version != "" {
					l["version"] = v
				}
				if metric == "gpu" || metric == "gpuMemory" {
					l["gpu"] = DemoGPU
				}
				res.Series = append(res.Series, source.Series{Labels: l, Times: times, Values: values})
			}
		}
	}
	return res, nil
}

// gpuGauges are the demo model server's DCGM-style GPU gauges.
type gpuGauges struct {
	util, fb prometheus.Gauge
}

func newGPUGauges(reg *prometheus.Registry) *gpuGauges {
	labels := prometheus.Labels{"gpu": DemoGPU, "UUID": DemoGPUUUID, "modelName": DemoGPUModel, "device": "nvidia0"}
	g := &gpuGauges{
		util: prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricGPUUtil, Help: "GPU utilization (in %).", ConstLabels: labels}),
		fb:   prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricGPUFB, Help: "Framebuffer memory used (in MiB).", ConstLabels: labels}),
	}
	reg.MustRegister(g.util, g.fb)
	return g
}

// set puts the gauges at their values at now (DCGM reports whole percent).
func (g *gpuGauges) set(now time.Time) {
	g.util.Set(math.Round(100 * GPUUtilization(now)))
	g.fb.Set(GPUMemoryMiB(now))
}
