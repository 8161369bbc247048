package refstats

import (
	"github.com/modellens/mlmonitoring-datasource/pkg/limits"

	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// refBatch is a small reference: numeric "x" with a null, categorical "plan" with a null, a
// numeric score and latency.
func refBatch() *source.Batch {
	nan := math.NaN()
	plan := source.NewColumn(source.Categorical, 6)
	for _, v := range []string{"b", "a", "b", "", "c", "b"} {
		if v == "" {
			plan.AppendNull()
		} else {
			plan.AppendCat(v)
		}
	}
	plan.Dict = append(plan.Dict, "never") // a category with no rows
	return &source.Batch{
		Model:        "churn",
		TS:           []int64{1, 2, 3, 4, 5, 6},
		Version:      []int32{0, 0, 0, 0, 0, 0},
		Versions:     []string{"v1"},
		LatencyMs:    []float64{5, 3, nan, 9, 1, 7},
		Error:        make([]bool, 6),
		Score:        []float64{0.5, 0.1, 0.9, 0.3, nan, 0.7},
		Prediction:   &source.Column{Kind: source.Categorical, Cat: []int32{0, 0, 0, 0, 0, 0}, Dict: []string{"stay"}},
		Label:        &source.Column{Kind: source.Categorical, Cat: []int32{-1, -1, -1, -1, -1, -1}},
		FeatureNames: []string{"x", "plan"},
		Features: map[string]*source.Column{
			"x":    {Kind: source.Numeric, Num: []float64{4, -1, nan, 2.5, 10, 0}},
			"plan": plan,
		},
	}
}

func eq(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func TestPreparedSortedAndCategories(t *testing.T) {
	p := NewPrepared("churn", "v1", refBatch(), nil)
	if p.Rows() != 6 {
		t.Errorf("Rows = %d", p.Rows())
	}
	for v, want := range map[string][]float64{
		"x":       {-1, 0, 2.5, 4, 10},
		"latency": {1, 3, 5, 7, 9},
		"score":   {0.1, 0.3, 0.5, 0.7, 0.9},
	} {
		if got := p.Sorted(v); !eq(got, want) {
			t.Errorf("Sorted(%s) = %v, want %v", v, got, want)
		}
	}
	if p.Sorted("plan") != nil || p.Sorted("nosuch") != nil || p.Sorted("prediction") != nil {
		t.Error("Sorted of a categorical or missing variable is not nil")
	}
	cats, counts := p.Categories("plan")
	if len(cats) != 3 || cats[0] != "a" || cats[1] != "b" || cats[2] != "c" || !eq(counts, []float64{1, 3, 1}) {
		t.Errorf("Categories(plan) = %v %v", cats, counts)
	}
	if m := p.CatCounts("plan"); len(m) != 3 || m["b"] != 3 || m["a"] != 1 {
		t.Errorf("CatCounts(plan) = %v", m)
	}
	if c, _ := p.Categories("x"); c != nil {
		t.Error("Categories of a numeric variable is not nil")
	}
	if c, n := p.Categories("prediction"); len(c) != 1 || n[0] != 6 {
		t.Errorf("Categories(prediction) = %v %v", c, n)
	}
}

func TestPreparedMemoises(t *testing.T) {
	var sorts, computes atomic.Int32
	p := NewPrepared("churn", "v1", refBatch(), func(x []float64) { sorts.Add(1); sort.Float64s(x) })
	halves := func(sorted []float64, bins int) []float64 {
		computes.Add(1)
		return []float64{sorted[len(sorted)/2]}
	}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Sorted("x")
			p.Edges("x", "halves", 2, halves)
			p.RefCounts("x", "halves", 2, halves)
		}()
	}
	wg.Wait()
	if sorts.Load() != 1 || computes.Load() != 1 {
		t.Errorf("sorted %d times, edges computed %d times; want once each", sorts.Load(), computes.Load())
	}
	// Same variable and strategy, other bins: a new binning; another variable: a new sort.
	p.Edges("x", "halves", 3, halves)
	p.Edges("score", "halves", 2, halves)
	if sorts.Load() != 2 || computes.Load() != 3 {
		t.Errorf("sorted %d times, edges computed %d times; want 2 and 3", sorts.Load(), computes.Load())
	}
	// Memoised results are the same slices.
	a, b := p.Sorted("x"), p.Sorted("x")
	if &a[0] != &b[0] {
		t.Error("Sorted recomputed")
	}
}

func TestBinnedCounts(t *testing.T) {
	p := NewPrepared("churn", "v1", refBatch(), nil)
	// x sorted = [-1 0 2.5 4 10]; quantile edges at type-7 quantiles 0.5 → [2.5];
	// numpy.percentile([-1,0,2.5,4,10], 50) = 2.5. Bins: (-inf,2.5) = 2, [2.5,inf) = 3.
	e, c := p.Binned("x", StrategyQuantile, 2)
	if !eq(e, []float64{2.5}) || !eq(c, []float64{2, 3}) {
		t.Errorf("quantile: edges %v counts %v", e, c)
	}
	// Equal width, 2 bins over [-1, 10]: numpy.histogram_bin_edges([-1,0,2.5,4,10], 2) = [-1, 4.5, 10].
	// Bins: (-inf,-1)=0, [-1,4.5)=4, [4.5,10)=0, [10,inf)=1.
	e, c = p.Binned("x", StrategyEqualWidth, 2)
	if !eq(e, []float64{-1, 4.5, 10}) || !eq(c, []float64{0, 4, 0, 1}) {
		t.Errorf("equal width: edges %v counts %v", e, c)
	}
	if e, c := p.Binned("plan", StrategyQuantile, 4); e != nil || c != nil {
		t.Errorf("categorical variable binned: %v %v", e, c)
	}
	for _, bins := range []int{0, -3, limits.MaxBins + 1, 1 << 40} {
		if e, c := p.Binned("x", StrategyQuantile, bins); e != nil || c != nil {
			t.Errorf("bins %d: %v %v", bins, e, c)
		}
	}
	// More distinct binnings than the memo keeps still answer.
	if 2*(limits.MaxBins-1) <= maxBinnings+20 {
		t.Fatal("the loop below must exceed the memo bound")
	}
	for _, strategy := range []string{StrategyEqualWidth, StrategyQuantile} {
		for bins := 2; bins <= limits.MaxBins; bins++ {
			if _, c := p.Binned("latency", strategy, bins); len(c) == 0 {
				t.Fatalf("%s bins %d: no counts", strategy, bins)
			}
		}
	}
}

// TestBinnedMatchesCounts checks the memoised reference counts (a binary search over the sorted
// reference) against stats.Counts (a per-value search) over the raw values, on seeded random data
// with nulls, ties and edges falling on data points.
func TestBinnedMatchesCounts(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 200; trial++ {
		n := 2 + r.IntN(300)
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(r.IntN(40)) / 4
			if r.IntN(20) == 0 {
				x[i] = math.NaN()
			}
		}
		b := &source.Batch{Model: "m", FeatureNames: []string{"x"},
			Features: map[string]*source.Column{"x": {Kind: source.Numeric, Num: x}}}
		p := NewPrepared("m", "", b, nil)
		strategy, bins := StrategyQuantile, 2+r.IntN(12)
		if trial%3 == 0 {
			strategy, bins = StrategyEqualWidth, 1+r.IntN(20)
		}
		edges, got := p.Binned("x", strategy, bins)
		if len(p.Sorted("x")) == 0 {
			continue
		}
		want := stats.Counts(edges, x, nil)
		if !eq(got, want) {
			t.Fatalf("%s/%d edges %v: Binned %v, stats.Counts %v", strategy, bins, edges, got, want)
		}
		total := 0.0
		for _, v := range got {
			total += v
		}
		if int(total) != len(p.Sorted("x")) {
			t.Fatalf("counts sum to %v, want %d", total, len(p.Sorted("x")))
		}
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestGetFetchesOnceUnderConcurrency(t *testing.T) {
	c := New(time.Minute)
	var fetches atomic.Int32
	release := make(chan struct{})
	fetch := func(ctx context.Context) (*source.Batch, error) {
		fetches.Add(1)
		<-release
		return refBatch(), nil
	}
	const n = 32
	var wg sync.WaitGroup
	results := make([]*Prepared, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p, err := c.Get(context.Background(), Key("churn", "v1"), fetch)
			if err != nil {
				t.Error(err)
			}
			results[i] = p
		}(i)
	}
	time.Sleep(20 * time.Millisecond) // let the goroutines pile up on the in-flight fetch
	close(release)
	wg.Wait()
	if fetches.Load() != 1 {
		t.Errorf("%d fetches, want 1", fetches.Load())
	}
	for _, p := range results {
		if p != results[0] {
			t.Fatal("callers got different references")
		}
	}
	if results[0].Model != "churn" || results[0].Version != "v1" {
		t.Errorf("Model/Version = %q/%q", results[0].Model, results[0].Version)
	}
	if _, err := c.Get(context.Background(), Key("churn", "v1"), fetch); err != nil || fetches.Load() != 1 {
		t.Errorf("a later Get fetched again (%d) or failed (%v)", fetches.Load(), err)
	}
}

func TestTTLExpiry(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	c := New(10*time.Minute, WithClock(clk.now))
	var fetches atomic.Int32
	fetch := func(ctx context.Context) (*source.Batch, error) { fetches.Add(1); return refBatch(), nil }
	p1, _ := c.Get(context.Background(), "k", fetch)
	clk.add(9 * time.Minute)
	p2, _ := c.Get(context.Background(), "k", fetch)
	if fetches.Load() != 1 || p1 != p2 {
		t.Fatalf("refetched before the TTL (%d fetches)", fetches.Load())
	}
	clk.add(time.Minute)
	p3, _ := c.Get(context.Background(), "k", fetch)
	if fetches.Load() != 2 || p3 == p1 {
		t.Fatalf("not refetched after the TTL (%d fetches)", fetches.Load())
	}
	if c.Len() != 1 {
		t.Errorf("Len = %d", c.Len())
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	c := New(time.Hour)
	var fetches atomic.Int32
	boom := errors.New("upstream down")
	fail := true
	fetch := func(ctx context.Context) (*source.Batch, error) {
		fetches.Add(1)
		if fail {
			return nil, boom
		}
		return refBatch(), nil
	}
	if _, err := c.Get(context.Background(), "k", fetch); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if c.Len() != 0 {
		t.Error("a failed fetch was kept")
	}
	fail = false
	if _, err := c.Get(context.Background(), "k", fetch); err != nil || fetches.Load() != 2 {
		t.Fatalf("err = %v, fetches = %d", err, fetches.Load())
	}
	// A nil batch is a missing reference; a panicking fetch is an error, not a hung cache.
	if _, err := c.Get(context.Background(), "nil", func(context.Context) (*source.Batch, error) { return nil, nil }); !errors.Is(err, source.ErrNoReference) {
		t.Errorf("nil batch: err = %v", err)
	}
	if _, err := c.Get(context.Background(), "panic", func(context.Context) (*source.Batch, error) { panic("bad") }); err == nil {
		t.Error("panicking fetch gave no error")
	}
	if _, err := c.Get(context.Background(), "panic", func(context.Context) (*source.Batch, error) { return refBatch(), nil }); err != nil {
		t.Errorf("after a panicking fetch: %v", err)
	}
}

func TestWaiterOutlivesCancelledFetcher(t *testing.T) {
	c := New(time.Hour)
	var fetches atomic.Int32
	started := make(chan struct{})
	release := make(chan struct{})
	fetch := func(ctx context.Context) (*source.Batch, error) {
		if fetches.Add(1) == 1 {
			close(started)
		}
		select {
		case <-release:
			return refBatch(), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	ctx1, cancel1 := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.Get(ctx1, "k", fetch); errc <- err }()
	<-started
	// A second caller waits on the first fetch, whose caller then gives up: the shared fetch
	// goes on for the second caller (its context is not the first caller's).
	got := make(chan *Prepared, 1)
	go func() {
		p, err := c.Get(context.Background(), "k", fetch)
		if err != nil {
			t.Error(err)
		}
		got <- p
	}()
	time.Sleep(20 * time.Millisecond)
	cancel1()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("first caller: %v", err)
	}
	close(release)
	if p := <-got; p == nil || fetches.Load() != 1 {
		t.Errorf("second caller: %v after %d fetches, want one shared fetch", p, fetches.Load())
	}
	if c.Len() != 1 {
		t.Errorf("the shared fetch was not kept (Len %d)", c.Len())
	}
	// A waiter whose own context ends stops waiting.
	block := make(chan struct{})
	defer close(block)
	go c.Get(context.Background(), "slow", func(context.Context) (*source.Batch, error) { <-block; return refBatch(), nil })
	time.Sleep(10 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Get(ctx, "slow", fetch); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiter with a deadline: %v", err)
	}
	// A shared fetch is bounded by the fetch timeout even when no caller is left.
	ct := New(time.Hour, WithFetchTimeout(20*time.Millisecond))
	if _, err := ct.Get(context.Background(), "hang", func(ctx context.Context) (*source.Batch, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("fetch timeout: %v", err)
	}
}

func TestLRUBound(t *testing.T) {
	c := New(time.Hour, WithMaxEntries(2))
	var fetches atomic.Int32
	fetch := func(ctx context.Context) (*source.Batch, error) { fetches.Add(1); return refBatch(), nil }
	get := func(k string) { c.Get(context.Background(), k, fetch) }
	get("a")
	get("b")
	get("a") // a is now the most recent
	get("c") // evicts b
	if c.Len() != 2 || fetches.Load() != 3 {
		t.Fatalf("Len %d fetches %d", c.Len(), fetches.Load())
	}
	get("a")
	if fetches.Load() != 3 {
		t.Error("the most recently used entry was evicted")
	}
	get("b")
	if fetches.Load() != 4 {
		t.Error("the least recently used entry was kept")
	}
}

func TestDisposeAndInvalidate(t *testing.T) {
	c := New(time.Hour)
	var fetches atomic.Int32
	fetch := func(ctx context.Context) (*source.Batch, error) { fetches.Add(1); return refBatch(), nil }
	c.Get(context.Background(), "a", fetch)
	c.Get(context.Background(), "b", fetch)
	c.Invalidate("a")
	c.Get(context.Background(), "a", fetch)
	if fetches.Load() != 3 {
		t.Errorf("Invalidate did not drop the entry (%d fetches)", fetches.Load())
	}
	c.Dispose()
	if c.Len() != 0 {
		t.Errorf("Len after Dispose = %d", c.Len())
	}
	p, err := c.Get(context.Background(), "a", fetch)
	if err != nil || p == nil || fetches.Load() != 4 || c.Len() != 0 {
		t.Errorf("Get after Dispose: %v %v, fetches %d, Len %d", p, err, fetches.Load(), c.Len())
	}
}

// fakeLog serves a reference per (model, version).
type fakeLog struct{ calls atomic.Int32 }

func (f *fakeLog) Models(context.Context) ([]source.Model, error) { return nil, nil }
func (f *fakeLog) Records(context.Context, source.RecordsRequest) (*source.Batch, error) {
	return nil, nil
}
func (f *fakeLog) Reference(_ context.Context, model, version string) (*source.Batch, error) {
	f.calls.Add(1)
	if model != "churn" {
		return nil, source.ErrUnknownModel
	}
	b := refBatch()
	b.Versions = []string{"v1", "v2"}
	return b, nil
}

func TestReferenceHelper(t *testing.T) {
	c := New(time.Hour)
	log := &fakeLog{}
	p, err := c.Reference(context.Background(), log, "churn", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Model != "churn" || p.Version != "" {
		t.Errorf("Model/Version = %q/%q", p.Model, p.Version)
	}
	c.Reference(context.Background(), log, "churn", "")
	c.Reference(context.Background(), log, "churn", "v2")
	if log.calls.Load() != 2 {
		t.Errorf("%d fetches, want 2 (one per version)", log.calls.Load())
	}
	if _, err := c.Reference(context.Background(), log, "nosuch", ""); !errors.Is(err, source.ErrUnknownModel) {
		t.Errorf("err = %v", err)
	}
}

// BenchmarkCachedBinned is the cost of a repeated drift evaluation's reference lookup: a cache
// hit plus memoised edges and counts for one feature of a 200,000-row reference.
//
//	go test ./pkg/refstats -run '^$' -bench CachedBinned
func BenchmarkCachedBinned(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 200_000)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	ref := &source.Batch{Model: "m", TS: make([]int64, len(x)), FeatureNames: []string{"x"},
		Features: map[string]*source.Column{"x": {Kind: source.Numeric, Num: x}}}
	c := New(time.Hour)
	fetch := func(context.Context) (*source.Batch, error) { return ref, nil }
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := c.Get(ctx, "m", fetch)
		if err != nil {
			b.Fatal(err)
		}
		if _, counts := p.Binned("x", StrategyQuantile, 10); len(counts) != 10 {
			b.Fatalf("%d bins", len(counts))
		}
	}
}

// refSample is the interface the query layer declares for a prepared reference.
type refSample interface {
	Rows() int
	Sorted(variable string) []float64
	Categories(variable string) (cats []string, counts []float64)
	Binned(variable, strategy string, bins int) (edges, counts []float64)
}

var _ refSample = (*Prepared)(nil)
