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
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
)

// Freshness metrics (label `metric` of a freshness query) and the measures `thresholds` may name.
const (
	FreshSinceMaterialized = "sinceMaterialized"
	FreshSinceNewestEvent  = "sinceNewestEvent"
	FreshTTL               = "ttl"
	FreshStatus            = "status"
)

// FreshMetrics lists the accepted `metrics` of freshness queries (none: all of them).
var FreshMetrics = []string{FreshSinceMaterialized, FreshSinceNewestEvent, FreshTTL, FreshStatus}

// FreshnessMeasures are the ages `thresholds` may set a warning and a stale ("drift") level for.
var FreshnessMeasures = []string{FreshSinceNewestEvent, FreshSinceMaterialized}

// Freshness status values (the numeric status of DESIGN §4).
const (
	FreshOK      = 0
	FreshWarning = 1
	FreshStale   = 2
)

// freshnessLevels are the warning and stale ages of a measure: the query's thresholds for it, or
// half the ttl and the ttl. ok is false when there is neither (ttl 0 never expires): the status
// is then 0.
func freshnessLevels(q *Query, measure string, ttl time.Duration) (warning, stale float64, ok bool) {
	warning, stale = math.Inf(1), math.Inf(1)
	if ttl > 0 {
		warning, stale, ok = ttl.Seconds()/2, ttl.Seconds(), true
	}
	if th, has := q.Thresholds[measure]; has {
		if th.Warning != nil {
			warning, ok = *th.Warning, true
		}
		if th.Drift != nil {
			stale, ok = *th.Drift, true
		}
	}
	return warning, stale, ok
}

// freshnessStatus is 2 when age > stale, 1 when age > warning, else 0 (Feast's own
// OUTSIDE_MAX_AGE test is now − ts > ttl).
func freshnessStatus(age, warning, stale float64) float64 {
	switch {
	case age > stale:
		return FreshStale
	case age > warning:
		return FreshWarning
	}
	return FreshOK
}

// freshness answers `freshness`: per feature view (label featureView) and metric (label metric),
// at the end of the time range (never later than now):
//   - sinceMaterialized: seconds since the newest materialization interval of the registry that
//     ended by then ended (absent, with a notice, for a view never materialized);
//   - sinceNewestEvent: seconds since the newest event timestamp of the view in the online store
//     (absent, with a notice, when no online store is configured, the view is not online, the
//     store holds none of its rows or cannot be read, or its newest event is after that time);
//   - ttl: the view's ttl in seconds (0: values never expire);
//   - status: from sinceNewestEvent when the online store is configured and the view is online
//     (absent when that read failed: an outage must not look fresh), else from sinceMaterialized
//     (with a notice); 0 ok, 1 warning past half the ttl (or thresholds.<measure>.warning), 2 stale
//     past the ttl (or thresholds.<measure>.drift).
//
// `metrics` keeps only the metrics named (an alert on status alone names only status).
//
// Output `latest` is one number per series; `timeseries` one point per series at that time.
//
// With source "prometheus" (or auto without a Feast registry) the series are the Feast feature
// server's freshness gauge (metric sinceMaterialized only) over the time range.
func (h *Handler) freshness(ctx context.Context, r *request) (data.Frames, error) {
	q := &r.q
	fm, hasProm := h.deps.Metrics.(FreshnessMetrics)
	switch q.Source {
	case "", SourceAuto:
		if h.deps.Feast == nil && hasProm {
			return h.freshnessFromPrometheus(ctx, r, fm)
		}
	case SourceFeast:
	case SourcePrometheus:
		if !hasProm {
			return nil, userError("source %q is not configured on this data source", SourcePrometheus)
		}
		return h.freshnessFromPrometheus(ctx, r, fm)
	default:
		return nil, userError("freshness reads the Feast registry (source %q) or the Feast feature server's metrics in Prometheus (source %q), not %q",
			SourceFeast, SourcePrometheus, q.Source)
	}
	_, views, err := h.featureViews(ctx, q.FeatureView)
	if err != nil {
		return nil, err
	}
	at := r.dq.TimeRange.To
	if now := h.now(); at.IsZero() || at.After(now) {
		at = now
	}
	info := frames.Info{Source: SourceFeast}
	if maxViews := limits.MaxSeries / 4; len(views) > maxViews {
		info.Notices = append(info.Notices, frames.WarningNotice(fmt.Sprintf(
			"the project has %d feature views; freshness shows the first %d by name: name a featureView", len(views), maxViews)))
		views = views[:maxViews]
	}
	online := h.deps.FeastOnline
	if online == nil {
		info.Notices = append(info.Notices, frames.InfoNotice(
			"no Feast online store is configured (feast.onlineStore): sinceNewestEvent is not reported and status comes from sinceMaterialized"))
	}
	var nums []frames.Number
	add := func(view, metric, unit string, v float64) {
		if len(q.Metrics) > 0 && !oneOf(metric, q.Metrics) {
			return
		}
		nums = append(nums, frames.Number{Name: "value", Labels: data.Labels{"featureView": view, "metric": metric}, Value: v, Unit: unit})
	}
	for _, v := range views {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sinceMat, hasMat := 0.0, false
		if last := materializedBy(v, at); !last.IsZero() {
			sinceMat, hasMat = at.Sub(last).Seconds(), true
			add(v.Name, FreshSinceMaterialized, "s", sinceMat)
		} else {
			info.Notices = append(info.Notices, frames.InfoNotice(fmt.Sprintf("feature view %s has no materialization interval in the registry", v.Name)))
		}
		sinceEvent, eventState := h.sinceNewestEvent(ctx, online, v, at, &info)
		if eventState == eventRead {
			add(v.Name, FreshSinceNewestEvent, "s", sinceEvent)
		}
		add(v.Name, FreshTTL, "s", v.TTL.Seconds())

		measure, age, has := FreshSinceNewestEvent, sinceEvent, eventState == eventRead
		switch eventState {
		case eventFailed, eventNoRows:
			continue // no status: an unread or empty online store is not fresh
		case eventNotAsked:
			measure, age, has = FreshSinceMaterialized, sinceMat, hasMat
			if has && online != nil {
				info.Notices = append(info.Notices, frames.InfoNotice(fmt.Sprintf("feature view %s is not online: its status comes from sinceMaterialized", v.Name)))
			}
		}
		if !has {
			continue
		}
		warning, stale, ok := freshnessLevels(q, measure, v.TTL)
		status := float64(FreshOK)
		if ok {
			status = freshnessStatus(age, warning, stale)
		}
		add(v.Name, FreshStatus, "", status)
	}
	if q.Output == OutputLatest {
		return frames.Numbers(nums, info), nil
	}
	series := make([]frames.Series, len(nums))
	for i, n := range nums {
		series[i] = frames.Series{Name: n.Name, Labels: n.Labels, Unit: n.Unit, Times: []time.Time{at}, Values: []float64{n.Value}}
	}
	return frames.TimeSeries(series, info), nil
}

type eventState int

const (
	eventNotAsked eventState = iota // no online store, or the view is not online
	eventRead
	eventNoRows
	eventFailed
)

// sinceNewestEvent reads the newest event time of a view from the online store.
func (h *Handler) sinceNewestEvent(ctx context.Context, online feast.OnlineStore, v *feast.FeatureView, at time.Time, info *frames.Info) (float64, eventState) {
	if online == nil || !v.Online {
		return 0, eventNotAsked
	}
	ev, err := online.NewestEventTime(ctx, v)
	ts := ev.Time
	switch {
	case err != nil:
		info.Notices = append(info.Notices, frames.WarningNotice(fmt.Sprintf("feature view %s: the online store cannot be read: %v", v.Name, err)))
		return 0, eventFailed
	case ts.IsZero() && ev.ScanCapped > 0:
		info.Notices = append(info.Notices, frames.WarningNotice(fmt.Sprintf(
			"feature view %s: the online store's scan for the newest event stopped at %d keys (limits.FeastScanKeys) without finding a row of the view; sinceNewestEvent is unknown",
			v.Name, ev.ScanCapped)))
		return 0, eventNoRows
	case ts.IsZero():
		info.Notices = append(info.Notices, frames.WarningNotice(fmt.Sprintf("feature view %s: the online store holds none of its rows", v.Name)))
		return 0, eventNoRows
	}
	if ev.ScanCapped > 0 && !ts.After(at) {
		// Redis has no index of event times: the newest event among the keys scanned is a lower
		// bound of the newest event, so the age is an upper bound (and the status may be too severe).
		info.Notices = append(info.Notices, frames.WarningNotice(fmt.Sprintf(
			"feature view %s: the online store's scan for the newest event stopped at %d keys (limits.FeastScanKeys); sinceNewestEvent (%.0f s) is the age of the newest event among them, an upper bound of the true age, and its status may be too severe",
			v.Name, ev.ScanCapped, at.Sub(ts).Seconds())))
	}
	if ts.After(at) {
		// The store holds the newest values only: an event after the end of the range says
		// nothing about the age at that time.
		info.Notices = append(info.Notices, frames.InfoNotice(fmt.Sprintf(
			"feature view %s: the online store's newest event is after the end of the time range; sinceNewestEvent is only known for now", v.Name)))
		return 0, eventNoRows
	}
	return at.Sub(ts).Seconds(), eventRead
}

// materializedBy is the latest end of the view's materialization intervals that ended by at.
func materializedBy(v *feast.FeatureView, at time.Time) time.Time {
	var t time.Time
	for _, iv := range v.MaterializationIntervals {
		if !iv.End.After(at) && iv.End.After(t) {
			t = iv.End
		}
	}
	return t
}

// FreshnessMetrics is a metrics store that holds the Feast feature server's freshness gauge
// (pkg/source/prometheus).
type FreshnessMetrics interface {
	Freshness(ctx context.Context, req source.MetricsRequest, view string) (*source.SeriesResult, error)
}

// freshnessFromPrometheus answers freshness from feast_feature_freshness_seconds: label
// featureView (and project when the gauge has one), metric sinceMaterialized, in seconds.
func (h *Handler) freshnessFromPrometheus(ctx context.Context, r *request, fm FreshnessMetrics) (data.Frames, error) {
	q := &r.q
	if len(q.Metrics) > 0 && !oneOf(FreshSinceMaterialized, q.Metrics) {
		return nil, userError("the Feast feature server's freshness gauge in Prometheus gives %s only (the other freshness metrics need the Feast registry)",
			FreshSinceMaterialized)
	}
	g, err := newGrid(r.dq, q.Window, q.Output == OutputLatest)
	if err != nil {
		return nil, err
	}
	view := q.FeatureView
	if view == "*" {
		view = ""
	}
	res, err := fm.Freshness(ctx, metricsRequest(q, g), view)
	if err != nil {
		return nil, sourceError(SourcePrometheus, err)
	}
	for i := range res.Series {
		l := res.Series[i].Labels
		out := map[string]string{"featureView": l["feature_view"], "metric": FreshSinceMaterialized}
		if p := l["project"]; p != "" {
			out["project"] = p
		}
		res.Series[i].Labels = out
	}
	res.Notices = append(res.Notices, "from the Feast feature server's feast_feature_freshness_seconds gauge: sinceMaterialized only (sinceNewestEvent, ttl and status need the Feast registry)")
	return seriesFrames(res, g, func(data.Labels) string { return "s" }, SourcePrometheus), nil
}
