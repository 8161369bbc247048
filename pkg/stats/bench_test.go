package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
	"testing"
)

// driftFeature is what a reference cache keeps per numeric feature (sorted sample, quantile
// edges, proportions, standard deviation), plus one freshly generated unsorted current window.
type driftFeature struct {
	ref      []float64
	edges    []float64
	refProps []float64
	refStd   float64
	cur      []float64
}

// driftScratch is one worker's reusable buffers.
type driftScratch struct {
	buf, counts, props []float64
}

type driftResult struct{ ks, ksp, psi, js, wn float64 }

func newDriftFeatures(nFeatures, nRef, nCur int) []driftFeature {
	fs := make([]driftFeature, nFeatures)
	for f := range fs {
		r := rand.New(rand.NewPCG(uint64(f), 99))
		ref := make([]float64, nRef)
		for i := range ref {
			ref[i] = r.NormFloat64()*float64(f+1) + float64(f)
		}
		SortFloat64s(ref)
		cur := make([]float64, nCur)
		shift := 0.02 * float64(f%5)
		for i := range cur {
			cur[i] = (r.NormFloat64()+shift)*float64(f+1) + float64(f)
		}
		edges := QuantileEdges(ref, 10)
		_, sd := MeanStd(ref)
		fs[f] = driftFeature{ref: ref, edges: edges, refProps: Proportions(CountsSorted(edges, ref, nil), nil), refStd: sd, cur: cur}
	}
	return fs
}

// driftOne runs the default numeric drift methods on one feature: sort the current window,
// count it into the reference bins, and compute ks, ks_pvalue, psi, js and wasserstein_norm.
func driftOne(f *driftFeature, s *driftScratch) driftResult {
	s.buf = AppendNotNaN(s.buf[:0], f.cur)
	cur := s.buf
	SortFloat64s(cur)
	s.counts = CountsSorted(f.edges, cur, s.counts)
	s.props = Proportions(s.counts, s.props)
	d, w := KSWasserstein(f.ref, cur)
	return driftResult{
		ks:  d,
		ksp: KSPValue(d, len(f.ref), len(cur)),
		psi: PSI(f.refProps, s.props),
		js:  JensenShannon(f.refProps, s.props),
		wn:  WassersteinNormalize(w, f.refStd),
	}
}

// BenchmarkDriftSuite: 20 numeric features, each with a cached 100k-value sorted, binned reference
// and a fresh unsorted 1M-value current window; per feature the current window is copied to a
// scratch buffer, sorted, counted and compared (ks, ks_pvalue, psi, js, wasserstein_norm).
// Features are spread over GOMAXPROCS workers. Target: <= 0.5 s/op on 2 cores.
func BenchmarkDriftSuite(b *testing.B) {
	const nFeatures, nRef, nCur = 20, 100_000, 1_000_000
	fs := newDriftFeatures(nFeatures, nRef, nCur)
	workers := runtime.GOMAXPROCS(0)
	if workers > nFeatures {
		workers = nFeatures
	}
	scratch := make([]driftScratch, workers)
	for w := range scratch {
		scratch[w].buf = make([]float64, 0, nCur)
	}
	results := make([]driftResult, nFeatures)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for f := w; f < nFeatures; f += workers {
					results[f] = driftOne(&fs[f], &scratch[w])
				}
			}(w)
		}
		wg.Wait()
	}
	b.StopTimer()
	for f, r := range results {
		if !(r.ks > 0 && r.ks < 1) || !(r.ksp >= 0 && r.ksp <= 1) || !(r.psi >= 0) || !(r.js >= 0) || !(r.wn >= 0) {
			b.Fatalf("feature %d: implausible results %+v", f, r)
		}
	}
}

// BenchmarkPercentileWindows: exact p50/p90/p95/p99 in 360 windows over 10M latency-like samples
// (27,778 per window), each window copied to a scratch buffer and reduced by selection. Target:
// <= 0.3 s/op.
func BenchmarkPercentileWindows(b *testing.B) {
	const n, windows = 10_000_000, 360
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, n)
	for i := range x {
		x[i] = math.Exp(r.NormFloat64()*0.5 + 3)
	}
	ps := []float64{50, 90, 95, 99}
	per := (n + windows - 1) / windows
	scratch := make([]float64, 0, per)
	dst := make([]float64, len(ps))
	out := make([]float64, windows*len(ps))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for w := 0; w < windows; w++ {
			lo, hi := w*per, min((w+1)*per, n)
			scratch = append(scratch[:0], x[lo:hi]...)
			dst = Percentiles(scratch, ps, dst)
			copy(out[w*len(ps):], dst)
		}
	}
	b.StopTimer()
	if !(out[0] > 0 && out[0] <= out[3]) {
		b.Fatalf("implausible percentiles %v", out[:4])
	}
}

// BenchmarkSortFloat64s sorts 1M values of several shapes (the copy from the unsorted source,
// ~1% of the time, is included). BenchmarkSortFloat64sStdlib is sort.Float64s on the normal data,
// for scale.
func BenchmarkSortFloat64s(b *testing.B) {
	for _, shape := range []string{"normal", "narrow", "ints", "lognormal", "wide"} {
		b.Run(shape, func(b *testing.B) { benchSort(b, shape, SortFloat64s) })
	}
}

func BenchmarkSortFloat64sStdlib(b *testing.B) {
	benchSort(b, "normal", sort.Float64s)
}

// BenchmarkSortFloat64sWindow sorts window-sized slices (a drift window of a few thousand
// records), where the fixed costs of the radix passes matter; ns/value is reported.
func BenchmarkSortFloat64sWindow(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		for _, impl := range []struct {
			name string
			fn   func([]float64)
		}{{"radix", SortFloat64s}, {"stdlib", sort.Float64s}} {
			b.Run(fmt.Sprintf("n=%d/%s", n, impl.name), func(b *testing.B) {
				r := rand.New(rand.NewPCG(3, 3))
				src := make([]float64, n)
				for i := range src {
					src[i] = math.Exp(r.NormFloat64())
				}
				x := make([]float64, n)
				impl.fn(append(x[:0:0], src...))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					copy(x, src)
					impl.fn(x)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/value")
			})
		}
	}
}

func benchSort(b *testing.B, shape string, sorter func([]float64)) {
	const n = 1_000_000
	r := rand.New(rand.NewPCG(2, 2))
	src := make([]float64, n)
	for i := range src {
		switch shape {
		case "normal":
			src[i] = r.NormFloat64()
		case "narrow": // one top-16-bit bucket: the large-bucket path
			src[i] = 1000 + 1e-3*r.NormFloat64()
		case "ints": // heavy ties
			src[i] = float64(r.IntN(1000))
		case "lognormal":
			src[i] = math.Exp(2 * r.NormFloat64())
		case "wide": // exponents over ±1000: many small buckets
			src[i] = math.Ldexp(r.Float64()-0.5, r.IntN(2000)-1000)
		}
	}
	x := make([]float64, n)
	sorter(append(x[:0:0], src...)) // warm the pooled buffers
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		copy(x, src)
		sorter(x)
	}
}

// BenchmarkKS: statistic of a sorted 100k reference against a sorted 1M current window.
func BenchmarkKS(b *testing.B) {
	fs := newDriftFeatures(1, 100_000, 1_000_000)
	cur := sortedCopy(fs[0].cur)
	b.ReportAllocs()
	b.ResetTimer()
	var d float64
	for i := 0; i < b.N; i++ {
		d = KS(fs[0].ref, cur)
	}
	if !(d > 0) {
		b.Fatal(d)
	}
}

// BenchmarkWasserstein: same data as BenchmarkKS.
func BenchmarkWasserstein(b *testing.B) {
	fs := newDriftFeatures(1, 100_000, 1_000_000)
	cur := sortedCopy(fs[0].cur)
	b.ReportAllocs()
	b.ResetTimer()
	var w float64
	for i := 0; i < b.N; i++ {
		w = Wasserstein(fs[0].ref, cur)
	}
	if !(w > 0) {
		b.Fatal(w)
	}
}

// BenchmarkKSWasserstein: both measures from one merge, same data as BenchmarkKS.
func BenchmarkKSWasserstein(b *testing.B) {
	fs := newDriftFeatures(1, 100_000, 1_000_000)
	cur := sortedCopy(fs[0].cur)
	b.ReportAllocs()
	b.ResetTimer()
	var d, w float64
	for i := 0; i < b.N; i++ {
		d, w = KSWasserstein(fs[0].ref, cur)
	}
	if !(d > 0 && w > 0) {
		b.Fatal(d, w)
	}
}

// BenchmarkKSPValue covers each branch: large N (Pelz–Good body, asymptotic tail), middle N
// (Pelz–Good, exact Smirnov sum) and small N (Pomeranz recursion).
func BenchmarkKSPValue(b *testing.B) {
	cases := []struct {
		name string
		d    float64
		n, m int
	}{
		{"N=90909/pelz-good", 0.003, 100_000, 1_000_000},
		{"N=90909/tail", 0.006, 100_000, 1_000_000},
		{"N=140/pelz-good", 0.08, 280, 280},
		{"N=140/smirnov", 0.12, 280, 280},
		{"N=50/smirnov", 0.35, 100, 100},
		{"N=20/pomeranz", 0.25, 40, 40},
		{"N=10/pomeranz", 0.3, 20, 20},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var p float64
			for i := 0; i < b.N; i++ {
				p = KSPValue(c.d, c.n, c.m)
			}
			if !(p >= 0 && p <= 1) {
				b.Fatal(p)
			}
		})
	}
}
