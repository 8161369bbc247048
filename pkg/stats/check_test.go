package stats

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

var errStopped = errors.New("stopped")

func randomSample(n int) []float64 {
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	return x
}

// TestSortFloat64sCheck: the check is called at bounded intervals, a failing check stops the sort
// with its error and leaves x as it was, and a passing one sorts as SortFloat64s does.
func TestSortFloat64sCheck(t *testing.T) {
	const n = 1 << 20
	x := randomSample(n)
	orig := slices.Clone(x)
	calls := 0
	err := SortFloat64sCheck(x, func() error {
		if calls++; calls == 3 {
			return errStopped
		}
		return nil
	})
	if !errors.Is(err, errStopped) || calls != 3 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
	if !slices.Equal(x, orig) {
		t.Fatal("a stopped sort changed x")
	}
	calls = 0
	if err := SortFloat64sCheck(x, func() error { calls++; return nil }); err != nil {
		t.Fatal(err)
	}
	if calls < n/CheckEvery {
		t.Fatalf("%d checks for %d values", calls, n)
	}
	slices.Sort(orig)
	if !slices.Equal(x, orig) {
		t.Fatal("not sorted")
	}
}

func TestPercentilesCheck(t *testing.T) {
	x := randomSample(1 << 18)
	ps := []float64{1, 5, 25, 50, 75, 95, 99}
	calls := 0
	_, err := PercentilesCheck(slices.Clone(x), ps, nil, func() error {
		if calls++; calls == 2 {
			return errStopped
		}
		return nil
	})
	if !errors.Is(err, errStopped) || calls != 2 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
	got, err := PercentilesCheck(slices.Clone(x), ps, nil, func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if want := Percentiles(x, ps, nil); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
