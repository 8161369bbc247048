package stats

import (
	"math"
	"math/rand"
	"sort"
	"testing"
)

// leCountsLoop is the definition of Prometheus `le` buckets written out: bucket i holds the values
// v with e_{i-1} < v <= e_i (the outer buckets open), one value at a time.
func leCountsLoop(edges, x []float64) []float64 {
	out := make([]float64, len(edges)+1)
	for _, v := range x {
		if v != v {
			continue
		}
		i := 0
		for i < len(edges) && v > edges[i] {
			i++
		}
		out[i]++
	}
	return out
}

func TestCountsSortedLE(t *testing.T) {
	cases := []struct {
		name        string
		edges, data []float64
		want        []float64
	}{
		// Values on a bound fall in the bucket that bound closes (le), not the next one.
		{"on bounds", []float64{1, 2, 3}, []float64{0.5, 1, 1, 1.5, 2, 3, 3.5}, []float64{3, 2, 1, 1}},
		{"no edges", nil, []float64{1, 2}, []float64{2}},
		{"empty data", []float64{1, 2}, nil, []float64{0, 0, 0}},
		{"NaN skipped", []float64{0}, []float64{math.NaN(), -1, 0, 1, math.NaN()}, []float64{2, 1}},
		{"infinities", []float64{0, 10}, []float64{math.Inf(-1), 0, 10, math.Inf(1)}, []float64{2, 1, 1}},
		// le="+Inf" holds +Inf itself; the open bucket after it is empty.
		{"+Inf edge", []float64{0, math.Inf(1)}, []float64{-1, 5, math.Inf(1)}, []float64{1, 2, 0}},
		{"-Inf edge", []float64{math.Inf(-1), 0}, []float64{math.Inf(-1), -1, 0, 1}, []float64{1, 2, 1}},
		{"largest float edge", []float64{math.MaxFloat64}, []float64{math.MaxFloat64, math.Inf(1)}, []float64{1, 1}},
	}
	for _, c := range cases {
		got := CountsSortedLE(c.edges, c.data, nil)
		if !equalFloats(got, c.want) {
			t.Errorf("%s: CountsSortedLE(%v, %v) = %v, want %v", c.name, c.edges, c.data, got, c.want)
		}
		if loop := leCountsLoop(c.edges, c.data); !equalFloats(loop, c.want) {
			t.Errorf("%s: the loop definition gives %v, want %v", c.name, loop, c.want)
		}
	}
	for _, bad := range [][]float64{{2, 1}, {0, math.NaN()}} {
		for i, v := range CountsSortedLE(bad, []float64{1}, nil) {
			if !math.IsNaN(v) {
				t.Errorf("edges %v: bucket %d = %v, want NaN", bad, i, v)
			}
		}
	}
}

// TestCountsSortedLEProperty compares CountsSortedLE with the one-value-at-a-time definition on
// seeded random data with many ties on the bounds (integer-valued data, integer bounds).
func TestCountsSortedLEProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for trial := 0; trial < 500; trial++ {
		n := rng.Intn(200)
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(rng.Intn(21) - 10)
			if rng.Intn(4) == 0 {
				x[i] += rng.Float64()
			}
		}
		sort.Float64s(x)
		var edges []float64
		for e := -12.0; e <= 12; e += float64(1 + rng.Intn(4)) {
			edges = append(edges, e)
		}
		got := CountsSortedLE(edges, x, nil)
		if want := leCountsLoop(edges, x); !equalFloats(got, want) {
			t.Fatalf("trial %d: edges %v: %v, want %v", trial, edges, got, want)
		}
	}
}

func TestKSBinned(t *testing.T) {
	// By hand: ref [2 3 2 1 2 0]/10 has cumulative .2 .5 .7 .8 1; cur [0 1 3 3 4 1]/12 has
	// 0 1/12 4/12 7/12 11/12; the differences are .2, 5/12, 11/30, 13/60, 1/12: D_b = 5/12.
	ref := []float64{2, 3, 2, 1, 2, 0}
	cur := []float64{0, 1, 3, 3, 4, 1}
	if got := KSBinned(ref, cur); math.Abs(got-5.0/12) > 1e-15 {
		t.Errorf("KSBinned = %v, want 5/12", got)
	}
	// Those are the le-bucket counts on bounds [1 2 3 4 5] of the samples below, whose values all
	// lie on bounds but one (6, above the last): the largest ECDF gap is at a bound, so D_b equals
	// the exact statistic.
	// scipy.stats.ks_2samp([1,1,2,2,2,3,3,4,5,5], [2,3,3,3,4,4,4,5,5,5,5,6]).statistic
	//   = 0.4166666666666667 (tolerance 1e-15: one division per side).
	r := []float64{1, 1, 2, 2, 2, 3, 3, 4, 5, 5}
	c := []float64{2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 5, 6}
	edges := []float64{1, 2, 3, 4, 5}
	got := KSBinned(CountsSortedLE(edges, r, nil), CountsSortedLE(edges, c, nil))
	if math.Abs(got-0.4166666666666667) > 1e-15 {
		t.Errorf("KSBinned on le buckets = %v, scipy ks_2samp 0.4166666666666667", got)
	}
	for _, c := range []struct {
		name     string
		ref, cur []float64
	}{
		{"lengths differ", []float64{1, 2}, []float64{1}},
		{"empty", nil, nil},
		{"empty reference", []float64{0, 0}, []float64{1, 1}},
		{"empty current", []float64{1, 1}, []float64{0, 0}},
		{"negative", []float64{1, -1, 3}, []float64{1, 1, 1}},
		{"NaN", []float64{1, math.NaN()}, []float64{1, 1}},
		{"+Inf", []float64{1, 1}, []float64{math.Inf(1), 1}},
	} {
		if got := KSBinned(c.ref, c.cur); !math.IsNaN(got) {
			t.Errorf("%s: KSBinned = %v, want NaN", c.name, got)
		}
	}
	if got := KSBinned([]float64{5}, []float64{3}); got != 0 {
		t.Errorf("one bucket: KSBinned = %v, want 0", got)
	}
}

// TestKSBinnedLowerBound checks on seeded random samples that the binned statistic never exceeds
// the exact two-sample D (KS, tested against scipy) and equals it when every value is a bound.
func TestKSBinnedLowerBound(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for trial := 0; trial < 300; trial++ {
		r := make([]float64, 1+rng.Intn(80))
		c := make([]float64, 1+rng.Intn(80))
		for i := range r {
			r[i] = math.Round(rng.NormFloat64() * 4)
		}
		shift := rng.Float64() * 3
		for i := range c {
			c[i] = math.Round(rng.NormFloat64()*4 + shift)
		}
		sort.Float64s(r)
		sort.Float64s(c)
		exact := KS(r, c)
		var all []float64
		for v := -40.0; v <= 40; v++ {
			all = append(all, v)
		}
		// Every value is a bound: equal up to the rounding of the two divisions.
		if got := KSBinned(CountsSortedLE(all, r, nil), CountsSortedLE(all, c, nil)); math.Abs(got-exact) > 1e-12 {
			t.Fatalf("trial %d: all bounds: D_b = %v, exact D = %v", trial, got, exact)
		}
		coarse := []float64{-6, -2, 0, 3, 7}
		if got := KSBinned(CountsSortedLE(coarse, r, nil), CountsSortedLE(coarse, c, nil)); got > exact+1e-12 {
			t.Fatalf("trial %d: coarse bounds: D_b = %v above the exact D = %v", trial, got, exact)
		}
	}
}

func BenchmarkKSBinned(b *testing.B) {
	ref := make([]float64, 21)
	cur := make([]float64, 21)
	for i := range ref {
		ref[i] = float64(100 + i)
		cur[i] = float64(120 - i)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		KSBinned(ref, cur)
	}
}

func BenchmarkCountsSortedLE(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	x := make([]float64, 10_000)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	sort.Float64s(x)
	edges := []float64{-3, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3}
	dst := make([]float64, len(edges)+1)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		dst = CountsSortedLE(edges, x, dst)
	}
}

// equalFloats compares element-wise, NaN equal to NaN.
func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}
