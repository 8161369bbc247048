package prometheus

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/prometheus/common/model"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// Saturation metric names (the "metric" label), as in the query model (DESIGN §4).
const (
	SaturationCPU       = "cpu"
	SaturationMemory    = "memory"
	SaturationGPU       = "gpu"
	SaturationGPUMemory = "gpuMemory"
	SaturationQueue     = "queue"
)

// SaturationMetrics lists the saturation metrics in answer order.
var SaturationMetrics = []string{SaturationCPU, SaturationMemory, SaturationGPU, SaturationGPUMemory, SaturationQueue}

// satExpr is how one preset answers one saturation metric.
type satExpr struct {
	// perInstance expressions read a scrape target's own series (process_*, GPU gauges); they are
	// attributed to the models the target serves. Otherwise the series carry the model label.
	perInstance bool
	// expr builds the PromQL from a selector's matchers and the window ("5m"); the result is
	// grouped by instance (and gpuLabel), or by instance and the model (version) labels.
	expr func(matchers, by, w string) string
	// gpuLabel is the label that names a GPU ("gpu", "gpu_uuid"); it becomes the "gpu" label.
	gpuLabel string
	// notice, when set, says how the value is obtained.
	notice string
}

// Process metrics of the client libraries' process collectors (client_golang, prometheus_client):
// process_cpu_seconds_total (counter of CPU seconds: its rate is cores in use) and
// process_resident_memory_bytes (gauge).
var (
	procCPU = satExpr{perInstance: true, expr: func(m, by, w string) string {
		return "sum by (" + by + ") (rate(" + selOf("process_cpu_seconds_total", m) + "[" + w + "]))"
	}}
	procMemory = satExpr{perInstance: true, expr: func(m, by, w string) string {
		return "sum by (" + by + ") (avg_over_time(" + selOf("process_resident_memory_bytes", m) + "[" + w + "]))"
	}}
	// NVIDIA DCGM exporter (dcgm-exporter default counters): DCGM_FI_DEV_GPU_UTIL in percent,
	// DCGM_FI_DEV_FB_USED in MiB, one series per GPU (label gpu).
	dcgmUtil = satExpr{perInstance: true, gpuLabel: "gpu", expr: func(m, by, w string) string {
		return "avg by (" + by + ") (avg_over_time(" + selOf("DCGM_FI_DEV_GPU_UTIL", m) + "[" + w + "])) / 100"
	}}
	dcgmMemory = satExpr{perInstance: true, gpuLabel: "gpu", expr: func(m, by, w string) string {
		return "sum by (" + by + ") (avg_over_time(" + selOf("DCGM_FI_DEV_FB_USED", m) + "[" + w + "])) * 1048576"
	}}
)

// saturation returns how the preset answers a saturation metric, or a notice saying why it cannot.
func (p preset) saturation(metric string) (satExpr, string) {
	none := func(why string) (satExpr, string) {
		return satExpr{}, fmt.Sprintf("preset %s: no %s metric (%s)", p.name, metric, why)
	}
	switch metric {
	case SaturationCPU, SaturationMemory:
		switch p.name {
		case "triton":
			return none("Triton exports host-wide nv_cpu_utilization and nv_cpu_memory_used_bytes, not the server process's")
		case "torchserve":
			return none("TorchServe's frontend is a JVM without process_* metrics; its CPUUtilization and MemoryUsed are host-wide")
		}
		if metric == SaturationCPU {
			return procCPU, ""
		}
		return procMemory, ""
	case SaturationGPU, SaturationGPUMemory:
		if p.name == "triton" {
			// Triton (core/src/metrics.cc): nv_gpu_utilization in [0, 1] and
			// nv_gpu_memory_used_bytes, label gpu_uuid (notes §3.3).
			if metric == SaturationGPU {
				return satExpr{perInstance: true, gpuLabel: "gpu_uuid", expr: func(m, by, w string) string {
					return "avg by (" + by + ") (avg_over_time(" + selOf("nv_gpu_utilization", m) + "[" + w + "]))"
				}}, ""
			}
			return satExpr{perInstance: true, gpuLabel: "gpu_uuid", expr: func(m, by, w string) string {
				return "sum by (" + by + ") (avg_over_time(" + selOf("nv_gpu_memory_used_bytes", m) + "[" + w + "]))"
			}}, ""
		}
		if metric == SaturationGPU {
			return dcgmUtil, ""
		}
		return dcgmMemory, ""
	case SaturationQueue:
		switch p.name {
		case "triton":
			// nv_inference_pending_request_count gauge, labels model and version (notes §3.3).
			return satExpr{expr: func(m, by, w string) string {
				return "sum by (" + by + ") (avg_over_time(" + selOf("nv_inference_pending_request_count", m) + "[" + w + "]))"
			}, notice: "queue: requests waiting (Triton nv_inference_pending_request_count)"}, ""
		case "bentoml":
			// bentoml_service_request_in_progress gauge (notes §3.3).
			return satExpr{expr: func(m, by, w string) string {
				return "sum by (" + by + ") (avg_over_time(" + selOf("bentoml_service_request_in_progress", m) + "[" + w + "]))"
			}, notice: "queue: requests in flight (BentoML bentoml_service_request_in_progress)"}, ""
		case "torchserve":
			// ts_queue_latency_microseconds: a counter of cumulative µs spent queued; its rate in
			// s/s is the mean number of requests waiting over the window (Little's law).
			return satExpr{expr: func(m, by, w string) string {
				return "sum by (" + by + ") (rate(" + selOf("ts_queue_latency_microseconds", m) + "[" + w + "])) / 1e6"
			}, notice: "queue: mean requests waiting, the rate of TorchServe's cumulative queue time (ts_queue_latency_microseconds)"}, ""
		}
		return none("the server exports no per-model queue depth or requests in flight")
	}
	return satExpr{}, fmt.Sprintf("unknown saturation metric %q", metric)
}

// Saturation returns the asked saturation metrics (label "metric"; all when none are asked): cpu
// (cores: rate of process_cpu_seconds_total), memory (process_resident_memory_bytes), gpu
// (utilisation in [0, 1]: Triton's nv_gpu_utilization or DCGM_FI_DEV_GPU_UTIL/100, label gpu),
// gpuMemory (bytes: nv_gpu_memory_used_bytes or DCGM_FI_DEV_FB_USED MiB), queue (requests waiting
// or in flight, where the preset has it). Gauges are averaged over each point's window. Metrics of a
// scrape target (process, GPU) are attributed to each model (version) the target's request
// counters carry in the range, with label instance; a metric the preset has not gets a notice.
func (s *Source) Saturation(ctx context.Context, req source.MetricsRequest, metrics []string) (*source.SeriesResult, error) {
	w, err := toWindow(req)
	if err != nil {
		return nil, err
	}
	g, err := s.grouping(req)
	if err != nil {
		return nil, err
	}
	if len(metrics) == 0 {
		metrics = SaturationMetrics
	}
	res := &source.SeriesResult{}
	type job struct {
		metric string
		e      satExpr
	}
	var jobs []job
	needTargets := false
	for _, m := range metrics {
		e, why := s.preset.saturation(m)
		if e.expr == nil {
			if strings.HasPrefix(why, "unknown") {
				return nil, backend.DownstreamError(fmt.Errorf("%s (use %s)", why, strings.Join(SaturationMetrics, ", ")))
			}
			res.Notices = addNotice(res.Notices, why)
			continue
		}
		if e.notice != "" {
			res.Notices = addNotice(res.Notices, e.notice)
		}
		needTargets = needTargets || e.perInstance
		jobs = append(jobs, job{m, e})
	}
	var queries []string
	var owners map[string][]map[string]string
	var instSel string
	if needTargets {
		var q string
		owners, q, err = s.targetModels(ctx, g, w)
		if err != nil {
			return nil, err
		}
		queries = append(queries, q)
		if len(owners) == 0 {
			res.Notices = addNotice(res.Notices, "no scrape target reported requests of the model(s) in the range: no process or GPU metrics to attribute")
		}
		insts := make([]string, 0, len(owners))
		for inst := range owners {
			insts = append(insts, regexp.QuoteMeta(inst))
		}
		sort.Strings(insts)
		instSel = "instance=~" + quote(strings.Join(insts, "|"))
	}
	width := durationMs(w.width)
	for _, j := range jobs {
		var q string
		if j.e.perInstance {
			if len(owners) == 0 {
				continue
			}
			by := "instance"
			if j.e.gpuLabel != "" {
				by += ", " + j.e.gpuLabel
			}
			q = j.e.expr(instSel, by, width)
		} else {
			q = j.e.expr(g.matchers, g.by("instance"), width)
		}
		queries = append(queries, q)
		m, notices, err := s.queryRange(ctx, q, w, j.metric+" saturation")
		if err != nil {
			return nil, err
		}
		for _, n := range notices {
			res.Notices = addNotice(res.Notices, n)
		}
		for _, ss := range m {
			times, values := seriesPoints(ss)
			base := map[string]string{"metric": j.metric, "instance": string(ss.Metric["instance"])}
			if j.e.gpuLabel != "" {
				base["gpu"] = string(ss.Metric[model.LabelName(j.e.gpuLabel)])
			}
			if !j.e.perInstance {
				_, l := g.key(ss.Metric)
				for k, v := range l {
					base[k] = v
				}
				res.Series = append(res.Series, source.Series{Labels: base, Times: times, Values: values})
				continue
			}
			for _, owner := range owners[base["instance"]] {
				l := withLabels(base, owner)
				res.Series = append(res.Series, source.Series{Labels: l, Times: times, Values: values})
			}
		}
	}
	res.Query = strings.Join(queries, "\n")
	sortSeries(res.Series)
	return res, nil
}

// targetModels maps each scrape target (instance) to the models (and versions) whose request
// counters it exported in (start − window, end]: one instant query at the end of the range.
func (s *Source) targetModels(ctx context.Context, g grouping, w window) (map[string][]map[string]string, string, error) {
	rng := durationMs(w.end - w.start + w.width)
	q := "group by (" + g.by("instance") + ") (last_over_time(" + g.sel(s.preset.requests[0]) + "[" + rng + "]))"
	v, _, err := s.queryAt(ctx, q, timeAt(w.end), "scrape targets of the models")
	if err != nil {
		return nil, q, err
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, q, backend.DownstreamError(fmt.Errorf("Prometheus answered %s, not a vector, to %s", v.Type(), q))
	}
	out := map[string][]map[string]string{}
	n := 0
	for _, smp := range vec {
		inst := string(smp.Metric["instance"])
		if _, seen := out[inst]; !seen {
			if n == limits.MaxSaturationTargets {
				continue
			}
			n++
		}
		_, l := g.key(smp.Metric)
		out[inst] = append(out[inst], l)
	}
	for _, ls := range out {
		sort.Slice(ls, func(i, j int) bool { return labelsKey(ls[i]) < labelsKey(ls[j]) })
	}
	return out, q, nil
}

func withLabels(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// seriesPoints returns a range-query series' times and values.
func seriesPoints(ss *model.SampleStream) ([]time.Time, []float64) {
	times := make([]time.Time, 0, len(ss.Values))
	values := make([]float64, 0, len(ss.Values))
	for _, p := range ss.Values {
		times = append(times, p.Timestamp.Time().UTC())
		values = append(values, float64(p.Value))
	}
	return times, values
}

func timeAt(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// selOf is a selector of a metric name with matchers (none: the bare name).
func selOf(name, matchers string) string {
	if matchers == "" {
		return name
	}
	return name + "{" + matchers + "}"
}
