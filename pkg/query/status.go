package query

import (
	"math"
	"strconv"
)

// The drift status rule of DESIGN §5: default thresholds per method name and the classification
// of a value against them. It belongs to the query vocabulary (method names); pkg/stats computes
// the values.

// Status is the drift status of a measure: 0 ok, 1 warning, 2 drift. Larger is worse.
type Status int

// Drift statuses (the numbers are the `status` values of DESIGN §4).
const (
	StatusOK      Status = 0
	StatusWarning Status = 1
	StatusDrift   Status = 2
)

// String returns "ok", "warning" or "drift" ("Status(n)" for other values).
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusWarning:
		return "warning"
	case StatusDrift:
		return "drift"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// statusThreshold holds the warning and drift limits of one measure. For a distance (LowerIsWorse
// false) a value >= Drift is drift and a value >= Warning is a warning; for a p-value
// (LowerIsWorse true) a value < Drift is drift and a value < Warning is a warning.
type statusThreshold struct {
	Warning, Drift float64
	LowerIsWorse   bool
}

// defaultThreshold returns the default limits of DESIGN §5 for a method name of the query model:
// psi 0.1/0.25; ks_pvalue and chi2_pvalue below 0.15/0.05; js 0.05/0.1; wasserstein_norm
// 0.05/0.1; hellinger 0.15/0.4; kld 0.1/0.2; linf 0.1/0.2; mlrun 0.5/0.7. Methods without a
// default (ks, wasserstein, tvd, chi2, unknown names) give false.
func defaultThreshold(method string) (statusThreshold, bool) {
	switch method {
	case MethodPSI:
		return statusThreshold{Warning: 0.1, Drift: 0.25}, true
	case MethodKSPValue, MethodChi2PValue:
		return statusThreshold{Warning: 0.15, Drift: 0.05, LowerIsWorse: true}, true
	case MethodJS:
		return statusThreshold{Warning: 0.05, Drift: 0.1}, true
	case MethodWassersteinNorm:
		return statusThreshold{Warning: 0.05, Drift: 0.1}, true
	case MethodHellinger:
		return statusThreshold{Warning: 0.15, Drift: 0.4}, true
	case MethodKLD:
		return statusThreshold{Warning: 0.1, Drift: 0.2}, true
	case MethodLInf:
		return statusThreshold{Warning: 0.1, Drift: 0.2}, true
	case MethodMLRun:
		return statusThreshold{Warning: 0.5, Drift: 0.7}, true
	}
	return statusThreshold{}, false
}

// classify returns the status of v under th (drift is checked before warning, so a threshold with
// Warning beyond Drift still reports drift). A NaN v gives (StatusOK, false): no status.
// ±Inf are ordinary values (+Inf is drift for a distance, -Inf for a p-value).
func classify(v float64, th statusThreshold) (Status, bool) {
	if math.IsNaN(v) {
		return StatusOK, false
	}
	if th.LowerIsWorse {
		switch {
		case v < th.Drift:
			return StatusDrift, true
		case v < th.Warning:
			return StatusWarning, true
		}
		return StatusOK, true
	}
	switch {
	case v >= th.Drift:
		return StatusDrift, true
	case v >= th.Warning:
		return StatusWarning, true
	}
	return StatusOK, true
}

// worst returns the worse (larger) of two statuses.
func worst(a, b Status) Status {
	if b > a {
		return b
	}
	return a
}

// defaultQualityThreshold returns the data-quality limits of DESIGN §5 (shares of a window's
// records): nullRatio 0.05 / 0.2, outOfRange 0.05 / 0.2, newCategory 0.01 / 0.05, typeMismatch
// 0.001 / 0.01. A share at or above the drift limit is status 2, at or above the warning limit 1.
func defaultQualityThreshold(metric string) (statusThreshold, bool) {
	switch metric {
	case QualityNullRatio, QualityOutOfRange:
		return statusThreshold{Warning: 0.05, Drift: 0.2}, true
	case QualityNewCategory:
		return statusThreshold{Warning: 0.01, Drift: 0.05}, true
	case QualityTypeMismatch:
		return statusThreshold{Warning: 0.001, Drift: 0.01}, true
	}
	return statusThreshold{}, false
}

// qualityThresholds merges a dataQuality query's overrides with the defaults.
func qualityThresholds(over map[string]Threshold) (map[string]statusThreshold, error) {
	out := map[string]statusThreshold{}
	for _, m := range QualityMetrics {
		th, ok := defaultQualityThreshold(m)
		if !ok {
			continue
		}
		if o, ok := over[m]; ok {
			if o.Warning != nil {
				th.Warning = *o.Warning
			}
			if o.Drift != nil {
				th.Drift = *o.Drift
			}
			if th.Warning > th.Drift {
				return nil, userError("thresholds.%s: warning (%v) must be <= drift (%v) (a default fills the one not given)", m, th.Warning, th.Drift)
			}
		}
		out[m] = th
	}
	return out, nil
}
