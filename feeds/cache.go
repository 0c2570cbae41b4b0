package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Key names one rendered feed. Everything that decides a feed's bytes is
// in it except the packages themselves, whose changes all reach the
// release stream (so the Invalidator empties the cache for them).
type Key struct {
	// Scope is whose feed it is: "public", or a partner's feed token.
	Scope  string
	Format Format
	// Filter is Filter.Query().
	Filter string
	// Fingerprint sums up what else the bytes depend on and what changes
	// without an announcement: which campaigns the audience may see (a
	// campaign made partners-only, an entitlement granted), their names.
	Fingerprint string
}

// Entry is a rendered feed, ready to serve.
type Entry struct {
	Body []byte
	// Gzip is Body compressed, made once so that every gzip answer is a
	// copy of bytes.
	Gzip []byte
	// ETag is strong: the SHA-256 of Body. GzipETag is that of the gzip
	// representation (a different byte sequence needs a different strong
	// validator).
	ETag, GzipETag string
	ContentType    string
	// Modified is when these bytes were first rendered on this replica;
	// rendering the same bytes again keeps it.
	Modified time.Time

	gen          uint64
	lastModified string // Modified as an HTTP date, made once
}

// setModified sets Modified (to whole seconds, as HTTP dates have them,
// so an If-Modified-Since compares exactly) and its header form.
func (e *Entry) setModified(t time.Time) {
	e.Modified = t.UTC().Truncate(time.Second)
	e.lastModified = e.Modified.Format(http.TimeFormat)
}

// newEntry computes an entry's validators and gzip form.
func newEntry(format Format, body []byte) (*Entry, error) {
	sum := sha256.Sum256(body)
	etag := hex.EncodeToString(sum[:])
	var z bytes.Buffer
	zw, err := gzip.NewWriterLevel(&z, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(body); err != nil {
		return nil, fmt.Errorf("gzip feed: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip feed: %w", err)
	}
	return &Entry{
		Body: body, Gzip: z.Bytes(), ETag: `"` + etag + `"`, GzipETag: `"` + etag + `-gzip"`,
		ContentType: format.ContentType(),
	}, nil
}

// CacheOptions configures a Cache.
type CacheOptions struct {
	// MaxBytes bounds the bytes kept (bodies and their gzip forms);
	// 0 means DefaultCacheBytes.
	MaxBytes int
	// Now is the clock, for Last-Modified; nil means time.Now.
	Now func() time.Time
}

// DefaultCacheBytes is enough for a few hundred feeds of 50 items.
const DefaultCacheBytes = 64 << 20

// Cache keeps rendered feeds until Invalidate. Invalidation does not drop
// entries: it starts a new generation, and an entry of an older one is
// rendered again before it is served, which lets a re-render that comes
// out byte for byte the same keep its Last-Modified. Concurrent requests
// for the same feed after an invalidation wait for one rendering.
//
// A cache keeps entries only while an Invalidator watches the release
// stream for it: before it starts, and if it stops, every Get renders, so
// that a feed is never older than the last announcement. A nil *Cache
// keeps nothing either.
type Cache struct {
	maxBytes int
	now      func() time.Time
	watched  atomic.Bool

	mu      sync.RWMutex
	gen     uint64
	entries map[Key]*Entry
	bytes   int
	flights map[flightKey]*flight
}

type flightKey struct {
	key Key
	gen uint64
}

// flight is one rendering that others wait for.
type flight struct {
	done  chan struct{}
	entry *Entry
	err   error
}

// NewCache returns an empty cache.
func NewCache(opts CacheOptions) *Cache {
	c := &Cache{maxBytes: opts.MaxBytes, now: opts.Now, entries: map[Key]*Entry{}, flights: map[flightKey]*flight{}}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultCacheBytes
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Invalidate makes every entry stale: the next request for each renders
// it again. The Invalidator calls it for every announcement.
func (c *Cache) Invalidate() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.gen++
	c.mu.Unlock()
}

// watch records whether an invalidator is watching the release stream
// for the cache; a change either way makes every entry stale.
func (c *Cache) watch(on bool) {
	c.watched.Store(on)
	c.Invalidate()
}

// Generation counts invalidations, for tests and metrics.
func (c *Cache) Generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// Get returns the current entry for key, rendering it with render when
// there is none of the current generation. A rendering runs to its end
// even if the request that started it goes away, since others may be
// waiting for it.
func (c *Cache) Get(ctx context.Context, key Key, render func(ctx context.Context) ([]byte, error)) (*Entry, error) {
	if c == nil || !c.watched.Load() {
		body, err := render(ctx)
		if err != nil {
			return nil, err
		}
		e, err := newEntry(key.Format, body)
		if err != nil {
			return nil, err
		}
		e.setModified(time.Now())
		return e, nil
	}
	c.mu.RLock()
	e, ok := c.entries[key]
	gen := c.gen
	c.mu.RUnlock()
	if ok && e.gen == gen {
		return e, nil
	}

	c.mu.Lock()
	gen = c.gen
	if e, ok := c.entries[key]; ok && e.gen == gen {
		c.mu.Unlock()
		return e, nil
	}
	fk := flightKey{key, gen}
	if f, ok := c.flights[fk]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.entry, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	c.flights[fk] = f
	c.mu.Unlock()

	f.entry, f.err = c.render(context.WithoutCancel(ctx), key, gen, render)
	c.mu.Lock()
	delete(c.flights, fk)
	c.mu.Unlock()
	close(f.done)
	return f.entry, f.err
}

// render renders key and stores the entry, stamped with the generation
// current when rendering began: if an invalidation came in between, the
// entry is stale at once and the next request renders again.
func (c *Cache) render(ctx context.Context, key Key, gen uint64, render func(context.Context) ([]byte, error)) (*Entry, error) {
	body, err := render(ctx)
	if err != nil {
		return nil, err
	}
	e, err := newEntry(key.Format, body)
	if err != nil {
		return nil, err
	}
	e.gen = gen
	e.setModified(c.now())
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.entries[key]; ok {
		switch {
		case prev.ETag == e.ETag:
			e.setModified(prev.Modified)
		case !e.Modified.After(prev.Modified):
			// Changed within the second prev was made in: a client holding
			// prev's Last-Modified must not be told nothing changed.
			e.setModified(prev.Modified.Add(time.Second))
		}
		c.bytes -= prev.size()
	}
	c.entries[key] = e
	c.bytes += e.size()
	c.evict(key)
	return e, nil
}

func (e *Entry) size() int { return len(e.Body) + len(e.Gzip) }

// evict drops entries until the cache fits, stale ones first, never the
// one just stored. Called with mu held.
func (c *Cache) evict(keep Key) {
	for _, staleOnly := range []bool{true, false} {
		for k, e := range c.entries {
			if c.bytes <= c.maxBytes {
				return
			}
			if k == keep || staleOnly && e.gen == c.gen {
				continue
			}
			delete(c.entries, k)
			c.bytes -= e.size()
		}
	}
}
