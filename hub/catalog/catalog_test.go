package catalog_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/natsserver"
	"github.com/syndication-hub/hub/hub/natstest"
)

func open(t *testing.T, srv *natsserver.Server) *catalog.Catalog {
	t.Helper()
	_, js := natstest.Connect(t, srv)
	c, err := catalog.Open(context.Background(), js, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newPackage(ids *hub.IDSource) *hub.Package {
	return &hub.Package{ID: ids.New(), Campaign: "korgau123", Language: "ru", Version: 1, Status: hub.StatusDraft}
}

// TestConcurrentUpdatesLoseNothing has two catalogs (two replicas) add
// assets to one package at once; the revision check must keep every one.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t, "")
	a, b := open(t, srv), open(t, srv)
	ids := hub.NewIDSource(time.Now)
	p := newPackage(ids)
	if err := a.CreatePackage(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := b.CreatePackage(ctx, p); hub.ErrorCode(err) != hub.ECONFLICT {
		t.Fatalf("creating an existing id: %v", err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		c := a
		if i%2 == 1 {
			c = b
		}
		wg.Go(func() {
			_, err := c.UpdatePackage(ctx, p.ID, func(p *hub.Package) error {
				p.Assets = append(p.Assets, hub.Asset{Name: fmt.Sprintf("asset-%02d", i)})
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := b.Package(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Assets) != 16 {
		t.Fatalf("%d assets after 16 concurrent additions", len(got.Assets))
	}
}

// TestIndexFollowsOtherReplicasAndSurvivesRestart checks the in-memory
// index: another replica's writes arrive through the watch, and a fresh
// process rebuilds it from the bucket.
func TestIndexFollowsOtherReplicasAndSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv := natstest.Start(t, dir)
	a, b := open(t, srv), open(t, srv)
	ids := hub.NewIDSource(time.Now)
	var created []string
	for range 5 {
		p := newPackage(ids)
		if err := a.CreatePackage(ctx, p); err != nil {
			t.Fatal(err)
		}
		created = append(created, p.ID)
	}
	if _, err := a.DeletePackage(ctx, created[0], func(*hub.Package) error { return nil }); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(created[1:])
	listIDs := func(c *catalog.Catalog) string {
		ps, _ := c.Packages(ctx)
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return fmt.Sprint(out)
	}
	if got := listIDs(a); got != want {
		t.Errorf("the writer's own index: %s, want %s", got, want)
	}
	deadline := time.Now().Add(5 * time.Second)
	for listIDs(b) != want {
		if time.Now().After(deadline) {
			t.Fatalf("the other replica's index: %s, want %s", listIDs(b), want)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Stop the processes and the server, then start afresh on the same files.
	a.Close()
	b.Close()
	srv.Shutdown()
	srv = natstest.Start(t, dir)
	if got := listIDs(open(t, srv)); got != want {
		t.Errorf("after a restart: %s, want %s", got, want)
	}
}

func TestUpdateAbortsOnRuleErrorAndMissingPackage(t *testing.T) {
	ctx := context.Background()
	c := open(t, natstest.Start(t, ""))
	p := newPackage(hub.NewIDSource(time.Now))
	if err := c.CreatePackage(ctx, p); err != nil {
		t.Fatal(err)
	}
	refuse := hub.Errorf(hub.ECONFLICT, "not now")
	if _, err := c.UpdatePackage(ctx, p.ID, func(p *hub.Package) error { p.By = "changed"; return refuse }); err != refuse {
		t.Fatalf("the rule's error came back as %v", err)
	}
	if got, _ := c.Package(ctx, p.ID); got.By != "" {
		t.Fatal("an aborted update was written")
	}
	if _, err := c.UpdatePackage(ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV", func(*hub.Package) error { return nil }); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Fatalf("update of a missing package: %v", err)
	}
}

// TestBlobReferencesUnderContention acquires and releases one content
// from many goroutines on two replicas: the record must end exactly
// when the last reference goes, and name one blob throughout.
func TestBlobReferencesUnderContention(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t, "")
	a, b := open(t, srv), open(t, srv)
	const sum = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	first, err := a.AcquireBlob(ctx, sum, hub.BlobRecord{Key: "FIRSTKEY0001", Size: 4})
	if err != nil || first.Key != "FIRSTKEY0001" || first.Refs != 1 {
		t.Fatalf("first acquire: %+v %v", first, err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		c := a
		if i%2 == 1 {
			c = b
		}
		wg.Go(func() {
			rec, err := c.AcquireBlob(ctx, sum, hub.BlobRecord{Key: fmt.Sprintf("CANDIDATE%04d", i)})
			if err != nil || rec.Key != "FIRSTKEY0001" {
				t.Errorf("acquire: %+v %v", rec, err)
			}
		})
	}
	wg.Wait()
	var orphans sync.Map
	for i := range 20 {
		c := a
		if i%2 == 1 {
			c = b
		}
		wg.Go(func() {
			key, err := c.ReleaseBlob(ctx, sum)
			if err != nil {
				t.Error(err)
			}
			if key != "" {
				orphans.Store(key, true)
			}
		})
	}
	wg.Wait()
	orphans.Range(func(k, _ any) bool { t.Errorf("blob %v orphaned with a reference left", k); return true })
	key, err := b.ReleaseBlob(ctx, sum)
	if err != nil || key != "FIRSTKEY0001" {
		t.Fatalf("the last release returned %q, %v", key, err)
	}
	if key, _ := a.ReleaseBlob(ctx, sum); key != "" {
		t.Fatalf("releasing a gone record returned %q", key)
	}
}

func TestKeys(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t, "")
	a, b := open(t, srv), open(t, srv)
	k := &hub.Key{ID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", Name: "team", Role: hub.RoleProducer, Hash: hub.HashKeySecret("hub_secret")}
	if err := a.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateKey(ctx, k); hub.ErrorCode(err) != hub.ECONFLICT {
		t.Fatalf("duplicate key: %v", err)
	}
	// b finds it at once, from the bucket if its index lags.
	if got, err := b.KeyByHash(ctx, k.Hash); err != nil || got.Name != "team" {
		t.Fatalf("other replica: %+v %v", got, err)
	}
	if err := a.DeleteKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.KeyByHash(ctx, k.Hash); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Fatalf("revoked key still found: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := b.KeyByHash(ctx, k.Hash); hub.ErrorCode(err) == hub.ENOTFOUND {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other replica still accepts a revoked key")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := a.DeleteKey(ctx, k.ID); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Fatalf("deleting twice: %v", err)
	}
}
