package hub

import "context"

// Catalog keeps the hub's metadata: packages, keys, and which stored blob
// holds which content. Its one implementation is hub/catalog, on NATS
// JetStream KV; the interface is here so the domain does not import NATS.
// Every update is revision-checked, so two replicas never overwrite each
// other's changes.
type Catalog interface {
	// CreatePackage records a new package. Returns ECONFLICT if its id exists.
	CreatePackage(ctx context.Context, p *Package) error

	// Package reads a package straight from the store (not from an index
	// that may lag behind another replica). Returns ENOTFOUND.
	Package(ctx context.Context, id string) (*Package, error)

	// UpdatePackage reads the package, lets fn change it, and writes it back
	// only if nobody else wrote in between, retrying fn on such a conflict.
	// An error from fn aborts the update and is returned as is.
	// Returns ENOTFOUND if the package does not exist.
	UpdatePackage(ctx context.Context, id string, fn func(p *Package) error) (*Package, error)

	// DeletePackage removes the package if fn, called on its current state,
	// returns nil, with the same revision check as UpdatePackage.
	// Returns the deleted package, or ENOTFOUND.
	DeletePackage(ctx context.Context, id string, fn func(p *Package) error) (*Package, error)

	// Packages returns every package this process knows, oldest id first,
	// from an in-memory index that a watch keeps current.
	Packages(ctx context.Context) ([]*Package, error)

	// AcquireBlob records one more reference to the content with sha256 sum.
	// If the content is stored already, the existing record is returned and
	// the caller's candidate blob is redundant; otherwise candidate becomes
	// the record for sum.
	AcquireBlob(ctx context.Context, sum string, candidate BlobRecord) (BlobRecord, error)

	// ReleaseBlob drops one reference to the content with sha256 sum. When it
	// was the last one, the record is removed and its blob key returned, for
	// the caller to delete from the blob store; otherwise it returns "".
	ReleaseBlob(ctx context.Context, sum string) (string, error)

	// CreateKey records a key. Returns ECONFLICT if its hash exists.
	CreateKey(ctx context.Context, k *Key) error

	// KeyByHash returns the key with the given secret hash, or ENOTFOUND.
	KeyByHash(ctx context.Context, hash string) (*Key, error)

	// Keys returns every key, oldest first.
	Keys(ctx context.Context) ([]*Key, error)

	// DeleteKey removes the key with the given id. Returns ENOTFOUND.
	DeleteKey(ctx context.Context, id string) error

	// PutVersion archives a released version (p.Version of package p.ID);
	// writing the same version again is harmless.
	PutVersion(ctx context.Context, p *Package) error

	// Version returns archived version n of package id, or ENOTFOUND.
	Version(ctx context.Context, id string, n int) (*Package, error)

	// DeleteVersions removes every archived version of package id.
	DeleteVersions(ctx context.Context, id string) error

	// CreateCampaign records a campaign. Returns ECONFLICT if its slug exists.
	CreateCampaign(ctx context.Context, c *Campaign) error

	// Campaign returns the campaign with slug, or ENOTFOUND.
	Campaign(ctx context.Context, slug string) (*Campaign, error)

	// Campaigns returns every campaign, by slug.
	Campaigns(ctx context.Context) ([]*Campaign, error)

	// UpdateCampaign changes a campaign under a revision check.
	UpdateCampaign(ctx context.Context, slug string, fn func(c *Campaign) error) (*Campaign, error)

	// CreatePartner records a partner. Returns ECONFLICT if its id exists.
	CreatePartner(ctx context.Context, p *Partner) error

	// Partner returns the partner with id, or ENOTFOUND.
	Partner(ctx context.Context, id string) (*Partner, error)

	// Partners returns every partner, oldest first.
	Partners(ctx context.Context) ([]*Partner, error)

	// UpdatePartner changes a partner under a revision check.
	UpdatePartner(ctx context.Context, id string, fn func(p *Partner) error) (*Partner, error)

	// CreateWebhook records a webhook. Returns ECONFLICT if its id exists.
	CreateWebhook(ctx context.Context, w *Webhook) error

	// Webhook returns the webhook with id, or ENOTFOUND.
	Webhook(ctx context.Context, id string) (*Webhook, error)

	// Webhooks returns every webhook, oldest first.
	Webhooks(ctx context.Context) ([]*Webhook, error)

	// DeleteWebhook removes a webhook and its dead letters. Returns ENOTFOUND.
	DeleteWebhook(ctx context.Context, id string) error

	// PutDeadLetter records (or replaces) a dead letter.
	PutDeadLetter(ctx context.Context, d *DeadLetter) error

	// DeadLetter returns the dead letter of announcement msgID for webhook,
	// or ENOTFOUND.
	DeadLetter(ctx context.Context, webhook, msgID string) (*DeadLetter, error)

	// DeadLetters returns a webhook's dead letters, oldest failure first.
	DeadLetters(ctx context.Context, webhook string) ([]*DeadLetter, error)

	// DeleteDeadLetter removes a dead letter; removing one that is not
	// there is no error.
	DeleteDeadLetter(ctx context.Context, webhook, msgID string) error

	// Check reports whether the catalog's store answers; /readyz calls it.
	Check(ctx context.Context) error
}

// BlobRecord says where a piece of content is stored and how many assets
// point at it; identical uploads share one blob.
type BlobRecord struct {
	Key  string `json:"key"`
	Size int64  `json:"size"`
	Refs int    `json:"refs"`
}
