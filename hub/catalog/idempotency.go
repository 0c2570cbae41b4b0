package catalog

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsfault"
)

// IdempotencyBucket keeps the outcome of creates sent with an
// Idempotency-Key, each for hub.IdempotencyTTL (the bucket's TTL).
const IdempotencyBucket = "hub_idempotency"

var _ hub.IdempotencyStore = (*Catalog)(nil)

// IdempotentRequest reads the record under key.
func (c *Catalog) IdempotentRequest(ctx context.Context, key string) (*hub.IdempotentRequest, uint64, error) {
	e, err := c.idempotency.Get(ctx, key)
	if natsfault.Missing(err) {
		return nil, 0, hub.Errorf(hub.ENOTFOUND, "no request %s", key)
	} else if natsfault.NotSent(err) {
		return nil, 0, fmt.Errorf("%w: %w", hub.Errorf(hub.EUNAVAILABLE, "NATS is not answering, so the hub cannot tell whether this Idempotency-Key was used; nothing was done, try again in a moment"), err)
	} else if err != nil {
		return nil, 0, fmt.Errorf("get idempotent request %s: %w", key, err)
	}
	var r hub.IdempotentRequest
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return nil, 0, fmt.Errorf("decode idempotent request %s: %w", key, err)
	}
	return &r, e.Revision(), nil
}

// PutIdempotentRequest writes the record at revision prev, settled like
// every catalog write (putRevised).
func (c *Catalog) PutIdempotentRequest(ctx context.Context, key string, r *hub.IdempotentRequest, prev uint64) (uint64, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("encode idempotent request: %w", err)
	}
	rev, err := putRevised(ctx, c.idempotency, c.js, "the record of request", key, b, prev)
	if natsfault.Conflict(err) {
		return 0, hub.Errorf(hub.ECONFLICT, "another request with this Idempotency-Key came first")
	} else if err != nil {
		return 0, fmt.Errorf("put idempotent request %s: %w", key, err)
	}
	return rev, nil
}

// DeleteIdempotentRequest removes the record at revision prev.
func (c *Catalog) DeleteIdempotentRequest(ctx context.Context, key string, prev uint64) error {
	err := deleteRevised(ctx, c.idempotency, c.js, "the record of request", key, prev)
	if err != nil && !natsfault.Conflict(err) && !natsfault.Missing(err) {
		return fmt.Errorf("delete idempotent request %s: %w", key, err)
	}
	return nil
}
