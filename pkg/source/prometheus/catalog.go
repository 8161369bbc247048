package prometheus

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/prometheus/common/model"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// ModelsLookback is how far back Models looks for series: models seen in the last day are listed.
const ModelsLookback = 24 * time.Hour

// TargetsLookback is how far back Targets looks for the models a target served, so that a target
// that is down (its series stale) still shows its models.
const TargetsLookback = time.Hour

// NoticeInclusiveBuckets says that Prometheus bucket bounds include their upper bound.
const NoticeInclusiveBuckets = "feature histograms from Prometheus buckets: each bucket includes its upper bound (le)"

// FeatureHistograms returns, per model (and version) and feature, the per-window increase of each
// bucket of the feature value histogram
//
//	sum by (le, feature, <model>[, <version>]) (increase(ml_feature_value_bucket{...}[window]))
//
// as per-bucket counts over the finite bounds (cumulative counts made monotonic as
// histogram_quantile does, then differenced). Only the generic preset exports such histograms.
func (s *Source) FeatureHistograms(ctx context.Context, req source.MetricsRequest, features []string) ([]source.HistogramSeries, []string, error) {
	p := s.preset
	if p.features == "" {
		return nil, nil, backend.DownstreamError(fmt.Errorf("preset %s exports no feature histograms", p.name))
	}
	w, err := toWindow(req)
	if err != nil {
		return nil, nil, err
	}
	g, err := s.grouping(req)
	if err != nil {
		return nil, nil, err
	}
	var extra []string
	if len(features) > 0 {
		re := make([]string, len(features))
		for i, f := range features {
			re[i] = regexp.QuoteMeta(f)
		}
		extra = append(extra, "feature=~"+quote(strings.Join(re, "|")))
	}
	q := fmt.Sprintf("sum by (%s) (increase(%s[%s]))", g.by("le", "feature"), g.sel(p.features+"_bucket", extra...), durationMs(w.width))
	m, notices, err := s.queryRange(ctx, q, w, "feature histograms")
	if err != nil {
		return nil, nil, err
	}
	type fgroup struct {
		labels map[string]string
		steps  [][]stats.Bucket
	}
	nSteps := int((w.end-w.start)/w.step + 1)
	groups := map[string]*fgroup{}
	for _, ss := range m {
		le, err := strconv.ParseFloat(string(ss.Metric[model.BucketLabel]), 64)
		if err != nil {
			notices = addNotice(notices, fmt.Sprintf("ignored a bucket with the invalid bound le=%q", ss.Metric[model.BucketLabel]))
			continue
		}
		k, labels := g.key(ss.Metric)
		f := string(ss.Metric["feature"])
		labels["feature"] = f
		k += "\xff" + f
		fg := groups[k]
		if fg == nil {
			fg = &fgroup{labels: labels, steps: make([][]stats.Bucket, nSteps)}
			groups[k] = fg
		}
		for _, sp := range ss.Values {
			if i := stepIndex(int64(sp.Timestamp), w); i >= 0 {
				fg.steps[i] = append(fg.steps[i], stats.Bucket{UpperBound: le, Count: float64(sp.Value)})
			}
		}
	}
	var out []source.HistogramSeries
	for _, fg := range groups {
		// edges: the union of the finite bounds seen in the range
		seen := map[float64]bool{}
		var edges []float64
		hasInf := false
		for _, b := range fg.steps {
			for _, x := range b {
				if math.IsInf(x.UpperBound, +1) {
					hasInf = true
				} else if !seen[x.UpperBound] {
					seen[x.UpperBound] = true
					edges = append(edges, x.UpperBound)
				}
			}
		}
		sort.Float64s(edges)
		if !hasInf {
			notices = addNotice(notices, fmt.Sprintf("the histogram of feature %q has no +Inf bucket: values above its last bound are not counted", fg.labels["feature"]))
		}
		hs := source.HistogramSeries{Labels: fg.labels, Edges: edges}
		for i, b := range fg.steps {
			if b == nil {
				continue
			}
			h := stats.NewPromHistogram(b, nil)
			if h.ForcedMonotonic {
				notices = addNotice(notices, "bucket counts were not cumulative in some windows and were made monotonic, as histogram_quantile does")
			}
			cum := h.Buckets()
			counts := make([]float64, len(edges)+1)
			prev, k := 0.0, 0
			for j, e := range edges {
				// cumulative count at e: that of the largest bound ≤ e in this step
				for k < len(cum) && cum[k].UpperBound <= e {
					prev = math.Max(prev, cum[k].Count)
					k++
				}
				counts[j] = prev
			}
			if hasInf && len(cum) > 0 && math.IsInf(cum[len(cum)-1].UpperBound, +1) {
				counts[len(edges)] = math.Max(prev, cum[len(cum)-1].Count)
			} else {
				counts[len(edges)] = prev
			}
			for j := len(counts) - 1; j > 0; j-- {
				counts[j] -= counts[j-1]
			}
			hs.Times = append(hs.Times, timeOf(w, i))
			hs.Counts = append(hs.Counts, counts)
		}
		out = append(out, hs)
	}
	sort.Slice(out, func(i, j int) bool { return labelsKey(out[i].Labels) < labelsKey(out[j].Labels) })
	if len(out) > 0 {
		notices = addNotice(notices, NoticeInclusiveBuckets)
	}
	return out, notices, nil
}

// Models lists the models seen in the last ModelsLookback on the preset's request counters, with
// their versions, and their features from the feature histograms (generic preset).
func (s *Source) Models(ctx context.Context) ([]source.Model, error) {
	end := s.now()
	start := end.Add(-ModelsLookback)
	p := s.preset
	matches := make([]string, 0, len(p.requests))
	for _, r := range p.requests {
		matches = append(matches, r)
	}
	sets, _, err := s.api.Series(ctx, matches, start, end)
	if err != nil {
		return nil, s.downstream(err, "model list")
	}
	var featSets []model.LabelSet
	if p.features != "" {
		featSets, _, err = s.api.Series(ctx, []string{p.features + "_count"}, start, end)
		if err != nil {
			return nil, s.downstream(err, "feature list")
		}
	}
	type entry struct{ versions, features map[string]bool }
	models := map[string]*entry{}
	get := func(ls model.LabelSet) *entry {
		name := string(ls[model.LabelName(s.modelLabel)])
		if name == "" {
			return nil
		}
		e := models[name]
		if e == nil {
			e = &entry{versions: map[string]bool{}, features: map[string]bool{}}
			models[name] = e
		}
		if s.versionLabel != "" {
			if v := string(ls[model.LabelName(s.versionLabel)]); v != "" {
				e.versions[v] = true
			}
		}
		return e
	}
	for _, ls := range sets {
		get(ls)
	}
	for _, ls := range featSets {
		if e := get(ls); e != nil {
			if f := string(ls["feature"]); f != "" {
				e.features[f] = true
			}
		}
	}
	out := make([]source.Model, 0, len(models))
	for name, e := range models {
		m := source.Model{Name: name, Versions: sortedKeys(e.versions)}
		for _, f := range sortedKeys(e.features) {
			m.Features = append(m.Features, source.Feature{Name: f, Type: source.Numeric})
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Targets lists the scraped targets that serve models: `up` and `timestamp(up)` (the last scrape)
// joined on job and instance with the models each target exported in the last TargetsLookback.
func (s *Source) Targets(ctx context.Context) ([]source.Target, error) {
	now := s.now()
	p := s.preset
	by := "job, instance, " + s.modelLabel
	if s.versionLabel != "" {
		by += ", " + s.versionLabel
	}
	// count_over_time drops the metric name, so each counter gets its own call, joined with `or`
	var counts []string
	for _, r := range p.requests {
		counts = append(counts, "count_over_time("+r+"["+durationMs(TargetsLookback.Milliseconds())+"])")
	}
	qServed := fmt.Sprintf("group by (%s) (%s)", by, strings.Join(counts, " or "))
	var up, last, served model.Value
	err := parallel(
		func() (err error) { up, _, err = s.queryAt(ctx, "up", now, "targets"); return },
		func() (err error) { last, _, err = s.queryAt(ctx, "timestamp(up)", now, "targets"); return },
		func() (err error) { served, _, err = s.queryAt(ctx, qServed, now, "targets"); return },
	)
	if err != nil {
		return nil, err
	}
	upV, ok1 := up.(model.Vector)
	lastV, ok2 := last.(model.Vector)
	servedV, ok3 := served.(model.Vector)
	if !ok1 || !ok2 || !ok3 {
		return nil, backend.DownstreamError(fmt.Errorf("Prometheus answered the targets queries with unexpected types"))
	}
	target := func(m model.Metric) string { return string(m["job"]) + "\xff" + string(m["instance"]) }
	lastScrape := map[string]time.Time{}
	for _, smp := range lastV {
		lastScrape[target(smp.Metric)] = time.UnixMilli(int64(math.Round(float64(smp.Value) * 1000))).UTC()
	}
	models := map[string][]model.Metric{}
	for _, smp := range servedV {
		k := target(smp.Metric)
		models[k] = append(models[k], smp.Metric)
	}
	var out []source.Target
	for _, smp := range upV {
		k := target(smp.Metric)
		t := source.Target{Instance: string(smp.Metric["instance"]), Up: smp.Value == 1, LastScrape: lastScrape[k]}
		if name := string(smp.Metric[model.LabelName(s.modelLabel)]); name != "" {
			t.Model = name
			if s.versionLabel != "" {
				t.Version = string(smp.Metric[model.LabelName(s.versionLabel)])
			}
			out = append(out, t)
			continue
		}
		for _, m := range models[k] {
			t.Model = string(m[model.LabelName(s.modelLabel)])
			if s.versionLabel != "" {
				t.Version = string(m[model.LabelName(s.versionLabel)])
			}
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Instance < b.Instance
	})
	return out, nil
}
