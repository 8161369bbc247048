package stats

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Sampling distributions of the drift measures under "no drift": the values a measure takes when
// the current window is n records drawn from the reference itself (a parametric bootstrap of the
// reference's empirical distribution). A window's measure is then compared with that null
// distribution: its p-value (BootstrapPValue) and the smallest significant value (CriticalValue).
//
// Monte-Carlo error: with B resamples, a p-value p is estimated with standard error
// sqrt(p·(1−p)/B); at B = 999 that is at most 0.0158 (p = 0.5), 0.0069 at p = 0.05 and 0.0031 at
// p = 0.01. The smallest p-value B resamples can give is 1/(B+1).

// BinnedMeasure is a binned drift distance of p (reference proportions) and q (current
// proportions): PSI, JensenShannon, Hellinger, TVD, ...
type BinnedMeasure func(p, q []float64) float64

// BootstrapBinned returns, sorted ascending, B values of measure(p, q*) where q* are the bin
// proportions of n values drawn with replacement from a population whose bin proportions are p.
// Drawing n values and counting them per bin is drawing the counts from Multinomial(n, p), done
// here bin after bin with conditional binomials (count_i ~ Binomial(n − Σ_{j<i} count_j,
// p_i / Σ_{j>=i} p_j); gonum's distuv.Binomial), so a resample costs O(len(p)) whatever n.
//
// The stream is math/rand/v2's PCG seeded with (seed, seed^golden): equal arguments give equal
// results. p must be proportions (non-negative, summing to 1); n < 1, B < 1, an empty or invalid
// p give nil. check is called every about CheckEvery bins drawn; its first error stops the
// kernel and is returned.
func BootstrapBinned(p []float64, n, B int, measure BinnedMeasure, seed uint64, check Check) ([]float64, error) {
	if n < 1 || B < 1 || len(p) == 0 || measure == nil {
		return nil, nil
	}
	for _, x := range p {
		if !(x >= 0) || math.IsInf(x, 1) {
			return nil, nil
		}
	}
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	rnd := rand.New(src) // #nosec G404 -- a seeded, reproducible Monte-Carlo stream, not a secret
	out := make([]float64, B)
	counts := make([]float64, len(p))
	q := make([]float64, len(p))
	// tail[i] = Σ_{j>=i} p_j, summed from the end so the conditional probabilities stay in [0, 1].
	tail := make([]float64, len(p)+1)
	for i := len(p) - 1; i >= 0; i-- {
		tail[i] = tail[i+1] + p[i]
	}
	work := 0
	for b := 0; b < B; b++ {
		rest := float64(n)
		for i := range p {
			c := 0.0
			switch {
			case rest == 0 || p[i] == 0:
			case i == len(p)-1 || p[i] >= tail[i]:
				c = rest
			default:
				c = binomial(rnd, src, rest, p[i]/tail[i])
			}
			counts[i] = c
			rest -= c
		}
		for i := range counts {
			q[i] = counts[i] / float64(n)
		}
		out[b] = measure(p, q)
		if work += len(p); work >= CheckEvery {
			work = 0
			if check != nil {
				if err := check(); err != nil {
					return nil, err
				}
			}
		}
	}
	slices.SortFunc(out, cmpNaNLast)
	return out, nil
}

// binomial draws from Binomial(n, p) for 0 < p < 1: by inversion of the count of successes for
// small n (as gonum does below 25 trials), else with gonum's rejection sampler.
func binomial(rnd *rand.Rand, src rand.Source, n, p float64) float64 {
	if p >= 1 {
		return n
	}
	if n < 25 {
		k := 0.0
		for i := 0; i < int(n); i++ {
			if rnd.Float64() < p {
				k++
			}
		}
		return k
	}
	return distuv.Binomial{N: n, P: p, Src: src}.Rand()
}

// BootstrapWasserstein returns, sorted ascending, B values of the Wasserstein-1 distance between
// the sorted reference and n values drawn from it with replacement (scipy.stats.wasserstein_distance
// of the two samples). For n <= maxDraws each resample draws n sorted indices and integrates |F_ref − F_n|
// exactly over the reference's gaps with prefix sums, O(n) per resample.
// The sorted indices are drawn directly (sortedIndices). For n > maxDraws, m = maxDraws values are drawn and each distance is multiplied by sqrt(m/n):
// √n·W1(F_n, F) converges in distribution to ∫|B(F(x))|dx (del Barrio, Giné and Matrán 1999,
// for any F with ∫sqrt(F(1−F)) < ∞, which an empirical reference always has), so the null
// distribution at n is, to that asymptotic order, the one at m rescaled. sortedRef must be sorted
// ascending without NaN; fewer than 2 reference values, n < 1, B < 1 or maxDraws < 1 give nil.
// Seed and check as for BootstrapBinned (check is called about every CheckEvery draws).
func BootstrapWasserstein(sortedRef []float64, n, B, maxDraws int, seed uint64, check Check) ([]float64, error) {
	N := len(sortedRef)
	if N < 2 || n < 1 || B < 1 || maxDraws < 1 || nanEnds(sortedRef) {
		return nil, nil
	}
	m := min(n, maxDraws)
	scale := 1.0
	if m < n {
		scale = math.Sqrt(float64(m) / float64(n))
	}
	// G[j] = Σ_{k<j} g_k and H[j] = Σ_{k<j} (k+1)/N·g_k over the gaps g_k = x_{k+1} − x_k.
	G := make([]float64, N)
	H := make([]float64, N)
	for k := 0; k < N-1; k++ {
		g := sortedRef[k+1] - sortedRef[k]
		G[k+1] = G[k] + g
		H[k+1] = H[k] + float64(k+1)/float64(N)*g
	}
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	rnd := rand.New(src) // #nosec G404 -- a seeded, reproducible Monte-Carlo stream, not a secret
	idx := make([]int, m)
	out := make([]float64, B)
	work := 0
	spacings := make([]float64, m+1)
	for b := 0; b < B; b++ {
		sortedIndices(rnd, idx, spacings, N)
		out[b] = scale * w1Indices(idx, G, H, N)
		if work += m; work >= CheckEvery {
			work = 0
			if check != nil {
				if err := check(); err != nil {
					return nil, err
				}
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// sortedIndices fills idx with len(idx) indices drawn uniformly from [0, N) with replacement, in
// ascending order, in O(len(idx)) without sorting: the order statistics of m uniforms are
// distributed as the normalised partial sums S_i / S_{m+1} of m+1 standard exponentials (Devroye
// 1986, V.2.2), and ⌊N·U⌋ of sorted uniforms are sorted uniform indices. spacings has len(idx)+1
// elements of scratch.
func sortedIndices(rnd *rand.Rand, idx []int, spacings []float64, N int) {
	total := 0.0
	for i := range spacings {
		total += rnd.ExpFloat64()
		spacings[i] = total
	}
	for i := range idx {
		k := int(spacings[i] / total * float64(N))
		idx[i] = min(k, N-1)
	}
}

// w1Indices is W1 = Σ_{j=0}^{N−2} |(j+1)/N − C_j/m|·g_j for the sample of the reference values at
// the sorted indices idx (C_j = #{k: idx_k <= j}, m = len(idx)): on each run of j where C_j = c is
// constant the sum splits where (j+1)/N crosses c/m, and each part is a difference of prefix sums.
func w1Indices(idx []int, G, H []float64, N int) float64 {
	m := len(idx)
	last := N - 1 // j runs over [0, N−1)
	seg := func(a, b, c int) float64 {
		if a >= b {
			return 0
		}
		u := float64(c) / float64(m)
		// (j+1)/N >= c/m  ⇔  j+1 >= ceil(c·N/m).
		cn := int64(c) * int64(N)
		s := int((cn+int64(m)-1)/int64(m)) - 1
		s = max(a, min(b, s))
		below := u*(G[s]-G[a]) - (H[s] - H[a])
		above := (H[b] - H[s]) - u*(G[b]-G[s])
		return below + above
	}
	w := 0.0
	prev := 0
	for c := 0; c < m; c++ {
		// j in [prev, idx[c]) has C_j = c.
		at := min(idx[c], last)
		w += seg(prev, at, c)
		prev = max(prev, at)
	}
	w += seg(prev, last, m)
	return w
}

// BootstrapPValue is the upper-tail Monte-Carlo p-value of an observed value t against a null
// distribution sorted ascending: (1 + #{T_b >= t}) / (B + 1) (Davison and Hinkley 1997, eq. 4.11;
// never 0, so it is a valid p-value). A NaN t or an empty null give NaN; NaN values of the null
// (sorted last) count as not extreme.
func BootstrapPValue(sortedNull []float64, t float64) float64 {
	B := len(sortedNull)
	if B == 0 || math.IsNaN(t) {
		return math.NaN()
	}
	valid := B
	for valid > 0 && math.IsNaN(sortedNull[valid-1]) {
		valid--
	}
	// First index with T >= t.
	i, _ := slices.BinarySearch(sortedNull[:valid], t)
	return float64(1+valid-i) / float64(B+1)
}

// CriticalValue is the smallest significant value of the measure at level alpha against a null
// distribution sorted ascending: the order statistic T_(B−k) (1-based) with k = ⌊alpha·(B+1)⌋ − 1,
// the largest value whose BootstrapPValue is above alpha, so that every value above it has a
// p-value <= alpha (with B = 999 and alpha = 0.05, T_(950): the 95th percentile). It is NaN for an
// empty null, a NaN alpha, or an alpha below 1/(B+1) (B resamples cannot show that level).
func CriticalValue(sortedNull []float64, alpha float64) float64 {
	B := len(sortedNull)
	if B == 0 || !(alpha >= 1/float64(B+1)) {
		return math.NaN()
	}
	k := int(math.Floor(alpha*float64(B+1)+1e-9)) - 1
	if k >= B {
		return math.Inf(-1) // every value is significant
	}
	return sortedNull[B-k-1]
}

func cmpNaNLast(a, b float64) int {
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a):
		return 1
	case math.IsNaN(b):
		return -1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
