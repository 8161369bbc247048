package pluginproto

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"
)

// Regression tests for issue 7's time-range, cancellation and input-size findings, through the
// built plugin over go-plugin with the embedded demo fleet.

// boundsBudgetMB is the peak resident memory the plugin may reach in these tests: an idle plugin
// holds ~30 MB, the 2262 queries ~600 MB (a million demo records per model); the runaway grid of
// issue 7 grew ~130 MB/s until the process died. 1 GiB is issue 7's default budget.
const boundsBudgetMB = 1024

func demoPC() backend.PluginContext {
	return pluginContext("bounds", map[string]any{"demo": true}, true)
}

// cpuSeconds is the plugin process's user + system CPU time (/proc/<pid>/stat utime, stime).
func (c *pluginClient) cpuSeconds(t *testing.T) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.pid))
	require.NoError(t, err)
	// Fields after the command name (which is in parentheses and may hold spaces).
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	var utime, stime float64
	_, err = fmt.Sscan(f[11], &utime) // field 14 of stat
	require.NoError(t, err)
	_, err = fmt.Sscan(f[12], &stime) // field 15
	require.NoError(t, err)
	return (utime + stime) / 100 // clock ticks (USER_HZ = 100 on Linux)
}

// TestTimeRangeAtTheEndOfTime is issue 7's query: to = 2262-04-11T23:47:16Z made the window grid
// overflow and loop forever, growing memory until the process died.
func TestTimeRangeAtTheEndOfTime(t *testing.T) {
	plug := startPlugin(t)
	pc := demoPC()
	to := time.Date(2262, 4, 11, 23, 47, 16, 0, time.UTC)
	for _, qt := range []string{"latency", "traffic", "predictions", "drift"} {
		start := time.Now()
		resp := plug.query(t, pc, nil, time.Now(), to, map[string]map[string]any{"A": {"queryType": qt}})
		r := resp.Responses["A"]
		t.Logf("%s: %v in %v", qt, r.Error, time.Since(start))
		if r.Error != nil {
			require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource, r.Error.Error())
		} else {
			for _, f := range r.Frames {
				if len(f.Fields) > 0 {
					require.LessOrEqual(t, f.Fields[0].Len(), 1001, qt)
				}
			}
		}
	}
	// Beyond the representable times: a clear error (the SDK's millisecond-to-time conversion wraps
	// such an end before the plugin sees it, so it arrives before the start).
	resp := plug.query(t, pc, nil, time.Now(), to.AddDate(100, 0, 0), map[string]map[string]any{"A": {"queryType": "latency"}})
	require.Error(t, resp.Responses["A"].Error)
	require.Equal(t, backend.StatusBadRequest, resp.Responses["A"].Status, resp.Responses["A"].Error.Error())
	peak := plug.peakRSSMB(t)
	t.Logf("peak RSS %.0f MiB", peak)
	require.Less(t, peak, float64(boundsBudgetMB))
}

// TestTooManyPercentiles: 8 requests with 1,000 percentiles each get a clear error at once.
func TestTooManyPercentiles(t *testing.T) {
	plug := startPlugin(t)
	pc := demoPC()
	ps := make([]float64, 1000)
	for i := range ps {
		ps[i] = float64(i+1) / 10
	}
	now := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp := plug.query(t, pc, nil, now.Add(-24*time.Hour), now, map[string]map[string]any{
				"A": {"queryType": "latency", "model": "*", "percentiles": ps}})
			errs[i] = resp.Responses["A"].Error
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		require.ErrorContains(t, err, "1000 percentiles asked for; at most 32 are accepted per query")
	}
	require.Less(t, plug.peakRSSMB(t), float64(boundsBudgetMB))
}

// TestNegativeThresholds are refused with the field named.
func TestNegativeThresholds(t *testing.T) {
	plug := startPlugin(t)
	now := time.Now()
	resp := plug.query(t, demoPC(), nil, now.Add(-time.Hour), now, map[string]map[string]any{
		"A": {"queryType": "drift", "thresholds": map[string]any{"psi": map[string]any{"warning": -1, "drift": -0.5}}},
		"B": {"queryType": "drift", "thresholds": map[string]any{"ks_pvalue": map[string]any{"warning": 0.1, "drift": -0.05}}},
	})
	require.ErrorContains(t, resp.Responses["A"].Error, "thresholds.psi.warning (-1) must be a finite number >= 0")
	require.ErrorContains(t, resp.Responses["B"].Error, "thresholds.ks_pvalue.drift (-0.05) must be a p-value in [0, 1]")
	require.Equal(t, backend.StatusBadRequest, resp.Responses["A"].Status)
}

// TestHugeModelName: a 5 MB model name is refused and quoted in the error only in part.
func TestHugeModelName(t *testing.T) {
	plug := startPlugin(t)
	now := time.Now()
	name := strings.Repeat("x", 5<<20)
	resp := plug.query(t, demoPC(), nil, now.Add(-time.Hour), now, map[string]map[string]any{
		"A": {"queryType": "latency", "model": name}})
	err := resp.Responses["A"].Error
	require.ErrorContains(t, err, `model "`+strings.Repeat("x", 64)+`"… is 5242880 bytes long; at most 256 are accepted`)
	require.Less(t, len(err.Error()), 300)
}

// cancelAfter is when the heavy queries are cancelled: once their records are fetched (a few
// seconds on a busy machine) and the windows are being computed (answering takes minutes).
var cancelAfter = 6 * time.Second

// TestCancelledQueryStopsComputing: heavy queries cancelled after a few seconds leave the plugin
// idle shortly after (its CPU time stops growing) instead of computing on.
func TestCancelledQueryStopsComputing(t *testing.T) {
	plug := startPlugin(t)
	pc := demoPC()
	now := time.Now()
	ps := make([]float64, 32)
	for i := range ps {
		ps[i] = float64(i+1) * 3
	}
	heavy := func() *backend.QueryDataRequest {
		req := &backend.QueryDataRequest{PluginContext: pc}
		for i, q := range []map[string]any{
			// 20,000 windows of a day each over a day: minutes of selections per query for a
			// plugin that does not stop, after a fetch of two days of records.
			{"queryType": "latency", "model": "*", "percentiles": ps, "window": "1d"},
			{"queryType": "predictions", "model": "*", "percentiles": ps, "window": "1d"},
		} {
			b, err := json.Marshal(q)
			require.NoError(t, err)
			req.Queries = append(req.Queries, backend.DataQuery{RefID: fmt.Sprint("Q", i), QueryType: q["queryType"].(string),
				JSON: b, Interval: time.Second, MaxDataPoints: 20000,
				TimeRange: backend.TimeRange{From: now.Add(-24 * time.Hour), To: now}})
		}
		return req
	}
	cpu0 := plug.cpuSeconds(t)
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), cancelAfter)
			defer cancel()
			_, _ = plug.data.QueryData(ctx, backend.ToProto().QueryDataRequest(heavy()))
		}()
	}
	wg.Wait()
	busy := plug.cpuSeconds(t) - cpu0
	// Let the cancellation reach every loop, then measure a quiet second.
	time.Sleep(2 * time.Second)
	c1 := plug.cpuSeconds(t)
	time.Sleep(time.Second)
	idle := plug.cpuSeconds(t) - c1
	t.Logf("CPU while the queries ran %.2fs; CPU in a second from 2 s after the cancellation %.2fs; RSS %.0f MiB (peak %.0f)", busy, idle, plug.rssMB(t), plug.peakRSSMB(t))
	require.Greater(t, busy, 0.3, "the queries should have been computing when cancelled")
	require.Less(t, idle, 0.15, "the plugin keeps computing cancelled queries")
}
