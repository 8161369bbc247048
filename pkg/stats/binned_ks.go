package stats

import "math"

// Prometheus-style histograms: interior bounds e0 < e1 < ... < e_{k-1} define k+1 buckets where,
// unlike the bins of Counts, each bucket includes its upper bound (the `le` label): bucket 0 =
// (-Inf, e0], bucket i = (e_{i-1}, e_i], bucket k = (e_{k-1}, +Inf]. A value v is in bucket i
// when e_{i-1} < v <= e_i.

// CountsSortedLE returns the number of values of sorted (ascending) in each of the len(edges)+1
// Prometheus-style buckets defined above, written to dst when its capacity is enough: the count
// of bucket i is (number of values <= e_i) − (number of values <= e_{i−1}), which is what a
// Prometheus histogram with those `le` bounds would have counted for the same observations.
//
// It is CountsSorted on the edges moved up by one ulp (v <= e exactly when v < nextafter(e, +Inf)
// for every float64 v and every e below +Inf), so NaN handling, edge validation and the cost
// O(bins·log n) are those of CountsSorted. An edge of +Inf keeps +Inf values in its own bucket,
// as `le="+Inf"` does. Edges holding NaN or out of order give NaN in every bucket.
func CountsSortedLE(edges []float64, sorted []float64, dst []float64) []float64 {
	up := make([]float64, len(edges))
	for i, e := range edges {
		up[i] = nextUp(e)
	}
	dst = CountsSorted(up, sorted, dst)
	// CountsSorted puts v = +Inf after an edge of +Inf (v < +Inf is false); `le="+Inf"` holds it.
	if n := len(edges); n > 0 && math.IsInf(edges[n-1], 1) && validEdges(edges) {
		k := n
		for k > 0 && math.IsInf(edges[k-1], 1) {
			k--
		}
		dst[k] += dst[n]
		dst[n] = 0
	}
	return dst
}

// nextUp is the smallest float64 above e (e itself for +Inf and NaN).
func nextUp(e float64) float64 {
	if math.IsInf(e, 1) || e != e {
		return e
	}
	return math.Nextafter(e, math.Inf(1))
}

// KSBinned returns the Kolmogorov–Smirnov distance of two histograms over the same buckets: the
// largest absolute difference of their cumulative proportions at the bucket bounds,
//
//	D_b = max_i | Σ_{j<=i} refCounts[j]/Σ refCounts − Σ_{j<=i} curCounts[j]/Σ curCounts |,
//
// for i over every bucket but the last (where both are 1). With `le` buckets these are the two
// empirical CDFs evaluated exactly at the bounds, so D_b is the two-sample statistic
// sup_x |F_ref(x) − F_cur(x)| restricted to the bounds: a lower bound of the exact KS D of the raw
// samples (= scipy.stats.ks_2samp(ref, cur).statistic), equal to it when the largest gap occurs at
// a bound. The cumulative sums are exact integer sums for counts below 2^53, so the only rounding
// is one division per side and bound.
//
// Histograms of different lengths, an empty side (sum 0), or a negative, infinite or NaN count give
// NaN.
func KSBinned(refCounts, curCounts []float64) float64 {
	if len(refCounts) != len(curCounts) || len(refCounts) == 0 {
		return math.NaN()
	}
	nr, ok1 := countSum(refCounts)
	nc, ok2 := countSum(curCounts)
	if !ok1 || !ok2 || !(nr > 0) || !(nc > 0) {
		return math.NaN()
	}
	d, cr, cc := 0.0, 0.0, 0.0
	for i := 0; i < len(refCounts)-1; i++ {
		cr += refCounts[i]
		cc += curCounts[i]
		d = math.Max(d, math.Abs(cr/nr-cc/nc))
	}
	return d
}

// countSum is the sum of counts; ok is false when a count is negative, infinite or NaN.
func countSum(counts []float64) (float64, bool) {
	s := 0.0
	for _, c := range counts {
		if !(c >= 0) || math.IsInf(c, 1) {
			return 0, false
		}
		s += c
	}
	return s, !math.IsInf(s, 1)
}
