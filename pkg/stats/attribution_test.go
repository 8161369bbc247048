package stats

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestContributionsSumToTheMeasure(t *testing.T) {
	r := &lcg{7}
	for trial := 0; trial < 200; trial++ {
		n := 2 + int(r.next()*20)
		p, q := make([]float64, n), make([]float64, n)
		for i := range p {
			p[i] = r.next()
			q[i] = r.next()
			if i > 0 && r.next() < 0.2 {
				q[i] = 0 // empty bins: the 1e-4 rule and 0·ln 0
			}
		}
		p, q = Proportions(p, nil), Proportions(q, nil)
		psi := PSIContributions(p, q, nil)
		s := 0.0
		for _, c := range psi {
			require.GreaterOrEqual(t, c, 0.0)
			s += c
		}
		require.Equal(t, PSI(p, q), s) // same terms, same order
		js := JSContributions(p, q, nil)
		s = 0
		for _, c := range js {
			require.GreaterOrEqual(t, c, 0.0)
			s += c
		}
		// n additions of rounded terms: relative error a few ulps per term.
		require.InDelta(t, JensenShannon(p, q), s, 1e-12)
	}
}

func TestContributionsExample(t *testing.T) {
	// p = [.5 .5 0], q = [.25 .25 .5]: only the third bin's terms are large.
	p, q := []float64{0.5, 0.5, 0}, []float64{0.25, 0.25, 0.5}
	psi := PSIContributions(p, q, nil)
	// (0.25−0.5)·ln(0.5) = 0.17328679513998632 each; (0.5−1e-4)·ln(0.5/1e-4) = 4.258243877...
	require.InDelta(t, 0.17328679513998632, psi[0], 1e-15)
	require.InDelta(t, 0.17328679513998632, psi[1], 1e-15)
	require.InDelta(t, (0.5-1e-4)*math.Log(0.5/1e-4), psi[2], 1e-15)
	js := JSContributions(p, q, nil)
	// scipy.spatial.distance.jensenshannon([.5,.5,0],[.25,.25,.5]) = 0.46450140402245893
	require.InDelta(t, 0.46450140402245893, js[0]+js[1]+js[2], 1e-12)
	require.InDelta(t, js[0], js[1], 1e-15)
	require.Greater(t, js[2], js[0])
	// Identical distributions: all zero; bad input: NaN.
	require.Equal(t, []float64{0, 0}, JSContributions([]float64{0.5, 0.5}, []float64{0.5, 0.5}, nil))
	require.True(t, math.IsNaN(PSIContributions([]float64{1}, []float64{0.5, 0.5}, nil)[0]))
	require.True(t, math.IsNaN(JSContributions([]float64{-1, 2}, []float64{0.5, 0.5}, nil)[0]))
}
