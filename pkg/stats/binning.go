package stats

import (
	"math"
	"sort"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// Bins: a list of interior edges e0 < e1 < ... < e_{k-1} defines k+1 bins: bin 0 = (-Inf, e0),
// bin i = [e_{i-1}, e_i), bin k = [e_{k-1}, +Inf). A value v is in bin i when
// e_{i-1} <= v < e_i; -Inf is in bin 0 (or in bin 1 when e0 = -Inf), +Inf in the last bin.

// QuantileEdges returns the interior edges of quantile binning: the type-7 quantiles
// QuantileSorted(sortedRef, k/bins) for k = 1..bins−1, with duplicates collapsed (so constant or
// heavily tied data gives fewer edges, and a constant reference a single edge) and NaN quantiles
// (from a reference holding both -Inf and +Inf) dropped. The k/bins levels equal
// numpy.percentile(ref, 100*k/bins). Empty sortedRef, bins < 2 or bins > limits.MaxBins gives no edges (rather than an allocation the size of the request)
// (a single bin).
func QuantileEdges(sortedRef []float64, bins int) []float64 {
	if len(sortedRef) == 0 || bins < 2 || bins > limits.MaxBins {
		return nil
	}
	edges := make([]float64, 0, min(bins-1, len(sortedRef)))
	for k := 1; k < bins; k++ {
		e := QuantileSorted(sortedRef, float64(k)/float64(bins))
		if e != e {
			continue
		}
		if len(edges) > 0 && e <= edges[len(edges)-1] {
			continue
		}
		edges = append(edges, e)
	}
	return edges
}

// EqualWidthEdges returns the edges of equal-width binning over the reference range [min, max]:
// with w = (max−min)/bins, the bins+1 edges min + i·w for i = 0..bins−1 followed by max itself
// (numpy.linspace(min, max, bins+1), as numpy.histogram_bin_edges(ref, bins)), so there are bins
// bins inside the range and two open outer bins catch values outside it. Edges that round to the
// same value (a range of a few ulps) are collapsed.
//
// min and max are taken over the finite values of sortedRef (±Inf still fall in the outer bins).
// A constant reference gives the single edge [min]. Empty sortedRef, a reference with no finite
// value, bins < 1 or bins > limits.MaxBins gives no edges.
func EqualWidthEdges(sortedRef []float64, bins int) []float64 {
	if bins < 1 || bins > limits.MaxBins {
		return nil
	}
	lo, hi := 0, len(sortedRef)-1
	for lo <= hi && math.IsInf(sortedRef[lo], 0) {
		lo++
	}
	for hi >= lo && math.IsInf(sortedRef[hi], 0) {
		hi--
	}
	if lo > hi {
		return nil
	}
	mn, mx := sortedRef[lo], sortedRef[hi]
	if !(mn < mx) {
		if mn == mx {
			return []float64{mn}
		}
		return nil // NaN or unsorted
	}
	step := (mx - mn) / float64(bins)
	edges := make([]float64, 0, bins+1)
	for i := 0; i < bins; i++ {
		e := float64(i)*step + mn
		if len(edges) > 0 && e <= edges[len(edges)-1] {
			continue
		}
		edges = append(edges, e)
	}
	if mx > edges[len(edges)-1] {
		edges = append(edges, mx)
	}
	return edges
}

// validEdges reports whether edges are non-decreasing and free of NaN.
func validEdges(edges []float64) bool {
	for i, e := range edges {
		if e != e || (i > 0 && e < edges[i-1]) {
			return false
		}
	}
	return true
}

func resize(dst []float64, n int) []float64 {
	if cap(dst) >= n {
		return dst[:n]
	}
	return make([]float64, n)
}

// Counts returns the number of values of x in each of the len(edges)+1 bins (see the bin
// definition above), written to dst when its capacity is enough. NaN values are skipped. Edges
// must be non-decreasing (repeated edges give empty bins); edges holding NaN or out of order give
// NaN in every bin. Cost O(n log bins).
func Counts(edges []float64, x []float64, dst []float64) []float64 {
	nb := len(edges) + 1
	dst = resize(dst, nb)
	if !validEdges(edges) {
		for i := range dst {
			dst[i] = math.NaN()
		}
		return dst
	}
	for i := range dst {
		dst[i] = 0
	}
	for _, v := range x {
		if v != v {
			continue
		}
		dst[Bin(edges, v)]++
	}
	return dst
}

// Bin returns the bin of v among the len(edges)+1 bins of Counts: the number of edges <= v.
// Edges must be valid (non-decreasing, no NaN) and v not NaN; Counts checks both.
func Bin(edges []float64, v float64) int {
	lo, hi := 0, len(edges)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if edges[m] <= v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// ValidEdges reports whether edges can bin values: non-decreasing and free of NaN.
func ValidEdges(edges []float64) bool { return validEdges(edges) }

// CountsSorted returns the same counts as Counts for data sorted ascending, by a binary search
// per edge: the count of bin i is (number of values < e_i) − (number of values < e_{i−1}). Cost
// O(bins·log n). NaNs at either end of sorted (where sort.Float64s and SortFloat64s put them) are
// skipped; sorted must otherwise be ascending (not checked).
func CountsSorted(edges []float64, sorted []float64, dst []float64) []float64 {
	nb := len(edges) + 1
	dst = resize(dst, nb)
	if !validEdges(edges) {
		for i := range dst {
			dst[i] = math.NaN()
		}
		return dst
	}
	lo, hi := 0, len(sorted)
	for lo < hi && sorted[lo] != sorted[lo] {
		lo++
	}
	for hi > lo && sorted[hi-1] != sorted[hi-1] {
		hi--
	}
	s := sorted[lo:hi]
	prev := 0
	for i, e := range edges {
		pos := sort.SearchFloat64s(s, e) // first index with s[pos] >= e
		dst[i] = float64(pos - prev)
		prev = pos
	}
	dst[nb-1] = float64(len(s) - prev)
	return dst
}

// Proportions returns counts[i] / Σ counts, written to dst when its capacity is enough. A sum of
// zero (including empty counts), or any negative, infinite or NaN count, gives NaN in every
// position.
func Proportions(counts []float64, dst []float64) []float64 {
	dst = resize(dst, len(counts))
	sum := 0.0
	ok := true
	for _, c := range counts {
		if !(c >= 0) || math.IsInf(c, 1) {
			ok = false
			break
		}
		sum += c
	}
	if !ok || !(sum > 0) || math.IsInf(sum, 1) {
		for i := range dst {
			dst[i] = math.NaN()
		}
		return dst
	}
	for i, c := range counts {
		dst[i] = c / sum
	}
	return dst
}
