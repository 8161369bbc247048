// Package endpoint is the client of a model endpoint that speaks the Open Inference Protocol v2
// (KServe "V2", Triton, MLServer, the demo model server): server liveness and readiness, model
// readiness, the model repository index and model metadata.
//
// Readiness is decided on the status code alone, since servers differ in their bodies (Triton
// and MLServer answer with empty bodies and 400 when not ready, KServe with JSON and 503): 200 is
// ready; 400, 404 and 503 are "not ready" (false, nil); anything else is an error.
package endpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/upstream"
)

// Limits.
const (
	// MaxBodyBytes caps a repository index or metadata response.
	MaxBodyBytes = limits.EndpointBody
	// DefaultTimeout bounds a call whose context has no deadline.
	DefaultTimeout = 30 * time.Second
	// maxHealthBody is how much of a health response is read (for the error excerpt).
	maxHealthBody = 4 << 10
)

// RepositoryModel is one entry of the repository index (POST /v2/repository/index). Version,
// State and Reason are empty when the server does not say (Triton lists never-loaded models by
// name only; the GET /v2/models fallback gives names only).
type RepositoryModel struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	// State is READY, UNAVAILABLE, LOADING, UNLOADING or UNKNOWN.
	State  string `json:"state,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Ready reports whether the index says the model is ready.
func (m RepositoryModel) Ready() bool { return strings.EqualFold(m.State, "READY") }

// TensorMetadata describes one input or output of a model.
type TensorMetadata struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// ModelMetadata is the answer of GET /v2/models/{name}.
type ModelMetadata struct {
	Name     string           `json:"name"`
	Versions []string         `json:"versions"`
	Platform string           `json:"platform"`
	Inputs   []TensorMetadata `json:"inputs"`
	Outputs  []TensorMetadata `json:"outputs"`
	// Parameters holds MLServer's model parameters when present.
	Parameters map[string]any `json:"parameters,omitempty"`
}

// Client calls one configured model endpoint. It is safe for concurrent use.
type Client struct {
	http *upstream.Client
	name string
	base string
}

// Supports reports whether endpoints of a protocol speak the Open Inference Protocol (oip,
// triton); "metrics" endpoints only expose Prometheus metrics.
func Supports(protocol string) bool {
	return protocol == settings.ProtocolOIP || protocol == settings.ProtocolTriton || protocol == ""
}

// New returns a client of ep, sending token (when set) as a bearer token. client is the data
// source's base client (upstream.NewBase; nil means upstream's defaults), wrapped by
// upstream.NewClient with the token, the body cap and the redirect policy.
func New(client *http.Client, ep settings.Endpoint, token string) (*Client, error) {
	name := strings.TrimSpace(ep.Name)
	if name == "" {
		name = "(unnamed)"
	}
	if !Supports(ep.Protocol) {
		return nil, fmt.Errorf("endpoint %s: protocol %q has no inference API (use oip or triton)", name, ep.Protocol)
	}
	base := strings.TrimRight(strings.TrimSpace(ep.URL), "/")
	u, err := url.Parse(base)
	switch {
	case base == "":
		return nil, fmt.Errorf("endpoint %s: the URL is empty", name)
	case err != nil:
		return nil, fmt.Errorf("endpoint %s: the URL is not valid", name)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("endpoint %s: the URL must start with http:// or https://", name)
	case u.Host == "":
		return nil, fmt.Errorf("endpoint %s: the URL has no host", name)
	case u.User != nil:
		return nil, fmt.Errorf("endpoint %s: the URL must not contain credentials; use the endpoint token setting", name)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("endpoint %s: the URL must not have a query or fragment", name)
	}
	up, err := upstream.NewClient(client, upstream.Config{URL: base, Token: token, MaxBody: MaxBodyBytes})
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", name, err)
	}
	return &Client{http: up, name: name, base: base}, nil
}

// Name is the endpoint's configured name.
func (c *Client) Name() string { return c.name }

// Live reports server liveness (GET /v2/health/live).
func (c *Client) Live(ctx context.Context) (bool, error) {
	return c.health(ctx, "/v2/health/live")
}

// ServerReady reports server readiness (GET /v2/health/ready).
func (c *Client) ServerReady(ctx context.Context) (bool, error) {
	return c.health(ctx, "/v2/health/ready")
}

// Ready reports whether the endpoint serves the model and it is ready
// (GET /v2/models/{model}/ready). An unknown model is not ready.
func (c *Client) Ready(ctx context.Context, model string) (bool, error) {
	p, err := c.modelPath(model)
	if err != nil {
		return false, err
	}
	return c.health(ctx, p+"/ready")
}

func (c *Client) health(ctx context.Context, path string) (bool, error) {
	resp, cancel, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return false, err
	}
	defer cancel()
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxHealthBody))
		return true, nil
	case http.StatusBadRequest, http.StatusNotFound, http.StatusServiceUnavailable:
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxHealthBody))
		return false, nil
	}
	return false, c.statusErr(http.MethodGet, path, resp, nil)
}

// Models lists the models of the repository index (POST /v2/repository/index, served by Triton,
// MLServer and the demo server). A server without the index (KServe's Python server answers 404)
// is asked GET /v2/models instead, which lists names only.
func (c *Client) Models(ctx context.Context) ([]RepositoryModel, error) {
	const path = "/v2/repository/index"
	resp, cancel, err := c.do(ctx, http.MethodPost, path, []byte("{}"))
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		var out []RepositoryModel
		if err := c.decode(ctx, http.MethodPost, path, resp, &out); err != nil {
			return nil, err
		}
		for i, m := range out {
			if m.Name == "" {
				return nil, c.downstream(fmt.Errorf("endpoint %s: POST %s: entry %d has no name", c.name, path, i))
			}
		}
		if out == nil {
			out = []RepositoryModel{}
		}
		return out, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented:
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxHealthBody))
		return c.listModels(ctx)
	}
	return nil, c.statusErr(http.MethodPost, path, resp, nil)
}

// listModels is KServe's GET /v2/models → {"models":["a","b"]}.
func (c *Client) listModels(ctx context.Context) ([]RepositoryModel, error) {
	const path = "/v2/models"
	resp, cancel, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, c.statusErr(http.MethodGet, path, resp, nil)
	}
	var body struct {
		Models []string `json:"models"`
	}
	if err := c.decode(ctx, http.MethodGet, path, resp, &body); err != nil {
		return nil, err
	}
	out := make([]RepositoryModel, 0, len(body.Models))
	for _, n := range body.Models {
		if n != "" {
			out = append(out, RepositoryModel{Name: n})
		}
	}
	return out, nil
}

// ModelNames lists the distinct model names of Models, in index order.
func (c *Client) ModelNames(ctx context.Context) ([]string, error) {
	ms, err := c.Models(ctx)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(ms))
	names := make([]string, 0, len(ms))
	for _, m := range ms {
		if !seen[m.Name] {
			seen[m.Name] = true
			names = append(names, m.Name)
		}
	}
	return names, nil
}

// Health is the view of a Client that health queries use: Ready, ServerReady and Live as the
// Client's, and Models listing model names only (ModelNames).
type Health struct{ *Client }

// Models lists the distinct model names the endpoint serves.
func (h Health) Models(ctx context.Context) ([]string, error) { return h.ModelNames(ctx) }

// Metadata returns a model's metadata (GET /v2/models/{model}). A 404 wraps source.ErrUnknownModel.
func (c *Client) Metadata(ctx context.Context, model string) (*ModelMetadata, error) {
	path, err := c.modelPath(model)
	if err != nil {
		return nil, err
	}
	resp, cancel, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var cause error
		if resp.StatusCode == http.StatusNotFound {
			cause = source.ErrUnknownModel
		}
		return nil, c.statusErr(http.MethodGet, path, resp, cause)
	}
	var md ModelMetadata
	if err := c.decode(ctx, http.MethodGet, path, resp, &md); err != nil {
		return nil, err
	}
	return &md, nil
}

func (c *Client) modelPath(model string) (string, error) {
	if model == "" || model == "." || model == ".." {
		return "", backend.DownstreamError(fmt.Errorf("endpoint %s: invalid model name %q", c.name, model))
	}
	return "/v2/models/" + url.PathEscape(model), nil
}

// do sends one request. The returned cancel must be called once the body has been read.
func (c *Client) do(ctx context.Context, method, path string, body []byte) (*http.Response, context.CancelFunc, error) {
	cancel := context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		cancel()
		return nil, nil, backend.PluginError(fmt.Errorf("endpoint %s: %s %s: cannot build the request", c.name, method, path))
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// Classify before cancelling: the cancelled context would make every failure read as
		// "cancelled".
		err = c.transportErr(ctx, method, path, err)
		cancel()
		return nil, nil, err
	}
	return resp, cancel, nil
}

// decode reads a JSON body of at most MaxBodyBytes into v.
func (c *Client) decode(ctx context.Context, method, path string, resp *http.Response, v any) error {
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return c.transportErr(ctx, method, path, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return c.downstream(fmt.Errorf("endpoint %s: %s %s: invalid JSON (%s)", c.name, method, path, jsonProblem(err)))
	}
	return nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		return fmt.Sprintf("%s where %s was expected", te.Value, te.Type)
	}
	return upstream.Printable(err.Error(), 120)
}

// statusErr turns an unexpected status into an error with a short excerpt of the body.
func (c *Client) statusErr(method, path string, resp *http.Response, cause error) error {
	msg := fmt.Sprintf("endpoint %s: %s %s: %s", c.name, method, path, upstream.StatusText(resp.StatusCode))
	if ex := c.http.Redactor.BodyExcerpt(resp.Body); ex != "" {
		msg += ": " + ex
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		msg += " (check the endpoint token)"
	}
	var err error = errors.New(msg)
	if cause != nil {
		err = fmt.Errorf("%s: %w", msg, cause)
	}
	if backend.ErrorSourceFromHTTPStatus(resp.StatusCode) == backend.ErrorSourcePlugin {
		return backend.PluginError(c.http.Redactor.Error(err))
	}
	return c.downstream(err)
}

func (c *Client) downstream(err error) error {
	return backend.DownstreamError(c.http.Redactor.Error(err))
}

// transportErr classifies a failure to send a request or read a response (upstream.Classify).
func (c *Client) transportErr(ctx context.Context, method, path string, err error) error {
	return c.downstream(fmt.Errorf("endpoint %s: %s %s: %w", c.name, method, path, upstream.Classify(ctx, err)))
}
