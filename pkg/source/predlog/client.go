// Package predlog is the client of the Prediction Log API v1 (DESIGN §6): model metadata from
// GET /models, prediction records and reference samples as NDJSON from GET /records and
// GET /reference, decoded in one streaming pass into columnar source.Batch values.
//
// Decoding rules: column kinds come from the model metadata (GET /models, cached for ModelsTTL).
// A numeric variable takes a JSON number or a string holding one; null, any other string, a
// boolean, an object, an array and non-finite values are null (NaN). A categorical variable takes
// a string, or the literal text of a number or boolean; null and objects are null. Features the
// model does not declare are ignored, missing ones are null. "status" equal to "error" (any case)
// marks an error record. A record without "ts" or of another model, and any malformed line, is an
// error naming the line. Records outside the requested range (start < ts <= end) or of another
// version than the one asked for are dropped, and records that arrive out of time order are
// sorted.
package predlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"golang.org/x/sync/singleflight"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/upstream"
)

// Default limits.
const (
	// DefaultMaxRecordsBytes caps a /records response.
	DefaultMaxRecordsBytes = limits.RecordsBody
	// DefaultMaxSmallBytes caps a /models or /reference response.
	DefaultMaxSmallBytes = limits.SmallBody
	// DefaultModelsTTL is how long the model metadata is reused.
	DefaultModelsTTL = 30 * time.Second
	// ModelsErrorTTL is how long a failed GET /models is the answer of the callers that come
	// after it (queries that were queued behind the budget, panels of the same refresh), so that a
	// failing upstream is asked once per burst, not once per waiter.
	ModelsErrorTTL = 2 * time.Second
)

// Options configure a Client.
type Options struct {
	// BaseURL is the API root, e.g. http://host:8090/api/v1 (a trailing slash is removed).
	BaseURL string
	// Token is sent as a bearer token when set. It never appears in logs or errors.
	Token string
	// MaxBodyBytes caps every response body; 0 means DefaultMaxRecordsBytes for /records and
	// DefaultMaxSmallBytes for /models and /reference.
	MaxBodyBytes int64
	// ModelsTTL is how long GET /models is cached; 0 means DefaultModelsTTL.
	ModelsTTL time.Duration
	// MaxReferenceSamples caps the rows kept of a reference sample; beyond it a deterministic
	// uniform sample is kept (Batch.SampledFrom says of how many). 0 means
	// limits.DefaultMaxReferenceSamples.
	MaxReferenceSamples int
}

// Client reads a Prediction Log API. It is safe for concurrent use and implements
// source.PredictionLog.
type Client struct {
	http      *upstream.Client
	base      string
	maxBody   int64
	modelsTTL time.Duration
	maxRef    int
	now       func() time.Time

	mu           sync.Mutex
	models       []source.Model
	modelsAt     time.Time
	modelsErr    error // the last failed GET /models, answered again until modelsErrAt+ModelsErrorTTL
	modelsErrAt  time.Time
	modelsFlight singleflight.Group
}

var _ source.PredictionLog = (*Client)(nil)

// New returns a client for the API at opts.BaseURL on client (the data source's base client from
// upstream.NewBase: TLS, basic auth, custom headers, the timeout; nil means upstream's defaults),
// wrapped by upstream.NewClient with the token, the body caps and the redirect policy.
func New(client *http.Client, opts Options) (*Client, error) {
	base := strings.TrimRight(strings.TrimSpace(opts.BaseURL), "/")
	if base == "" {
		return nil, errors.New("prediction log: the URL is empty")
	}
	u, err := url.Parse(base)
	switch {
	case err != nil:
		return nil, errors.New("prediction log: the URL is not valid")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("prediction log: the URL must start with http:// or https://")
	case u.Host == "":
		return nil, errors.New("prediction log: the URL has no host")
	case u.User != nil:
		return nil, errors.New("prediction log: the URL must not contain credentials; use the token setting")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("prediction log: the URL must not have a query or fragment")
	}
	if opts.MaxBodyBytes < 0 {
		return nil, errors.New("prediction log: MaxBodyBytes must not be negative")
	}
	max := opts.MaxBodyBytes
	if max == 0 {
		max = DefaultMaxRecordsBytes
	}
	up, err := upstream.NewClient(client, upstream.Config{URL: base, Token: opts.Token, MaxBody: max})
	if err != nil {
		return nil, fmt.Errorf("prediction log: %w", err)
	}
	ttl := opts.ModelsTTL
	if ttl <= 0 {
		ttl = DefaultModelsTTL
	}
	maxRef := opts.MaxReferenceSamples
	if maxRef <= 0 {
		maxRef = limits.DefaultMaxReferenceSamples
	}
	return &Client{
		maxRef:    maxRef,
		http:      up,
		base:      base,
		maxBody:   opts.MaxBodyBytes,
		modelsTTL: ttl,
		now:       time.Now,
	}, nil
}

func (c *Client) limit(def int64) int64 {
	if c.maxBody > 0 {
		return c.maxBody
	}
	return def
}

// Models returns the models of GET /models, cached for ModelsTTL. The slice is a copy; the
// models' Versions and Features slices are shared and must not be modified.
func (c *Client) Models(ctx context.Context) ([]source.Model, error) {
	ms, _, err := c.cachedModels(ctx, false)
	if err != nil {
		return nil, err
	}
	return append([]source.Model(nil), ms...), nil
}

// cachedModels returns the model list, fetching it when stale or when force is set; fresh tells
// whether the list was fetched during this call. Concurrent callers share one fetch through
// singleflight (a dashboard opening many panels at once asks GET /models once). The shared fetch
// runs on a context detached from any one caller, bounded by the HTTP client's timeout, so one
// caller giving up does not fail the others; each caller waits only until its own context ends,
// and a failed fetch is the answer of every caller that shared it (none of them retries it).
func (c *Client) cachedModels(ctx context.Context, force bool) (ms []source.Model, fresh bool, err error) {
	c.mu.Lock()
	if !force && c.models != nil && c.now().Sub(c.modelsAt) < c.modelsTTL {
		ms = c.models
		c.mu.Unlock()
		return ms, false, nil
	}
	if !force && c.modelsErr != nil && c.now().Sub(c.modelsErrAt) < ModelsErrorTTL {
		err = c.modelsErr
		c.mu.Unlock()
		return nil, false, err
	}
	c.mu.Unlock()
	ch := c.modelsFlight.DoChan("models", func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.fetchTimeout())
		defer cancel()
		ms, err := c.fetchModels(fctx)
		c.mu.Lock()
		defer c.mu.Unlock()
		if err != nil {
			c.modelsErr, c.modelsErrAt = err, c.now()
			return nil, err
		}
		c.models, c.modelsAt, c.modelsErr = ms, c.now(), nil
		return ms, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, false, r.Err
		}
		return r.Val.([]source.Model), true, nil
	case <-ctx.Done():
		return nil, false, c.transportErr(ctx, "GET /models", ctx.Err())
	}
}

// fetchTimeout bounds a shared GET /models: the HTTP client's timeout, else 30 s.
func (c *Client) fetchTimeout() time.Duration {
	if c.http.HTTP.Timeout > 0 {
		return c.http.HTTP.Timeout
	}
	return 30 * time.Second
}

// model returns the metadata of one model, refetching the list once when the model is not in a
// cached copy (it may have been registered since).
func (c *Client) model(ctx context.Context, name string) (*source.Model, error) {
	ms, fresh, err := c.cachedModels(ctx, false)
	if err != nil {
		return nil, err
	}
	if m := find(ms, name); m != nil {
		return m, nil
	}
	if !fresh {
		if ms, _, err = c.cachedModels(ctx, true); err != nil {
			return nil, err
		}
		if m := find(ms, name); m != nil {
			return m, nil
		}
	}
	return nil, backend.DownstreamError(fmt.Errorf("prediction log: model %q: %w", name, source.ErrUnknownModel))
}

func find(ms []source.Model, name string) *source.Model {
	for i := range ms {
		if ms[i].Name == name {
			m := ms[i]
			return &m
		}
	}
	return nil
}

type modelsResponse struct {
	Models []source.Model `json:"models"`
}

func (c *Client) fetchModels(ctx context.Context) ([]source.Model, error) {
	const op = "GET /models"
	resp, err := c.get(upstream.WithLimit(ctx, c.limit(DefaultMaxSmallBytes)), op, "/models", nil, "application/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body modelsResponse
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		if upstream.IsTransport(err) {
			return nil, c.transportErr(ctx, op, err)
		}
		if errors.Is(err, io.EOF) {
			return nil, c.downstream(fmt.Errorf("prediction log: %s: empty response", op))
		}
		return nil, c.downstream(fmt.Errorf("prediction log: %s: invalid JSON: %w", op, err))
	}
	if body.Models == nil {
		return nil, c.downstream(fmt.Errorf(`prediction log: %s: the response has no "models" list`, op))
	}
	seen := make(map[string]bool, len(body.Models))
	for i := range body.Models {
		m := &body.Models[i]
		if m.Name == "" {
			return nil, c.downstream(fmt.Errorf("prediction log: %s: model %d has no name", op, i))
		}
		if seen[m.Name] {
			return nil, c.downstream(fmt.Errorf("prediction log: %s: model %q is listed twice", op, m.Name))
		}
		seen[m.Name] = true
		k, err := normalizeKind(m.Prediction.Type)
		if err != nil {
			return nil, c.downstream(fmt.Errorf("prediction log: %s: model %q: prediction type: %w", op, m.Name, err))
		}
		m.Prediction.Type = k
		names := make(map[string]bool, len(m.Features))
		for j := range m.Features {
			f := &m.Features[j]
			if f.Name == "" {
				return nil, c.downstream(fmt.Errorf("prediction log: %s: model %q: feature %d has no name", op, m.Name, j))
			}
			if names[f.Name] {
				return nil, c.downstream(fmt.Errorf("prediction log: %s: model %q: feature %q is listed twice", op, m.Name, f.Name))
			}
			names[f.Name] = true
			if f.Type, err = normalizeKind(f.Type); err != nil {
				return nil, c.downstream(fmt.Errorf("prediction log: %s: model %q: feature %q: %w", op, m.Name, f.Name, err))
			}
			if w := f.Importance; w != nil && !(*w >= 0 && !math.IsInf(*w, 1)) {
				return nil, c.downstream(fmt.Errorf("prediction log: %s: model %q: feature %q: importance %v is not a finite number >= 0", op, m.Name, f.Name, *w))
			}
		}
	}
	return body.Models, nil
}

// normalizeKind maps the type names of §6 (and common synonyms) to a Kind; an absent type is numeric.
func normalizeKind(k source.Kind) (source.Kind, error) {
	switch strings.ToLower(string(k)) {
	case "", "numeric", "number", "float", "double", "int", "integer":
		return source.Numeric, nil
	case "categorical", "category", "string", "text", "bool", "boolean":
		return source.Categorical, nil
	}
	return "", fmt.Errorf("type %q is neither numeric nor categorical", clip([]byte(k)))
}

// Records fetches the records of req.Model with req.Start < ts <= req.End (GET /records). With a
// Limit, at most Limit records are returned and Truncated says that more exist: the request asks
// for Limit+1 and reading stops at the (Limit+1)th record even when the server sends more.
//
// With a Limit the newest records are wanted (the windows alert rules read must be complete), so
// the request asks for them first (order=desc, DESIGN §6). A server that ignores the parameter
// answers oldest first; when such an answer is cut by the limit, the tail of the range is read
// again: from the span that held Limit records, the next request starts that span before the end
// (at most limits.MaxTailReads further requests, each only when the previous one was cut as well).
func (c *Client) Records(ctx context.Context, req source.RecordsRequest) (*source.Batch, error) {
	if req.Model == "" {
		return nil, backend.DownstreamError(errors.New("prediction log: a model name is required"))
	}
	if req.Limit < 0 {
		return nil, backend.PluginError(fmt.Errorf("prediction log: negative record limit %d", req.Limit))
	}
	m, err := c.model(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	b, ascending, err := c.records(ctx, m, req)
	if err != nil || !b.Truncated {
		return b, err
	}
	if !ascending {
		b.Newest = true
		b.CompleteAfter = b.TS[0]
		return b, nil
	}
	// The server ignored order=desc: b holds the oldest records, over (start, last].
	tail, reads := b, 0
	start := req.Start
	for reads < limits.MaxTailReads {
		span := time.Unix(0, tail.TS[tail.Len()-1]).Sub(start)
		next := req.End.Add(-span * 9 / 10)
		if !next.After(start) || span <= 0 {
			break
		}
		r := req
		r.Start = next
		nb, asc, err := c.records(ctx, m, r)
		if err != nil {
			return nil, err
		}
		reads++
		start, tail = next, nb
		if !nb.Truncated {
			tail.Truncated, tail.Newest, tail.CompleteAfter = true, true, next.UnixNano()
			break
		}
		if !asc {
			// Answered newest first after all.
			tail.Newest, tail.CompleteAfter = true, tail.TS[0]
			break
		}
	}
	tail.OrderIgnored, tail.TailReads = true, reads
	return tail, nil
}

// records is one GET /records; ascending reports whether the kept records came oldest first.
func (c *Client) records(ctx context.Context, m *source.Model, req source.RecordsRequest) (*source.Batch, bool, error) {
	opt := decodeOptions{model: m, limit: req.Limit, window: true,
		start: req.Start.UnixNano(), end: req.End.UnixNano(), version: req.Version}
	if !req.End.After(req.Start) {
		return newDecoder(opt, 0).finish(), false, nil
	}
	q := url.Values{}
	q.Set("model", req.Model)
	q.Set("start", req.Start.UTC().Format(time.RFC3339Nano))
	q.Set("end", req.End.UTC().Format(time.RFC3339Nano))
	if req.Version != "" {
		q.Set("version", req.Version)
	}
	if req.Limit > 0 {
		q.Set("limit", strconv.FormatInt(int64(req.Limit)+1, 10))
		q.Set("order", "desc")
	}
	d, err := c.ndjson(ctx, "GET /records", "/records", q, opt, c.limit(DefaultMaxRecordsBytes))
	if err != nil {
		return nil, false, err
	}
	// A descending answer never rises; one that rises was not newest first.
	return d.finish(), d.rises > 0, nil
}

// Reference fetches the reference (training) sample of a model (GET /reference), streamed into
// columns whatever its size: beyond MaxReferenceSamples rows a deterministic uniform sample is
// kept (Batch.SampledFrom). Records need no "ts". With a version, records of other versions are
// ignored (records without a version are the version's). A 404 is an error wrapping
// source.ErrNoReference; an empty answer is an empty batch (the query layer decides what to
// compare with).
func (c *Client) Reference(ctx context.Context, model, version string) (*source.Batch, error) {
	if model == "" {
		return nil, backend.DownstreamError(errors.New("prediction log: a model name is required"))
	}
	m, err := c.model(ctx, model)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("model", model)
	if version != "" {
		q.Set("version", version)
	}
	opt := decodeOptions{model: m, version: version, reference: true, sample: c.maxRef}
	// No cap on the body: memory follows the kept sample, and the request's time is bounded.
	max := c.maxBody
	if max <= 0 {
		max = 1 << 62 // no cap in practice; the SDK's limit reader adds one to it, so not MaxInt64
	}
	d, err := c.ndjson(ctx, "GET /reference", "/reference", q, opt, max)
	if err != nil {
		return nil, err
	}
	return d.finish(), nil
}

func (c *Client) ndjson(ctx context.Context, op, path string, q url.Values, opt decodeOptions, max int64) (*decoder, error) {
	resp, err := c.get(upstream.WithLimit(ctx, max), op, path, q, "application/x-ndjson")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > 0 {
		opt.sizeHint = resp.ContentLength
	}
	d, err := decodeStream(resp.Body, opt)
	if err != nil {
		var le *LineError
		if errors.As(err, &le) {
			return nil, c.downstream(fmt.Errorf("prediction log: %s: %w", op, err))
		}
		return nil, c.transportErr(ctx, op, err)
	}
	return d, nil
}

// get sends one GET and returns the response when its status is 2xx; any other status becomes an
// error with the status and a short excerpt of the body.
func (c *Client) get(ctx context.Context, op, path string, q url.Values, accept string) (*http.Response, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, backend.PluginError(fmt.Errorf("prediction log: %s: cannot build the request", op))
	}
	req.Header.Set("Accept", accept)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportErr(ctx, op, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	excerpt := c.http.Redactor.BodyExcerpt(resp.Body)
	msg := fmt.Sprintf("prediction log: %s: %s", op, upstream.StatusText(resp.StatusCode))
	if excerpt != "" {
		msg += ": " + excerpt
	}
	var cause error
	switch resp.StatusCode {
	case http.StatusNotFound:
		switch path {
		case "/records":
			cause = source.ErrUnknownModel
		case "/reference":
			// The model is in /models (checked first), so a 404 here means it has no reference.
			cause = source.ErrNoReference
		}
	case http.StatusUnauthorized, http.StatusForbidden:
		msg += " (check the prediction log token)"
	}
	if cause != nil {
		return nil, c.downstream(fmt.Errorf("%s: %w", msg, cause))
	}
	if backend.ErrorSourceFromHTTPStatus(resp.StatusCode) == backend.ErrorSourcePlugin {
		return nil, backend.PluginError(c.http.Redactor.Error(errors.New(msg)))
	}
	return nil, c.downstream(errors.New(msg))
}

// downstream marks an upstream failure and redacts the secrets from its message (whole, and in
// part where an excerpt was cut).
func (c *Client) downstream(err error) error {
	return backend.DownstreamError(c.http.Redactor.Error(err))
}

// transportErr classifies a failure to send a request or read a response (upstream.Classify).
func (c *Client) transportErr(ctx context.Context, op string, err error) error {
	return c.downstream(fmt.Errorf("prediction log: %s: %w", op, upstream.Classify(ctx, err)))
}
