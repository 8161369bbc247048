package stats

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// TestMultitestAgainstStatsmodels checks AdjustBH and AdjustBonferroni against
// statsmodels.stats.multitest.multipletests(p, method='fdr_bh' | 'bonferroni')[1]
// (testdata/multitest.py, Debian python3-statsmodels 0.13.5) at 1e-12 absolute: both do the same
// few float operations, so only rounding differs.
func TestMultitestAgainstStatsmodels(t *testing.T) {
	raw, err := os.ReadFile("testdata/multitest.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			Name       string
			P, BH      []float64
			Bonferroni []float64 `json:"bonferroni"`
		}
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 5 {
		t.Fatalf("%d cases", len(ref.Cases))
	}
	for _, c := range ref.Cases {
		for name, got := range map[string][]float64{"bh": AdjustBH(c.P), "bonferroni": AdjustBonferroni(c.P)} {
			want := c.BH
			if name == "bonferroni" {
				want = c.Bonferroni
			}
			if len(got) != len(want) {
				t.Fatalf("%s %s: %d values, want %d", c.Name, name, len(got), len(want))
			}
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-12 {
					t.Errorf("%s %s[%d] (p %v) = %.17g, statsmodels %.17g", c.Name, name, i, c.P[i], got[i], want[i])
				}
			}
		}
	}
}

// NaN p-values stay NaN and are not counted among the tests.
func TestMultitestNaN(t *testing.T) {
	nan := math.NaN()
	bh := AdjustBH([]float64{0.01, nan, 0.04})
	bf := AdjustBonferroni([]float64{0.01, nan, 0.04})
	if !math.IsNaN(bh[1]) || !math.IsNaN(bf[1]) || bh[0] != 0.02 || bh[2] != 0.04 || bf[0] != 0.02 || bf[2] != 0.08 {
		t.Errorf("bh %v, bonferroni %v", bh, bf)
	}
	if len(AdjustBH(nil)) != 0 || len(AdjustBonferroni(nil)) != 0 {
		t.Error("empty input")
	}
}
