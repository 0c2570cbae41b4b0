package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/natstest"
)

// connectExternal connects to an external server the way the hub does:
// reconnecting forever, buffering nothing while it does.
func connectExternal(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectBufSize(-1), nats.ReconnectWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// TestNoGhostCreatesAcrossNATSOutage creates packages while an external
// nats-server stops and starts again: every create answered nil exists
// once NATS is back, every one answered EUNAVAILABLE does not, even after
// waiting past any reconnect, and no other answer is given.
func TestNoGhostCreatesAcrossNATSOutage(t *testing.T) {
	ctx := context.Background()
	ext := natstest.RunExternal(t)
	js := connectExternal(t, ext.URL())
	c, err := catalog.Open(ctx, js, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ids := hub.NewIDSource(time.Now)

	var mu sync.Mutex
	answers := map[string]error{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	writers := func(n int) {
		for range n {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					p := newPackage(ids)
					err := c.CreatePackage(ctx, p)
					mu.Lock()
					answers[p.ID] = err
					mu.Unlock()
					if err != nil {
						time.Sleep(20 * time.Millisecond)
					}
				}
			})
		}
	}
	// Writers busy when NATS stops settle their write once it is back;
	// those that start during the outage meet a connection that buffers
	// nothing.
	writers(4)
	time.Sleep(300 * time.Millisecond)
	ext.Stop()
	time.Sleep(300 * time.Millisecond)
	writers(4)
	time.Sleep(1200 * time.Millisecond)
	ext.Start()
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()
	time.Sleep(time.Second) // past any reconnect: a buffered write would land now

	var ok, failed int
	for id, err := range answers {
		_, gerr := c.Package(ctx, id)
		switch {
		case err == nil:
			ok++
			if gerr != nil {
				t.Errorf("package %s answered created but reads %v", id, gerr)
			}
		case hub.ErrorCode(err) == hub.EUNAVAILABLE:
			failed++
			if gerr == nil {
				t.Errorf("ghost write: package %s answered %q but exists", id, err)
			} else if hub.ErrorCode(gerr) != hub.ENOTFOUND {
				t.Errorf("package %s: %v", id, gerr)
			}
		default:
			t.Errorf("package %s: an answer other than created or unavailable: %v", id, err)
		}
	}
	if ok == 0 || failed == 0 {
		t.Fatalf("the outage did not meet creates on both sides: %d created, %d unavailable", ok, failed)
	}
	t.Logf("%d created, %d unavailable, no ghost", ok, failed)
}

// TestLostAckSettles gives each revision-checked update a deadline of a
// few microseconds, so many are sent and stored while their caller has
// stopped waiting for the ack. With one writer the read-back must count
// each stored write once, as success, and each refused one never: the
// counter's final value is exactly the number answered success. With four
// writers racing, a write overtaken after it landed cannot be told from
// one that lost, and is answered unknown (EUNAVAILABLE), never success or
// conflict: the counter lies between the successes and successes plus
// unknowns.
func TestLostAckSettles(t *testing.T) {
	for _, writers := range []int{1, 4} {
		t.Run(fmt.Sprint(writers, " writers"), func(t *testing.T) { lostAcks(t, writers) })
	}
}

func lostAcks(t *testing.T, writers int) {
	ctx := context.Background()
	srv := natstest.Start(t, "")
	_, js := natstest.Connect(t, srv)
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "settle"})
	if err != nil {
		t.Fatal(err)
	}
	enc := func(n int) []byte { b, _ := json.Marshal(n); return b }
	if _, err := catalog.PutRevised(ctx, kv, js, "counter", "n", enc(0), 0); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	succeeded, unknown := 0, 0
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range 40 {
				e, err := kv.Get(ctx, "n")
				if err != nil {
					t.Error(err)
					return
				}
				var n int
				_ = json.Unmarshal(e.Value(), &n)
				short, cancel := context.WithTimeout(ctx, time.Duration(20+(w*60+i*7)%300)*time.Microsecond)
				_, err = catalog.PutRevised(short, kv, js, "counter", "n", enc(n+1), e.Revision())
				cancel()
				mu.Lock()
				switch {
				case err == nil:
					succeeded++
				case hub.ErrorCode(err) == hub.EUNAVAILABLE:
					unknown++
					if !hub.IsUnconfirmed(err) {
						t.Errorf("an unknown outcome not marked hub.Unconfirmed: %v", err)
					}
				case errors.Is(err, context.DeadlineExceeded) && hub.ErrorCode(err) == hub.EINTERNAL:
					// expired before it was sent: nothing was
				case hub.ErrorCode(err) == hub.EINTERNAL && writers > 1:
					// a conflict: another writer won
				default:
					t.Errorf("unexpected answer: %v", err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	e, err := kv.Get(ctx, "n")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	_ = json.Unmarshal(e.Value(), &n)
	if writers == 1 && (unknown != 0 || n != succeeded) {
		t.Fatalf("counter is %d, but %d writes were answered stored and %d unknown", n, succeeded, unknown)
	}
	if n < succeeded || n > succeeded+unknown {
		t.Fatalf("counter is %d, outside %d stored to %d stored or unknown", n, succeeded, succeeded+unknown)
	}
	t.Logf("counter %d: %d answered stored, %d unknown", n, succeeded, unknown)
}
