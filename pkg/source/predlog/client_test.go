package predlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/upstream"
)

const testToken = "s3cr3t-t0ken-value"

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeLog is a Prediction Log API serving fixtures; handlers per path can be replaced.
type fakeLog struct {
	t        *testing.T
	srv      *httptest.Server
	models   atomic.Int32
	requests atomic.Int32
	handlers map[string]http.HandlerFunc
}

func newFakeLog(t *testing.T, handlers map[string]http.HandlerFunc) *fakeLog {
	f := &fakeLog{t: t, handlers: handlers}
	if f.handlers == nil {
		f.handlers = map[string]http.HandlerFunc{}
	}
	if _, ok := f.handlers["/api/v1/models"]; !ok {
		body := fixture(t, "models.json")
		f.handlers["/api/v1/models"] = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		}
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		if r.URL.Path == "/api/v1/models" {
			f.models.Add(1)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"bad credentials %q"}`, got)
			return
		}
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		h, ok := f.handlers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLog) client(opts Options) *Client {
	f.t.Helper()
	if opts.BaseURL == "" {
		opts.BaseURL = f.srv.URL + "/api/v1/"
	}
	if opts.Token == "" {
		opts.Token = testToken
	}
	c, err := New(f.srv.Client(), opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func serve(body []byte, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Write(body)
	}
}

func checkNoToken(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testToken) {
		t.Errorf("the token leaked into an error: %q", err)
	}
}

var window = source.RecordsRequest{
	Model: "churn",
	Start: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC),
	End:   time.Date(2026, 11, 1, 11, 0, 0, 0, time.UTC),
}

func TestNewValidatesURL(t *testing.T) {
	for _, u := range []string{"", "  ", "ftp://host/api", "http://", "http://user:pw@host/api", "http://host/api?x=1", "://bad", "host:8090/api"} {
		if _, err := New(nil, Options{BaseURL: u}); err == nil {
			t.Errorf("New(%q) accepted a bad URL", u)
		}
	}
	if _, err := New(nil, Options{BaseURL: "http://host:8090/api/v1", MaxBodyBytes: -1}); err == nil {
		t.Error("negative MaxBodyBytes accepted")
	}
	c, err := New(nil, Options{BaseURL: " https://host:8090/api/v1/ "})
	if err != nil {
		t.Fatal(err)
	}
	if c.base != "https://host:8090/api/v1" {
		t.Errorf("base = %q", c.base)
	}
}

func TestModelsAreCached(t *testing.T) {
	f := newFakeLog(t, nil)
	c := f.client(Options{})
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	ms, err := c.Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Name != "churn" || ms[1].Name != "fraud" || ms[1].Prediction.Type != source.Numeric ||
		len(ms[0].Features) != 4 || ms[0].Features[2].Type != source.Categorical {
		t.Fatalf("models = %+v", ms)
	}
	ms[0].Name = "mutated"
	if ms, _ = c.Models(context.Background()); ms[0].Name != "churn" {
		t.Error("Models returned the cached slice itself")
	}
	if n := f.models.Load(); n != 1 {
		t.Errorf("/models fetched %d times within the TTL, want 1", n)
	}
	now = now.Add(DefaultModelsTTL + time.Second)
	if _, err := c.Models(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := f.models.Load(); n != 2 {
		t.Errorf("/models fetched %d times after the TTL, want 2", n)
	}
}

func TestModelsBadBodies(t *testing.T) {
	cases := map[string]string{
		`{"models":[{"name":"a","features":[{"name":"x","type":"vector"}]}]}`:     `feature "x": type "vector"`,
		`{"models":[{"name":"a"},{"name":"a"}]}`:                                  `model "a" is listed twice`,
		`{"models":[{"name":""}]}`:                                                "has no name",
		`{"models":[{"name":"a","features":[{"name":"x"},{"name":"x"}]}]}`:        `feature "x" is listed twice`,
		`{"models":[{"name":"a","prediction":{"type":"image"}}]}`:                 "prediction type",
		`{"models":[{"name":"a","features":[{"name":"x","importance":-0.5}]}]}`:   `feature "x": importance -0.5 is not a finite number >= 0`,
		`{"models":[{"name":"a","features":[{"name":"x","importance":"high"}]}]}`: "invalid JSON",
		`{"models":[{"name":"a","features":[{"name":"x","importance":0.25}]}]}`:   "",
		`{"data":[]}`: `no "models" list`,
		`{"models":[`: "ended early",
		`<html>`:      "invalid JSON",
		``:            "empty response",
		`{"models":[{"name":"a","features":[{"name":"x","type":"string"}]}]}x`: "", // trailing bytes after the document are ignored
	}
	for body, want := range cases {
		f := newFakeLog(t, map[string]http.HandlerFunc{"/api/v1/models": serve([]byte(body), "application/json")})
		_, err := f.client(Options{}).Models(context.Background())
		if want == "" {
			if err != nil {
				t.Errorf("%s: %v", body, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", body, err, want)
		}
		if !backend.IsDownstreamError(err) {
			t.Errorf("%s: not a downstream error", body)
		}
	}
}

func TestRecordsRequestAndDecode(t *testing.T) {
	var got http.Header
	var query string
	f := newFakeLog(t, map[string]http.HandlerFunc{
		"/api/v1/records": func(w http.ResponseWriter, r *http.Request) {
			got, query = r.Header.Clone(), r.URL.RawQuery
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.Write(fixture(t, "records_churn.ndjson"))
		},
	})
	c := f.client(Options{})
	req := window
	req.Start = time.Date(2026, 11, 1, 11, 0, 0, 0, time.FixedZone("CET", 3600)) // = 10:00Z
	req.Limit = 100
	b, err := c.Records(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 4 || b.Truncated {
		t.Fatalf("len %d truncated %v", b.Len(), b.Truncated)
	}
	if got.Get("Authorization") != "Bearer "+testToken || got.Get("Accept") != "application/x-ndjson" {
		t.Errorf("headers = %v", got)
	}
	want := "end=2026-11-01T11%3A00%3A00Z&limit=101&model=churn&order=desc&start=2026-11-01T10%3A00%3A00Z"
	if query != want {
		t.Errorf("query = %s, want %s", query, want)
	}
	eqFloats(t, "age", b.Features["age"].Num, []float64{34, math.NaN(), 51, -50})

	req.Version, req.Limit = "v2", 0
	if b, err = c.Records(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if query != "end=2026-11-01T11%3A00%3A00Z&model=churn&start=2026-11-01T10%3A00%3A00Z&version=v2" {
		t.Errorf("query = %s", query)
	}
	// The fixture server ignores the version parameter; the client keeps only v2.
	if b.Len() != 2 || len(b.Versions) != 1 || b.Versions[0] != "v2" {
		t.Errorf("version filter: len %d versions %v", b.Len(), b.Versions)
	}
	if n := f.models.Load(); n != 1 {
		t.Errorf("/models fetched %d times", n)
	}
}

func TestRecordsLimit(t *testing.T) {
	data := genRecords(50, window.Start.Add(time.Millisecond), 1)
	for name, h := range map[string]http.HandlerFunc{
		"server honours limit and order": rangeServer(t, data, true, true),
		"server ignores limit":           rangeServer(t, data, false, true),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeLog(t, map[string]http.HandlerFunc{
				"/api/v1/models":  serve([]byte(`{"models":[{"name":"churn","features":[{"name":"plan","type":"categorical"}],"prediction":{"type":"categorical"}}]}`), "application/json"),
				"/api/v1/records": h,
			})
			c := f.client(Options{})
			all, err := c.Records(context.Background(), window)
			if err != nil || all.Len() != 50 {
				t.Fatalf("no limit: %d records, %v", all.Len(), err)
			}
			for _, tc := range []struct {
				limit     int
				n         int
				truncated bool
			}{{10, 10, true}, {49, 49, true}, {50, 50, false}, {51, 50, false}, {0, 50, false}} {
				req := window
				req.Limit = tc.limit
				b, err := c.Records(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				if b.Len() != tc.n || b.Truncated != tc.truncated {
					t.Errorf("limit %d: len %d truncated %v, want %d %v", tc.limit, b.Len(), b.Truncated, tc.n, tc.truncated)
				}
				// A cut keeps the newest records, ascending.
				if tc.truncated {
					if !b.Newest || b.OrderIgnored || b.CompleteAfter != b.TS[0] {
						t.Errorf("limit %d: Newest %v OrderIgnored %v CompleteAfter %d", tc.limit, b.Newest, b.OrderIgnored, b.CompleteAfter)
					}
					if !slices.Equal(b.TS, all.TS[50-tc.n:]) {
						t.Errorf("limit %d: not the newest records", tc.limit)
					}
				}
			}
		})
	}
}

func TestRecordsOrderIgnored(t *testing.T) {
	// One record a second over the hour: a server that ignores order=desc answers oldest first,
	// and the client reads the tail again until the newest windows are complete.
	data := genRecords(3600, window.Start.Add(time.Millisecond), 3)
	var requests atomic.Int32
	h := rangeServer(t, data, true, false)
	f := newFakeLog(t, map[string]http.HandlerFunc{
		"/api/v1/models":  serve([]byte(`{"models":[{"name":"churn","features":[{"name":"plan","type":"categorical"}],"prediction":{"type":"categorical"}}]}`), "application/json"),
		"/api/v1/records": func(w http.ResponseWriter, r *http.Request) { requests.Add(1); h(w, r) },
	})
	c := f.client(Options{})
	all, err := c.Records(context.Background(), window)
	if err != nil || all.Len() != 3600 {
		t.Fatalf("no limit: %d records, %v", all.Len(), err)
	}
	for _, limit := range []int{1000, 100, 7} {
		requests.Store(0)
		req := window
		req.Limit = limit
		b, err := c.Records(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if !b.Truncated || !b.Newest || !b.OrderIgnored || b.TailReads < 1 || b.TailReads > limits.MaxTailReads {
			t.Fatalf("limit %d: Truncated %v Newest %v OrderIgnored %v TailReads %d", limit, b.Truncated, b.Newest, b.OrderIgnored, b.TailReads)
		}
		if int(requests.Load()) != 1+b.TailReads {
			t.Errorf("limit %d: %d requests for %d tail reads", limit, requests.Load(), b.TailReads)
		}
		if b.Len() == 0 || b.Len() > limit {
			t.Fatalf("limit %d: %d records", limit, b.Len())
		}
		// Every record after CompleteAfter is there: the batch is a suffix of the full answer.
		k := slices.IndexFunc(all.TS, func(ts int64) bool { return ts > b.CompleteAfter })
		if !slices.Equal(b.TS, all.TS[k:]) {
			t.Errorf("limit %d: the %d records kept are not the complete tail after %s", limit, b.Len(), time.Unix(0, b.CompleteAfter).UTC())
		}
		// The re-read tail holds most of what the limit allows (the rate is constant).
		if b.Len() < limit/2 {
			t.Errorf("limit %d: only %d records in the tail", limit, b.Len())
		}
	}
}

// rangeServer serves the NDJSON records in data with start < ts <= end, honouring `limit` and
// `order=desc` when told to, as a Prediction Log API would.
func rangeServer(t *testing.T, data []byte, honourLimit, honourOrder bool) http.HandlerFunc {
	type rec struct {
		ts   time.Time
		line string
	}
	var recs []rec
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var r struct {
			TS time.Time `json:"ts"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec{r.TS, line})
	}
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		start, _ := time.Parse(time.RFC3339Nano, q.Get("start"))
		end, _ := time.Parse(time.RFC3339Nano, q.Get("end"))
		var out []string
		for _, x := range recs {
			if x.ts.After(start) && !x.ts.After(end) {
				out = append(out, x.line)
			}
		}
		if honourOrder && q.Get("order") == "desc" {
			slices.Reverse(out)
		}
		if n, _ := strconv.Atoi(q.Get("limit")); honourLimit && n > 0 && n < len(out) {
			out = out[:n]
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Write([]byte(strings.Join(out, "")))
	}
}

func TestRecordsEmptyRangeMakesNoRequest(t *testing.T) {
	f := newFakeLog(t, nil)
	c := f.client(Options{})
	req := window
	req.End = req.Start
	b, err := c.Records(context.Background(), req)
	if err != nil || b.Len() != 0 || len(b.FeatureNames) != 4 {
		t.Fatalf("b = %+v, err = %v", b, err)
	}
	if n := f.requests.Load(); n != 1 { // /models only
		t.Errorf("%d requests, want 1", n)
	}
	if _, err := c.Records(context.Background(), source.RecordsRequest{}); err == nil {
		t.Error("a request without a model was accepted")
	}
	req.Limit = -1
	if _, err := c.Records(context.Background(), req); err == nil {
		t.Error("a negative limit was accepted")
	}
}

func TestUnknownModel(t *testing.T) {
	f := newFakeLog(t, nil)
	c := f.client(Options{})
	req := window
	req.Model = "nosuch"
	_, err := c.Records(context.Background(), req)
	if !errors.Is(err, source.ErrUnknownModel) || !backend.IsDownstreamError(err) {
		t.Fatalf("err = %v", err)
	}
	// A model missing from a cached list makes the client look again once.
	if n := f.models.Load(); n != 1 {
		t.Errorf("/models fetched %d times, want 1 (fresh list)", n)
	}
	_, err = c.Records(context.Background(), req)
	if !errors.Is(err, source.ErrUnknownModel) {
		t.Fatalf("err = %v", err)
	}
	if n := f.models.Load(); n != 2 {
		t.Errorf("/models fetched %d times, want 2 (cached list refreshed once)", n)
	}
}

func TestHTTPErrors(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		body     []byte
		wantIs   error
		contains []string
	}{
		{"401", 401, fixture(t, "error_401.json"), nil, []string{"401 Unauthorized", "invalid bearer token", "check the prediction log token"}},
		{"404 unknown model", 404, fixture(t, "error_404.json"), source.ErrUnknownModel, []string{"404 Not Found", `model "nosuch" not found`}},
		{"500 html", 500, fixture(t, "error_500.html"), nil, []string{"500 Internal Server Error: 500 Internal Server Error"}},
		{"503 echoing the token", 503, []byte(`{"error":"token ` + testToken + ` is not allowed"}`), nil, []string{"503 Service Unavailable", "token [redacted] is not allowed"}},
		{"502 empty", 502, nil, nil, []string{"502 Bad Gateway"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeLog(t, map[string]http.HandlerFunc{
				"/api/v1/records": func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(tc.status)
					w.Write(tc.body)
				},
			})
			_, err := f.client(Options{}).Records(context.Background(), window)
			if err == nil {
				t.Fatal("no error")
			}
			checkNoToken(t, err)
			if !backend.IsDownstreamError(err) {
				t.Errorf("not a downstream error: %v", err)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.wantIs)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("err = %q, want it to contain %q", err, s)
				}
			}
			if len(err.Error()) > 400 {
				t.Errorf("error message too long (%d bytes)", len(err.Error()))
			}
		})
	}
}

func TestWrongTokenIsReportedWithoutIt(t *testing.T) {
	f := newFakeLog(t, nil)
	c, err := New(f.srv.Client(), Options{BaseURL: f.srv.URL + "/api/v1", Token: "wrong-" + testToken})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Models(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v", err)
	}
	// The fake echoes the Authorization header it got; the client must hide it.
	if strings.Contains(err.Error(), "wrong-"+testToken) || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("err = %q", err)
	}
}

func TestTimeouts(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	f := newFakeLog(t, map[string]http.HandlerFunc{
		// No response headers before the client gives up.
		"/api/v1/records": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		},
		// Headers and one record, then silence.
		"/api/v1/reference": func(w http.ResponseWriter, r *http.Request) {
			w.Write(fixture(t, "reference_churn.ndjson")[:100])
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-release:
			}
		},
	})
	c := f.client(Options{})
	if _, err := c.Models(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func(ctx context.Context) error{
		"slow headers": func(ctx context.Context) error { _, err := c.Records(ctx, window); return err },
		"stalled body": func(ctx context.Context) error { _, err := c.Reference(ctx, "churn", ""); return err },
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			err := call(ctx)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, context.DeadlineExceeded) || !backend.IsDownstreamError(err) || !strings.Contains(err.Error(), "timed out") {
				t.Errorf("err = %v", err)
			}
			checkNoToken(t, err)
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := c.Records(ctx, window)
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "cancelled") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestBodyProblems(t *testing.T) {
	records := fixture(t, "records_churn.ndjson")
	cases := []struct {
		name     string
		h        http.HandlerFunc
		max      int64
		contains []string
	}{
		{"truncated line", serve(fixture(t, "truncated.ndjson"), "application/x-ndjson"), 0, []string{"GET /records: line 2:", "truncated"}},
		{"garbage", serve(fixture(t, "garbage.ndjson"), "application/x-ndjson"), 0, []string{"line 3:", "must be a JSON object"}},
		{"oversized, with Content-Length", serve(records, "application/x-ndjson"), 300, []string{"response larger than 300 bytes"}},
		{"oversized, chunked", func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < 3; i++ {
				w.Write(records)
				w.(http.Flusher).Flush()
			}
		}, 1000, []string{"response larger than 1000 bytes"}},
		{"connection cut short", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(records)+500))
			w.Write(records)
		}, 0, []string{"ended early"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeLog(t, map[string]http.HandlerFunc{"/api/v1/records": tc.h})
			c := f.client(Options{})
			if _, err := c.Models(context.Background()); err != nil {
				t.Fatal(err)
			}
			c.maxBody = tc.max
			_, err := c.Records(context.Background(), window)
			if err == nil {
				t.Fatal("no error")
			}
			if !backend.IsDownstreamError(err) {
				t.Errorf("not a downstream error: %v", err)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("err = %q, want it to contain %q", err, s)
				}
			}
			checkNoToken(t, err)
		})
	}
}

func TestReference(t *testing.T) {
	var query string
	refs := map[string][]byte{
		"churn": fixture(t, "reference_churn.ndjson"),
		"fraud": []byte(`{"ts":"2026-09-01T00:00:00Z","model":"fraud","features":{"amount":3}}` + "\n"),
	}
	f := newFakeLog(t, map[string]http.HandlerFunc{
		"/api/v1/reference": func(w http.ResponseWriter, r *http.Request) {
			query = r.URL.RawQuery
			if r.Header.Get("Accept") != "application/x-ndjson" {
				t.Errorf("Accept = %q", r.Header.Get("Accept"))
			}
			body, ok := refs[r.URL.Query().Get("model")]
			if !ok || r.URL.Query().Get("version") == "v2" {
				w.WriteHeader(404)
				w.Write([]byte(`{"error":"no reference for this model"}`))
				return
			}
			w.Write(body)
		},
	})
	c := f.client(Options{})
	b, err := c.Reference(context.Background(), "churn", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if query != "model=churn&version=v1" {
		t.Errorf("query = %s", query)
	}
	// The reference is not windowed: September records are kept.
	if b.Len() != 3 {
		t.Fatalf("len = %d", b.Len())
	}
	eqFloats(t, "monthly_spend", b.Features["monthly_spend"].Num, []float64{40, 80.5, math.NaN()})
	eqStrings(t, "label", cats(b.Label), []string{"stay", "stay", "churn"})

	// A one-row sample is answered as it is (the query layer decides); a 404 is ErrNoReference.
	if b, err = c.Reference(context.Background(), "fraud", ""); err != nil || b.Len() != 1 {
		t.Errorf("fraud: %v", err)
	}
	_, err = c.Reference(context.Background(), "churn", "v2")
	if !errors.Is(err, source.ErrNoReference) || !backend.IsDownstreamError(err) {
		t.Errorf("churn v2: err = %v, want ErrNoReference", err)
	}
	if _, err = c.Reference(context.Background(), "nosuch", ""); !errors.Is(err, source.ErrUnknownModel) {
		t.Errorf("unknown model: err = %v", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(nil, Options{BaseURL: url, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Models(context.Background())
	if err == nil || !backend.IsDownstreamError(err) {
		t.Fatalf("err = %v", err)
	}
	checkNoToken(t, err)
}

func TestPrintable(t *testing.T) {
	cases := map[string]string{
		"  a\n\tb  \r\n c ":      "a b c",
		"x\x00y\x7fz":            "xyz",
		strings.Repeat("é", 300): strings.Repeat("é", 200) + "…",
	}
	for in, want := range cases {
		if got := upstream.Printable(in, 200); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBodyAtTheLimit(t *testing.T) {
	records := fixture(t, "records_churn.ndjson")
	for _, chunked := range []bool{false, true} {
		f := newFakeLog(t, map[string]http.HandlerFunc{"/api/v1/records": func(w http.ResponseWriter, r *http.Request) {
			w.Write(records[:10])
			if chunked {
				w.(http.Flusher).Flush() // no Content-Length
			}
			w.Write(records[10:])
		}})
		c := f.client(Options{})
		if _, err := c.Models(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.maxBody = int64(len(records))
		if b, err := c.Records(context.Background(), window); err != nil || b.Len() != 4 {
			t.Errorf("chunked %v: a body of exactly the limit: %v", chunked, err)
		}
		c.maxBody = int64(len(records)) - 1
		if _, err := c.Records(context.Background(), window); err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("chunked %v: one byte over the limit: %v", chunked, err)
		}
	}
}

func TestConcurrentRecords(t *testing.T) {
	data := genRecords(2000, window.Start.Add(time.Millisecond), 9)
	f := newFakeLog(t, map[string]http.HandlerFunc{
		"/api/v1/models":  serve([]byte(`{"models":[`+modelJSON(benchModel)+`]}`), "application/json"),
		"/api/v1/records": rangeServer(t, data, true, true),
	})
	c := f.client(Options{})
	var wg sync.WaitGroup
	lens := make([]int, 8)
	for i := range lens {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req := window
			req.Model = "churn"
			req.Limit = 100 * (i + 1)
			b, err := c.Records(context.Background(), req)
			if err != nil {
				t.Error(err)
				return
			}
			lens[i] = b.Len()
		}(i)
	}
	wg.Wait()
	for i, n := range lens {
		if n != 100*(i+1) {
			t.Errorf("request %d got %d records", i, n)
		}
	}
}

func modelJSON(m source.Model) string {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestModelsFetchedOnceUnderConcurrency(t *testing.T) {
	body := fixture(t, "models.json")
	f := newFakeLog(t, map[string]http.HandlerFunc{"/api/v1/models": func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
		w.Write(body)
	}})
	c := f.client(Options{})
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ms, err := c.Models(context.Background()); err != nil || len(ms) != 2 {
				t.Errorf("Models = %d, %v", len(ms), err)
			}
		}()
	}
	wg.Wait()
	if n := f.models.Load(); n != 1 {
		t.Errorf("/models fetched %d times by 20 concurrent callers, want 1", n)
	}
	// A caller that gives up does not spoil the fetch for the others.
	c = f.client(Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	errc := make(chan error, 1)
	go func() { _, err := c.Models(ctx); errc <- err }()
	time.Sleep(2 * time.Millisecond)
	ms, err := c.Models(context.Background())
	if err != nil || len(ms) != 2 {
		t.Errorf("patient caller: %d, %v", len(ms), err)
	}
	if err := <-errc; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("impatient caller: %v", err)
	}
}

// A record whose "ts" or "model" echoes the token, cut in the line excerpt of the error at every
// position: no piece of the token of limits.SecretPrefix characters reaches the error.
func TestLineExcerptsHideTheToken(t *testing.T) {
	for pad := 0; pad <= 70; pad++ {
		for _, field := range []string{"ts", "model"} {
			line := fmt.Sprintf(`{%q:%q}`+"\n", field, strings.Repeat("x", pad)+"Bearer "+testToken)
			f := newFakeLog(t, map[string]http.HandlerFunc{"/api/v1/records": serve([]byte(line), "application/x-ndjson")})
			_, err := f.client(Options{}).Records(context.Background(), window)
			if err == nil {
				t.Fatalf("pad %d %s: no error", pad, field)
			}
			for i := 0; i+limits.SecretPrefix <= len(testToken); i++ {
				if p := testToken[i : i+limits.SecretPrefix]; strings.Contains(err.Error(), p) {
					t.Fatalf("pad %d %s: %q of the token in %q", pad, field, p, err)
				}
			}
		}
	}
}
