package source

import (
	"errors"
	"math"
	"testing"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

func TestQuantileLabel(t *testing.T) {
	for p, want := range map[float64]string{50: "0.5", 95: "0.95", 99: "0.99", 99.9: "0.999", 99.99: "0.9999", 100: "1", 0.1: "0.001", 33.3: "0.333"} {
		if got := QuantileLabel(p); got != want {
			t.Errorf("QuantileLabel(%v) = %q, want %q", p, got, want)
		}
	}
}

func TestNextCodeStopsAtMaxDistinctValues(t *testing.T) {
	for _, n := range []int{0, 1, limits.MaxDistinctValues - 1} {
		if c, err := NextCode(n); err != nil || int(c) != n {
			t.Errorf("NextCode(%d) = %d, %v; want %d", n, c, err, n)
		}
	}
	for _, n := range []int{-1, limits.MaxDistinctValues, math.MaxInt32 + 1} {
		if _, err := NextCode(n); !errors.Is(err, ErrTooManyValues) {
			t.Errorf("NextCode(%d) error = %v, want ErrTooManyValues", n, err)
		}
	}
	// A full dictionary refuses a new value but still codes the values it holds.
	c := NewColumn(Categorical, 0)
	c.Dict = make([]string, limits.MaxDistinctValues)
	c.Dict[0], c.Dict[1] = "a", "b"
	c.index = map[string]int32{"a": 0, "b": 1} // as Code builds it, without 2^24 map writes
	if code, err := c.Code("b"); err != nil || code != 1 {
		t.Errorf("Code(b) = %d, %v; want 1", code, err)
	}
	if err := c.AppendCat("new"); !errors.Is(err, ErrTooManyValues) {
		t.Errorf("AppendCat on a full dictionary: %v, want ErrTooManyValues", err)
	}
	if len(c.Cat) != 0 || len(c.Dict) != limits.MaxDistinctValues {
		t.Errorf("a refused value changed the column: %d codes, %d dictionary entries", len(c.Cat), len(c.Dict))
	}
}
