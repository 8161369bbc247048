package prometheus

import (
	"context"
	"fmt"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// FeastFreshnessMetric is the Feast feature server's freshness gauge (sdk/python/feast/metrics.py,
// v0.61.0+, `feast serve --metrics`): seconds since the latest materialization end, labelled
// feature_view and project.
const FeastFreshnessMetric = "feast_feature_freshness_seconds"

// Freshness returns the Feast feature server's freshness gauge per feature view (and project) at
// the request's step:
//
//	max by (feature_view, project) (feast_feature_freshness_seconds{feature_view="<view>"})
//
// (max, as Feast's multiprocess mode aggregates it; view "" means every view). The series carry
// the labels feature_view and project. Any preset can read it: the gauge's name does not depend
// on the model server.
func (s *Source) Freshness(ctx context.Context, req source.MetricsRequest, view string) (*source.SeriesResult, error) {
	w, err := toWindow(req)
	if err != nil {
		return nil, err
	}
	sel := FeastFreshnessMetric
	if view != "" {
		sel = fmt.Sprintf("%s{feature_view=%s}", FeastFreshnessMetric, quote(view))
	}
	q := fmt.Sprintf("max by (feature_view, project) (%s)", sel)
	m, notices, err := s.queryRange(ctx, q, w, "feast freshness")
	if err != nil {
		return nil, err
	}
	res := &source.SeriesResult{Query: q, Notices: notices}
	for _, ss := range m {
		labels := map[string]string{}
		for k, v := range ss.Metric {
			labels[string(k)] = string(v)
		}
		out := source.Series{Labels: labels}
		for _, p := range ss.Values {
			out.Times = append(out.Times, p.Timestamp.Time().UTC())
			out.Values = append(out.Values, float64(p.Value))
		}
		res.Series = append(res.Series, out)
	}
	sortSeries(res.Series)
	return res, nil
}
