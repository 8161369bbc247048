package demo

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// Metric names the demo model server exports. Every series has the labels model_name and
// model_version (ml_model_ready: model_name only).
const (
	// MetricLatency is a histogram of prediction latency in seconds (LatencyBuckets).
	MetricLatency = "ml_prediction_latency_seconds"
	// MetricRequests counts prediction records by status ("ok", "error").
	MetricRequests = "ml_prediction_requests_total"
	// MetricFeature is a histogram of each numeric feature's values (label feature), with buckets
	// at the deciles of the model's pooled reference sample.
	MetricFeature = "ml_feature_value"
	// MetricInfer counts real inference calls to POST /v2/models/{m}/infer by status.
	MetricInfer = "ml_infer_requests_total"
	// MetricReady is 1 when the model is ready, 0 during an outage.
	MetricReady = "ml_model_ready"
)

// LatencyBuckets are the upper bounds (seconds) of the latency histogram: 5 ms to 5 s, dense where
// the fleet's latency body lies (10–60 ms).
var LatencyBuckets = []float64{0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2.5, 5}

// FeatureBuckets returns the ml_feature_value bucket upper bounds of a numeric feature: the
// Hyndman–Fan type-7 deciles (numpy.percentile) of the pooled reference sample's non-null values,
// duplicates collapsed. Prometheus buckets are upper-inclusive (v <= le).
func (f *Fleet) FeatureBuckets(model, feature string) ([]float64, error) {
	m, _, err := f.lookup(model, "")
	if err != nil {
		return nil, err
	}
	i := m.featureIndex(feature)
	if i < 0 || m.features[i].kind != source.Numeric {
		return nil, fmt.Errorf("model %s has no numeric feature %q", m.name, feature)
	}
	return f.featureBuckets(m, i), nil
}

func (f *Fleet) featureBuckets(m *modelSpec, i int) []float64 {
	vals := make([]float64, 0, ReferenceSize)
	f.referenceRows(m, -1, newRow(m), func(x *row) {
		if !math.IsNaN(x.num[i]) {
			vals = append(vals, x.num[i])
		}
	})
	sort.Float64s(vals)
	var out []float64
	for k := 1; k <= 9; k++ {
		q := quantile7(vals, float64(k)/10)
		if len(out) == 0 || q > out[len(out)-1] {
			out = append(out, q)
		}
	}
	return out
}

// quantile7 is the type-7 quantile of sorted values: h = (n−1)p, x[⌊h⌋] + (h−⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]).
func quantile7(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// serverMetrics holds the collectors and, per model and version, the resolved observers (label
// lookups happen once, not per record).
type serverMetrics struct {
	latency  *prometheus.HistogramVec
	requests *prometheus.CounterVec
	infer    *prometheus.CounterVec
	ready    *prometheus.GaugeVec
	gpu      *gpuGauges
	models   []*modelObservers
}

type modelObservers struct {
	m       *modelSpec
	latency []prometheus.Observer // per version
	ok, err []prometheus.Counter  // per version
	// features[i][v] observes numeric feature i of version v (nil for categorical features).
	features [][]prometheus.Observer
}

// newServerMetrics registers the collectors. Feature histograms need one bucket layout per
// feature, and one HistogramVec has one layout, so each (model, feature) gets its own HistogramVec
// named ml_feature_value with constant labels model_name and feature and the variable label
// model_version. Prometheus and client_golang accept series of one metric family with different
// buckets, as long as every series has the same label names.
func newServerMetrics(f *Fleet, reg *prometheus.Registry) *serverMetrics {
	labels := []string{"model_name", "model_version"}
	s := &serverMetrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: MetricLatency, Help: "Prediction latency in seconds.", Buckets: LatencyBuckets,
		}, labels),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricRequests, Help: "Prediction requests by status (ok, error).",
		}, append(labels, "status")),
		infer: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricInfer, Help: "Inference calls to the Open Inference Protocol endpoint by status (ok, error).",
		}, append(labels, "status")),
		ready: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricReady, Help: "1 when the model is ready to serve, 0 during an outage.",
		}, []string{"model_name"}),
	}
	reg.MustRegister(s.latency, s.requests, s.infer, s.ready,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.gpu = newGPUGauges(reg)
	for _, m := range specs {
		o := &modelObservers{m: m, features: make([][]prometheus.Observer, len(m.features))}
		for _, v := range m.versions {
			o.latency = append(o.latency, s.latency.WithLabelValues(m.name, v))
			o.ok = append(o.ok, s.requests.WithLabelValues(m.name, v, StatusOK))
			o.err = append(o.err, s.requests.WithLabelValues(m.name, v, StatusError))
			s.infer.WithLabelValues(m.name, v, StatusOK)
			s.infer.WithLabelValues(m.name, v, StatusError)
		}
		for i, fs := range m.features {
			if fs.kind != source.Numeric {
				continue
			}
			hv := prometheus.NewHistogramVec(prometheus.HistogramOpts{
				Name:        MetricFeature,
				Help:        "Values of a numeric input feature; buckets at the reference sample's deciles.",
				Buckets:     f.featureBuckets(m, i),
				ConstLabels: prometheus.Labels{"model_name": m.name, "feature": fs.name},
			}, []string{"model_version"})
			reg.MustRegister(hv)
			for _, v := range m.versions {
				o.features[i] = append(o.features[i], hv.WithLabelValues(v))
			}
		}
		s.models = append(s.models, o)
	}
	return s
}

// observe records one replayed record: latency (errors included), status, and the non-null
// numeric feature values.
func (o *modelObservers) observe(x *row) {
	v := x.version
	o.latency[v].Observe(x.latency / 1000)
	if x.err {
		o.err[v].Inc()
	} else {
		o.ok[v].Inc()
	}
	for i, obs := range o.features {
		if obs != nil && !math.IsNaN(x.num[i]) {
			obs[v].Observe(x.num[i])
		}
	}
}

func (s *serverMetrics) setReady(f *Fleet, now time.Time) {
	for _, m := range specs {
		g := 0.0
		if f.Ready(m.name, now) {
			g = 1
		}
		s.ready.WithLabelValues(m.name).Set(g)
	}
	s.gpu.set(now)
}
