package catalog

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsfault"
)

// AcquireBlob adds a reference to the content with sha256 sum, recording
// candidate when the content is new.
func (c *Catalog) AcquireBlob(ctx context.Context, sum string, candidate hub.BlobRecord) (hub.BlobRecord, error) {
	for range casAttempts {
		e, err := c.blobs.Get(ctx, sum)
		if natsfault.Missing(err) {
			candidate.Refs = 1
			b, _ := json.Marshal(candidate)
			if _, err := putRevised(ctx, c.blobs, c.js, "blob record", sum, b, 0); natsfault.Conflict(err) {
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
		rec.Unheld = nil
		b, _ := json.Marshal(rec)
		if _, err := putRevised(ctx, c.blobs, c.js, "blob record", sum, b, e.Revision()); natsfault.Conflict(err) {
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
		if natsfault.Missing(err) {
			return "", nil
		} else if err != nil {
			return "", fmt.Errorf("get blob %s: %w", sum, err)
		}
		var rec hub.BlobRecord
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			return "", fmt.Errorf("decode blob %s: %w", sum, err)
		}
		if rec.Refs <= 1 {
			err := deleteRevised(ctx, c.blobs, c.js, "blob record", sum, e.Revision())
			if natsfault.Conflict(err) {
				continue
			} else if err != nil {
				return "", fmt.Errorf("drop blob %s: %w", sum, err)
			}
			return rec.Key, nil
		}
		rec.Refs--
		rec.Unheld = nil
		b, _ := json.Marshal(rec)
		if _, err := putRevised(ctx, c.blobs, c.js, "blob record", sum, b, e.Revision()); natsfault.Conflict(err) {
			continue
		} else if err != nil {
			return "", fmt.Errorf("unreference blob %s: %w", sum, err)
		}
		return "", nil
	}
	return "", hub.Errorf(hub.ECONFLICT, "the blob record %s keeps changing; try again", sum)
}

// BlobRecords reads every blob record from the bucket itself.
func (c *Catalog) BlobRecords(ctx context.Context) (map[string]hub.BlobRecord, error) {
	recs := map[string]hub.BlobRecord{}
	err := readBucket(ctx, c.blobs, "blob record", func(key string, rec hub.BlobRecord) {
		recs[key] = rec
	})
	return recs, err
}

// readBucket reads every current entry of kv from the bucket itself (no
// index that may lag), decoded as T, for the sweep.
func readBucket[T any](ctx context.Context, kv jetstream.KeyValue, noun string, fn func(key string, v T)) error {
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("read %ss: %w", noun, err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("read %ss: %w", noun, ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("read %ss: the watch ended early", noun)
			}
			if e == nil {
				return nil // every current entry has been seen
			}
			var v T
			if err := json.Unmarshal(e.Value(), &v); err != nil {
				return fmt.Errorf("decode %s %s: %w", noun, e.Key(), err)
			}
			fn(e.Key(), v)
		}
	}
}

// UpdateBlob changes a blob record under a revision check, removing it
// when fn leaves it no reference.
func (c *Catalog) UpdateBlob(ctx context.Context, sum string, fn func(rec *hub.BlobRecord) error) (string, error) {
	for range casAttempts {
		e, err := c.blobs.Get(ctx, sum)
		if natsfault.Missing(err) {
			return "", hub.Errorf(hub.ENOTFOUND, "no blob record for %s", sum)
		} else if err != nil {
			return "", fmt.Errorf("get blob %s: %w", sum, err)
		}
		var rec hub.BlobRecord
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			return "", fmt.Errorf("decode blob %s: %w", sum, err)
		}
		if err := fn(&rec); err != nil {
			return "", err
		}
		if rec.Refs <= 0 {
			if err := deleteRevised(ctx, c.blobs, c.js, "blob record", sum, e.Revision()); natsfault.Conflict(err) {
				continue
			} else if err != nil {
				return "", fmt.Errorf("drop blob %s: %w", sum, err)
			}
			return rec.Key, nil
		}
		b, _ := json.Marshal(rec)
		if _, err := putRevised(ctx, c.blobs, c.js, "blob record", sum, b, e.Revision()); natsfault.Conflict(err) {
			continue
		} else if err != nil {
			return "", fmt.Errorf("update blob %s: %w", sum, err)
		}
		return "", nil
	}
	return "", hub.Errorf(hub.ECONFLICT, "the blob record %s keeps changing; try again", sum)
}
