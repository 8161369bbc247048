package stats

import "math"

// ZeroProportion is the value that replaces an empty bin's proportion where PSI and KLD would
// otherwise take the logarithm of zero or divide by it (DESIGN §5; MLRun's zero_scaling).
const ZeroProportion = 1e-4

// The binned distances take p, the reference proportions, and q, the current proportions, over
// the same bins (see Proportions). Empty p and q, lengths that differ, or a NaN anywhere give NaN.

func sameLen(p, q []float64) bool { return len(p) == len(q) && len(p) > 0 }

func nonZero(v float64) float64 {
	if v == 0 {
		return ZeroProportion
	}
	return v
}

// PSI returns the population stability index Σ (q_i − p_i)·ln(q_i/p_i), where every zero
// proportion (in p or q) is first replaced by 1e-4. It is >= 0 for non-negative inputs. A negative
// proportion gives NaN.
func PSI(p, q []float64) float64 {
	if !sameLen(p, q) {
		return math.NaN()
	}
	s := 0.0
	for i := range p {
		a, b := p[i], q[i]
		if !(a >= 0 && b >= 0) {
			return math.NaN()
		}
		a, b = nonZero(a), nonZero(b)
		s += (b - a) * math.Log(b/a)
	}
	return s
}

// KLD returns the symmetric Kullback–Leibler divergence KL(q‖p) + KL(p‖q) in nats, with MLRun's
// conventions (mlrun/model_monitoring/metrics/histogram_distance.py): in KL(a‖b) = Σ a_i·ln(a_i/b_i)
// a term with a_i = 0 is 0 (the limit of a·ln a) and a zero denominator b_i is replaced by 1e-4.
// A negative proportion gives NaN.
func KLD(p, q []float64) float64 {
	if !sameLen(p, q) {
		return math.NaN()
	}
	s := 0.0
	for i := range p {
		a, b := p[i], q[i]
		if !(a >= 0 && b >= 0) {
			return math.NaN()
		}
		if b > 0 {
			s += b * math.Log(b/nonZero(a))
		}
		if a > 0 {
			s += a * math.Log(a/nonZero(b))
		}
	}
	return s
}

// JensenShannon returns the Jensen–Shannon distance with natural logarithms, exactly as
// scipy.spatial.distance.jensenshannon(p, q): p and q are first normalised to sum 1, m = (p+q)/2,
// and the result is sqrt((KL(p‖m) + KL(q‖m))/2), with 0·ln 0 = 0. It lies in [0, sqrt(ln 2)]
// (a negative rounding residue is clamped to 0). A negative entry, or p or q summing to 0, gives
// NaN.
func JensenShannon(p, q []float64) float64 {
	if !sameLen(p, q) {
		return math.NaN()
	}
	sp, sq := 0.0, 0.0
	for i := range p {
		if !(p[i] >= 0 && q[i] >= 0) {
			return math.NaN()
		}
		sp += p[i]
		sq += q[i]
	}
	if !(sp > 0 && sq > 0) || math.IsInf(sp, 0) || math.IsInf(sq, 0) {
		return math.NaN()
	}
	left, right := 0.0, 0.0
	for i := range p {
		a, b := p[i]/sp, q[i]/sq
		m := (a + b) / 2
		if a > 0 {
			left += a * math.Log(a/m)
		}
		if b > 0 {
			right += b * math.Log(b/m)
		}
	}
	js := (left + right) / 2
	if js < 0 {
		js = 0
	}
	return math.Sqrt(js)
}

// Hellinger returns the Hellinger distance sqrt(max(0, 1 − Σ sqrt(p_i·q_i))) (the form MLRun and
// gonum's stat.Hellinger use; for proportions it lies in [0, 1]). A negative entry gives NaN.
func Hellinger(p, q []float64) float64 {
	if !sameLen(p, q) {
		return math.NaN()
	}
	bc := 0.0
	for i := range p {
		if !(p[i] >= 0 && q[i] >= 0) {
			return math.NaN()
		}
		bc += math.Sqrt(p[i] * q[i])
	}
	return math.Sqrt(math.Max(0, 1-bc))
}

// TVD returns the total variation distance ½·Σ |p_i − q_i| (in [0, 1] for proportions).
func TVD(p, q []float64) float64 {
	if !sameLen(p, q) {
		return math.NaN()
	}
	s := 0.0
	for i := range p {
		s += math.Abs(p[i] - q[i])
	}
	return s / 2
}

// LInf returns the L-infinity distance max_i |p_i − q_i|.
func LInf(p, q []float64) float64 {
	if !sameLen(p, q) {
		return math.NaN()
	}
	m := 0.0
	for i := range p {
		d := math.Abs(p[i] - q[i])
		if d != d {
			return math.NaN()
		}
		if d > m {
			m = d
		}
	}
	return m
}

// MLRun returns MLRun's general drift value, the mean of the Hellinger distance and the TVD:
// (Hellinger(p, q) + TVD(p, q)) / 2.
func MLRun(p, q []float64) float64 {
	return (Hellinger(p, q) + TVD(p, q)) / 2
}
