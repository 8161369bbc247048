package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// lognormalRef is a sorted reference of n log-normal values with a block of ties (a rounded
// variable), from its own seed.
func lognormalRef(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float64, n)
	for i := range x {
		x[i] = math.Exp(3.6 + 1.1*r.NormFloat64())
		if i%5 == 0 {
			x[i] = math.Round(x[i])
		}
	}
	slices.Sort(x)
	return x
}

// directBinned simulates the null distribution the plain way, on another code path and stream:
// draw n reference values, bin them with Counts, and compute the measure.
func directBinned(ref, edges []float64, n, B int, measure BinnedMeasure, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 99))
	p := Proportions(CountsSorted(edges, ref, nil), nil)
	x := make([]float64, n)
	out := make([]float64, B)
	for b := range out {
		for i := range x {
			x[i] = ref[r.IntN(len(ref))]
		}
		q := Proportions(Counts(edges, x, nil), nil)
		out[b] = measure(p, q)
	}
	slices.Sort(out)
	return out
}

func directWasserstein(ref []float64, n, B int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 99))
	x := make([]float64, n)
	out := make([]float64, B)
	for b := range out {
		for i := range x {
			x[i] = ref[r.IntN(len(ref))]
		}
		slices.Sort(x)
		out[b] = Wasserstein(ref, x)
	}
	slices.Sort(out)
	return out
}

// mcTolerance is 4 standard errors of the difference of two Monte-Carlo p-value estimates of p
// from B1 and B2 resamples, sqrt(p(1−p)(1/B1+1/B2)), plus the 1/(B+1) offset of the estimator.
func mcTolerance(p float64, B1, B2 int) float64 {
	return 4*math.Sqrt(p*(1-p)*(1/float64(B1)+1/float64(B2))) + 1/float64(B1+1) + 1/float64(B2+1)
}

// comparePValues checks the p-values of the two null distributions at the direct simulation's
// 50, 80, 90, 95 and 99 % points.
func comparePValues(t *testing.T, name string, got, direct []float64) {
	t.Helper()
	for _, q := range []float64{0.5, 0.8, 0.9, 0.95, 0.99} {
		x := direct[int(q*float64(len(direct)))]
		pg, pd := BootstrapPValue(got, x), BootstrapPValue(direct, x)
		if tol := mcTolerance(pd, len(got), len(direct)); math.Abs(pg-pd) > tol {
			t.Errorf("%s: p-value at the direct %.0f%% point %.6g: %.4f, direct simulation %.4f (tolerance %.4f)", name, 100*q, x, pg, pd, tol)
		}
	}
}

func TestBootstrapBinnedMatchesDirectSimulation(t *testing.T) {
	ref := lognormalRef(3000, 1)
	measures := map[string]BinnedMeasure{"psi": PSI, "js": JensenShannon, "hellinger": Hellinger, "tvd": TVD}
	for _, bins := range []int{10, 4} {
		edges := QuantileEdges(ref, bins)
		p := Proportions(CountsSorted(edges, ref, nil), nil)
		for _, n := range []int{30, 400, 5000} {
			for name, m := range measures {
				got, err := BootstrapBinned(p, n, 999, m, 42, nil)
				if err != nil || len(got) != 999 {
					t.Fatalf("BootstrapBinned: %d values, %v", len(got), err)
				}
				direct := directBinned(ref, edges, n, 2000, m, 4242)
				comparePValues(t, name, got, direct)
			}
		}
	}
}

func TestBootstrapWassersteinMatchesDirectSimulation(t *testing.T) {
	ref := lognormalRef(2000, 2)
	for _, n := range []int{20, 300, 1500} {
		got, err := BootstrapWasserstein(ref, n, 999, 1500, 42, nil)
		if err != nil || len(got) != 999 {
			t.Fatalf("BootstrapWasserstein: %d values, %v", len(got), err)
		}
		comparePValues(t, "wasserstein", got, directWasserstein(ref, n, 2000, 4242))
	}
}

// Above maxDraws the null distribution is the one at maxDraws rescaled by sqrt(maxDraws/n), an
// asymptotic approximation: checked against the direct simulation at n within the Monte-Carlo
// error plus 5 % of the critical value (the approximation's error at m = 2,000 draws).
func TestBootstrapWassersteinRescaledAboveMaxDraws(t *testing.T) {
	ref := lognormalRef(2000, 3)
	const n = 20_000
	got, err := BootstrapWasserstein(ref, n, 999, 2000, 42, nil)
	if err != nil {
		t.Fatal(err)
	}
	direct := directWasserstein(ref, n, 1000, 4242)
	for _, alpha := range []float64{0.5, 0.1, 0.05} {
		cg, cd := CriticalValue(got, alpha), CriticalValue(direct, alpha)
		if math.Abs(cg-cd) > 0.08*cd {
			t.Errorf("critical value at %.2f: %.5g rescaled from 2000 draws, %.5g simulated at %d", alpha, cg, cd, n)
		}
	}
}

// w1Indices is the exact Wasserstein-1 distance of the sample at the indices: compared with
// Wasserstein on the drawn values.
func TestW1IndicesEqualsWasserstein(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for trial := 0; trial < 200; trial++ {
		N := 2 + r.IntN(300)
		ref := lognormalRef(N, uint64(trial))
		if trial%3 == 0 {
			for i := range ref {
				ref[i] = math.Floor(ref[i] / 20) // many ties
			}
		}
		G, H := make([]float64, N), make([]float64, N)
		for k := 0; k < N-1; k++ {
			g := ref[k+1] - ref[k]
			G[k+1] = G[k] + g
			H[k+1] = H[k] + float64(k+1)/float64(N)*g
		}
		m := 1 + r.IntN(2*N)
		idx := make([]int, m)
		x := make([]float64, m)
		for i := range idx {
			idx[i] = r.IntN(N)
		}
		slices.Sort(idx)
		for i, k := range idx {
			x[i] = ref[k]
		}
		got, want := w1Indices(idx, G, H, N), Wasserstein(ref, x)
		if math.Abs(got-want) > 1e-9*math.Max(1, want) {
			t.Fatalf("trial %d (N=%d, m=%d): w1Indices %.15g, Wasserstein %.15g", trial, N, m, got, want)
		}
	}
}

func TestBootstrapPValueAndCriticalValue(t *testing.T) {
	null := make([]float64, 999)
	for i := range null {
		null[i] = float64(i + 1) // 1..999
	}
	for _, c := range []struct{ t, want float64 }{
		{0, 1}, {1, 1}, {950, 51.0 / 1000}, {950.5, 50.0 / 1000}, {999, 2.0 / 1000}, {1000, 1.0 / 1000},
	} {
		if got := BootstrapPValue(null, c.t); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("BootstrapPValue(%v) = %v, want %v", c.t, got, c.want)
		}
	}
	if !math.IsNaN(BootstrapPValue(null, math.NaN())) || !math.IsNaN(BootstrapPValue(nil, 1)) {
		t.Error("NaN t or empty null: not NaN")
	}
	// alpha 0.05, B 999: T_(950); every value above it has p <= 0.05, the value itself has not.
	crit := CriticalValue(null, 0.05)
	if crit != 950 {
		t.Errorf("CriticalValue(0.05) = %v, want 950", crit)
	}
	if BootstrapPValue(null, crit) <= 0.05 || BootstrapPValue(null, math.Nextafter(crit, 2000)) > 0.05 {
		t.Error("critical value is not the boundary of significance at 0.05")
	}
	if !math.IsNaN(CriticalValue(null, 0.0001)) || !math.IsNaN(CriticalValue(nil, 0.05)) || !math.IsNaN(CriticalValue(null, math.NaN())) {
		t.Error("alpha below 1/(B+1), empty null or NaN alpha: not NaN")
	}
	if !math.IsInf(CriticalValue(null, 1), -1) {
		t.Error("alpha 1: every value is significant")
	}
}

func TestBootstrapDeterministicAndBadInput(t *testing.T) {
	p := []float64{0.1, 0.2, 0.3, 0.4}
	a, _ := BootstrapBinned(p, 100, 50, PSI, 7, nil)
	b, _ := BootstrapBinned(p, 100, 50, PSI, 7, nil)
	c, _ := BootstrapBinned(p, 100, 50, PSI, 8, nil)
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Error("same seed differs, or another seed gives the same values")
	}
	for _, bad := range [][]float64{nil, {}, {0.5, math.NaN()}, {-0.1, 1.1}} {
		if got, err := BootstrapBinned(bad, 10, 10, PSI, 1, nil); got != nil || err != nil {
			t.Errorf("p = %v: %v, %v", bad, got, err)
		}
	}
	if got, _ := BootstrapBinned(p, 0, 10, PSI, 1, nil); got != nil {
		t.Error("n = 0 gives values")
	}
	if got, _ := BootstrapWasserstein([]float64{1}, 10, 10, 10, 1, nil); got != nil {
		t.Error("a one-value reference gives values")
	}
	stop := errors.New("stop")
	if _, err := BootstrapBinned(p, 100, 1_000_000, PSI, 1, func() error { return stop }); err != stop {
		t.Errorf("BootstrapBinned ignores its check: %v", err)
	}
	if _, err := BootstrapWasserstein(lognormalRef(100, 1), 1000, 1_000_000, 1000, 1, func() error { return stop }); err != stop {
		t.Errorf("BootstrapWasserstein ignores its check: %v", err)
	}
}

// sortedIndices draws sorted uniform indices: ascending, in range, each index about equally often.
func TestSortedIndicesUniform(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	const N, m = 10, 100_000
	idx := make([]int, m)
	sortedIndices(r, idx, make([]float64, m+1), N)
	if !slices.IsSorted(idx) || idx[0] < 0 || idx[m-1] >= N {
		t.Fatal("not sorted or out of range")
	}
	counts := make([]float64, N)
	for _, k := range idx {
		counts[k]++
	}
	// Binomial(m, 1/N): standard deviation sqrt(m·0.1·0.9) ≈ 95; 5 of them.
	for k, c := range counts {
		if math.Abs(c-m/N) > 5*math.Sqrt(m*0.1*0.9) {
			t.Errorf("index %d drawn %v times of %d", k, c, m)
		}
	}
}

// go test ./pkg/stats -run '^$' -bench 'BenchmarkBootstrap' : one null distribution (999
// resamples) at n = 1,000,000 current values against a 100,000-value reference.
func BenchmarkBootstrapBinnedPSI(b *testing.B) {
	ref := lognormalRef(100_000, 1)
	p := Proportions(CountsSorted(QuantileEdges(ref, 10), ref, nil), nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := BootstrapBinned(p, 1_000_000, 999, PSI, uint64(i), nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBootstrapWasserstein(b *testing.B) {
	ref := lognormalRef(100_000, 1)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := BootstrapWasserstein(ref, 1_000_000, 999, 5000, uint64(i), nil); err != nil {
			b.Fatal(err)
		}
	}
}
