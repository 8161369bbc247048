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
	"net"
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
}

// Client reads a Prediction Log API. It is safe for concurrent use and implements
// source.PredictionLog.
type Client struct {
	http      *http.Client
	base      string
	token     string
	maxBody   int64
	modelsTTL time.Duration
	now       func() time.Time

	mu           sync.Mutex
	models       []source.Model
	modelsAt     time.Time
	modelsFlight singleflight.Group
}

var _ source.PredictionLog = (*Client)(nil)

// New returns a client for the API at opts.BaseURL using client (built once per data-source
// instance from the SDK's httpclient, which adds TLS, basic auth, custom headers and the timeout).
// A nil client means a plain http.Client with a 30 s timeout.
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
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	ttl := opts.ModelsTTL
	if ttl <= 0 {
		ttl = DefaultModelsTTL
	}
	return &Client{
		http:      client,
		base:      base,
		token:     opts.Token,
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
	c.mu.Unlock()
	ch := c.modelsFlight.DoChan("models", func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.fetchTimeout())
		defer cancel()
		ms, err := c.fetchModels(fctx)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.models, c.modelsAt = ms, c.now()
		c.mu.Unlock()
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
	if c.http.Timeout > 0 {
		return c.http.Timeout
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
	resp, err := c.get(ctx, op, "/models", nil, "application/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	max := c.limit(DefaultMaxSmallBytes)
	var body modelsResponse
	dec := json.NewDecoder(&capReader{r: resp.Body, left: max, max: max})
	if err := dec.Decode(&body); err != nil {
		if isTransport(err) {
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
	opt := decodeOptions{model: m, limit: req.Limit, window: true,
		start: req.Start.UnixNano(), end: req.End.UnixNano(), version: req.Version}
	if !req.End.After(req.Start) {
		return newDecoder(opt, 0).finish(), nil
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
	}
	return c.ndjson(ctx, "GET /records", "/records", q, opt, c.limit(DefaultMaxRecordsBytes))
}

// Reference fetches the reference (training) sample of a model (GET /reference). A sample with
// fewer than two rows is an error wrapping source.ErrNoReference, and so is a 404.
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
	b, err := c.ndjson(ctx, "GET /reference", "/reference", q, decodeOptions{model: m}, c.limit(DefaultMaxSmallBytes))
	if err != nil {
		return nil, err
	}
	if b.Len() < 2 {
		return nil, c.downstream(fmt.Errorf("prediction log: the reference sample of model %q has %d rows, at least 2 are needed: %w", model, b.Len(), source.ErrNoReference))
	}
	return b, nil
}

func (c *Client) ndjson(ctx context.Context, op, path string, q url.Values, opt decodeOptions, max int64) (*source.Batch, error) {
	resp, err := c.get(ctx, op, path, q, "application/x-ndjson")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > max {
		return nil, c.downstream(fmt.Errorf("prediction log: %s: %w", op, &tooLargeError{max: max}))
	}
	if resp.ContentLength > 0 {
		opt.sizeHint = resp.ContentLength
	}
	b, err := decodeNDJSON(&capReader{r: resp.Body, left: max, max: max}, opt)
	if err != nil {
		var le *LineError
		if errors.As(err, &le) {
			return nil, c.downstream(fmt.Errorf("prediction log: %s: %w", op, err))
		}
		return nil, c.transportErr(ctx, op, err)
	}
	return b, nil
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
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportErr(ctx, op, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	excerpt := upstream.BodyExcerpt(resp.Body)
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
		return nil, backend.PluginError(upstream.Redact(errors.New(msg), c.token))
	}
	return nil, c.downstream(errors.New(msg))
}

// downstream marks an upstream failure and removes the token from its message.
func (c *Client) downstream(err error) error {
	return backend.DownstreamError(upstream.Redact(err, c.token))
}

// transportErr classifies a failure to send a request or read a response.
func (c *Client) transportErr(ctx context.Context, op string, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, errTooLarge):
		return c.downstream(fmt.Errorf("prediction log: %s: %w", op, err))
	case errors.Is(ctx.Err(), context.DeadlineExceeded),
		errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return c.downstream(fmt.Errorf("prediction log: %s: the upstream timed out: %w", op, context.DeadlineExceeded))
	case errors.Is(ctx.Err(), context.Canceled), errors.Is(err, context.Canceled):
		return c.downstream(fmt.Errorf("prediction log: %s: the request was cancelled: %w", op, context.Canceled))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return c.downstream(fmt.Errorf("prediction log: %s: the response ended early (truncated): %w", op, err))
	}
	return c.downstream(fmt.Errorf("prediction log: %s: %w", op, err))
}

// isTransport tells a failure to read the body (classified by transportErr) from a malformed body.
func isTransport(err error) bool {
	var ne net.Error
	return errors.Is(err, errTooLarge) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne)
}

// errTooLarge is returned by capReader.
var errTooLarge = errors.New("response too large")

type tooLargeError struct{ max int64 }

func (e *tooLargeError) Error() string {
	return "response larger than " + strconv.FormatInt(e.max, 10) + " bytes"
}
func (e *tooLargeError) Is(target error) bool { return target == errTooLarge }

// capReader fails with "response larger than N bytes" once more than max bytes were read.
type capReader struct {
	r    io.Reader
	left int64
	max  int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, &tooLargeError{max: c.max}
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
