package stats

import "math"

// PSIContributions writes into out (reused when large enough) each bin's term of PSI(p, q):
// (q_i − p_i)·ln(q_i/p_i) with zero proportions replaced by 1e-4, so that the terms sum to
// PSI(p, q) (in the order PSI adds them: bit for bit). Every term is >= 0; the largest show which
// bins moved. Inputs PSI rejects give NaN terms.
func PSIContributions(p, q, out []float64) []float64 {
	out = resize(out, len(p))
	if !sameLen(p, q) {
		return fillNaN(out)
	}
	for i := range p {
		a, b := p[i], q[i]
		if !(a >= 0 && b >= 0) {
			return fillNaN(out)
		}
		a, b = nonZero(a), nonZero(b)
		out[i] = (b - a) * math.Log(b/a)
	}
	return out
}

// JSContributions writes into out each bin's share of the Jensen–Shannon distance
// JS = JensenShannon(p, q): with a, b the normalised proportions and m = (a+b)/2, bin i adds
// d_i = (a_i·ln(a_i/m_i) + b_i·ln(b_i/m_i))/2 >= 0 to the divergence D = Σ d_i = JS², and its
// contribution is JS·d_i/D, so that the contributions sum to JS (up to rounding) and are in
// proportion to the bins' terms of the divergence. The distance itself is not a sum over bins;
// this splits it the way the divergence splits. All zero when JS is 0; NaN where JensenShannon is.
func JSContributions(p, q, out []float64) []float64 {
	out = resize(out, len(p))
	js := JensenShannon(p, q)
	if math.IsNaN(js) {
		return fillNaN(out)
	}
	sp, sq := 0.0, 0.0
	for i := range p {
		sp += p[i]
		sq += q[i]
	}
	d := 0.0
	for i := range p {
		a, b := p[i]/sp, q[i]/sq
		m := (a + b) / 2
		t := 0.0
		if a > 0 {
			t += a * math.Log(a/m)
		}
		if b > 0 {
			t += b * math.Log(b/m)
		}
		out[i] = math.Max(0, t/2)
		d += out[i]
	}
	for i := range out {
		if d > 0 {
			out[i] = js * out[i] / d
		} else {
			out[i] = 0
		}
	}
	return out
}

func fillNaN(out []float64) []float64 {
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}
