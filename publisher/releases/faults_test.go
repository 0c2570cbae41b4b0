package releases_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natstest"
)

// crashingAnnouncer stands in for a hub process that dies around the
// publish: before it (nothing published) or after it (published, but the
// announcement never marked done).
type crashingAnnouncer struct {
	hub.Announcer
	publishFirst bool
}

var errCrash = errors.New("the process died here")

func (c crashingAnnouncer) Announce(ctx context.Context, a hub.Announcement, view *hub.Package) error {
	if c.publishFirst {
		if err := c.Announcer.Announce(ctx, a, view); err != nil {
			return err
		}
	}
	return errCrash
}

// TestCrashAroundThePublishAnnouncesExactlyOnce kills the hub between the
// state write and the publish, and between the publish and marking it
// done; after a restart the release is announced exactly once.
func TestCrashAroundThePublishAnnouncesExactlyOnce(t *testing.T) {
	for _, tc := range []struct {
		name         string
		publishFirst bool
	}{
		{"between state write and publish", false},
		{"between publish and marking it done", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			natsURL := natstest.StartExternal(t)
			blobs := t.TempDir()
			dying := newReplica(t, natsURL, blobs, func(next hub.Announcer) hub.Announcer {
				return crashingAnnouncer{Announcer: next, publishFirst: tc.publishFirst}
			})
			p := dying.readyPackage(t, "korgau123")
			if _, err := dying.svc.Release(ctx, dying.admin, p.ID, nil); err != nil {
				t.Fatal(err)
			}
			if got, _ := dying.catalog.Package(ctx, p.ID); got.Pending == nil || got.Status != hub.StatusReleased {
				t.Fatalf("after the crash: status %s, pending %v", got.Status, got.Pending)
			}

			// The restarted hub reconciles on start (and any replica may, too).
			dying.hub.Stop(t)
			restarted := newReplica(t, natsURL, blobs, nil)
			for range 2 {
				if _, err := restarted.svc.Reconcile(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got := announcements(t, restarted.js, p.ID); !slices.Equal(got, []string{p.ID + ".1.released"}) {
				t.Fatalf("announcements %v, want exactly one release", got)
			}
			if got, _ := restarted.catalog.Package(ctx, p.ID); got.Pending != nil {
				t.Errorf("still pending after reconciling: %v", got.Pending)
			}
		})
	}
}

// TestTwoReplicasFireAnEmbargoOnce runs two schedulers on one NATS.
func TestTwoReplicasFireAnEmbargoOnce(t *testing.T) {
	ctx := context.Background()
	natsURL := natstest.StartExternal(t)
	blobs := t.TempDir()
	a, b := newReplica(t, natsURL, blobs, nil), newReplica(t, natsURL, blobs, nil)
	var ids []string
	embargo := time.Now().Add(700 * time.Millisecond)
	for range 5 {
		p := a.readyPackage(t, "korgau123")
		if _, err := a.svc.Release(ctx, a.admin, p.ID, &embargo); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, id := range ids {
		for {
			p, err := b.catalog.Package(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if p.Status == hub.StatusReleased && p.Pending == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("package %s is %s, pending %v, after its embargo", id, p.Status, p.Pending)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := announcements(t, a.js, id); !slices.Equal(got, []string{id + ".1.released"}) {
			t.Errorf("package %s announced %v, want once", id, got)
		}
	}
}

// TestEmbargoMissedWhileDownGoesOutOnStart schedules a release, stops the
// hub past the embargo, and starts another process.
func TestEmbargoMissedWhileDownGoesOutOnStart(t *testing.T) {
	ctx := context.Background()
	ext := natstest.RunExternal(t)
	blobs := t.TempDir()
	first := newReplica(t, ext.URL(), blobs, nil)
	p := first.readyPackage(t, "korgau123")
	// Room for a loaded machine to stop the hub before the embargo (a
	// cold CI run on two cores took over four seconds).
	embargo := time.Now().Add(10 * time.Second)
	if _, err := first.svc.Release(ctx, first.admin, p.ID, &embargo); err != nil {
		t.Fatal(err)
	}
	// The hub and NATS go down before the embargo and stay down past it.
	if got, err := first.catalog.Package(ctx, p.ID); err != nil || got.Status != hub.StatusScheduled {
		t.Fatalf("before its embargo the package is %v (%v)", got, err)
	}
	first.hub.Stop(t)
	if time.Now().After(embargo) {
		// Its scheduler may have fired it: the test would not show the
		// next hub doing so.
		t.Fatal("the first hub took longer than the embargo to stop: the test cannot tell which hub fired it")
	}
	ext.Stop()
	time.Sleep(time.Until(embargo) + 100*time.Millisecond)

	ext.Start()
	start := time.Now()
	next := newReplica(t, ext.URL(), blobs, nil)
	for {
		if got, _ := next.catalog.Package(ctx, p.ID); got.Status == hub.StatusReleased && got.Pending == nil {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("the missed embargo did not fire on start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("fired %v after start", time.Since(start))
	if got := announcements(t, next.js, p.ID); !slices.Equal(got, []string{p.ID + ".1.released"}) {
		t.Errorf("announcements %v", got)
	}
}

// TestNATSRestartedUnderTheHub stops and restarts an external NATS under
// a running replica: what was announced stays, what is released after
// the restart is announced, nothing twice.
func TestNATSRestartedUnderTheHub(t *testing.T) {
	ctx := context.Background()
	ext := natstest.RunExternal(t)
	r := newReplica(t, ext.URL(), t.TempDir(), nil)
	js := r.js
	before := r.readyPackage(t, "korgau123")
	if _, err := r.svc.Release(ctx, r.admin, before.ID, nil); err != nil {
		t.Fatal(err)
	}
	scheduled := r.readyPackage(t, "korgau123")
	embargo := time.Now().Add(1500 * time.Millisecond)
	if _, err := r.svc.Release(ctx, r.admin, scheduled.ID, &embargo); err != nil {
		t.Fatal(err)
	}

	ext.Stop()
	// While NATS is away, a release fails cleanly: nothing half-written.
	down := r.readyPackageOrSkip(ctx)
	if down != "" {
		t.Fatal("a package was created while NATS was down")
	}
	time.Sleep(300 * time.Millisecond)
	ext.Start()
	waitConnected(t, r.hub.Server.NATSConn())

	after := r.readyPackage(t, "korgau123")
	if _, err := r.svc.Release(ctx, r.admin, after.ID, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := r.catalog.Package(ctx, scheduled.ID)
		if err == nil && p.Status == hub.StatusReleased && p.Pending == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the embargo across the restart did not fire: %+v %v", p, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, id := range []string{before.ID, scheduled.ID, after.ID} {
		if got := announcements(t, js, id); !slices.Equal(got, []string{id + ".1.released"}) {
			t.Errorf("package %s announced %v, want once", id, got)
		}
	}
}

// readyPackageOrSkip tries to create a package and returns its id, or ""
// when the catalog refuses (as it must while NATS is down).
func (r *replica) readyPackageOrSkip(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	p, err := r.svc.CreatePackage(ctx, r.admin, &hub.Package{Campaign: "korgau123", Language: "ru"})
	if err != nil {
		return ""
	}
	return p.ID
}

func waitConnected(t *testing.T, nc *nats.Conn) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !nc.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatal("the hub did not reconnect to NATS")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
