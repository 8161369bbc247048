package query

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// methodsWithDefaults are the drift methods that have default thresholds (DESIGN §5); an override
// for any other method must give both warning and drift.
var methodsWithDefaults = []string{MethodPSI, MethodKSPValue, MethodChi2PValue, MethodJS, MethodWassersteinNorm,
	MethodHellinger, MethodKLD, MethodLInf, MethodMLRun}

// lowerIsWorse are the methods whose low values mean drift (p-values).
var lowerIsWorse = []string{MethodKSPValue, MethodChi2PValue}

// BadQueryError is a mistake in a query (or resource request) that the user can fix. It is
// reported with ErrorSource downstream.
type BadQueryError struct{ err error }

func (e *BadQueryError) Error() string { return e.err.Error() }
func (e *BadQueryError) Unwrap() error { return e.err }

// UserError reports that the error is the user's to fix.
func (e *BadQueryError) UserError() bool { return true }

// userError is a mistake in a query: reported to that query with ErrorSource downstream.
func userError(format string, args ...any) error {
	return backend.DownstreamError(&BadQueryError{fmt.Errorf(format, args...)})
}

// Parse decodes and validates one query's JSON (DESIGN §4 and §8). Every error says which field to
// fix and is a downstream (user) error. It does not fill in defaults and does not need a source:
// unknown models and features are found when the query runs.
func Parse(raw json.RawMessage) (Query, error) {
	var q Query
	if len(bytes.TrimSpace(raw)) == 0 {
		return q, userError("empty query")
	}
	if err := json.Unmarshal(raw, &q); err != nil {
		return q, userError("invalid query JSON: %s", jsonErrorText(err))
	}
	if err := Validate(&q); err != nil {
		return q, err
	}
	return q, nil
}

func jsonErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("field %q must be %s, not a JSON %s", te.Field, jsonTypeName(te.Type), te.Value)
		}
		return fmt.Sprintf("must be %s, not a JSON %s", jsonTypeName(te.Type), te.Value)
	}
	return err.Error()
}

// jsonTypeName names a Go type of the query model as a JSON type ("a list of numbers").
func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		switch t.Elem().Kind() {
		case reflect.String:
			return "a list of strings"
		case reflect.Float32, reflect.Float64:
			return "a list of numbers"
		}
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	}
	return "a " + t.String()
}

func oneOf[T ~string](v T, allowed []T) bool { return slices.Contains(allowed, v) }

func quoteAll(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

// Validate checks a decoded query (see Parse).
func Validate(q *Query) error {
	if q.QueryType == "" {
		return userError("queryType is required (one of %s)", quoteAll(typeNames()))
	}
	if !oneOf(q.QueryType, QueryTypes) {
		return userError("unknown queryType %q (one of %s)", q.QueryType, quoteAll(typeNames()))
	}
	if q.Source != "" && !oneOf(q.Source, Sources) {
		return userError("unknown source %q (one of %s)", q.Source, quoteAll(Sources))
	}
	if q.Output != "" {
		if !oneOf(q.Output, Outputs) {
			return userError("unknown output %q (one of %s)", q.Output, quoteAll(Outputs))
		}
		if allowed := outputsFor(q.QueryType); !oneOf(q.Output, allowed) {
			return userError("output %q does not apply to %s queries (use %s)", q.Output, q.QueryType, quoteAll(allowed))
		}
	}
	if q.Window != "" {
		d, err := parseDuration(q.Window)
		if err != nil {
			return userError("window %q is not a duration like 30s, 5m, 1h or 1d", q.Window)
		}
		if d <= 0 {
			return userError("window %q must be positive", q.Window)
		}
	}
	for _, p := range q.Percentiles {
		if !(p > 0 && p <= 100) || math.IsNaN(p) {
			return userError("percentile %v is outside (0, 100]", p)
		}
	}
	for _, m := range q.Metrics {
		if !oneOf(m, TrafficMetrics) {
			return userError("unknown traffic metric %q (one of %s)", m, quoteAll(TrafficMetrics))
		}
	}
	for _, m := range q.Methods {
		if !oneOf(m, DriftMethods) {
			return userError("unknown drift method %q (one of %s)", m, quoteAll(DriftMethods))
		}
	}
	for _, f := range q.Features {
		if strings.TrimSpace(f) == "" {
			return userError("features must not contain an empty name")
		}
	}
	if r := q.Reference; r != nil {
		switch r.Kind {
		case "", ReferenceDataset:
			if r.From != "" || r.To != "" {
				return userError("reference.from and reference.to apply only to reference.kind %q", ReferenceWindow)
			}
		case ReferenceWindow:
			if r.From == "" || r.To == "" {
				return userError("reference.kind %q needs both reference.from and reference.to (e.g. now-7d and now-6d)", ReferenceWindow)
			}
			ref := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
			from, err := ParseTime(r.From, ref)
			if err != nil {
				return userError("reference.from: %v", err)
			}
			to, err := ParseTime(r.To, ref)
			if err != nil {
				return userError("reference.to: %v", err)
			}
			// A relative and an absolute time can only be ordered when the query runs
			// (referenceWindow); two of a kind are ordered whatever the time.
			if isRelative(r.From) == isRelative(r.To) && !from.Before(to) {
				return userError("reference.from (%s) must be before reference.to (%s)", r.From, r.To)
			}
		default:
			return userError("unknown reference.kind %q (one of %q, %q)", r.Kind, ReferenceDataset, ReferenceWindow)
		}
	}
	if b := q.Binning; b != nil {
		if b.Strategy != "" && b.Strategy != BinningQuantile && b.Strategy != BinningEqualWidth {
			return userError("unknown binning.strategy %q (one of %q, %q)", b.Strategy, BinningQuantile, BinningEqualWidth)
		}
		if b.Bins != 0 && (b.Bins < limits.MinBins || b.Bins > limits.MaxBins) {
			return userError("binning.bins %d is outside [%d, %d]", b.Bins, limits.MinBins, limits.MaxBins)
		}
	}
	for m, th := range q.Thresholds {
		if m == MethodStatus || !oneOf(m, DriftMethods) {
			return userError("thresholds for unknown method %q (one of the drift methods except status)", m)
		}
		if th.Warning == nil && th.Drift == nil {
			return userError("thresholds.%s needs warning, drift or both", m)
		}
		if !slices.Contains(methodsWithDefaults, m) && (th.Warning == nil || th.Drift == nil) {
			return userError("thresholds.%s needs both warning and drift (%s has no default thresholds)", m, m)
		}
		if th.Warning != nil && th.Drift != nil {
			w, d := *th.Warning, *th.Drift
			if slices.Contains(lowerIsWorse, m) {
				if w < d {
					return userError("thresholds.%s: warning (%v) must be >= drift (%v) for a p-value", m, w, d)
				}
			} else if w > d {
				return userError("thresholds.%s: warning (%v) must be <= drift (%v)", m, w, d)
			}
		}
	}
	return nil
}

func typeNames() []string {
	out := make([]string, len(QueryTypes))
	for i, t := range QueryTypes {
		out[i] = string(t)
	}
	return out
}

// outputsFor lists the outputs a query type answers with; the first is its default.
func outputsFor(t QueryType) []string {
	switch t {
	case TypeEndpoints, TypeDistribution:
		return []string{OutputTable}
	case TypeHealth:
		return []string{OutputLatest}
	case TypeDrift:
		return []string{OutputTimeSeries, OutputLatest, OutputTable}
	default:
		return []string{OutputTimeSeries, OutputLatest}
	}
}

// parseDuration parses a Grafana duration: Go's units ("30s", "5m", "1h", "1h30m", "500ms") or a
// whole number of days, weeks or years ("1d", "2w", "1y"; a year is 365 days), as Grafana's
// interval syntax allows.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return time.ParseDuration(s)
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n < 0 || n > int64(math.MaxInt64/unit) {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return time.Duration(n) * unit, nil
}

// ParseTime resolves a Grafana relative time ("now", "now-7d", "now-1h") against now, or parses an
// RFC 3339 time.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty time")
	}
	if s == "now" {
		return now, nil
	}
	if rest, ok := strings.CutPrefix(s, "now"); ok {
		if strings.Contains(rest, "/") {
			return time.Time{}, fmt.Errorf("%q: rounding (/d) is not supported; use now-7d or an RFC 3339 time", s)
		}
		sign := time.Duration(1)
		switch {
		case strings.HasPrefix(rest, "-"):
			sign = -1
		case strings.HasPrefix(rest, "+"):
		default:
			return time.Time{}, fmt.Errorf("%q is not a time like now-7d or 2024-01-02T15:04:05Z", s)
		}
		d, err := parseDuration(rest[1:])
		if err != nil || d < 0 {
			return time.Time{}, fmt.Errorf("%q is not a time like now-7d or 2024-01-02T15:04:05Z", s)
		}
		return now.Add(sign * d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a time like now-7d or 2024-01-02T15:04:05Z", s)
	}
	return t, nil
}

// isRelative reports whether a time is relative to now ("now-7d").
func isRelative(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "now") }

// referenceWindow resolves a query's reference window against the end of its time range.
func referenceWindow(r *Reference, now time.Time) (time.Time, time.Time, error) {
	from, err := ParseTime(r.From, now)
	if err != nil {
		return from, from, userError("reference.from: %v", err)
	}
	to, err := ParseTime(r.To, now)
	if err != nil {
		return from, to, userError("reference.to: %v", err)
	}
	if !from.Before(to) {
		return from, to, userError("reference.from (%s = %s) must be before reference.to (%s = %s)",
			r.From, from.UTC().Format(time.RFC3339), r.To, to.UTC().Format(time.RFC3339))
	}
	return from, to, nil
}
