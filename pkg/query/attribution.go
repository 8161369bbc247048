package query

import (
	"math"
	"sort"
)

// Drift attribution in the drift table (DESIGN §4 `output: table`): which features carry a
// model's drift.
//
//   - drift share: a feature's hellinger distance over the sum of the hellinger distances of the
//     model's (version's) features in the table. Hellinger is the measure because it is defined for
//     numeric and categorical features alike, bounded in [0, 1] and always computed for the table.
//   - rank: 1 for the feature with the largest share, then in decreasing order (ties keep the table
//     order); features without a value have no rank.
//   - impact (when the model's metadata gives feature importances): w_f · hellinger_f with
//     w_f = importance_f / Σ importance over the table's features that have one, so that the sum
//     row's impact is the importance-weighted mean hellinger distance ("prediction-drift impact":
//     drift in the features the model leans on counts more).

// attribution holds the attribution columns of one model's (version's) feature rows.
type attribution struct {
	rank, share, importance, impact []float64
	// shareSum is 1 when any feature has a share (NaN otherwise); impactSum is Σ impact (NaN
	// when no feature has an importance).
	shareSum, impactSum float64
}

// attribute computes the attribution of feature rows with hellinger distances h and importances
// imp (NaN: none given).
func attribute(h, imp []float64) attribution {
	n := len(h)
	a := attribution{rank: nanSlice(n), share: nanSlice(n), importance: append([]float64(nil), imp...), impact: nanSlice(n),
		shareSum: math.NaN(), impactSum: math.NaN()}
	total, wsum := 0.0, 0.0
	var order []int
	for i, x := range h {
		if !math.IsNaN(x) {
			total += x
			order = append(order, i)
		}
		if !math.IsNaN(imp[i]) {
			wsum += imp[i]
		}
	}
	sort.SliceStable(order, func(x, y int) bool { return h[order[x]] > h[order[y]] })
	for r, i := range order {
		a.rank[i] = float64(r + 1)
		if total > 0 {
			a.share[i] = h[i] / total
		} else {
			a.share[i] = 0
		}
	}
	if len(order) > 0 {
		a.shareSum = 1
		if total == 0 {
			a.shareSum = 0
		}
	}
	if wsum > 0 {
		a.impactSum = 0
		for i := range h {
			if !math.IsNaN(imp[i]) && !math.IsNaN(h[i]) {
				a.impact[i] = imp[i] / wsum * h[i]
				a.impactSum += a.impact[i]
			}
		}
	}
	return a
}

func nanSlice(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}

// importanceOf is a variable's declared importance (NaN: none; prediction and score have none).
func importanceOf(m *driftModel, variable string) float64 {
	if f, ok := m.model.Feature(variable); ok && f.Importance != nil {
		return *f.Importance
	}
	return math.NaN()
}
