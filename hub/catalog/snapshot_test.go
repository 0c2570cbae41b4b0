package catalog_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/natsserver"
	"github.com/syndication-hub/hub/hub/natstest"
)

// TestListingSnapshotResumes: a replica that starts on its snapshot reads
// from the bucket only what changed while it was away (creations,
// releases, deletions made by another replica), and ends with the index a
// replica reading the whole bucket builds.
func TestListingSnapshotResumes(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t, "")
	path := filepath.Join(t.TempDir(), "index", "listings.snapshot")
	writer := open(t, srv)
	ids := hub.NewIDSource(time.Now)
	var created []string
	create := func(n int) {
		for i := range n {
			p := newPackage(ids)
			p.Campaign = []string{"korgau123", "open-doors", "rare"}[i%3]
			p.Language = []string{"kk", "ky", "ru", "en"}[i%4]
			if err := writer.CreatePackage(ctx, p); err != nil {
				t.Fatal(err)
			}
			created = append(created, p.ID)
		}
	}
	create(200)

	first := openWithSnapshot(t, srv, path)
	if got := catalog.Replayed(first); got != 200 {
		t.Fatalf("a start without a snapshot replayed %d entries, want the bucket's 200", got)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no snapshot after Close: %v", err)
	}

	// While the replica is away: 30 new packages, 10 released, 5 deleted.
	create(30)
	for _, id := range created[:10] {
		if _, err := writer.UpdatePackage(ctx, id, func(p *hub.Package) error {
			p.Status = hub.StatusReleased
			live := *p
			p.Live = &live
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range created[10:15] {
		if _, err := writer.DeletePackage(ctx, id, func(*hub.Package) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}

	again := openWithSnapshot(t, srv, path)
	if got := catalog.Replayed(again); got != 45 {
		t.Errorf("a start on the snapshot replayed %d entries, want the 45 changes made since", got)
	}
	sameIndex(t, again, open(t, srv))
	page, err := again.ListPackages(ctx, hub.Filter{Campaigns: []string{"korgau123", "open-doors", "rare"}, Statuses: []hub.Status{hub.StatusReleased}, Released: true}, hub.PackageQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 10 {
		t.Errorf("a partner's listing after the resumed start shows %d packages, want the 10 released", len(page.Items))
	}
}

// TestListingSnapshotNotTrusted: a snapshot that does not fit the bucket
// (cut short, not a snapshot, made for a bucket since deleted and made
// again) is ignored and the whole bucket read, never half-used.
func TestListingSnapshotNotTrusted(t *testing.T) {
	for name, spoil := range map[string]func(t *testing.T, srv *natsserver.Server, path string){
		"cut short": func(t *testing.T, _ *natsserver.Server, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b[:len(b)/2], 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"not a snapshot": func(t *testing.T, _ *natsserver.Server, path string) {
			if err := os.WriteFile(path, []byte("{\"packages\": []}\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"bucket made again": func(t *testing.T, srv *natsserver.Server, _ string) {
			_, js := natstest.Connect(t, srv)
			if err := js.DeleteKeyValue(context.Background(), catalog.PackagesBucket); err != nil {
				t.Fatal(err)
			}
			// The new bucket's revisions start over: with 60 packages
			// it is past the old snapshot's revision 40, so only the
			// bucket's identity tells them apart.
			w := open(t, srv)
			ids := hub.NewIDSource(time.Now)
			for range 60 {
				if err := w.CreatePackage(context.Background(), newPackage(ids)); err != nil {
					t.Fatal(err)
				}
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			srv := natstest.Start(t, "")
			path := filepath.Join(t.TempDir(), "listings.snapshot")
			w := open(t, srv)
			ids := hub.NewIDSource(time.Now)
			for range 40 {
				if err := w.CreatePackage(ctx, newPackage(ids)); err != nil {
					t.Fatal(err)
				}
			}
			if err := openWithSnapshot(t, srv, path).Close(); err != nil {
				t.Fatal(err)
			}
			spoil(t, srv, path)
			c := openWithSnapshot(t, srv, path)
			fresh := open(t, srv)
			if got, want := catalog.Replayed(c), catalog.Replayed(fresh); got != want {
				t.Errorf("replayed %d entries, want the whole bucket's %d", got, want)
			}
			sameIndex(t, c, fresh)
		})
	}
}

func openWithSnapshot(t *testing.T, srv *natsserver.Server, path string) *catalog.Catalog {
	t.Helper()
	_, js := natstest.Connect(t, srv)
	c, err := catalog.Open(context.Background(), js, catalog.Options{SnapshotPath: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sameIndex fails unless got holds every package want does, at the same
// revision and with the same facts (deleted ones deleted in both).
func sameIndex(t *testing.T, got, want *catalog.Catalog) {
	t.Helper()
	live := func(c *catalog.Catalog) map[string]catalog.ListedEntry {
		m := catalog.Listings(c)
		maps.DeleteFunc(m, func(_ string, e catalog.ListedEntry) bool { return e.Gone })
		return m
	}
	g, w := live(got), live(want)
	if len(g) != len(w) {
		t.Errorf("index holds %d packages, the bucket %d", len(g), len(w))
	}
	for id, we := range w {
		if ge, ok := g[id]; !ok || ge.Rev != we.Rev || ge.Facts != we.Facts {
			t.Errorf("package %s: index has %+v (present %v), the bucket %+v", id, ge, ok, we)
		}
	}
}
