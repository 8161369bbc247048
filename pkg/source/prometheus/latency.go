package prometheus

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/prometheus/common/model"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// DefaultPercentiles are the latency percentiles when a query asks for none (DESIGN §4).
var DefaultPercentiles = []float64{50, 95, 99}

// NoticeBuckets says how histogram percentiles were obtained (DESIGN §7).
const NoticeBuckets = "estimated from histogram buckets"

// QuantileLabel formats a percentile (0, 100] as the value of the "quantile" label: 95 → "0.95".
func QuantileLabel(p float64) string {
	return source.QuantileLabel(p)
}

// Latency returns, per model (and version), each percentile computed in Go with Prometheus'
// histogram_quantile semantics from the per-window bucket increases
//
//	sum by (le, <model>[, <version>]) (increase(<histogram>_bucket{...}[window]))
//
// evaluated by a range query at the request's step, with the bounds of the bucket holding each
// percentile as Lower/Upper, and the mean increase(_sum)/increase(_count). Values are milliseconds.
// Presets whose servers export no buckets return the mean only, with a notice saying why.
func (s *Source) Latency(ctx context.Context, req source.MetricsRequest, percentiles []float64) (*source.SeriesResult, error) {
	w, err := toWindow(req)
	if err != nil {
		return nil, err
	}
	g, err := s.grouping(req)
	if err != nil {
		return nil, err
	}
	if len(percentiles) == 0 {
		percentiles = DefaultPercentiles
	}
	for _, p := range percentiles {
		if !(p > 0 && p <= 100) {
			return nil, backend.DownstreamError(fmt.Errorf("percentile %v is not in (0, 100]", p))
		}
	}
	p := s.preset
	sumName, countName := p.meanSum, p.meanCount
	if p.histogram != "" {
		sumName, countName = p.histogram+"_sum", p.histogram+"_count"
	}
	wd := durationMs(w.width)
	qSum := fmt.Sprintf("sum by (%s) (increase(%s[%s]))", g.by(), g.sel(sumName), wd)
	qCount := fmt.Sprintf("sum by (%s) (increase(%s[%s]))", g.by(), g.sel(countName), wd)
	qBuckets := ""
	if p.histogram != "" {
		qBuckets = fmt.Sprintf("sum by (%s) (increase(%s[%s]))", g.by("le"), g.sel(p.histogram+"_bucket"), wd)
	}

	var mSum, mCount, mBuckets model.Matrix
	var nSum, nCount, nBuckets []string
	fns := []func() error{
		func() (err error) { mSum, nSum, err = s.queryRange(ctx, qSum, w, "latency sum"); return },
		func() (err error) { mCount, nCount, err = s.queryRange(ctx, qCount, w, "latency count"); return },
	}
	if qBuckets != "" {
		fns = append(fns, func() (err error) {
			mBuckets, nBuckets, err = s.queryRange(ctx, qBuckets, w, "latency buckets")
			return
		})
	}
	if err := parallel(fns...); err != nil {
		return nil, err
	}
	res := &source.SeriesResult{}
	for _, n := range [][]string{nBuckets, nSum, nCount} {
		for _, x := range n {
			res.Notices = addNotice(res.Notices, x)
		}
	}
	queries := []string{}
	if qBuckets != "" {
		queries = append(queries, qBuckets)
		res.Notices = addNotice(res.Notices, NoticeBuckets)
		series, notices := quantileSeries(mBuckets, g, w, percentiles, p.toMs)
		res.Series = append(res.Series, series...)
		for _, n := range notices {
			res.Notices = addNotice(res.Notices, n)
		}
	} else {
		res.Notices = addNotice(res.Notices, p.meanOnlyWhy+"; returning the mean")
	}
	queries = append(queries, qSum, qCount)
	res.Series = append(res.Series, meanSeries(mSum, mCount, g, w, p.toMs)...)
	res.Query = strings.Join(queries, "\n")
	sortSeries(res.Series)
	return res, nil
}

type leSeries struct {
	le     float64
	values []model.SamplePair
}

type bucketGroup struct {
	labels map[string]string
	les    []leSeries
}

// quantileSeries computes the percentiles of each group at each step where Prometheus has bucket
// samples; a step with a histogram problem (no +Inf bucket, no observations) gives NaN, as
// histogram_quantile does, and a notice.
func quantileSeries(m model.Matrix, g grouping, w window, percentiles []float64, toMs float64) ([]source.Series, []string) {
	nSteps := int((w.end-w.start)/w.step + 1)
	groups := map[string]*bucketGroup{}
	var order []string
	var notices []string
	for _, ss := range m {
		leS, ok := ss.Metric[model.BucketLabel]
		if !ok {
			continue
		}
		le, err := strconv.ParseFloat(string(leS), 64)
		if err != nil {
			notices = addNotice(notices, fmt.Sprintf("ignored a bucket with the invalid bound le=%q", leS))
			continue
		}
		k, labels := g.key(ss.Metric)
		bg := groups[k]
		if bg == nil {
			bg = &bucketGroup{labels: labels}
			groups[k] = bg
			order = append(order, k)
		}
		bg.les = append(bg.les, leSeries{le: le, values: ss.Values})
	}
	var out []source.Series
	var buf, scratch []stats.Bucket
	var cursors []int
	for _, k := range order {
		bg := groups[k]
		// in bound order, so that NewPromHistogram finds them sorted
		sort.SliceStable(bg.les, func(i, j int) bool { return bg.les[i].le < bg.les[j].le })
		series := make([]source.Series, len(percentiles))
		for j, p := range percentiles {
			series[j] = source.Series{
				Labels: withLabel(bg.labels, "quantile", QuantileLabel(p)),
				Times:  make([]time.Time, 0, nSteps),
				Values: make([]float64, 0, nSteps),
				Lower:  make([]float64, 0, nSteps),
				Upper:  make([]float64, 0, nSteps),
			}
		}
		cursors = append(cursors[:0], make([]int, len(bg.les))...)
		forced := false
		for i := 0; i < nSteps; i++ {
			t := w.start + int64(i)*w.step
			buf = buf[:0]
			for j := range bg.les {
				vals, c := bg.les[j].values, cursors[j]
				for c < len(vals) && int64(vals[c].Timestamp) < t {
					c++
				}
				if c < len(vals) && int64(vals[c].Timestamp) == t {
					buf = append(buf, stats.Bucket{UpperBound: bg.les[j].le, Count: float64(vals[c].Value)})
					c++
				}
				cursors[j] = c
			}
			if len(buf) == 0 {
				continue
			}
			h := stats.NewPromHistogram(buf, scratch)
			scratch = h.Buckets()[:0]
			forced = forced || h.ForcedMonotonic
			switch h.Problem {
			case stats.PromProblemNoInf:
				notices = addNotice(notices, fmt.Sprintf("the latency histogram of model %q has no +Inf bucket; its percentiles are NaN", bg.labels["model"]))
			case stats.PromProblemOneLe:
				notices = addNotice(notices, fmt.Sprintf("the latency histogram of model %q has fewer than 2 buckets; its percentiles are NaN", bg.labels["model"]))
			case stats.PromProblemNoCount:
				notices = addNotice(notices, "no requests in some windows: percentiles there are NaN")
			}
			tt := time.UnixMilli(t).UTC()
			for j, p := range percentiles {
				v, lo, hi := h.QuantileBounds(p / 100)
				se := &series[j]
				se.Times = append(se.Times, tt)
				se.Values = append(se.Values, v*toMs)
				se.Lower = append(se.Lower, lo*toMs)
				se.Upper = append(se.Upper, hi*toMs)
			}
		}
		if forced {
			notices = addNotice(notices, "bucket counts were not cumulative in some windows and were made monotonic, as histogram_quantile does")
		}
		out = append(out, series...)
	}
	return out, notices
}

// meanSeries divides the per-window increase of the sum by that of the count, at each step where
// Prometheus has both (0/0 = NaN for a window without requests).
func meanSeries(mSum, mCount model.Matrix, g grouping, w window, toMs float64) []source.Series {
	sums := map[string]*dense{}
	for _, ss := range mSum {
		k, _ := g.key(ss.Metric)
		if sums[k] == nil {
			sums[k] = newDense(w)
		}
		sums[k].add(ss.Values, w)
	}
	var out []source.Series
	for _, ss := range mCount {
		k, labels := g.key(ss.Metric)
		sum := sums[k]
		if sum == nil {
			continue
		}
		count := newDense(w)
		count.add(ss.Values, w)
		se := source.Series{Labels: withLabel(labels, "stat", "mean")}
		for i := range count.v {
			if sum.has[i] && count.has[i] {
				se.Times = append(se.Times, timeOf(w, i))
				se.Values = append(se.Values, sum.v[i]/count.v[i]*toMs)
			}
		}
		out = append(out, se)
	}
	return out
}

// dense holds one value per step and whether Prometheus answered for that step.
type dense struct {
	v   []float64
	has []bool
}

func newDense(w window) *dense {
	n := int((w.end-w.start)/w.step + 1)
	return &dense{v: make([]float64, n), has: make([]bool, n)}
}

// add sums the samples of one series into the steps (several series may share a group).
func (d *dense) add(values []model.SamplePair, w window) {
	for _, sp := range values {
		if i := stepIndex(int64(sp.Timestamp), w); i >= 0 {
			d.v[i] += float64(sp.Value)
			d.has[i] = true
		}
	}
}

// stepIndex is the index of the evaluation time t, or -1 when t is not one.
func stepIndex(t int64, w window) int {
	if t < w.start || t > w.end || (t-w.start)%w.step != 0 {
		return -1
	}
	return int((t - w.start) / w.step)
}

func timeOf(w window, i int) time.Time { return time.UnixMilli(w.start + int64(i)*w.step).UTC() }

func withLabel(l map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(l)+1)
	for a, b := range l {
		out[a] = b
	}
	out[k] = v
	return out
}
