package query

import (
	"math"
	"slices"
)

// thresholdRules say which keys a query type's `thresholds` may use and what their levels may be.
// validate checks every key in one order for every query type: a known key, at least one of
// warning and drift, each level given, then (where the rules have them) completeness and order.
type thresholdRules struct {
	// known reports whether m may carry thresholds; unknown is the error when it may not.
	known   func(m string) bool
	unknown func(m string) error
	// needs completes "thresholds.<m> needs ..." when neither warning nor drift is given.
	needs string
	// level checks one level ("warning" or "drift") of m.
	level func(m, name string, x float64) error
	// complete, when set, checks that m's levels stand without defaults.
	complete func(m string, th Threshold) error
	// order, when set, checks warning against drift when both are given.
	order func(m string, w, d float64) error
}

func (r *thresholdRules) validate(over map[string]Threshold) error {
	for m, th := range over {
		if !r.known(m) {
			return r.unknown(m)
		}
		if th.Warning == nil && th.Drift == nil {
			return userError("thresholds.%s needs %s", m, r.needs)
		}
		for _, v := range []struct {
			name string
			v    *float64
		}{{"warning", th.Warning}, {"drift", th.Drift}} {
			if v.v == nil {
				continue
			}
			if err := r.level(m, v.name, *v.v); err != nil {
				return err
			}
		}
		if r.complete != nil {
			if err := r.complete(m, th); err != nil {
				return err
			}
		}
		if r.order != nil && th.Warning != nil && th.Drift != nil {
			if err := r.order(m, *th.Warning, *th.Drift); err != nil {
				return err
			}
		}
	}
	return nil
}

// warningAtMostDrift is the order of levels that grow with drift (or age).
func warningAtMostDrift(m string, w, d float64) error {
	if w > d {
		return userError("thresholds.%s: warning (%v) must be <= drift (%v)", m, w, d)
	}
	return nil
}

// finiteNonNegative reports whether x is a number >= 0 and not +Inf (NaN is not).
func finiteNonNegative(x float64) bool { return x >= 0 && !math.IsInf(x, 1) }

// pValueThreshold reports whether m's levels are p-values (low means drift).
func pValueThreshold(m string) bool {
	return slices.Contains(lowerIsWorse, m) || isSignificancePValue(m)
}

// driftThresholdRules are the thresholds of drift-like queries: keyed by a drift method (not
// status) or a significance p-value; p-values in [0, 1] with warning >= drift, other measures
// finite and >= 0 with warning <= drift; a method without defaults needs both levels.
var driftThresholdRules = thresholdRules{
	known: func(m string) bool { return m != MethodStatus && (oneOf(m, DriftMethods) || isSignificancePValue(m)) },
	unknown: func(m string) error {
		return userError("thresholds for unknown method %s (one of the drift methods except status)", quoteName(m))
	},
	needs: "warning, drift or both",
	level: func(m, name string, x float64) error {
		if pValueThreshold(m) {
			if !(x >= 0 && x <= 1) {
				return userError("thresholds.%s.%s (%v) must be a p-value in [0, 1]", m, name, x)
			}
		} else if !finiteNonNegative(x) {
			return userError("thresholds.%s.%s (%v) must be a finite number >= 0 (%s is never negative)", m, name, x, m)
		}
		return nil
	},
	complete: func(m string, th Threshold) error {
		if !slices.Contains(methodsWithDefaults, m) && !isSignificancePValue(m) && (th.Warning == nil || th.Drift == nil) {
			return userError("thresholds.%s needs both warning and drift (%s has no default thresholds)", m, m)
		}
		return nil
	},
	order: func(m string, w, d float64) error {
		if pValueThreshold(m) {
			if w < d {
				return userError("thresholds.%s: warning (%v) must be >= drift (%v) for a p-value", m, w, d)
			}
			return nil
		}
		return warningAtMostDrift(m, w, d)
	},
}

// freshnessThresholdRules are a freshness query's thresholds: ages in seconds for
// sinceNewestEvent or sinceMaterialized, warning <= drift (the stale level).
var freshnessThresholdRules = thresholdRules{
	known: func(m string) bool { return oneOf(m, FreshnessMeasures) },
	unknown: func(m string) error {
		return userError("thresholds for unknown freshness measure %s (one of %s)", quoteName(m), quoteAll(FreshnessMeasures))
	},
	needs: "warning, drift (stale) or both, in seconds",
	level: func(m, _ string, x float64) error {
		if !finiteNonNegative(x) {
			return userError("thresholds.%s: %v is not a finite number of seconds >= 0", m, x)
		}
		return nil
	},
	order: warningAtMostDrift,
}

// qualityThresholdRules are dataQuality thresholds: keyed by a data-quality metric (not status),
// each a share in [0, 1]; the order is checked by qualityThresholds once defaults fill a level
// not given.
var qualityThresholdRules = thresholdRules{
	known: func(m string) bool { return m != QualityStatus && oneOf(m, QualityMetrics) },
	unknown: func(m string) error {
		return userError("thresholds for unknown data-quality metric %s (one of %q, %q, %q, %q)", quoteName(m),
			QualityNullRatio, QualityOutOfRange, QualityNewCategory, QualityTypeMismatch)
	},
	needs: "warning, drift or both",
	level: func(m, name string, x float64) error {
		if !(x >= 0 && x <= 1) {
			return userError("thresholds.%s.%s (%v) must be a share in [0, 1]", m, name, x)
		}
		return nil
	},
}
