package catalog

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsfault"
)

// Webhook buckets. Webhooks are few and read by every replica's deliverer
// every few seconds, so they are indexed like partners. Dead letters can
// pile up while an endpoint is down and are read only when someone asks,
// so they are not indexed: each is one entry keyed
// "<webhook id>.<announcement id>" (the announcement id's own dots make
// more tokens), and a webhook's dead letters are the keys "<webhook id>.>".
const (
	WebhooksBucket    = "hub_webhooks"
	DeadLettersBucket = "hub_deadletters"
)

// deadLetterKey is the key of a dead letter, or "" when the ids cannot
// make one (they come from URLs; anything odd is simply absent).
func deadLetterKey(webhook, msgID string) string {
	if !validKey(webhook) {
		return ""
	}
	for _, part := range strings.Split(msgID, ".") {
		if !validKey(part) {
			return ""
		}
	}
	return webhook + "." + msgID
}

// CreateWebhook records a webhook under its id.
func (c *Catalog) CreateWebhook(ctx context.Context, w *hub.Webhook) error {
	return c.webhooks.create(ctx, w.ID, w)
}

// Webhook returns the webhook with id.
func (c *Catalog) Webhook(ctx context.Context, id string) (*hub.Webhook, error) {
	return c.webhooks.get(ctx, id)
}

// Webhooks returns every webhook, oldest first (ids are ULIDs).
func (c *Catalog) Webhooks(ctx context.Context) ([]*hub.Webhook, error) {
	return c.webhooks.list(), nil
}

// DeleteWebhook removes a webhook, then its dead letters.
func (c *Catalog) DeleteWebhook(ctx context.Context, id string) error {
	if err := c.webhooks.delete(ctx, id); err != nil {
		return err
	}
	keys, err := c.deadLetters.ListKeysFiltered(ctx, id+".>")
	if err != nil {
		return fmt.Errorf("list dead letters of %s: %w", id, err)
	}
	for k := range keys.Keys() {
		if err := c.deadLetters.Purge(ctx, k); err != nil {
			return fmt.Errorf("purge dead letter %s: %w", k, err)
		}
	}
	return nil
}

// PutDeadLetter records a dead letter, replacing an earlier one of the
// same announcement (a replay that failed again).
func (c *Catalog) PutDeadLetter(ctx context.Context, d *hub.DeadLetter) error {
	key := deadLetterKey(d.Webhook, d.MessageID)
	if key == "" {
		return fmt.Errorf("dead letter %q of webhook %q: ids cannot make a key", d.MessageID, d.Webhook)
	}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	if _, err := c.deadLetters.Put(ctx, key, b); err != nil {
		return fmt.Errorf("record dead letter %s: %w", key, err)
	}
	return nil
}

// DeadLetter returns one dead letter.
func (c *Catalog) DeadLetter(ctx context.Context, webhook, msgID string) (*hub.DeadLetter, error) {
	key := deadLetterKey(webhook, msgID)
	if key == "" {
		return nil, hub.Errorf(hub.ENOTFOUND, "no dead letter %s of %s", msgID, webhook)
	}
	return c.readDeadLetter(ctx, key)
}

func (c *Catalog) readDeadLetter(ctx context.Context, key string) (*hub.DeadLetter, error) {
	e, err := c.deadLetters.Get(ctx, key)
	if natsfault.Missing(err) {
		return nil, hub.Errorf(hub.ENOTFOUND, "no dead letter %s", key)
	} else if err != nil {
		return nil, fmt.Errorf("get dead letter %s: %w", key, err)
	}
	var d hub.DeadLetter
	if err := json.Unmarshal(e.Value(), &d); err != nil {
		return nil, fmt.Errorf("decode dead letter %s: %w", key, err)
	}
	return &d, nil
}

// DeadLetters returns a webhook's dead letters, oldest failure first.
func (c *Catalog) DeadLetters(ctx context.Context, webhook string) ([]*hub.DeadLetter, error) {
	if !validKey(webhook) {
		return nil, nil
	}
	keys, err := c.deadLetters.ListKeysFiltered(ctx, webhook+".>")
	if err != nil {
		return nil, fmt.Errorf("list dead letters of %s: %w", webhook, err)
	}
	var out []*hub.DeadLetter
	for k := range keys.Keys() {
		d, err := c.readDeadLetter(ctx, k)
		if hub.ErrorCode(err) == hub.ENOTFOUND {
			continue // replayed or purged since the listing
		} else if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *hub.DeadLetter) int {
		return cmp.Or(a.Failed.Compare(b.Failed), strings.Compare(a.MessageID, b.MessageID))
	})
	return out, nil
}

// DeleteDeadLetter removes a dead letter.
func (c *Catalog) DeleteDeadLetter(ctx context.Context, webhook, msgID string) error {
	key := deadLetterKey(webhook, msgID)
	if key == "" {
		return nil
	}
	if err := c.deadLetters.Purge(ctx, key); err != nil {
		return fmt.Errorf("purge dead letter %s: %w", key, err)
	}
	return nil
}
