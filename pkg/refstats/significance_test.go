package refstats

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

func TestSignificanceNGrid(t *testing.T) {
	for n := -1; n <= limits.SignificanceExactN; n++ {
		if want := max(n, 0); SignificanceN(n) != want {
			t.Errorf("SignificanceN(%d) = %d", n, SignificanceN(n))
		}
	}
	distinct := map[int]bool{}
	for n := limits.SignificanceExactN + 1; n < 2_000_000; n += 1 + n/200 {
		g := SignificanceN(n)
		distinct[g] = true
		// Half a grid step: 2^(1/32) − 1 ≈ 2.2 %.
		if r := math.Abs(float64(g)/float64(n) - 1); r > math.Exp2(1/(2*float64(limits.SignificanceGridSteps)))-1+0.6/float64(n) {
			t.Fatalf("SignificanceN(%d) = %d, %.1f%% away", n, g, 100*r)
		}
		if SignificanceN(g) != g {
			t.Fatalf("grid point %d is not its own bucket", g)
		}
	}
	if len(distinct) > 16*16 {
		t.Errorf("%d grid points between 65 and 2,000,000", len(distinct))
	}
}

func TestNullSharedOnceAndKept(t *testing.T) {
	p := NewPrepared("m", "", refBatch(), nil)
	var runs atomic.Int32
	key := NullKey{Variable: "x", Strategy: StrategyQuantile, Bins: 10, Method: "psi", N: 100}
	sim := func(check stats.Check) ([]float64, error) {
		runs.Add(1)
		return stats.BootstrapBinned([]float64{0.5, 0.5}, 100, 99, stats.PSI, key.Seed(), check)
	}
	var wg sync.WaitGroup
	var simulated atomic.Int32
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, s, err := p.Null(context.Background(), key, sim)
			if err != nil || len(v) != 99 {
				t.Errorf("Null: %d values, %v", len(v), err)
			}
			if s {
				simulated.Add(1)
			}
		}()
	}
	wg.Wait()
	if runs.Load() != 1 {
		t.Errorf("%d simulations for one key", runs.Load())
	}
	if v, s, _ := p.Null(context.Background(), key, sim); s || len(v) != 99 || runs.Load() != 1 {
		t.Error("a kept distribution is simulated again")
	}
	if p.CachedNull(key) == nil || p.CachedNull(NullKey{Variable: "y"}) != nil {
		t.Error("CachedNull")
	}
	if key.Seed() == (NullKey{Variable: "x", Strategy: StrategyQuantile, Bins: 10, Method: "psi", N: 101}).Seed() {
		t.Error("two keys, one seed")
	}
}

func TestNullFailuresNotKeptAndBounded(t *testing.T) {
	p := NewPrepared("m", "", refBatch(), nil)
	key := NullKey{Variable: "x", Method: "js", N: 5}
	boom := errors.New("boom")
	if _, _, err := p.Null(context.Background(), key, func(stats.Check) ([]float64, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("error %v", err)
	}
	if _, _, err := p.Null(context.Background(), key, func(stats.Check) ([]float64, error) { panic("bad") }); err == nil {
		t.Error("a panicking simulation gives no error")
	}
	if p.NullLen() != 0 {
		t.Error("a failed simulation was kept")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := p.Null(ctx, key, func(stats.Check) ([]float64, error) { return []float64{1}, nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v", err)
	}
	// The check handed to the simulation ends with the caller's context.
	ctx, cancel = context.WithCancel(context.Background())
	_, _, err := p.Null(ctx, key, func(check stats.Check) ([]float64, error) {
		cancel()
		return nil, check()
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("simulation's check after cancel: %v", err)
	}
	for i := 0; i < limits.SignificanceEntries+10; i++ {
		k := NullKey{Variable: "x", Method: "tvd", N: i}
		if _, _, err := p.Null(context.Background(), k, func(stats.Check) ([]float64, error) { return []float64{float64(i)}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if p.NullLen() != limits.SignificanceEntries {
		t.Errorf("%d distributions kept, bound %d", p.NullLen(), limits.SignificanceEntries)
	}
	if p.CachedNull(NullKey{Variable: "x", Method: "tvd", N: 0}) != nil || p.CachedNull(NullKey{Variable: "x", Method: "tvd", N: limits.SignificanceEntries + 9}) == nil {
		t.Error("not the least recently used that went")
	}
}
