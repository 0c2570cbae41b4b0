package hub

import (
	"context"
	"time"
)

// Catalog is everything the Service keeps besides bytes: the ports below,
// one value holding them all, plus a health check. Its implementations are
// hub/catalog (NATS JetStream KV, what the hub runs on) and
// hub/catalog/memory (in process, for the domain's own tests); the suite in
// hub/catalogtest holds both to the same contract. The interfaces are here,
// where they are used, so the domain does not import NATS. Every update is
// revision-checked, so two replicas never overwrite each other's changes.
type Catalog interface {
	PackageStore
	VersionArchive
	BlobIndex
	KeyStore
	Directory
	WebhookStore
	ScrubReportStore
	RenditionStore
	TakedownStore

	// Check reports whether the catalog takes writes (it writes a key of
	// its own); /readyz calls it. Every method of the catalog returns
	// EUNAVAILABLE when its store does not answer, and a write EFULL when
	// the store has no room.
	Check(ctx context.Context) error
}

// PackageStore keeps packages: each one entry holding the working copy,
// the live version and a pending announcement, so one revision check
// covers a state change and the announcement it owes.
type PackageStore interface {
	// CreatePackage records a new package. Returns ECONFLICT if its id exists.
	CreatePackage(ctx context.Context, p *Package) error

	// Package reads a package straight from the store (not from an index
	// that may lag behind another replica). Returns ENOTFOUND.
	Package(ctx context.Context, id string) (*Package, error)

	// UpdatePackage reads the package, lets fn change it, and writes it back
	// only if nobody else wrote in between, retrying fn on such a conflict.
	// An error from fn aborts the update and is returned as is.
	// Returns ENOTFOUND if the package does not exist, ECONFLICT if other
	// writers keep winning.
	UpdatePackage(ctx context.Context, id string, fn func(p *Package) error) (*Package, error)

	// DeletePackage removes the package if fn, called on its current state,
	// returns nil, with the same revision check as UpdatePackage.
	// Returns the deleted package, or ENOTFOUND, or fn's error as is.
	DeletePackage(ctx context.Context, id string, fn func(p *Package) error) (*Package, error)

	// ListPackages returns one page of the packages that match both the
	// audience's filter f and the request's own filters in q, newest id
	// first, starting after the cursor q.After, at most q.Limit of them
	// (0 means DefaultPageSize). Next is the id of the page's last package
	// when more match, else "". Filter.Matches is the meaning; a catalog
	// may answer from an index that lags behind other replicas' writes.
	// The packages are as stored (not partner views) and may be shared
	// with an index: callers must not change them. Returns no domain
	// errors; q is checked by the caller.
	ListPackages(ctx context.Context, f Filter, q PackageQuery) (PackagePage, error)

	// EachPackage calls fn on every stored package once, in no set
	// order, reading the store in one pass rather than page by page
	// through the listings' document cache (which holds what people ask
	// for, and a sweep would empty). For the sweeps that must see every
	// package. Stops at fn's first error and returns it; the packages
	// are the caller's.
	EachPackage(ctx context.Context, fn func(p *Package) error) error

	// Listed returns what the listings currently know of package id, which
	// may lag behind Package; the feeds ask it whether this replica's
	// listings have caught up with an announcement. Returns ENOTFOUND.
	Listed(ctx context.Context, id string) (ListingFacts, error)
}

// VersionArchive keeps every released version, readable after the next
// one replaces it.
type VersionArchive interface {
	// PutVersion archives a released version (p.Version of package p.ID);
	// writing the same version again is harmless.
	PutVersion(ctx context.Context, p *Package) error

	// Version returns archived version n of package id, or ENOTFOUND.
	Version(ctx context.Context, id string, n int) (*Package, error)

	// DeleteVersions removes every archived version of package id; a
	// package without any is no error.
	DeleteVersions(ctx context.Context, id string) error
}

// BlobIndex says which stored blob holds which content, and how many
// references it has, so identical uploads share one blob and its bytes go
// only with the last reference.
type BlobIndex interface {
	// AcquireBlob records one more reference to the content with sha256 sum.
	// If the content is stored already, the existing record is returned and
	// the caller's candidate blob is redundant; otherwise candidate becomes
	// the record for sum, with one reference.
	AcquireBlob(ctx context.Context, sum string, candidate BlobRecord) (BlobRecord, error)

	// ReleaseBlob drops one reference to the content with sha256 sum. When it
	// was the last one, the record is removed and its blob key returned, for
	// the caller to delete from the blob store; otherwise (and for content
	// it has no record of) it returns "".
	ReleaseBlob(ctx context.Context, sum string) (string, error)

	// BlobRecords returns every blob record by content sum, read from the
	// store itself (no index that may lag), for the sweep.
	BlobRecords(ctx context.Context) (map[string]BlobRecord, error)

	// UpdateBlob changes the record for sum under a revision check, as
	// UpdatePackage does: fn sees the current record and is run again when
	// another writer got there first. A record fn leaves with no reference
	// is removed and its blob key returned, for the caller to delete from
	// the blob store. Returns ENOTFOUND for content it has no record of, or
	// fn's error as is.
	UpdateBlob(ctx context.Context, sum string, fn func(rec *BlobRecord) error) (string, error)
}

// KeyStore keeps API keys, by the hash of their secret.
type KeyStore interface {
	// CreateKey records a key. Returns ECONFLICT if its hash exists.
	CreateKey(ctx context.Context, k *Key) error

	// KeyByHash returns the key with the given secret hash, or ENOTFOUND.
	KeyByHash(ctx context.Context, hash string) (*Key, error)

	// Keys returns every key record, oldest (lowest id) first. A rotated
	// key has one record per secret, all with its id (see Key.Retires),
	// in no particular order among themselves.
	Keys(ctx context.Context) ([]*Key, error)

	// UpdateKey changes the record with the given secret hash under a
	// revision check, as UpdatePackage does. Returns ENOTFOUND, or fn's
	// error as is.
	UpdateKey(ctx context.Context, hash string, fn func(k *Key) error) (*Key, error)

	// DeleteKey removes every record of the key with the given id (each
	// of its secrets). Returns ENOTFOUND when it has none.
	DeleteKey(ctx context.Context, id string) error
}

// Directory keeps campaigns and partner outlets: the records the
// visibility rule reads besides the key.
type Directory interface {
	// CreateCampaign records a campaign. Returns ECONFLICT if its slug exists.
	CreateCampaign(ctx context.Context, c *Campaign) error

	// Campaign returns the campaign with slug, or ENOTFOUND.
	Campaign(ctx context.Context, slug string) (*Campaign, error)

	// Campaigns returns every campaign, by slug.
	Campaigns(ctx context.Context) ([]*Campaign, error)

	// UpdateCampaign changes a campaign under a revision check, as
	// UpdatePackage does. Returns ENOTFOUND, or fn's error as is.
	UpdateCampaign(ctx context.Context, slug string, fn func(c *Campaign) error) (*Campaign, error)

	// CreatePartner records a partner. Returns ECONFLICT if its id exists.
	CreatePartner(ctx context.Context, p *Partner) error

	// Partner returns the partner with id, or ENOTFOUND.
	Partner(ctx context.Context, id string) (*Partner, error)

	// Partners returns every partner, oldest (lowest id) first.
	Partners(ctx context.Context) ([]*Partner, error)

	// UpdatePartner changes a partner under a revision check, as
	// UpdatePackage does. Returns ENOTFOUND, or fn's error as is.
	UpdatePartner(ctx context.Context, id string, fn func(p *Partner) error) (*Partner, error)
}

// WebhookStore keeps partners' webhook endpoints and the announcements
// they failed to accept.
type WebhookStore interface {
	// CreateWebhook records a webhook. Returns ECONFLICT if its id exists.
	CreateWebhook(ctx context.Context, w *Webhook) error

	// Webhook returns the webhook with id, or ENOTFOUND.
	Webhook(ctx context.Context, id string) (*Webhook, error)

	// Webhooks returns every webhook, oldest (lowest id) first.
	Webhooks(ctx context.Context) ([]*Webhook, error)

	// DeleteWebhook removes a webhook and its dead letters. Returns ENOTFOUND.
	DeleteWebhook(ctx context.Context, id string) error

	// PutDeadLetter records (or replaces) a dead letter.
	PutDeadLetter(ctx context.Context, d *DeadLetter) error

	// DeadLetter returns the dead letter of announcement msgID for webhook,
	// or ENOTFOUND.
	DeadLetter(ctx context.Context, webhook, msgID string) (*DeadLetter, error)

	// DeadLetters returns a webhook's dead letters, oldest failure first
	// (by message id among equal times); none for an unknown webhook.
	DeadLetters(ctx context.Context, webhook string) ([]*DeadLetter, error)

	// DeleteDeadLetter removes a dead letter; removing one that is not
	// there is no error.
	DeleteDeadLetter(ctx context.Context, webhook, msgID string) error
}

// BlobRecord says where a piece of content is stored and how many assets
// point at it; identical uploads share one blob.
type BlobRecord struct {
	Key  string `json:"key"`
	Size int64  `json:"size"`
	Refs int    `json:"refs"`
	// Unheld is the sweep's note that the record counted more references
	// than packages held. Every AcquireBlob and ReleaseBlob clears it: the
	// sweep corrects the count only when nothing touched the record for a
	// whole grace period after the note (see Service.Sweep).
	Unheld *UnheldReferences `json:"unheld,omitempty"`
}

// UnheldReferences is what the sweep saw when a blob record counted more
// references than packages held.
type UnheldReferences struct {
	// Refs is the record's count then, Holders how many packages held the
	// content then.
	Refs    int       `json:"refs"`
	Holders int       `json:"holders"`
	Seen    time.Time `json:"seen"`
}
