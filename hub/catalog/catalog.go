// Package catalog keeps the hub's metadata in NATS JetStream key-value
// buckets: one entry per package, per API key and per stored blob. Every
// write is revision-checked, so replicas sharing one NATS never overwrite
// each other. Each process also keeps in memory an index of what listings
// ask of every package (listindex.go), a bounded cache of package
// documents (documents.go), and the small records (keys, campaigns,
// partners), all built from the buckets on open and kept current by a
// watch, so key checks cost no round trip and a listing only the reads
// of the documents its page shows that the cache lacks.
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
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
	// SnapshotPath, when set, is a file on this replica's disk where the
	// listing index is kept between starts (see snapshot.go): Open loads
	// it and asks the bucket only for what changed since. "" rebuilds the
	// index from the whole bucket on every start.
	SnapshotPath string
	// SnapshotEvery is how often a changed index is written to
	// SnapshotPath; 0 means DefaultSnapshotEvery. Close writes it too.
	SnapshotEvery time.Duration
	// LoadStall fails Open when the watches deliver nothing for this
	// long while the indexes load; 0 means DefaultLoadStall. The load
	// itself has no bound: it follows the catalog's size.
	LoadStall time.Duration
	// DocumentCache is how many package documents are kept in memory for
	// listings; 0 means DefaultDocumentCache.
	DocumentCache int
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

	listings  *listIndex
	documents *documents
	// loaded is set once the packages watch has delivered every entry
	// the bucket held on open.
	loaded atomic.Bool
	// watched is the revision of the last package change the watch
	// delivered (and the index applied): a snapshot reflects it.
	watched atomic.Uint64
	// replayed counts the package entries the watch delivered before it
	// was current: the whole bucket, or what changed since the snapshot.
	replayed atomic.Int64
	// delivered counts the entries every watch delivered: a start's
	// progress, whichever bucket it is loading.
	delivered    atomic.Int64
	snapshotPath string
	bucket       bucketIdentity
	// replay is the packages watch's decoders until it is current.
	replay *replay

	stop    context.CancelFunc
	stopped sync.WaitGroup
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
	if opts.SnapshotEvery <= 0 {
		opts.SnapshotEvery = DefaultSnapshotEvery
	}
	if opts.LoadStall <= 0 {
		opts.LoadStall = DefaultLoadStall
	}
	c := &Catalog{js: js, log: opts.Logger, listings: newListIndex(), snapshotPath: opts.SnapshotPath}
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
		if opts.Replicas > 1 {
			kv = readFromLeader(js, kv)
		}
		*b.kv = classified{kv, opts.StoreFailed, opts.SettleFor}
	}

	c.documents = newDocuments(c.packages, opts.DocumentCache)
	c.keys = newRecords[hub.Key](js, keys, "key", c.log)
	c.campaigns = newRecords[hub.Campaign](js, campaigns, "campaign", c.log)
	c.partners = newRecords[hub.Partner](js, partners, "partner", c.log)
	c.webhooks = newRecords[hub.Webhook](js, webhooks, "webhook", c.log)
	c.renditions = newRecords[hub.RenditionSet](js, renditions, "rendition set", c.log)
	c.renditions.changed = opts.RenditionsChanged
	c.sessions = newRecords[hub.Session](js, sessions, "session", c.log)
	c.signinLinks = newRecords[hub.SigninLink](js, links, "sign-in link", c.log)

	started := time.Now()
	resume := c.resumeFromSnapshot(ctx)
	watchCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c.stop = stop
	var readies []chan struct{}
	c.replay = newReplay(c)
	for _, w := range []struct {
		kv      jetstream.KeyValue
		apply   func(jetstream.KeyValueEntry)
		current func()
		opts    []jetstream.WatchOpt
	}{
		{c.packages, c.watchPackage, c.replayDone, resume}, {keys, c.keys.apply, nil, nil},
		{campaigns, c.campaigns.apply, nil, nil}, {partners, c.partners.apply, nil, nil},
		{webhooks, c.webhooks.apply, nil, nil}, {renditions, c.renditions.apply, nil, nil},
		{sessions, c.sessions.apply, nil, nil}, {links, c.signinLinks.apply, nil, nil},
	} {
		ready, err := watch(watchCtx, c, w.kv, w.apply, w.current, w.opts...)
		if err != nil {
			stop()
			c.stopped.Wait()
			return nil, err
		}
		readies = append(readies, ready)
	}
	for i, ready := range readies {
		if err := c.waitLoaded(ctx, ready, opts.LoadStall); err != nil {
			c.Close()
			return nil, err
		}
		if i == 0 {
			c.loaded.Store(true) // the packages watch is first
			c.log.Info("listing index loaded", "packages", c.listings.size(), "from_snapshot", resume != nil, "replayed", c.replayed.Load(),
				"revision", c.watched.Load(), "took", time.Since(started).Round(time.Millisecond))
		}
	}
	if c.snapshotPath != "" {
		c.stopped.Add(1)
		go func() {
			defer c.stopped.Done()
			c.keepSnapshot(watchCtx, opts.SnapshotEvery, resume == nil)
		}()
	}
	return c, nil
}

// waitLoaded waits until a watch has delivered what its bucket held, for
// as long as the watches keep delivering: a large catalog (its packages,
// or the rendition sets of its pictures) takes as long as it takes, a
// stalled one fails after stall without an entry.
func (c *Catalog) waitLoaded(ctx context.Context, ready chan struct{}, stall time.Duration) error {
	t := time.NewTicker(stall)
	defer t.Stop()
	seen := c.delivered.Load()
	for {
		select {
		case <-ready:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("load catalog index: %w", ctx.Err())
		case <-t.C:
			now := c.delivered.Load()
			if now == seen {
				return fmt.Errorf("load catalog index: no entry for %v after %d", stall, now)
			}
			seen = now
		}
	}
}

// DefaultLoadStall is how long a start waits for a watch to deliver its
// next entry before giving up.
const DefaultLoadStall = 30 * time.Second

// DefaultSnapshotEvery is how often a changed listing index is written to
// its snapshot: a crash loses at most this much of the snapshot's lead,
// which the next start reads from the bucket instead.
const DefaultSnapshotEvery = time.Minute

// Close stops the watches and writes the listing snapshot a last time.
func (c *Catalog) Close() error {
	c.stop()
	c.stopped.Wait()
	if c.snapshotPath != "" && c.loaded.Load() {
		c.writeSnapshot()
	}
	return nil
}

// resumeFromSnapshot loads the listing snapshot when there is one that
// fits the packages bucket, and returns the watch option that resumes
// from the revision after it; nil when the watch must read the whole
// bucket.
func (c *Catalog) resumeFromSnapshot(ctx context.Context) []jetstream.WatchOpt {
	if c.snapshotPath == "" {
		return nil
	}
	stream, err := c.js.Stream(ctx, "KV_"+PackagesBucket)
	if err != nil {
		c.log.Warn("listing snapshot not used: packages bucket unreadable", "err", err)
		return nil
	}
	info := stream.CachedInfo()
	c.bucket = bucketIdentity{Bucket: PackagesBucket, Created: info.Created, LastRev: info.State.LastSeq}
	rev, err := c.listings.readSnapshot(c.snapshotPath, c.bucket)
	if err != nil {
		c.listings = newListIndex()
		if !isMissing(err) {
			c.log.Warn("listing snapshot not used: reading the whole bucket", "path", c.snapshotPath, "err", err)
		}
		return nil
	}
	c.watched.Store(rev)
	return []jetstream.WatchOpt{jetstream.ResumeFromRevision(rev + 1)}
}

// keepSnapshot writes the listing snapshot every so often while the index
// changes, and at once after a start that read the whole bucket.
func (c *Catalog) keepSnapshot(ctx context.Context, every time.Duration, now bool) {
	written := uint64(0)
	if !now {
		written = c.watched.Load()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if rev := c.watched.Load(); rev != written {
			c.writeSnapshot()
			written = rev
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// writeSnapshot writes the listing snapshot as of the last revision the
// watch delivered. The entries may be newer than that (a replica's own
// writes are indexed before the watch brings them): the next start then
// reads those again, which changes nothing.
func (c *Catalog) writeSnapshot() {
	rev := c.watched.Load()
	started := time.Now()
	if err := c.listings.writeSnapshot(c.snapshotPath, c.bucket, rev); err != nil {
		c.log.Warn("listing snapshot not written", "err", err)
		return
	}
	c.log.Debug("listing snapshot written", "revision", rev, "took", time.Since(started).Round(time.Millisecond))
}

// watch feeds every entry of kv to apply, first the current ones (closing
// the returned channel when those are done), then each change.
// current, when set, is called once the current entries are delivered,
// before the channel closes (and when the watch ends before that).
func watch(ctx context.Context, c *Catalog, kv jetstream.KeyValue, apply func(jetstream.KeyValueEntry), current func(), opts ...jetstream.WatchOpt) (chan struct{}, error) {
	w, err := kv.WatchAll(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("watch bucket %s: %w", kv.Bucket(), err)
	}
	ready := make(chan struct{})
	c.stopped.Add(1)
	go func() {
		defer c.stopped.Done()
		defer w.Stop()
		initial := true
		defer func() {
			if initial && current != nil {
				current()
			}
		}()
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
						if current != nil {
							current()
						}
						close(ready)
					}
					continue
				}
				apply(e)
				c.delivered.Add(1)
			}
		}
	}()
	return ready, nil
}

// watchPackage applies a change the packages watch delivered and notes
// its revision for the snapshot.
func (c *Catalog) watchPackage(e jetstream.KeyValueEntry) {
	if c.replay != nil {
		c.replayed.Add(1)
		c.replay.entries <- e
	} else {
		c.applyPackage(e)
	}
	c.watched.Store(e.Revision())
}

// replay decodes the entries the packages watch delivers before it is
// current on every core: a new replica reads every package of the bucket
// (a quarter of a million take seconds each core), and the index takes
// them in any order, as each put keeps the later revision of a package.
// Only the watch's goroutine touches c.replay.
type replay struct {
	entries chan jetstream.KeyValueEntry
	done    sync.WaitGroup
}

func newReplay(c *Catalog) *replay {
	r := &replay{entries: make(chan jetstream.KeyValueEntry, 1024)}
	for range runtime.GOMAXPROCS(0) {
		r.done.Go(func() {
			for e := range r.entries {
				c.loadPackage(e)
			}
		})
	}
	return r
}

// replayDone waits for the entries replayed so far to be in the index;
// later ones are applied as they come.
func (c *Catalog) replayDone() {
	close(c.replay.entries)
	c.replay.done.Wait()
	c.replay = nil
}

// loadPackage is applyPackage for the entries the watch delivers before
// it is current (every package, on open): the index needs only a
// package's facts, so only those fields are decoded, and no document is
// cached (the cache is for what listings ask, not for what the bucket
// holds). Changes after that go to applyPackage.
func (c *Catalog) loadPackage(e jetstream.KeyValueEntry) {
	if c.loaded.Load() || e.Operation() != jetstream.KeyValuePut {
		c.applyPackage(e)
		return
	}
	var p factsDocument
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		c.log.Error("skip unreadable package entry", "key", e.Key(), "err", err)
		return
	}
	f := hub.FactsOf(p.pkg())
	c.listings.put(e.Key(), e.Revision(), &f)
}

// factsDocument is what hub.FactsOf reads of a package document: a
// decode into it skips the texts and asset details of the rest.
type factsDocument struct {
	Campaign    string            `json:"campaign"`
	Language    string            `json:"language"`
	Status      hub.Status        `json:"status"`
	Assets      []factsAsset      `json:"assets"`
	Live        *factsDocument    `json:"live"`
	Pending     *hub.Announcement `json:"pending"`
	WasReleased bool              `json:"wasreleased"`
	Version     int               `json:"version"`
}

type factsAsset struct {
	Type hub.AssetType `json:"type"`
}

// pkg is the package with only what FactsOf reads filled in.
func (d *factsDocument) pkg() *hub.Package {
	p := &hub.Package{Campaign: d.Campaign, Language: d.Language, Status: d.Status, Version: d.Version,
		Pending: d.Pending, WasReleased: d.WasReleased, Assets: make([]hub.Asset, len(d.Assets))}
	for i, a := range d.Assets {
		p.Assets[i].Type = a.Type
	}
	if d.Live != nil {
		p.Live = d.Live.pkg()
	}
	return p
}

// applyPackage brings the listings up to a change of the packages
// bucket, made here or on another replica. The document is cached too: the
// packages changed last are the ones listings show first.
func (c *Catalog) applyPackage(e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		if c.listings.put(e.Key(), e.Revision(), nil) {
			c.documents.forget(e.Key())
		}
		return
	}
	var p hub.Package
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		c.log.Error("skip unreadable package entry", "key", e.Key(), "err", err)
		return
	}
	c.indexPackage(e.Key(), e.Revision(), &p)
}

// indexPackage records revision rev of package id (nil: deleted), from
// the watch or from a write this process made, so its own next listing
// shows it without waiting for the watch. p is kept as it is: callers
// hand over a package nobody changes after.
func (c *Catalog) indexPackage(id string, rev uint64, p *hub.Package) {
	if p == nil {
		if c.listings.put(id, rev, nil) {
			c.documents.forget(id)
		}
		return
	}
	f := hub.FactsOf(p)
	if c.listings.put(id, rev, &f) {
		c.documents.keep(id, rev, p)
	}
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
	c.indexPackage(p.ID, rev, p.Clone())
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
		c.indexPackage(id, newRev, p.Clone())
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

// ListPackages answers a listing from the index, which another
// replica's writes reach through the watch a moment later: the index
// picks the page's packages by their facts, the documents come from the
// cache or the bucket, and each is checked against the filter once more
// (a document read from the bucket may be newer than the index; one that
// no longer matches makes the page look further).
func (c *Catalog) ListPackages(ctx context.Context, f hub.Filter, q hub.PackageQuery) (hub.PackagePage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = hub.DefaultPageSize
	}
	var page hub.PackagePage
	after := q.After
	for {
		need := limit - len(page.Items)
		// One more than needed says whether a next page exists, without
		// reading its document.
		cands := c.listings.match(f, q, after, need+1)
		read := cands[:min(need, len(cands))]
		docs, err := c.documents.read(ctx, read)
		if err != nil {
			return hub.PackagePage{}, fmt.Errorf("list packages: %w", err)
		}
		for i, p := range docs {
			after = read[i].facts.ID
			if p != nil && f.Matches(p, q) {
				page.Items = append(page.Items, p)
			}
		}
		switch {
		case len(cands) <= need:
			return page, nil
		case len(page.Items) == limit:
			page.Next = page.Items[limit-1].ID
			return page, nil
		}
	}
}

// EachPackage reads the packages bucket in one pass (a watch of its
// current values, stopped when they are done), decoding each package for
// fn; no document goes into the listings' cache.
func (c *Catalog) EachPackage(ctx context.Context, fn func(p *hub.Package) error) error {
	w, err := c.packages.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("read every package: %w", err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("read every package: %w", ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("read every package: the watch ended early")
			}
			if e == nil {
				return nil // every current value delivered
			}
			var p hub.Package
			if err := json.Unmarshal(e.Value(), &p); err != nil {
				c.log.Error("skip unreadable package entry", "key", e.Key(), "err", err)
				continue
			}
			if err := fn(&p); err != nil {
				return err
			}
		}
	}
}

// Listed returns what the index knows of package id.
func (c *Catalog) Listed(ctx context.Context, id string) (hub.ListingFacts, error) {
	if f, ok := c.listings.facts(id); ok {
		return f, nil
	}
	return hub.ListingFacts{}, hub.Errorf(hub.ENOTFOUND, "no package %s", id)
}

// Packages returns every package, oldest id first, read page by page: for
// tests and tools that look at everything, never for a request.
func (c *Catalog) Packages(ctx context.Context) ([]*hub.Package, error) {
	var all []*hub.Package
	q := hub.PackageQuery{Limit: hub.MaxPageSize}
	for {
		page, err := c.ListPackages(ctx, hub.Filter{AllCampaigns: true}, q)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if q.After = page.Next; q.After == "" {
			slices.Reverse(all)
			return all, nil
		}
	}
}
