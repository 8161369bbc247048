package stats

import (
	"math"
	"slices"
)

// Multiple-testing adjustments of p-values (DESIGN §5 "Multiple testing"). NaN p-values are left
// NaN and are not counted among the m tests; the others must lie in [0, 1].

// AdjustBonferroni returns min(1, p·m) for each p, m = the number of non-NaN p-values
// (= statsmodels.stats.multitest.multipletests(p, method='bonferroni')[1]).
func AdjustBonferroni(p []float64) []float64 {
	m := 0
	for _, x := range p {
		if !math.IsNaN(x) {
			m++
		}
	}
	out := make([]float64, len(p))
	for i, x := range p {
		out[i] = math.Min(1, x*float64(m))
	}
	return out
}

// AdjustBH returns the Benjamini–Hochberg adjusted p-values: with the m non-NaN p-values sorted
// ascending p_(1) <= ... <= p_(m), adj_(i) = min_{j>=i} min(1, p_(j)·m/j), given back in the input
// order (= statsmodels.stats.multitest.multipletests(p, method='fdr_bh')[1]).
func AdjustBH(p []float64) []float64 {
	out := make([]float64, len(p))
	order := make([]int, 0, len(p))
	for i, x := range p {
		out[i] = math.NaN()
		if !math.IsNaN(x) {
			order = append(order, i)
		}
	}
	// Stable, so that equal p-values keep statsmodels' (mergesort) order; their adjusted values
	// are equal anyway.
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case p[a] < p[b]:
			return -1
		case p[a] > p[b]:
			return 1
		}
		return 0
	})
	m := float64(len(order))
	run := 1.0
	for j := len(order) - 1; j >= 0; j-- {
		i := order[j]
		run = math.Min(run, p[i]*m/float64(j+1))
		out[i] = math.Min(1, run)
	}
	return out
}
