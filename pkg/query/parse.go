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
	"github.com/grafana/grafana-plugin-sdk-go/backend/gtime"
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

// quoteName quotes a user-supplied string for a message: at most limits.QuotedNameRunes runes of
// it, followed by "…" when it is longer, so that a huge name is never echoed whole.
func quoteName(s string) string {
	n := 0
	for i := range s {
		if n == limits.QuotedNameRunes {
			return strconv.Quote(s[:i]) + "…"
		}
		n++
	}
	return strconv.Quote(s)
}

// checkLengths rejects any string of the query longer than limits.MaxNameLength bytes.
func checkLengths(q *Query) error {
	check := func(field, v string) error {
		if len(v) > limits.MaxNameLength {
			return userError("%s %s is %d bytes long; at most %d are accepted", field, quoteName(v), len(v), limits.MaxNameLength)
		}
		return nil
	}
	fields := []struct{ name, v string }{{"queryType", string(q.QueryType)}, {"model", q.Model}, {"version", q.Version},
		{"source", q.Source}, {"output", q.Output}, {"window", q.Window}, {"featureView", q.FeatureView},
		{"average", q.Average}, {"positiveClass", q.PositiveClass}, {"scoreOf", q.ScoreOf}}
	if r := q.Reference; r != nil {
		fields = append(fields, struct{ name, v string }{"reference.kind", r.Kind}, struct{ name, v string }{"reference.from", r.From},
			struct{ name, v string }{"reference.to", r.To}, struct{ name, v string }{"reference.offset", r.Offset},
			struct{ name, v string }{"reference.version", r.Version})
	}
	if b := q.Binning; b != nil {
		fields = append(fields, struct{ name, v string }{"binning.strategy", b.Strategy})
	}
	for _, f := range fields {
		if err := check(f.name, f.v); err != nil {
			return err
		}
	}
	for _, list := range []struct {
		name string
		vs   []string
	}{{"feature", q.Features}, {"metric", q.Metrics}, {"drift method", q.Methods}} {
		for _, v := range list.vs {
			if err := check(list.name, v); err != nil {
				return err
			}
		}
	}
	for m := range q.Thresholds {
		if err := check("thresholds method", m); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks a decoded query (see Parse).
func Validate(q *Query) error {
	if err := checkLengths(q); err != nil {
		return err
	}
	if q.QueryType == "" {
		return userError("queryType is required (one of %s)", quoteAll(typeNames()))
	}
	if !oneOf(q.QueryType, QueryTypes) {
		return userError("unknown queryType %s (one of %s)", quoteName(string(q.QueryType)), quoteAll(typeNames()))
	}
	if q.Source != "" && !oneOf(q.Source, Sources) {
		return userError("unknown source %s (one of %s)", quoteName(q.Source), quoteAll(Sources))
	}
	if q.Output != "" {
		if !oneOf(q.Output, Outputs) {
			return userError("unknown output %s (one of %s)", quoteName(q.Output), quoteAll(Outputs))
		}
		if allowed := outputsFor(q.QueryType); !oneOf(q.Output, allowed) {
			return userError("output %q does not apply to %s queries (use %s)", q.Output, q.QueryType, quoteAll(allowed))
		}
	}
	if q.Window != "" {
		d, err := parseDuration(q.Window)
		if err != nil {
			return userError("window %s is not a duration like 30s, 5m, 1h or 1d", quoteName(q.Window))
		}
		if d <= 0 {
			return userError("window %s must be positive", quoteName(q.Window))
		}
	}
	if len(q.Percentiles) > limits.MaxPercentiles {
		return userError("%d percentiles asked for; at most %d are accepted per query", len(q.Percentiles), limits.MaxPercentiles)
	}
	for _, p := range q.Percentiles {
		if !(p > 0 && p <= 100) || math.IsNaN(p) {
			return userError("percentile %v is outside (0, 100]", p)
		}
	}
	if q.QueryType == TypePerformance {
		if err := validatePerformance(q); err != nil {
			return err
		}
	} else if err := validateMetrics(q); err != nil {
		return err
	}
	for _, m := range q.Methods {
		if !oneOf(m, DriftMethods) && !oneOf(m, MultivariateMethods) {
			return userError("unknown drift method %s (one of %s)", quoteName(m), quoteAll(append(append([]string{}, DriftMethods...), MultivariateMethods...)))
		}
	}
	if err := validateMultivariate(q); err != nil {
		return err
	}
	for _, f := range q.Features {
		if strings.TrimSpace(f) == "" {
			return userError("features must not contain an empty name")
		}
	}
	if r := q.Reference; r != nil {
		if err := validateReferenceFields(r); err != nil {
			return err
		}
		switch r.Kind {
		case "", ReferenceDataset:
		case ReferenceOffset, ReferenceVersion:
			if err := validateShiftedReference(q); err != nil {
				return err
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
			to, err := parseTime(r.To, ref, true)
			if err != nil {
				return userError("reference.to: %v", err)
			}
			// A relative and an absolute time can only be ordered when the query runs
			// (referenceWindow); two of a kind are ordered whatever the time.
			if isRelative(r.From) == isRelative(r.To) && !from.Before(to) {
				return userError("reference.from (%s) must be before reference.to (%s)", quoteName(r.From), quoteName(r.To))
			}
		case ReferenceFeast:
			if r.From != "" || r.To != "" {
				return userError("reference.from and reference.to apply only to reference.kind %q", ReferenceWindow)
			}
		default:
			return userError("unknown reference.kind %s (one of %q, %q, %q, %q, %q)", quoteName(r.Kind), ReferenceDataset, ReferenceWindow,
				ReferenceOffset, ReferenceVersion, ReferenceFeast)
		}
	}
	if err := validateFeast(q); err != nil {
		return err
	}
	if b := q.Binning; b != nil {
		if b.Strategy != "" && b.Strategy != BinningQuantile && b.Strategy != BinningEqualWidth {
			return userError("unknown binning.strategy %s (one of %q, %q)", quoteName(b.Strategy), BinningQuantile, BinningEqualWidth)
		}
		if b.Bins != 0 && (b.Bins < limits.MinBins || b.Bins > limits.MaxBins) {
			return userError("binning.bins %d is outside [%d, %d]", b.Bins, limits.MinBins, limits.MaxBins)
		}
	}
	if err := validateActionable(q); err != nil {
		return err
	}
	switch q.QueryType {
	case TypeFreshness:
		return freshnessThresholdRules.validate(q.Thresholds)
	case TypeDataQuality:
		if err := qualityThresholdRules.validate(q.Thresholds); err != nil {
			return err
		}
		_, err := qualityThresholds(q.Thresholds)
		return err
	}
	return driftThresholdRules.validate(q.Thresholds)
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
	case TypeDrift, TypePerformance, TypeDataQuality:
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

// ParseTime resolves a Grafana time expression against now with the SDK's gtime (Grafana's
// datemath): "now", "now-7d", "now-7d/d" (rounded down to the start of the UTC day), "now-1M", a
// Unix time in milliseconds, or an absolute time ("2024-01-02T15:04:05Z", "2024-01-02"). The time
// must lie within the supported times (1677-09-21 to 2262-04-11, see checkRange).
func ParseTime(s string, now time.Time) (time.Time, error) { return parseTime(s, now, false) }

// maxAmountDigits bounds each number in a time expression: datemath adds amounts without overflow
// checks ("now-9223372036854775807s" would wrap), and 9 digits keep every unit's amount exact.
const maxAmountDigits = 9

// maxBusinessDays bounds the business days ("now-10b") one time expression moves by, in total:
// datemath steps through business days one calendar day at a time, so "now-999999999b" would
// take seconds. The supported times span 152,504 business days (TestBusinessDayCap), so no
// expression that needs more can land inside them, and stepping through the cap takes milliseconds.
const maxBusinessDays = 160_000

// businessDays adds up the business-day amounts of a time expression: the digits right before
// each 'b' ("-10b"), or 1 where there are none ("-b"). datemath's lexer has no whitespace, so an
// amount is always adjacent to its unit.
func businessDays(s string) int64 {
	var total int64
	for i := 0; i < len(s); i++ {
		if s[i] != 'b' {
			continue
		}
		j := i
		for j > 0 && s[j-1] >= '0' && s[j-1] <= '9' {
			j--
		}
		n := int64(1)
		if j < i {
			if v, err := strconv.ParseInt(s[j:i], 10, 64); err == nil {
				n = v
			} else {
				n = math.MaxInt64
			}
		}
		if n > math.MaxInt64-total {
			return math.MaxInt64
		}
		total += n
	}
	return total
}

// parseTime is ParseTime; roundUp rounds "/d" up to the end of the unit ("now/d" as the end of a
// range is the end of today), as Grafana does for the end of a time range.
func parseTime(s string, now time.Time, roundUp bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty time")
	}
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("%s is not a time like now-7d, now-7d/d or 2024-01-02T15:04:05Z", quoteName(s))
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil { // not a Unix time in milliseconds
		run := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				run = 0
			} else if run++; run > maxAmountDigits {
				return time.Time{}, fmt.Errorf("%s: an amount has more than %d digits", quoteName(s), maxAmountDigits)
			}
		}
	}
	if businessDays(s) > maxBusinessDays {
		return time.Time{}, fmt.Errorf("%s moves by more than %d business days, beyond the supported times %s to %s",
			quoteName(s), maxBusinessDays, minTime.Format(time.RFC3339), maxTime.Format(time.RFC3339))
	}
	t, err := evalTime(s, now, roundUp)
	if err != nil {
		return bad()
	}
	if t.Before(minTime) || t.After(maxTime) {
		return time.Time{}, fmt.Errorf("%s is %s, outside the supported times %s to %s", quoteName(s),
			t.UTC().Format(time.RFC3339), minTime.Format(time.RFC3339), maxTime.Format(time.RFC3339))
	}
	return t.UTC(), nil
}

// evalTime evaluates s with gtime in UTC. datemath panics on some inputs (an unknown rounding
// unit: "now/b"), which is an invalid time here, not a crash.
func evalTime(s string, now time.Time, roundUp bool) (t time.Time, err error) {
	defer func() {
		if p := recover(); p != nil {
			t, err = time.Time{}, fmt.Errorf("invalid time expression: %v", p)
		}
	}()
	tr := gtime.TimeRange{From: s, To: s, Now: now}
	if roundUp {
		return tr.ParseTo(gtime.WithLocation(time.UTC))
	}
	return tr.ParseFrom(gtime.WithLocation(time.UTC))
}

// isRelative reports whether a time expression depends on now ("now-7d", "now/d", or a bare
// duration such as "7d", which gtime reads as now-7d).
func isRelative(s string) bool {
	a := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	t1, err1 := parseTime(s, a, false)
	t2, err2 := parseTime(s, a.AddDate(3, 0, 0), false)
	return err1 != nil || err2 != nil || !t1.Equal(t2)
}

// referenceWindow resolves a query's reference window against the end of its time range.
func referenceWindow(r *Reference, now time.Time) (time.Time, time.Time, error) {
	from, err := parseTime(r.From, now, false)
	if err != nil {
		return from, from, userError("reference.from: %v", err)
	}
	to, err := parseTime(r.To, now, true)
	if err != nil {
		return from, to, userError("reference.to: %v", err)
	}
	if !from.Before(to) {
		return from, to, userError("reference.from (%s = %s) must be before reference.to (%s = %s)",
			quoteName(r.From), from.UTC().Format(time.RFC3339), quoteName(r.To), to.UTC().Format(time.RFC3339))
	}
	return from, to, nil
}
