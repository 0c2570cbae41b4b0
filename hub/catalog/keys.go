package catalog

import (
	"context"
	"slices"
	"strings"

	"github.com/syndication-hub/hub/hub"
)

// CreateKey records a key under the hash of its secret.
func (c *Catalog) CreateKey(ctx context.Context, k *hub.Key) error {
	return c.keys.create(ctx, k.Hash, k)
}

// KeyByHash looks in the index first and then in the bucket, since a key
// made on another replica a moment ago may not have reached the index.
func (c *Catalog) KeyByHash(ctx context.Context, hash string) (*hub.Key, error) {
	return c.keys.get(ctx, hash)
}

// Keys returns every key, oldest first.
func (c *Catalog) Keys(ctx context.Context) ([]*hub.Key, error) {
	keys := c.keys.list()
	slices.SortFunc(keys, func(a, b *hub.Key) int { return strings.Compare(a.ID, b.ID) })
	return keys, nil
}

// UpdateKey changes one key record under a revision check.
func (c *Catalog) UpdateKey(ctx context.Context, hash string, fn func(k *hub.Key) error) (*hub.Key, error) {
	return c.keys.update(ctx, hash, fn)
}

// DeleteKey removes every record (each secret) of the key with the given
// id. A record already gone is no failure: another replica revoking the
// same key at once deleted it.
func (c *Catalog) DeleteKey(ctx context.Context, id string) error {
	found := false
	for _, k := range c.keys.list() {
		if k.ID != id {
			continue
		}
		found = true
		if err := c.keys.delete(ctx, k.Hash); err != nil && hub.ErrorCode(err) != hub.ENOTFOUND {
			return err
		}
	}
	if !found {
		return hub.Errorf(hub.ENOTFOUND, "no key %s", id)
	}
	return nil
}
