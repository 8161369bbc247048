package stats

import (
	"math"
	"testing"
)

// Tolerance for values compared with numpy/scipy: 1e-9 relative (the computations are the same
// formulas; only summation order differs), with an absolute floor of 1e-12 for values that are
// rounding residue around zero.
const refRel, refAbs = 1e-9, 1e-12

func checkSlice(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d values %v, want %d %v", what, len(got), got, len(want), want)
		return
	}
	for i := range want {
		if !closeRel(got[i], want[i], refRel, refAbs) {
			t.Errorf("%s[%d]: got %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestGeneratorMatchesPython(t *testing.T) {
	for name, head := range refDataHeads {
		x := dataSet(name)
		for i, v := range head {
			if x[i] != v {
				t.Fatalf("data set %s[%d] = %v, python %v: the generators differ", name, i, x[i], v)
			}
		}
	}
}

// numpy.percentile(x, q) for q in refPercentileQs (see reference_values_test.go).
func TestPercentilesReference(t *testing.T) {
	for name, want := range refPercentiles {
		x := dataSet(name)
		got := Percentiles(append([]float64(nil), x...), refPercentileQs, nil)
		checkSlice(t, "Percentiles "+name, got, want)

		s := sortedCopy(x)
		for i, q := range refPercentileQs {
			if g := QuantileSorted(s, q/100); !closeRel(g, want[i], refRel, refAbs) {
				t.Errorf("QuantileSorted %s p=%v: got %v, want %v", name, q/100, g, want[i])
			}
		}
	}
}

func TestEdgesReference(t *testing.T) {
	cases := map[string]struct {
		data string
		bins int
	}{"A10": {"A", 10}, "A4": {"A", 4}, "T1_10": {"T1", 10}, "T2_7": {"T2", 7}}
	for key, c := range cases {
		checkSlice(t, "QuantileEdges "+key, QuantileEdges(sortedCopy(dataSet(c.data)), c.bins), refQuantileEdges[key])
	}
	ew := map[string]struct {
		data string
		bins int
	}{"A20": {"A", 20}, "T1_9": {"T1", 9}, "B7": {"B", 7}}
	for key, c := range ew {
		checkSlice(t, "EqualWidthEdges "+key, EqualWidthEdges(sortedCopy(dataSet(c.data)), c.bins), refEqualWidthEdges[key])
	}
}

func TestCountsReference(t *testing.T) {
	eA := QuantileEdges(sortedCopy(dataSet("A")), 10)
	eT := EqualWidthEdges(sortedCopy(dataSet("T1")), 9)
	cases := map[string]struct {
		edges []float64
		data  string
	}{"A_qA10": {eA, "A"}, "B_qA10": {eA, "B"}, "T1_ewT1_9": {eT, "T1"}, "T2_ewT1_9": {eT, "T2"}}
	for key, c := range cases {
		x := dataSet(c.data)
		checkSlice(t, "Counts "+key, Counts(c.edges, x, nil), refCounts[key])
		checkSlice(t, "CountsSorted "+key, CountsSorted(c.edges, sortedCopy(x), nil), refCounts[key])
	}
}

func TestDistancesReference(t *testing.T) {
	for name, c := range refDistances {
		p := Proportions(c.Ref, nil)
		q := Proportions(c.Cur, nil)
		got := []float64{PSI(p, q), JensenShannon(p, q), Hellinger(p, q), TVD(p, q), KLD(p, q), LInf(p, q), MLRun(p, q)}
		want := []float64{c.PSI, c.JS, c.Hellinger, c.TVD, c.KLD, c.LInf, c.MLRun}
		checkSlice(t, "psi,js,hellinger,tvd,kld,linf,mlrun "+name, got, want)
	}
}

// KS statistic (1e-12: both are the same ratio of integer counts), Wasserstein (1e-9), the
// normalised Wasserstein, and the asymptotic p-value end to end: 1e-9 relative where the
// effective size round(n·m/(n+m)) <= 20 (exact computation), otherwise the DESIGN §5 tolerance
// (1% relative where scipy >= 1e-4, below 1e-3 where scipy < 1e-4).
func TestTwoSampleReference(t *testing.T) {
	for _, c := range refTwoSample {
		ref, cur := sortedCopy(dataSet(c.Ref)), sortedCopy(dataSet(c.Cur))
		name := c.Ref + "/" + c.Cur
		d := KS(ref, cur)
		if !closeRel(d, c.KS, 1e-12, 0) {
			t.Errorf("KS %s: got %v, want %v", name, d, c.KS)
		}
		p := KSPValue(d, len(ref), len(cur))
		n, m := float64(len(ref)), float64(len(cur))
		N := math.RoundToEven(n * m / (n + m))
		switch {
		case N <= 20:
			if !closeRel(p, c.KSP, 1e-9, 1e-15) {
				t.Errorf("KSPValue %s (N=%v): got %v, want %v", name, N, p, c.KSP)
			}
		case c.KSP >= 1e-4:
			if math.Abs(p-c.KSP) > 0.01*c.KSP {
				t.Errorf("KSPValue %s (N=%v): got %v, want %v within 1%%", name, N, p, c.KSP)
			}
		default:
			if !(p < 1e-3) {
				t.Errorf("KSPValue %s (N=%v): got %v, want < 1e-3 (scipy %v)", name, N, p, c.KSP)
			}
		}
		if w := Wasserstein(ref, cur); !closeRel(w, c.W, refRel, refAbs) {
			t.Errorf("Wasserstein %s: got %v, want %v", name, w, c.W)
		}
		if d2, w2 := KSWasserstein(ref, cur); d2 != d || !closeRel(w2, c.W, refRel, refAbs) {
			t.Errorf("KSWasserstein %s: got %v, %v; want %v, %v", name, d2, w2, c.KS, c.W)
		}
		if w := WassersteinNorm(ref, cur); !closeRel(w, c.WNorm, refRel, refAbs) {
			t.Errorf("WassersteinNorm %s: got %v, want %v", name, w, c.WNorm)
		}
	}
}

func TestMeanStdReference(t *testing.T) {
	for name, want := range refMeanStd {
		m, s := MeanStd(dataSet(name))
		checkSlice(t, "MeanStd "+name, []float64{m, s}, want[:])
	}
}

func TestChi2Reference(t *testing.T) {
	for i, c := range refChi2 {
		stat, p, dof := Chi2(c.Ref, c.Cur)
		if dof != c.Dof || !closeRel(stat, c.Stat, refRel, refAbs) || !closeRel(p, c.P, refRel, 1e-300) {
			t.Errorf("Chi2 case %d: got (%v, %v, %d), want (%v, %v, %d)", i, stat, p, dof, c.Stat, c.P, c.Dof)
		}
	}
}
