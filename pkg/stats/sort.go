package stats

import (
	"math"
	"slices"
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

// AppendNotNaN appends the non-NaN values of src to dst, in order, and returns the extended
// slice: a copy and DropNaN in one pass, for filling a reusable scratch buffer.
func AppendNotNaN(dst, src []float64) []float64 {
	for _, v := range src {
		if v == v {
			dst = append(dst, v)
		}
	}
	return dst
}

// radixMinN is the length below which SortFloat64s uses the comparison sort of the standard
// library: below it the fixed cost of the radix histograms dominates.
const radixMinN = 512

// msdMinN is the length from which SortFloat64s starts with a most-significant-digit pass on the
// top 16 bits; below it the 65,536-entry histogram of that pass costs more than it saves, and the
// keys are sorted by 8-bit least-significant-digit passes over all 64 bits instead.
const msdMinN = 1 << 16

// radixScratch pools the key buffers and the top-digit histogram of SortFloat64s so that repeated
// sorts of similar sizes do not allocate.
var radixScratch sync.Pool

type radixBufs struct {
	a, b []uint64
	top  []uint32
	h12  [4][4096]uint32 // histograms of lsdPasses12
}

// SortFloat64s sorts x in ascending order.
//
// Slices shorter than 512 use sort.Float64s. Longer ones are radix-sorted on the IEEE-754 bits
// mapped to an order-preserving unsigned key (negative numbers: all bits flipped; others: sign
// bit set). Below 65,536 values the keys go through 8-bit least-significant-digit passes over all
// 64 bits (passes whose digit is constant are skipped); from 65,536 on, one most-significant-digit pass distributes the keys on their top 16 bits (sign,
// exponent and 4 mantissa bits, so buckets follow the data's scale), then each bucket is sorted on
// the low 48 bits by least-significant-digit passes (8-bit digits for buckets that fit in cache,
// 12-bit digits for larger ones; passes whose digit is constant are skipped; buckets under 128 keys
// use a comparison sort). It is O(n) and does not allocate once its pooled buffers are warm.
//
// ±Inf sort to the ends; -0 and +0 are equal and their relative order is unspecified. x is
// expected to hold no NaN (use DropNaN first); if it does, nothing panics, but where the NaNs end
// up is unspecified.
func SortFloat64s(x []float64) { _ = SortFloat64sCheck(x, nil) }

// SortFloat64sCheck is SortFloat64s that calls check (when not nil) every CheckEvery keys or so
// on inputs of at least 65,536 values, and stops at its first error, which it returns; x is then
// left as it was (the keys are sorted in scratch buffers and copied back at the end).
func SortFloat64sCheck(x []float64, check Check) error {
	n := len(x)
	if n < radixMinN {
		sort.Float64s(x)
		return nil
	}
	bufs, _ := radixScratch.Get().(*radixBufs)
	if bufs == nil {
		bufs = &radixBufs{top: make([]uint32, 1<<16)}
	}
	if cap(bufs.a) < n {
		bufs.a = make([]uint64, n)
		bufs.b = make([]uint64, n)
	}
	keys, out := bufs.a[:n], bufs.b[:n]
	if n < msdMinN {
		for i, v := range x {
			keys[i] = floatKey(v)
		}
		lsdPasses64(keys, out)
		for i, k := range keys {
			x[i] = keyFloat(k)
		}
		radixScratch.Put(bufs)
		return nil
	}
	if check != nil {
		if err := check(); err != nil {
			radixScratch.Put(bufs)
			return err
		}
	}
	top := bufs.top
	clear(top)
	for i, v := range x {
		k := floatKey(v)
		keys[i] = k
		top[k>>48]++
	}
	var sum uint32
	for d, c := range top {
		top[d] = sum
		sum += c
	}
	for _, k := range keys {
		d := k >> 48
		out[top[d]] = k
		top[d]++
	}
	// top[d] is now the end of bucket d.
	lo, since := 0, 0
	for _, end := range top {
		hi := int(end)
		if hi-lo > 1 {
			sortLow48(out[lo:hi], keys[lo:hi], &bufs.h12)
		}
		if since += hi - lo; check != nil && since >= CheckEvery {
			since = 0
			if err := check(); err != nil {
				radixScratch.Put(bufs)
				return err
			}
		}
		lo = hi
	}
	for i, k := range out {
		x[i] = keyFloat(k)
	}
	radixScratch.Put(bufs)
	return nil
}

// sortLow48 sorts keys that share their top 16 bits by their low 48 bits, using tmp (same length)
// and h12 as scratch; the result is in s.
func sortLow48(s, tmp []uint64, h12 *[4][4096]uint32) {
	n := len(s)
	switch {
	case n < 128:
		slices.Sort(s)
		return
	case n <= 1<<15:
		lsdPasses8(s, tmp)
	default:
		lsdPasses12(s, tmp, h12)
	}
}

// lsdPasses8 sorts s on bits 0..47 with six 8-bit LSD passes (for cache-sized s).
func lsdPasses8(s, tmp []uint64) {
	var h [6][256]uint32
	for _, k := range s {
		h[0][k&255]++
		h[1][(k>>8)&255]++
		h[2][(k>>16)&255]++
		h[3][(k>>24)&255]++
		h[4][(k>>32)&255]++
		h[5][(k>>40)&255]++
	}
	src, dst := s, tmp
	for p := range h {
		if scatter8(src, dst, &h[p], uint(p*8)) {
			src, dst = dst, src
		}
	}
	if &src[0] != &s[0] {
		copy(s, src)
	}
}

// lsdPasses64 sorts s on all 64 bits with eight 8-bit LSD passes, skipping passes whose digit is
// the same for every key, using tmp (same length) as scratch. It is lsdPasses8 widened to the
// whole key, with its own digit-count loop so that the 48-bit count of the large-input path stays
// as tight as it is.
func lsdPasses64(s, tmp []uint64) {
	var h [8][256]uint32
	for _, k := range s {
		for p := range h {
			h[p][(k>>(8*p))&255]++
		}
	}
	src, dst := s, tmp
	for p := range h {
		if scatter8(src, dst, &h[p], uint(p*8)) {
			src, dst = dst, src
		}
	}
	if &src[0] != &s[0] {
		copy(s, src)
	}
}

// scatter8 is one 8-bit LSD pass: it distributes src into dst by the digit at shift, turning the
// digit counts hp into offsets. It reports false, doing nothing, when every key has the same digit.
func scatter8(src, dst []uint64, hp *[256]uint32, shift uint) bool {
	if int(hp[(src[0]>>shift)&255]) == len(src) {
		return false
	}
	var sum uint32
	for d, c := range hp {
		hp[d] = sum
		sum += c
	}
	for _, k := range src {
		d := (k >> shift) & 255
		dst[hp[d]] = k
		hp[d]++
	}
	return true
}

// lsdPasses12 sorts s on bits 0..47 with four 12-bit LSD passes (for large s: fewer passes over
// memory).
func lsdPasses12(s, tmp []uint64, h *[4][4096]uint32) {
	n := len(s)
	*h = [4][4096]uint32{}
	for _, k := range s {
		h[0][k&4095]++
		h[1][(k>>12)&4095]++
		h[2][(k>>24)&4095]++
		h[3][(k>>36)&4095]++
	}
	src, dst := s, tmp
	for p := range h {
		shift := uint(p * 12)
		hp := &h[p]
		if int(hp[(src[0]>>shift)&4095]) == n {
			continue
		}
		var sum uint32
		for d, c := range hp {
			hp[d] = sum
			sum += c
		}
		for _, k := range src {
			d := (k >> shift) & 4095
			dst[hp[d]] = k
			hp[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &s[0] {
		copy(s, src)
	}
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
