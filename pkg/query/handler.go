package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// DemoFleet is the built-in synthetic fleet: prediction records plus the health of each model.
type DemoFleet interface {
	source.PredictionLog
	Ready(model string, at time.Time) bool
}

// EndpointClient is one configured model endpoint (pkg/source/endpoint).
type EndpointClient interface {
	// Ready reports whether the endpoint serves the model and it is ready (OIP model ready).
	Ready(ctx context.Context, model string) (bool, error)
	// Models lists the models the endpoint serves.
	Models(ctx context.Context) ([]string, error)
	// ServerReady reports whether the server is ready (OIP server ready).
	ServerReady(ctx context.Context) (bool, error)
}

// Endpoint is a named, configured model endpoint.
type Endpoint struct {
	Name   string
	Client EndpointClient
}

// Deps are what the query handlers read from. A nil source is a source that is not configured.
type Deps struct {
	PredictionLog source.PredictionLog
	Demo          DemoFleet
	Metrics       source.Metrics
	Endpoints     []Endpoint
	// References caches prepared reference samples (nil: fetch and prepare on every query).
	References ReferenceCache
	// MaxSamples caps the records fetched per model and query (0: no cap).
	MaxSamples int
	// MaxReferenceSamples caps the rows of a reference sample; beyond it a deterministic uniform
	// sample is used (0: limits.DefaultMaxReferenceSamples).
	MaxReferenceSamples int
	// Concurrency bounds how many queries of one request run at once (default 4; lower when
	// Grafana's concurrent_query_count is lower).
	Concurrency int
	Logger      log.Logger
}

// Handler answers ModelLens queries. It is safe for concurrent use.
type Handler struct {
	deps  Deps
	cat   *catalog
	types map[QueryType]typeHandler
}

// typeHandler answers one validated query.
type typeHandler func(ctx context.Context, r *request) (data.Frames, error)

// request is one query being answered.
type request struct {
	q     Query
	dq    backend.DataQuery
	pc    backend.PluginContext
	alert bool
}

// New returns a handler over the given sources.
func New(deps Deps) *Handler {
	if deps.Logger == nil {
		deps.Logger = log.DefaultLogger
	}
	if deps.Concurrency <= 0 {
		deps.Concurrency = 4
	}
	h := &Handler{deps: deps, cat: newCatalog(deps)}
	h.types = map[QueryType]typeHandler{
		TypeTraffic:      h.traffic,
		TypeLatency:      h.latency,
		TypeDrift:        h.drift,
		TypeDistribution: h.distribution,
		TypePredictions:  h.predictions,
		TypeEndpoints:    h.endpoints,
		TypeHealth:       h.health,
	}
	return h
}

// Mux returns a QueryTypeMux routing every query type to its handler; queries whose DataQuery has
// no query type are routed by the queryType in their JSON.
func (h *Handler) Mux() *datasource.QueryTypeMux {
	mux := datasource.NewQueryTypeMux()
	for _, t := range QueryTypes {
		mux.HandleFunc(string(t), h.QueryData)
	}
	mux.HandleFunc("", h.QueryData)
	return mux
}

// QueryData answers every query of the request, concurrently; each query gets its own response.
// It never returns an error: failures are per query.
func (h *Handler) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	// Alert rule evaluations (FromAlert header, no user) answer exactly like dashboard queries.
	alert := req.Headers[backend.FromAlertHeaderName] != ""
	limit := h.deps.Concurrency
	if cfg := req.PluginContext.GrafanaConfig; cfg != nil {
		if n, err := cfg.ConcurrentQueryCount(); err == nil && n > 0 && n < limit {
			limit = n
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, limit)
	for _, dq := range req.Queries {
		wg.Add(1)
		sem <- struct{}{}
		go func(dq backend.DataQuery) {
			defer wg.Done()
			defer func() { <-sem }()
			r := h.One(ctx, req.PluginContext, dq, alert)
			mu.Lock()
			resp.Responses[dq.RefID] = r
			mu.Unlock()
		}(dq)
	}
	wg.Wait()
	return resp, nil
}

// One answers a single query.
func (h *Handler) One(ctx context.Context, pc backend.PluginContext, dq backend.DataQuery, alert bool) (res backend.DataResponse) {
	defer func() {
		if p := recover(); p != nil {
			h.deps.Logger.FromContext(ctx).Error("query handler panic", "refId", dq.RefID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			res = backend.ErrDataResponseWithSource(backend.StatusInternal, backend.ErrorSourcePlugin,
				"internal error while answering this query; the plugin log has the details")
		}
	}()
	raw := dq.JSON
	q, err := Parse(withQueryType(raw, dq.QueryType))
	if err != nil {
		return errorResponse(err)
	}
	fn := h.types[q.QueryType]
	if fn == nil {
		return errorResponse(backend.PluginErrorf("no handler for query type %q", q.QueryType))
	}
	ctx, synthetic := withSyntheticMark(ctx)
	fs, err := fn(ctx, &request{q: q, dq: dq, pc: pc, alert: alert})
	if err != nil {
		return errorResponse(err)
	}
	if synthetic.Load() {
		markSynthetic(fs)
	}
	return backend.DataResponse{Frames: fs}
}

// withQueryType fills in the JSON's queryType from the DataQuery when the JSON has none.
func withQueryType(raw json.RawMessage, qt string) json.RawMessage {
	if qt == "" {
		return raw
	}
	var probe struct {
		QueryType *string `json:"queryType"`
	}
	if json.Unmarshal(raw, &probe) != nil || (probe.QueryType != nil && *probe.QueryType != "") {
		return raw
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		m = map[string]json.RawMessage{}
	}
	b, _ := json.Marshal(qt)
	m["queryType"] = b
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return out
}

// errorResponse maps an error to a per-query response: errors carrying a source keep it (status
// 400 for a bad query, 504 for a timeout, 502 for another upstream failure, 500 for our bugs);
// context cancellation and deadline are downstream (the upstream was too slow); the rest are our
// bugs.
func errorResponse(err error) backend.DataResponse {
	var ws backend.ErrorWithSource
	switch {
	case errors.As(err, &ws):
		r := backend.ErrorResponseWithErrorSource(err)
		var bad *BadQueryError
		switch {
		case ws.ErrorSource() != backend.ErrorSourceDownstream:
			r.Status = backend.StatusInternal
		case errors.As(err, &bad):
			r.Status = backend.StatusBadRequest
		case errors.Is(err, context.DeadlineExceeded):
			r.Status = backend.StatusTimeout
		default:
			r.Status = backend.StatusBadGateway
		}
		return r
	case errors.Is(err, context.DeadlineExceeded):
		return backend.DataResponse{Error: err, ErrorSource: backend.ErrorSourceDownstream, Status: backend.StatusTimeout}
	case errors.Is(err, context.Canceled):
		return backend.DataResponse{Error: err, ErrorSource: backend.ErrorSourceDownstream, Status: backend.StatusBadRequest}
	default:
		return backend.DataResponse{Error: err, ErrorSource: backend.ErrorSourcePlugin, Status: backend.StatusInternal}
	}
}
