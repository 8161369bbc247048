package pluginproto

import (
	"bufio"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"
)

// rankerLog is a Prediction Log API (DESIGN §6) that no demo code wrote: model "ranker" (versions
// v1 and v2, five numeric features), one record a second at every half second, and a reference
// sample recorded for v1 only, without times. Its answers to order=desc and to a reference asked
// for v2 are configurable.
type rankerLog struct {
	// honourOrder answers order=desc newest first; otherwise always oldest first.
	honourOrder bool
	// v2Reference is what /reference?version=v2 answers: "empty" (200, no body), "404", or
	// "other" (the v1 rows, as a server that ignores the version would).
	v2Reference string
	// refRows is the number of reference rows; refBytes, when set, streams rows until that many
	// bytes were written instead.
	refRows  int
	refBytes int64

	refSent atomic.Int64
}

func (l *rankerLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch r.URL.Path {
	case "/api/v1/models":
		fmt.Fprint(w, `{"models":[{"name":"ranker","versions":["v1","v2"],"features":[{"name":"f1"},{"name":"f2"},{"name":"f3"},{"name":"f4"},{"name":"f5"}],"prediction":{"type":"numeric"}}]}`)
	case "/api/v1/records":
		start, err1 := time.Parse(time.RFC3339Nano, q.Get("start"))
		end, err2 := time.Parse(time.RFC3339Nano, q.Get("end"))
		if err1 != nil || err2 != nil || q.Get("model") != "ranker" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		limit, _ := strconv.Atoi(q.Get("limit"))
		// Record k is at k seconds + 0.5 s.
		first := int64(math.Floor(float64(start.UnixNano())/1e9-0.5)) + 1
		last := int64(math.Floor(float64(end.UnixNano())/1e9 - 0.5))
		w.Header().Set("Content-Type", "application/x-ndjson")
		bw := bufio.NewWriterSize(w, 64<<10)
		defer bw.Flush()
		n := 0
		emit := func(k int64) bool {
			if limit > 0 && n == limit {
				return false
			}
			v := "v1"
			if k%4 == 0 {
				v = "v2"
			}
			if ver := q.Get("version"); ver != "" && ver != v {
				return true
			}
			ts := time.Unix(k, 5e8).UTC()
			fmt.Fprintf(bw, `{"ts":"%s","model":"ranker","version":"%s","latency_ms":12.5,"status":"ok","prediction":%g,"label":null,"label_ts":"%s","features":%s}`+"\n",
				ts.Format(time.RFC3339Nano), v, unit(uint64(k), 9), ts.Add(time.Hour).Format(time.RFC3339Nano), rankerFeatures(uint64(k), 0.2))
			n++
			return true
		}
		if l.honourOrder && q.Get("order") == "desc" {
			for k := last; k >= first && emit(k); k-- {
			}
		} else {
			for k := first; k <= last && emit(k); k++ {
			}
		}
	case "/api/v1/reference":
		v := q.Get("version")
		if v == "v2" {
			switch l.v2Reference {
			case "404":
				http.Error(w, `{"error":"no reference for ranker v2"}`, http.StatusNotFound)
				return
			case "empty":
				w.Header().Set("Content-Type", "application/x-ndjson")
				return
			}
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		bw := bufio.NewWriterSize(w, 256<<10)
		defer bw.Flush()
		var sent int64
		for i := 0; l.refBytes > 0 && sent < l.refBytes || l.refBytes == 0 && i < l.refRows; i++ {
			// Training rows: no ts, all of version v1.
			line := fmt.Sprintf(`{"model":"ranker","version":"v1","prediction":%g,"features":%s}`+"\n", unit(uint64(i)+1<<40, 9), rankerFeatures(uint64(i)+1<<40, 0))
			if _, err := bw.WriteString(line); err != nil {
				return
			}
			sent += int64(len(line))
		}
		l.refSent.Store(sent)
	default:
		http.NotFound(w, r)
	}
}

// unit is a deterministic pseudo-random number in [0, 1) (splitmix64 of k and a stream).
func unit(k, stream uint64) float64 {
	z := k*0x9e3779b97f4a7c15 + stream*0xbf58476d1ce4e5b9
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

// rankerFeatures are five features, f1 shifted by shift (current data drifts on f1).
func rankerFeatures(k uint64, shift float64) string {
	return fmt.Sprintf(`{"f1":%.6f,"f2":%.6f,"f3":%.6f,"f4":%.6f,"f5":%.6f}`,
		unit(k, 1)+shift, unit(k, 2)*10, unit(k, 3)-0.5, 100*unit(k, 4), unit(k, 5)*unit(k, 6))
}

func startRankerLog(t *testing.T, l *rankerLog) string {
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	return srv.URL + "/api/v1"
}

func allNotices(frames data.Frames) string {
	var b strings.Builder
	for _, f := range frames {
		if f.Meta != nil {
			for _, n := range f.Meta.Notices {
				b.WriteString(n.Text + "\n")
			}
		}
	}
	return b.String()
}

func latestValues(_ testing.TB, frames data.Frames) map[string]float64 {
	out := map[string]float64{}
	for _, f := range frames {
		for _, fd := range f.Fields {
			if fd.Type() != data.FieldTypeFloat64 && fd.Type() != data.FieldTypeNullableFloat64 {
				continue
			}
			for i := 0; i < fd.Len(); i++ {
				v, _ := fd.ConcreteAt(i)
				if x, ok := v.(float64); ok {
					out[fd.Labels.String()] = x
				}
			}
		}
	}
	return out
}

// TestReferenceWithoutTS: a training sample has no times; drift and distribution queries use it.
func TestReferenceWithoutTS(t *testing.T) {
	url := startRankerLog(t, &rankerLog{refRows: 5000, honourOrder: true})
	p := startPlugin(t)
	pc := pluginContext("ref-nots", map[string]any{"predictionLog": map[string]any{"url": url}}, false)
	to := time.Now().UTC().Truncate(time.Second)
	resp := p.query(t, pc, nil, to.Add(-time.Hour), to, map[string]map[string]any{
		"D": {"queryType": "drift", "model": "ranker", "output": "latest", "methods": []string{"psi", "ks"}},
		"H": {"queryType": "distribution", "model": "ranker", "features": []string{"f2"}, "output": "table"},
	})
	for id, r := range resp.Responses {
		require.NoError(t, r.Error, id)
		assertClean(t, r)
	}
	d := resp.Responses["D"]
	vals := latestValues(t, d.Frames)
	require.Len(t, vals, 10, "five features × two methods")
	for k, v := range vals {
		require.False(t, math.IsNaN(v), k)
	}
	// f1 drifted by +0.2 on a [0, 1) uniform: KS D is 0.2 within sampling noise. The window's values
	// come from the clock (one record a second, so the run's time picks them): ~3,600 current values
	// alone move D by up to 1.95/sqrt(3600) ≈ 0.033 (the 99.9 % one-sample KS bound), the reference
	// adds its own; 0.05 covers both.
	require.InDelta(t, 0.2, vals[`feature=f1, method=ks, model=ranker`], 0.05)
	require.Less(t, vals[`feature=f2, method=ks, model=ranker`], 0.05)
	require.Contains(t, allNotices(d.Frames), "reference: dataset of model ranker, 5000 rows")
}

// TestReferenceVersionFallback (issue 14): a version without a reference of its own is compared
// with the model's pooled reference, with a notice, whether the Prediction Log answers an empty
// body, a 404 or rows of other versions — for a named version and for `*`.
func TestReferenceVersionFallback(t *testing.T) {
	p := startPlugin(t)
	to := time.Now().UTC().Truncate(time.Second)
	for _, mode := range []string{"empty", "404", "other"} {
		url := startRankerLog(t, &rankerLog{refRows: 2000, honourOrder: true, v2Reference: mode})
		pc := pluginContext("ref-fallback-"+mode, map[string]any{"predictionLog": map[string]any{"url": url}}, false)
		for _, version := range []string{"v2", "*"} {
			resp := p.query(t, pc, nil, to.Add(-time.Hour), to, map[string]map[string]any{
				"A": {"queryType": "drift", "model": "ranker", "version": version, "output": "latest", "features": []string{"f1", "f2"}, "methods": []string{"ks"}},
			})
			r := resp.Responses["A"]
			require.NoError(t, r.Error, "%s %s", mode, version)
			n := allNotices(r.Frames)
			require.Contains(t, n, "model ranker has no reference sample for version v2: compared with the reference of all its versions", "%s %s", mode, version)
			require.Contains(t, n, "reference: dataset of model ranker, 2000 rows", "%s %s", mode, version)
			vals := latestValues(t, r.Frames)
			require.InDelta(t, 0.2, vals[`feature=f1, method=ks, model=ranker, version=v2`], 0.05, "%s %s: %v", mode, version, vals)
			if version == "*" {
				// v1 has its own reference.
				require.Contains(t, n, "reference: dataset of model ranker version v1, 2000 rows")
				require.Len(t, vals, 4)
			}
		}
	}
	// Without any reference at all, the error is clear.
	url := startRankerLog(t, &rankerLog{refRows: 0, v2Reference: "empty"})
	pc := pluginContext("ref-none", map[string]any{"predictionLog": map[string]any{"url": url}}, false)
	resp := p.query(t, pc, nil, to.Add(-time.Hour), to, map[string]map[string]any{
		"A": {"queryType": "drift", "model": "ranker", "version": "v2", "output": "latest"},
	})
	require.ErrorContains(t, resp.Responses["A"].Error, `the reference sample of model "ranker" has 0 rows, and that of all its versions 0; drift needs at least 2`)
	require.Equal(t, backend.ErrorSourceDownstream, resp.Responses["A"].ErrorSource)
}

// TestReference100MB streams a 100 MB reference through the built plugin: it is answered, a
// uniform sample of maxReferenceSamples rows is kept (with a notice), and the plugin's peak
// resident memory stays far below the body's size.
func TestReference100MB(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 100 MB")
	}
	l := &rankerLog{refBytes: 100 << 20, honourOrder: true}
	url := startRankerLog(t, l)
	p := startPlugin(t)
	pc := pluginContext("ref-100mb", map[string]any{"predictionLog": map[string]any{"url": url}, "maxReferenceSamples": 50000, "timeoutSeconds": 120}, false)
	to := time.Now().UTC().Truncate(time.Second)
	before := p.peakRSSMB(t)
	resp := p.query(t, pc, nil, to.Add(-time.Hour), to, map[string]map[string]any{
		"A": {"queryType": "drift", "model": "ranker", "output": "latest", "methods": []string{"ks", "psi"}},
	})
	r := resp.Responses["A"]
	require.NoError(t, r.Error)
	sent := l.refSent.Load()
	require.GreaterOrEqual(t, sent, int64(100<<20))
	n := allNotices(r.Frames)
	require.Contains(t, n, "reference of model ranker: a deterministic uniform sample of 50000 of its ")
	vals := latestValues(t, r.Frames)
	require.InDelta(t, 0.2, vals[`feature=f1, method=ks, model=ranker`], 0.05) // the sampling bound of TestReferenceWithoutTS
	peak := p.peakRSSMB(t)
	t.Logf("reference body %.1f MB; plugin peak RSS %.1f MiB before the query, %.1f MiB after (rss now %.1f MiB)", float64(sent)/1e6, before, peak, p.rssMB(t))
	// Buffering the body would take at least its 100 MB; the kept sample takes a few.
	require.Less(t, peak, 100.0, "peak RSS %.1f MiB: memory follows the body, not the sample", peak)
}

// TestRecordsNewestFirst: when maxSamples bites, the newest windows are complete, whether the API
// honours order=desc or ignores it (then the tail is read again); a notice says which.
func TestRecordsNewestFirst(t *testing.T) {
	p := startPlugin(t)
	to := time.Now().UTC().Truncate(time.Second)
	for _, honour := range []bool{true, false} {
		url := startRankerLog(t, &rankerLog{refRows: 500, honourOrder: honour})
		pc := pluginContext(fmt.Sprintf("order-%v", honour), map[string]any{"predictionLog": map[string]any{"url": url}, "maxSamples": 1000}, false)
		resp := p.query(t, pc, nil, to.Add(-2*time.Hour), to, map[string]map[string]any{
			"A": {"queryType": "traffic", "model": "ranker", "metrics": []string{"count"}, "window": "5m"},
		})
		r := resp.Responses["A"]
		require.NoError(t, r.Error)
		vals := latestValues(t, r.Frames)
		// One record a second: the last point's 5-minute window holds 300 records (the time series
		// covers two hours, 7,200 records, of which maxSamples keeps 1,000).
		require.InDelta(t, 300, vals[`metric=count, model=ranker`], 1, "honour %v: %v", honour, vals)
		n := allNotices(r.Frames)
		require.Contains(t, n, "ranker: maxSamples reached: the newest ")
		if honour {
			require.Contains(t, n, "the API answered newest first")
		} else {
			require.Contains(t, n, "the API ignored order=desc, so the end of the range was read again")
		}
		t.Logf("honour %v: %s", honour, n)
	}
}
