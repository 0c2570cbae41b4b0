package catalog

import (
	"context"

	"github.com/syndication-hub/hub/hub"
)

// RenditionsBucket keeps each stored blob's renditions by content sum.
const RenditionsBucket = "hub_renditions"

// RenditionSet returns the set for sum from the index.
func (c *Catalog) RenditionSet(ctx context.Context, sum string) (*hub.RenditionSet, error) {
	return c.renditions.get(ctx, sum)
}

// UpdateRenditionSet changes or creates the set for sum.
func (c *Catalog) UpdateRenditionSet(ctx context.Context, sum string, fn func(*hub.RenditionSet) error) (*hub.RenditionSet, error) {
	return c.renditions.upsert(ctx, sum, fn)
}

// RenditionSets returns copies of the indexed sets of sums.
func (c *Catalog) RenditionSets(ctx context.Context, sums []string) map[string]*hub.RenditionSet {
	out := map[string]*hub.RenditionSet{}
	for _, sum := range sums {
		if v := c.renditions.indexedCopy(sum); v != nil {
			out[sum] = v
		}
	}
	return out
}

// RenditionBlobKeys reads every set from the bucket and returns the blob
// keys of their renditions.
func (c *Catalog) RenditionBlobKeys(ctx context.Context) (map[string]bool, error) {
	keys := map[string]bool{}
	err := readBucket(ctx, c.renditions.kv, "rendition set", func(_ string, set hub.RenditionSet) {
		for _, r := range set.Renditions {
			if r.BlobKey != "" {
				keys[r.BlobKey] = true
			}
		}
	})
	return keys, err
}

// DeleteRenditionSet removes the set for sum.
func (c *Catalog) DeleteRenditionSet(ctx context.Context, sum string) error {
	if err := c.renditions.delete(ctx, sum); err != nil && hub.ErrorCode(err) != hub.ENOTFOUND {
		return err
	}
	return nil
}
