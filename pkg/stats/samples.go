package stats

import "math"

// KS returns the two-sample Kolmogorov–Smirnov statistic D = max_v |F_ref(v) − F_cur(v)| over
// the empirical CDFs F(v) = #{x <= v}/n, evaluated at every sample value, so ties (within and
// across the samples) are handled like scipy.stats.ks_2samp(ref, cur).statistic. D is computed
// from integer counts as h/lcm(n, m) with h = max|i·m − j·n|/gcd(n, m), which is how scipy's
// exact mode rounds it.
//
// Both inputs must be sorted ascending (not checked); ±Inf are ordinary values. Either sample
// empty, or a NaN in either, gives NaN. The result is in [0, 1].
func KS(sortedRef, sortedCur []float64) float64 {
	d, _ := twoSample(sortedRef, sortedCur, false)
	return d
}

// Wasserstein returns the first Wasserstein distance between the empirical distributions of the
// two samples, ∫ |F_ref(v) − F_cur(v)| dv, as scipy.stats.wasserstein_distance(ref, cur): the sum
// over consecutive values v_k <= v_{k+1} of the pooled sorted data of
// |F_ref(v_k) − F_cur(v_k)|·(v_{k+1} − v_k), here accumulated as the exact integers
// |i·m − j·n| times the gaps (compensated summation) and divided by n·m at the end.
//
// Both inputs must be sorted ascending (not checked). Either sample empty, or a NaN in either,
// gives NaN. With infinite values it follows scipy's arithmetic: an infinity that occurs more than
// once in the pooled data gives NaN (Inf − Inf), otherwise any infinity gives +Inf.
func Wasserstein(sortedRef, sortedCur []float64) float64 {
	_, w := twoSample(sortedRef, sortedCur, true)
	return w
}

// KSWasserstein returns KS(sortedRef, sortedCur) and Wasserstein(sortedRef, sortedCur) from one
// merge of the two sorted samples (the drift handler needs both: one pass over the data instead
// of two). Definitions and edge cases are those of KS and Wasserstein.
func KSWasserstein(sortedRef, sortedCur []float64) (d, w float64) {
	return twoSample(sortedRef, sortedCur, true)
}

// twoSample merges the two sorted samples once. The KS numerator max|i·m − j·n| is evaluated
// only at states where both counts refer to the same value (i and j count every value <= v in
// their sample), or where an intermediate count within one sample's run of ties lies between
// two such states (so it can never exceed them). The Wasserstein numerator adds
// |i·m − j·n|·(gap to the next pooled value) after every element, the gaps inside runs of ties
// being 0.
func twoSample(a, b []float64, withW bool) (d, w float64) {
	n, m := len(a), len(b)
	if n == 0 || m == 0 || nanEnds(a) || nanEnds(b) {
		return math.NaN(), math.NaN()
	}
	infW := 0.0
	if withW {
		infW = infiniteEnds(a, b)
		withW = infW == 0
	}
	n64, m64 := int64(n), int64(m)
	var best int64
	var sum, comp float64
	add := func(term float64) { // Neumaier summation
		t := sum + term
		if math.Abs(sum) >= math.Abs(term) {
			comp += (sum - t) + term
		} else {
			comp += (term - t) + sum
		}
		sum = t
	}
	inf := math.Inf(1)
	i, j := 0, 0
	for i < n || j < m {
		// Run of cur values strictly below the next ref value: F_ref is constant (i/n) there.
		lim := inf
		if i < n {
			lim = a[i]
		}
		for j < m && b[j] < lim {
			v := b[j]
			j++
			diff := int64(i)*m64 - int64(j)*n64
			if diff < 0 {
				diff = -diff
			}
			if diff > best {
				best = diff
			}
			if withW {
				next := lim
				if j < m && b[j] < next {
					next = b[j]
				}
				if next != inf || i < n {
					add(float64(diff) * (next - v))
				}
			}
		}
		// Run of ref values strictly below the next cur value.
		lim = inf
		if j < m {
			lim = b[j]
		}
		for i < n && a[i] < lim {
			v := a[i]
			i++
			diff := int64(i)*m64 - int64(j)*n64
			if diff < 0 {
				diff = -diff
			}
			if diff > best {
				best = diff
			}
			if withW {
				next := lim
				if i < n && a[i] < next {
					next = a[i]
				}
				if next != inf || j < m {
					add(float64(diff) * (next - v))
				}
			}
		}
		if i == n && j == m {
			break
		}
		// Equal heads (a value in both samples), +Inf, or NaN: consume every copy of v.
		var v float64
		switch {
		case i < n && j < m:
			v = a[i]
			if b[j] < v {
				v = b[j]
			}
		case i < n:
			v = a[i]
		default:
			v = b[j]
		}
		if v != v || (i < n && a[i] != a[i]) || (j < m && b[j] != b[j]) {
			return math.NaN(), math.NaN()
		}
		i0, j0 := i, j
		for i < n && a[i] == v {
			i++
		}
		for j < m && b[j] == v {
			j++
		}
		if i == i0 && j == j0 { // unsorted input: no progress possible
			return math.NaN(), math.NaN()
		}
		diff := int64(i)*m64 - int64(j)*n64
		if diff < 0 {
			diff = -diff
		}
		if diff > best {
			best = diff
		}
		if withW && (i < n || j < m) {
			next := inf
			if i < n {
				next = a[i]
			}
			if j < m && b[j] < next {
				next = b[j]
			}
			add(float64(diff) * (next - v))
		}
	}
	g := gcd(n64, m64)
	d = float64(best/g) / float64(n64/g*m64)
	switch {
	case infW != 0:
		w = infW
	case withW:
		w = (sum + comp) / (float64(n) * float64(m))
	default:
		w = math.NaN()
	}
	return d, w
}

// nanEnds reports whether the first or last value of s is NaN (where sorting puts NaNs).
func nanEnds(s []float64) bool {
	return len(s) > 0 && (s[0] != s[0] || s[len(s)-1] != s[len(s)-1])
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// infiniteEnds returns 0 when both sorted samples are finite at their ends, NaN when an infinity
// occurs more than once in the pooled data and +Inf otherwise (see Wasserstein).
func infiniteEnds(a, b []float64) float64 {
	var negInf, posInf int
	for _, s := range [][]float64{a, b} {
		for k := 0; k < len(s) && math.IsInf(s[k], -1); k++ {
			negInf++
		}
		for k := len(s) - 1; k >= 0 && math.IsInf(s[k], 1); k-- {
			posInf++
		}
	}
	switch {
	case negInf == 0 && posInf == 0:
		return 0
	case negInf > 1 || posInf > 1:
		return math.NaN()
	default:
		return math.Inf(1)
	}
}

// WassersteinNorm returns Wasserstein(sortedRef, sortedCur) / max(std(ref), 0.001), with std the
// population standard deviation (numpy.std(ref), ddof 0) — Evidently's normed Wasserstein. Edge
// cases are those of Wasserstein; a constant reference divides by 0.001.
func WassersteinNorm(sortedRef, sortedCur []float64) float64 {
	w := Wasserstein(sortedRef, sortedCur)
	if w != w {
		return w
	}
	_, sd := MeanStd(sortedRef)
	return WassersteinNormalize(w, sd)
}

// WassersteinNormalize returns w / max(refStd, 0.001), the normalisation of WassersteinNorm, for
// callers that keep the reference's standard deviation cached. A NaN refStd gives NaN.
func WassersteinNormalize(w, refStd float64) float64 {
	if refStd != refStd {
		return math.NaN()
	}
	return w / math.Max(refStd, 0.001)
}
