package catalog

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsfault"
)

// TakedownsBucket keeps each withdrawn or purged package's takedown
// record, by package id (see hub.TakedownStore). It is read only when a
// partner confirms or a producer asks, so it is not indexed: every read
// goes to the bucket, and another replica's confirmation shows at once.
const TakedownsBucket = "hub_takedowns"

// Takedown returns the record of package id.
func (c *Catalog) Takedown(ctx context.Context, id string) (*hub.Takedown, error) {
	t, _, err := c.readTakedown(ctx, id)
	return t, err
}

func (c *Catalog) readTakedown(ctx context.Context, id string) (*hub.Takedown, uint64, error) {
	if !validKey(id) {
		return nil, 0, hub.Errorf(hub.ENOTFOUND, "no takedown record of %s", id)
	}
	e, err := c.takedowns.Get(ctx, id)
	if natsfault.Missing(err) {
		return nil, 0, hub.Errorf(hub.ENOTFOUND, "no takedown record of %s", id)
	} else if err != nil {
		return nil, 0, fmt.Errorf("get takedown record %s: %w", id, err)
	}
	var t hub.Takedown
	if err := json.Unmarshal(e.Value(), &t); err != nil {
		return nil, 0, fmt.Errorf("decode takedown record %s: %w", id, err)
	}
	return &t, e.Revision(), nil
}

// UpdateTakedown changes or creates the record of package id under a
// revision check, starting over when another writer got there first (two
// outlets confirming at once on two replicas).
func (c *Catalog) UpdateTakedown(ctx context.Context, id string, fn func(*hub.Takedown) error) (*hub.Takedown, error) {
	if !validKey(id) {
		return nil, hub.Errorf(hub.ENOTFOUND, "no takedown record of %s", id)
	}
	for range casAttempts {
		t, rev, err := c.readTakedown(ctx, id)
		if hub.ErrorCode(err) == hub.ENOTFOUND {
			t, rev, err = &hub.Takedown{}, 0, nil
		}
		if err != nil {
			return nil, err
		}
		if err := fn(t); err != nil {
			return nil, err
		}
		b, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("encode takedown record: %w", err)
		}
		_, err = putRevised(ctx, c.takedowns, c.js, "takedown record", id, b, rev)
		if natsfault.Conflict(err) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("update takedown record %s: %w", id, err)
		}
		return t, nil
	}
	return nil, hub.Errorf(hub.ECONFLICT, "the takedown record of %s is being changed by someone else; try again", id)
}
