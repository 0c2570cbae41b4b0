package pull_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/pull"
)

// following runs a following Puller until the test ends.
func (e *env) following(t testing.TB, opts pull.Options) (stop func()) {
	t.Helper()
	opts.Follow = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	p := e.puller(t, nil, opts)
	go func() { done <- p.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("a stopped pull --follow: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("pull --follow did not stop within 10 s")
		}
	}
	t.Cleanup(stop)
	return stop
}

// releaseAndWait releases a package with one asset and returns how long
// the asset took from the release call to its verified file in place.
func (e *env) releaseAndWait(t testing.TB, lang, headline string, poster []byte) (string, time.Duration) {
	t.Helper()
	id := e.draft(t, "korgau123", lang, headline, map[string][]byte{"poster.png": poster})
	start := time.Now()
	e.release(t, id)
	path := filepath.Join(e.dir("korgau123", lang, id), "poster.png")
	waitFor(t, "the release to be mirrored", 10*time.Second, func() bool { return fileIs(path, poster) })
	return id, time.Since(start)
}

func TestPullFollowsOverNATS(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, hubtest.Options{})
	// Polling an hour apart: anything that arrives in time came over NATS.
	stop := e.following(t, pull.Options{PollInterval: time.Hour})
	id, took := e.releaseAndWait(t, "ru", "Первый", png("poster", 1000))
	t.Logf("release to verified file over NATS: %v", took)
	dir := e.dir("korgau123", "ru", id)

	e.upload(t, id, map[string][]byte{"poster.png": png("corrected", 1000)})
	e.release(t, id)
	waitFor(t, "the correction", 10*time.Second, func() bool {
		return fileIs(filepath.Join(dir, "poster.png"), png("corrected", 1000)) &&
			fileIs(filepath.Join(dir, ".versions", "1", "poster.png"), png("poster", 1000))
	})
	if _, err := e.producer.Withdraw(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the withdrawal", 10*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(dir, "poster.png"))
		return fileExists(filepath.Join(dir, pull.NoticeName)) && os.IsNotExist(err)
	})
	stop()
	if n := len(e.hub.Requests("GET", "/v1/releases")); n != 1 {
		t.Errorf("the change log was read %d times; over NATS only the catch-up reads it", n)
	}

	// Stopped, it misses a release; started again, it catches up.
	missed := e.publish(t, "korgau123", "kk", "Жіберілген", map[string][]byte{"poster.png": png("missed", 1000)})
	e.following(t, pull.Options{PollInterval: time.Hour})
	waitFor(t, "the release made while stopped", 10*time.Second, func() bool {
		return fileIs(filepath.Join(e.dir("korgau123", "kk", missed), "poster.png"), png("missed", 1000))
	})
}

func TestPullFollowFallsBackToPolling(t *testing.T) {
	for name, setup := range map[string]func(t *testing.T) *env{
		// A partner key without a partner record has no NATS access (404).
		"no NATS access": func(t *testing.T) *env {
			e := newEnv(t, hubtest.Options{})
			e.partnerKey = e.hub.PublicPartnerKey(t)
			return e
		},
		// The hub hands out an address where no NATS listens.
		"NATS unreachable": func(t *testing.T) *env {
			return newEnv(t, hubtest.Options{AdvertisedNATSURL: "nats://127.0.0.1:1"})
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := setup(t)
			e.following(t, pull.Options{PollInterval: 100 * time.Millisecond, NATSRetry: 200 * time.Millisecond})
			_, took := e.releaseAndWait(t, "ru", "Опрос", png("poster", 1000))
			t.Logf("release to verified file, polling every 100 ms: %v", took)
			if n := len(e.hub.Requests("GET", "/v1/me/nats")); n < 1 {
				t.Error("pull never asked for NATS access")
			}
		})
	}
}

func fileExists(path string) bool { _, err := os.Stat(path); return err == nil }

// BenchmarkReleaseToVerifiedFile measures `hub pull --follow` from the
// release call to the asset's verified file in the destination, over
// NATS and by polling the change log (every 250 ms here; 5 s by default).
func BenchmarkReleaseToVerifiedFile(b *testing.B) {
	for _, mode := range []struct {
		name string
		opts pull.Options
	}{
		{"nats", pull.Options{PollInterval: time.Hour}},
		{"poll-250ms", pull.Options{NoNATS: true, PollInterval: 250 * time.Millisecond}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			e := newEnv(b, hubtest.Options{})
			e.following(b, mode.opts)
			poster := png("poster", 100_000) // 1 MB
			var total time.Duration
			for b.Loop() {
				b.StopTimer()
				id := e.draft(b, "korgau123", "ru", "Bench", map[string][]byte{"poster.png": poster})
				// Releases come at any moment, not in step with the polls.
				time.Sleep(rand.N(250 * time.Millisecond))
				b.StartTimer()
				start := time.Now()
				e.release(b, id)
				path := filepath.Join(e.dir("korgau123", "ru", id), "poster.png")
				waitFor(b, "the release to be mirrored", 10*time.Second, func() bool { return fileIs(path, poster) })
				total += time.Since(start)
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/release")
		})
	}
}

// TestPullFollowSurvivesAReset: over NATS, releases keep arriving after
// the hub resets the partner's consumer (as it does when an entitlement
// is removed), on the embedded server and on the shipped external
// config, and (embedded) after the server closed its connection. Polling is an hour apart, and the change log is read only by
// the catch-up at the start: everything came over NATS.
func TestPullFollowSurvivesAReset(t *testing.T) {
	for name, opts := range map[string]func(t *testing.T) hubtest.Options{
		"embedded": func(t *testing.T) hubtest.Options { return hubtest.Options{} },
		"external": func(t *testing.T) hubtest.Options {
			n := natstest.RunShipped(t, "../deploy/nats/hub-single.conf")
			return hubtest.Options{NATSURL: n.HubURL, NATSCalloutSeed: n.CalloutSeedFile}
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, opts(t))
			e.following(t, pull.Options{PollInterval: time.Hour})
			e.releaseAndWait(t, "ru", "До сброса", png("before", 1000))
			access, err := mustClient(t, e.hub.URL, e.partnerKey, nil).MyNATS(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.hub.Server.JetStream().ResetConsumer(ctx, access.Stream, access.Consumer); err != nil {
				t.Fatal(err)
			}
			e.releaseAndWait(t, "ru", "После сброса", png("after", 1000))
			if e.hub.NATS != nil {
				// The server ends the connection, as at a credential's end:
				// the client comes back with its key, still good.
				k, err := e.hub.Service.Authenticate(ctx, e.partnerKey)
				if err != nil {
					t.Fatal(err)
				}
				e.hub.NATS.Kick(k.ID + "/" + k.Hash[:12]) // the grant of this secret (publisher/partners.grantID)
			}
			e.releaseAndWait(t, "kk", "Кейін", png("later", 1000))
			if n := len(e.hub.Requests("GET", "/v1/releases")); n != 1 {
				t.Errorf("the change log was read %d times; over NATS only the catch-up reads it", n)
			}
		})
	}
}
