package partners

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/publisher/wire"
)

var _ hub.ConsumerStates = (*Access)(nil)

// ConsumerState reads partner id's consumer as NATS reports it, for the
// admin's view of who is receiving. It changes nothing: a missing
// consumer is reported, not made.
func (a *Access) ConsumerState(ctx context.Context, id string) (hub.ConsumerState, error) {
	name := ConsumerName(id)
	c, err := a.js.Consumer(ctx, wire.Stream, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return hub.ConsumerState{Consumer: name}, nil
	} else if err != nil {
		return hub.ConsumerState{}, fmt.Errorf("consumer of partner %s: %w", id, err)
	}
	info := c.CachedInfo()
	return hub.ConsumerState{
		Consumer: name, Exists: true, Pending: info.NumPending, AckPending: info.NumAckPending,
		Redelivered: info.NumRedelivered, LastDelivered: info.Delivered.Last, LastAck: info.AckFloor.Last,
	}, nil
}
