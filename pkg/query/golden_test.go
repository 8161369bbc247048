package query

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testutil"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
)

// updateGolden rewrites the golden files; only with UPDATE_GOLDEN=1.
var updateGolden = testutil.Update()

// goldenRange is a fixed time range of the deterministic demo fleet.
var (
	goldenFrom = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	goldenTo   = goldenFrom.Add(30 * time.Minute)
)

// TestGolden runs one query per type against the demo fleet (seed demo.DefaultSeed) and compares
// the whole response with testdata/golden/<name>.jsonc. Numbers are rounded to 10 significant
// digits first: the files pin the shapes, labels, notices and values, while last-bit changes of
// the kernels (tested against scipy/numpy to their own tolerances) do not churn them.
func TestGolden(t *testing.T) {
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed), MaxSamples: 1_000_000})
	cases := []struct {
		name  string
		query string
		alert bool
	}{
		{"traffic", `{"queryType":"traffic","model":"fraud-detector","metrics":["rate","errorRatio"]}`, true},
		{"traffic_versions_latest", `{"queryType":"traffic","model":"fraud-detector","version":"*","metrics":["count","errorCount"],"output":"latest"}`, true},
		{"latency", `{"queryType":"latency","model":"churn-classifier","window":"10m"}`, true},
		{"latency_latest_all_models", `{"queryType":"latency","percentiles":[95],"output":"latest"}`, true},
		{"drift", `{"queryType":"drift","model":"fraud-detector","features":["amount","channel"],"methods":["psi","js","status"],"window":"10m"}`, true},
		{"drift_latest", `{"queryType":"drift","model":"churn-classifier","output":"latest"}`, true},
		{"drift_table", `{"queryType":"drift","model":"price-regressor","output":"table","methods":["psi","ks","wasserstein_norm"]}`, false},
		{"drift_window_reference", `{"queryType":"drift","model":"fraud-detector","features":["amount"],"methods":["ks","ks_pvalue","status"],"output":"latest","reference":{"kind":"window","from":"now-1d","to":"now-23h"}}`, true},
		{"distribution", `{"queryType":"distribution","model":"fraud-detector","features":["amount","channel"],"binning":{"bins":5}}`, false},
		{"distribution_latency", `{"queryType":"distribution","model":"churn-classifier","features":["latency"],"reference":{"kind":"window","from":"now-2h","to":"now-1h"},"binning":{"strategy":"equalWidth","bins":4}}`, false},
		{"predictions", `{"queryType":"predictions","model":"fraud-detector","percentiles":[50,90]}`, true},
		{"predictions_numeric", `{"queryType":"predictions","model":"price-regressor","percentiles":[50],"output":"latest"}`, true},
		{"data_quality", `{"queryType":"dataQuality","model":"fraud-detector","features":["account_age_days","country"],"window":"10m"}`, true},
		{"data_quality_table", `{"queryType":"dataQuality","model":"churn-classifier","version":"*","output":"table"}`, false},
		{"saturation_demo", `{"queryType":"saturation","model":"fraud-detector","version":"*","window":"10m"}`, true},
		{"endpoints", `{"queryType":"endpoints"}`, false},
		{"health", `{"queryType":"health"}`, true},
		{"performance", `{"queryType":"performance","model":"fraud-detector","version":"*","window":"10m","metrics":["accuracy","f1","labelCoverage"],"average":"binary","positiveClass":"fraud","scoreOf":"prediction","estimated":true}`, true},
		{"performance_latest_all_models", `{"queryType":"performance","metrics":["accuracy","rmse","labelDelay"],"output":"latest"}`, true},
		{"performance_table", `{"queryType":"performance","model":"price-regressor","output":"table","metrics":["mae","rmse","mape","r2","bias","labelCoverage"]}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var probe map[string]any
			require.NoError(t, json.Unmarshal([]byte(c.query), &probe))
			r := h.One(context.Background(), backend.PluginContext{}, backend.DataQuery{
				RefID: "A", JSON: []byte(c.query), Interval: 5 * time.Minute, MaxDataPoints: 1000,
				TimeRange: backend.TimeRange{From: goldenFrom, To: goldenTo},
			}, c.alert)
			require.NoError(t, r.Error)
			if c.alert {
				require.NoError(t, frames.CheckAlertReady(r.Frames))
			}
			roundFrames(r.Frames)
			experimental.CheckGoldenJSONResponse(t, "testdata/golden", c.name, &r, updateGolden)
		})
	}
}

// roundFrames rounds every float64 value of the frames to 10 significant digits.
func roundFrames(fs data.Frames) {
	for _, f := range fs {
		for _, fl := range f.Fields {
			if fl.Type() != data.FieldTypeFloat64 {
				continue
			}
			for i := 0; i < fl.Len(); i++ {
				v := fl.At(i).(float64)
				if math.IsNaN(v) || math.IsInf(v, 0) {
					continue
				}
				r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 10, 64), 64)
				fl.Set(i, r)
			}
		}
	}
}

// TestConcurrentRequests answers the golden queries several times in one request and in parallel
// requests over one handler with a shared reference cache (run with -race): every query answers as
// it does alone.
func TestConcurrentRequests(t *testing.T) {
	cache := refstats.New(time.Minute)
	defer cache.Dispose()
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed), MaxSamples: 1_000_000, References: cache, Concurrency: 4})
	queries := []string{
		`{"queryType":"traffic","model":"fraud-detector","metrics":["rate","errorRatio"],"output":"latest"}`,
		`{"queryType":"latency","percentiles":[95],"output":"latest"}`,
		`{"queryType":"drift","model":"churn-classifier","output":"latest"}`,
		`{"queryType":"drift","version":"*","features":["prediction"],"methods":["psi","status"],"output":"latest"}`,
		`{"queryType":"predictions","model":"fraud-detector","percentiles":[50],"output":"latest"}`,
		`{"queryType":"health"}`,
	}
	req := &backend.QueryDataRequest{}
	for i := 0; i < 3; i++ {
		for j, q := range queries {
			req.Queries = append(req.Queries, backend.DataQuery{RefID: strconv.Itoa(i*len(queries) + j), JSON: []byte(q),
				Interval: 5 * time.Minute, MaxDataPoints: 1000, TimeRange: backend.TimeRange{From: goldenFrom, To: goldenTo}})
		}
	}
	var wg sync.WaitGroup
	resps := make([]*backend.QueryDataResponse, 3)
	for k := range resps {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			resps[k], _ = h.Mux().QueryData(context.Background(), req)
		}(k)
	}
	wg.Wait()
	for k, resp := range resps {
		require.Len(t, resp.Responses, len(req.Queries))
		for j := range queries {
			first := resp.Responses[strconv.Itoa(j)]
			require.NoError(t, first.Error, queries[j])
			require.NoError(t, frames.CheckAlertReady(first.Frames), queries[j])
			for i := 1; i < 3; i++ {
				other := resp.Responses[strconv.Itoa(i*len(queries)+j)]
				require.NoError(t, other.Error)
				a, err := json.Marshal(first.Frames)
				require.NoError(t, err)
				b, err := json.Marshal(other.Frames)
				require.NoError(t, err)
				require.JSONEq(t, string(a), string(b), "request %d, query %s", k, queries[j])
			}
		}
	}
}
