package sql_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/predlog"
	sqlsource "github.com/modellens/mlmonitoring-datasource/pkg/source/sql"
)

// parityDay is the day of the parity fixture: the demo fleet's drift starts at 06:00 UTC, inside
// the loaded span.
var (
	parityStart = time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC)
	parityEnd   = time.Date(2026, 3, 2, 7, 30, 0, 0, time.UTC)
)

// parityFixture is the same demo records in PostgreSQL and behind the demo model server's
// Prediction Log API, and a query handler over each.
type parityFixture struct {
	pg       *testdb.Postgres
	sql, log *query.Handler
	// raw reads the same PostgreSQL records without push-down.
	raw           *query.Handler
	src           *sqlsource.Source
	fleet         *demo.Fleet
	models        map[string][]string // versions
	start, end    time.Time
	defaultTables *settings.SQLSettings
}

func newParityFixture(t *testing.T) *parityFixture {
	t.Helper()
	pg := testdb.StartPostgres(t)
	ctx := context.Background()
	fleet := demo.NewFleet(demo.DefaultSeed)
	conn := pg.Conn(t)
	_, _, err := sqlsource.LoadFleet(ctx, conn, fleet, "predictions", "reference", parityStart, parityEnd)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "ANALYZE")
	require.NoError(t, err)

	srv := httptest.NewServer(demo.NewServer(fleet, demo.ServerOptions{Clock: func() time.Time { return parityEnd }}))
	t.Cleanup(srv.Close)
	pl, err := predlog.New(srv.Client(), predlog.Options{BaseURL: srv.URL + "/api/v1"})
	require.NoError(t, err)

	s, err := settings.Parse([]byte(`{"sql": {"url": "`+pg.URLWithoutPassword()+`"}}`), map[string]string{"sqlPassword": pg.Password})
	require.NoError(t, err)
	src, err := sqlsource.New(sqlsource.Options{Settings: s.SQL, Password: pg.Password, Timeout: 30 * time.Second})
	require.NoError(t, err)
	t.Cleanup(src.Close)

	deps := query.Deps{MaxSamples: settings.DefaultMaxSamples, Timeout: time.Minute}
	ld, sd, rd := deps, deps, deps
	ld.PredictionLog, sd.SQL, rd.SQL, rd.NoPushdown = pl, src, src, true
	f := &parityFixture{pg: pg, sql: query.New(sd), log: query.New(ld), raw: query.New(rd), src: src, fleet: fleet, models: map[string][]string{},
		start: parityStart, end: parityEnd, defaultTables: s.SQL}
	ms, _ := fleet.Models(ctx)
	for _, m := range ms {
		f.models[m.Name] = m.Versions
	}
	return f
}

// answer runs one query through a handler with the given source.
func answer(h *query.Handler, src string, q map[string]any, from, to time.Time, interval time.Duration) backend.DataResponse {
	qq := map[string]any{}
	for k, v := range q {
		qq[k] = v
	}
	qq["source"] = src
	b, _ := json.Marshal(qq)
	return h.One(context.Background(), backend.PluginContext{}, backend.DataQuery{
		RefID: "A", JSON: b, Interval: interval, MaxDataPoints: 5000, TimeRange: backend.TimeRange{From: from, To: to},
	}, false)
}

// frameKey identifies a frame by its name and its fields' names and labels (sorted: a table's
// columns follow the model's feature order, which is the API's order for the Prediction Log and
// the name order for a jsonb features column).
func frameKey(f *data.Frame) string {
	names := make([]string, 0, len(f.Fields))
	for _, fd := range f.Fields {
		names = append(names, fd.Name+fd.Labels.String())
	}
	sort.Strings(names)
	return f.Name + "|" + strings.Join(names, "|")
}

// rowOrder returns a frame's row indexes sorted by the row's string cells (a table's rows follow
// the feature order too); a time series keeps its order.
func rowOrder(f *data.Frame, n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	key := func(r int) string {
		var parts []string
		for _, fd := range f.Fields {
			if s, ok := fd.At(r).(string); ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, "\x00")
	}
	sort.SliceStable(idx, func(a, b int) bool { return key(idx[a]) < key(idx[b]) })
	return idx
}

func fieldByName(f *data.Frame, name string, labels data.Labels) *data.Field {
	for _, fd := range f.Fields {
		if fd.Name == name && fd.Labels.String() == labels.String() {
			return fd
		}
	}
	return nil
}

// relTol is the parity tolerance: the same records through the same kernels; the only difference
// allowed is the order of floating-point sums over bins whose order may differ (categories appear
// in another order), well below 1e-12 relative.
const relTol = 1e-12

func close(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	return math.Abs(a-b) <= relTol*math.Max(math.Abs(a), math.Abs(b))
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case *float64:
		if x == nil {
			return math.NaN(), true
		}
		return *x, true
	case int64:
		return float64(x), true
	case *int64:
		if x == nil {
			return math.NaN(), true
		}
		return float64(*x), true
	}
	return 0, false
}

func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case *time.Time:
		if x == nil {
			return time.Time{}, true
		}
		return *x, true
	}
	return time.Time{}, false
}

// sameResponses requires the same frames (matched by name, field names and labels) with the same
// values within relTol; notices may differ (they name the source).
func sameResponses(t *testing.T, what string, want, got backend.DataResponse) int {
	t.Helper()
	require.NoError(t, want.Error, "%s: prediction log", what)
	require.NoError(t, got.Error, "%s: sql", what)
	index := func(fs data.Frames) (map[string]*data.Frame, []string) {
		m := map[string]*data.Frame{}
		var keys []string
		for _, f := range fs {
			k := frameKey(f)
			m[k] = f
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return m, keys
	}
	// Feature importances come from the Prediction Log's /models (optional there); the SQL source
	// has none, so its drift tables have no importance and impact columns.
	wm, wk := index(withoutFields(want.Frames, "importance", "impact"))
	gm, gk := index(got.Frames)
	require.Equal(t, wk, gk, "%s: the same series", what)
	values := 0
	for _, k := range wk {
		wf, gf := wm[k], gm[k]
		wl, _ := wf.RowLen()
		gl, _ := gf.RowLen()
		require.Equal(t, wl, gl, "%s %s: rows", what, k)
		wo, gro := rowOrder(wf, wl), rowOrder(gf, gl)
		for _, wfd := range wf.Fields {
			gfd := fieldByName(gf, wfd.Name, wfd.Labels)
			for r := 0; r < wl; r++ {
				a, b := wfd.At(wo[r]), gfd.At(gro[r])
				if fa, ok := asFloat(a); ok {
					fb, _ := asFloat(b)
					require.True(t, close(fa, fb), "%s %s field %s row %d: prediction log %v, sql %v", what, k, wfd.Name, r, fa, fb)
					values++
					continue
				}
				if ta, ok := asTime(a); ok {
					// timestamptz holds microseconds: a record's own time (first and last request)
					// is the demo's nanosecond time rounded up to the microsecond.
					tb, _ := asTime(b)
					require.True(t, !tb.Before(ta) && tb.Sub(ta) < time.Microsecond, "%s %s field %s row %d: %v, %v", what, k, wfd.Name, r, ta, tb)
					continue
				}
				if s, ok := a.(string); ok && (s == query.SourcePredictionLog || s == query.SourceSQL) {
					continue // a source column names its source
				}
				require.Equal(t, a, b, "%s %s field %s row %d", what, k, wfd.Name, r)
			}
		}
	}
	return values
}

// TestParityWithPredictionLog loads the same deterministic demo records into PostgreSQL and serves
// them from the demo model server's Prediction Log API, and requires every query type that reads
// records to give the same numbers (1e-12 relative) from both sources, with push-down and reading
// raw rows: traffic, latency, drift in every output with dataset and window references,
// distribution, predictions and endpoints.
func TestParityWithPredictionLog(t *testing.T) {
	f := newParityFixture(t)
	from, to := f.start.Add(time.Hour), f.end // every window (at most 1h, offset 30m) stays in the loaded span
	ms := func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
	allMethods := []string{"psi", "ks", "ks_pvalue", "js", "wasserstein", "wasserstein_norm", "hellinger", "tvd", "kld", "chi2", "chi2_pvalue", "linf", "mlrun", "status"}
	binned := []string{"psi", "js", "hellinger", "tvd", "kld", "chi2", "chi2_pvalue", "linf", "mlrun", "status"}
	type tc struct {
		name     string
		q        map[string]any
		from, to time.Time
		interval time.Duration
	}
	var cases []tc
	for model, versions := range f.models {
		last := versions[len(versions)-1]
		add := func(name string, q map[string]any, interval time.Duration) {
			q["model"] = model
			cases = append(cases, tc{model + " " + name, q, from, to, interval})
		}
		for _, v := range []string{"", "*", last} {
			add("traffic "+v, map[string]any{"queryType": "traffic", "version": v, "metrics": []string{"rate", "count", "errors", "errorCount", "errorRatio"}}, 5*time.Minute)
			add("latency "+v, map[string]any{"queryType": "latency", "version": v, "percentiles": []float64{50, 90, 95, 99, 99.9}}, 5*time.Minute)
			add("latency latest "+v, map[string]any{"queryType": "latency", "version": v, "output": "latest", "window": "15m"}, time.Minute)
			add("drift "+v, map[string]any{"queryType": "drift", "version": v, "methods": allMethods, "window": "30m"}, 30*time.Minute)
			add("traffic overlapping "+v, map[string]any{"queryType": "traffic", "version": v, "metrics": []string{"count", "errorRatio"}, "window": "15m"}, 5*time.Minute)
			add("drift binned overlapping "+v, map[string]any{"queryType": "drift", "version": v, "methods": binned, "window": "1h"}, 20*time.Minute)
			add("drift binned "+v, map[string]any{"queryType": "drift", "version": v, "methods": binned, "window": "30m"}, 30*time.Minute)
			add("drift binned latest "+v, map[string]any{"queryType": "drift", "version": v, "methods": binned, "output": "latest", "window": "1h"}, time.Minute)
			add("drift latest "+v, map[string]any{"queryType": "drift", "version": v, "output": "latest", "window": "1h"}, time.Minute)
			add("drift table "+v, map[string]any{"queryType": "drift", "version": v, "output": "table"}, time.Minute)
			add("distribution "+v, map[string]any{"queryType": "distribution", "version": v, "window": "1h"}, time.Minute)
			add("predictions "+v, map[string]any{"queryType": "predictions", "version": v}, 10*time.Minute)
		}
		add("drift binned outputs", map[string]any{"queryType": "drift", "features": []string{"prediction", "score"}, "methods": binned, "window": "1h"}, 20*time.Minute)
		add("drift outputs", map[string]any{"queryType": "drift", "features": []string{"prediction"}, "window": "1h",
			"binning": map[string]any{"strategy": "equalWidth", "bins": 20}}, 20*time.Minute)
		add("drift all features equal width", map[string]any{"queryType": "drift", "methods": allMethods, "window": "1h",
			"binning": map[string]any{"strategy": "equalWidth", "bins": 20}}, 20*time.Minute)
		add("drift reference window", map[string]any{"queryType": "drift", "methods": allMethods, "window": "30m",
			"reference": map[string]any{"kind": "window", "from": ms(f.start), "to": ms(f.start.Add(time.Hour))}}, 30*time.Minute)
		add("drift correction", map[string]any{"queryType": "drift", "version": "*", "window": "30m", "correction": "bh"}, 30*time.Minute)
	}
	cases = append(cases,
		tc{"endpoints", map[string]any{"queryType": "endpoints"}, from, to, time.Minute},
		tc{"traffic every model", map[string]any{"queryType": "traffic", "model": "*", "metrics": []string{"count", "errorRatio"}}, from, to, 15 * time.Minute},
	)
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	total := 0
	for _, c := range cases {
		want := answer(f.log, query.SourcePredictionLog, c.q, c.from, c.to, c.interval)
		got := answer(f.sql, query.SourceSQL, c.q, c.from, c.to, c.interval)
		n := sameResponses(t, c.name, want, got)
		require.Positive(t, n, "%s: compared no values", c.name)
		total += n
		raw := answer(f.raw, query.SourceSQL, c.q, c.from, c.to, c.interval)
		total += sameResponses(t, c.name+" (raw rows)", want, raw)
	}
	t.Logf("%d queries, %d values equal", len(cases), total)

	// Push-down moves no rows where the statistic allows it, and rows where it does not.
	cs := &countingSource{Source: f.src}
	h := query.New(query.Deps{SQL: cs, MaxSamples: settings.DefaultMaxSamples, Timeout: time.Minute})
	for _, c := range []struct {
		q    map[string]any
		rows bool
	}{
		{map[string]any{"queryType": "traffic", "version": "*", "metrics": []string{"rate", "errorRatio"}}, false},
		{map[string]any{"queryType": "latency", "version": "*"}, false},
		{map[string]any{"queryType": "drift", "version": "*", "methods": binned}, false},
		{map[string]any{"queryType": "drift", "methods": binned, "output": "latest"}, false},
		{map[string]any{"queryType": "latency", "window": "15m"}, true},         // overlapping windows
		{map[string]any{"queryType": "drift", "methods": []string{"ks"}}, true}, // raw samples
	} {
		c.q["model"] = "churn-classifier"
		cs.records.Store(0)
		r := answer(h, query.SourceSQL, c.q, from, to, 5*time.Minute)
		require.NoError(t, r.Error, "%v", c.q)
		require.Equal(t, c.rows, cs.records.Load() > 0, "%v: rows read", c.q)
	}
}

// countingSource counts the Records and SampleRecords calls of the PostgreSQL source (its push-down methods are
// promoted unchanged).
type countingSource struct {
	*sqlsource.Source
	records atomic.Int64
}

func (c *countingSource) Records(ctx context.Context, req source.RecordsRequest) (*source.Batch, error) {
	c.records.Add(1)
	return c.Source.Records(ctx, req)
}

func (c *countingSource) SampleRecords(ctx context.Context, req source.RecordsRequest) (*source.Batch, error) {
	c.records.Add(1)
	return c.Source.SampleRecords(ctx, req)
}

// withoutFields returns the frames without the named fields.
func withoutFields(fs data.Frames, names ...string) data.Frames {
	out := make(data.Frames, 0, len(fs))
	for _, f := range fs {
		var keep []*data.Field
		for _, fd := range f.Fields {
			if !slices.Contains(names, fd.Name) {
				keep = append(keep, fd)
			}
		}
		nf := data.NewFrame(f.Name, keep...)
		nf.Meta = f.Meta
		out = append(out, nf)
	}
	return out
}
