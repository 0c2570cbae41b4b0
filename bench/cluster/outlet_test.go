package cluster

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/publisher/wire"
)

// outlet is a partner outlet receiving its releases as the hub tells it
// to (GET /v1/me/nats): connected to the cluster with its API key (the
// hub's auth callout admits it), reading its durable consumer, acking
// each message, deduplicating by the CloudEvent id.
type outlet struct {
	name string
	key  string
	acc  struct {
		URL         string `json:"url"`
		User        string `json:"user"`
		Stream      string `json:"stream"`
		Consumer    string `json:"consumer"`
		InboxPrefix string `json:"inboxprefix"`
	}
	nc *nats.Conn

	mu         sync.Mutex
	seen       map[string]int       // ce-id -> deliveries
	first      map[string]time.Time // ce-id -> first delivery
	deliveries int
	ackErrors  int
	consumeErr int
	reconnects int
	arrived    chan struct{}
}

// connectOutlet asks base for the partner key's NATS access and starts
// consuming until the test ends.
func connectOutlet(t *testing.T, api *apiClient, base, name, key string) *outlet {
	t.Helper()
	o := &outlet{name: name, key: key, seen: map[string]int{}, first: map[string]time.Time{}, arrived: make(chan struct{}, 1)}
	api.json(t, base, "GET", "/v1/me/nats", key, "", http.StatusOK, &o.acc)
	nc, err := nats.Connect(o.acc.URL, nats.UserInfo(o.acc.User, key), nats.CustomInboxPrefix(o.acc.InboxPrefix),
		nats.Name("outlet "+name), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond),
		nats.ReconnectHandler(func(*nats.Conn) { o.mu.Lock(); o.reconnects++; o.mu.Unlock() }),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatalf("outlet %s: connect to %s as %s: %v", name, o.acc.URL, o.acc.User, err)
	}
	o.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); o.consume(ctx, js) }()
	t.Cleanup(func() { cancel(); <-done; nc.Close() })
	return o
}

// consume reads the consumer, starting again whenever the client gives
// up on it (a node gone with the consumer's leader), until ctx ends.
func (o *outlet) consume(ctx context.Context, js jetstream.JetStream) {
	for ctx.Err() == nil {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		cons, err := js.Consumer(c, o.acc.Stream, o.acc.Consumer)
		cancel()
		if err != nil {
			o.mu.Lock()
			o.consumeErr++
			o.mu.Unlock()
			time.Sleep(200 * time.Millisecond)
			continue
		}
		cc, err := cons.Consume(o.handle,
			// Short pulls with heartbeats: a pull lost with a node is
			// noticed within a second or two, not the default 30 s.
			jetstream.PullExpiry(4*time.Second), jetstream.PullHeartbeat(time.Second),
			jetstream.ConsumeErrHandler(func(jetstream.ConsumeContext, error) {
				o.mu.Lock()
				o.consumeErr++
				o.mu.Unlock()
			}))
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		select {
		case <-ctx.Done():
			cc.Stop()
			<-cc.Closed()
			return
		case <-cc.Closed():
		}
	}
}

func (o *outlet) handle(m jetstream.Msg) {
	id := m.Headers().Get(wire.HeaderID)
	now := time.Now()
	o.mu.Lock()
	o.deliveries++
	o.seen[id]++
	if _, ok := o.first[id]; !ok {
		o.first[id] = now
	}
	o.mu.Unlock()
	select {
	case o.arrived <- struct{}{}:
	default:
	}
	// An ack the server does not confirm (its node died) leaves the
	// message to come again after the consumer's AckWait: a duplicate the
	// dedupe by ce-id absorbs, counted here.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.DoubleAck(ctx); err != nil {
		o.mu.Lock()
		o.ackErrors++
		o.mu.Unlock()
	}
}

// outletCounts is a snapshot of what an outlet received.
type outletCounts struct {
	distinct, deliveries, redelivered, ackErrors, consumeErrors, reconnects int
}

func (o *outlet) counts() outletCounts {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := outletCounts{distinct: len(o.seen), deliveries: o.deliveries, ackErrors: o.ackErrors, consumeErrors: o.consumeErr, reconnects: o.reconnects}
	c.redelivered = c.deliveries - c.distinct
	return c
}

// waitAll waits until the outlet has received every id of want, and
// returns how long that took, or the ids still missing at timeout.
func (o *outlet) waitAll(want map[string]bool, timeout time.Duration) (time.Duration, []string) {
	began := time.Now()
	deadline := time.After(timeout)
	for {
		var missing []string
		o.mu.Lock()
		for id := range want {
			if o.seen[id] == 0 {
				missing = append(missing, id)
			}
		}
		o.mu.Unlock()
		if len(missing) == 0 {
			return time.Since(began), nil
		}
		select {
		case <-o.arrived:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			return time.Since(began), missing
		}
	}
}

// unexpected lists ids the outlet received that are not in want: a
// release it should not have had, or one nobody made.
func (o *outlet) unexpected(want map[string]bool) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for id := range o.seen {
		if !want[id] {
			out = append(out, id)
		}
	}
	return out
}

// arrival is when the outlet first received id.
func (o *outlet) arrival(id string) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.first[id]
	return t, ok
}

func (c outletCounts) String() string {
	return fmt.Sprintf("%d distinct, %d deliveries (%d redelivered), %d unconfirmed acks, %d consume errors, %d reconnects",
		c.distinct, c.deliveries, c.redelivered, c.ackErrors, c.consumeErrors, c.reconnects)
}
