package releases_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/publisher/wire"
)

func percentile(l []time.Duration, p float64) time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// arrivals notes when each message arrives at a consumer, by a key.
type arrivals struct {
	mu      sync.Mutex
	at      map[string]time.Time
	arrived chan struct{}
}

func watchArrivals(tb testing.TB, js jetstream.JetStream, stream string, key func(jetstream.Msg) string) *arrivals {
	a := &arrivals{at: map[string]time.Time{}, arrived: make(chan struct{}, 1)}
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

func (a *arrivals) wait(tb testing.TB, key string) time.Time {
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

// BenchmarkReleaseToSubscriber measures the time from a producer's
// release call to the announcement reaching a consumer, beside a raw
// JetStream publish to a stream on the same server reaching a consumer
// the same way, in the same run. The server syncs every write to disk,
// as the embedded one does.
func BenchmarkReleaseToSubscriber(b *testing.B) {
	const n = 200
	ctx := context.Background()
	srv := natstest.Start(b, "")
	r := newReplica(b, srv, b.TempDir(), nil)
	_, sub := natstest.Connect(b, srv)
	if _, err := sub.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"}, Storage: jetstream.FileStorage}); err != nil {
		b.Fatal(err)
	}
	hubArrivals := watchArrivals(b, sub, wire.Stream, func(m jetstream.Msg) string { return m.Headers().Get("ce-subject") })
	rawArrivals := watchArrivals(b, sub, "RAW", func(m jetstream.Msg) string { return m.Subject() })
	var ready []*hub.Package
	for range n {
		ready = append(ready, r.readyPackage(b, "korgau123"))
	}
	body := make([]byte, 1500) // about the size of an announced package
	b.ResetTimer()
	for range b.N {
		var hubLat, rawLat []time.Duration
		for i, p := range ready {
			subject := "raw.x." + strconv.Itoa(i)
			start := time.Now()
			if _, err := sub.Publish(ctx, subject, body); err != nil {
				b.Fatal(err)
			}
			rawLat = append(rawLat, rawArrivals.wait(b, subject).Sub(start))

			start = time.Now()
			if _, err := r.svc.Release(ctx, r.admin, p.ID, nil); err != nil {
				b.Fatal(err)
			}
			hubLat = append(hubLat, hubArrivals.wait(b, p.ID).Sub(start))
		}
		hp50, hp99 := percentile(hubLat, .5), percentile(hubLat, .99)
		rp50, rp99 := percentile(rawLat, .5), percentile(rawLat, .99)
		b.ReportMetric(float64(hp50.Microseconds())/1000, "release-p50-ms")
		b.ReportMetric(float64(hp99.Microseconds())/1000, "release-p99-ms")
		b.ReportMetric(float64(rp50.Microseconds())/1000, "raw-p50-ms")
		b.ReportMetric(float64(rp99.Microseconds())/1000, "raw-p99-ms")
		b.ReportMetric(float64(hp99)/float64(rp99), "p99-ratio")
		b.Logf("release->receive p50 %v p99 %v; raw publish->receive p50 %v p99 %v; p99 ratio %.2f (n=%d)",
			hp50, hp99, rp50, rp99, float64(hp99)/float64(rp99), n)
		if b.N > 1 {
			b.Skip("one round is the measurement")
		}
	}
}

// BenchmarkEmbargoFiringDelay schedules packages with embargoes spread
// over a few seconds and measures how late each announcement reaches a
// consumer after its embargo time.
func BenchmarkEmbargoFiringDelay(b *testing.B) {
	const n = 100
	ctx := context.Background()
	srv := natstest.Start(b, "")
	r := newReplica(b, srv, b.TempDir(), nil)
	r.runScheduler(b)
	_, sub := natstest.Connect(b, srv)
	got := watchArrivals(b, sub, wire.Stream, func(m jetstream.Msg) string { return m.Headers().Get("ce-subject") })
	for range b.N {
		embargoes := map[string]time.Time{}
		base := time.Now().Add(time.Second)
		for i := range n {
			p := r.readyPackage(b, "korgau123")
			e := base.Add(time.Duration(i) * 37 * time.Millisecond)
			if _, err := r.svc.Release(ctx, r.admin, p.ID, &e); err != nil {
				b.Fatal(err)
			}
			embargoes[p.ID] = e
		}
		var delays []time.Duration
		for id, e := range embargoes {
			delays = append(delays, got.wait(b, id).Sub(e))
		}
		b.ReportMetric(float64(percentile(delays, .5).Microseconds())/1000, "delay-p50-ms")
		b.ReportMetric(float64(percentile(delays, .99).Microseconds())/1000, "delay-p99-ms")
		b.Logf("embargo -> receive delay p50 %v p99 %v max %v (n=%d)", percentile(delays, .5), percentile(delays, .99), slices.Max(delays), n)
	}
}
