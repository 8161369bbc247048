package query

import (
	"math"
	"sort"
	"sync"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// refSample is a prepared reference: what drift and distribution compare current data with.
type refSample interface {
	// Rows is the number of reference records.
	Rows() int
	// Sorted returns a numeric variable's non-NaN values, ascending (shared: do not modify).
	Sorted(variable string) []float64
	// Categories returns a categorical variable's categories and their counts (nulls excluded).
	Categories(variable string) (cats []string, counts []float64)
	// Binned returns the interior edges of a numeric variable for a binning and the reference
	// counts over the len(edges)+1 bins (shared: do not modify).
	Binned(variable, strategy string, bins int) (edges, counts []float64)
}

// localRef prepares a reference from records (a batch, or the positions idx of a batch), memoising
// sorted values and binnings. It is safe for concurrent use.
type localRef struct {
	b   *source.Batch
	idx []int32

	mu     sync.Mutex
	sorted map[string][]float64
	cats   map[string]catCounts
	binned map[binKey]binned
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

func newLocalRef(b *source.Batch, idx []int32) *localRef {
	return &localRef{b: b, idx: idx, sorted: map[string][]float64{}, cats: map[string]catCounts{}, binned: map[binKey]binned{}}
}

func (r *localRef) Rows() int {
	if r.idx != nil {
		return len(r.idx)
	}
	return r.b.Len()
}

func (r *localRef) each(n int, fn func(k int)) {
	if r.idx != nil {
		for _, k := range r.idx {
			if int(k) < n {
				fn(int(k))
			}
		}
		return
	}
	for k := 0; k < n; k++ {
		fn(k)
	}
}

func (r *localRef) Sorted(variable string) []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sortedLocked(variable)
}

func (r *localRef) sortedLocked(variable string) []float64 {
	if s, ok := r.sorted[variable]; ok {
		return s
	}
	var out []float64
	if c := r.b.Column(variable); c != nil && c.Kind != source.Categorical {
		out = make([]float64, 0, r.Rows())
		r.each(len(c.Num), func(k int) {
			if v := c.Num[k]; !math.IsNaN(v) {
				out = append(out, v)
			}
		})
		stats.SortFloat64s(out)
	}
	r.sorted[variable] = out
	return out
}

func (r *localRef) Categories(variable string) ([]string, []float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cc, ok := r.cats[variable]; ok {
		return cc.cats, cc.counts
	}
	var cc catCounts
	if c := r.b.Column(variable); c != nil && c.Kind == source.Categorical {
		counts := make([]float64, len(c.Dict))
		r.each(len(c.Cat), func(k int) {
			if code := c.Cat[k]; code >= 0 && int(code) < len(counts) {
				counts[code]++
			}
		})
		for i, n := range counts {
			if n > 0 {
				cc.cats = append(cc.cats, c.Dict[i])
				cc.counts = append(cc.counts, n)
			}
		}
		sortCats(cc.cats, cc.counts)
	}
	r.cats[variable] = cc
	return cc.cats, cc.counts
}

func (r *localRef) Binned(variable, strategy string, bins int) ([]float64, []float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := binKey{variable, strategy, bins}
	if b, ok := r.binned[k]; ok {
		return b.edges, b.counts
	}
	sorted := r.sortedLocked(variable)
	edges := computeEdges(sorted, strategy, bins)
	counts := stats.CountsSorted(edges, sorted, nil)
	r.binned[k] = binned{edges, counts}
	return edges, counts
}

// computeEdges returns the interior bin edges of a sorted reference (DESIGN §5 binning).
func computeEdges(sorted []float64, strategy string, bins int) []float64 {
	if len(sorted) == 0 {
		return nil
	}
	if strategy == BinningEqualWidth {
		return stats.EqualWidthEdges(sorted, bins)
	}
	return stats.QuantileEdges(sorted, bins)
}

// sortCats orders categories by name, keeping counts aligned.
func sortCats(cats []string, counts []float64) {
	sort.Sort(catSorter{cats, counts})
}

type catSorter struct {
	cats   []string
	counts []float64
}

func (s catSorter) Len() int           { return len(s.cats) }
func (s catSorter) Less(i, j int) bool { return s.cats[i] < s.cats[j] }
func (s catSorter) Swap(i, j int) {
	s.cats[i], s.cats[j] = s.cats[j], s.cats[i]
	s.counts[i], s.counts[j] = s.counts[j], s.counts[i]
}
