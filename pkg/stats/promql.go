package stats

// Prometheus semantics for classic histograms and counters, reproduced exactly so that a percentile
// or a rate computed here equals the number Prometheus 2.42 (the Debian package the tests run
// against) answers for histogram_quantile and rate/increase on the same samples.
//
// References: prometheus/prometheus v2.42.0 promql/quantile.go (bucketQuantile, coalesceBuckets,
// ensureMonotonic) and promql/functions.go (extrapolatedRate).

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Bucket is one cumulative bucket of a classic Prometheus histogram: Count observations were
// less than or equal to UpperBound (the `le` label).
type Bucket struct {
	UpperBound float64
	Count      float64
}

// PromHistogram is a classic histogram prepared the way histogram_quantile prepares it: buckets
// sorted by upper bound, buckets with equal bounds coalesced (their counts summed) and counts made
// monotonic (a count lower than an earlier one is raised to it). Build it with NewPromHistogram.
type PromHistogram struct {
	buckets []Bucket
	// ForcedMonotonic is true when a count had to be raised (the buckets were not cumulative,
	// typically because increase() extrapolated each bucket series differently).
	ForcedMonotonic bool
	// Problem says why every quantile is NaN ("" when the histogram is usable).
	Problem string
}

// Reasons a histogram yields NaN quantiles.
const (
	PromProblemEmpty   = "no buckets"
	PromProblemNoInf   = "no +Inf bucket"
	PromProblemOneLe   = "fewer than 2 buckets"
	PromProblemNoCount = "no observations"
)

// NewPromHistogram copies buckets into scratch (reusing its storage when large enough), then sorts,
// coalesces and fixes monotonicity as Prometheus does. The input slice is not modified.
func NewPromHistogram(buckets []Bucket, scratch []Bucket) PromHistogram {
	b := append(scratch[:0], buckets...)
	h := PromHistogram{}
	if len(b) == 0 {
		h.Problem = PromProblemEmpty
		return h
	}
	if !slices.IsSortedFunc(b, promCmpUpperBound) {
		slices.SortFunc(b, promCmpUpperBound)
	}
	if !math.IsInf(b[len(b)-1].UpperBound, +1) {
		h.buckets = b
		h.Problem = PromProblemNoInf
		return h
	}
	b = promCoalesce(b)
	h.ForcedMonotonic = promEnsureMonotonic(b)
	h.buckets = b
	switch {
	case len(b) < 2:
		h.Problem = PromProblemOneLe
	case b[len(b)-1].Count == 0:
		h.Problem = PromProblemNoCount
	}
	return h
}

// Buckets returns the prepared buckets (sorted, coalesced, monotonic).
func (h PromHistogram) Buckets() []Bucket { return h.buckets }

// Quantile is histogram_quantile(q, buckets) of Prometheus 2.42 (bucketQuantile):
//
//   - q NaN → NaN, q < 0 → −Inf, q > 1 → +Inf (checked first, whatever the buckets);
//   - no +Inf bucket, fewer than 2 buckets after coalescing, or a zero total count → NaN;
//   - rank = q·count(+Inf); b = the first finite bucket whose cumulative count ≥ rank;
//   - rank in the +Inf bucket → the upper bound of the second-highest bucket;
//   - b = 0 with an upper bound ≤ 0 → that upper bound;
//   - else linear interpolation inside bucket b, whose lower bound is the previous upper bound,
//     or 0 for the first bucket: start + (end−start)·(rank−c_{b−1})/(c_b−c_{b−1}).
func (h PromHistogram) Quantile(q float64) float64 {
	v, _, _ := h.quantile(q)
	return v
}

// Bounds returns the bounds of the bucket the q-quantile falls in (the error bar of Quantile):
// [lower, upper] as Quantile interpolates between them, lower = 0 for a first bucket with a positive
// upper bound (Prometheus' assumption), lower = −Inf for a first bucket with an upper bound ≤ 0, and
// upper = +Inf when the quantile falls in the +Inf bucket. NaN, NaN when Quantile is NaN; ±Inf for
// q outside [0, 1].
func (h PromHistogram) Bounds(q float64) (lower, upper float64) {
	_, lower, upper = h.quantile(q)
	return lower, upper
}

// QuantileBounds returns Quantile(q) and Bounds(q) in one search.
func (h PromHistogram) QuantileBounds(q float64) (v, lower, upper float64) {
	return h.quantile(q)
}

func (h PromHistogram) quantile(q float64) (v, lower, upper float64) {
	nan := math.NaN()
	switch {
	case math.IsNaN(q):
		return nan, nan, nan
	case q < 0:
		return math.Inf(-1), math.Inf(-1), math.Inf(-1)
	case q > 1:
		return math.Inf(+1), math.Inf(+1), math.Inf(+1)
	}
	if h.Problem != "" {
		return nan, nan, nan
	}
	b := h.buckets
	n := len(b)
	observations := b[n-1].Count
	rank := q * observations
	i := sort.Search(n-1, func(i int) bool { return b[i].Count >= rank })
	if i == n-1 {
		return b[n-2].UpperBound, b[n-2].UpperBound, math.Inf(+1)
	}
	if i == 0 && b[0].UpperBound <= 0 {
		return b[0].UpperBound, math.Inf(-1), b[0].UpperBound
	}
	var (
		bucketStart float64
		bucketEnd   = b[i].UpperBound
		count       = b[i].Count
	)
	if i > 0 {
		bucketStart = b[i-1].UpperBound
		count -= b[i-1].Count
		rank -= b[i-1].Count
	}
	return bucketStart + (bucketEnd-bucketStart)*(rank/count), bucketStart, bucketEnd
}

// HistogramQuantile is Prometheus' histogram_quantile(q, buckets) (see PromHistogram.Quantile).
// buckets are cumulative counts in any order; the slice is not modified.
func HistogramQuantile(q float64, buckets []Bucket) float64 {
	return NewPromHistogram(buckets, nil).Quantile(q)
}

// BucketBounds returns the bounds of the bucket holding HistogramQuantile(q, buckets)
// (see PromHistogram.Bounds).
func BucketBounds(q float64, buckets []Bucket) (lower, upper float64) {
	return NewPromHistogram(buckets, nil).Bounds(q)
}

func promCmpUpperBound(x, y Bucket) int {
	switch {
	case x.UpperBound < y.UpperBound:
		return -1
	case x.UpperBound > y.UpperBound:
		return 1
	}
	return 0
}

// promCoalesce merges buckets with the same upper bound (le="1" and le="1.0"), summing counts.
// b must be sorted by upper bound.
func promCoalesce(b []Bucket) []Bucket {
	last := b[0]
	out := b[:0]
	for _, x := range b[1:] {
		if x.UpperBound == last.UpperBound {
			last.Count += x.Count
		} else {
			out = append(out, last)
			last = x
		}
	}
	return append(out, last)
}

// promEnsureMonotonic is Prometheus 2.42's ensureMonotonic: each count is raised to the largest
// count before it. It reports whether a count was raised.
func promEnsureMonotonic(b []Bucket) bool {
	fixed := false
	maxCount := math.Inf(-1)
	for i := range b {
		switch {
		case b[i].Count > maxCount:
			maxCount = b[i].Count
		case b[i].Count < maxCount:
			b[i].Count = maxCount
			fixed = true
		}
	}
	return fixed
}

// Sample is one raw sample of a float series: T is a Unix time in milliseconds (Prometheus'
// resolution), V the value.
type Sample struct {
	T int64
	V float64
}

// ExtrapolatedRate is Prometheus 2.42's extrapolatedRate for float samples: the increase
// (isRate=false) or per-second rate (isRate=true) of a counter (isCounter=true; delta semantics
// otherwise) over the range [rangeStart, rangeEnd] (Unix ms) from the samples in it, ascending.
//
//	result = last − first (+ the value before each reset, where a sample is below its predecessor, for counters)
//	durationToStart = (firstT − rangeStart), durationToEnd = (rangeEnd − lastT)  (seconds)
//	sampledInterval = lastT − firstT, avg = sampledInterval/(n−1)
//	counter with result > 0 and first ≥ 0: durationToStart = min(durationToStart, sampledInterval·first/result)
//	each of durationToStart, durationToEnd ≥ 1.1·avg is replaced by avg/2
//	result ·= (sampledInterval + durationToStart + durationToEnd)/sampledInterval  [/ range seconds for rate]
//
// The zero-point limit is applied before the 1.1·avg test, as in 2.42 (Prometheus ≥ 2.52 applies it
// after). ok is false (no value) with fewer than 2 samples, as Prometheus drops that series.
func ExtrapolatedRate(samples []Sample, rangeStart, rangeEnd int64, isCounter, isRate bool) (v float64, ok bool) {
	n := len(samples)
	if n < 2 {
		return 0, false
	}
	first, last := samples[0], samples[n-1]
	result := last.V - first.V
	if isCounter {
		prev := first.V
		for _, s := range samples[1:] {
			if s.V < prev {
				result += prev
			}
			prev = s.V
		}
	}
	return promExtrapolate(result, first, last, n, rangeStart, rangeEnd, isCounter, isRate), true
}

// promExtrapolate is the extrapolation step of extrapolatedRate (2.42), with the operations in
// Prometheus' order so that results agree to the last bit.
func promExtrapolate(result float64, first, last Sample, n int, rangeStart, rangeEnd int64, isCounter, isRate bool) float64 {
	durationToStart := float64(first.T-rangeStart) / 1000
	durationToEnd := float64(rangeEnd-last.T) / 1000
	sampledInterval := float64(last.T-first.T) / 1000
	averageDurationBetweenSamples := sampledInterval / float64(n-1)

	if isCounter && result > 0 && first.V >= 0 {
		durationToZero := sampledInterval * (first.V / result)
		if durationToZero < durationToStart {
			durationToStart = durationToZero
		}
	}
	extrapolationThreshold := averageDurationBetweenSamples * 1.1
	extrapolateToInterval := sampledInterval
	if durationToStart < extrapolationThreshold {
		extrapolateToInterval += durationToStart
	} else {
		extrapolateToInterval += averageDurationBetweenSamples / 2
	}
	if durationToEnd < extrapolationThreshold {
		extrapolateToInterval += durationToEnd
	} else {
		extrapolateToInterval += averageDurationBetweenSamples / 2
	}
	factor := extrapolateToInterval / sampledInterval
	if isRate {
		factor /= (time.Duration(rangeEnd-rangeStart) * time.Millisecond).Seconds()
	}
	return result * factor
}

// Increase is Prometheus' increase(counter[range]) evaluated at rangeEnd over the samples in
// [rangeStart, rangeEnd] (see ExtrapolatedRate).
func Increase(samples []Sample, rangeStart, rangeEnd int64) (float64, bool) {
	return ExtrapolatedRate(samples, rangeStart, rangeEnd, true, false)
}

// Rate is Prometheus' rate(counter[range]) evaluated at rangeEnd over the samples in
// [rangeStart, rangeEnd] (see ExtrapolatedRate).
func Rate(samples []Sample, rangeStart, rangeEnd int64) (float64, bool) {
	return ExtrapolatedRate(samples, rangeStart, rangeEnd, true, true)
}

// PromCounterWindows evaluates increase (isRate=false) or rate (isRate=true) of one counter series at
// each evaluation time evalTimes[i] (Unix ms, ascending), over the window [t−window, t] as a
// Prometheus 2.x range selector selects it (both ends included). samples must be ascending by time.
// out[i] is NaN where the window holds fewer than 2 samples (Prometheus returns no sample there).
// It does the work of len(evalTimes) ExtrapolatedRate calls in one pass: the window bounds move
// forward with two cursors and counter resets are summed from a precomputed list, so the cost is
// O(len(samples) + len(evalTimes) + resets per window) with no allocation when out and resets have room.
func PromCounterWindows(samples []Sample, evalTimes []int64, window int64, isRate bool, out []float64, resets []int) ([]float64, []int) {
	out = out[:0]
	resets = resets[:0]
	for i := 1; i < len(samples); i++ {
		if samples[i].V < samples[i-1].V {
			resets = append(resets, i)
		}
	}
	lo, hi, r := 0, 0, 0 // samples[lo:hi] are in the window; resets[r:] are at indexes > lo
	for _, t := range evalTimes {
		start := t - window
		for hi < len(samples) && samples[hi].T <= t {
			hi++
		}
		for lo < hi && samples[lo].T < start {
			lo++
		}
		for r < len(resets) && resets[r] <= lo {
			r++
		}
		if hi-lo < 2 {
			out = append(out, math.NaN())
			continue
		}
		first, last := samples[lo], samples[hi-1]
		result := last.V - first.V
		for k := r; k < len(resets) && resets[k] < hi; k++ {
			result += samples[resets[k]-1].V
		}
		out = append(out, promExtrapolate(result, first, last, hi-lo, start, t, true, isRate))
	}
	return out, resets
}
