package feeds_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndication-hub/hub/feeds"
	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/publisher/releases"
)

// waitFor polls cond until it holds, failing after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

// TestInvalidatorEmptiesTheCacheOnEveryAnnouncement runs the invalidator
// on a real JetStream release stream, with an index that lags behind it.
func TestInvalidatorEmptiesTheCacheOnEveryAnnouncement(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := natstest.Start(t, "")
	_, js := natstest.Connect(t, srv)
	pub, err := releases.Open(ctx, js, releases.Options{PublicURL: base})
	if err != nil {
		t.Fatal(err)
	}
	cache := feeds.NewCache(feeds.CacheOptions{})
	var indexed atomic.Bool
	var asked atomic.Value
	inv := feeds.NewInvalidator(js, cache, feeds.InvalidatorOptions{
		IndexShows: func(_ context.Context, id string, event hub.Event, version int) bool {
			asked.Store([]any{id, event, version})
			return indexed.Load()
		},
	})
	done := make(chan struct{})
	go func() { defer close(done); inv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-inv.Ready()

	var renders atomic.Int32
	get := func() {
		t.Helper()
		if _, err := cache.Get(ctx, feeds.Key{Scope: "public", Format: feeds.RSS}, func(context.Context) ([]byte, error) {
			renders.Add(1)
			return []byte("feed"), nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	get()
	get()
	if renders.Load() != 1 {
		t.Fatalf("%d renders before any announcement, want 1", renders.Load())
	}

	gen := cache.Generation()
	view := &hub.Package{ID: ruID, Campaign: "korgau123", Language: "ru", Version: 2, Status: hub.StatusReleased}
	if err := pub.Announce(ctx, hub.Announcement{Event: hub.EventCorrected, Version: 2, Time: time.Now()}, view); err != nil {
		t.Fatal(err)
	}
	d := waitFor(t, 5*time.Second, "invalidation on the announcement", func() bool { return cache.Generation() > gen })
	t.Logf("cache invalidated %v after the publish was acknowledged", d)
	get()
	if renders.Load() != 2 {
		t.Errorf("%d renders after the announcement, want 2", renders.Load())
	}

	// Once the index shows the announcement, the cache is emptied again:
	// what was rendered from the lagging index in between is dropped.
	gen = cache.Generation()
	time.Sleep(30 * time.Millisecond)
	if cache.Generation() != gen {
		t.Fatal("invalidated again before the index showed the announcement")
	}
	if got, _ := asked.Load().([]any); len(got) != 3 || got[0] != ruID || got[1] != hub.EventCorrected || got[2] != 2 {
		t.Errorf("asked the index about %v", got)
	}
	indexed.Store(true)
	waitFor(t, 5*time.Second, "invalidation once the index caught up", func() bool { return cache.Generation() > gen })
	get()
	if renders.Load() != 3 {
		t.Errorf("%d renders after the index caught up, want 3", renders.Load())
	}
}
