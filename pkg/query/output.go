package query

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// seriesSet collects the series of one response before they become frames.
type seriesSet struct {
	series []frames.Series
}

// add adds a series. A label with an empty value (an upstream series without the model or version
// label) gets the value "(none)": Grafana alerting needs non-empty label sets (DESIGN §7).
func (s *seriesSet) add(l data.Labels, name, unit string, times []time.Time, values []float64) {
	for k, v := range l {
		if v == "" {
			l[k] = noVersionLabel
		}
	}
	s.series = append(s.series, frames.Series{Name: name, Labels: l, Times: times, Values: values, Unit: unit})
}

// frames returns time series, or for a single-point grid one number per series (its last value).
// At most limits.MaxSeries series and limits.MaxResponsePoints values are returned; a warning
// notice says how many series were dropped.
func (s *seriesSet) frames(g grid, info frames.Info) data.Frames {
	kept, points := 0, 0
	for _, x := range s.series {
		n := len(x.Values)
		if g.latest {
			n = 1
		}
		if kept == limits.MaxSeries || points+n > limits.MaxResponsePoints {
			break
		}
		kept++
		points += n
	}
	if dropped := len(s.series) - kept; dropped > 0 {
		info.Notices = append(info.Notices, frames.WarningNotice(fmt.Sprintf(
			"this query makes %d series; only the first %d are shown (at most %d series and %d values per response): name a model, a version or fewer features",
			len(s.series), kept, limits.MaxSeries, limits.MaxResponsePoints)))
		s.series = s.series[:kept]
	}
	if !g.latest {
		return frames.TimeSeries(s.series, info)
	}
	nums := make([]frames.Number, 0, len(s.series))
	for _, x := range s.series {
		v := math.NaN()
		if len(x.Values) > 0 {
			v = x.Values[len(x.Values)-1]
		}
		nums = append(nums, frames.Number{Name: x.Name, Labels: x.Labels, Value: v, Unit: x.Unit})
	}
	return frames.Numbers(nums, info)
}

// metricsRequest is the metrics-store request for a query's grid.
func metricsRequest(q *Query, g grid) source.MetricsRequest {
	return source.MetricsRequest{
		Model:   q.Model,
		Version: q.Version,
		Start:   g.times[0],
		End:     g.times[len(g.times)-1],
		Step:    g.step,
		Window:  g.window,
	}
}

// seriesFrames turns a metrics-store answer into frames. Error bars (Lower, Upper) become series of
// their own with label bound="lower"/"upper" in time-series output; `latest` keeps the values only.
func seriesFrames(res *source.SeriesResult, g grid, unit func(data.Labels) string, src string) data.Frames {
	info := frames.Info{Source: src}
	if res == nil {
		return frames.TimeSeries(nil, info)
	}
	info.Query = res.Query
	for _, n := range res.Notices {
		info.Notices = append(info.Notices, frames.InfoNotice(n))
	}
	var set seriesSet
	for _, s := range res.Series {
		if len(s.Times) == 0 || len(s.Times) != len(s.Values) {
			continue
		}
		l := data.Labels(s.Labels).Copy()
		u := unit(l)
		set.add(l, "value", u, s.Times, s.Values)
		if g.latest {
			continue
		}
		if len(s.Lower) == len(s.Times) {
			lb := l.Copy()
			lb["bound"] = "lower"
			set.add(lb, "value", u, s.Times, s.Lower)
		}
		if len(s.Upper) == len(s.Times) {
			ub := l.Copy()
			ub["bound"] = "upper"
			set.add(ub, "value", u, s.Times, s.Upper)
		}
	}
	return set.frames(g, info)
}

// dedupe removes repeated names, keeping the first occurrence.
func dedupe(xs []string) []string {
	seen := make(map[string]bool, len(xs))
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// metricsOrRecords resolves the source of a query that a metrics store (Prometheus) or prediction
// records answer. With a metrics store, answered is true and fs holds its answer to ask, turned
// into frames with the units of unit; else the source must have prediction records.
func (h *Handler) metricsOrRecords(ctx context.Context, q *Query, g grid, ask func(source.Metrics, source.MetricsRequest) (*source.SeriesResult, error), unit func(data.Labels) string) (src Resolved, fs data.Frames, answered bool, err error) {
	src, err = h.cat.Resolve(ctx, q.Source, q.Model)
	if err != nil {
		return src, nil, false, err
	}
	if src.Metrics != nil {
		res, err := ask(src.Metrics, metricsRequest(q, g))
		if err != nil {
			return src, nil, false, sourceError(src.Name, err)
		}
		return src, seriesFrames(res, g, unit, src.Name), true, nil
	}
	if src.Log == nil {
		return src, nil, false, userError("%s queries need a prediction log, the demo fleet or Prometheus, not %q", q.QueryType, src.Name)
	}
	return src, nil, false, nil
}
