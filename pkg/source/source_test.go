package source

import "testing"

func TestQuantileLabel(t *testing.T) {
	for p, want := range map[float64]string{50: "0.5", 95: "0.95", 99: "0.99", 99.9: "0.999", 99.99: "0.9999", 100: "1", 0.1: "0.001", 33.3: "0.333"} {
		if got := QuantileLabel(p); got != want {
			t.Errorf("QuantileLabel(%v) = %q, want %q", p, got, want)
		}
	}
}
