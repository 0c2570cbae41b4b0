// Package catalog keeps the hub's metadata in NATS JetStream key-value
// buckets: one entry per package, per API key and per stored blob. Every
// write is revision-checked, so replicas sharing one NATS never overwrite
// each other. Each process also keeps an in-memory index of packages and
// keys, built from the buckets on open and kept current by a watch, so
// listings and key checks cost no round trip.
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsfault"
)

// Bucket names. They are part of the operator's view of the NATS account
// (and of the permissions a partner must never get).
const (
	PackagesBucket  = "hub_packages"
	KeysBucket      = "hub_keys"
	BlobsBucket     = "hub_blobs"
	VersionsBucket  = "hub_versions"
	CampaignsBucket = "hub_campaigns"
	PartnersBucket  = "hub_partners"
	// HealthBucket holds the one key /readyz writes to prove the catalog
	// takes writes; it is overwritten each time, so it never grows.
	HealthBucket = "hub_health"
)

// Options configures a Catalog.
type Options struct {
	// Replicas is the number of copies a NATS cluster keeps of each bucket;
	// 0 means 1 (the embedded server has only one).
	Replicas int
	Logger   *slog.Logger
	// StoreFailed, when set, returns the embedded NATS server's file store
	// write error ("" for none), so a write it never answers is EFULL.
	StoreFailed func() string
	// RenditionsChanged, when set, is told of every change of a rendition
	// set, made on any replica (the feed caches forget what they rendered).
	RenditionsChanged func(sum string)
	// SettleFor bounds how long a write whose outcome is unknown is
	// retried before it is answered so (see putRevised); 0 means 10 s.
	// Tests of that answer shorten it.
	SettleFor time.Duration
}

// Catalog is the hub.Catalog on JetStream KV: every port the domain uses.
type Catalog struct {
	js       jetstream.JetStream
	packages jetstream.KeyValue
	blobs    jetstream.KeyValue
	versions jetstream.KeyValue
	log      *slog.Logger

	keys      *records[hub.Key] // by SHA-256 of the secret
	campaigns *records[hub.Campaign]
	partners  *records[hub.Partner]

	// Webhooks are indexed; dead letters are read from their bucket.
	webhooks    *records[hub.Webhook]
	deadLetters jetstream.KeyValue
	health      jetstream.KeyValue
	// idempotency holds the outcome of creates sent with an
	// Idempotency-Key, expiring after hub.IdempotencyTTL.
	idempotency jetstream.KeyValue
	// scrubReports holds each stored blob's scrub report, by content sum.
	scrubReports jetstream.KeyValue
	// renditions holds each stored blob's rendition set, indexed: views
	// of packages read it for every asset.
	renditions *records[hub.RenditionSet]
	// sessions and signinLinks are the web portal's (see sessions.go).
	sessions    *records[hub.Session]
	signinLinks *records[hub.SigninLink]
	// takedowns holds the takedown record of each package a kill notice
	// went out for, by package id.
	takedowns jetstream.KeyValue

	mu       sync.RWMutex
	pkgIndex map[string]indexed[*hub.Package]
	sorted   []*hub.Package // cache of pkgIndex by id; nil when stale

	stop    context.CancelFunc
	stopped sync.WaitGroup
}

// indexed is an index entry with the KV revision it came from, so a late
// watch event never replaces a newer local write.
type indexed[T any] struct {
	rev   uint64
	value T
}

var _ hub.Catalog = (*Catalog)(nil)

// Open creates the buckets when missing, loads the index and starts the
// watches that keep it current. Close stops them.
func Open(ctx context.Context, js jetstream.JetStream, opts Options) (*Catalog, error) {
	if opts.Replicas == 0 {
		opts.Replicas = 1
	}
	if opts.SettleFor <= 0 {
		opts.SettleFor = defaultSettleFor
	}
	c := &Catalog{
		js:       js,
		log:      opts.Logger,
		pkgIndex: map[string]indexed[*hub.Package]{},
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	var campaigns, partners jetstream.KeyValue
	var keys, webhooks, renditions, sessions, links jetstream.KeyValue
	for _, b := range []struct {
		name string
		kv   *jetstream.KeyValue
		desc string
		ttl  time.Duration
	}{
		{PackagesBucket, &c.packages, "syndication hub: packages, working copy and live version", 0},
		{KeysBucket, &keys, "syndication hub: API keys, by SHA-256 of the secret", 0},
		{BlobsBucket, &c.blobs, "syndication hub: stored content by SHA-256, with reference counts", 0},
		{VersionsBucket, &c.versions, "syndication hub: every released version of every package", 0},
		{CampaignsBucket, &campaigns, "syndication hub: campaigns", 0},
		{PartnersBucket, &partners, "syndication hub: partner outlets and their entitlements", 0},
		{WebhooksBucket, &webhooks, "syndication hub: partners' webhook endpoints and their signing secrets", 0},
		{DeadLettersBucket, &c.deadLetters, "syndication hub: announcements a webhook did not accept, for replay", 0},
		{HealthBucket, &c.health, "syndication hub: the key the readiness probe writes", 0},
		{IdempotencyBucket, &c.idempotency, "syndication hub: outcomes of creates sent with an Idempotency-Key", hub.IdempotencyTTL},
		{ScrubReportsBucket, &c.scrubReports, "syndication hub: what scrubbing removed from each stored blob, by SHA-256", 0},
		{RenditionsBucket, &renditions, "syndication hub: the renditions of each stored blob, by SHA-256", 0},
		// The TTL only clears what nobody signed out of: every use
		// rewrites a session within minutes, and the domain ends it by
		// its own limits long before.
		{SessionsBucket, &sessions, "syndication hub: web portal sessions, by SHA-256 of the cookie's secret", hub.SessionAbsoluteLifetime + time.Hour},
		{SigninLinksBucket, &links, "syndication hub: sign-in links for the web portal, by SHA-256 of the token", 0},
		{TakedownsBucket, &c.takedowns, "syndication hub: which outlets confirmed taking down a withdrawn or purged package, ids and times only", 0},
	} {
		cfg := jetstream.KeyValueConfig{
			Bucket: b.name, Description: b.desc, History: 1, TTL: b.ttl,
			Storage: jetstream.FileStorage, Replicas: opts.Replicas,
		}
		// Create first and update only an existing bucket: on a fresh
		// cluster, replicas starting together hang (server 2.12 to 2.15)
		// when one's update meets another's create of the same stream.
		kv, err := js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.UpdateKeyValue(ctx, cfg)
		}
		if err != nil {
			return nil, fmt.Errorf("open bucket %s: %w", b.name, err)
		}
		*b.kv = classified{kv, opts.StoreFailed, opts.SettleFor}
	}

	c.keys = newRecords[hub.Key](js, keys, "key", c.log)
	c.campaigns = newRecords[hub.Campaign](js, campaigns, "campaign", c.log)
	c.partners = newRecords[hub.Partner](js, partners, "partner", c.log)
	c.webhooks = newRecords[hub.Webhook](js, webhooks, "webhook", c.log)
	c.renditions = newRecords[hub.RenditionSet](js, renditions, "rendition set", c.log)
	c.renditions.changed = opts.RenditionsChanged
	c.sessions = newRecords[hub.Session](js, sessions, "session", c.log)
	c.signinLinks = newRecords[hub.SigninLink](js, links, "sign-in link", c.log)

	watchCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c.stop = stop
	var readies []chan struct{}
	for _, w := range []struct {
		kv    jetstream.KeyValue
		apply func(jetstream.KeyValueEntry)
	}{
		{c.packages, c.applyPackage}, {keys, c.keys.apply},
		{campaigns, c.campaigns.apply}, {partners, c.partners.apply},
		{webhooks, c.webhooks.apply}, {renditions, c.renditions.apply},
		{sessions, c.sessions.apply}, {links, c.signinLinks.apply},
	} {
		ready, err := watch(watchCtx, c, w.kv, w.apply)
		if err != nil {
			stop()
			c.stopped.Wait()
			return nil, err
		}
		readies = append(readies, ready)
	}
	for _, ready := range readies {
		select {
		case <-ready:
		case <-ctx.Done():
			c.Close()
			return nil, fmt.Errorf("load catalog index: %w", ctx.Err())
		}
	}
	return c, nil
}

// Close stops the watches.
func (c *Catalog) Close() error {
	c.stop()
	c.stopped.Wait()
	return nil
}

// watch feeds every entry of kv to apply, first the current ones (closing
// the returned channel when those are done), then each change.
func watch(ctx context.Context, c *Catalog, kv jetstream.KeyValue, apply func(jetstream.KeyValueEntry)) (chan struct{}, error) {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch bucket %s: %w", kv.Bucket(), err)
	}
	ready := make(chan struct{})
	c.stopped.Add(1)
	go func() {
		defer c.stopped.Done()
		defer w.Stop()
		initial := true
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil {
					if initial {
						initial = false
						close(ready)
					}
					continue
				}
				apply(e)
			}
		}
	}()
	return ready, nil
}

func (c *Catalog) applyPackage(e jetstream.KeyValueEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.pkgIndex[e.Key()]; ok && cur.rev >= e.Revision() {
		return
	}
	if e.Operation() != jetstream.KeyValuePut {
		delete(c.pkgIndex, e.Key())
		c.sorted = nil
		return
	}
	var p hub.Package
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		c.log.Error("skip unreadable package entry", "key", e.Key(), "err", err)
		return
	}
	c.pkgIndex[e.Key()] = indexed[*hub.Package]{e.Revision(), &p}
	c.sorted = nil
}

// indexPackage records a write this process made, so its own next listing
// shows it without waiting for the watch.
func (c *Catalog) indexPackage(id string, rev uint64, p *hub.Package) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.pkgIndex[id]; ok && cur.rev >= rev {
		return
	}
	if p == nil {
		// A deletion: keep the revision as a marker so an older watch event
		// does not bring the package back.
		c.pkgIndex[id] = indexed[*hub.Package]{rev, nil}
	} else {
		c.pkgIndex[id] = indexed[*hub.Package]{rev, p.Clone()}
	}
	c.sorted = nil
}

// healthKey is the one key of HealthBucket.
const healthKey = "probe"

// Check reports whether the catalog takes writes: it asks for the packages
// bucket's state and overwrites the health bucket's one key (a stuck or
// full JetStream fails here, not only in someone's write).
func (c *Catalog) Check(ctx context.Context) error {
	if _, err := c.packages.Status(ctx); err != nil {
		return fmt.Errorf("packages bucket: %w", err)
	}
	if _, err := c.health.Put(ctx, healthKey, []byte(time.Now().UTC().Format(time.RFC3339Nano))); err != nil {
		return fmt.Errorf("write probe: %w", err)
	}
	return nil
}

// CreatePackage records a new package.
func (c *Catalog) CreatePackage(ctx context.Context, p *hub.Package) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode package: %w", err)
	}
	rev, err := putRevised(ctx, c.packages, c.js, "package", p.ID, b, 0)
	if natsfault.Conflict(err) {
		return hub.Errorf(hub.ECONFLICT, "package %s exists", p.ID)
	} else if err != nil {
		return fmt.Errorf("create package %s: %w", p.ID, err)
	}
	c.indexPackage(p.ID, rev, p)
	return nil
}

// Package reads a package from the bucket.
func (c *Catalog) Package(ctx context.Context, id string) (*hub.Package, error) {
	p, _, err := c.readPackage(ctx, id)
	return p, err
}

func (c *Catalog) readPackage(ctx context.Context, id string) (*hub.Package, uint64, error) {
	if !validKey(id) {
		return nil, 0, hub.Errorf(hub.ENOTFOUND, "no package %s", id)
	}
	e, err := c.packages.Get(ctx, id)
	if natsfault.Missing(err) {
		return nil, 0, hub.Errorf(hub.ENOTFOUND, "no package %s", id)
	} else if err != nil {
		return nil, 0, fmt.Errorf("get package %s: %w", id, err)
	}
	var p hub.Package
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		return nil, 0, fmt.Errorf("decode package %s: %w", id, err)
	}
	return &p, e.Revision(), nil
}

// casAttempts bounds the retries of one revision-checked change; reaching
// it means something writes the same package in a loop.
const casAttempts = 20

// UpdatePackage applies fn under a revision check, retrying on conflict.
func (c *Catalog) UpdatePackage(ctx context.Context, id string, fn func(p *hub.Package) error) (*hub.Package, error) {
	return c.changePackage(ctx, id, fn, func(p *hub.Package, rev uint64) error {
		b, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("encode package: %w", err)
		}
		newRev, err := putRevised(ctx, c.packages, c.js, "package", id, b, rev)
		if err != nil {
			return err
		}
		c.indexPackage(id, newRev, p)
		return nil
	})
}

// DeletePackage removes a package when fn allows it.
func (c *Catalog) DeletePackage(ctx context.Context, id string, fn func(p *hub.Package) error) (*hub.Package, error) {
	return c.changePackage(ctx, id, fn, func(_ *hub.Package, rev uint64) error {
		if err := deleteRevised(ctx, c.packages, c.js, "package", id, rev); err != nil {
			return err
		}
		c.indexPackage(id, rev+1, nil)
		return nil
	})
}

// changePackage reads the package, lets fn decide on it, and has write
// store the outcome under the revision it read; another writer in between
// makes it start over.
func (c *Catalog) changePackage(ctx context.Context, id string, fn func(*hub.Package) error, write func(p *hub.Package, rev uint64) error) (*hub.Package, error) {
	for range casAttempts {
		p, rev, err := c.readPackage(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := fn(p); err != nil {
			return nil, err
		}
		err = write(p, rev)
		if natsfault.Conflict(err) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("change package %s: %w", id, err)
		}
		return p, nil
	}
	return nil, hub.Errorf(hub.ECONFLICT, "package %s is being changed by someone else; try again", id)
}

// ListPackages answers a listing from the in-memory index, which another
// replica's writes reach through the watch a moment later. It scans the
// index in id order; the filter, not the visibility rule package by
// package, decides what is in it.
func (c *Catalog) ListPackages(ctx context.Context, f hub.Filter, q hub.PackageQuery) (hub.PackagePage, error) {
	all, err := c.Packages(ctx)
	if err != nil {
		return hub.PackagePage{}, err
	}
	return hub.ScanPage(all, f, q), nil
}

// Listed returns package id as the index knows it.
func (c *Catalog) Listed(ctx context.Context, id string) (*hub.Package, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if e, ok := c.pkgIndex[id]; ok && e.value != nil {
		return e.value.Clone(), nil
	}
	return nil, hub.Errorf(hub.ENOTFOUND, "no package %s", id)
}

// Packages returns the indexed packages, oldest id first, for listings and
// for tests that look at everything. The slice and the packages are
// shared: callers must not change them.
func (c *Catalog) Packages(ctx context.Context) ([]*hub.Package, error) {
	c.mu.RLock()
	if c.sorted != nil {
		defer c.mu.RUnlock()
		return c.sorted, nil
	}
	c.mu.RUnlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sorted == nil {
		sorted := make([]*hub.Package, 0, len(c.pkgIndex))
		for _, e := range c.pkgIndex {
			if e.value != nil {
				sorted = append(sorted, e.value)
			}
		}
		slices.SortFunc(sorted, func(a, b *hub.Package) int { return strings.Compare(a.ID, b.ID) })
		c.sorted = sorted
	}
	return c.sorted, nil
}
