package prometheus

import (
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
)

// preset maps ModelLens' capabilities to the metric names and labels one model server exports.
// Names are checked against /work/shared/notes (ml-monitoring-systems.md §2.6 and §3.3), which cite
// the servers' sources; each entry below names its origin.
type preset struct {
	name         settings.Preset
	modelLabel   string
	versionLabel string // "" when the server has no version label

	// requests are the counters whose sum is the number of requests (successes and failures).
	requests []string
	// errLabel/errRegex select the error series among requests (errLabel "__name__" selects a whole
	// counter); errLabel "" means the server exports no per-model error counter.
	errLabel, errRegex string

	// histogram is the base name of a classic latency histogram (_bucket/_sum/_count); "" when the
	// server exports no buckets, and then meanSum/meanCount give the mean only.
	histogram          string
	meanSum, meanCount string
	// toMs converts the latency unit to milliseconds.
	toMs float64
	// meanOnlyWhy explains, in a notice, why percentiles are not available.
	meanOnlyWhy string

	// features is the base name of per-feature value histograms (label "feature"); "" when none.
	features string
}

func presetFor(p settings.Preset) (preset, bool) {
	switch p {
	case settings.PresetGeneric, "":
		// prometheus_client apps instrumented the ModelLens way, and the demo model server
		// (pkg/cmd/demo-model): ml_prediction_latency_seconds histogram,
		// ml_prediction_requests_total{status="ok"|"error"}, ml_feature_value{feature} histograms.
		return preset{
			name: settings.PresetGeneric, modelLabel: "model_name", versionLabel: "model_version",
			requests: []string{"ml_prediction_requests_total"}, errLabel: "status", errRegex: "error",
			histogram: "ml_prediction_latency_seconds", toMs: 1000,
			features: "ml_feature_value",
		}, true
	case settings.PresetKServe:
		// KServe Python model server (kserve/metrics.py): request_predict_seconds histogram labelled
		// model_name; no error counter and no version label (notes §3.3).
		return preset{
			name: settings.PresetKServe, modelLabel: "model_name",
			requests:  []string{"request_predict_seconds_count"},
			histogram: "request_predict_seconds", toMs: 1000,
		}, true
	case settings.PresetBentoML:
		// BentoML ≥ 1.2 (_internal/server/http/instruments.py, namespace bentoml_service):
		// bentoml_service_request_duration_seconds histogram, bentoml_service_request_total counter,
		// labels endpoint, service_name, service_version, http_response_code (notes §3.3).
		return preset{
			name: settings.PresetBentoML, modelLabel: "service_name", versionLabel: "service_version",
			requests: []string{"bentoml_service_request_total"}, errLabel: "http_response_code", errRegex: "5..",
			histogram: "bentoml_service_request_duration_seconds", toMs: 1000,
		}, true
	case settings.PresetSeldon:
		// Seldon Core v1 executor (executor/api/metric/constants.go): the client-side histogram
		// seldon_api_executor_client_requests_seconds carries model_name, model_version and code
		// (notes §2.6); its _count is the request counter.
		return preset{
			name: settings.PresetSeldon, modelLabel: "model_name", versionLabel: "model_version",
			requests: []string{"seldon_api_executor_client_requests_seconds_count"}, errLabel: "code", errRegex: "5..",
			histogram: "seldon_api_executor_client_requests_seconds", toMs: 1000,
		}, true
	case settings.PresetTriton:
		// Triton (core/src/metrics.cc): nv_inference_request_success/_failure counters and the
		// nv_inference_request_duration_us counter of cumulative µs, labels model and version
		// (notes §3.3). Mean latency = Δduration/Δsuccess.
		return preset{
			name: settings.PresetTriton, modelLabel: "model", versionLabel: "version",
			requests: []string{"nv_inference_request_success", "nv_inference_request_failure"},
			errLabel: "__name__", errRegex: "nv_inference_request_failure",
			meanSum: "nv_inference_request_duration_us", meanCount: "nv_inference_request_success", toMs: 0.001,
			meanOnlyWhy: "Triton exports latency as counters of cumulative microseconds, so only the mean is available",
		}, true
	case settings.PresetTorchServe:
		// TorchServe (ts/configs/metrics.yaml, metrics_mode=prometheus): ts_inference_requests_total and
		// ts_inference_latency_microseconds counters, labels model_name, model_version; the
		// Requests4XX/5XX counters have no model label (notes §3.3).
		return preset{
			name: settings.PresetTorchServe, modelLabel: "model_name", versionLabel: "model_version",
			requests: []string{"ts_inference_requests_total"},
			meanSum:  "ts_inference_latency_microseconds", meanCount: "ts_inference_requests_total", toMs: 0.001,
			meanOnlyWhy: "TorchServe exports latency as a counter of cumulative microseconds, so only the mean is available",
		}, true
	case settings.PresetMLServer:
		// MLServer (handlers/dataplane.py): model_infer_request_success/_failure counters (exposed with
		// _total by the Python client) and the model_infer_request_duration summary with no quantiles
		// (_sum/_count in seconds), labels model and version (notes §3.3).
		return preset{
			name: settings.PresetMLServer, modelLabel: "model", versionLabel: "version",
			requests: []string{"model_infer_request_success_total", "model_infer_request_failure_total"},
			errLabel: "__name__", errRegex: "model_infer_request_failure_total",
			meanSum: "model_infer_request_duration_sum", meanCount: "model_infer_request_duration_count", toMs: 1000,
			meanOnlyWhy: "MLServer exports latency as a summary without quantiles, so only the mean is available",
		}, true
	case settings.PresetFeast:
		// The Feast feature server (sdk/python/feast/metrics.py, v0.61.0+, `feast serve --metrics`):
		// feast_feature_server_request_total{endpoint,status="success"|"error"} counter and the
		// feast_feature_server_request_latency_seconds{endpoint,feature_count,feature_view_count}
		// histogram; the endpoint ("/get-online-features", "/push", ...) stands for the model, there
		// is no version label. Freshness reads feast_feature_freshness_seconds (freshness.go).
		return preset{
			name: settings.PresetFeast, modelLabel: "endpoint",
			requests: []string{"feast_feature_server_request_total"}, errLabel: "status", errRegex: "error",
			histogram: "feast_feature_server_request_latency_seconds", toMs: 1000,
		}, true
	}
	return preset{}, false
}
