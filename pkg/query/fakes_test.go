package query

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// rec is one prediction record of a fake source.
type rec struct {
	ts       time.Time
	version  string
	latency  float64
	err      bool
	pred     any // float64, string or nil
	score    float64
	features map[string]any // float64, string or nil
}

// mkBatch builds a batch in record order (callers give ascending times).
func mkBatch(m source.Model, recs []rec) *source.Batch {
	b := &source.Batch{Model: m.Name, Features: map[string]*source.Column{}}
	for _, f := range m.Features {
		b.FeatureNames = append(b.FeatureNames, f.Name)
		b.Features[f.Name] = source.NewColumn(f.Type, len(recs))
	}
	predKind := m.Prediction.Type
	if predKind == "" {
		predKind = source.Numeric
	}
	b.Prediction = source.NewColumn(predKind, len(recs))
	vcodes := map[string]int32{}
	for _, r := range recs {
		b.TS = append(b.TS, r.ts.UnixNano())
		c, ok := vcodes[r.version]
		if !ok {
			c = int32(len(b.Versions))
			vcodes[r.version] = c
			b.Versions = append(b.Versions, r.version)
		}
		b.Version = append(b.Version, c)
		b.LatencyMs = append(b.LatencyMs, r.latency)
		b.Error = append(b.Error, r.err)
		appendValue(b.Prediction, r.pred)
		b.Score = append(b.Score, r.score)
		for _, f := range m.Features {
			appendValue(b.Features[f.Name], r.features[f.Name])
		}
	}
	return b
}

// wrongType is a feature value of the wrong type as a decoder reads it: the value it was coerced
// to (nil: null), marked in the column's type-mismatch mask.
type wrongType struct{ v any }

func appendValue(c *source.Column, v any) {
	switch x := v.(type) {
	case wrongType:
		appendValue(c, x.v)
		c.MarkMismatch(c.Len()-1, true)
	case nil:
		c.AppendNull()
	case float64:
		if c.Kind == source.Categorical {
			c.AppendNull()
		} else {
			c.AppendNum(x)
		}
	case string:
		if c.Kind == source.Categorical {
			c.AppendCat(x)
		} else {
			c.AppendNull()
		}
	}
}

// sub returns the records of b at positions keep, as a new batch.
func sub(m source.Model, b *source.Batch, keep []int) *source.Batch {
	out := &source.Batch{Model: b.Model, Versions: b.Versions, Features: map[string]*source.Column{}, FeatureNames: b.FeatureNames}
	out.Prediction = source.NewColumn(b.Prediction.Kind, len(keep))
	for name, c := range b.Features {
		out.Features[name] = source.NewColumn(c.Kind, len(keep))
	}
	copyVal := func(dst, src *source.Column, k int) {
		if src.Kind == source.Categorical {
			if code := src.Cat[k]; code >= 0 {
				dst.AppendCat(src.Dict[code])
			} else {
				dst.AppendNull()
			}
		} else {
			dst.AppendNum(src.Num[k])
		}
	}
	for _, k := range keep {
		out.TS = append(out.TS, b.TS[k])
		out.Version = append(out.Version, b.Version[k])
		out.LatencyMs = append(out.LatencyMs, b.LatencyMs[k])
		out.Error = append(out.Error, b.Error[k])
		out.Score = append(out.Score, b.Score[k])
		copyVal(out.Prediction, b.Prediction, k)
		for name, c := range b.Features {
			copyVal(out.Features[name], c, k)
		}
	}
	return out
}

// fakeLog is an in-memory source.PredictionLog.
type fakeLog struct {
	models []source.Model
	recs   map[string][]rec
	refs   map[string][]rec
	err    error
	panics bool

	mu       sync.Mutex
	requests []source.RecordsRequest
	refCalls int
	ready    map[string]bool
}

func (f *fakeLog) Models(context.Context) ([]source.Model, error) {
	if f.err != nil {
		return nil, f.err
	}
	return append([]source.Model(nil), f.models...), nil
}

func (f *fakeLog) model(name string) (source.Model, error) {
	for _, m := range f.models {
		if m.Name == name {
			return m, nil
		}
	}
	return source.Model{}, source.ErrUnknownModel
}

func (f *fakeLog) Records(_ context.Context, req source.RecordsRequest) (*source.Batch, error) {
	if f.panics {
		panic("fake source bug")
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	m, err := f.model(req.Model)
	if err != nil {
		return nil, err
	}
	var keep []rec
	truncated := false
	for _, r := range f.recs[req.Model] {
		if !r.ts.After(req.Start) || r.ts.After(req.End) || (req.Version != "" && r.version != req.Version) {
			continue
		}
		if req.Limit > 0 && len(keep) == req.Limit {
			truncated = true
			break
		}
		keep = append(keep, r)
	}
	b := mkBatch(m, keep)
	b.Truncated = truncated
	return b, nil
}

func (f *fakeLog) Reference(_ context.Context, model, version string) (*source.Batch, error) {
	f.mu.Lock()
	f.refCalls++
	f.mu.Unlock()
	m, err := f.model(model)
	if err != nil {
		return nil, err
	}
	rs, ok := f.refs[model]
	if !ok {
		return nil, source.ErrNoReference
	}
	var keep []rec
	for _, r := range rs {
		if version == "" || r.version == version {
			keep = append(keep, r)
		}
	}
	return mkBatch(m, keep), nil
}

func (f *fakeLog) Ready(model string, _ time.Time) bool { return f.ready[model] }

// fakeMetrics is a source.Metrics answering fixed series.
type fakeMetrics struct {
	mu       sync.Mutex
	requests []source.MetricsRequest
	targets  []source.Target
}

func (f *fakeMetrics) Models(context.Context) ([]source.Model, error) {
	return []source.Model{{Name: "iris", Versions: []string{"v1"}}}, nil
}

func (f *fakeMetrics) series(req source.MetricsRequest, extra map[string]string, base float64) source.Series {
	l := map[string]string{"model": "iris"}
	for k, v := range extra {
		l[k] = v
	}
	s := source.Series{Labels: l}
	for t, i := req.Start, 0; !t.After(req.End); t, i = t.Add(req.Step), i+1 {
		s.Times = append(s.Times, t)
		s.Values = append(s.Values, base+float64(i))
		if req.Step <= 0 {
			break
		}
	}
	return s
}

func (f *fakeMetrics) Latency(_ context.Context, req source.MetricsRequest, ps []float64) (*source.SeriesResult, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	res := &source.SeriesResult{Notices: []string{"estimated from histogram buckets"}, Query: "histogram_quantile(...)"}
	for _, p := range ps {
		s := f.series(req, map[string]string{"quantile": quantileLabel(p)}, p)
		s.Lower = make([]float64, len(s.Values))
		s.Upper = make([]float64, len(s.Values))
		for i, v := range s.Values {
			s.Lower[i], s.Upper[i] = v-1, v+1
		}
		res.Series = append(res.Series, s)
	}
	res.Series = append(res.Series, f.series(req, map[string]string{"stat": "mean"}, 7))
	return res, nil
}

func (f *fakeMetrics) Traffic(_ context.Context, req source.MetricsRequest, metrics []string) (*source.SeriesResult, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	res := &source.SeriesResult{Query: "rate(...)"}
	for i, m := range metrics {
		res.Series = append(res.Series, f.series(req, map[string]string{"metric": m}, float64(10*i)))
	}
	return res, nil
}

// FeatureHistograms answers feature "x" of iris: the reference request (one point) has edges
// [1, 2, 3, 4] and counts [10 10 10 5 5]; current requests have edges [1, 2, 3] and counts
// [10 10 10 10] at the first point, [5 10 10 15] after.
func (f *fakeMetrics) FeatureHistograms(_ context.Context, req source.MetricsRequest, _ []string) ([]source.HistogramSeries, []string, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	hs := source.HistogramSeries{Labels: map[string]string{"model": "iris", "feature": "x"}}
	if req.Start.Equal(req.End) && req.Window == req.Step && req.Window > time.Hour {
		hs.Edges = []float64{1, 2, 3, 4}
		hs.Times = []time.Time{req.End}
		hs.Counts = [][]float64{{10, 10, 10, 5, 5}}
		return []source.HistogramSeries{hs}, []string{"reference from histograms"}, nil
	}
	hs.Edges = []float64{1, 2, 3}
	for t, i := req.Start, 0; !t.After(req.End); t, i = t.Add(req.Step), i+1 {
		hs.Times = append(hs.Times, t)
		if i == 0 {
			hs.Counts = append(hs.Counts, []float64{10, 10, 10, 10})
		} else {
			hs.Counts = append(hs.Counts, []float64{5, 10, 10, 15})
		}
		if req.Step <= 0 {
			break
		}
	}
	return []source.HistogramSeries{hs}, nil, nil
}

func (f *fakeMetrics) Targets(context.Context) ([]source.Target, error) { return f.targets, nil }

// Saturation answers each metric asked (all when none) as one series per model with label
// instance "i1" (and gpu "0" for the GPU metrics), values 10·(metric position + 1) + step.
func (f *fakeMetrics) Saturation(_ context.Context, req source.MetricsRequest, metrics []string) (*source.SeriesResult, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	if len(metrics) == 0 {
		metrics = []string{"cpu", "memory", "gpu", "gpuMemory", "queue"}
	}
	res := &source.SeriesResult{Query: "saturation", Notices: []string{"fake saturation"}}
	for i, m := range metrics {
		extra := map[string]string{"metric": m, "instance": "i1"}
		if m == "gpu" || m == "gpuMemory" {
			extra["gpu"] = "0"
		}
		res.Series = append(res.Series, f.series(req, extra, float64(10*(i+1))))
	}
	return res, nil
}

// fakeEndpoint is an EndpointClient.
type fakeEndpoint struct {
	models []string
	ready  map[string]bool
	err    error
}

func (f *fakeEndpoint) Ready(_ context.Context, model string) (bool, error) {
	if f.err != nil {
		return false, f.err
	}
	return f.ready[model], nil
}

func (f *fakeEndpoint) Models(context.Context) ([]string, error) {
	if f.models == nil && f.err == nil {
		return nil, errors.New("404 Not Found: no repository index")
	}
	return f.models, f.err
}

func (f *fakeEndpoint) ServerReady(context.Context) (bool, error) { return f.err == nil, f.err }

// run answers one query through the handler.
func run(h *Handler, q map[string]any, from, to time.Time, interval time.Duration) backend.DataResponse {
	b, _ := json.Marshal(q)
	return h.One(context.Background(), backend.PluginContext{}, backend.DataQuery{
		RefID: "A", JSON: b, Interval: interval, MaxDataPoints: 10000,
		TimeRange: backend.TimeRange{From: from, To: to},
	}, false)
}

func ptr(v float64) *float64 { return &v }

var nan = math.NaN()
