// Package refstats prepares the reference (training) sample of each model for drift and
// distribution statistics: its numeric variables sorted, its categorical variables counted and its
// binnings memoised (Prepared), and keeps the prepared references of a data-source instance
// (Cache) so that repeated queries and alert evaluations neither refetch nor re-sort them: fetched
// once per key (concurrent callers share one fetch through singleflight), refreshed after a TTL,
// bounded in number (least recently used dropped first) and dropped when the instance is disposed.
// It is not a connector: the sources hand it batches.
package refstats

import (
	"math"
	"sort"
	"sync"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// Binning strategies (DESIGN §4 `binning.strategy`).
const (
	StrategyQuantile   = "quantile"
	StrategyEqualWidth = "equalWidth"
)

// maxBinnings bounds the memoised binnings per reference; beyond it binnings are computed afresh
// on each call (a query can ask for any number of bins).
const maxBinnings = 1024

// EdgeFunc computes the interior bin edges of a sorted reference for a number of bins
// (stats.QuantileEdges and stats.EqualWidthEdges have this shape).
type EdgeFunc func(sorted []float64, bins int) []float64

// Prepared is a reference sample with its derived data computed at most once per variable. It is
// safe for concurrent use. Every slice it returns is shared by all callers and must not be
// modified.
type Prepared struct {
	Model, Version string
	// Batch is the raw reference.
	Batch *source.Batch

	sortFn func([]float64)

	sorted  memo[string, []float64]
	cats    memo[string, catCounts]
	binning memo[binKey, binned]

	// nulls are the null distributions simulated from this reference (significance.go).
	nullOnce sync.Once
	nulls    *nulls
	derived  memo[string, any]
}

type catCounts struct {
	cats   []string
	counts []float64
}

type binKey struct {
	variable, strategy string
	bins               int
}

type binned struct{ edges, counts []float64 }

// NewPrepared wraps a reference batch; sortFn sorts float64s ascending (nil means
// stats.SortFloat64s).
func NewPrepared(model, version string, b *source.Batch, sortFn func([]float64)) *Prepared {
	if sortFn == nil {
		sortFn = stats.SortFloat64s
	}
	if b == nil {
		b = &source.Batch{Model: model}
	}
	return &Prepared{Model: model, Version: version, Batch: b, sortFn: sortFn}
}

// Rows is the number of reference records.
func (p *Prepared) Rows() int { return p.Batch.Len() }

// Sorted returns the non-NaN values of a numeric variable (a feature, "prediction", "score" or
// "latency") in ascending order, computed once. It is nil when the reference has no such numeric
// variable, and empty when every value is null.
func (p *Prepared) Sorted(variable string) []float64 {
	return p.sorted.get(variable, func() []float64 {
		c := p.Batch.Column(variable)
		if c == nil || c.Kind == source.Categorical {
			return nil
		}
		out := make([]float64, 0, len(c.Num))
		for _, v := range c.Num {
			if !math.IsNaN(v) {
				out = append(out, v)
			}
		}
		p.sortFn(out)
		return out
	})
}

// Categories returns the categories of a categorical variable that occur in the reference, in
// ascending order of name, with their counts (nulls excluded), computed once. Both are nil when
// the reference has no such categorical variable.
func (p *Prepared) Categories(variable string) (cats []string, counts []float64) {
	cc := p.cats.get(variable, func() catCounts {
		c := p.Batch.Column(variable)
		if c == nil || c.Kind != source.Categorical {
			return catCounts{}
		}
		n := make([]float64, len(c.Dict))
		for _, code := range c.Cat {
			if code >= 0 && int(code) < len(n) {
				n[code]++
			}
		}
		var cc catCounts
		for i, k := range n {
			if k > 0 {
				cc.cats = append(cc.cats, c.Dict[i])
				cc.counts = append(cc.counts, k)
			}
		}
		sort.Sort(byName(cc))
		return cc
	})
	return cc.cats, cc.counts
}

// CatCounts returns Categories as a map from category to count.
func (p *Prepared) CatCounts(variable string) map[string]int {
	cats, counts := p.Categories(variable)
	if cats == nil {
		return nil
	}
	m := make(map[string]int, len(cats))
	for i, c := range cats {
		m[c] = int(counts[i])
	}
	return m
}

type byName catCounts

func (s byName) Len() int           { return len(s.cats) }
func (s byName) Less(i, j int) bool { return s.cats[i] < s.cats[j] }
func (s byName) Swap(i, j int) {
	s.cats[i], s.cats[j] = s.cats[j], s.cats[i]
	s.counts[i], s.counts[j] = s.counts[j], s.counts[i]
}

// Edges returns compute(Sorted(variable), bins), memoised per (variable, strategy, bins): the
// strategy name must always stand for the same compute function.
func (p *Prepared) Edges(variable, strategy string, bins int, compute EdgeFunc) []float64 {
	e, _ := p.RefCountsEdges(variable, strategy, bins, compute)
	return e
}

// RefCounts returns the reference counts over the len(edges)+1 bins of Edges (bin i holds
// e_{i-1} <= v < e_i, the outer bins open), memoised with the edges.
func (p *Prepared) RefCounts(variable, strategy string, bins int, compute EdgeFunc) []float64 {
	_, c := p.RefCountsEdges(variable, strategy, bins, compute)
	return c
}

// RefCountsEdges returns Edges and RefCounts together; both are nil for a variable that is not
// numeric in the reference, and for bins outside [1, limits.MaxBins].
func (p *Prepared) RefCountsEdges(variable, strategy string, bins int, compute EdgeFunc) (edges, counts []float64) {
	if bins < 1 || bins > limits.MaxBins || compute == nil {
		return nil, nil
	}
	k := binKey{variable, strategy, bins}
	mk := func() binned {
		sorted := p.Sorted(variable)
		if sorted == nil {
			return binned{}
		}
		e := compute(sorted, bins)
		return binned{edges: e, counts: stats.CountsSorted(e, sorted, nil)}
	}
	b, ok := p.binning.getBounded(k, maxBinnings, mk)
	if !ok {
		b = mk()
	}
	return b.edges, b.counts
}

// Binned returns the interior edges of a numeric variable for a binning strategy of DESIGN §5
// ("equalWidth": stats.EqualWidthEdges; anything else: quantile, stats.QuantileEdges) and the
// reference counts over the len(edges)+1 bins. Both are nil when the reference has no such
// numeric variable.
func (p *Prepared) Binned(variable, strategy string, bins int) (edges, counts []float64) {
	if strategy == StrategyEqualWidth {
		return p.RefCountsEdges(variable, strategy, bins, stats.EqualWidthEdges)
	}
	return p.RefCountsEdges(variable, StrategyQuantile, bins, stats.QuantileEdges)
}

// maxDerived bounds the derived statistics memoised per reference (Derived).
const maxDerived = 16

// Derived returns compute() computed once per key for this reference: statistics derived from
// the whole sample, such as a fitted PCA (keyed by its variables), shared by every query of the
// cached reference. Beyond maxDerived keys it is computed afresh on each call. compute must not
// depend on a caller's cancellation (its result is shared).
func (p *Prepared) Derived(key string, compute func() any) any {
	v, ok := p.derived.getBounded(key, maxDerived, compute)
	if !ok {
		v = compute()
	}
	return v
}

// memo computes each key's value once, letting different keys compute concurrently.
type memo[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*cell[V]
}

type cell[V any] struct {
	once sync.Once
	v    V
}

func (m *memo[K, V]) get(k K, f func() V) V {
	v, _ := m.getBounded(k, 0, f)
	return v
}

// getBounded is get with at most max keys (0: no bound); ok is false when the key is new and the
// memo is full, and then nothing is computed.
func (m *memo[K, V]) getBounded(k K, max int, f func() V) (v V, ok bool) {
	m.mu.Lock()
	if m.m == nil {
		m.m = map[K]*cell[V]{}
	}
	c := m.m[k]
	if c == nil {
		if max > 0 && len(m.m) >= max {
			m.mu.Unlock()
			return v, false
		}
		c = &cell[V]{}
		m.m[k] = c
	}
	m.mu.Unlock()
	c.once.Do(func() { c.v = f() })
	return c.v, true
}
