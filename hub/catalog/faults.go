package catalog

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub/natsfault"
)

// classify turns NATS failures into domain errors (natsfault.Classify,
// which every NATS-backed part shares).
func classify(ctx context.Context, err error, write bool, storeFailed func() string) error {
	return natsfault.Classify(ctx, err, write, storeFailed)
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
