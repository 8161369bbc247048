package stats

import (
	"encoding/binary"
	"math"
	"sort"
	"testing"
)

// floatsFrom decodes b into float64 values (8 bytes each, any bit pattern: NaNs, ±Inf,
// subnormals) and splits them in two at cut.
func floatsFrom(b []byte, cut uint8) (x, y []float64) {
	var all []float64
	for len(b) >= 8 {
		all = append(all, math.Float64frombits(binary.LittleEndian.Uint64(b)))
		b = b[8:]
	}
	c := int(cut)
	if c > len(all) {
		c = len(all)
	}
	return all[:c], all[c:]
}

func fuzzSeed(vals ...float64) []byte {
	b := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return b
}

// FuzzKernels feeds arbitrary values — unsorted, NaN, ±Inf, mismatched lengths — to every
// kernel: nothing may panic or hang, and results stay in their documented ranges.
func FuzzKernels(f *testing.F) {
	f.Add(fuzzSeed(1, 2, 3, 4, 5, 6), uint8(3), 0.3, 10, 12)
	f.Add(fuzzSeed(math.NaN(), 1, math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1)), uint8(2), 0.9, 1, 1)
	f.Add(fuzzSeed(5, 4, 3, 2, 1, 0, -1), uint8(4), 1e-9, 1<<30, 3)
	f.Add(fuzzSeed(), uint8(0), math.NaN(), 0, -5)
	f.Fuzz(func(t *testing.T, data []byte, cut uint8, d float64, n, m int) {
		x, y := floatsFrom(data, cut)
		// Raw (possibly unsorted, NaN-holding) input first.
		KS(x, y)
		Wasserstein(x, y)
		KSWasserstein(x, y)
		WassersteinNorm(x, y)
		Counts(x, y, nil)
		CountsSorted(x, y, nil)
		QuantileEdges(x, 5)
		EqualWidthEdges(x, 5)
		QuantileSorted(x, 0.5)
		PSI(x, y)
		KLD(x, y)
		JensenShannon(x, y)
		Hellinger(x, y)
		TVD(x, y)
		LInf(x, y)
		MLRun(x, y)
		Chi2(x, y)
		MeanStd(x)
		Proportions(x, nil)
		if n > 1<<40 || n < -1<<40 {
			n = 1 << 40
		}
		if m > 1<<40 || m < -1<<40 {
			m = 7
		}
		if p := KSPValue(d, n, m); !(p >= 0 && p <= 1) && !math.IsNaN(p) {
			t.Fatalf("KSPValue(%v, %d, %d) = %v", d, n, m, p)
		}
		ps := append([]float64(nil), y...)
		Percentiles(append([]float64(nil), x...), ps, nil)

		// Clean, sorted input: the documented invariants.
		a := DropNaN(append([]float64(nil), x...))
		b := DropNaN(append([]float64(nil), y...))
		SortFloat64s(a)
		SortFloat64s(b)
		if !sort.Float64sAreSorted(a) || !sort.Float64sAreSorted(b) {
			t.Fatal("SortFloat64s did not sort")
		}
		if len(a) > 0 && len(b) > 0 {
			if ks := KS(a, b); !(ks >= 0 && ks <= 1) {
				t.Fatalf("KS = %v", ks)
			}
			if w := Wasserstein(a, b); w < 0 {
				t.Fatalf("Wasserstein = %v", w)
			}
		}
		for _, e := range [][]float64{QuantileEdges(a, 7), EqualWidthEdges(a, 7)} {
			for i := range e {
				if e[i] != e[i] || (i > 0 && !(e[i] > e[i-1])) {
					t.Fatalf("edges %v not strictly ascending", e)
				}
			}
			c1 := Counts(e, b, nil)
			c2 := CountsSorted(e, b, nil)
			if !sameSlice(c1, c2) {
				t.Fatalf("Counts %v != CountsSorted %v", c1, c2)
			}
		}
	})
}
