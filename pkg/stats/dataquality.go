package stats

import "math"

// Quality holds the data-quality counts of one feature over one window's records (DESIGN §5, Data
// quality). Every share is over N, the window's records: a record whose value is missing, null or
// of the wrong type still counts in N.
type Quality struct {
	// N is the number of records.
	N int
	// Null counts the records whose value is null or missing; a value of the wrong type that was
	// read as null counts as a Mismatch, not as a Null.
	Null int
	// OutOfRange counts the numeric values outside the reference's [min, max].
	OutOfRange int
	// NewCategory counts the categorical values whose category the reference never had.
	NewCategory int
	// Mismatch counts the values of the wrong type.
	Mismatch int
}

// Shares returns Null/N, OutOfRange/N, NewCategory/N and Mismatch/N; NaN for each when N is 0.
func (q Quality) Shares() (null, outOfRange, newCategory, mismatch float64) {
	if q.N == 0 {
		nan := math.NaN()
		return nan, nan, nan, nan
	}
	n := float64(q.N)
	return float64(q.Null) / n, float64(q.OutOfRange) / n, float64(q.NewCategory) / n, float64(q.Mismatch) / n
}

// NumericQuality counts the records idx of a numeric column: values (NaN = null), mismatch (the
// column's type-mismatch mask, shorter or nil meaning false) and the reference range [lo, hi]. A
// value v is out of range when v < lo or v > hi; with an empty reference range (lo or hi NaN)
// nothing is out of range. Positions outside values count as null.
func NumericQuality(values []float64, mismatch []bool, idx []int32, lo, hi float64) Quality {
	q := Quality{N: len(idx)}
	ranged := !math.IsNaN(lo) && !math.IsNaN(hi)
	for _, k := range idx {
		bad := int(k) < len(mismatch) && mismatch[k]
		if bad {
			q.Mismatch++
		}
		if int(k) >= len(values) || math.IsNaN(values[k]) {
			if !bad {
				q.Null++
			}
			continue
		}
		if v := values[k]; ranged && (v < lo || v > hi) {
			q.OutOfRange++
		}
	}
	return q
}

// CategoricalQuality counts the records idx of a categorical column: codes (-1 = null), mismatch
// (as in NumericQuality) and known[code], true when the reference has that category (a code beyond
// known is new). Positions outside codes count as null.
func CategoricalQuality(codes []int32, mismatch []bool, idx []int32, known []bool) Quality {
	q := Quality{N: len(idx)}
	for _, k := range idx {
		bad := int(k) < len(mismatch) && mismatch[k]
		if bad {
			q.Mismatch++
		}
		if int(k) >= len(codes) || codes[k] < 0 {
			if !bad {
				q.Null++
			}
			continue
		}
		if c := codes[k]; int(c) >= len(known) || !known[c] {
			q.NewCategory++
		}
	}
	return q
}
