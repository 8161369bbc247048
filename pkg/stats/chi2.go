package stats

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// Chi2 returns Pearson's chi-square test of homogeneity of the 2×k table [refCounts; curCounts],
// as scipy.stats.chi2_contingency([ref, cur], correction=False): expected counts
// E_ij = row_i·col_j/total, stat = Σ (O_ij − E_ij)²/E_ij, dof = k' − 1 and
// pvalue = P(χ²_dof >= stat) = Q(dof/2, stat/2), the regularised upper incomplete gamma function
// (cephes igamc, which scipy's chi2.sf uses too).
//
// Categories empty in both rows are dropped first (scipy would reject the zero expected count), k'
// being the number left. Fewer than 2 categories left (both rows in one category, a 2×1 table)
// give scipy's answer for zero degrees of freedom, (0, 1, 0): the samples cannot differ. An empty
// row (all zero), lengths that differ, or a negative, infinite or NaN count give (NaN, NaN, 0).
// Counts need not be integers.
func Chi2(refCounts, curCounts []float64) (stat, pvalue float64, dof int) {
	nan := math.NaN()
	if len(refCounts) != len(curCounts) {
		return nan, nan, 0
	}
	var r0, r1 float64
	k := 0
	for i := range refCounts {
		a, b := refCounts[i], curCounts[i]
		if !(a >= 0 && b >= 0) || math.IsInf(a, 1) || math.IsInf(b, 1) {
			return nan, nan, 0
		}
		if a+b > 0 {
			k++
		}
		r0 += a
		r1 += b
	}
	if !(r0 > 0 && r1 > 0) {
		return nan, nan, 0
	}
	if k < 2 {
		return 0, 1, 0
	}
	total := r0 + r1
	for i := range refCounts {
		a, b := refCounts[i], curCounts[i]
		col := a + b
		if col == 0 {
			continue
		}
		e0 := r0 * col / total
		e1 := r1 * col / total
		stat += (a-e0)*(a-e0)/e0 + (b-e1)*(b-e1)/e1
	}
	dof = k - 1
	return stat, ChiSquareSF(stat, dof), dof
}

// ChiSquareSF returns the survival function of the chi-square distribution with dof degrees of
// freedom at x, P(χ²_dof >= x) = Q(dof/2, x/2) (scipy.stats.chi2.sf(x, dof)). x <= 0 gives 1;
// dof < 1 or x NaN gives NaN.
func ChiSquareSF(x float64, dof int) float64 {
	if dof < 1 || x != x {
		return math.NaN()
	}
	if x <= 0 {
		return 1
	}
	if math.IsInf(x, 1) {
		return 0
	}
	return mathext.GammaIncRegComp(float64(dof)/2, x/2)
}
