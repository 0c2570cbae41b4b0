// Package publisher is the parent of the parts that turn the hub's state
// changes into what outlets receive, each in a package of its own:
//
//   - wire: the announcement on the wire (subjects, CloudEvents headers,
//     ninjs body), the one codec every writer and reader uses;
//   - releases: the release stream (the hub.Announcer), its change log
//     (the hub.ReleaseLog) and the scheduler that fires embargoes and
//     drains the outbox;
//   - partners: partners' NATS access (durable consumers filtered to their
//     entitlements, and on the embedded server their users);
//   - webhooks: delivery to partners' webhooks, one durable consumer each;
//   - pickups: the log of downloads and republication reports that
//     campaign reach is counted from.
//
// This package holds only what they share.
package publisher

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go/jetstream"
)

// OpenStream creates the stream, or updates it when it exists. Create
// first: on a fresh cluster, replicas calling create-or-update at once
// hang each other (see catalog.Open).
func OpenStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := js.CreateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		s, err = js.UpdateStream(ctx, cfg)
	}
	return s, err
}
