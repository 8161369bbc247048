package stats

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// randSample returns n values of one of several shapes: continuous, heavily tied, with ±Inf and
// ±0, constant, or narrow (one top-16-bit radix bucket holding everything).
func randSample(r *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	shape := r.IntN(6)
	for i := range x {
		switch shape {
		case 0:
			x[i] = r.NormFloat64()*3 + 1
		case 1:
			x[i] = float64(r.IntN(7)) - 3
		case 2:
			x[i] = math.Ldexp(r.Float64()-0.5, r.IntN(200)-100)
			switch r.IntN(20) {
			case 0:
				x[i] = inf
			case 1:
				x[i] = ninf
			case 2:
				x[i] = math.Copysign(0, -1)
			case 3:
				x[i] = 0
			}
		case 3:
			x[i] = 42
		case 4:
			x[i] = 1000 + 1e-3*r.NormFloat64()
		default:
			x[i] = r.ExpFloat64()
		}
	}
	return x
}

func TestSortFloat64sProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 200; iter++ {
		n := r.IntN(3000)
		switch iter % 20 {
		case 0:
			n = 100000 + r.IntN(1000)
		case 10:
			n = 3000 + r.IntN(70000) // both sides of the 65,536 switch to the MSD pass
		}
		x := randSample(r, n)
		want := append([]float64(nil), x...)
		sort.Float64s(want)
		SortFloat64s(x)
		for i := range x {
			if x[i] != want[i] {
				t.Fatalf("iter %d n=%d: x[%d] = %v, sort.Float64s gives %v", iter, n, i, x[i], want[i])
			}
		}
	}
}

func TestSortFloat64sNaNNoPanic(t *testing.T) {
	x := randSample(rand.New(rand.NewPCG(3, 4)), 2000)
	for i := 0; i < len(x); i += 97 {
		x[i] = nan
	}
	SortFloat64s(x) // must not panic; the non-NaN values end up sorted
	y := DropNaN(x)
	if !sort.Float64sAreSorted(y) {
		t.Error("non-NaN values not sorted")
	}
}

func TestPercentilesProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for iter := 0; iter < 500; iter++ {
		n := 1 + r.IntN(400)
		if iter%50 == 0 {
			n = 50000
		}
		x := randSample(r, n)
		ps := make([]float64, 1+r.IntN(6))
		for i := range ps {
			if r.IntN(3) == 0 {
				ps[i] = float64(1 + r.IntN(100))
			} else {
				ps[i] = 100 * (1 - r.Float64()) // (0, 100]
			}
		}
		s := sortedCopy(x)
		got := Percentiles(x, ps, nil)
		for i, p := range ps {
			if want := QuantileSorted(s, p/100); !same(got[i], want) {
				t.Fatalf("iter %d n=%d p=%v: Percentiles %v, QuantileSorted %v", iter, n, p, got[i], want)
			}
		}
		// Percentiles only permutes x.
		SortFloat64s(x)
		for i := range x {
			if x[i] != s[i] {
				t.Fatalf("iter %d: Percentiles changed the multiset of x", iter)
			}
		}
	}
}

func TestCountsProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for iter := 0; iter < 300; iter++ {
		ref := sortedCopy(randSample(r, 1+r.IntN(500)))
		x := randSample(r, r.IntN(1000))
		bins := 1 + r.IntN(25)
		for _, edges := range [][]float64{QuantileEdges(ref, bins), EqualWidthEdges(ref, bins)} {
			c1 := Counts(edges, x, nil)
			c2 := CountsSorted(edges, sortedCopy(x), nil)
			if !sameSlice(c1, c2) {
				t.Fatalf("iter %d: Counts %v != CountsSorted %v (edges %v)", iter, c1, c2, edges)
			}
			total := 0.0
			for _, c := range c1 {
				total += c
			}
			if total != float64(len(x)) {
				t.Fatalf("iter %d: counts sum to %v, want %d", iter, total, len(x))
			}
			for i := 1; i < len(edges); i++ {
				if !(edges[i] > edges[i-1]) {
					t.Fatalf("iter %d: edges not strictly ascending: %v", iter, edges)
				}
			}
		}
	}
}

func randProportions(r *rand.Rand, k int) []float64 {
	c := make([]float64, k)
	for i := range c {
		if r.IntN(4) > 0 {
			c[i] = float64(r.IntN(1000))
		}
	}
	c[r.IntN(k)]++
	return Proportions(c, nil)
}

func TestDistanceProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const eps = 1e-12
	for iter := 0; iter < 5000; iter++ {
		k := 1 + r.IntN(30)
		p, q := randProportions(r, k), randProportions(r, k)
		tvd, linf, hel := TVD(p, q), LInf(p, q), Hellinger(p, q)
		js, psi, kld, ml := JensenShannon(p, q), PSI(p, q), KLD(p, q), MLRun(p, q)
		if !(tvd >= 0 && tvd <= 1+eps) {
			t.Fatalf("TVD %v out of [0,1]", tvd)
		}
		if !(linf >= 0 && linf <= tvd+eps) {
			t.Fatalf("LInf %v out of [0, TVD=%v]", linf, tvd)
		}
		if !(hel >= 0 && hel <= 1) {
			t.Fatalf("Hellinger %v out of [0,1]", hel)
		}
		if !(js >= 0 && js <= math.Sqrt(math.Ln2)+eps) {
			t.Fatalf("JS %v out of [0, sqrt(ln 2)]", js)
		}
		if !(psi >= 0) || !(kld >= 0) {
			t.Fatalf("PSI %v or KLD %v negative", psi, kld)
		}
		if !(ml >= 0 && ml <= 1+eps) {
			t.Fatalf("MLRun %v out of [0,1]", ml)
		}
		// Symmetric measures.
		if TVD(q, p) != tvd || Hellinger(q, p) != hel || math.Abs(JensenShannon(q, p)-js) > eps || math.Abs(PSI(q, p)-psi) > 1e-9*math.Max(1, psi) {
			t.Fatal("a symmetric measure is not symmetric")
		}
		// Hellinger² <= TVD <= sqrt(2)·Hellinger (for the sqrt(1−BC) form).
		if hel*hel > tvd+eps || tvd > math.Sqrt2*hel+eps {
			t.Fatalf("Hellinger %v and TVD %v violate H² <= TVD <= √2·H", hel, tvd)
		}
	}
}

// bruteKS evaluates sup |F−G| at every sample value by counting (O((n+m)²)).
func bruteKS(a, b []float64) float64 {
	best := 0.0
	for _, v := range append(append([]float64(nil), a...), b...) {
		ca, cb := 0, 0
		for _, x := range a {
			if x <= v {
				ca++
			}
		}
		for _, x := range b {
			if x <= v {
				cb++
			}
		}
		best = math.Max(best, math.Abs(float64(ca)/float64(len(a))-float64(cb)/float64(len(b))))
	}
	return best
}

// scipyWasserstein is scipy's _cdf_distance(1, u, v) transcribed: pooled sorted values, deltas,
// searchsorted(side='right') CDFs.
func scipyWasserstein(u, v []float64) float64 {
	all := append(append([]float64(nil), u...), v...)
	sort.Float64s(all)
	s := 0.0
	for k := 0; k+1 < len(all); k++ {
		cu := float64(sort.Search(len(u), func(i int) bool { return u[i] > all[k] })) / float64(len(u))
		cv := float64(sort.Search(len(v), func(i int) bool { return v[i] > all[k] })) / float64(len(v))
		s += math.Abs(cu-cv) * (all[k+1] - all[k])
	}
	return s
}

func finiteSample(r *rand.Rand, n int) []float64 {
	x := randSample(r, n)
	for i := range x {
		if math.IsInf(x[i], 0) {
			x[i] = 1
		}
	}
	return x
}

func TestTwoSampleProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for iter := 0; iter < 400; iter++ {
		a := sortedCopy(finiteSample(r, 1+r.IntN(60)))
		b := sortedCopy(finiteSample(r, 1+r.IntN(60)))
		d := KS(a, b)
		if !(d >= 0 && d <= 1) || d != KS(b, a) {
			t.Fatalf("KS %v out of [0,1] or asymmetric", d)
		}
		if want := bruteKS(a, b); math.Abs(d-want) > 1e-15 {
			t.Fatalf("KS(%v, %v) = %v, brute force %v", a, b, d, want)
		}
		w := Wasserstein(a, b)
		if want := scipyWasserstein(a, b); math.Abs(w-want) > 1e-12*math.Max(1, want) {
			t.Fatalf("Wasserstein %v, scipy transcription %v", w, want)
		}
		if math.Abs(w-Wasserstein(b, a)) > 1e-12*math.Max(1, w) || !(w >= 0) {
			t.Fatalf("Wasserstein %v negative or asymmetric", w)
		}
		if d2, w2 := KSWasserstein(a, b); d2 != d || !same(w2, w) {
			t.Fatalf("KSWasserstein = %v, %v; KS, Wasserstein = %v, %v", d2, w2, d, w)
		}
		p := KSPValue(d, len(a), len(b))
		if len(a)+len(b) > 2 && !(p >= 0 && p <= 1) {
			t.Fatalf("KSPValue %v out of [0,1]", p)
		}
	}
}

// The p-value never increases with d, for sizes on both sides of the N = 140 switch.
func TestKSPValueMonotone(t *testing.T) {
	for _, nm := range [][2]int{{3, 4}, {50, 60}, {200, 300}, {281, 281}, {1000, 100000}, {1000000, 1000000}} {
		prev := 1.0
		for d := 0.0; d <= 1.0; d += 1.0 / 4096 {
			p := KSPValue(d, nm[0], nm[1])
			if p > prev*(1+1e-9)+1e-15 {
				t.Fatalf("n=%d m=%d: p(%v) = %v > p(previous) = %v", nm[0], nm[1], d, p, prev)
			}
			prev = p
		}
	}
}

func TestChi2Properties(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for iter := 0; iter < 1000; iter++ {
		k := 2 + r.IntN(20)
		a, b := make([]float64, k), make([]float64, k)
		for i := range a {
			a[i] = float64(r.IntN(50))
			b[i] = float64(r.IntN(50))
		}
		a[0]++
		b[1]++
		s, p, dof := Chi2(a, b)
		if !(s >= 0) || !(p >= 0 && p <= 1) || dof < 1 || dof > k-1 {
			t.Fatalf("Chi2(%v, %v) = %v, %v, %d", a, b, s, p, dof)
		}
		s2, p2, dof2 := Chi2(b, a)
		if math.Abs(s-s2) > 1e-9*math.Max(1, s) || math.Abs(p-p2) > 1e-9 || dof != dof2 {
			t.Fatal("Chi2 not symmetric in its rows")
		}
	}
}

// Selection on patterns that defeat naive pivot choices (sorted, reversed, organ pipe, sawtooth,
// all equal, two values) gives the same answer as sorting.
func TestPercentilesPatterns(t *testing.T) {
	const n = 20011
	patterns := map[string]func(i int) float64{
		"sorted":   func(i int) float64 { return float64(i) },
		"reversed": func(i int) float64 { return float64(n - i) },
		"organ":    func(i int) float64 { return float64(min(i, n-i)) },
		"sawtooth": func(i int) float64 { return float64(i % 97) },
		"equal":    func(i int) float64 { return 3 },
		"two":      func(i int) float64 { return float64(i % 2) },
		"mostly":   func(i int) float64 { return float64(i / (n - 3)) },
	}
	ps := []float64{0.01, 1, 25, 50, 50, 75, 90, 95, 99, 99.99, 100}
	for name, gen := range patterns {
		x := make([]float64, n)
		for i := range x {
			x[i] = gen(i)
		}
		s := sortedCopy(x)
		got := Percentiles(x, ps, nil)
		for i, p := range ps {
			if want := QuantileSorted(s, p/100); got[i] != want {
				t.Errorf("%s p=%v: got %v, want %v", name, p, got[i], want)
			}
		}
	}
}
