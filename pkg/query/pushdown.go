package query

// Push-down: when the resolved source aggregates in its database (source.Aggregator: PostgreSQL),
// the handlers ask it for counts or percentiles per window instead of reading the records, where
// the statistic allows: traffic counts, binned drift measures (bin and category counts against
// the reference), and percentiles where windows do not overlap. The numbers are the ones the raw
// path computes from the same records (the parity test in pkg/source/sql checks 1e-12); the kernels
// stay in pkg/stats and take counts or values whichever path produced them.
//
// Push-down reads every record of the windows (no maxSamples cut: no rows move). A query it cannot
// serve exactly (more than limits.MaxVersions versions split, records without a version split by
// version) takes the raw path.

import (
	"context"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// aggregator returns the source's Aggregator when it has one and push-down is on.
func (h *Handler) aggregator(src Resolved) (source.Aggregator, bool) {
	if h.deps.NoPushdown || src.Log == nil {
		return nil, false
	}
	a, ok := src.Log.(source.Aggregator)
	return a, ok
}

// aggModels returns the models a push-down query covers, with the checks the raw path makes
// (a named version the model does not list is an error); ok is false when the query must take
// the raw path (a model with more versions than limits.MaxVersions split by version).
func (h *Handler) aggModels(ctx context.Context, src Resolved, q *Query) ([]source.Model, []data.Notice, bool, error) {
	models, notices, err := h.queryModels(ctx, src, q)
	if err != nil {
		return nil, nil, false, err
	}
	for _, m := range models {
		v := q.Version
		if v != "" && v != WildcardAllVersions && len(m.Versions) > 0 && !m.HasVersion(v) {
			return nil, nil, false, userError("model %q has no version %q (versions: %v)", m.Name, v, m.Versions)
		}
		if v == WildcardAllVersions && len(m.Versions) > limits.MaxVersions {
			return nil, nil, false, nil
		}
	}
	return models, notices, true, nil
}

// aggRequest is the push-down request of a query's model over the grid's windows.
func aggRequest(model string, q *Query, g grid) source.AggRequest {
	req := source.AggRequest{Model: model, Windows: source.Windows{Ends: g.times, Width: g.window}}
	switch q.Version {
	case "":
	case WildcardAllVersions:
		req.SplitVersions = true
	default:
		req.Version = q.Version
	}
	return req
}

// aggGroup is the series group of a push-down result's version: the query's version when it
// names one (the source answers "" then).
func aggGroup(q *Query, version string) *group {
	if q.Version != "" && q.Version != WildcardAllVersions {
		version = q.Version
	}
	return &group{version: version}
}

// overlapping reports whether the grid's windows overlap (a record in more than one window).
func (g grid) overlapping() bool {
	return source.Windows{Ends: g.times, Width: g.window}.Overlapping()
}

// noRecordsNotice is the raw path's notice for a model without records in the range.
func noRecordsNotice(model, version string, g grid) data.Notice {
	start, end := g.fetchRange()
	v := version
	if v == WildcardAllVersions {
		v = ""
	}
	return frames.InfoNotice(fmt.Sprintf("%s%s: no records after %s up to %s", model, versionSuffix(v),
		start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)))
}
