package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// gateLog answers Records only once `want` fetches are in flight at the same time (or fails with
// its context), counting the most it saw at once.
type gateLog struct {
	fakeLog
	want int

	mu      sync.Mutex
	now     int
	most    int
	arrived chan struct{}
}

func newGateLog(want int) *gateLog {
	g := &gateLog{want: want, arrived: make(chan struct{})}
	g.models = []source.Model{iris}
	g.recs = map[string][]rec{"iris": {{ts: t0.Add(time.Minute), latency: 1, pred: "a"}}}
	return g
}

func (g *gateLog) Records(ctx context.Context, req source.RecordsRequest) (*source.Batch, error) {
	g.mu.Lock()
	g.now++
	g.most = max(g.most, g.now)
	if g.now == g.want {
		close(g.arrived)
	}
	g.mu.Unlock()
	defer func() { g.mu.Lock(); g.now--; g.mu.Unlock() }()
	select {
	case <-g.arrived:
		return g.fakeLog.Records(ctx, req)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func dq(refID string, q map[string]any) backend.DataQuery {
	b, _ := json.Marshal(q)
	qt, _ := q["queryType"].(string)
	return backend.DataQuery{RefID: refID, QueryType: qt, JSON: b, Interval: time.Minute, MaxDataPoints: 100,
		TimeRange: backend.TimeRange{From: t0, To: t0.Add(time.Hour)}}
}

// TestQueryTypesRunConcurrently: three query types of one request are answered side by side
// through their own mux handlers; one after another, each would wait for the others until its
// deadline (the gate opens only when three fetches are in flight).
func TestQueryTypesRunConcurrently(t *testing.T) {
	g := newGateLog(3)
	h := New(Deps{PredictionLog: g, Timeout: 5 * time.Second})
	resp, err := h.Mux().QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{
		dq("A", map[string]any{"queryType": "traffic", "model": "iris"}),
		dq("B", map[string]any{"queryType": "latency", "model": "iris"}),
		dq("C", map[string]any{"queryType": "predictions", "model": "iris"}),
	}})
	require.NoError(t, err)
	for _, id := range []string{"A", "B", "C"} {
		requireOK(t, resp.Responses[id])
	}
	require.Equal(t, 3, g.most)
}

// TestBudgetBusy: with a budget of one query, a second query waits for the slot until its
// deadline and then fails with a busy error (status 429), while the first times out upstream.
func TestBudgetBusy(t *testing.T) {
	g := newGateLog(2) // never opens: the budget lets one fetch in at a time
	h := New(Deps{PredictionLog: g, Timeout: 300 * time.Millisecond, MaxConcurrentQueries: 1})
	mux := h.Mux()
	var wg sync.WaitGroup
	resps := make([]backend.DataResponse, 2)
	for i := range resps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := mux.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{
				dq("A", map[string]any{"queryType": "traffic", "model": "iris"})}})
			require.NoError(t, err)
			resps[i] = r.Responses["A"]
		}()
	}
	wg.Wait()
	require.Equal(t, 1, g.most, "one query computes at a time")
	var busy, timedOut int
	for _, r := range resps {
		require.Error(t, r.Error)
		var be *BusyError
		switch {
		case errors.As(r.Error, &be):
			busy++
			// Either it never got the slot, or it got it as the first query timed out, with no time left.
			require.Regexp(t, `^busy: 1 queries computing, retry($| \(this query waited \d+ms for its turn, then ran out of time\))`, r.Error.Error())
			require.Equal(t, backend.StatusTooManyRequests, r.Status)
			require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
		case errors.Is(r.Error, context.DeadlineExceeded):
			timedOut++
		}
	}
	require.Equal(t, 1, busy)
	require.Equal(t, 1, timedOut)
}

// TestQueryTypeMismatch: a query routed by its DataQuery type must not say another type in its JSON.
func TestQueryTypeMismatch(t *testing.T) {
	h := New(Deps{PredictionLog: newGateLog(1)})
	q := dq("A", map[string]any{"queryType": "latency", "model": "iris"})
	q.QueryType = "traffic"
	resp, err := h.Mux().QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{q}})
	require.NoError(t, err)
	require.ErrorContains(t, resp.Responses["A"].Error, `the query's queryType "latency" differs from the request's query type "traffic"`)
}

func TestPerModelLimit(t *testing.T) {
	for _, c := range []struct{ maxSamples, n, want int }{
		{1_000_000, 1, 1_000_000},
		{1_000_000, 3, 666_666},
		{1_000_000, 100, limits.MaxQueryRecords / 100},
		{100, 3, 100},
		{5_000_000, 2, 2_500_000},
		{0, 1, 0},
		{0, 4, limits.MaxQueryRecords / 4},
	} {
		require.Equal(t, c.want, perModelLimit(c.maxSamples, c.n), fmt.Sprint(c))
	}
}

// TestManyModelsAndVersionsCapped: over every model, at most limits.MaxModels models are fetched
// (in parallel batches) with a notice; version "*" keeps limits.MaxVersions versions with a notice.
func TestManyModelsAndVersionsCapped(t *testing.T) {
	fl := &fakeLog{recs: map[string][]rec{}}
	for i := 0; i < limits.MaxModels+50; i++ {
		m := source.Model{Name: fmt.Sprintf("m%04d", i), Prediction: source.Output{Type: source.Numeric}}
		fl.models = append(fl.models, m)
	}
	h := New(Deps{PredictionLog: fl})
	r := run(h, map[string]any{"queryType": "traffic", "model": "*", "output": "latest"}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	require.Len(t, fl.requests, limits.MaxModels)
	require.Contains(t, notices(r.Frames), fmt.Sprintf("lists %d models: only the first %d by name (m0000 … m0099)", limits.MaxModels+50, limits.MaxModels))

	var recs []rec
	for v := 0; v < limits.MaxVersions+5; v++ {
		for k := 0; k <= v; k++ { // version v has v+1 records: the last MaxVersions are kept
			recs = append(recs, rec{ts: t0.Add(time.Duration(k+1) * time.Second), version: fmt.Sprintf("v%02d", v), latency: 1})
		}
	}
	fl2 := &fakeLog{models: []source.Model{{Name: "one", Prediction: source.Output{Type: source.Numeric}}}, recs: map[string][]rec{"one": sortRecs(recs)}}
	h = New(Deps{PredictionLog: fl2})
	r = run(h, map[string]any{"queryType": "traffic", "model": "one", "version": "*", "output": "latest"}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	series := byLabels(t, r.Frames)
	require.Len(t, series, limits.MaxVersions)
	require.Contains(t, series, "metric=rate, model=one, version=v24")
	require.NotContains(t, series, "metric=rate, model=one, version=v04")
	require.Contains(t, notices(r.Frames), fmt.Sprintf("one: the records have %d versions: only the %d with the most records are shown", limits.MaxVersions+5, limits.MaxVersions))
}

func sortRecs(rs []rec) []rec {
	out := append([]rec(nil), rs...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ts.Before(out[j-1].ts); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
