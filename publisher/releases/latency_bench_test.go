package releases_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
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
// the same way, in the same run, the two taking turns release by release.
// The server syncs every write to disk, as the embedded one does.
//
// It makes BENCH_RELEASE_RUNS runs (default 3) of BENCH_RELEASES releases
// each (default 2,000, so that the p99 is the 20th slowest and not one
// outlier), each run on packages made for it off the clock, and reports
// every run's p99s and their ratio (run1-release-p99-ms,
// run1-raw-p99-ms, run1-p99-ratio, …) and, as p99-ratio with its
// p50s and p99s, the median run's (by ratio; the lower of the middle two
// for an even count). Run it with -benchtime 1x.
func BenchmarkReleaseToSubscriber(b *testing.B) {
	n := envInt(b, "BENCH_RELEASES", 2000)
	runs := envInt(b, "BENCH_RELEASE_RUNS", 3)
	ctx := context.Background()
	r := newReplica(b, "", b.TempDir(), nil) // its embedded NATS
	_, sub := natstest.Connect(b, r.hub.NATS)
	if _, err := sub.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"}, Storage: jetstream.FileStorage}); err != nil {
		b.Fatal(err)
	}
	hubArrivals := natstest.WatchArrivals(b, sub, wire.Stream, func(m jetstream.Msg) string { return m.Headers().Get(wire.HeaderSubject) })
	rawArrivals := natstest.WatchArrivals(b, sub, "RAW", func(m jetstream.Msg) string { return m.Subject() })
	body := make([]byte, 1500) // about the size of an announced package
	b.ResetTimer()
	for range b.N {
		var results []releaseRun
		for run := range runs {
			b.StopTimer()
			ready := make([]*hub.Package, n)
			for i := range ready {
				ready[i] = r.readyPackage(b, "korgau123")
			}
			b.StartTimer()
			var hubLat, rawLat []time.Duration
			for i, p := range ready {
				subject := "raw.x." + strconv.Itoa(run) + "." + strconv.Itoa(i)
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
			res := releaseRun{
				hubP50: natstest.Percentile(hubLat, .5), hubP99: natstest.Percentile(hubLat, .99),
				rawP50: natstest.Percentile(rawLat, .5), rawP99: natstest.Percentile(rawLat, .99),
			}
			results = append(results, res)
			b.ReportMetric(res.ratio(), fmt.Sprintf("run%d-p99-ratio", run+1))
			b.ReportMetric(float64(res.hubP99.Microseconds())/1000, fmt.Sprintf("run%d-release-p99-ms", run+1))
			b.ReportMetric(float64(res.rawP99.Microseconds())/1000, fmt.Sprintf("run%d-raw-p99-ms", run+1))
			b.Logf("run %d: release->receive p50 %v p99 %v; raw publish->receive p50 %v p99 %v; p99 ratio %.2f (n=%d)",
				run+1, res.hubP50, res.hubP99, res.rawP50, res.rawP99, res.ratio(), n)
		}
		med := slices.SortedFunc(slices.Values(results), func(x, y releaseRun) int { return cmp.Compare(x.ratio(), y.ratio()) })[(len(results)-1)/2]
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(ms(med.hubP50), "release-p50-ms")
		b.ReportMetric(ms(med.hubP99), "release-p99-ms")
		b.ReportMetric(ms(med.rawP50), "raw-p50-ms")
		b.ReportMetric(ms(med.rawP99), "raw-p99-ms")
		b.ReportMetric(med.ratio(), "p99-ratio")
		b.ReportMetric(float64(n), "releases/run")
		b.Logf("median of %d runs: p99 ratio %.2f (target <= 2)", runs, med.ratio())
		if b.N > 1 {
			b.Skip("one round is the measurement")
		}
	}
}

// releaseRun is one run's latencies, release beside raw publish.
type releaseRun struct{ hubP50, hubP99, rawP50, rawP99 time.Duration }

func (r releaseRun) ratio() float64 { return float64(r.hubP99) / float64(r.rawP99) }

// envInt reads a positive count from the environment, def when unset.
func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
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
