package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// ServerName and ServerVersion identify the demo model server (OIP server metadata).
const (
	ServerName    = "modellens-demo"
	ServerVersion = "1.0.0"
)

// Defaults of ServerOptions.
const (
	DefaultBackfill   = 24 * time.Hour
	DefaultMaxCatchUp = 5 * time.Minute
	// maxInferBody bounds an inference request body.
	maxInferBody = 4 << 20
	// flushBytes is how much NDJSON the server buffers before writing and flushing.
	flushBytes = 32 << 10
)

// ServerOptions configures a Server.
type ServerOptions struct {
	// Backfill is how far back records exist: the Prediction Log serves records with
	// now−Backfill < ts <= now (never future records). Default 24h.
	Backfill time.Duration
	// Clock returns the current time. Default time.Now; tests inject a fake clock.
	Clock func() time.Time
	// MaxCatchUp bounds how much time one live-loop tick replays after a stall (a suspended
	// machine); older records are skipped. Default 5m.
	MaxCatchUp time.Duration
	// Logger receives errors of the live loop. Default slog.Default().
	Logger *slog.Logger
}

// Server is the demo model server: an http.Handler serving, for one Fleet,
//
//   - the Prediction Log API v1 (DESIGN §6) under /api/v1: GET /api/v1/models, /api/v1/records,
//     /api/v1/reference;
//   - the Open Inference Protocol v2 (KServe) under /v2: health, server and model metadata, model
//     readiness, the repository index and inference with the fleet's toy models;
//   - Prometheus metrics at /metrics, fed by a live loop (Tick, Run) that replays the fleet's records
//     as time passes, so a scraper sees the same traffic the Prediction Log serves.
type Server struct {
	fleet *Fleet
	opts  ServerOptions
	mux   *http.ServeMux
	reg   *prometheus.Registry
	met   *serverMetrics
	enc   map[string]*rowJSON

	mu   sync.Mutex
	last time.Time
}

// NewServer returns the server of a fleet. Its live loop starts from the clock's current time: the
// metrics count the records after it (as a freshly started model server would).
func NewServer(f *Fleet, opts ServerOptions) *Server {
	if opts.Backfill <= 0 {
		opts.Backfill = DefaultBackfill
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.MaxCatchUp <= 0 {
		opts.MaxCatchUp = DefaultMaxCatchUp
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{fleet: f, opts: opts, mux: http.NewServeMux(), reg: prometheus.NewRegistry(), enc: map[string]*rowJSON{}}
	for _, m := range specs {
		s.enc[m.name] = newRowJSON(m)
	}
	s.met = newServerMetrics(f, s.reg)
	s.last = opts.Clock()
	s.met.setReady(f, s.last)

	s.mux.HandleFunc("GET /{$}", s.handleIndex)
	s.mux.HandleFunc("GET /api/v1/models", s.handleModels)
	s.mux.HandleFunc("GET /api/v1/records", s.handleRecords)
	s.mux.HandleFunc("GET /api/v1/reference", s.handleReference)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	s.routeOIP()
	return s
}

// ServeHTTP implements http.Handler. Unknown routes (404) and wrong methods (405, with Allow) get
// the JSON error body too.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r) // sets the path values
		return
	}
	c := &statusCapture{header: http.Header{}, status: http.StatusOK}
	h.ServeHTTP(c, r)
	if allow := c.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	if c.status == http.StatusMethodNotAllowed {
		writeError(w, c.status, fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path))
		return
	}
	writeError(w, c.status, fmt.Sprintf("no route %s %s", r.Method, r.URL.Path))
}

// statusCapture records what the mux's own 404/405 handlers would answer.
type statusCapture struct {
	header http.Header
	status int
}

func (c *statusCapture) Header() http.Header         { return c.header }
func (c *statusCapture) Write(b []byte) (int, error) { return len(b), nil }
func (c *statusCapture) WriteHeader(status int)      { c.status = status }

// Registry returns the server's Prometheus registry.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Tick replays into the metrics every record generated since the previous tick, i.e. with
// last < ts <= now, and refreshes the model-ready gauges. It returns the number of records observed.
func (s *Server) Tick(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Clock()
	s.met.setReady(s.fleet, now)
	from := s.last
	if !now.After(from) {
		return 0, nil
	}
	if now.Sub(from) > s.opts.MaxCatchUp {
		from = now.Add(-s.opts.MaxCatchUp)
	}
	n := 0
	for i, m := range specs {
		obs := s.met.models[i]
		err := s.fleet.eachRow(ctx, m, -1, from, now, func(x *row) error {
			obs.observe(x)
			n++
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	s.last = now
	return n, nil
}

// Run calls Tick every period until ctx ends.
func (s *Server) Run(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return fmt.Errorf("demo: tick period must be positive, got %s", every)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
				s.opts.Logger.Error("live loop tick failed", "error", err)
			}
		}
	}
}

// ---------------------------------------------------------------------------------------------
// Prediction Log API v1.

func (s *Server) handleIndex(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"name":          ServerName,
		"version":       ServerVersion,
		"predictionLog": "/api/v1",
		"oip":           "/v2",
		"metrics":       "/metrics",
		"seed":          s.fleet.Seed(),
		"rate":          s.fleet.Rate(),
		"backfill":      s.opts.Backfill.String(),
	})
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	models, err := s.fleet.Models(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Models []source.Model `json:"models"`
	}{models})
}

// parseTime accepts RFC3339 with or without fractional seconds.
func parseTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, fmt.Errorf("missing parameter %s (an RFC3339 time, e.g. 2026-01-02T15:04:05Z)", name)
	}
	// An unencoded "+" of a zone offset arrives as a space.
	t, err := time.Parse(time.RFC3339Nano, strings.ReplaceAll(v, " ", "+"))
	if err != nil {
		return time.Time{}, fmt.Errorf("parameter %s: %q is not an RFC3339 time (e.g. 2026-01-02T15:04:05Z)", name, v)
	}
	return t, nil
}

// lookupParams resolves the model and version query parameters, writing the error response.
func (s *Server) lookupParams(w http.ResponseWriter, r *http.Request) (*modelSpec, int32, bool) {
	q := r.URL.Query()
	model := q.Get("model")
	if model == "" {
		writeError(w, http.StatusBadRequest, "missing parameter model")
		return nil, -1, false
	}
	m, v, err := s.fleet.lookup(model, q.Get("version"))
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return nil, -1, false
	}
	return m, v, true
}

func (s *Server) handleRecords(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, err := parseTime("start", q.Get("start"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	end, err := parseTime("end", q.Get("end"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if end.Before(start) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("end %s is before start %s", q.Get("end"), q.Get("start")))
		return
	}
	limit := 0
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("parameter limit: %q is not a positive integer", l))
			return
		}
		limit = n
	}
	desc := false
	switch o := q.Get("order"); o {
	case "", "asc":
	case "desc":
		desc = true
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("parameter order: %q is not asc or desc", o))
		return
	}
	m, v, ok := s.lookupParams(w, r)
	if !ok {
		return
	}
	// Records exist from now−backfill to now.
	now := s.opts.Clock()
	if lo := now.Add(-s.opts.Backfill); start.Before(lo) {
		start = lo
	}
	if end.After(now) {
		end = now
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Trailer", TruncatedTrailer)
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	enc := s.enc[m.name]
	buf := make([]byte, 0, flushBytes+1024)
	count, truncated := 0, false
	var writeErr error
	flush := func() {
		if len(buf) == 0 || writeErr != nil {
			return
		}
		if _, writeErr = w.Write(buf); writeErr == nil && flusher != nil {
			flusher.Flush()
		}
		buf = buf[:0]
	}
	each := s.fleet.eachRow
	if desc {
		each = s.fleet.eachRowDesc
	}
	err = each(r.Context(), m, v, start, end, func(x *row) error {
		if limit > 0 && count == limit {
			truncated = true
			return errStop
		}
		buf = enc.append(buf, x)
		count++
		if len(buf) >= flushBytes {
			flush()
			if writeErr != nil {
				return writeErr
			}
		}
		return nil
	})
	flush()
	if err != nil || writeErr != nil {
		return // client gone or request cancelled: nothing more to say on a started stream
	}
	w.Header().Set(TruncatedTrailer, strconv.FormatBool(truncated))
}

// TruncatedTrailer is the HTTP trailer of a records response that says whether the limit cut the
// range short ("true") or not ("false").
const TruncatedTrailer = "X-Modellens-Truncated"

func (s *Server) handleReference(w http.ResponseWriter, r *http.Request) {
	m, v, ok := s.lookupParams(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := s.enc[m.name]
	buf := make([]byte, 0, 256*ReferenceSize)
	s.fleet.referenceRows(m, v, newRow(m), func(x *row) { buf = enc.append(buf, x) })
	_, _ = w.Write(buf)
}

// ---------------------------------------------------------------------------------------------

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeError writes the error body of both APIs: {"error": "<message>"}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
