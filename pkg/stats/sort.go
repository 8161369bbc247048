package stats

import (
	"math"
	"sort"
	"sync"
)

// DropNaN compacts x in place, keeping the order of the non-NaN values, and returns the prefix of
// x that holds them. The elements after the returned prefix are left unspecified. A nil or empty x
// gives an empty slice.
func DropNaN(x []float64) []float64 {
	k := 0
	for _, v := range x {
		if v == v { // v is not NaN
			x[k] = v
			k++
		}
	}
	return x[:k]
}

// radixMinN is the length below which SortFloat64s uses the comparison sort of the standard
// library: below it the fixed cost of the radix histograms dominates.
const radixMinN = 512

const (
	radixBits    = 11
	radixBuckets = 1 << radixBits
	radixMask    = radixBuckets - 1
	radixPasses  = (64 + radixBits - 1) / radixBits // 6
)

// radixScratch pools the key buffers of SortFloat64s so that repeated sorts of similar sizes do
// not allocate.
var radixScratch sync.Pool

type radixBufs struct {
	a, b []uint64
}

// SortFloat64s sorts x in ascending order.
//
// For len(x) >= 512 it is a least-significant-digit radix sort (six 11-bit passes, passes whose
// digit is the same for every element skipped) on the IEEE-754 bits mapped to an order-preserving
// unsigned key (negative numbers: all bits flipped; others: sign bit set); shorter slices use
// sort.Float64s. ±Inf sort to the ends; -0 and +0 are equal and their relative order is unspecified. x is expected to hold no NaN (use
// DropNaN first); if it does, nothing panics, but where the NaNs end up is unspecified.
func SortFloat64s(x []float64) {
	n := len(x)
	if n < radixMinN {
		sort.Float64s(x)
		return
	}
	bufs, _ := radixScratch.Get().(*radixBufs)
	if bufs == nil {
		bufs = &radixBufs{}
	}
	if cap(bufs.a) < n {
		bufs.a = make([]uint64, n)
		bufs.b = make([]uint64, n)
	}
	src, dst := bufs.a[:n], bufs.b[:n]

	var hist [radixPasses][radixBuckets]int
	for i, v := range x {
		k := floatKey(v)
		src[i] = k
		for p := 0; p < radixPasses; p++ {
			hist[p][(k>>(p*radixBits))&radixMask]++
		}
	}
	for p := 0; p < radixPasses; p++ {
		h := &hist[p]
		shift := p * radixBits
		// Skip a pass whose digit is constant over the data.
		if h[(src[0]>>shift)&radixMask] == n {
			continue
		}
		sum := 0
		for d := range h {
			c := h[d]
			h[d] = sum
			sum += c
		}
		for _, k := range src {
			d := (k >> shift) & radixMask
			dst[h[d]] = k
			h[d]++
		}
		src, dst = dst, src
	}
	for i, k := range src {
		x[i] = keyFloat(k)
	}
	radixScratch.Put(bufs)
}

// floatKey maps a float64 to an unsigned integer with the same order (for non-NaN values).
func floatKey(v float64) uint64 {
	b := math.Float64bits(v)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// keyFloat inverts floatKey.
func keyFloat(k uint64) float64 {
	if k>>63 != 0 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}
