package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// newTestServer serves the default fleet with the clock at now and a 6 h backfill.
func newTestServer(t *testing.T, now time.Time) (*Server, *httptest.Server, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: now}
	s := NewServer(NewFleet(DefaultSeed), ServerOptions{Clock: clock.Now, Backfill: 6 * time.Hour})
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs, clock
}

func get(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// wantError checks an error response: the status and a JSON body {"error": "..."} mentioning msg.
func wantError(t *testing.T, what string, resp *http.Response, body []byte, status int, msg string) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d (body %s)", what, resp.StatusCode, status, body)
		return
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
		t.Errorf("%s: body %s is not a JSON error", what, body)
		return
	}
	if !strings.Contains(e.Error, msg) {
		t.Errorf("%s: error %q does not mention %q", what, e.Error, msg)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: content type %q", what, ct)
	}
}

func recordsURL(base string, params map[string]string) string {
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	return base + "/api/v1/records?" + q.Encode()
}

// ndjson decodes every line of an NDJSON body strictly as a DESIGN §6 record.
func ndjson(t *testing.T, body []byte) []wireRecord {
	t.Helper()
	var out []wireRecord
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, decodeStrict(t, sc.Bytes()))
	}
	return out
}

func TestServerModels(t *testing.T) {
	_, hs, _ := newTestServer(t, at(12, 0))
	resp, body := get(t, hs.URL+"/api/v1/models")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var got struct {
		Models []source.Model `json:"models"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want, _ := NewFleet(DefaultSeed).Models(context.Background())
	if len(got.Models) != len(want) {
		t.Fatalf("%d models, want %d", len(got.Models), len(want))
	}
	// Feature importances are served (optional in the API).
	if w := got.Models[0].Features[0].Importance; w == nil || *w != 0.35 {
		t.Errorf("fraud-detector/amount importance %v, want 0.35", w)
	}
	for i := range want {
		g, w := got.Models[i], want[i]
		if g.Name != w.Name || strings.Join(g.Versions, ",") != strings.Join(w.Versions, ",") || g.Prediction != w.Prediction || len(g.Features) != len(w.Features) {
			t.Errorf("model %d: %+v, want %+v", i, g, w)
		}
		for j := range w.Features {
			if !reflect.DeepEqual(g.Features[j], w.Features[j]) {
				t.Errorf("%s feature %d: %+v, want %+v", w.Name, j, g.Features[j], w.Features[j])
			}
		}
	}
}

func TestServerRecords(t *testing.T) {
	now := at(12, 0)
	_, hs, _ := newTestServer(t, now)
	f := NewFleet(DefaultSeed)
	start, end := at(11, 0), at(11, 30)
	resp, body := get(t, recordsURL(hs.URL, map[string]string{"model": "fraud-detector", "start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339Nano)}))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("status %d, content type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if tr := resp.Trailer.Get(TruncatedTrailer); tr != "false" {
		t.Errorf("trailer %s = %q, want false", TruncatedTrailer, tr)
	}
	lines := ndjson(t, body)
	want := records(t, f, "fraud-detector", "", start, end)
	if len(lines) != want.Len() || len(body) < 2*flushBytes {
		t.Fatalf("%d lines (%d bytes), the fleet has %d records; want equal, over several flushes", len(lines), len(body), want.Len())
	}
	for i, l := range lines {
		ts, err := time.Parse(time.RFC3339Nano, l.TS)
		if err != nil || ts.UnixNano() != want.TS[i] || l.Model != "fraud-detector" || l.Version != want.Versions[want.Version[i]] {
			t.Fatalf("line %d: %+v, want ts %d", i, l, want.TS[i])
		}
		if *l.LatencyMs != want.LatencyMs[i] || (l.Status == StatusError) != want.Error[i] {
			t.Fatalf("line %d: latency %v status %s, want %v %v", i, *l.LatencyMs, l.Status, want.LatencyMs[i], want.Error[i])
		}
		if a := l.Features["amount"]; a != want.Features["amount"].Num[i] {
			t.Fatalf("line %d: amount %v, want %v", i, a, want.Features["amount"].Num[i])
		}
	}

	// Version and limit.
	resp, body = get(t, recordsURL(hs.URL, map[string]string{"model": "fraud-detector", "version": "v2", "start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339), "limit": "25"}))
	lines = ndjson(t, body)
	if resp.StatusCode != 200 || len(lines) != 25 || resp.Trailer.Get(TruncatedTrailer) != "true" {
		t.Fatalf("limit 25: status %d, %d lines, trailer %q", resp.StatusCode, len(lines), resp.Trailer.Get(TruncatedTrailer))
	}
	v2 := records(t, f, "fraud-detector", "v2", start, end)
	for i, l := range lines {
		if l.Version != "v2" || l.TS != time.Unix(0, v2.TS[i]).UTC().Format(time.RFC3339Nano) {
			t.Fatalf("line %d: %s %s", i, l.Version, l.TS)
		}
	}
	// Newest first (order=desc): the last records of the range, descending.
	resp, body = get(t, recordsURL(hs.URL, map[string]string{"model": "fraud-detector", "version": "v2", "start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339), "limit": "25", "order": "desc"}))
	lines = ndjson(t, body)
	if resp.StatusCode != 200 || len(lines) != 25 || resp.Trailer.Get(TruncatedTrailer) != "true" {
		t.Fatalf("desc limit 25: status %d, %d lines, trailer %q", resp.StatusCode, len(lines), resp.Trailer.Get(TruncatedTrailer))
	}
	for i, l := range lines {
		k := v2.Len() - 1 - i
		if l.Version != "v2" || l.TS != time.Unix(0, v2.TS[k]).UTC().Format(time.RFC3339Nano) {
			t.Fatalf("desc line %d: %s %s, want %s", i, l.Version, l.TS, time.Unix(0, v2.TS[k]).UTC().Format(time.RFC3339Nano))
		}
	}
	// Without a limit, desc is the whole range reversed.
	resp, body = get(t, recordsURL(hs.URL, map[string]string{"model": "fraud-detector", "version": "v2", "start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339), "order": "desc"}))
	lines = ndjson(t, body)
	if resp.StatusCode != 200 || len(lines) != v2.Len() || resp.Trailer.Get(TruncatedTrailer) != "false" {
		t.Fatalf("desc: status %d, %d lines of %d", resp.StatusCode, len(lines), v2.Len())
	}
	for i, l := range lines {
		if l.TS != time.Unix(0, v2.TS[v2.Len()-1-i]).UTC().Format(time.RFC3339Nano) {
			t.Fatalf("desc line %d: %s", i, l.TS)
		}
	}
	resp, _ = get(t, recordsURL(hs.URL, map[string]string{"model": "fraud-detector", "start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339), "order": "newest"}))
	if resp.StatusCode != 400 {
		t.Errorf("order=newest: status %d, want 400", resp.StatusCode)
	}
}

func TestServerRecordsWindow(t *testing.T) {
	now := at(12, 0).Add(500 * time.Millisecond)
	_, hs, clock := newTestServer(t, now)
	// A range reaching into the future stops at now; one starting before the backfill starts there.
	resp, body := get(t, recordsURL(hs.URL, map[string]string{"model": "price-regressor", "start": at(5, 0).Format(time.RFC3339), "end": at(13, 0).Format(time.RFC3339)}))
	lines := ndjson(t, body)
	if resp.StatusCode != 200 || len(lines) == 0 {
		t.Fatalf("status %d, %d lines", resp.StatusCode, len(lines))
	}
	first, _ := time.Parse(time.RFC3339Nano, lines[0].TS)
	last, _ := time.Parse(time.RFC3339Nano, lines[len(lines)-1].TS)
	if !first.After(now.Add(-6*time.Hour)) || first.After(now.Add(-6*time.Hour).Add(10*time.Second)) {
		t.Errorf("first record at %s, want just after now−backfill %s", first, now.Add(-6*time.Hour))
	}
	if last.After(now) || last.Before(now.Add(-10*time.Second)) {
		t.Errorf("last record at %s, want just before now %s", last, now)
	}
	want := records(t, NewFleet(DefaultSeed), "price-regressor", "", now.Add(-6*time.Hour), now)
	if len(lines) != want.Len() {
		t.Errorf("%d lines, want %d", len(lines), want.Len())
	}
	// Zone offsets, also with an unencoded "+" (a space once decoded), name the same instants.
	raw := hs.URL + "/api/v1/records?model=price-regressor&start=" + at(10, 0).In(time.FixedZone("", 3600)).Format(time.RFC3339) +
		"&end=" + at(10, 1).In(time.FixedZone("", -7200)).Format(time.RFC3339)
	resp, body = get(t, raw)
	if n, want := len(ndjson(t, body)), records(t, NewFleet(DefaultSeed), "price-regressor", "", at(10, 0), at(10, 1)).Len(); resp.StatusCode != 200 || n != want {
		t.Errorf("%s: status %d, %d lines, want %d", raw, resp.StatusCode, n, want)
	}
	// Entirely in the future or before the backfill: empty, not an error.
	for _, r := range [][2]time.Time{{at(13, 0), at(14, 0)}, {at(1, 0), at(2, 0)}} {
		resp, body := get(t, recordsURL(hs.URL, map[string]string{"model": "price-regressor", "start": r[0].Format(time.RFC3339), "end": r[1].Format(time.RFC3339)}))
		if resp.StatusCode != 200 || len(body) != 0 {
			t.Errorf("range %v: status %d, %d bytes", r, resp.StatusCode, len(body))
		}
	}
	// As the clock moves, new records appear.
	clock.Set(now.Add(time.Minute))
	_, body = get(t, recordsURL(hs.URL, map[string]string{"model": "price-regressor", "start": now.Format(time.RFC3339Nano), "end": at(13, 0).Format(time.RFC3339)}))
	if n := len(ndjson(t, body)); n < 60 {
		t.Errorf("%d records in the minute after the clock moved", n)
	}
}

func TestServerRecordsBadParams(t *testing.T) {
	_, hs, _ := newTestServer(t, at(12, 0))
	s, e := at(11, 0).Format(time.RFC3339), at(11, 5).Format(time.RFC3339)
	cases := []struct {
		params map[string]string
		status int
		msg    string
	}{
		{map[string]string{"start": s, "end": e}, 400, "missing parameter model"},
		{map[string]string{"model": "fraud-detector", "end": e}, 400, "missing parameter start"},
		{map[string]string{"model": "fraud-detector", "start": s}, 400, "missing parameter end"},
		{map[string]string{"model": "fraud-detector", "start": "yesterday", "end": e}, 400, `"yesterday" is not an RFC3339 time`},
		{map[string]string{"model": "fraud-detector", "start": s, "end": "1700000000"}, 400, "parameter end"},
		{map[string]string{"model": "fraud-detector", "start": e, "end": s}, 400, "before start"},
		{map[string]string{"model": "fraud-detector", "start": s, "end": e, "limit": "0"}, 400, "positive integer"},
		{map[string]string{"model": "fraud-detector", "start": s, "end": e, "limit": "ten"}, 400, "positive integer"},
		{map[string]string{"model": "nope", "start": s, "end": e}, 404, "unknown model"},
		{map[string]string{"model": "fraud-detector", "version": "v9", "start": s, "end": e}, 404, `no version "v9"`},
	}
	for _, c := range cases {
		resp, body := get(t, recordsURL(hs.URL, c.params))
		wantError(t, recordsURL("", c.params), resp, body, c.status, c.msg)
	}
}

func TestServerReference(t *testing.T) {
	_, hs, _ := newTestServer(t, at(12, 0))
	resp, body := get(t, hs.URL+"/api/v1/reference?model=churn-classifier")
	lines := ndjson(t, body)
	if resp.StatusCode != 200 || len(lines) != ReferenceSize || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("status %d, %d lines", resp.StatusCode, len(lines))
	}
	ref, _ := NewFleet(DefaultSeed).Reference(context.Background(), "churn-classifier", "")
	for i, l := range lines {
		if l.LatencyMs != nil || l.Status != StatusOK || l.Label == nil || l.Prediction != ref.Prediction.Dict[ref.Prediction.Cat[i]] {
			t.Fatalf("line %d: %+v", i, l)
		}
	}
	_, body = get(t, hs.URL+"/api/v1/reference?model=fraud-detector&version=v1")
	for _, l := range ndjson(t, body) {
		if l.Version != "v1" {
			t.Fatalf("version %q in the v1 reference", l.Version)
		}
	}
	resp, body = get(t, hs.URL+"/api/v1/reference")
	wantError(t, "reference without model", resp, body, 400, "missing parameter model")
	resp, body = get(t, hs.URL+"/api/v1/reference?model=nope")
	wantError(t, "reference of an unknown model", resp, body, 404, "unknown model")
	resp, body = get(t, hs.URL+"/api/v1/reference?model=fraud-detector&version=v3")
	wantError(t, "reference of an unknown version", resp, body, 404, "v3")
}

func TestServerIndexAndUnknownRoutes(t *testing.T) {
	_, hs, _ := newTestServer(t, at(12, 0))
	resp, body := get(t, hs.URL+"/")
	var idx map[string]any
	if err := json.Unmarshal(body, &idx); err != nil || resp.StatusCode != 200 || idx["predictionLog"] != "/api/v1" || idx["seed"] != float64(DefaultSeed) {
		t.Errorf("index: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, hs.URL+"/api/v2/models")
	wantError(t, "unknown route", resp, body, 404, "no route")
	r, err := http.Post(hs.URL+"/api/v1/models", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(r.Body)
	r.Body.Close()
	wantError(t, "POST /api/v1/models", r, body, http.StatusMethodNotAllowed, "not allowed")
	if !strings.Contains(r.Header.Get("Allow"), "GET") {
		t.Errorf("Allow header %q", r.Header.Get("Allow"))
	}
}

// TestServerRecordsClientGone checks that a client closing a large stream early stops the handler.
func TestServerRecordsClientGone(t *testing.T) {
	clock := &fakeClock{t: at(23, 59)}
	s := NewServer(NewFleet(DefaultSeed), ServerOptions{Clock: clock.Now})
	done := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeHTTP(w, r)
		close(done)
	}))
	defer hs.Close()
	resp, err := http.Get(recordsURL(hs.URL, map[string]string{"model": "fraud-detector", "start": at(0, 0).Format(time.RFC3339), "end": at(23, 59).Format(time.RFC3339)}))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the handler kept streaming after the client left")
	}
}
