package stats

import (
	"github.com/modellens/mlmonitoring-datasource/pkg/limits"

	"math"
	"testing"
)

var (
	nan  = math.NaN()
	inf  = math.Inf(1)
	ninf = math.Inf(-1)
)

// same reports whether a and b are equal, NaN equal to NaN.
func same(a, b float64) bool { return a == b || (a != a && b != b) }

func sameSlice(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !same(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestDropNaN(t *testing.T) {
	cases := []struct{ in, want []float64 }{
		{nil, []float64{}},
		{[]float64{nan, nan}, []float64{}},
		{[]float64{nan, 1, nan, 2, inf}, []float64{1, 2, inf}},
		{[]float64{3, 2, 1}, []float64{3, 2, 1}},
	}
	for _, c := range cases {
		if got := DropNaN(c.in); !sameSlice(got, c.want) {
			t.Errorf("DropNaN(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestAppendNotNaN(t *testing.T) {
	dst := make([]float64, 0, 8)
	got := AppendNotNaN(dst, []float64{nan, 1, nan, inf, 2})
	if !sameSlice(got, []float64{1, inf, 2}) || &got[0] != &dst[:1][0] {
		t.Errorf("AppendNotNaN = %v", got)
	}
	if got := AppendNotNaN([]float64{5}, nil); !sameSlice(got, []float64{5}) {
		t.Errorf("AppendNotNaN to a non-empty dst = %v", got)
	}
}

func TestQuantileSortedSpecial(t *testing.T) {
	cases := []struct {
		x    []float64
		p    float64
		want float64
	}{
		{nil, 0.5, nan},
		{[]float64{1, 2}, -0.1, nan},
		{[]float64{1, 2}, 1.1, nan},
		{[]float64{1, 2}, nan, nan},
		{[]float64{7}, 0, 7},
		{[]float64{7}, 0.37, 7},
		{[]float64{7}, 1, 7},
		{[]float64{1, 2}, 0, 1},
		{[]float64{1, 2}, 1, 2},
		{[]float64{1, 2}, 0.25, 1.25},
		{[]float64{4, 4, 4}, 0.3, 4},         // constant
		{[]float64{ninf, 1}, 0.25, ninf},     // limit, where numpy gives NaN
		{[]float64{ninf, 1}, 0.75, ninf},     // numpy: -inf
		{[]float64{1, inf}, 0.5, inf},        // numpy: NaN
		{[]float64{1, inf}, 1, inf},          // numpy: NaN
		{[]float64{1, inf}, 0, 1},            // numpy: 1
		{[]float64{inf, inf}, 0.5, inf},      // numpy: NaN
		{[]float64{ninf, inf}, 0.5, nan},     // numpy: NaN
		{[]float64{ninf, 0, 1, 2}, 0.5, 0.5}, // infinities beyond the interpolated pair don't matter
	}
	for _, c := range cases {
		if got := QuantileSorted(c.x, c.p); !same(got, c.want) {
			t.Errorf("QuantileSorted(%v, %v) = %v, want %v", c.x, c.p, got, c.want)
		}
	}
}

func TestPercentilesSpecial(t *testing.T) {
	ps := []float64{50, 0, 101, nan, -5, 100}
	cases := []struct {
		x    []float64
		want []float64
	}{
		{nil, []float64{nan, nan, nan, nan, nan, nan}},
		{[]float64{nan, nan}, []float64{nan, nan, nan, nan, nan, nan}},
		{[]float64{nan, 1, 3, nan, 2}, []float64{2, nan, nan, nan, nan, 3}},
		{[]float64{5}, []float64{5, nan, nan, nan, nan, 5}},
		{[]float64{2, 2, 2, 2}, []float64{2, nan, nan, nan, nan, 2}},
		{[]float64{inf, 1, ninf}, []float64{1, nan, nan, nan, nan, inf}},
	}
	for _, c := range cases {
		in := append([]float64(nil), c.x...)
		if got := Percentiles(in, ps, nil); !sameSlice(got, c.want) {
			t.Errorf("Percentiles(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	// dst is reused when it is big enough.
	dst := make([]float64, 1, 8)
	got := Percentiles([]float64{1, 2, 3}, []float64{50, 100}, dst)
	if &got[0] != &dst[0] || !sameSlice(got, []float64{2, 3}) {
		t.Errorf("Percentiles did not reuse dst or gave %v", got)
	}
	// Duplicate and unordered percentiles.
	got = Percentiles([]float64{9, 1, 5, 3, 7}, []float64{90, 10, 90, 50, 12.5}, nil)
	if want := []float64{8.2, 1.8, 8.2, 5, 2}; !sameSliceTol(got, want, 1e-12) {
		t.Errorf("Percentiles unordered = %v, want %v", got, want)
	}
}

func sameSliceTol(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !same(a[i], b[i]) && math.Abs(a[i]-b[i]) > tol*math.Max(1, math.Abs(b[i])) {
			return false
		}
	}
	return true
}

func TestEdgesSpecial(t *testing.T) {
	q := []struct {
		x    []float64
		bins int
		want []float64
	}{
		{nil, 10, nil},
		{[]float64{1, 2, 3}, 1, nil},
		{[]float64{1, 2, 3}, 0, nil},
		{[]float64{4}, 10, []float64{4}},
		{[]float64{4, 4, 4, 4}, 5, []float64{4}},
		{[]float64{1, 1, 1, 1, 1, 1, 1, 1, 2, 3}, 5, []float64{1, 1.2000000000000002}}, // numpy.percentile(x, [20, 40, 60, 80]) = [1, 1, 1, 1.2000000000000002]
		{[]float64{ninf, inf}, 2, nil}, // the only quantile is NaN
		{[]float64{ninf, 0, 1, inf}, 2, []float64{0.5}},
		{[]float64{1, 2, 3}, limits.MaxBins + 1, nil},
	}
	for _, c := range q {
		if got := QuantileEdges(c.x, c.bins); !sameSlice(got, c.want) {
			t.Errorf("QuantileEdges(%v, %d) = %v, want %v", c.x, c.bins, got, c.want)
		}
	}
	e := []struct {
		x    []float64
		bins int
		want []float64
	}{
		{nil, 10, nil},
		{[]float64{1, 2}, 0, nil},
		{[]float64{3}, 4, []float64{3}},
		{[]float64{3, 3, 3}, 4, []float64{3}},
		{[]float64{0, 1}, 1, []float64{0, 1}},
		{[]float64{0, 0.5, 4}, 4, []float64{0, 1, 2, 3, 4}},
		{[]float64{ninf, 0, 2, inf}, 2, []float64{0, 1, 2}}, // range over the finite values
		{[]float64{ninf, inf}, 2, nil},
		{[]float64{ninf, 5, inf}, 2, []float64{5}},
		{[]float64{1, math.Nextafter(1, 2)}, 4, []float64{1, math.Nextafter(1, 2)}}, // rounding collapses
		{[]float64{0, 1}, limits.MaxBins + 1, nil},
		{[]float64{0, 1}, -3, nil},
	}
	for _, c := range e {
		if got := EqualWidthEdges(c.x, c.bins); !sameSlice(got, c.want) {
			t.Errorf("EqualWidthEdges(%v, %d) = %v, want %v", c.x, c.bins, got, c.want)
		}
	}
}

func TestCountsSpecial(t *testing.T) {
	edges := []float64{1, 2, 3}
	cases := []struct {
		edges, x, want []float64
	}{
		{edges, nil, []float64{0, 0, 0, 0}},
		{edges, []float64{1, 2, 3}, []float64{0, 1, 1, 1}}, // on an edge: the bin to its right
		{edges, []float64{0.999, 1.5, 2.999, 3.5, 100}, []float64{1, 1, 1, 2}},
		{edges, []float64{nan, ninf, inf, nan}, []float64{1, 0, 0, 1}},
		{nil, []float64{5, nan, -1}, []float64{2}},
		{[]float64{1, 1, 2}, []float64{0, 1, 1.5, 2}, []float64{1, 0, 2, 1}}, // repeated edge: empty bin
		{[]float64{ninf, 0}, []float64{ninf, -1, 0}, []float64{0, 2, 1}},
		{[]float64{2, 1}, []float64{1}, []float64{nan, nan, nan}},   // out of order
		{[]float64{1, nan}, []float64{1}, []float64{nan, nan, nan}}, // NaN edge
	}
	for _, c := range cases {
		if got := Counts(c.edges, c.x, nil); !sameSlice(got, c.want) {
			t.Errorf("Counts(%v, %v) = %v, want %v", c.edges, c.x, got, c.want)
		}
		s := append([]float64(nil), c.x...)
		SortFloat64s(s) // NaNs go to the ends
		if got := CountsSorted(c.edges, s, nil); !sameSlice(got, c.want) {
			t.Errorf("CountsSorted(%v, %v) = %v, want %v", c.edges, s, got, c.want)
		}
	}
	dst := make([]float64, 0, 10)
	dst = append(dst, 7, 7, 7, 7, 7)
	got := Counts(edges, []float64{2}, dst)
	if &got[0] != &dst[0] || !sameSlice(got, []float64{0, 0, 1, 0}) {
		t.Errorf("Counts did not reuse and zero dst: %v", got)
	}
}

func TestProportionsSpecial(t *testing.T) {
	cases := []struct{ in, want []float64 }{
		{nil, []float64{}},
		{[]float64{0, 0}, []float64{nan, nan}},
		{[]float64{1, -1, 2}, []float64{nan, nan, nan}},
		{[]float64{1, nan}, []float64{nan, nan}},
		{[]float64{1, inf}, []float64{nan, nan}},
		{[]float64{1, 3}, []float64{0.25, 0.75}},
		{[]float64{0, 5}, []float64{0, 1}},
	}
	for _, c := range cases {
		if got := Proportions(c.in, nil); !sameSlice(got, c.want) {
			t.Errorf("Proportions(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestDistancesSpecial(t *testing.T) {
	fns := map[string]func(p, q []float64) float64{
		"psi": PSI, "js": JensenShannon, "hellinger": Hellinger, "tvd": TVD, "kld": KLD, "linf": LInf, "mlrun": MLRun,
	}
	p := []float64{0.2, 0.3, 0.5}
	for name, f := range fns {
		for _, c := range []struct {
			p, q []float64
			why  string
		}{
			{nil, nil, "empty"},
			{p, []float64{0.5, 0.5}, "mismatched lengths"},
			{p, []float64{0.2, nan, 0.8}, "NaN"},
			{[]float64{nan, 0.5, 0.5}, p, "NaN"},
		} {
			if got := f(c.p, c.q); !math.IsNaN(got) {
				t.Errorf("%s %s: got %v, want NaN", name, c.why, got)
			}
		}
		if got := f(p, p); got != 0 {
			t.Errorf("%s of identical distributions = %v, want 0", name, got)
		}
	}
	for name, f := range map[string]func(p, q []float64) float64{"psi": PSI, "js": JensenShannon, "hellinger": Hellinger, "kld": KLD} {
		if got := f([]float64{1.5, -0.5}, []float64{0.5, 0.5}); !math.IsNaN(got) {
			t.Errorf("%s with a negative proportion = %v, want NaN", name, got)
		}
	}
	// Disjoint supports: the extreme values.
	a, b := []float64{1, 0}, []float64{0, 1}
	checks := map[string][2]float64{
		"tvd":       {TVD(a, b), 1},
		"linf":      {LInf(a, b), 1},
		"hellinger": {Hellinger(a, b), 1},
		"js":        {JensenShannon(a, b), math.Sqrt(math.Ln2)},
		"mlrun":     {MLRun(a, b), 1},
		// (1e-4 − 1)·ln(1e-4) + (1 − 1e-4)·ln(1e4)
		"psi": {PSI(a, b), 2 * (1 - 1e-4) * math.Log(1e4)},
		// KL(b‖a) + KL(a‖b) = ln(1/1e-4) + ln(1/1e-4) (zero numerators contribute 0)
		"kld": {KLD(a, b), 2 * math.Log(1e4)},
	}
	for name, c := range checks {
		if math.Abs(c[0]-c[1]) > 1e-12 {
			t.Errorf("%s of disjoint distributions = %v, want %v", name, c[0], c[1])
		}
	}
	// JS normalises like scipy: counts give the same distance as proportions.
	if d1, d2 := JensenShannon([]float64{2, 6}, []float64{5, 5}), JensenShannon([]float64{0.25, 0.75}, []float64{0.5, 0.5}); math.Abs(d1-d2) > 1e-15 {
		t.Errorf("JS of counts %v != JS of proportions %v", d1, d2)
	}
	if got := JensenShannon([]float64{0, 0}, []float64{0.5, 0.5}); !math.IsNaN(got) {
		t.Errorf("JS with an all-zero p = %v, want NaN", got)
	}
}

func TestKSSpecial(t *testing.T) {
	cases := []struct {
		a, b []float64
		want float64
	}{
		{nil, []float64{1}, nan},
		{[]float64{1}, nil, nan},
		{[]float64{1}, []float64{2}, 1},
		{[]float64{1}, []float64{1}, 0},
		{[]float64{1, 2, 3}, []float64{1, 2, 3}, 0},
		{[]float64{5, 5, 5}, []float64{5}, 0}, // constant, all tied
		{[]float64{1, 2}, []float64{2, 3}, 0.5},
		{[]float64{1, 1, 2, 2}, []float64{1, 2, 2, 2}, 0.25}, // ties across samples
		{[]float64{ninf, 0}, []float64{0, inf}, 0.5},
		{[]float64{ninf, ninf}, []float64{inf}, 1},
		{[]float64{1, nan}, []float64{1}, nan},
		{[]float64{nan, 1}, []float64{1}, nan},
		{[]float64{1}, []float64{nan, 1}, nan},
	}
	for _, c := range cases {
		if got := KS(c.a, c.b); !same(got, c.want) {
			t.Errorf("KS(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got, _ := KSWasserstein(c.a, c.b); !same(got, c.want) {
			t.Errorf("KSWasserstein(%v, %v) KS = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestKSPValueSpecial(t *testing.T) {
	cases := []struct {
		d    float64
		n, m int
		want float64
	}{
		{nan, 10, 10, nan},
		{0.5, 0, 10, nan},
		{0.5, 10, -1, nan},
		{0.5, 1, 1, nan}, // en = 0.5 rounds to N = 0: undefined, as in scipy
		{0, 10, 10, 1},
		{-0.1, 10, 10, 1},
		{1, 10, 10, 0},
		{1.5, 10, 10, 0},
		{0.9, 1, 2, 2 * (1 - 0.9)}, // N = round(2/3) = 1: P(D_1 >= d) = 2(1−d) for d >= ½
		{0.3, 1, 2, 1},
	}
	for _, c := range cases {
		if got := KSPValue(c.d, c.n, c.m); !same(got, c.want) && !(math.Abs(got-c.want) < 1e-15) {
			t.Errorf("KSPValue(%v, %d, %d) = %v, want %v", c.d, c.n, c.m, got, c.want)
		}
	}
	// Rounding of en half to even, as numpy.round: (5,5) → 2.5 → 2, (7,7) → 3.5 → 4.
	for _, c := range []struct{ n, N int }{{5, 2}, {7, 4}, {9, 4}, {11, 6}} {
		for _, d := range []float64{0.3, 0.45, 0.6} {
			if got, want := KSPValue(d, c.n, c.n), KolmogorovSF(d, c.N); got != want {
				t.Errorf("KSPValue(%v, %d, %d) = %v, want KolmogorovSF(d, %d) = %v", d, c.n, c.n, got, c.N, want)
			}
		}
	}
	// Symmetric in n and m; huge sizes stay finite and cheap.
	if a, b := KSPValue(0.01, 100000, 3000), KSPValue(0.01, 3000, 100000); a != b {
		t.Errorf("KSPValue not symmetric: %v vs %v", a, b)
	}
	if p := KSPValue(1e-4, 1<<40, 1<<40); !(p >= 0 && p <= 1) {
		t.Errorf("KSPValue with 2^40 samples = %v", p)
	}
}

func TestWassersteinSpecial(t *testing.T) {
	cases := []struct {
		a, b []float64
		want float64
	}{
		{nil, []float64{1}, nan},
		{[]float64{1}, nil, nan},
		{[]float64{1}, []float64{3}, 2},
		{[]float64{1, 2, 3}, []float64{1, 2, 3}, 0},
		{[]float64{5, 5}, []float64{5}, 0},
		{[]float64{0, 1}, []float64{0, 0, 1, 1}, 0},
		{[]float64{0, 0, 3}, []float64{0, 3, 3}, 1},
		// infinities follow scipy's arithmetic (wasserstein_distance([0, inf], [0, 1]) = inf, ...)
		{[]float64{0, inf}, []float64{0, 1}, inf},
		{[]float64{ninf, 0}, []float64{0, 1}, inf},
		{[]float64{ninf}, []float64{inf}, inf},
		{[]float64{0, inf}, []float64{0, inf}, nan},
		{[]float64{0, inf, inf}, []float64{0, 1}, nan},
		{[]float64{0, nan}, []float64{0}, nan},
	}
	for _, c := range cases {
		if got := Wasserstein(c.a, c.b); !same(got, c.want) {
			t.Errorf("Wasserstein(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
		if _, got := KSWasserstein(c.a, c.b); !same(got, c.want) {
			t.Errorf("KSWasserstein(%v, %v) W = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	// A constant reference divides by 0.001.
	if got := WassersteinNorm([]float64{5, 5, 5}, []float64{6}); math.Abs(got-1000) > 1e-9 {
		t.Errorf("WassersteinNorm with constant reference = %v, want 1000", got)
	}
	// W = ½ on [0, 1) + ½ on [1, 2) = 1; std([0 2]) = 1.
	if got := WassersteinNorm([]float64{0, 2}, []float64{1}); got != 1 {
		t.Errorf("WassersteinNorm([0 2], [1]) = %v, want 1", got)
	}
	if got := WassersteinNormalize(1, nan); !math.IsNaN(got) {
		t.Errorf("WassersteinNormalize(1, NaN) = %v", got)
	}
}

func TestMeanStdSpecial(t *testing.T) {
	cases := []struct {
		x       []float64
		mu, std float64
	}{
		{nil, nan, nan},
		{[]float64{3}, 3, 0},
		{[]float64{2, 2, 2}, 2, 0},
		{[]float64{1, 3}, 2, 1},
		{[]float64{1, nan}, nan, nan},
		{[]float64{1, inf}, inf, nan},
	}
	for _, c := range cases {
		if m, s := MeanStd(c.x); !same(m, c.mu) || !same(s, c.std) {
			t.Errorf("MeanStd(%v) = %v, %v; want %v, %v", c.x, m, s, c.mu, c.std)
		}
	}
}

func TestChi2Special(t *testing.T) {
	bad := []struct {
		ref, cur []float64
		why      string
	}{
		{nil, nil, "empty"},
		{[]float64{1, 2}, []float64{1}, "mismatched lengths"},
		{[]float64{0, 0}, []float64{3, 4}, "empty reference row"},
		{[]float64{1, -1}, []float64{3, 4}, "negative count"},
		{[]float64{1, nan}, []float64{3, 4}, "NaN count"},
		{[]float64{1, inf}, []float64{3, 4}, "infinite count"},
	}
	for _, c := range bad {
		s, p, dof := Chi2(c.ref, c.cur)
		if !math.IsNaN(s) || !math.IsNaN(p) || dof != 0 {
			t.Errorf("Chi2 %s = (%v, %v, %d), want (NaN, NaN, 0)", c.why, s, p, dof)
		}
	}
	// Proportional rows: no evidence of a difference.
	if s, p, dof := Chi2([]float64{10, 20, 30}, []float64{1, 2, 3}); math.Abs(s) > 1e-12 || math.Abs(p-1) > 1e-12 || dof != 2 {
		t.Errorf("Chi2 of proportional rows = (%v, %v, %d), want (0, 1, 2)", s, p, dof)
	}
	if p := ChiSquareSF(0, 3); p != 1 {
		t.Errorf("ChiSquareSF(0, 3) = %v", p)
	}
	if p := ChiSquareSF(inf, 3); p != 0 {
		t.Errorf("ChiSquareSF(inf, 3) = %v", p)
	}
	if p := ChiSquareSF(1, 0); !math.IsNaN(p) {
		t.Errorf("ChiSquareSF(1, 0) = %v", p)
	}
}
