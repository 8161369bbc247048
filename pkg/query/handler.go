package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/online"
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
	// SQL reads prediction records from PostgreSQL; push-down statements when it implements them.
	SQL       source.PredictionLog
	Demo      DemoFleet
	Metrics   source.Metrics
	Endpoints []Endpoint
	// Feast is the Feast registry (nil when no feast.registry is configured); FeastOnline its
	// online store (nil when feast.onlineStore is not configured).
	Feast       FeatureStore
	FeastOnline feast.OnlineStore
	// FeastLookups is the Feast online store read by lookups (nil when feast.onlineStore is not
	// configured); FeastOffline the offline store (nil when feast.offlineStore is not configured).
	FeastLookups online.Store
	FeastOffline FeastOffline
	// FeastNow is the clock lookups compare stored event times with (nil: time.Now).
	FeastNow func() time.Time
	// References caches prepared reference samples (nil: fetch and prepare on every query).
	References ReferenceCache
	// NoPushdown turns push-down off: every query reads raw records even from a source that
	// aggregates in its database (benchmarks compare the two).
	NoPushdown bool
	// MaxSamples caps the records fetched per model and query (0: no cap).
	MaxSamples int
	// MaxReferenceSamples caps the rows of a reference sample; beyond it a deterministic uniform
	// sample is used (0: limits.DefaultMaxReferenceSamples).
	MaxReferenceSamples int
	// Concurrency bounds how many queries of one request run at once (default 4; lower when
	// Grafana's concurrent_query_count is lower).
	Concurrency int
	// MaxConcurrentQueries is the instance budget: how many queries compute at once over every
	// request of the instance (default limits.DefaultConcurrentQueries).
	MaxConcurrentQueries int
	// Timeout bounds each query's whole answer, every upstream call included (0: no bound other
	// than the request's context).
	Timeout time.Duration
	Logger  log.Logger
	// Now is the clock of the queries that depend on when they run (freshness; performance: which
	// labels have arrived); nil means time.Now.
	Now func() time.Time
}

// Handler answers ModelLens queries. It is safe for concurrent use.
type Handler struct {
	deps  Deps
	cat   *catalog
	types map[QueryType]typeHandler
	// budget is shared by every request of the instance: one unit per computing query.
	budget *semaphore.Weighted
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
	if deps.MaxConcurrentQueries <= 0 {
		deps.MaxConcurrentQueries = limits.DefaultConcurrentQueries
	}
	h := &Handler{deps: deps, cat: newCatalog(deps), budget: semaphore.NewWeighted(int64(deps.MaxConcurrentQueries))}
	h.types = map[QueryType]typeHandler{
		TypeTraffic:      h.traffic,
		TypeLatency:      h.latency,
		TypeDrift:        h.drift,
		TypeDistribution: h.distribution,
		TypePredictions:  h.predictions,
		TypeDataQuality:  h.dataQuality,
		TypeSaturation:   h.saturation,
		TypeEndpoints:    h.endpoints,
		TypeHealth:       h.health,
		TypeFreshness:    h.freshness,
		TypeLookups:      h.lookups,
		TypeFeatureStats: h.featureStats,
		TypeSkew:         h.skew,
		TypePerformance:  h.performance,
	}
	return h
}

// now is the handler's clock.
func (h *Handler) now() time.Time {
	if h.deps.Now != nil {
		return h.deps.Now()
	}
	return time.Now()
}

// Mux returns the query dispatcher: a QueryTypeMux with each query type registered with its own
// handler (queries whose DataQuery has no query type, or an unknown one, go to a fallback that
// reads the queryType of their JSON), wrapped so that the query types of one request run at the
// same time (bounded) instead of one after another.
func (h *Handler) Mux() backend.QueryDataHandler {
	mux := datasource.NewQueryTypeMux()
	for _, t := range QueryTypes {
		mux.HandleFunc(string(t), h.typeQueryData(t))
	}
	mux.HandleFunc("", h.QueryData)
	return &concurrentMux{mux: mux, known: h.types, limit: h.deps.Concurrency}
}

// concurrentMux splits a request by query type (as QueryTypeMux routes it) and runs each type's
// sub-request through the mux concurrently, at most limit at once: three query types take one
// timeout, not three.
type concurrentMux struct {
	mux   *datasource.QueryTypeMux
	known map[QueryType]typeHandler
	limit int
}

func (m *concurrentMux) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	byType := map[string][]backend.DataQuery{}
	var order []string
	for _, dq := range req.Queries {
		key := dq.QueryType
		if m.known[QueryType(key)] == nil {
			key = ""
		}
		if _, ok := byType[key]; !ok {
			order = append(order, key)
		}
		byType[key] = append(byType[key], dq)
	}
	resp := backend.NewQueryDataResponse()
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(m.limit)
	for _, key := range order {
		sub := &backend.QueryDataRequest{PluginContext: req.PluginContext, Headers: req.Headers, Queries: byType[key]}
		g.Go(func() error {
			r, err := m.mux.QueryData(ctx, sub)
			if err != nil {
				return err
			}
			mu.Lock()
			maps.Copy(resp.Responses, r.Responses)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return resp, nil
}

// typeQueryData is the mux handler of one query type: every query of the sub-request is answered
// by that type's handler.
func (h *Handler) typeQueryData(t QueryType) backend.QueryDataHandlerFunc {
	return func(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
		return h.answerAll(ctx, req, t), nil
	}
}

// QueryData answers every query of the request, concurrently; each query gets its own response.
// It never returns an error: failures are per query.
func (h *Handler) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	return h.answerAll(ctx, req, ""), nil
}

// answerAll answers the queries of a request concurrently (at most Concurrency at once; fewer when
// Grafana's concurrent_query_count is lower). t, when set, is the query type the mux routed them by.
func (h *Handler) answerAll(ctx context.Context, req *backend.QueryDataRequest, t QueryType) *backend.QueryDataResponse {
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
			r := h.one(ctx, req.PluginContext, dq, alert, t)
			mu.Lock()
			resp.Responses[dq.RefID] = r
			mu.Unlock()
		}(dq)
	}
	wg.Wait()
	return resp
}

// BusyError is the error of a query that found the instance's budget full until its deadline,
// or that waited for a slot and then ran out of time.
type BusyError struct {
	Computing int
	// Waited is how long the query waited for its slot when it got one and then timed out.
	Waited time.Duration
}

func (e *BusyError) Error() string {
	if e.Waited > 0 {
		return fmt.Sprintf("busy: %d queries computing, retry (this query waited %s for its turn, then ran out of time)",
			e.Computing, e.Waited.Round(100*time.Millisecond))
	}
	return fmt.Sprintf("busy: %d queries computing, retry", e.Computing)
}

// acquire waits for a slot of the instance budget until ctx ends; it returns how long it waited.
func (h *Handler) acquire(ctx context.Context) (time.Duration, error) {
	if h.budget.TryAcquire(1) {
		return 0, nil
	}
	start := time.Now()
	if err := h.budget.Acquire(ctx, 1); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return 0, &BusyError{Computing: h.deps.MaxConcurrentQueries}
		}
		return 0, err
	}
	return time.Since(start), nil
}

// One answers a single query.
func (h *Handler) One(ctx context.Context, pc backend.PluginContext, dq backend.DataQuery, alert bool) backend.DataResponse {
	return h.one(ctx, pc, dq, alert, "")
}

// one answers a single query within its deadline (Timeout), inside one slot of the instance
// budget; routed, when set, is the query type the mux routed it by.
func (h *Handler) one(ctx context.Context, pc backend.PluginContext, dq backend.DataQuery, alert bool, routed QueryType) (res backend.DataResponse) {
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
	if routed != "" && q.QueryType != routed {
		return errorResponse(userError("the query's queryType %q differs from the request's query type %q", q.QueryType, routed))
	}
	fn := h.types[q.QueryType]
	if fn == nil {
		return errorResponse(backend.PluginErrorf("no handler for query type %q", q.QueryType))
	}
	if h.deps.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.deps.Timeout)
		defer cancel()
	}
	waited, err := h.acquire(ctx)
	if err != nil {
		return errorResponse(err)
	}
	defer h.budget.Release(1)
	ctx, synthetic := withSyntheticMark(ctx)
	fs, err := fn(ctx, &request{q: q, dq: dq, pc: pc, alert: alert})
	if err != nil {
		if waited > 0 && waited >= h.deps.Timeout/2 && errors.Is(err, context.DeadlineExceeded) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// Waiting for a slot used up at least half of the query's time: it is the load, not the upstream.
			err = &BusyError{Computing: h.deps.MaxConcurrentQueries, Waited: waited}
		} else if h.deps.Timeout > 0 && err.Error() == context.DeadlineExceeded.Error() && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// The bare context error says nothing of which limit or what to do.
			err = fmt.Errorf("timed out after %s (timeoutSeconds) before the answer was computed; narrow the time range or the models, or raise timeoutSeconds: %w",
				h.deps.Timeout, err)
		}
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
	var busy *BusyError
	switch {
	case errors.As(err, &busy):
		return backend.DataResponse{Error: err, ErrorSource: backend.ErrorSourceDownstream, Status: backend.StatusTooManyRequests}
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
