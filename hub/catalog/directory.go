package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsfault"
)

// CreateCampaign records a campaign under its slug.
func (c *Catalog) CreateCampaign(ctx context.Context, camp *hub.Campaign) error {
	return c.campaigns.create(ctx, camp.Slug, camp)
}

// Campaign returns the campaign with slug.
func (c *Catalog) Campaign(ctx context.Context, slug string) (*hub.Campaign, error) {
	return c.campaigns.get(ctx, slug)
}

// Campaigns returns every campaign, by slug.
func (c *Catalog) Campaigns(ctx context.Context) ([]*hub.Campaign, error) {
	return c.campaigns.list(), nil
}

// UpdateCampaign changes a campaign under a revision check.
func (c *Catalog) UpdateCampaign(ctx context.Context, slug string, fn func(*hub.Campaign) error) (*hub.Campaign, error) {
	return c.campaigns.update(ctx, slug, fn)
}

// CreatePartner records a partner under its id.
func (c *Catalog) CreatePartner(ctx context.Context, p *hub.Partner) error {
	return c.partners.create(ctx, p.ID, p)
}

// Partner returns the partner with id.
func (c *Catalog) Partner(ctx context.Context, id string) (*hub.Partner, error) {
	return c.partners.get(ctx, id)
}

// Partners returns every partner, oldest first (ids are ULIDs).
func (c *Catalog) Partners(ctx context.Context) ([]*hub.Partner, error) {
	return c.partners.list(), nil
}

// UpdatePartner changes a partner under a revision check.
func (c *Catalog) UpdatePartner(ctx context.Context, id string, fn func(*hub.Partner) error) (*hub.Partner, error) {
	return c.partners.update(ctx, id, fn)
}

func versionKey(id string, n int) string { return id + "." + strconv.Itoa(n) }

// PutVersion archives a released version.
func (c *Catalog) PutVersion(ctx context.Context, p *hub.Package) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode version: %w", err)
	}
	if _, err := c.versions.Put(ctx, versionKey(p.ID, p.Version), b); err != nil {
		return fmt.Errorf("archive version %d of %s: %w", p.Version, p.ID, err)
	}
	return nil
}

// Version returns an archived version.
func (c *Catalog) Version(ctx context.Context, id string, n int) (*hub.Package, error) {
	if !validKey(id) || n < 1 {
		return nil, hub.Errorf(hub.ENOTFOUND, "no version %d of %s", n, id)
	}
	e, err := c.versions.Get(ctx, versionKey(id, n))
	if natsfault.Missing(err) {
		return nil, hub.Errorf(hub.ENOTFOUND, "no version %d of %s", n, id)
	} else if err != nil {
		return nil, fmt.Errorf("get version %d of %s: %w", n, id, err)
	}
	var p hub.Package
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		return nil, fmt.Errorf("decode version %d of %s: %w", n, id, err)
	}
	return &p, nil
}

// DeleteVersions purges every archived version of a package, history and
// all: a purge must leave nothing to read back.
func (c *Catalog) DeleteVersions(ctx context.Context, id string) error {
	keys, err := c.versions.ListKeysFiltered(ctx, id+".*")
	if err != nil {
		return fmt.Errorf("list versions of %s: %w", id, err)
	}
	for k := range keys.Keys() {
		if err := c.versions.Purge(ctx, k); err != nil {
			return fmt.Errorf("purge %s: %w", k, err)
		}
	}
	return nil
}
