package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/offline"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/online"
)

// feastStores are the Feast stores one query reads.
type feastStores struct {
	Project string
	// Online is the online store (nil: not configured).
	Online online.Store
	// Offline is the offline store database (nil: not configured).
	Offline FeastOffline
	now     func() time.Time
}

// FeastOffline is what the Feast query types read from the offline store (pkg/source/feast/offline).
type FeastOffline interface {
	FeatureMetrics(ctx context.Context, q offline.MetricsQuery) ([]offline.MetricRow, bool, error)
	AsOf(ctx context.Context, q offline.AsOfQuery) ([]offline.AsOfRow, error)
}

func (f *feastStores) Now() time.Time {
	if f.now != nil {
		return f.now()
	}
	return time.Now()
}

// Lookup statuses (Feast's FieldStatus names).
const (
	StatusPresent       = "PRESENT"
	StatusNotFound      = "NOT_FOUND"
	StatusNullValue     = "NULL_VALUE"
	StatusOutsideMaxAge = "OUTSIDE_MAX_AGE"
)

// LookupStatuses lists the lookup statuses in series order.
var LookupStatuses = []string{StatusPresent, StatusNotFound, StatusNullValue, StatusOutsideMaxAge}

// featureStats metrics (columns of feast_monitoring_feature_metrics).
const (
	StatNullRate  = "nullRate"
	StatNullCount = "nullCount"
	StatRowCount  = "rowCount"
	StatMean      = "mean"
	StatStddev    = "stddev"
	StatMin       = "min"
	StatMax       = "max"
	StatP50       = "p50"
	StatP75       = "p75"
	StatP90       = "p90"
	StatP95       = "p95"
	StatP99       = "p99"
)

// FeatureStatsMetrics lists the accepted `metrics` of featureStats queries.
var FeatureStatsMetrics = []string{StatNullRate, StatNullCount, StatRowCount, StatMean, StatStddev, StatMin, StatMax,
	StatP50, StatP75, StatP90, StatP95, StatP99}

// DefaultFeatureStatsMetrics are the featureStats metrics when none are asked for.
var DefaultFeatureStatsMetrics = []string{StatNullRate, StatMean, StatStddev, StatP50, StatP95, StatRowCount}

// skew metrics.
const (
	SkewMismatch    = "mismatch"
	SkewMeanAbsDiff = "meanAbsDiff"
	SkewNotFound    = "notFound"
	SkewCompared    = "compared"
)

// SkewMetrics lists the accepted `metrics` of skew queries.
var SkewMetrics = []string{SkewMismatch, SkewMeanAbsDiff, SkewNotFound, SkewCompared}

// DefaultSkewMetrics are the skew metrics when none are asked for.
var DefaultSkewMetrics = []string{SkewMismatch, SkewMeanAbsDiff}

// metricsFor lists the `metrics` a query type accepts (nil: it takes none but traffic's, the
// historical default).
func metricsFor(t QueryType) ([]string, string) {
	switch t {
	case TypeFeatureStats:
		return FeatureStatsMetrics, "featureStats metric"
	case TypeSkew:
		return SkewMetrics, "skew metric"
	case TypeDataQuality:
		return QualityMetrics, "data-quality metric"
	case TypeSaturation:
		return SaturationMetrics, "saturation metric"
	case TypeFreshness:
		return FreshMetrics, "freshness metric"
	}
	return TrafficMetrics, "traffic metric"
}

// validateMetrics checks `metrics` against the query type's vocabulary.
func validateMetrics(q *Query) error {
	allowed, what := metricsFor(q.QueryType)
	for _, m := range q.Metrics {
		if !oneOf(m, allowed) {
			return userError("unknown %s %s (one of %s)", what, quoteName(m), quoteAll(allowed))
		}
	}
	return nil
}

// validateFeast checks the Feast fields: featureView and the entities' join-key objects.
func validateFeast(q *Query) error {
	if strings.TrimSpace(q.FeatureView) != q.FeatureView {
		return userError("featureView %s has leading or trailing spaces", quoteName(q.FeatureView))
	}
	if len(q.Entities) > 0 && q.QueryType != TypeLookups && q.QueryType != TypeSkew {
		return userError("entities apply only to %s and %s queries", TypeLookups, TypeSkew)
	}
	for i, e := range q.Entities {
		if len(e) == 0 {
			return userError("entities[%d] is empty: give join keys and values, e.g. {\"driver_id\": 1001}", i)
		}
		if len(e) > 64 {
			return userError("entities[%d] has %d join keys; at most 64 are accepted", i, len(e))
		}
		for k, v := range e {
			if k == "" || len(k) > limits.MaxNameLength {
				return userError("entities[%d] has an empty or too long join key", i)
			}
			switch x := v.(type) {
			case float64:
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return userError("entities[%d].%s is not a finite number", i, quoteName(k))
				}
			case string:
				if len(x) > limits.MaxNameLength {
					return userError("entities[%d].%s is longer than %d bytes", i, quoteName(k), limits.MaxNameLength)
				}
			default:
				return userError("entities[%d].%s must be a number or a string, not %s", i, quoteName(k), entityJSONKind(v))
			}
		}
	}
	return nil
}

func entityJSONKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "true or false"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// feast returns the Feast stores a query type needs, or a user error saying what to configure.
func (h *Handler) feast(t QueryType, needOnline, needOffline bool) (*feastStores, error) {
	if h.deps.Feast == nil {
		return nil, userError("%s queries read a Feast feature store: %v", t, feast.ErrNotConfigured)
	}
	fd := &feastStores{Project: h.deps.Feast.Project(), Online: h.deps.FeastLookups, Offline: h.deps.FeastOffline, now: h.deps.FeastNow}
	if needOnline && fd.Online == nil {
		return nil, userError("%s queries read Feast's online store: set feast.onlineStore in the data source settings", t)
	}
	if needOffline && fd.Offline == nil {
		return nil, userError("%s queries read Feast's offline store: set feast.offlineStore.url in the data source settings", t)
	}
	return fd, nil
}

// feastError marks an error of the feature store as downstream (its message says which store).
func feastError(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return backend.DownstreamError(fmt.Errorf("%s: %w", what, err))
	}
	var ws backend.ErrorWithSource
	if errors.As(err, &ws) {
		return err
	}
	return backend.DownstreamError(fmt.Errorf("%s: %w", what, err))
}

// feastViews returns the registry and the feature views a query covers: q.FeatureView, or every
// view of the project that keep accepts (sorted by name).
func (h *Handler) feastViews(ctx context.Context, q *Query, keep func(*feast.FeatureView) bool) (*feast.Registry, []*feast.FeatureView, error) {
	reg, views, err := h.featureViews(ctx, q.FeatureView)
	if err != nil {
		if errors.Is(err, feast.ErrUnknownFeatureView) {
			return nil, nil, userError("%v", err)
		}
		return nil, nil, feastError("feast registry", err)
	}
	if q.FeatureView != "" && q.FeatureView != "*" {
		return reg, views, nil
	}
	out := views[:0:0]
	for _, v := range views {
		if v != nil && (keep == nil || keep(v)) {
			out = append(out, v)
		}
	}
	return reg, out, nil
}

// entityValue converts a join-key value (a JSON number or string from a query, a record's number
// or category) to a Feast entity value of the join key's type; false when it cannot be one.
func entityValue(v any, t feast.ValueType) (online.Value, bool) {
	var num float64
	var str string
	isNum := false
	switch x := v.(type) {
	case float64:
		num, isNum = x, true
	case int64:
		num, isNum = float64(x), true
		if t == feast.ValueInt64 || t == feast.ValueUnixTimestamp || t == feast.ValueInvalid {
			return online.Value{Type: online.TypeInt64, Int: x}, true
		}
	case string:
		str = x
	default:
		return online.Value{}, false
	}
	integral := isNum && num == math.Trunc(num) && math.Abs(num) <= 1<<53
	switch t {
	case feast.ValueInt64, feast.ValueUnixTimestamp, feast.ValueInvalid:
		vt := online.TypeInt64
		if t == feast.ValueUnixTimestamp {
			vt = online.TypeUnixTimestamp
		}
		if integral {
			return online.Value{Type: vt, Int: int64(num)}, true
		}
		if !isNum {
			if n, err := strconv.ParseInt(strings.TrimSpace(str), 10, 64); err == nil {
				return online.Value{Type: vt, Int: n}, true
			}
			if t == feast.ValueInvalid {
				return online.String(str), true
			}
		}
		return online.Value{}, false
	case feast.ValueInt32:
		if integral && num >= math.MinInt32 && num <= math.MaxInt32 {
			return online.Int32(int32(num)), true
		}
		if !isNum {
			if n, err := strconv.ParseInt(strings.TrimSpace(str), 10, 32); err == nil {
				return online.Int32(int32(n)), true
			}
		}
		return online.Value{}, false
	case feast.ValueString:
		if isNum {
			if integral {
				return online.String(strconv.FormatInt(int64(num), 10)), true
			}
			return online.String(strconv.FormatFloat(num, 'g', -1, 64)), true
		}
		return online.String(str), true
	case feast.ValueBytes:
		if !isNum {
			return online.Bytes([]byte(str)), true
		}
	}
	return online.Value{}, false
}

// entityKey builds the entity key of a view from a probe (join key → value); false when the probe
// lacks one of the view's join keys or a value cannot have the key's type.
func entityKey(probe map[string]any, joinKeys []feast.Field) (online.EntityKey, bool) {
	k := online.EntityKey{JoinKeys: make([]string, 0, len(joinKeys)), Values: make([]online.Value, 0, len(joinKeys))}
	for _, jk := range joinKeys {
		raw, ok := probe[jk.Name]
		if !ok {
			return k, false
		}
		v, ok := entityValue(raw, jk.ValueType)
		if !ok {
			return k, false
		}
		k.JoinKeys = append(k.JoinKeys, jk.Name)
		k.Values = append(k.Values, v)
	}
	return k, len(k.JoinKeys) > 0
}

// recordValue is a record's value of a variable as a float64 or a string; nil for null or absent.
func recordValue(c *source.Column, i int) any {
	if c == nil || i >= c.Len() {
		return nil
	}
	if c.Kind == source.Categorical {
		code := c.Cat[i]
		if code < 0 || int(code) >= len(c.Dict) {
			return nil
		}
		return c.Dict[code]
	}
	x := c.Num[i]
	if math.IsNaN(x) {
		return nil
	}
	return x
}

// recordSource is the source of prediction records for the Feast query types: `feast` (or auto)
// means wherever the model's records are.
func recordSource(s string) string {
	if s == SourceFeast {
		return SourceAuto
	}
	return s
}

// probeKey is a canonical text of a probe, for de-duplication.
func probeKey(p map[string]any) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(strconv.Quote(k))
		b.WriteByte('=')
		switch x := p[k].(type) {
		case float64:
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		case string:
			b.WriteString(strconv.Quote(x))
		default:
			fmt.Fprint(&b, x)
		}
		b.WriteByte(';')
	}
	return b.String()
}

// probeSet returns the probe set of a lookups query: the query's entities, or the distinct
// combinations of the views' join keys in the model's prediction records of the range, newest
// first; at most limits.FeastMaxProbeEntities, with a warning notice beyond.
func (h *Handler) probeSet(ctx context.Context, r *request, reg *feast.Registry, views []*feast.FeatureView) ([]map[string]any, []data.Notice, error) {
	q := &r.q
	if len(q.Entities) > 0 {
		probes := q.Entities
		var notices []data.Notice
		if len(probes) > limits.FeastMaxProbeEntities {
			notices = append(notices, frames.WarningNotice(fmt.Sprintf("%d entities given: only the first %d are probed (limit)",
				len(probes), limits.FeastMaxProbeEntities)))
			probes = probes[:limits.FeastMaxProbeEntities]
		}
		return probes, notices, nil
	}
	if q.Model == "" {
		return nil, nil, userError("%s queries need entities (a list of join-key objects such as {\"driver_id\": 1001}) or a model whose prediction records carry the join keys", q.QueryType)
	}
	keyNames := map[string]bool{}
	for _, v := range views {
		for _, jk := range reg.JoinKeys(v) {
			keyNames[jk.Name] = true
		}
	}
	src, err := h.recordsSource(ctx, recordSource(q.Source), q.Model, "the default probe set comes from prediction records, which source %q does not have; give entities")
	if err != nil {
		return nil, nil, err
	}
	models, notices, err := h.queryModels(ctx, src, q)
	if err != nil {
		return nil, nil, err
	}
	got, fnotices, err := h.fetchRecords(ctx, src, models, q.Version, r.dq.TimeRange.From, r.dq.TimeRange.To)
	if err != nil {
		return nil, nil, err
	}
	notices = append(notices, fnotices...)
	seen := map[string]bool{}
	var probes []map[string]any
	total := 0
	for _, f := range got {
		b := f.batch
		var cols []string
		for name := range keyNames {
			if b.Features[name] != nil {
				cols = append(cols, name)
			}
		}
		sort.Strings(cols)
		if len(cols) == 0 {
			continue
		}
		for i := b.Len() - 1; i >= 0; i-- {
			if i%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, nil, err
				}
			}
			p := make(map[string]any, len(cols))
			for _, c := range cols {
				if v := recordValue(b.Features[c], i); v != nil {
					p[c] = v
				}
			}
			if len(p) == 0 {
				continue
			}
			k := probeKey(p)
			if seen[k] {
				continue
			}
			seen[k] = true
			total++
			if len(probes) < limits.FeastMaxProbeEntities {
				probes = append(probes, p)
			}
		}
	}
	if len(probes) == 0 {
		names := make([]string, 0, len(keyNames))
		for k := range keyNames {
			names = append(names, k)
		}
		sort.Strings(names)
		return nil, nil, userError("the prediction records of %s in the time range carry none of the join keys %s: give entities",
			quoteName(q.Model), quoteAll(names))
	}
	if total > len(probes) {
		notices = append(notices, frames.WarningNotice(fmt.Sprintf("the records hold %d distinct entities: the newest %d are probed (limit)",
			total, len(probes))))
	}
	notices = append(notices, frames.InfoNotice(fmt.Sprintf("probe set: %d entities from the prediction records of %s", len(probes), q.Model)))
	return probes, notices, nil
}
