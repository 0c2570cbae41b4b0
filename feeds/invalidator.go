package feeds

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/publisher/wire"
)

// InvalidatorOptions configures an Invalidator.
type InvalidatorOptions struct {
	// IndexShows reports whether this replica's package index holds the
	// state an announcement left (hub.Service.IndexShows). The release
	// stream can overtake the catalog's watch on another replica, so the
	// cache is emptied once when the announcement arrives and again once
	// the index shows it. nil empties it once.
	IndexShows func(ctx context.Context, id string, event hub.Event, version int) bool
	// SettleTimeout bounds the wait for the index; 0 means 10 s.
	SettleTimeout time.Duration
	Logger        *slog.Logger
}

// Invalidator empties a Cache whenever an announcement reaches the
// release stream, on whichever replica made it: every replica runs one,
// on an ordered consumer of its own that starts at new messages (the
// cache keeps nothing until the consumer runs, so no rendering can have
// missed an earlier one).
type Invalidator struct {
	js    jetstream.JetStream
	cache *Cache
	opts  InvalidatorOptions

	ready     chan struct{}
	readyOnce sync.Once
}

// NewInvalidator returns the invalidator of cache.
func NewInvalidator(js jetstream.JetStream, cache *Cache, opts InvalidatorOptions) *Invalidator {
	if opts.SettleTimeout <= 0 {
		opts.SettleTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Invalidator{js: js, cache: cache, opts: opts, ready: make(chan struct{})}
}

// Ready is closed once Run first consumes the stream; from then on the
// cache keeps what it renders.
func (v *Invalidator) Ready() <-chan struct{} { return v.ready }

// announcement is what the invalidator reads of a stream message.
type announcement struct {
	id       string
	event    hub.Event
	version  int
	deadline time.Time
}

// Run consumes the release stream until ctx ends, starting again (after
// a pause) if it cannot start or its consumer closes. While it is not
// consuming the cache keeps nothing, so feeds are rendered per request
// instead of going stale.
func (v *Invalidator) Run(ctx context.Context) {
	const pause = time.Second
	for {
		err := v.consume(ctx)
		if ctx.Err() != nil {
			return
		}
		v.opts.Logger.Warn("feed invalidation: not watching the release stream; feeds are rendered per request until it resumes", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
}

// consume runs one ordered consumer until ctx ends or the consumer closes.
func (v *Invalidator) consume(ctx context.Context) error {
	cons, err := v.js.OrderedConsumer(ctx, wire.Stream, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverNewPolicy,
		HeadersOnly:   true,
	})
	if err != nil {
		return fmt.Errorf("consume %s: %w", wire.Stream, err)
	}
	arrived := make(chan announcement, 64)
	stopped := make(chan struct{})
	defer close(stopped)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		v.cache.Invalidate()
		an, err := wire.Decode(m.Headers(), nil)
		if err != nil || v.opts.IndexShows == nil {
			return
		}
		a := announcement{id: an.ID.Package, event: an.ID.Event, version: an.ID.Version,
			deadline: time.Now().Add(v.opts.SettleTimeout)}
		select {
		case arrived <- a:
		case <-stopped:
		}
	}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		// The ordered consumer recreates itself from the last message it
		// saw; emptying the cache here costs one rendering per feed and
		// covers anything a gap could hide.
		v.cache.Invalidate()
		v.opts.Logger.Warn("feed invalidation: release stream consumer", "err", err)
	}))
	if err != nil {
		return fmt.Errorf("consume %s: %w", wire.Stream, err)
	}
	defer cc.Stop()
	v.cache.watch(true)
	defer v.cache.watch(false)
	v.readyOnce.Do(func() { close(v.ready) })
	v.settle(ctx, cc.Closed(), arrived)
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("the consumer of %s closed", wire.Stream)
}

// settle waits for the index to show each announcement, then empties the
// cache again. It checks every few milliseconds while any is waiting.
func (v *Invalidator) settle(ctx context.Context, closed <-chan struct{}, arrived <-chan announcement) {
	var waiting []announcement
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		var ticks <-chan time.Time
		if len(waiting) > 0 {
			ticks = tick.C
		}
		select {
		case <-ctx.Done():
			return
		case <-closed:
			return
		case a := <-arrived:
			waiting = append(waiting, a)
		case now := <-ticks:
			settled := false
			kept := waiting[:0]
			for _, a := range waiting {
				switch {
				case v.opts.IndexShows(ctx, a.id, a.event, a.version):
					settled = true
				case now.After(a.deadline):
					settled = true
					v.opts.Logger.Warn("feed invalidation: the package index did not show an announcement in time",
						"package", a.id, "event", a.event, "version", a.version)
				default:
					kept = append(kept, a)
				}
			}
			waiting = kept
			if settled {
				v.cache.Invalidate()
			}
		}
	}
}
