package demo

import (
	"math"
	"testing"
)

// word must be the two's-complement bit pattern, so that the fleet's streams (keyed on seeds and
// Unix seconds, possibly negative) are the same as with a plain uint64 conversion.
func TestWordIsTheTwosComplementPattern(t *testing.T) {
	for _, c := range []struct {
		v    int64
		want uint64
	}{
		{0, 0},
		{1, 1},
		{math.MaxInt64, 1<<63 - 1},
		{-1, math.MaxUint64},
		{-2, math.MaxUint64 - 1},
		{math.MinInt64, 1 << 63},
		{-1_700_000_000, 0xffffffff9aac0f00},
	} {
		if got := word(c.v); got != c.want {
			t.Errorf("word(%d) = %#x, want %#x", c.v, got, c.want)
		}
	}
}
