package natstest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Percentile returns the p-th (0 to 1) of the durations l, for latency
// benchmarks.
func Percentile(l []time.Duration, p float64) time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// Arrivals notes when each message arrives at a consumer, by a key: the
// receiving end of latency benchmarks.
type Arrivals struct {
	mu      sync.Mutex
	at      map[string]time.Time
	arrived chan struct{}
}

// WatchArrivals consumes the new messages of stream from now on, noting
// each one's arrival under key(msg), until the test ends.
func WatchArrivals(tb testing.TB, js jetstream.JetStream, stream string, key func(jetstream.Msg) string) *Arrivals {
	a := &Arrivals{at: map[string]time.Time{}, arrived: make(chan struct{}, 1)}
	cons, err := js.OrderedConsumer(context.Background(), stream, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		tb.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		now := time.Now()
		a.mu.Lock()
		a.at[key(m)] = now
		a.mu.Unlock()
		select {
		case a.arrived <- struct{}{}:
		default:
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(cc.Stop)
	return a
}

// Wait returns when the message with key arrived, waiting up to 10 s.
func (a *Arrivals) Wait(tb testing.TB, key string) time.Time {
	deadline := time.After(10 * time.Second)
	for {
		a.mu.Lock()
		t, ok := a.at[key]
		a.mu.Unlock()
		if ok {
			return t
		}
		select {
		case <-a.arrived:
		case <-deadline:
			tb.Fatalf("%s never arrived", key)
		}
	}
}
