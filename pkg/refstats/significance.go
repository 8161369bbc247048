package refstats

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// Null distributions of drift measures, kept with the prepared reference they were simulated
// from: a reference cached by the instance (Cache) keeps its null distributions as long as it
// lives, so a dashboard refresh or an alert evaluation finds them computed.

// StrategyCategorical is the NullKey strategy of a categorical variable (one bin per category).
const StrategyCategorical = "categorical"

// NullKey names a null distribution of a prepared reference: the variable, its binning (strategy
// and bins; StrategyCategorical and 0 for a categorical variable, "" and 0 for a raw-sample
// measure), the measure and the window size on the grid of SignificanceN.
type NullKey struct {
	Variable, Strategy string
	Bins               int
	Method             string
	N                  int
}

// Seed is the stream seed of the key's simulation: FNV-1a of its fields, so a key always gives
// the same distribution, in every process.
func (k NullKey) Seed() uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%s\x00%d", k.Variable, k.Strategy, k.Bins, k.Method, k.N)
	return h.Sum64()
}

// SignificanceN is the window size a null distribution is simulated at for a window of n values:
// n itself up to limits.SignificanceExactN, else n rounded to the nearest point of the geometric
// grid 2^(i/limits.SignificanceGridSteps) (at most 2.2 % away), so that windows of similar sizes
// share one distribution. n < 1 gives 0.
func SignificanceN(n int) int {
	if n < 1 {
		return 0
	}
	if n <= limits.SignificanceExactN {
		return n
	}
	steps := float64(limits.SignificanceGridSteps)
	i := math.Round(steps * math.Log2(float64(n)))
	return int(math.Round(math.Exp2(i / steps)))
}

// workers caps the simulations running at once in the process (limits.SignificanceWorkers).
var workers = make(chan struct{}, limits.SignificanceWorkers)

// nulls is a bounded LRU of null distributions with one simulation per key at a time.
type nulls struct {
	mu      sync.Mutex
	entries map[NullKey]*list.Element // of *nullEntry
	lru     *list.List
	group   singleflight.Group
}

type nullEntry struct {
	key  NullKey
	vals []float64
}

// CachedNull returns the null distribution under key if it was simulated, else nil.
func (p *Prepared) CachedNull(key NullKey) []float64 {
	c := p.nullCache()
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.entries[key]; el != nil {
		c.lru.MoveToFront(el)
		return el.Value.(*nullEntry).vals
	}
	return nil
}

// Null returns the null distribution under key (sorted ascending; shared, do not modify),
// simulating it with simulate on a miss; simulated reports a miss. Concurrent callers of one key
// share one simulation (singleflight); simulations wait for one of limits.SignificanceWorkers
// slots. simulate gets a Check that stops it when ctx ends (a waiter whose own context is still
// live when the shared simulation was cancelled by its starter's simulates again). Failed or
// cancelled simulations are not kept; at most limits.SignificanceEntries distributions are kept
// per reference, the least recently used going first.
func (p *Prepared) Null(ctx context.Context, key NullKey, simulate func(check stats.Check) ([]float64, error)) (vals []float64, simulated bool, err error) {
	c := p.nullCache()
	for attempt := 0; ; attempt++ {
		if v := p.CachedNull(key); v != nil {
			return v, false, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		ch := c.group.DoChan(fmt.Sprintf("%q %q %d %q %d", key.Variable, key.Strategy, key.Bins, key.Method, key.N), func() (any, error) {
			if v := p.CachedNull(key); v != nil {
				return v, nil // kept by a simulation that ended after this caller's lookup
			}
			select {
			case workers <- struct{}{}:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			defer func() { <-workers }()
			v, err := runSimulation(simulate, ctx.Err)
			if err != nil {
				return nil, err
			}
			c.store(key, v)
			return v, nil
		})
		select {
		case r := <-ch:
			if r.Err == nil {
				return r.Val.([]float64), true, nil
			}
			cancelled := errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, context.DeadlineExceeded)
			if cancelled && ctx.Err() == nil && attempt < 3 {
				continue // another caller's cancellation: simulate for this one
			}
			return nil, true, r.Err
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

func runSimulation(simulate func(check stats.Check) ([]float64, error), check stats.Check) (v []float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("significance simulation failed: %v", r)
		}
	}()
	v, err = simulate(check)
	if err == nil && v == nil {
		v = []float64{} // nothing to simulate (a degenerate reference): kept as empty
	}
	return v, err
}

func (p *Prepared) nullCache() *nulls {
	p.nullOnce.Do(func() { p.nulls = &nulls{entries: map[NullKey]*list.Element{}, lru: list.New()} })
	return p.nulls
}

func (c *nulls) store(key NullKey, v []float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.entries[key]; el != nil {
		c.lru.Remove(el)
	}
	c.entries[key] = c.lru.PushFront(&nullEntry{key: key, vals: v})
	for c.lru.Len() > limits.SignificanceEntries {
		el := c.lru.Back()
		delete(c.entries, el.Value.(*nullEntry).key)
		c.lru.Remove(el)
	}
}

// NullLen is the number of null distributions kept.
func (p *Prepared) NullLen() int {
	c := p.nullCache()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
