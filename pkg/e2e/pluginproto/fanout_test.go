package pluginproto

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// hugeLog is a loopback Prediction Log with many models, or one model with many versions, that
// counts the requests it gets.
type hugeLog struct {
	models, versions int
	// end is the time of the newest record; records are one per minute per version over the hour
	// before it.
	end                     time.Time
	modelsN, recordsN, refN atomic.Int64
}

func (h *hugeLog) modelName(i int) string { return fmt.Sprintf("m%06d", i) }

func (h *hugeLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/api/v1/models":
		h.modelsN.Add(1)
		versions := make([]string, h.versions)
		for v := range versions {
			versions[v] = fmt.Sprintf("v%d", v)
		}
		vs, _ := json.Marshal(versions)
		w.Header().Set("Content-Type", "application/json")
		var b strings.Builder
		b.WriteString(`{"models":[`)
		for i := 0; i < h.models; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name":%q,"versions":%s,"features":[{"name":"x","type":"numeric"}],"prediction":{"type":"numeric"}}`, h.modelName(i), vs)
		}
		b.WriteString(`]}`)
		_, _ = w.Write([]byte(b.String()))
	case "/api/v1/records":
		h.recordsN.Add(1)
		model := r.URL.Query().Get("model")
		w.Header().Set("Content-Type", "application/x-ndjson")
		for m := 60; m >= 1; m-- {
			ts := h.end.Add(-time.Duration(m-1) * time.Minute)
			for v := 0; v < h.versions; v++ {
				fmt.Fprintf(w, `{"ts":%q,"model":%q,"version":"v%d","latency_ms":%d,"status":"ok","prediction":1,"features":{"x":%d}}`+"\n",
					ts.Format(time.RFC3339Nano), model, v, 10+m, (m*7+v)%13)
			}
		}
	case "/api/v1/reference":
		h.refN.Add(1)
		if r.URL.Query().Get("version") != "" {
			http.Error(w, "no reference for this version", http.StatusNotFound)
			return
		}
		model := r.URL.Query().Get("model")
		w.Header().Set("Content-Type", "application/x-ndjson")
		for i := 0; i < 100; i++ {
			fmt.Fprintf(w, `{"ts":%q,"model":%q,"version":"v0","latency_ms":10,"status":"ok","prediction":1,"features":{"x":%d}}`+"\n",
				h.end.Add(-48*time.Hour).Format(time.RFC3339Nano), model, i%13)
		}
	default:
		http.NotFound(w, r)
	}
}

func noticeTexts(frames data.Frames) string {
	var b strings.Builder
	for _, f := range frames {
		if f.Meta == nil {
			continue
		}
		for _, n := range f.Meta.Notices {
			b.WriteString(n.Text)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// TestFanOutManyModels: `model: "*"` against a Prediction Log listing 100,000 models answers
// promptly with the first limits.MaxModels models and a notice, fetches records for those only,
// and keeps the plugin's memory bounded (issue: one /records request per model, for minutes,
// 1.96 GB, never answered).
func TestFanOutManyModels(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts processes")
	}
	end := time.Now().UTC().Truncate(time.Minute)
	up := &hugeLog{models: 100_000, versions: 1, end: end}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	plug := startPlugin(t)
	pc := pluginContext("many-models", map[string]any{"predictionLog": map[string]any{"url": srv.URL + "/api/v1"}, "timeoutSeconds": 60}, true)

	for _, qt := range []string{"traffic", "latency", "drift"} {
		t.Run(qt, func(t *testing.T) {
			before := up.recordsN.Load()
			resp := plug.query(t, pc, nil, end.Add(-time.Hour), end, map[string]map[string]any{
				"A": {"queryType": qt, "model": "*", "window": "5m"},
			})
			r := resp.Responses["A"]
			require.NoError(t, r.Error)
			require.NotEmpty(t, r.Frames)
			require.LessOrEqual(t, len(r.Frames), limits.MaxSeries)
			notices := noticeTexts(r.Frames)
			require.Contains(t, notices, "lists 100000 models: only the first 100 by name")
			models := map[string]bool{}
			for _, f := range r.Frames {
				for _, fl := range f.Fields {
					if m := fl.Labels["model"]; m != "" {
						models[m] = true
					}
				}
			}
			require.Len(t, models, limits.MaxModels, "one series set per covered model")
			require.True(t, models["m000000"] && models["m000099"] && !models["m000100"], "the first models by name")
			require.Equal(t, int64(limits.MaxModels), up.recordsN.Load()-before, "one /records request per covered model")
		})
	}
	// An unknown model's error names a few known models, not 100,000.
	resp := plug.query(t, pc, nil, end.Add(-time.Hour), end, map[string]map[string]any{
		"A": {"queryType": "traffic", "model": "nope"},
	})
	require.Error(t, resp.Responses["A"].Error)
	require.Less(t, len(resp.Responses["A"].Error.Error()), 1000, "the error lists a few models")
	require.Contains(t, resp.Responses["A"].Error.Error(), "99980 more")

	peak := plug.peakRSSMB(t)
	t.Logf("peak RSS %.0f MiB, /models requests %d", peak, up.modelsN.Load())
	require.Less(t, peak, 512.0, "the plugin's peak RSS")
}

// TestFanOutManyVersions: `version: "*"` with 3,600 versions keeps limits.MaxVersions versions
// with a notice, and a drift query asks /reference a bounded number of times (issue: 7,200
// /reference requests and 58,801 frames, 222 MB).
func TestFanOutManyVersions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts processes")
	}
	end := time.Now().UTC().Truncate(time.Minute)
	up := &hugeLog{models: 1, versions: 3600, end: end}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	plug := startPlugin(t)
	pc := pluginContext("many-versions", map[string]any{"predictionLog": map[string]any{"url": srv.URL + "/api/v1"}, "timeoutSeconds": 60}, true)

	for _, qt := range []string{"traffic", "drift"} {
		t.Run(qt, func(t *testing.T) {
			before := up.refN.Load()
			resp := plug.query(t, pc, nil, end.Add(-time.Hour), end, map[string]map[string]any{
				"A": {"queryType": qt, "model": "m000000", "version": "*", "window": "10m"},
			})
			r := resp.Responses["A"]
			require.NoError(t, r.Error)
			require.Contains(t, noticeTexts(r.Frames), "m000000: the records have 3600 versions: only the 20 with the most records are shown")
			versions := map[string]bool{}
			for _, f := range r.Frames {
				for _, fl := range f.Fields {
					if v := fl.Labels["version"]; v != "" {
						versions[v] = true
					}
				}
			}
			require.Len(t, versions, limits.MaxVersions)
			// Each kept version asks for its own reference, then the pooled one (cached).
			require.LessOrEqual(t, up.refN.Load()-before, int64(2*limits.MaxVersions+1), "/reference requests")
			require.LessOrEqual(t, len(r.Frames), limits.MaxSeries)
		})
	}
	t.Logf("peak RSS %.0f MiB", plug.peakRSSMB(t))
}
