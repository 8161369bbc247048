package query

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// TestGridAtTheEndOfTime is the range of issue 7 (to = 2262-04-11T23:47:16Z, Grafana's largest
// date): the grid loop used to overflow int64 nanoseconds and never end.
func TestGridAtTheEndOfTime(t *testing.T) {
	to := time.Date(2262, 4, 11, 23, 47, 16, 0, time.UTC)
	g, err := newGrid(backend.DataQuery{Interval: time.Minute, MaxDataPoints: 1000,
		TimeRange: backend.TimeRange{From: t0, To: to}}, "", false)
	require.NoError(t, err)
	require.LessOrEqual(t, len(g.times), 1001)
	require.False(t, g.times[len(g.times)-1].After(to))
	// The whole representable range, in one point per step.
	g, err = newGrid(backend.DataQuery{Interval: time.Second, MaxDataPoints: 1,
		TimeRange: backend.TimeRange{From: minTime, To: maxTime}}, "", false)
	require.NoError(t, err)
	require.LessOrEqual(t, len(g.times), 2)
	// Past the representable times: a clear error.
	_, err = newGrid(backend.DataQuery{TimeRange: backend.TimeRange{From: t0, To: maxTime.Add(time.Second)}}, "", false)
	require.ErrorContains(t, err, "outside the supported times")
	_, err = newGrid(backend.DataQuery{TimeRange: backend.TimeRange{From: minTime.Add(-time.Second), To: t0}}, "", true)
	require.ErrorContains(t, err, "outside the supported times")
}

func TestWindowsCancelled(t *testing.T) {
	g, err := newGrid(backend.DataQuery{Interval: time.Second, TimeRange: backend.TimeRange{From: t0, To: t0.Add(time.Hour)}}, "", false)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err = g.windows(ctx, nil, nil, func(int, time.Time, int, int) {
		calls++
		if calls == 10 {
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 10, calls)
}

func TestLongNamesAreCutInErrors(t *testing.T) {
	long := strings.Repeat("m", 5<<20)
	_, err := Parse([]byte(`{"queryType":"latency","model":"` + long + `"}`))
	require.ErrorContains(t, err, "model \""+strings.Repeat("m", limits.QuotedNameRunes)+"\"… is 5242880 bytes long; at most 256 are accepted")
	require.Less(t, len(err.Error()), 300)
	require.Equal(t, `"abc"`, quoteName("abc"))
	require.Equal(t, `"`+strings.Repeat("é", 64)+`"…`, quoteName(strings.Repeat("é", 65)))
}

// checkGrid checks the invariants of a grid over any range: bounded points, ascending, inside the
// range, on multiples of the step (or the single point To), and a fetch range that starts no later
// than the first window.
func checkGrid(t *testing.T, dq backend.DataQuery, window string, single bool) {
	g, err := newGrid(dq, window, single)
	from, to := dq.TimeRange.From, dq.TimeRange.To
	if err != nil {
		if !backend.IsDownstreamError(err) {
			t.Fatalf("grid error is not a user error: %v", err)
		}
		if from.Before(to) && !from.Before(minTime) && !to.After(maxTime) && window == "" {
			t.Fatalf("valid range %s – %s rejected: %v", from, to, err)
		}
		return
	}
	if !from.Before(to) || from.Before(minTime) || to.After(maxTime) {
		t.Fatalf("invalid range %s – %s accepted", from, to)
	}
	mdp := dq.MaxDataPoints
	if mdp <= 0 || mdp > limits.MaxPoints {
		mdp = limits.MaxPoints
	}
	if n := int64(len(g.times)); n == 0 || n > mdp+1 {
		t.Fatalf("%d points for MaxDataPoints %d", n, mdp)
	}
	if (!single && g.step < time.Second) || g.step <= 0 || g.window <= 0 {
		t.Fatalf("step %v, window %v", g.step, g.window)
	}
	for i, p := range g.times {
		if p.Before(from) || p.After(to) {
			t.Fatalf("point %s outside %s – %s", p, from, to)
		}
		if i > 0 && !p.After(g.times[i-1]) {
			t.Fatalf("points not ascending at %d", i)
		}
		if !single && len(g.times) > 1 && p.UnixNano()%int64(g.step) != 0 {
			t.Fatalf("point %s not a multiple of the step %v", p, g.step)
		}
	}
	start, end := g.fetchRange()
	if start.After(g.times[0]) || !end.Equal(g.times[len(g.times)-1]) || start.Before(minTime) {
		t.Fatalf("fetch range %s – %s for points %s – %s", start, end, g.times[0], g.times[len(g.times)-1])
	}
	ts := []int64{math.MinInt64, from.UnixNano(), to.UnixNano(), math.MaxInt64}
	idx := []int32{0, 1, 2, 3}
	if err := g.windows(context.Background(), ts, idx, func(_ int, _ time.Time, lo, hi int) {
		if lo < 0 || lo > hi || hi > len(idx) {
			t.Fatalf("window [%d, %d)", lo, hi)
		}
	}); err != nil {
		t.Fatal(err)
	}
}

// FuzzWindowGrid builds grids over the full int64 nanosecond range (and beyond it, in seconds).
func FuzzWindowGrid(f *testing.F) {
	end := time.Date(2262, 4, 11, 23, 47, 16, 0, time.UTC).UnixNano()
	for _, c := range []struct {
		from, to, interval, mdp int64
		window                  string
		single                  bool
	}{
		{t0.UnixNano(), t0.Add(time.Hour).UnixNano(), int64(time.Minute), 1000, "", false},
		{time.Now().UnixNano(), end, int64(time.Minute), 1000, "", false},
		{math.MinInt64, math.MaxInt64, 0, 0, "", false},
		{math.MinInt64, math.MaxInt64, int64(time.Second), 1, "", false},
		{math.MinInt64, math.MinInt64 + 1, 1, 1, "5m", false},
		{math.MaxInt64 - 1, math.MaxInt64, math.MaxInt64, math.MaxInt64, "", false},
		{-1, 1, int64(time.Hour), -5, "1y", false},
		{math.MinInt64, math.MaxInt64, 0, 0, "", true},
		{math.MinInt64, math.MaxInt64, 0, 0, "106751d", false},
	} {
		f.Add(c.from, c.to, c.interval, c.mdp, c.window, c.single, int64(0))
	}
	f.Add(int64(0), int64(1), int64(0), int64(0), "", false, int64(1<<40)) // beyond 2262, in seconds
	f.Fuzz(func(t *testing.T, fromNs, toNs, interval, mdp int64, window string, single bool, extraSec int64) {
		if len(window) > limits.MaxNameLength {
			return
		}
		from, to := time.Unix(0, fromNs).UTC(), time.Unix(0, toNs).UTC()
		if extraSec != 0 {
			// Times far outside the nanosecond range, as a millisecond epoch from Grafana can be.
			to = to.Add(time.Duration(extraSec%(1<<40)) * time.Second).Add(time.Duration(extraSec) * time.Hour)
		}
		checkGrid(t, backend.DataQuery{Interval: time.Duration(interval), MaxDataPoints: mdp,
			TimeRange: backend.TimeRange{From: from, To: to}}, window, single)
	})
}

// FuzzTimeRange parses Grafana time expressions against any now in the int64 range: a result is
// always a representable time, and a reference window is ordered.
func FuzzTimeRange(f *testing.F) {
	for _, s := range []string{"now", "now-7d", "now-7d/d", "now/d", "now+1h", "now-1M/M", "2024-01-02T15:04:05Z",
		"2024-01-02", "1700000000000", "7d", "now-9223372036854775807s", "now-999999999y", "now-999999999y-999999999y",
		"2262-04-11T23:47:16Z", "now/w", "now/b", "now-", "garbage", ""} {
		f.Add(s, "now", t0.UnixNano())
		f.Add("now-1d", s, int64(math.MaxInt64))
		f.Add(s, s, int64(math.MinInt64))
	}
	f.Fuzz(func(t *testing.T, from, to string, nowNs int64) {
		if len(from) > limits.MaxNameLength || len(to) > limits.MaxNameLength {
			return
		}
		now := time.Unix(0, nowNs).UTC()
		for _, s := range []string{from, to} {
			for _, up := range []bool{false, true} {
				v, err := parseTime(s, now, up)
				if err == nil && (v.Before(minTime) || v.After(maxTime)) {
					t.Fatalf("%q at %s gives %s, outside the supported times", s, now, v)
				}
				if err != nil && len(err.Error()) > 4*limits.QuotedNameRunes+200 {
					t.Fatalf("error too long: %d bytes", len(err.Error()))
				}
			}
		}
		a, b, err := referenceWindow(&Reference{Kind: ReferenceWindow, From: from, To: to}, now)
		if err == nil && !a.Before(b) {
			t.Fatalf("window %s – %s accepted", a, b)
		}
		if err != nil && !backend.IsDownstreamError(err) {
			t.Fatalf("not a user error: %v", err)
		}
	})
}
