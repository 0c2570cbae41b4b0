package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
)

// AcquireBlob adds a reference to the content with sha256 sum, recording
// candidate when the content is new.
func (c *Catalog) AcquireBlob(ctx context.Context, sum string, candidate hub.BlobRecord) (hub.BlobRecord, error) {
	for range casAttempts {
		e, err := c.blobs.Get(ctx, sum)
		if isMissing(err) {
			candidate.Refs = 1
			b, _ := json.Marshal(candidate)
			if _, err := c.blobs.Create(ctx, sum, b); isConflict(err) {
				continue
			} else if err != nil {
				return hub.BlobRecord{}, fmt.Errorf("record blob %s: %w", sum, err)
			}
			return candidate, nil
		} else if err != nil {
			return hub.BlobRecord{}, fmt.Errorf("get blob %s: %w", sum, err)
		}
		var rec hub.BlobRecord
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			return hub.BlobRecord{}, fmt.Errorf("decode blob %s: %w", sum, err)
		}
		rec.Refs++
		b, _ := json.Marshal(rec)
		if _, err := c.blobs.Update(ctx, sum, b, e.Revision()); isConflict(err) {
			continue
		} else if err != nil {
			return hub.BlobRecord{}, fmt.Errorf("reference blob %s: %w", sum, err)
		}
		return rec, nil
	}
	return hub.BlobRecord{}, hub.Errorf(hub.ECONFLICT, "the blob record %s keeps changing; try again", sum)
}

// ReleaseBlob drops a reference and returns the blob key once none is left.
func (c *Catalog) ReleaseBlob(ctx context.Context, sum string) (string, error) {
	for range casAttempts {
		e, err := c.blobs.Get(ctx, sum)
		if isMissing(err) {
			return "", nil
		} else if err != nil {
			return "", fmt.Errorf("get blob %s: %w", sum, err)
		}
		var rec hub.BlobRecord
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			return "", fmt.Errorf("decode blob %s: %w", sum, err)
		}
		if rec.Refs <= 1 {
			err := c.blobs.Delete(ctx, sum, jetstream.LastRevision(e.Revision()))
			if isConflict(err) {
				continue
			} else if err != nil {
				return "", fmt.Errorf("drop blob %s: %w", sum, err)
			}
			return rec.Key, nil
		}
		rec.Refs--
		b, _ := json.Marshal(rec)
		if _, err := c.blobs.Update(ctx, sum, b, e.Revision()); isConflict(err) {
			continue
		} else if err != nil {
			return "", fmt.Errorf("unreference blob %s: %w", sum, err)
		}
		return "", nil
	}
	return "", hub.Errorf(hub.ECONFLICT, "the blob record %s keeps changing; try again", sum)
}

// CreateKey records a key under the hash of its secret.
func (c *Catalog) CreateKey(ctx context.Context, k *hub.Key) error {
	b, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("encode key: %w", err)
	}
	rev, err := c.keys.Create(ctx, k.Hash, b)
	if isConflict(err) {
		return hub.Errorf(hub.ECONFLICT, "that key exists")
	} else if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	c.mu.Lock()
	if cur, ok := c.keyIndex[k.Hash]; !ok || cur.rev < rev {
		kc := *k
		c.keyIndex[k.Hash] = indexed[*hub.Key]{rev, &kc}
	}
	c.mu.Unlock()
	return nil
}

// KeyByHash looks in the index first and then in the bucket, since a key
// made on another replica a moment ago may not have reached the index.
func (c *Catalog) KeyByHash(ctx context.Context, hash string) (*hub.Key, error) {
	c.mu.RLock()
	e, ok := c.keyIndex[hash]
	c.mu.RUnlock()
	if ok && e.value != nil {
		k := *e.value
		return &k, nil
	}
	if !isHex(hash) {
		return nil, hub.Errorf(hub.ENOTFOUND, "no such key")
	}
	entry, err := c.keys.Get(ctx, hash)
	if isMissing(err) {
		return nil, hub.Errorf(hub.ENOTFOUND, "no such key")
	} else if err != nil {
		return nil, fmt.Errorf("get key: %w", err)
	}
	var k hub.Key
	if err := json.Unmarshal(entry.Value(), &k); err != nil {
		return nil, fmt.Errorf("decode key: %w", err)
	}
	return &k, nil
}

func isHex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdef") == ""
}

// Keys returns the indexed keys, oldest first.
func (c *Catalog) Keys(ctx context.Context) ([]*hub.Key, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*hub.Key, 0, len(c.keyIndex))
	for _, e := range c.keyIndex {
		if e.value != nil {
			k := *e.value
			out = append(out, &k)
		}
	}
	slices.SortFunc(out, func(a, b *hub.Key) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// DeleteKey removes the key with the given id.
func (c *Catalog) DeleteKey(ctx context.Context, id string) error {
	c.mu.RLock()
	var hash string
	for h, e := range c.keyIndex {
		if e.value != nil && e.value.ID == id {
			hash = h
		}
	}
	c.mu.RUnlock()
	if hash == "" {
		return hub.Errorf(hub.ENOTFOUND, "no key %s", id)
	}
	if err := c.keys.Delete(ctx, hash); err != nil {
		return fmt.Errorf("delete key %s: %w", id, err)
	}
	c.mu.Lock()
	if cur, ok := c.keyIndex[hash]; ok {
		c.keyIndex[hash] = indexed[*hub.Key]{cur.rev + 1, nil}
	}
	c.mu.Unlock()
	return nil
}
