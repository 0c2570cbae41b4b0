// Package memory is the hub's catalog kept in process memory: a second
// implementation of the ports in hub/catalog.go beside the JetStream one
// (hub/catalog), held to the same contract by hub/catalogtest. It lets the
// domain's rules (lifecycle, embargo, visibility, blob reference counts)
// be tested without NATS or HTTP. It is not a model of NATS: it keeps the
// same promises by its own means. Values are stored as JSON, as the
// JetStream catalog stores them, so both keep exactly the same fields and a
// caller can never change a stored value through a pointer it was given.
// Updates are revision-checked like the JetStream ones: fn runs without the
// lock held, and a write that lost a race reads again and retries.
package memory

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/syndication-hub/hub/hub"
)

// casAttempts bounds the retries of one revision-checked change, as in
// the JetStream catalog.
const casAttempts = 20

// Catalog is a hub.Catalog in memory. The zero value is not usable; call New.
type Catalog struct {
	mu sync.Mutex
	// rev numbers every write, so an update can tell whether its entry
	// changed since it was read.
	rev uint64

	packages  map[string]row[hub.Package]
	sorted    []*hub.Package // packages by id, for listings; nil when stale
	versions  map[string]map[int]*hub.Package
	blobs     map[string]hub.BlobRecord
	keys      map[string]row[hub.Key] // by secret hash
	campaigns map[string]row[hub.Campaign]
	partners  map[string]row[hub.Partner]
	webhooks  map[string]row[hub.Webhook]
	// deadLetters are by webhook id, then announcement id.
	deadLetters map[string]map[string]*hub.DeadLetter
	// scrubReports and renditions are by content sum.
	scrubReports map[string]*hub.ScrubReport
	renditions   map[string]row[hub.RenditionSet]
	// takedowns are by package id.
	takedowns map[string]row[hub.Takedown]
}

var _ hub.Catalog = (*Catalog)(nil)

// row is a stored value with the revision that wrote it. value is never
// changed once stored; readers get copies.
type row[T any] struct {
	rev   uint64
	value *T
}

// New returns an empty catalog.
func New() *Catalog {
	return &Catalog{
		packages: map[string]row[hub.Package]{}, versions: map[string]map[int]*hub.Package{},
		blobs: map[string]hub.BlobRecord{}, keys: map[string]row[hub.Key]{},
		campaigns: map[string]row[hub.Campaign]{}, partners: map[string]row[hub.Partner]{},
		webhooks: map[string]row[hub.Webhook]{}, deadLetters: map[string]map[string]*hub.DeadLetter{},
		scrubReports: map[string]*hub.ScrubReport{}, renditions: map[string]row[hub.RenditionSet]{},
		takedowns: map[string]row[hub.Takedown]{},
	}
}

// Check always answers: there is no store to lose.
func (c *Catalog) Check(ctx context.Context) error { return ctx.Err() }

// copyOf returns a deep copy of v through JSON, the form the JetStream
// catalog stores.
func copyOf[T any](v *T) (*T, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("decode %T: %w", v, err)
	}
	return out, nil
}

// create stores v under key unless the key is taken.
func create[T any](c *Catalog, table map[string]row[T], noun, key string, v *T) error {
	stored, err := copyOf(v)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := table[key]; ok {
		return hub.Errorf(hub.ECONFLICT, "%s %s exists", noun, key)
	}
	c.rev++
	table[key] = row[T]{c.rev, stored}
	c.sorted = nil
	return nil
}

// get returns a copy of the value under key.
func get[T any](c *Catalog, table map[string]row[T], noun, key string) (*T, error) {
	c.mu.Lock()
	r, ok := table[key]
	c.mu.Unlock()
	if !ok {
		return nil, hub.Errorf(hub.ENOTFOUND, "no %s %s", noun, key)
	}
	return copyOf(r.value)
}

// change lets fn change a copy of the value under key and stores it if
// nothing else was written there meanwhile; otherwise it starts over.
// With remove it deletes the entry instead, under the same check.
func change[T any](c *Catalog, table map[string]row[T], noun, key string, fn func(*T) error, remove bool) (*T, error) {
	for range casAttempts {
		c.mu.Lock()
		r, ok := table[key]
		c.mu.Unlock()
		if !ok {
			return nil, hub.Errorf(hub.ENOTFOUND, "no %s %s", noun, key)
		}
		v, err := copyOf(r.value)
		if err != nil {
			return nil, err
		}
		if err := fn(v); err != nil {
			return nil, err
		}
		stored, err := copyOf(v)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if cur, ok := table[key]; !ok || cur.rev != r.rev {
			c.mu.Unlock()
			continue // someone else wrote in between: read again
		}
		c.rev++
		if remove {
			delete(table, key)
		} else {
			table[key] = row[T]{c.rev, stored}
		}
		c.sorted = nil
		c.mu.Unlock()
		return v, nil
	}
	return nil, hub.Errorf(hub.ECONFLICT, "%s %s is being changed by someone else; try again", noun, key)
}

// list returns copies of every value, ordered by order.
func list[T any](c *Catalog, table map[string]row[T], order func(a, b *T) int) ([]*T, error) {
	c.mu.Lock()
	values := make([]*T, 0, len(table))
	for _, r := range table {
		values = append(values, r.value)
	}
	c.mu.Unlock()
	out := make([]*T, 0, len(values))
	for _, v := range values {
		cp, err := copyOf(v)
		if err != nil {
			return nil, err
		}
		out = append(out, cp)
	}
	slices.SortFunc(out, order)
	return out, nil
}

// CreatePackage records a new package.
func (c *Catalog) CreatePackage(ctx context.Context, p *hub.Package) error {
	return create(c, c.packages, "package", p.ID, p)
}

// Package returns a copy of the stored package.
func (c *Catalog) Package(ctx context.Context, id string) (*hub.Package, error) {
	return get(c, c.packages, "package", id)
}

// Listed is Package: this catalog's listings never lag.
func (c *Catalog) Listed(ctx context.Context, id string) (hub.ListingFacts, error) {
	p, err := c.Package(ctx, id)
	if err != nil {
		return hub.ListingFacts{}, err
	}
	return hub.FactsOf(p), nil
}

// UpdatePackage applies fn under a revision check, retrying on conflict.
func (c *Catalog) UpdatePackage(ctx context.Context, id string, fn func(p *hub.Package) error) (*hub.Package, error) {
	return change(c, c.packages, "package", id, fn, false)
}

// DeletePackage removes a package when fn allows it.
func (c *Catalog) DeletePackage(ctx context.Context, id string, fn func(p *hub.Package) error) (*hub.Package, error) {
	return change(c, c.packages, "package", id, fn, true)
}

// ListPackages scans every package in id order; the filter decides.
func (c *Catalog) ListPackages(ctx context.Context, f hub.Filter, q hub.PackageQuery) (hub.PackagePage, error) {
	c.mu.Lock()
	if c.sorted == nil {
		c.sorted = make([]*hub.Package, 0, len(c.packages))
		for _, r := range c.packages {
			c.sorted = append(c.sorted, r.value)
		}
		slices.SortFunc(c.sorted, func(a, b *hub.Package) int { return strings.Compare(a.ID, b.ID) })
	}
	// Stored values are never changed, so the slice can be scanned after
	// the lock is let go; a write makes a new one.
	all := c.sorted
	c.mu.Unlock()
	return hub.ScanPage(all, f, q), nil
}

// EachPackage calls fn on a copy of every package.
func (c *Catalog) EachPackage(ctx context.Context, fn func(p *hub.Package) error) error {
	c.mu.Lock()
	all := make([]*hub.Package, 0, len(c.packages))
	for _, r := range c.packages {
		all = append(all, r.value)
	}
	c.mu.Unlock()
	for _, stored := range all {
		p, err := copyOf(stored)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

// PutVersion archives a released version.
func (c *Catalog) PutVersion(ctx context.Context, p *hub.Package) error {
	v, err := copyOf(p)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.versions[p.ID] == nil {
		c.versions[p.ID] = map[int]*hub.Package{}
	}
	c.versions[p.ID][p.Version] = v
	return nil
}

// Version returns a copy of an archived version.
func (c *Catalog) Version(ctx context.Context, id string, n int) (*hub.Package, error) {
	c.mu.Lock()
	v, ok := c.versions[id][n]
	c.mu.Unlock()
	if !ok {
		return nil, hub.Errorf(hub.ENOTFOUND, "no version %d of %s", n, id)
	}
	return copyOf(v)
}

// DeleteVersions forgets every archived version of a package.
func (c *Catalog) DeleteVersions(ctx context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.versions, id)
	return nil
}

// AcquireBlob adds a reference, recording candidate for new content.
func (c *Catalog) AcquireBlob(ctx context.Context, sum string, candidate hub.BlobRecord) (hub.BlobRecord, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.blobs[sum]
	if !ok {
		rec = candidate
		rec.Refs = 0
	}
	rec.Refs++
	rec.Unheld = nil
	c.blobs[sum] = rec
	return rec, nil
}

// BlobRecords returns a copy of every blob record.
func (c *Catalog) BlobRecords(ctx context.Context) (map[string]hub.BlobRecord, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	recs := make(map[string]hub.BlobRecord, len(c.blobs))
	for sum, r := range c.blobs {
		recs[sum] = copyBlob(r)
	}
	return recs, nil
}

// UpdateBlob changes a blob record, removing it when fn leaves it no
// reference.
func (c *Catalog) UpdateBlob(ctx context.Context, sum string, fn func(rec *hub.BlobRecord) error) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.blobs[sum]
	if !ok {
		return "", hub.Errorf(hub.ENOTFOUND, "no blob record for %s", sum)
	}
	rec = copyBlob(rec)
	if err := fn(&rec); err != nil {
		return "", err
	}
	if rec.Refs <= 0 {
		delete(c.blobs, sum)
		return rec.Key, nil
	}
	c.blobs[sum] = rec
	return "", nil
}

// copyBlob copies a record with its sweep note, so callers share nothing
// with the catalog.
func copyBlob(r hub.BlobRecord) hub.BlobRecord {
	if r.Unheld != nil {
		u := *r.Unheld
		r.Unheld = &u
	}
	return r
}

// ReleaseBlob drops a reference and returns the blob key once none is left.
func (c *Catalog) ReleaseBlob(ctx context.Context, sum string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.blobs[sum]
	switch {
	case !ok:
		return "", nil
	case rec.Refs <= 1:
		delete(c.blobs, sum)
		return rec.Key, nil
	}
	rec.Refs--
	rec.Unheld = nil
	c.blobs[sum] = rec
	return "", nil
}

// CreateKey records a key under the hash of its secret.
func (c *Catalog) CreateKey(ctx context.Context, k *hub.Key) error {
	return create(c, c.keys, "key", k.Hash, k)
}

// KeyByHash returns the key with the given secret hash.
func (c *Catalog) KeyByHash(ctx context.Context, hash string) (*hub.Key, error) {
	return get(c, c.keys, "key", hash)
}

// Keys returns every key, oldest first.
func (c *Catalog) Keys(ctx context.Context) ([]*hub.Key, error) {
	return list(c, c.keys, func(a, b *hub.Key) int { return strings.Compare(a.ID, b.ID) })
}

// UpdateKey changes one key record under a revision check.
func (c *Catalog) UpdateKey(ctx context.Context, hash string, fn func(*hub.Key) error) (*hub.Key, error) {
	return change(c, c.keys, "key", hash, fn, false)
}

// DeleteKey removes every record (each secret) of the key with the given id.
func (c *Catalog) DeleteKey(ctx context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	found := false
	for hash, r := range c.keys {
		if r.value.ID == id {
			c.rev++
			delete(c.keys, hash)
			found = true
		}
	}
	if !found {
		return hub.Errorf(hub.ENOTFOUND, "no key %s", id)
	}
	return nil
}

// CreateCampaign records a campaign under its slug.
func (c *Catalog) CreateCampaign(ctx context.Context, camp *hub.Campaign) error {
	return create(c, c.campaigns, "campaign", camp.Slug, camp)
}

// Campaign returns the campaign with slug.
func (c *Catalog) Campaign(ctx context.Context, slug string) (*hub.Campaign, error) {
	return get(c, c.campaigns, "campaign", slug)
}

// Campaigns returns every campaign, by slug.
func (c *Catalog) Campaigns(ctx context.Context) ([]*hub.Campaign, error) {
	return list(c, c.campaigns, func(a, b *hub.Campaign) int { return strings.Compare(a.Slug, b.Slug) })
}

// UpdateCampaign changes a campaign under a revision check.
func (c *Catalog) UpdateCampaign(ctx context.Context, slug string, fn func(*hub.Campaign) error) (*hub.Campaign, error) {
	return change(c, c.campaigns, "campaign", slug, fn, false)
}

// CreatePartner records a partner under its id.
func (c *Catalog) CreatePartner(ctx context.Context, p *hub.Partner) error {
	return create(c, c.partners, "partner", p.ID, p)
}

// Partner returns the partner with id.
func (c *Catalog) Partner(ctx context.Context, id string) (*hub.Partner, error) {
	return get(c, c.partners, "partner", id)
}

// Partners returns every partner, oldest first.
func (c *Catalog) Partners(ctx context.Context) ([]*hub.Partner, error) {
	return list(c, c.partners, func(a, b *hub.Partner) int { return strings.Compare(a.ID, b.ID) })
}

// UpdatePartner changes a partner under a revision check.
func (c *Catalog) UpdatePartner(ctx context.Context, id string, fn func(*hub.Partner) error) (*hub.Partner, error) {
	return change(c, c.partners, "partner", id, fn, false)
}

// CreateWebhook records a webhook under its id.
func (c *Catalog) CreateWebhook(ctx context.Context, w *hub.Webhook) error {
	return create(c, c.webhooks, "webhook", w.ID, w)
}

// Webhook returns the webhook with id.
func (c *Catalog) Webhook(ctx context.Context, id string) (*hub.Webhook, error) {
	return get(c, c.webhooks, "webhook", id)
}

// Webhooks returns every webhook, oldest first.
func (c *Catalog) Webhooks(ctx context.Context) ([]*hub.Webhook, error) {
	return list(c, c.webhooks, func(a, b *hub.Webhook) int { return strings.Compare(a.ID, b.ID) })
}

// DeleteWebhook removes a webhook and its dead letters.
func (c *Catalog) DeleteWebhook(ctx context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.webhooks[id]; !ok {
		return hub.Errorf(hub.ENOTFOUND, "no webhook %s", id)
	}
	c.rev++
	delete(c.webhooks, id)
	delete(c.deadLetters, id)
	return nil
}

// PutDeadLetter records a dead letter, replacing one of the same
// announcement.
func (c *Catalog) PutDeadLetter(ctx context.Context, d *hub.DeadLetter) error {
	v, err := copyOf(d)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deadLetters[d.Webhook] == nil {
		c.deadLetters[d.Webhook] = map[string]*hub.DeadLetter{}
	}
	c.deadLetters[d.Webhook][d.MessageID] = v
	return nil
}

// DeadLetter returns one dead letter.
func (c *Catalog) DeadLetter(ctx context.Context, webhook, msgID string) (*hub.DeadLetter, error) {
	c.mu.Lock()
	d, ok := c.deadLetters[webhook][msgID]
	c.mu.Unlock()
	if !ok {
		return nil, hub.Errorf(hub.ENOTFOUND, "no dead letter %s of %s", msgID, webhook)
	}
	return copyOf(d)
}

// DeadLetters returns a webhook's dead letters, oldest failure first.
func (c *Catalog) DeadLetters(ctx context.Context, webhook string) ([]*hub.DeadLetter, error) {
	c.mu.Lock()
	var all []*hub.DeadLetter
	for _, d := range c.deadLetters[webhook] {
		all = append(all, d)
	}
	c.mu.Unlock()
	out := make([]*hub.DeadLetter, 0, len(all))
	for _, d := range all {
		cp, err := copyOf(d)
		if err != nil {
			return nil, err
		}
		out = append(out, cp)
	}
	slices.SortFunc(out, func(a, b *hub.DeadLetter) int {
		return cmp.Or(a.Failed.Compare(b.Failed), strings.Compare(a.MessageID, b.MessageID))
	})
	return out, nil
}

// DeleteDeadLetter removes a dead letter, if it is there.
func (c *Catalog) DeleteDeadLetter(ctx context.Context, webhook, msgID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.deadLetters[webhook], msgID)
	return nil
}

// PutScrubReport records a copy of the report for sum.
func (c *Catalog) PutScrubReport(ctx context.Context, sum string, r *hub.ScrubReport) error {
	cp, err := copyOf(r)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scrubReports[sum] = cp
	return nil
}

// ScrubReport returns a copy of the report for sum.
func (c *Catalog) ScrubReport(ctx context.Context, sum string) (*hub.ScrubReport, error) {
	c.mu.Lock()
	r, ok := c.scrubReports[sum]
	c.mu.Unlock()
	if !ok {
		return nil, hub.Errorf(hub.ENOTFOUND, "no scrub report for %s", sum)
	}
	return copyOf(r)
}

// DeleteScrubReport forgets the report for sum.
func (c *Catalog) DeleteScrubReport(ctx context.Context, sum string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.scrubReports, sum)
	return nil
}

// RenditionSet returns a copy of the set for sum.
func (c *Catalog) RenditionSet(ctx context.Context, sum string) (*hub.RenditionSet, error) {
	return get(c, c.renditions, "rendition set", sum)
}

// UpdateRenditionSet changes or creates the set for sum.
func (c *Catalog) UpdateRenditionSet(ctx context.Context, sum string, fn func(*hub.RenditionSet) error) (*hub.RenditionSet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	table := c.renditions
	cur := &hub.RenditionSet{}
	if r, ok := table[sum]; ok {
		var err error
		if cur, err = copyOf(r.value); err != nil {
			return nil, err
		}
	}
	if err := fn(cur); err != nil {
		return nil, err
	}
	stored, err := copyOf(cur)
	if err != nil {
		return nil, err
	}
	table[sum] = row[hub.RenditionSet]{rev: table[sum].rev + 1, value: stored}
	return cur, nil
}

// DeleteRenditionSet forgets the set for sum.
func (c *Catalog) DeleteRenditionSet(ctx context.Context, sum string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.renditions, sum)
	return nil
}

// RenditionSets returns copies of the sets of sums.
func (c *Catalog) RenditionSets(ctx context.Context, sums []string) map[string]*hub.RenditionSet {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]*hub.RenditionSet{}
	for _, sum := range sums {
		if r, ok := c.renditions[sum]; ok {
			if v, err := copyOf(r.value); err == nil {
				out[sum] = v
			}
		}
	}
	return out
}

// RenditionBlobKeys returns the blob keys of every stored rendition.
func (c *Catalog) RenditionBlobKeys(ctx context.Context) (map[string]bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := map[string]bool{}
	for _, row := range c.renditions {
		for _, r := range row.value.Renditions {
			if r.BlobKey != "" {
				keys[r.BlobKey] = true
			}
		}
	}
	return keys, nil
}

// Takedown returns a copy of the record of package id.
func (c *Catalog) Takedown(ctx context.Context, id string) (*hub.Takedown, error) {
	return get(c, c.takedowns, "takedown record", id)
}

// UpdateTakedown changes or creates the record of package id.
func (c *Catalog) UpdateTakedown(ctx context.Context, id string, fn func(*hub.Takedown) error) (*hub.Takedown, error) {
	for range casAttempts {
		c.mu.Lock()
		r, ok := c.takedowns[id]
		c.mu.Unlock()
		cur := &hub.Takedown{}
		if ok {
			var err error
			if cur, err = copyOf(r.value); err != nil {
				return nil, err
			}
		}
		if err := fn(cur); err != nil {
			return nil, err
		}
		stored, err := copyOf(cur)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if now, still := c.takedowns[id]; still != ok || now.rev != r.rev {
			c.mu.Unlock()
			continue // written meanwhile: start over
		}
		c.rev++
		c.takedowns[id] = row[hub.Takedown]{c.rev, stored}
		c.mu.Unlock()
		return cur, nil
	}
	return nil, hub.Errorf(hub.ECONFLICT, "the takedown record of %s is being changed by someone else; try again", id)
}
