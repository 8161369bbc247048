package stats

import (
	"math"
	"sort"
)

// lerp interpolates between the order statistics a <= b with weight g in [0, 1) exactly as numpy
// 1.24's _lerp does (a + (b−a)·g, or b − (b−a)·(1−g) when g >= 0.5, which keeps the result
// monotone in g). Infinite values give the limit instead of numpy's Inf−Inf NaN: g = 0 or a = b
// gives a; -Inf with a finite b gives -Inf; a finite a with +Inf gives +Inf; -Inf with +Inf gives
// NaN.
func lerp(a, b, g float64) float64 {
	if g == 0 || a == b {
		return a
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		switch {
		case math.IsInf(a, -1) && math.IsInf(b, 1):
			return math.NaN()
		case math.IsInf(a, -1):
			return a
		default: // b == +Inf (or unsorted input)
			return b
		}
	}
	d := b - a
	if g >= 0.5 {
		return b - d*(1-g)
	}
	return a + d*g
}

// QuantileSorted returns the type-7 (Hyndman–Fan) quantile of sorted, p in [0, 1]:
// with h = (n−1)·p, j = ⌊h⌋ and g = h − j, Q(p) = x(j) + g·(x(j+1) − x(j)) using 0-based order
// statistics, which equals numpy.percentile(x, 100·p) (method "linear").
//
// sorted must be ascending without NaN (not checked). Empty input, or p NaN or outside [0, 1],
// gives NaN. One sample gives that sample for every p. With ±Inf the interpolation takes its
// limit where numpy computes Inf−Inf = NaN: an order statistic hit exactly (g = 0) or two equal
// ones give that value, -Inf next to a finite value gives -Inf, a finite value next to +Inf gives
// +Inf, and only -Inf next to +Inf gives NaN; for finite data the result is numpy's.
func QuantileSorted(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 || !(p >= 0 && p <= 1) {
		return math.NaN()
	}
	h := float64(n-1) * p
	j := math.Floor(h)
	g := h - j
	lo := int(j)
	if lo >= n-1 {
		return sorted[n-1]
	}
	return lerp(sorted[lo], sorted[lo+1], g)
}

// Percentiles writes to dst (reused when its capacity is enough) the type-7 percentiles of x at
// ps (percent, each in (0, 100]) and returns it: dst[i] = numpy.percentile(x, ps[i]), which is
// QuantileSorted(sort(x), ps[i]/100).
//
// It selects the needed order statistics (Floyd–Rivest selection, see selectK) instead of
// sorting, so it costs O(n) per distinct percentile and reorders x in place. NaNs in x are
// dropped first (x is then compacted, as by DropNaN). Empty x (or all NaN) gives NaN for every
// percentile; a percentile outside (0, 100] or NaN gives NaN at its position.
func Percentiles(x []float64, ps []float64, dst []float64) []float64 {
	dst, _ = PercentilesCheck(x, ps, dst, nil)
	return dst
}

// PercentilesCheck is Percentiles that calls check (when not nil) before each selection over at
// least CheckEvery values, and stops at its first error, which it returns with dst unspecified.
func PercentilesCheck(x []float64, ps []float64, dst []float64, check Check) ([]float64, error) {
	if cap(dst) >= len(ps) {
		dst = dst[:len(ps)]
	} else {
		dst = make([]float64, len(ps))
	}
	for _, v := range x {
		if v != v {
			x = DropNaN(x)
			break
		}
	}
	n := len(x)
	if n == 0 {
		for i := range dst {
			dst[i] = math.NaN()
		}
		return dst, nil
	}
	// Visit the percentiles in ascending order so that each selection works on the part of x
	// right of the previous one.
	var orderBuf [8]int
	order := orderBuf[:0]
	for i := range ps {
		order = append(order, i)
	}
	for a := 1; a < len(order); a++ { // insertion sort: ps is short
		for b := a; b > 0 && ps[order[b]] < ps[order[b-1]]; b-- {
			order[b], order[b-1] = order[b-1], order[b]
		}
	}

	lo := 0        // x[:lo] holds the lo smallest values, in place
	lastK := -1    // order statistic last put in place, -1 when none
	lastNext := -1 // index whose value is the (lastK+1)-th order statistic, -1 when unknown
	for _, i := range order {
		pc := ps[i]
		if !(pc > 0 && pc <= 100) {
			dst[i] = math.NaN()
			continue
		}
		h := float64(n-1) * (pc / 100)
		jf := math.Floor(h)
		g := h - jf
		k := int(jf)
		if k >= n-1 {
			k = n - 1
			g = 0
		}
		if k != lastK {
			if check != nil && n-lo >= CheckEvery {
				if err := check(); err != nil {
					return dst, err
				}
			}
			if k == lastK+1 && lastNext >= 0 {
				// The order statistic is the minimum of the right part, already found.
				x[lastNext], x[k] = x[k], x[lastNext]
			} else {
				selectK(x, lo, n-1, k)
			}
			lastK, lastNext = k, -1
			lo = k
		}
		a := x[k]
		if g == 0 {
			dst[i] = a
			continue
		}
		if lastNext < 0 {
			m := k + 1
			for j := k + 2; j < n; j++ {
				if x[j] < x[m] {
					m = j
				}
			}
			lastNext = m
		}
		dst[i] = lerp(a, x[lastNext], g)
	}
	return dst, nil
}

// selectK reorders x[lo..hi] so that x[k] holds the value it would hold were x[lo..hi] sorted,
// with x[lo..k-1] <= x[k] <= x[k+1..hi]. x must hold no NaN. Floyd–Rivest SELECT (Algorithm 489):
// on ranges over 600 elements it first recursively selects within a sample-sized window around k
// so that the pivot lands within a few positions of rank k, which takes ~n + o(n) comparisons
// instead of quickselect's ~3n. A budget of 4·log2(n) partitioning rounds bounds the worst case;
// past it the remaining range is sorted.
func selectK(x []float64, lo, hi, k int) {
	budget := 4 * bitsLen(hi-lo+1)
	floydRivest(x, lo, hi, k, &budget)
}

func floydRivest(x []float64, left, right, k int, budget *int) {
	for right > left {
		if *budget <= 0 {
			sort.Float64s(x[left : right+1])
			return
		}
		*budget--
		if right-left > 600 {
			n := float64(right - left + 1)
			i := float64(k - left + 1)
			z := math.Log(n)
			s := 0.5 * math.Exp(2*z/3)
			sd := 0.5 * math.Sqrt(z*s*(n-s)/n)
			if i < n/2 {
				sd = -sd
			}
			newLeft := max(left, int(math.Floor(float64(k)-i*s/n+sd)))
			newRight := min(right, int(math.Floor(float64(k)+(n-i)*s/n+sd)))
			floydRivest(x, newLeft, newRight, k, budget)
		}
		t := x[k]
		i, j := left, right
		x[left], x[k] = x[k], x[left]
		if x[right] > t {
			x[right], x[left] = x[left], x[right]
		}
		for i < j {
			x[i], x[j] = x[j], x[i]
			i++
			j--
			for x[i] < t {
				i++
			}
			for x[j] > t {
				j--
			}
		}
		if x[left] == t {
			x[left], x[j] = x[j], x[left]
		} else {
			j++
			x[j], x[right] = x[right], x[j]
		}
		if j <= k {
			left = j + 1
		}
		if k <= j {
			right = j - 1
		}
	}
}

func bitsLen(n int) int {
	b := 0
	for n > 0 {
		b++
		n >>= 1
	}
	return b
}

// MeanStd returns the arithmetic mean and the population standard deviation (ddof 0) of x,
// computed in two passes: mean = Σx/n, std = sqrt(Σ(x−mean)²/n) (= numpy.mean(x), numpy.std(x)).
// Empty x gives (NaN, NaN); one sample gives (x0, 0); a NaN propagates to both; an infinite value
// gives an infinite mean and a NaN std.
func MeanStd(x []float64) (mean, std float64) {
	n := len(x)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	s := 0.0
	for _, v := range x {
		s += v
	}
	mean = s / float64(n)
	ss := 0.0
	for _, v := range x {
		d := v - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(n))
}
