package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

func allIdx(n int) []int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	return idx
}

// TestNumericQuality: counts by hand on a small column; Evidently's data-quality table counts the
// same missing values and out-of-range values against the reference [min, max] (bounds inside).
func TestNumericQuality(t *testing.T) {
	nan := math.NaN()
	values := []float64{1, nan, 5, 0.5, 10, nan, 3, 11}
	mismatch := []bool{false, false, false, false, false, true, true} // record 5 read as null, 6 coerced; 7 beyond the mask
	got := NumericQuality(values, mismatch, allIdx(len(values)), 1, 10)
	want := Quality{N: 8, Null: 1, OutOfRange: 2, Mismatch: 2}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	null, oor, nc, mm := got.Shares()
	if null != 1.0/8 || oor != 2.0/8 || nc != 0 || mm != 2.0/8 {
		t.Errorf("shares %v %v %v %v", null, oor, nc, mm)
	}
	// A subset of records, and an empty reference range (nothing is out of range).
	if got := NumericQuality(values, nil, []int32{3, 7}, nan, nan); got != (Quality{N: 2}) {
		t.Errorf("no range: %+v", got)
	}
	if got := NumericQuality(values, nil, []int32{1, 4, 9}, 1, 10); got != (Quality{N: 3, Null: 2}) {
		t.Errorf("subset: %+v", got)
	}
}

func TestCategoricalQuality(t *testing.T) {
	codes := []int32{0, 1, 2, -1, 3, 0, -1}
	known := []bool{true, true, false} // code 2 only in the current batch's dictionary, 3 beyond known
	mismatch := []bool{false, false, false, false, true, false, true}
	got := CategoricalQuality(codes, mismatch, allIdx(len(codes)), known)
	want := Quality{N: 7, Null: 1, NewCategory: 2, Mismatch: 2}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestQualityEmpty(t *testing.T) {
	for _, q := range []Quality{NumericQuality(nil, nil, nil, 0, 1), CategoricalQuality(nil, nil, nil, nil)} {
		a, b, c, d := q.Shares()
		if !math.IsNaN(a) || !math.IsNaN(b) || !math.IsNaN(c) || !math.IsNaN(d) {
			t.Errorf("empty window: %v %v %v %v, want NaN", a, b, c, d)
		}
	}
}

// TestQualityProperty: on random columns each count is at most N, null + values + mismatched nulls
// make up N, and the counts equal a direct recount.
func TestQualityProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for trial := 0; trial < 200; trial++ {
		n := r.IntN(300)
		values := make([]float64, n)
		mismatch := make([]bool, n)
		for i := range values {
			values[i] = r.NormFloat64()
			if r.Float64() < 0.1 {
				values[i] = math.NaN()
			}
			mismatch[i] = r.Float64() < 0.05
		}
		q := NumericQuality(values, mismatch, allIdx(n), -1, 1)
		var null, oor, mm int
		for i, v := range values {
			if mismatch[i] {
				mm++
			}
			switch {
			case math.IsNaN(v):
				if !mismatch[i] {
					null++
				}
			case v < -1 || v > 1:
				oor++
			}
		}
		if q != (Quality{N: n, Null: null, OutOfRange: oor, Mismatch: mm}) {
			t.Fatalf("trial %d: %+v", trial, q)
		}
	}
}

func BenchmarkNumericQuality(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	values := make([]float64, 100_000)
	for i := range values {
		values[i] = r.NormFloat64()
	}
	idx := allIdx(len(values))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = NumericQuality(values, nil, idx, -2, 2)
	}
}
