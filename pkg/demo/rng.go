package demo

import (
	"math"
	"math/rand/v2"
)

// The fleet draws every random number from a counter-based generator: the state of a record's
// stream is a hash of (seed, model, second, index, purpose), so any record can be produced
// without producing the ones before it. The hash is SplitMix64's finaliser (Steele, Lea & Flood,
// "Fast splittable pseudorandom number generators", 2014); within one stream the state advances
// by the golden-ratio increment, exactly as SplitMix64 does.

const golden = 0x9e3779b97f4a7c15

// mix64 is the SplitMix64 output function: a bijective avalanche of z.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// word is the hash input for a signed value: its two's-complement bit pattern, so that distinct
// values (negative ones included) give distinct words.
func word(v int64) uint64 {
	if v >= 0 {
		return uint64(v)
	}
	// v < 0: its two's-complement pattern is MaxUint64 - n with n = -(v+1) in [0, MaxInt64].
	n := -(v + 1)
	if n < 0 {
		return 0 // unreachable
	}
	return math.MaxUint64 - uint64(n)
}

// index32 converts a slice index into the int32 codes of source.Batch. The demo's slices (versions,
// categories) have a handful of entries; an index outside int32 cannot occur and maps to 0.
func index32(i int) int32 {
	if i < 0 || i > math.MaxInt32 {
		return 0
	}
	return int32(i)
}

// key hashes a sequence of words into one 64-bit stream key.
func key(words ...uint64) uint64 {
	h := uint64(0x6a09e667f3bcc909)
	for _, w := range words {
		h = mix64(h ^ (w + golden))
	}
	return h
}

// rng is one SplitMix64 stream.
type rng struct {
	s uint64
	// spare holds the second normal of a Box–Muller pair.
	spare    float64
	hasSpare bool
	// zig, when set, draws normals with math/rand's ziggurat from this same stream (faster than
	// Box–Muller); it is set once for a long-lived rng that is reset per record.
	zig *rand.Rand
}

func newRNG(k uint64) rng { return rng{s: k} }

// withZiggurat makes r draw normals with the ziggurat method; r must not move afterwards.
func (r *rng) withZiggurat() {
	r.zig = rand.New(r) // #nosec G404 -- synthetic demo data drawn from a seeded stream so that it is reproducible; nothing secret is drawn
}

// reset starts the stream of key k.
func (r *rng) reset(k uint64) {
	r.s = k
	r.hasSpare = false
}

// Uint64 makes rng a math/rand/v2 Source.
func (r *rng) Uint64() uint64 { return r.next() }

func (r *rng) next() uint64 {
	r.s += golden
	return mix64(r.s)
}

// float returns a uniform number in [0, 1) with 53 random bits.
func (r *rng) float() float64 { return float64(r.next()>>11) * 0x1p-53 }

// open returns a uniform number in (0, 1), safe for logarithms.
func (r *rng) open() float64 { return (float64(r.next()>>11) + 0.5) * 0x1p-53 }

// norm returns a standard normal deviate: ziggurat when enabled, else Box–Muller (both values of
// each pair used).
func (r *rng) norm() float64 {
	if r.zig != nil {
		return r.zig.NormFloat64()
	}
	if r.hasSpare {
		r.hasSpare = false
		return r.spare
	}
	u := r.open()
	v := r.float()
	rad := math.Sqrt(-2 * math.Log(u))
	s, c := math.Sincos(2 * math.Pi * v)
	r.spare = rad * s
	r.hasSpare = true
	return rad * c
}

// lognormal returns exp(mu + sigma·Z).
func (r *rng) lognormal(mu, sigma float64) float64 { return math.Exp(mu + sigma*r.norm()) }

// exponential returns an exponential deviate with the given mean.
func (r *rng) exponential(mean float64) float64 {
	if r.zig != nil {
		return mean * r.zig.ExpFloat64()
	}
	return -mean * math.Log(r.open())
}

// pareto returns a Pareto deviate with scale xm and shape alpha (inverse CDF: xm·U^(-1/alpha)).
func (r *rng) pareto(xm, alpha float64) float64 { return xm * math.Pow(r.open(), -1/alpha) }

// poisson returns a Poisson deviate: Knuth's product method for small means, a rounded normal
// approximation (continuity-corrected, clipped at 0) above 30 where the product method is slow.
func (r *rng) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		k := math.Floor(lambda + math.Sqrt(lambda)*r.norm() + 0.5)
		if k < 0 {
			return 0
		}
		return int(k)
	}
	return r.poissonExp(math.Exp(-lambda))
}

// poissonExp is Knuth's product method for a Poisson mean λ given limit = exp(-λ) (λ <= 30).
func (r *rng) poissonExp(limit float64) int {
	p := r.float()
	k := 0
	for p > limit {
		p *= r.float()
		k++
	}
	return k
}

// choice returns an index drawn from cumulative probabilities cum (ascending, last = 1).
func (r *rng) choice(cum []float64) int32 {
	u := r.float()
	last := len(cum) - 1
	for i := 0; i < last; i++ {
		if u < cum[i] {
			return index32(i)
		}
	}
	return index32(last)
}

// cumulative turns probabilities into normalised cumulative sums.
func cumulative(p []float64) []float64 {
	total := 0.0
	for _, x := range p {
		total += x
	}
	c := make([]float64, len(p))
	acc := 0.0
	for i, x := range p {
		acc += x
		c[i] = acc / total
	}
	c[len(c)-1] = 1
	return c
}
