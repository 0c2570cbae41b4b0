package releases_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/publisher/wire"
)

// BenchmarkReleaseToSubscriber measures the time from a producer's
// release call to the announcement reaching a consumer, beside a raw
// JetStream publish to a stream on the same server reaching a consumer
// the same way, in the same run. The server syncs every write to disk,
// as the embedded one does.
func BenchmarkReleaseToSubscriber(b *testing.B) {
	const n = 200
	ctx := context.Background()
	r := newReplica(b, "", b.TempDir(), nil) // its embedded NATS
	_, sub := natstest.Connect(b, r.hub.NATS)
	if _, err := sub.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"}, Storage: jetstream.FileStorage}); err != nil {
		b.Fatal(err)
	}
	hubArrivals := natstest.WatchArrivals(b, sub, wire.Stream, func(m jetstream.Msg) string { return m.Headers().Get(wire.HeaderSubject) })
	rawArrivals := natstest.WatchArrivals(b, sub, "RAW", func(m jetstream.Msg) string { return m.Subject() })
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
			rawLat = append(rawLat, rawArrivals.Wait(b, subject).Sub(start))

			start = time.Now()
			if _, err := r.svc.Release(ctx, r.admin, p.ID, nil); err != nil {
				b.Fatal(err)
			}
			hubLat = append(hubLat, hubArrivals.Wait(b, p.ID).Sub(start))
		}
		hp50, hp99 := natstest.Percentile(hubLat, .5), natstest.Percentile(hubLat, .99)
		rp50, rp99 := natstest.Percentile(rawLat, .5), natstest.Percentile(rawLat, .99)
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
	r := newReplica(b, "", b.TempDir(), nil) // its embedded NATS
	_, sub := natstest.Connect(b, r.hub.NATS)
	got := natstest.WatchArrivals(b, sub, wire.Stream, func(m jetstream.Msg) string { return m.Headers().Get(wire.HeaderSubject) })
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
			delays = append(delays, got.Wait(b, id).Sub(e))
		}
		b.ReportMetric(float64(natstest.Percentile(delays, .5).Microseconds())/1000, "delay-p50-ms")
		b.ReportMetric(float64(natstest.Percentile(delays, .99).Microseconds())/1000, "delay-p99-ms")
		b.Logf("embargo -> receive delay p50 %v p99 %v max %v (n=%d)", natstest.Percentile(delays, .5), natstest.Percentile(delays, .99), slices.Max(delays), n)
	}
}
