package refcache

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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

// Cache holds prepared references by key. It is safe for concurrent use: concurrent Gets of one
// key share a single fetch, failed fetches are not kept, entries older than the TTL are fetched
// again, and at most MaxEntries are kept.
type Cache struct {
	ttl    time.Duration
	max    int
	now    func() time.Time
	sortFn func([]float64)

	mu       sync.Mutex
	entries  map[string]*entry
	lru      *list.List // of *entry, most recently used first; only completed entries
	disposed bool
}

type entry struct {
	key     string
	done    chan struct{} // closed when the fetch has finished
	p       *Prepared
	err     error
	fetched time.Time
	elem    *list.Element
}

// New returns a cache whose entries live for ttl (ttl <= 0: until evicted or disposed).
func New(ttl time.Duration, opts ...Option) *Cache {
	c := &Cache{ttl: ttl, max: DefaultMaxEntries, now: time.Now, entries: map[string]*entry{}, lru: list.New()}
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
// Concurrent callers of one key wait for a single fetch; a caller whose context ends while
// waiting returns its context's error. A failed fetch is returned to the callers that waited for
// it and not kept. The Prepared's Model comes from the batch, its Version is the batch's single
// version (empty when it holds several).
func (c *Cache) Get(ctx context.Context, key string, fetch func(ctx context.Context) (*source.Batch, error)) (*Prepared, error) {
	return c.get(ctx, key, "", "", false, fetch)
}

func (c *Cache) get(ctx context.Context, key, model, version string, named bool, fetch func(ctx context.Context) (*source.Batch, error)) (*Prepared, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.disposed {
			c.mu.Unlock()
			// The instance is going away: answer without keeping anything.
			return c.prepare(ctx, model, version, named, fetch)
		}
		e := c.entries[key]
		if e != nil {
			select {
			case <-e.done:
				if c.ttl > 0 && c.now().Sub(e.fetched) >= c.ttl {
					c.removeLocked(e) // expired: fetch again below
					e = nil
				} else {
					c.lru.MoveToFront(e.elem)
					c.mu.Unlock()
					return e.p, nil
				}
			default:
				// In flight: wait for it without holding the lock.
				c.mu.Unlock()
				select {
				case <-e.done:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				if e.err == nil {
					return e.p, nil
				}
				if isContextErr(e.err) && ctx.Err() == nil {
					continue // the fetching caller gave up; this one still wants the answer
				}
				return nil, e.err
			}
		}
		e = &entry{key: key, done: make(chan struct{})}
		c.entries[key] = e
		c.mu.Unlock()

		e.p, e.err = c.prepare(ctx, model, version, named, fetch)
		c.mu.Lock()
		e.fetched = c.now()
		if c.entries[key] == e { // not disposed or replaced meanwhile
			if e.err != nil {
				delete(c.entries, key)
			} else {
				e.elem = c.lru.PushFront(e)
				c.evictLocked()
			}
		}
		close(e.done)
		c.mu.Unlock()
		return e.p, e.err
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

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (c *Cache) removeLocked(e *entry) {
	if c.entries[e.key] == e {
		delete(c.entries, e.key)
	}
	if e.elem != nil {
		c.lru.Remove(e.elem)
		e.elem = nil
	}
}

func (c *Cache) evictLocked() {
	for c.lru.Len() > c.max {
		c.removeLocked(c.lru.Back().Value.(*entry))
	}
}

// Len is the number of references kept.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Invalidate drops the reference under key, if any.
func (c *Cache) Invalidate(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[key]; e != nil {
		select {
		case <-e.done:
			c.removeLocked(e)
		default:
			delete(c.entries, key) // its fetch completes for its waiters but is not kept
		}
	}
}

// Dispose drops every reference; later Gets fetch without keeping anything.
func (c *Cache) Dispose() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.disposed = true
	c.entries = map[string]*entry{}
	c.lru.Init()
}
