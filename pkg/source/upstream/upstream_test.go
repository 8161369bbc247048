package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/httpclient"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

func TestStatusText(t *testing.T) {
	require.Equal(t, "404 Not Found", StatusText(404))
	require.Equal(t, "HTTP 599", StatusText(599))
}

func TestBodyExcerpt(t *testing.T) {
	cases := map[string]string{
		`{"error": "unknown model \"x\""}`:                                           `unknown model "x"`,
		`{"error": {"code": 3, "message": "bad range"}}`:                             "bad range",
		`{"message": "quota"}`:                                                       "quota",
		`{"detail": "Not authenticated"}`:                                            "Not authenticated",
		"<html><head><TITLE>502 Bad Gateway</TITLE></head><body>nginx</body></html>": "502 Bad Gateway",
		"  plain\n\ttext\x00 body  ":                                                 "plain text body",
		strings.Repeat("x", 300):                                                     strings.Repeat("x", 200) + "…",
		"":                                                                           "",
	}
	var r *Redactor
	for in, want := range cases {
		require.Equal(t, want, r.BodyExcerpt(strings.NewReader(in)), in)
	}
	// Reads at most limits.ErrorBody bytes of an endless body.
	require.Equal(t, Cut, r.BodyExcerpt(io.LimitReader(zeros{}, 1<<30)))
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { return len(p), nil }

const token = "Zq7Kx2Vw9Pm4Rt6Yb8Nc3Hd5Jf1Lg0Ts" // 32 characters, no English word in it

// leaked returns the first piece of secret of limits.SecretPrefix characters found in s.
func leaked(s, secret string) string {
	for i := 0; i+limits.SecretPrefix <= len(secret); i++ {
		if p := secret[i : i+limits.SecretPrefix]; strings.Contains(s, p) {
			return p
		}
	}
	return ""
}

// An upstream that echoes the token in an error body, with the token across the 200-character cut
// at every position, and across the 4 KiB read: no piece of the token survives.
func TestRedactBeforeCut(t *testing.T) {
	r := NewRedactor(token)
	for pad := 150; pad <= 230; pad++ {
		for _, body := range []string{
			strings.Repeat("x", pad) + " Authorization: Bearer " + token + " and more text after it",
			`{"error":"` + strings.Repeat("y", pad) + "Bearer " + token + `"}`,
			strings.Repeat(" ", limits.ErrorBody-pad/10) + token + "tail",
			strings.Repeat("z", limits.ErrorBody-pad/10) + token,
		} {
			got := r.BodyExcerpt(strings.NewReader(body))
			require.Empty(t, leaked(got, token), "pad %d: %q", pad, got)
			require.Empty(t, leaked(r.Excerpt(body, pad), token), "pad %d", pad)
		}
	}
	// A piece of a secret shorter than SecretPrefix may stay; the text around it is kept.
	require.Equal(t, "abc Zq7…", r.String("abc Zq7…"))
	require.Equal(t, "abc "+Redacted+"…", r.String("abc Zq7K…"))
	require.Equal(t, "abc "+Redacted+"…", r.String("abc "+token[:31]+"…"))
	// Redacted before the cut: the mark replaces the whole secret, then the text is cut.
	require.Equal(t, "abc [re…", r.Excerpt("abc "+token, 7))
	// A cut at the start of a text (a window into a value) too.
	require.Equal(t, "…"+Redacted+" end", r.String("…"+token[10:]+" end"))
	// The prefix rule only applies at a cut.
	require.Equal(t, "Zq7Kx2 is fine", r.String("Zq7Kx2 is fine"))
}

func TestRedactorForms(t *testing.T) {
	secret := `p&ss"w/rd<1>`
	r := NewRedactor(secret, "", "  ")
	for _, echo := range []string{secret, `p\u0026ss\"w/rd\u003c1\u003e`, `p&ss\"w/rd<1>`, url.QueryEscape(secret), url.PathEscape(secret)} {
		require.Equal(t, "x "+Redacted+" y", r.String("x "+echo+" y"), echo)
	}
	// Longest first: a secret containing another is hidden whole.
	r = NewRedactor("abcd", "abcdefgh")
	require.Equal(t, Redacted+" "+Redacted, r.String("abcdefgh abcd"))
	// Errors keep their chain.
	base := errors.New("GET http://h/?token=abcd failed")
	err := r.Error(base)
	require.Equal(t, "GET http://h/?token="+Redacted+" failed", err.Error())
	require.ErrorIs(t, err, base)
	require.Nil(t, r.Error(nil))
	require.Same(t, base, NewRedactor().Error(base))
	require.Equal(t, []byte("body "+Redacted), r.Bytes([]byte("body abcdefgh")))
	var nilR *Redactor
	require.Equal(t, "x", nilR.String("x"))
	require.True(t, nilR.Empty())
}

// NewBase remembers the basic-auth password (and its base64 form) and custom header values.
func TestBaseSecrets(t *testing.T) {
	base, err := NewBase(httpclient.Options{
		BasicAuth: &httpclient.BasicAuthOptions{User: "ml", Password: "pw-123456"},
		Header:    http.Header{"X-Api-Key": {"hdr-abcdef"}},
	}, "other-secret")
	require.NoError(t, err)
	c, err := NewClient(base, Config{Token: token})
	require.NoError(t, err)
	msg := c.Redactor.String("pw-123456 bWw6cHctMTIzNDU2 hdr-abcdef other-secret " + token)
	require.Equal(t, strings.Repeat(Redacted+" ", 4)+Redacted, msg)
}

// Credentials never follow a redirect to another origin: the second server never sees the token,
// the basic-auth credentials nor the custom headers, and the error names both origins.
func TestRedirectToAnotherOrigin(t *testing.T) {
	var seen atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		if r.Header.Get("Authorization") != "" || r.Header.Get("X-Api-Key") != "" {
			t.Errorf("credentials reached the other origin: %v", r.Header)
		}
	}))
	defer other.Close()
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal?x=1", http.StatusFound)
	}))
	defer first.Close()
	base, err := NewBase(httpclient.Options{
		BasicAuth: &httpclient.BasicAuthOptions{User: "ml", Password: "pw-123456"},
		Header:    http.Header{"X-Api-Key": {"hdr-abcdef"}},
	})
	require.NoError(t, err)
	for _, withURL := range []bool{true, false} {
		cfg := Config{Token: token}
		if withURL {
			cfg.URL = first.URL
		}
		c, err := NewClient(base, cfg)
		require.NoError(t, err)
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, first.URL+"/models", nil)
		resp, err := c.Do(req)
		if resp != nil {
			resp.Body.Close()
		}
		require.Error(t, err)
		var re *RedirectError
		require.ErrorAs(t, err, &re)
		msg := Classify(context.Background(), err).Error()
		fu, _ := url.Parse(first.URL)
		ou, _ := url.Parse(other.URL)
		require.Contains(t, msg, Origin(fu))
		require.Contains(t, msg, Origin(ou))
		require.NotContains(t, msg, "/steal")
	}
	require.Zero(t, seen.Load())

	// A request to another origin than the configured URL is refused too.
	c, err := NewClient(base, Config{URL: first.URL, Token: token})
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodGet, other.URL, nil)
	_, err = c.Do(req)
	require.ErrorAs(t, err, new(*RedirectError))
	require.Zero(t, seen.Load())
}

// Redirects within the origin are followed with the credentials, at most limits.MaxRedirects times.
func TestSameOriginRedirects(t *testing.T) {
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/old":
			http.Redirect(w, r, "/new", http.StatusMovedPermanently)
		case r.URL.Path == "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			auth.Store(r.Header.Get("Authorization"))
			io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()
	c, err := NewClient(nil, Config{URL: srv.URL, Token: token})
	require.NoError(t, err)
	resp, err := c.HTTP.Get(srv.URL + "/old")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "Bearer "+token, auth.Load())
	_, err = c.HTTP.Get(srv.URL + "/loop")
	require.ErrorContains(t, err, fmt.Sprintf("stopped after %d redirects", limits.MaxRedirects))
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"http://Host/x?y":         "http://host:80",
		"http://host:80/":         "http://host:80",
		"https://host":            "https://host:443",
		"https://host:8443/a":     "https://host:8443",
		"http://[::1]:9090/api":   "http://[::1]:9090",
		"HTTP://user@h:1/?tok=ab": "http://h:1",
	} {
		u, err := url.Parse(in)
		require.NoError(t, err)
		require.Equal(t, want, Origin(u), in)
	}
}

func TestBusy(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.Equal(t, "upstream busy (429), retry after 30s", busy("30", now).Error())
	require.Equal(t, "upstream busy (429), retry after 2m", busy(" 120 ", now).Error())
	require.Equal(t, "upstream busy (429), retry after 1m30s", busy(now.Add(90*time.Second).Format(http.TimeFormat), now).Error())
	require.Equal(t, "upstream busy (429), retry later", busy("99999999999999999999", now).Error()) // not an int64
	require.Equal(t, "upstream busy (429), retry after 1d", busy("999999999", now).Error())
	require.Equal(t, "upstream busy (429), retry later", busy("", now).Error())
	require.Equal(t, "upstream busy (429), retry later", busy("soon", now).Error())
	require.Equal(t, "upstream busy (429), retry later", busy("-5", now).Error())

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, "slow down")
	}))
	defer srv.Close()
	c, err := NewClient(nil, Config{URL: srv.URL})
	require.NoError(t, err)
	_, err = c.HTTP.Get(srv.URL)
	require.EqualError(t, Classify(context.Background(), err), "upstream busy (429), retry after 30s")
}

func TestBodyLimit(t *testing.T) {
	body := strings.Repeat("x", 5000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("chunked") {
			w.(http.Flusher).Flush() // no Content-Length
		}
		io.WriteString(w, body)
	}))
	defer srv.Close()
	c, err := NewClient(nil, Config{URL: srv.URL, MaxBody: 4000})
	require.NoError(t, err)
	get := func(ctx context.Context, q string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"?"+q, nil)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		return err
	}
	for _, q := range []string{"", "chunked"} {
		err := get(context.Background(), q)
		require.ErrorIs(t, err, ErrTooLarge, q)
		require.ErrorIs(t, err, httpclient.ErrResponseBodyTooLarge, q)
		require.Equal(t, "response larger than 4000 bytes", Classify(context.Background(), err).Error(), q)
		// A call may ask for another cap.
		require.NoError(t, get(WithLimit(context.Background(), 6000), q), q)
		err = get(WithLimit(context.Background(), 100), q)
		require.EqualError(t, Classify(context.Background(), err), "response larger than 100 bytes", q)
	}
	require.Equal(t, "64 MiB", Size(64<<20))
}

func TestClassify(t *testing.T) {
	ctx := context.Background()
	c, err := NewClient(nil, Config{})
	require.NoError(t, err)
	do := func(ctx context.Context, u string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return Classify(ctx, err)
	}
	// Connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	require.ErrorContains(t, do(ctx, "http://"+addr+"/"), "connection refused by "+addr)
	// DNS.
	require.ErrorContains(t, do(ctx, "http://no-such-host.invalid/"), "cannot resolve host no-such-host.invalid")
	// TLS: an untrusted certificate, and plain HTTP where TLS was expected.
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	require.ErrorContains(t, do(ctx, tlsSrv.URL), "TLS: the certificate of "+strings.TrimPrefix(tlsSrv.URL, "https://")+" is not trusted")
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	require.ErrorContains(t, do(ctx, strings.Replace(plain.URL, "http:", "https:", 1)), "did not answer with TLS")
	// Timeout, kept as context.DeadlineExceeded.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err = do(tctx, slow.URL)
	require.ErrorContains(t, err, "timed out")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// Cancelled.
	cctx, cancel2 := context.WithCancel(ctx)
	cancel2()
	err = do(cctx, slow.URL)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, "cancelled")
	// Truncated body, and nil.
	require.ErrorContains(t, Classify(ctx, io.ErrUnexpectedEOF), "ended early")
	require.NoError(t, Classify(ctx, nil))
}
