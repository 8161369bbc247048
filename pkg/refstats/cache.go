package refstats

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// DefaultMaxEntries bounds the number of references kept per instance.
const DefaultMaxEntries = 32

// Option configures a Cache.
type Option func(*Cache)

// WithClock sets the clock used for the TTL (tests).
func WithClock(now func() time.Time) Option { return func(c *Cache) { c.now = now } }

// WithMaxEntries bounds the number of references kept; the least recently used goes first.
func WithMaxEntries(n int) Option {
	return func(c *Cache) {
		if n > 0 {
			c.max = n
		}
	}
}

// WithSort sets the function that sorts reference values (default stats.SortFloat64s).
func WithSort(sortFn func([]float64)) Option { return func(c *Cache) { c.sortFn = sortFn } }

// WithFetchTimeout bounds one shared fetch (default limits.MaxTimeout).
func WithFetchTimeout(d time.Duration) Option {
	return func(c *Cache) {
		if d > 0 {
			c.fetchTimeout = d
		}
	}
}

// Cache holds prepared references by key. It is safe for concurrent use: concurrent Gets of one
// key share a single fetch (singleflight), failed fetches are not kept, entries older than the
// TTL are fetched again, and at most MaxEntries are kept.
//
// A shared fetch does not belong to the caller that started it: it runs with that caller's values
// but not its cancellation (bounded by the fetch timeout), so a panel closed while its reference
// loads neither fails the other panels waiting for it nor wastes the work; each caller stops
// waiting when its own context ends.
type Cache struct {
	ttl          time.Duration
	max          int
	now          func() time.Time
	sortFn       func([]float64)
	fetchTimeout time.Duration

	group singleflight.Group

	mu       sync.Mutex
	entries  map[string]*list.Element // of *entry
	lru      *list.List               // most recently used first
	gen      uint64                   // bumped by Invalidate and Dispose: older fetches are not kept
	disposed bool
}

type entry struct {
	key     string
	p       *Prepared
	fetched time.Time
}

// New returns a cache whose entries live for ttl (ttl <= 0: until evicted or disposed).
func New(ttl time.Duration, opts ...Option) *Cache {
	c := &Cache{ttl: ttl, max: DefaultMaxEntries, now: time.Now, fetchTimeout: limits.MaxTimeout,
		entries: map[string]*list.Element{}, lru: list.New()}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Key is the cache key of a model's reference (version "" for all versions).
func Key(model, version string) string { return model + "\x00" + version }

// Reference returns the prepared reference of a model from log, fetching it on a miss.
func (c *Cache) Reference(ctx context.Context, log source.PredictionLog, model, version string) (*Prepared, error) {
	return c.get(ctx, Key(model, version), model, version, true, func(ctx context.Context) (*source.Batch, error) {
		return log.Reference(ctx, model, version)
	})
}

// Get returns the prepared reference under key, calling fetch on a miss or after the TTL.
// Concurrent callers of one key share a single fetch; a caller whose context ends while waiting
// returns its context's error. A failed fetch is returned to the callers that waited for it and
// not kept. The Prepared's Model comes from the batch, its Version is the batch's single version
// (empty when it holds several).
func (c *Cache) Get(ctx context.Context, key string, fetch func(ctx context.Context) (*source.Batch, error)) (*Prepared, error) {
	return c.get(ctx, key, "", "", false, fetch)
}

func (c *Cache) get(ctx context.Context, key, model, version string, named bool, fetch func(ctx context.Context) (*source.Batch, error)) (*Prepared, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.disposed {
		c.mu.Unlock()
		// The instance is going away: answer without keeping anything.
		return c.prepare(ctx, model, version, named, fetch)
	}
	if el := c.entries[key]; el != nil {
		e := el.Value.(*entry)
		if c.ttl <= 0 || c.now().Sub(e.fetched) < c.ttl {
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			return e.p, nil
		}
		c.removeLocked(el) // expired: fetch again
	}
	gen := c.gen
	c.mu.Unlock()

	ch := c.group.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.fetchTimeout)
		defer cancel()
		p, err := c.prepare(fctx, model, version, named, fetch)
		if err == nil {
			c.store(key, p, gen)
		}
		return p, err
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Prepared), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// store keeps p under key unless the cache was invalidated or disposed since the fetch started.
func (c *Cache) store(key string, p *Prepared, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.disposed || c.gen != gen {
		return
	}
	if el := c.entries[key]; el != nil {
		c.removeLocked(el)
	}
	c.entries[key] = c.lru.PushFront(&entry{key: key, p: p, fetched: c.now()})
	for c.lru.Len() > c.max {
		c.removeLocked(c.lru.Back())
	}
}

func (c *Cache) prepare(ctx context.Context, model, version string, named bool, fetch func(ctx context.Context) (*source.Batch, error)) (p *Prepared, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("reference fetch failed: %v", r)
		}
	}()
	b, err := fetch(ctx)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("reference of %q: %w", model, source.ErrNoReference)
	}
	if !named {
		model = b.Model
		if len(b.Versions) == 1 {
			version = b.Versions[0]
		}
	}
	return NewPrepared(model, version, b, c.sortFn), nil
}

func (c *Cache) removeLocked(el *list.Element) {
	e := el.Value.(*entry)
	if c.entries[e.key] == el {
		delete(c.entries, e.key)
	}
	c.lru.Remove(el)
}

// Len is the number of references kept.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Invalidate drops the reference under key, if any; a fetch in flight completes for its waiters
// but is not kept.
func (c *Cache) Invalidate(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if el := c.entries[key]; el != nil {
		c.removeLocked(el)
	}
	c.group.Forget(key)
}

// Dispose drops every reference; later Gets fetch without keeping anything.
func (c *Cache) Dispose() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.disposed = true
	c.gen++
	c.entries = map[string]*list.Element{}
	c.lru.Init()
}
