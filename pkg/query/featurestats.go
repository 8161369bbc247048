package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/offline"
)

// dqmGranularity maps a query's window to Feast's monitoring granularity (daily by default).
func dqmGranularity(window string) (string, error) {
	if window == "" {
		return "daily", nil
	}
	d, err := parseDuration(window)
	if err != nil {
		return "", userError("window %s is not a duration", quoteName(window))
	}
	day := 24 * time.Hour
	switch d {
	case day:
		return "daily", nil
	case 7 * day:
		return "weekly", nil
	case 14 * day:
		return "biweekly", nil
	case 30 * day, 31 * day:
		return "monthly", nil
	case 90 * day, 91 * day, 92 * day:
		return "quarterly", nil
	}
	return "", userError("featureStats windows are Feast's monitoring granularities: 1d (daily), 7d (weekly), 14d (biweekly), 30d (monthly) or 90d (quarterly), not %s", quoteName(window))
}

// statValue is one metric of a monitoring row.
func statValue(r *offline.MetricRow, m string) float64 {
	switch m {
	case StatNullRate:
		return r.NullRate
	case StatNullCount:
		return r.NullCount
	case StatRowCount:
		return r.RowCount
	case StatMean:
		return r.Mean
	case StatStddev:
		return r.Stddev
	case StatMin:
		return r.Min
	case StatMax:
		return r.Max
	case StatP50:
		return r.P50
	case StatP75:
		return r.P75
	case StatP90:
		return r.P90
	case StatP95:
		return r.P95
	case StatP99:
		return r.P99
	}
	return math.NaN()
}

func statUnit(m string) string {
	switch m {
	case StatNullRate:
		return "percentunit"
	case StatNullCount, StatRowCount:
		return "none"
	}
	return ""
}

// featureStats answers `featureStats`: Feast's data-quality monitoring rows
// (feast_monitoring_feature_metrics in the offline store) of the project as time series, one
// point per metric_date (at 00:00 UTC of that date) in the range, per feature view, feature,
// data source type (`batch`: the batch source; `log`: logged serving features) and metric. The
// baseline row of each series, whatever its date, is a series of its own with label
// baseline="true", flat over the range. Labels featureView, feature, dataSourceType, metric.
func (h *Handler) featureStats(ctx context.Context, r *request) (data.Frames, error) {
	q := &r.q
	fd, err := h.feast(TypeFeatureStats, false, true)
	if err != nil {
		return nil, err
	}
	gran, err := dqmGranularity(q.Window)
	if err != nil {
		return nil, err
	}
	from, to := r.dq.TimeRange.From, r.dq.TimeRange.To
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	view := ""
	if q.FeatureView != "" && q.FeatureView != "*" {
		if _, _, err := h.feastViews(ctx, q, nil); err != nil {
			return nil, err
		}
		view = q.FeatureView
	}
	metrics := dedupe(q.Metrics)
	if len(metrics) == 0 {
		metrics = DefaultFeatureStatsMetrics
	}
	mq := offline.MetricsQuery{Project: fd.Project, View: view, Features: q.Features, Granularity: gran,
		Start: from.UTC().Truncate(24 * time.Hour), End: to}
	rows, truncated, err := fd.Offline.FeatureMetrics(ctx, mq)
	if err != nil {
		if errors.Is(err, offline.ErrNoMonitoring) {
			return nil, userError("%v", err)
		}
		return nil, feastError("feast offline store", err)
	}
	mq.Baseline = true
	baselines, _, err := fd.Offline.FeatureMetrics(ctx, mq)
	if err != nil {
		return nil, feastError("feast offline store", err)
	}
	var notices []data.Notice
	if truncated {
		notices = append(notices, frames.WarningNotice(fmt.Sprintf("more than %d monitoring rows: only the first are shown; name a feature view or features",
			len(rows))))
	}
	if len(rows) == 0 {
		notices = append(notices, frames.InfoNotice(fmt.Sprintf("no %s monitoring rows of project %q in the time range", gran, fd.Project)))
	}
	type key struct{ view, feature, dst string }
	var order []key
	series := map[key][]*offline.MetricRow{}
	for i := range rows {
		row := &rows[i]
		if !row.Date.After(to) && !row.Date.Before(from.UTC().Truncate(24*time.Hour)) {
			k := key{row.View, row.Feature, row.DataSourceType}
			if _, ok := series[k]; !ok {
				order = append(order, k)
			}
			series[k] = append(series[k], row)
		}
	}
	base := map[key]*offline.MetricRow{}
	for i := range baselines {
		b := &baselines[i]
		k := key{b.View, b.Feature, b.DataSourceType}
		if cur, ok := base[k]; !ok || b.ComputedAt.After(cur.ComputedAt) {
			base[k] = b
		}
	}
	g := grid{latest: q.Output == OutputLatest, times: []time.Time{to}}
	var out seriesSet
	for _, k := range order {
		rs := series[k]
		for _, m := range metrics {
			times := make([]time.Time, 0, len(rs))
			vals := make([]float64, 0, len(rs))
			finite := false
			for _, row := range rs {
				v := statValue(row, m)
				// Several rows of one date (another granularity filtered out above) keep the newest computation.
				if n := len(times); n > 0 && times[n-1].Equal(row.Date) {
					vals[n-1] = v
				} else {
					times = append(times, row.Date)
					vals = append(vals, v)
				}
				finite = finite || !math.IsNaN(v)
			}
			if !finite {
				continue // e.g. the mean of a categorical feature
			}
			l := data.Labels{"featureView": k.view, "feature": k.feature, "dataSourceType": k.dst, "metric": m}
			out.add(l, "value", statUnit(m), times, vals)
			if b := base[k]; b != nil && !math.IsNaN(statValue(b, m)) {
				bl := l.Copy()
				bl["baseline"] = "true"
				bv := statValue(b, m)
				out.add(bl, "value", statUnit(m), []time.Time{from, to}, []float64{bv, bv})
			}
		}
	}
	return out.frames(g, frames.Info{Source: SourceFeast, Notices: notices}), nil
}
