package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
)

// JetStream error codes (nats-server's ErrorIdentifier) that mean its
// store has no room.
const (
	jsInsufficientResources    = 10023
	jsStorageResourcesExceeded = 10047
	jsNotEnabled               = 10076
	jsNotEnabledForAccount     = 10039
)

// classify turns NATS failures into domain errors, so every path answers
// alike: EFULL when JetStream's disk has no room, EUNAVAILABLE when NATS
// does not answer (no connection, no responders, a timeout, JetStream
// switched off). Conflicts, absent keys, the caller's own cancellation and
// anything else pass through unchanged, for the callers that test them.
// write says whether the sentence may say nothing was changed.
//
// storeFailed, when not nil, tells of the embedded server's file store
// failing a write (a full disk): JetStream does not answer such a write at
// all, so the timeout is answered as EFULL.
func classify(ctx context.Context, err error, write bool, storeFailed func() string) error {
	if err == nil || isConflict(err) || isMissing(err) {
		return err
	}
	var herr *hub.Error
	if errors.As(err, &herr) {
		return err
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return err
	}
	after := ""
	if write {
		after = "; nothing was changed"
	}
	switch {
	case diskFull(err), write && notAnswering(err) && storeFailed != nil && storeFailed() != "":
		return noRoom(after, err)
	case notAnswering(err):
		return fmt.Errorf("%w: %w", hub.Errorf(hub.EUNAVAILABLE,
			"NATS is not answering%s; try again in a minute", after), err)
	}
	return err
}

// noRoom is the EFULL answer for JetStream's disk being full; after says
// what became of the write ("; nothing was changed"), if anything.
func noRoom(after string, err error) error {
	return fmt.Errorf("%w: %w", hub.Errorf(hub.EFULL,
		"NATS JetStream has no room left on its disk%s; free space there and try again", after), err)
}

// diskFull reports whether err is JetStream saying its store is full.
func diskFull(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jsInsufficientResources, jsStorageResourcesExceeded:
			return true
		}
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "no space left") || strings.Contains(msg, "insufficient resources") ||
		strings.Contains(msg, "insufficient storage") || strings.Contains(msg, "disk quota")
}

// notAnswering reports whether err means NATS (or its JetStream) did not
// answer.
func notAnswering(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.ErrorCode == jsNotEnabled, apiErr.ErrorCode == jsNotEnabledForAccount, apiErr.Code == 503:
			return true
		}
	}
	for _, target := range []error{
		context.DeadlineExceeded, nats.ErrTimeout, nats.ErrNoResponders, nats.ErrConnectionClosed,
		// The hub's connection buffers nothing while it reconnects.
		nats.ErrReconnectBufExceeded,
		nats.ErrConnectionDraining, nats.ErrDisconnected, nats.ErrConnectionReconnecting, nats.ErrNoServers,
		nats.ErrJetStreamNotEnabled, nats.ErrJetStreamNotEnabledForAccount,
		jetstream.ErrJetStreamNotEnabled, jetstream.ErrJetStreamNotEnabledForAccount, jetstream.ErrNoStreamResponse,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// classified is a bucket whose errors are classified (see classify), and
// whose revision-checked writes settle for settleFor (putRevised).
type classified struct {
	jetstream.KeyValue
	storeFailed func() string
	settleFor   time.Duration
}

func (b classified) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	e, err := b.KeyValue.Get(ctx, key)
	return e, classify(ctx, err, false, b.storeFailed)
}

func (b classified) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	rev, err := b.KeyValue.Put(ctx, key, value)
	return rev, classify(ctx, err, true, b.storeFailed)
}

func (b classified) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	rev, err := b.KeyValue.Create(ctx, key, value, opts...)
	return rev, classify(ctx, err, true, b.storeFailed)
}

func (b classified) Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error) {
	rev, err := b.KeyValue.Update(ctx, key, value, revision)
	return rev, classify(ctx, err, true, b.storeFailed)
}

func (b classified) Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error {
	return classify(ctx, b.KeyValue.Delete(ctx, key, opts...), true, b.storeFailed)
}

func (b classified) Purge(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error {
	return classify(ctx, b.KeyValue.Purge(ctx, key, opts...), true, b.storeFailed)
}

func (b classified) Status(ctx context.Context) (jetstream.KeyValueStatus, error) {
	st, err := b.KeyValue.Status(ctx)
	return st, classify(ctx, err, false, b.storeFailed)
}

func (b classified) ListKeysFiltered(ctx context.Context, filters ...string) (jetstream.KeyLister, error) {
	l, err := b.KeyValue.ListKeysFiltered(ctx, filters...)
	return l, classify(ctx, err, false, b.storeFailed)
}
