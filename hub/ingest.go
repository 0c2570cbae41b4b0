package hub

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ConsumerState is what NATS says of a partner's durable consumer on the
// release stream: how much waits for the outlet, and when it last took
// and acknowledged something. An outlet that silently stopped receiving
// shows as pending that grows while the last delivery grows old.
type ConsumerState struct {
	Consumer string
	// Exists is false when the hub keeps no consumer for the partner (an
	// inactive partner, or one the periodic sync has not reached yet).
	Exists bool
	// Pending counts announcements not yet delivered; AckPending those
	// delivered and not acknowledged; Redelivered those sent again.
	Pending     uint64
	AckPending  int
	Redelivered int
	// LastDelivered and LastAck are nil when nothing was ever delivered
	// or acknowledged.
	LastDelivered *time.Time
	LastAck       *time.Time
}

// ConsumerStates reads partners' consumers; its implementation is
// publisher/partners.Access. It only reads.
type ConsumerStates interface {
	// ConsumerState returns the state of partner id's consumer; a
	// missing consumer is a state (Exists false), not an error.
	ConsumerState(ctx context.Context, partner string) (ConsumerState, error)
}

// PartnerIngest is how one partner is receiving: its consumer, its
// webhooks with their dead letters, and its last pickup.
type PartnerIngest struct {
	Partner *Partner
	// Consumer is nil when there is no reader of consumers, or reading
	// it failed (ConsumerError says why).
	Consumer      *ConsumerState
	ConsumerError string
	Webhooks      []WebhookIngest
	// LastPickup is the partner's newest download, zip or republication
	// report, nil for none.
	LastPickup *time.Time
}

// WebhookIngest is a webhook and what it failed to accept.
type WebhookIngest struct {
	Webhook     *Webhook
	DeadLetters []*DeadLetter
}

// IngestHealth returns how every partner is receiving, for admins only
// (EFORBIDDEN for any other key). states may be nil: the consumers are
// then left out. It reads the whole pickup log, campaign by campaign, for
// the last pickups.
func (s *Service) IngestHealth(ctx context.Context, k *Key, states ConsumerStates) ([]PartnerIngest, error) {
	if err := RequireAdmin(k); err != nil {
		return nil, err
	}
	partners, err := s.catalog.Partners(ctx)
	if err != nil {
		return nil, fmt.Errorf("list partners: %w", err)
	}
	slices.SortFunc(partners, func(a, b *Partner) int { return strings.Compare(a.Name, b.Name) })
	hooks, err := s.catalog.Webhooks(ctx)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	last, err := s.lastPickups(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]PartnerIngest, 0, len(partners))
	for _, p := range partners {
		in := PartnerIngest{Partner: p}
		if t, ok := last[p.ID]; ok {
			in.LastPickup = &t
		}
		if states != nil {
			st, err := states.ConsumerState(ctx, p.ID)
			if err != nil {
				in.ConsumerError = err.Error()
			} else {
				in.Consumer = &st
			}
		}
		for _, w := range hooks {
			if w.Partner != p.ID {
				continue
			}
			dead, err := s.catalog.DeadLetters(ctx, w.ID)
			if err != nil {
				return nil, fmt.Errorf("list dead letters of %s: %w", w.ID, err)
			}
			in.Webhooks = append(in.Webhooks, WebhookIngest{Webhook: w, DeadLetters: dead})
		}
		out = append(out, in)
	}
	return out, nil
}

// lastPickups returns each partner's newest pickup time.
func (s *Service) lastPickups(ctx context.Context) (map[string]time.Time, error) {
	last := map[string]time.Time{}
	if s.pickups == nil {
		return last, nil
	}
	campaigns, err := s.catalog.Campaigns(ctx)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	for _, c := range campaigns {
		err := s.pickups.Scan(ctx, c.Slug, "", func(p Pickup) error {
			if p.Partner != "" && p.Time.After(last[p.Partner]) {
				last[p.Partner] = p.Time
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read the pickups of %s: %w", c.Slug, err)
		}
	}
	return last, nil
}
