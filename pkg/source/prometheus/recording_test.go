package prometheus

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testutil"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// The recordings in testdata/recordings are real answers of Prometheus 2.42 (Debian) over a TSDB
// backfilled (promtool tsdb create-blocks-from openmetrics) with 30 minutes of 15 s scrapes of the
// seven servers' metrics, each with the names and labels the server documents (see presets.go),
// written by testdata/backfill.py (its header gives the steps).
// `go test ./pkg/source/prometheus -record=http://127.0.0.1:9090` re-records them from such a
// server; UPDATE_GOLDEN=1 (the repository's one update switch) rewrites the golden results in
// testdata/golden.
var recordFrom = flag.String("record", "", "record Prometheus answers from this URL into testdata/recordings")

// Fixed times of the recorded data: scrapes every 15 s from 2026-11-21T01:00:00Z to 01:30:00Z.
var (
	recT0    = time.Unix(1795222800, 0).UTC()
	recStart = recT0.Add(10 * time.Minute)
	recEnd   = recT0.Add(25 * time.Minute)
	recNow   = recT0.Add(30 * time.Minute)
)

type exchange struct {
	Path   string     `json:"path"`
	Form   url.Values `json:"form"`
	Status int        `json:"status"`
	Body   string     `json:"body"`
}

type recording struct {
	mu        sync.Mutex
	Exchanges []exchange `json:"exchanges"`
}

func exchangeKey(path string, form url.Values) string { return path + "?" + form.Encode() }

// fakeVersion, when set, replaces the version in /api/v1/status/buildinfo answers (to record the
// path where Prometheus computes rates, as a server with other semantics would be used).
func recordingServer(t *testing.T, name, fakeVersion string) *httptest.Server {
	t.Helper()
	file := filepath.Join("testdata", "recordings", name+".json")
	rec := &recording{}
	if *recordFrom == "" {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("no recording %s (record with -record=<prometheus url>): %v", file, err)
		}
		if err := json.Unmarshal(b, rec); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	byKey := map[string]exchange{}
	for _, e := range rec.Exchanges {
		byKey[exchangeKey(e.Path, e.Form)] = e
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		form := r.Form
		key := exchangeKey(r.URL.Path, form)
		if *recordFrom == "" {
			e, ok := byKey[key]
			if !ok {
				t.Errorf("request not in recording %s: %s", name, key)
				http.Error(w, "not recorded", 599)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(e.Status)
			io.WriteString(w, e.Body)
			return
		}
		target := strings.TrimRight(*recordFrom, "/") + r.URL.Path
		var resp *http.Response
		var err error
		if r.Method == http.MethodPost {
			resp, err = http.PostForm(target, form)
		} else {
			resp, err = http.Get(target + "?" + form.Encode())
		}
		if err != nil {
			t.Errorf("record: %v", err)
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if r.URL.Path == "/api/v1/status/buildinfo" && fakeVersion != "" {
			body = bytes.Replace(body, []byte(`"version":"2.42.0+ds"`), []byte(`"version":"`+fakeVersion+`"`), 1)
		}
		rec.mu.Lock()
		if _, dup := byKey[key]; !dup {
			byKey[key] = exchange{}
			rec.Exchanges = append(rec.Exchanges, exchange{Path: r.URL.Path, Form: form, Status: resp.StatusCode, Body: string(body)})
		}
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	}))
	t.Cleanup(func() {
		srv.Close()
		if *recordFrom != "" {
			sort.Slice(rec.Exchanges, func(i, j int) bool {
				return exchangeKey(rec.Exchanges[i].Path, rec.Exchanges[i].Form) < exchangeKey(rec.Exchanges[j].Path, rec.Exchanges[j].Form)
			})
			b, _ := json.MarshalIndent(rec, "", " ")
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
	return srv
}

// golden compares got (marshalled) with testdata/golden/<name>.json, or rewrites it with
// UPDATE_GOLDEN=1 (or while recording).
func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	file := filepath.Join("testdata", "golden", name+".json")
	if testutil.Update() || *recordFrom != "" {
		os.MkdirAll(filepath.Dir(file), 0o755)
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("no golden file %s (run with UPDATE_GOLDEN=1): %v", file, err)
	}
	if !bytes.Equal(want, b) {
		t.Errorf("%s differs from the golden file (run with UPDATE_GOLDEN=1 after checking):\n%s", file, firstDiff(string(want), string(b)))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d vs %d lines", len(al), len(bl))
}

// gSeries is a JSON-friendly Series: floats as strings so NaN and ±Inf survive.
type gSeries struct {
	Labels map[string]string `json:"labels"`
	Times  []string          `json:"times"`
	Values []string          `json:"values"`
	Lower  []string          `json:"lower,omitempty"`
	Upper  []string          `json:"upper,omitempty"`
}

type gResult struct {
	Error   string    `json:"error,omitempty"`
	Series  []gSeries `json:"series,omitempty"`
	Notices []string  `json:"notices,omitempty"`
	Query   string    `json:"query,omitempty"`
}

func fstr(v []float64) []string {
	if v == nil {
		return nil
	}
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return out
}

func gOf(res *source.SeriesResult, err error) gResult {
	if err != nil {
		return gResult{Error: err.Error()}
	}
	g := gResult{Notices: res.Notices, Query: res.Query}
	for _, s := range res.Series {
		gs := gSeries{Labels: s.Labels, Values: fstr(s.Values), Lower: fstr(s.Lower), Upper: fstr(s.Upper)}
		for _, t := range s.Times {
			gs.Times = append(gs.Times, t.UTC().Format(time.RFC3339))
		}
		g.Series = append(g.Series, gs)
	}
	return g
}

func testSource(t *testing.T, url string, cfg settings.Prometheus) *Source {
	t.Helper()
	cfg.URL = url
	s, err := New(&http.Client{Timeout: 10 * time.Second}, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return recNow }
	return s
}

func closeRel(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) || b == 0 {
		return a == b
	}
	return math.Abs(a-b) <= tol*math.Abs(b)
}
