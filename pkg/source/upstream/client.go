package upstream

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/httpclient"
	"github.com/grafana/grafana-plugin-sdk-go/config"
	"github.com/prometheus/common/model"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// NewBase returns the data source's base HTTP client, built by the SDK's httpclient from opts
// (TLS, basic auth, custom headers, proxy, timeouts; the SDK's default middlewares when opts has
// none), and remembers the secrets it sends (the basic-auth password and its base64 form, the
// custom header values) together with secrets (the decrypted secureJsonData values), so that the
// connectors' clients made from it by NewClient redact all of them. It is not used directly:
// every connector wraps it with NewClient.
func NewBase(opts httpclient.Options, secrets ...string) (*http.Client, error) {
	if opts.Timeouts == nil {
		t := httpclient.DefaultTimeoutOptions
		opts.Timeouts = &t
	}
	var inner *http.Transport
	configure := opts.ConfigureTransport
	opts.ConfigureTransport = func(o httpclient.Options, t *http.Transport) {
		inner = t
		if configure != nil {
			configure(o, t)
		}
	}
	if opts.Middlewares == nil {
		opts.Middlewares = httpclient.DefaultMiddlewares()
	}
	// The SDK's response limit, innermost; NewClient sets its cap per call.
	limited := false
	for _, m := range opts.Middlewares {
		if n, ok := m.(httpclient.MiddlewareName); ok && n.MiddlewareName() == httpclient.ResponseLimitMiddlewareName {
			limited = true
		}
	}
	if !limited {
		opts.Middlewares = append(append([]httpclient.Middleware(nil), opts.Middlewares...), httpclient.ResponseLimitMiddleware(0))
	}
	c, err := httpclient.New(opts)
	if err != nil {
		return nil, err
	}
	if ba := opts.BasicAuth; ba != nil && ba.Password != "" {
		secrets = append(secrets, ba.Password, base64.StdEncoding.EncodeToString([]byte(ba.User+":"+ba.Password)))
	}
	for _, vs := range opts.Header {
		secrets = append(secrets, vs...)
	}
	c.Transport = &baseTransport{next: c.Transport, inner: inner, redact: NewRedactor(secrets...)}
	return c, nil
}

// RedactorOf is the Redactor of the secrets a client from NewBase or NewClient sends (nil for
// another client).
func RedactorOf(c *http.Client) *Redactor {
	if c == nil {
		return nil
	}
	if bt, ok := c.Transport.(*baseTransport); ok {
		return bt.redact
	}
	return nil
}

// baseTransport carries the base client's secrets to NewClient.
type baseTransport struct {
	next   http.RoundTripper
	inner  *http.Transport
	redact *Redactor
}

func (t *baseTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(r)
}

// CloseIdleConnections closes the idle connections of the SDK's transport.
func (t *baseTransport) CloseIdleConnections() {
	if t.inner != nil {
		t.inner.CloseIdleConnections()
	}
}

// Config is what one connector adds to the base client.
type Config struct {
	// URL is the configured upstream URL: requests go to its origin (scheme, host and port) only.
	URL string
	// Token is sent as "Authorization: Bearer <token>" when set.
	Token string
	// Header holds further headers to send (not secrets: e.g. X-Scope-OrgID).
	Header http.Header
	// MaxBody caps a response body unless a call asks for another cap with WithLimit; 0 means no
	// cap of ModelLens' own.
	MaxBody int64
}

// Client is a connector's HTTP client and the Redactor of every secret it sends.
type Client struct {
	HTTP     *http.Client
	Redactor *Redactor
}

// NewClient returns a connector's client: base (from NewBase; nil means NewBase with default
// options) with, as SDK httpclient middlewares, the bearer token, the headers, the cap of the
// SDK's ResponseLimitMiddleware (NewBase's) set to cfg.MaxBody or WithLimit's cap, and a guard that answers a 429 with
// a BusyError (Retry-After included), a body announced larger than the cap with a TooLargeError
// and a request to another origin than cfg.URL's with a RedirectError. Redirects are followed
// within the origin only, at most limits.MaxRedirects times: a redirect to another origin is
// refused (the SDK's middlewares would send the credentials along), with an error naming both
// origins.
func NewClient(base *http.Client, cfg Config) (*Client, error) {
	if base == nil {
		var err error
		if base, err = NewBase(httpclient.Options{}); err != nil {
			return nil, err
		}
	}
	red := RedactorOf(base).With(cfg.Token)
	next := base.Transport
	if next == nil {
		next = httpclient.NewHTTPTransport()
	}
	origin := ""
	if cfg.URL != "" {
		u, err := url.Parse(cfg.URL)
		if err != nil {
			return nil, errors.New("the URL is not valid")
		}
		origin = Origin(u)
	}
	mws := []httpclient.Middleware{
		guardMiddleware(origin, cfg.MaxBody),
		bearerMiddleware(cfg.Token),
		headerMiddleware(cfg.Header),
	}
	if _, ok := base.Transport.(*baseTransport); !ok {
		// A client not from NewBase (tests): add the SDK's response limit here.
		mws = append(mws, httpclient.ResponseLimitMiddleware(cfg.MaxBody))
	}
	rt := next
	for i := len(mws) - 1; i >= 0; i-- {
		rt = mws[i].CreateMiddleware(httpclient.Options{}, rt)
	}
	c := *base
	c.Transport = rt
	c.CheckRedirect = checkRedirect
	return &Client{HTTP: &c, Redactor: red}, nil
}

// Do sends req.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	// #nosec G704 -- the URLs are the data source's own settings, and the guard middleware refuses any other origin
	return c.HTTP.Do(req)
}

// Origin is "scheme://host:port" of u, lower case, with the scheme's default port made explicit.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host + ":" + port
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	from, to := Origin(via[0].URL), Origin(req.URL)
	if from != to {
		return &RedirectError{From: from, To: to}
	}
	if len(via) > limits.MaxRedirects {
		return &RedirectError{From: from, To: to, TooMany: true}
	}
	return nil
}

// WithLimit asks the calls made with ctx to cap response bodies at n bytes (n > 0) instead of the
// client's MaxBody. A smaller limit set by Grafana (the data proxy response limit) still applies.
func WithLimit(ctx context.Context, n int64) context.Context {
	if n <= 0 {
		return ctx
	}
	return context.WithValue(ctx, limitKey{}, n)
}

type limitKey struct{}

func bearerMiddleware(token string) httpclient.Middleware {
	return httpclient.NamedMiddlewareFunc("ModelLensBearer", func(_ httpclient.Options, next http.RoundTripper) http.RoundTripper {
		if token == "" {
			return next
		}
		return httpclient.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
			req = req.Clone(req.Context())
			req.Header.Set("Authorization", "Bearer "+token)
			return next.RoundTrip(req)
		})
	})
}

func headerMiddleware(h http.Header) httpclient.Middleware {
	return httpclient.NamedMiddlewareFunc("ModelLensHeaders", func(_ httpclient.Options, next http.RoundTripper) http.RoundTripper {
		if len(h) == 0 {
			return next
		}
		return httpclient.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
			req = req.Clone(req.Context())
			for k, vs := range h {
				req.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
			}
			return next.RoundTrip(req)
		})
	})
}

func envLimit() int64 {
	v, err := strconv.ParseInt(os.Getenv("GF_DATAPROXY_RESPONSE_LIMIT"), 10, 64)
	if err == nil && v > 0 {
		return v
	}
	return 0
}

// guardMiddleware keeps requests on the configured origin, settles the body cap of each call
// (passed to the SDK's response-limit middleware), and turns 429 and oversized answers into
// errors.
func guardMiddleware(origin string, max int64) httpclient.Middleware {
	env := envLimit()
	return httpclient.NamedMiddlewareFunc("ModelLensGuard", func(_ httpclient.Options, next http.RoundTripper) http.RoundTripper {
		return httpclient.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
			if to := Origin(req.URL); origin != "" && to != origin {
				return nil, &RedirectError{From: origin, To: to}
			}
			ctx := req.Context()
			limit := max
			if n, ok := ctx.Value(limitKey{}).(int64); ok && n > 0 {
				limit = n
			}
			for _, n := range []int64{config.GrafanaConfigFromContext(ctx).ResponseLimit(), env} {
				if n > 0 && (limit <= 0 || n < limit) {
					limit = n
				}
			}
			if limit > 0 {
				req = req.WithContext(httpclient.WithResponseLimit(ctx, limit))
			}
			resp, err := next.RoundTrip(req)
			if err != nil {
				return resp, err
			}
			if resp.StatusCode == http.StatusTooManyRequests {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, limits.ErrorBody))
				resp.Body.Close()
				return nil, busy(resp.Header.Get("Retry-After"), time.Now())
			}
			if limit > 0 {
				if resp.ContentLength > limit {
					resp.Body.Close()
					return nil, &TooLargeError{Limit: limit}
				}
				resp.Body = &limitedBody{ReadCloser: resp.Body, limit: limit}
			}
			return resp, nil
		})
	})
}

// limitedBody reports the SDK's "response body too large" as a TooLargeError with the limit.
type limitedBody struct {
	io.ReadCloser
	limit int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && errors.Is(err, httpclient.ErrResponseBodyTooLarge) {
		err = &TooLargeError{Limit: b.limit}
	}
	return n, err
}

// maxRetryAfter bounds the Retry-After value quoted in a message.
const maxRetryAfter = 24 * time.Hour

// busy reads a Retry-After header (seconds or an HTTP date).
func busy(h string, now time.Time) *BusyError {
	h = strings.TrimSpace(h)
	if h == "" {
		return &BusyError{}
	}
	var d time.Duration
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n < 0 {
			return &BusyError{}
		}
		if n > int64(maxRetryAfter/time.Second) {
			n = int64(maxRetryAfter / time.Second)
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now).Round(time.Second)
		if d < 0 {
			d = 0
		}
		if d > maxRetryAfter {
			d = maxRetryAfter
		}
	} else {
		return &BusyError{}
	}
	return &BusyError{RetryAfter: d, Known: true}
}

// BusyError is a 429 Too Many Requests answer.
type BusyError struct {
	// RetryAfter is the upstream's Retry-After (when Known).
	RetryAfter time.Duration
	Known      bool
}

func (e *BusyError) Error() string {
	if !e.Known {
		return "upstream busy (429), retry later"
	}
	if e.RetryAfter == 0 {
		return "upstream busy (429), retry after 0s"
	}
	return "upstream busy (429), retry after " + model.Duration(e.RetryAfter).String()
}

// ErrTooLarge is matched (errors.Is) by every TooLargeError.
var ErrTooLarge = errors.New("response too large")

// TooLargeError is an answer larger than its cap.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string { return "response larger than " + Size(e.Limit) }

// Is makes errors.Is(err, ErrTooLarge) and errors.Is(err, httpclient.ErrResponseBodyTooLarge) true.
func (e *TooLargeError) Is(target error) bool {
	return target == ErrTooLarge || target == httpclient.ErrResponseBodyTooLarge
}

// Size is "16 MiB" for a whole number of MiB, else "N bytes".
func Size(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// RedirectError is a redirect (or a request) to another origin than the configured one, or one
// redirect too many within it. It names origins only (never paths or queries, which may carry
// secrets).
type RedirectError struct {
	From, To string
	TooMany  bool
}

func (e *RedirectError) Error() string {
	if e.TooMany {
		return "stopped after " + strconv.Itoa(limits.MaxRedirects) + " redirects within " + e.From
	}
	return "refused a redirect from " + e.From + " to another origin, " + e.To +
		": credentials are sent only to the configured URL (set the URL to the address that answers)"
}
