package stats

import "math"

// KS returns the two-sample Kolmogorov–Smirnov statistic D = max_v |F_ref(v) − F_cur(v)| over
// the empirical CDFs F(v) = #{x <= v}/n, evaluated at every sample value, so ties (within and
// across the samples) are handled like scipy.stats.ks_2samp(ref, cur).statistic. D is computed
// from integer counts as h/lcm(n, m) with h = |i·m − j·n|/gcd(n, m), which is how scipy's exact
// mode rounds it.
//
// Both inputs must be sorted ascending; ±Inf are ordinary values. Either sample empty, or a NaN
// met during the merge, gives NaN. The result is in [0, 1].
func KS(sortedRef, sortedCur []float64) float64 {
	n, m := len(sortedRef), len(sortedCur)
	if n == 0 || m == 0 {
		return math.NaN()
	}
	a, b := sortedRef, sortedCur
	if nanEnds(a) || nanEnds(b) {
		return math.NaN()
	}
	i, j := 0, 0
	var best int64
	n64, m64 := int64(n), int64(m)
	for i < n && j < m {
		v := a[i]
		if b[j] < v {
			v = b[j]
		}
		if v != v {
			return math.NaN()
		}
		for i < n && a[i] == v {
			i++
		}
		for j < m && b[j] == v {
			j++
		}
		d := int64(i)*m64 - int64(j)*n64
		if d < 0 {
			d = -d
		}
		if d > best {
			best = d
		}
	}
	g := gcd(n64, m64)
	return float64(best/g) / float64(n64/g*m64)
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

// Wasserstein returns the first Wasserstein distance between the empirical distributions of the
// two samples, ∫ |F_ref(v) − F_cur(v)| dv, computed as scipy.stats.wasserstein_distance(ref, cur)
// does: the sum over consecutive values v_k < v_{k+1} of the pooled sorted data of
// |F_ref(v_k) − F_cur(v_k)|·(v_{k+1} − v_k) (compensated summation).
//
// Both inputs must be sorted ascending without NaN (a NaN gives NaN). Either sample empty gives
// NaN. With infinite values it follows scipy's arithmetic: an infinity that occurs more than
// once in the pooled data gives NaN (Inf − Inf), otherwise any infinity gives +Inf.
func Wasserstein(sortedRef, sortedCur []float64) float64 {
	n, m := len(sortedRef), len(sortedCur)
	if n == 0 || m == 0 {
		return math.NaN()
	}
	a, b := sortedRef, sortedCur
	if nanEnds(a) || nanEnds(b) {
		return math.NaN()
	}
	if inf := infiniteEnds(a, b); inf != 0 {
		return inf
	}
	fn, fm := float64(n), float64(m)
	i, j := 0, 0
	var sum, comp float64
	v := a[0]
	if b[0] < v {
		v = b[0]
	}
	for {
		if v != v {
			return math.NaN()
		}
		for i < n && a[i] == v {
			i++
		}
		for j < m && b[j] == v {
			j++
		}
		var next float64
		switch {
		case i < n && j < m:
			next = a[i]
			if b[j] < next {
				next = b[j]
			}
		case i < n:
			next = a[i]
		case j < m:
			next = b[j]
		default:
			return sum + comp
		}
		term := math.Abs(float64(i)/fn-float64(j)/fm) * (next - v)
		// Neumaier summation.
		t := sum + term
		if math.Abs(sum) >= math.Abs(term) {
			comp += (sum - t) + term
		} else {
			comp += (term - t) + sum
		}
		sum = t
		if !(next > v) { // unsorted input or NaN: no progress possible
			return math.NaN()
		}
		v = next
	}
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
