package demo

import (
	"math"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// The fleet's correlation break (a known event for multivariate drift): price-regressor's
// age_years and lot_size_sqft are dependent — older houses stand on larger lots, a Gaussian copula
// with correlation CorrelationRho between the uniform of age_years and the normal of
// log(lot_size_sqft) — in the reference sample and in the records at every time except
// CorrelationBreakStart to CorrelationBreakEnd (UTC, daily), when the two are drawn independently.
// Each feature's own distribution is the same at all times (age_years uniform on 0..89, lot size
// log-normal with median 6,000 and σ 0.5 rounded to 10 sq ft), so univariate drift methods see
// nothing there; only their joint distribution moves, which pca_reconstruction sees.
const (
	CorrelationBreakStart = 2 * time.Hour
	CorrelationBreakEnd   = 4 * time.Hour
	CorrelationRho        = 0.8
)

// CorrelationBreakModel and CorrelationBreakFeatures name the model and the features of the break.
const CorrelationBreakModel = "price-regressor"

// CorrelationBreakFeatures are the two features whose dependence breaks.
var CorrelationBreakFeatures = []string{"age_years", "lot_size_sqft"}

// CorrelationBreakActive reports whether the correlation break is on at t.
func CorrelationBreakActive(t time.Time) bool { return corrBreak(t.UnixNano()) }

func corrBreak(ts int64) bool {
	d := timeOfDay(ts)
	return d >= int64(CorrelationBreakStart) && d < int64(CorrelationBreakEnd)
}

var sqrtOneMinusRho2 = math.Sqrt(1 - CorrelationRho*CorrelationRho)

// lotNormal is the standard normal of log(lot_size_sqft): z (the record's own draw) mixed with the
// normal score of age_years' uniform u, unless age is null or the break is on. ρ·Φ⁻¹(u) +
// √(1−ρ²)·z is standard normal again, so the lot size keeps its distribution.
func lotNormal(u float64, hasAge, brk bool, z float64) float64 {
	if !hasAge || brk {
		return z
	}
	// u = 0 would give −Inf: the smallest uniform of the generator is 2⁻⁵³ apart from it.
	u = math.Max(u, 0x1p-54)
	return CorrelationRho*distuv.UnitNormal.Quantile(u) + sqrtOneMinusRho2*z
}
