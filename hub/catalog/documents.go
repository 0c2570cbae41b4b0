package catalog

import (
	"context"
	"encoding/json"
	"fmt"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsfault"
)

// DefaultDocumentCache is how many package documents a catalog keeps in
// memory for listings (about 5 KiB each, so some 10 MiB): the newest
// packages, which most listings show, and the ones changed lately.
const DefaultDocumentCache = 2048

// readParallel bounds the KV reads one listing page makes at once: a
// cold page of 500 is 500 reads, which in flight together cost about a
// round trip more than one.
const readParallel = 16

// documents keeps package documents by id, each with the KV revision it
// is of, in a cache of bounded size; a listing's page reads what the
// cache lacks (or holds at an older revision) from the bucket.
type documents struct {
	kv    jetstream.KeyValue
	cache *lru.Cache[string, cachedDocument]
}

type cachedDocument struct {
	rev uint64
	p   *hub.Package
}

func newDocuments(kv jetstream.KeyValue, size int) *documents {
	if size <= 0 {
		size = DefaultDocumentCache
	}
	cache, err := lru.New[string, cachedDocument](size)
	if err != nil {
		panic(err) // only for a size <= 0, excluded above
	}
	return &documents{kv: kv, cache: cache}
}

// keep caches p as revision rev of its package, unless a later one is.
// The cached package is shared with listings: nobody may change it.
func (d *documents) keep(id string, rev uint64, p *hub.Package) {
	if cur, ok := d.cache.Peek(id); ok && cur.rev >= rev {
		return
	}
	d.cache.Add(id, cachedDocument{rev, p})
}

func (d *documents) forget(id string) { d.cache.Remove(id) }

// read returns the documents of the candidates, in their order: from the
// cache when it holds the candidate's revision or a later one, else from
// the bucket (the latest, which may be newer than the index; the caller
// checks it against its filter again). A package deleted meanwhile is nil.
func (d *documents) read(ctx context.Context, cs []candidate) ([]*hub.Package, error) {
	out := make([]*hub.Package, len(cs))
	var missing []int
	for i, c := range cs {
		if cur, ok := d.cache.Get(c.facts.ID); ok && cur.rev >= c.rev {
			out[i] = cur.p
		} else {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readParallel)
	for _, i := range missing {
		id := cs[i].facts.ID
		g.Go(func() error {
			e, err := d.kv.Get(gctx, id)
			if natsfault.Missing(err) {
				return nil
			} else if err != nil {
				return fmt.Errorf("get package %s: %w", id, err)
			}
			var p hub.Package
			if err := json.Unmarshal(e.Value(), &p); err != nil {
				return fmt.Errorf("decode package %s: %w", id, err)
			}
			d.keep(id, e.Revision(), &p)
			out[i] = &p // each goroutine its own element
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
