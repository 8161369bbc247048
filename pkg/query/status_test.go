package query

import (
	"math"
	"testing"
)

// TestStatusRule checks the default thresholds of DESIGN §5 and the classification rule.
func TestStatusRule(t *testing.T) {
	if StatusOK.String() != "ok" || StatusWarning.String() != "warning" || StatusDrift.String() != "drift" || Status(7).String() != "Status(7)" {
		t.Errorf("Status strings: %v %v %v %v", StatusOK, StatusWarning, StatusDrift, Status(7))
	}
	want := map[string]statusThreshold{
		"psi":              {0.1, 0.25, false},
		"ks_pvalue":        {0.15, 0.05, true},
		"chi2_pvalue":      {0.15, 0.05, true},
		"js":               {0.05, 0.1, false},
		"wasserstein_norm": {0.05, 0.1, false},
		"hellinger":        {0.15, 0.4, false},
		"kld":              {0.1, 0.2, false},
		"linf":             {0.1, 0.2, false},
		"mlrun":            {0.5, 0.7, false},
	}
	for m, w := range want {
		if got, ok := defaultThreshold(m); !ok || got != w {
			t.Errorf("defaultThreshold(%q) = %v, %v; want %v", m, got, ok, w)
		}
	}
	for _, m := range []string{"ks", "wasserstein", "tvd", "chi2", "status", "", "PSI"} {
		if _, ok := defaultThreshold(m); ok {
			t.Errorf("defaultThreshold(%q) has a threshold", m)
		}
	}
	psi, _ := defaultThreshold("psi")
	pv, _ := defaultThreshold("ks_pvalue")
	cases := []struct {
		v    float64
		th   statusThreshold
		want Status
		ok   bool
	}{
		{math.NaN(), psi, StatusOK, false},
		{0, psi, StatusOK, true},
		{0.0999, psi, StatusOK, true},
		{0.1, psi, StatusWarning, true}, // limits are inclusive for distances
		{0.2499, psi, StatusWarning, true},
		{0.25, psi, StatusDrift, true},
		{math.Inf(1), psi, StatusDrift, true},
		{math.Inf(-1), psi, StatusOK, true},
		{1, pv, StatusOK, true},
		{0.15, pv, StatusOK, true}, // "below" is strict for p-values
		{0.1499, pv, StatusWarning, true},
		{0.05, pv, StatusWarning, true},
		{0.0499, pv, StatusDrift, true},
		{0, pv, StatusDrift, true},
		{math.NaN(), pv, StatusOK, false},
		{0.5, statusThreshold{Warning: 0.9, Drift: 0.4}, StatusDrift, true}, // drift checked first
	}
	for _, c := range cases {
		if got, ok := classify(c.v, c.th); got != c.want || ok != c.ok {
			t.Errorf("classify(%v, %+v) = %v, %v; want %v, %v", c.v, c.th, got, ok, c.want, c.ok)
		}
	}
	if worst(StatusOK, StatusDrift) != StatusDrift || worst(StatusWarning, StatusOK) != StatusWarning || worst(StatusOK, StatusOK) != StatusOK {
		t.Error("Worst")
	}
}
