package catalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/catalogtest"
	"github.com/syndication-hub/hub/hub/natstest"
)

// TestListingsWithATinyDocumentCache holds the index to the visibility
// rule when almost every document a page shows must be read from the
// bucket: a cache of one document, several random catalogs.
func TestListingsWithATinyDocumentCache(t *testing.T) {
	for seed := uint64(2); seed < 5; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			srv := natstest.Start(t, "")
			_, js := natstest.Connect(t, srv)
			c, err := catalog.Open(t.Context(), js, catalog.Options{DocumentCache: 1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			if pages := catalogtest.CompareWithCanRead(t, c, seed); pages == 0 {
				t.Fatal("no page compared")
			}
		})
	}
}

// TestListingsFromAReplicaOpenedLater: a replica that opens on a full
// bucket builds its index from it, and pages through it as the writer
// does, by campaign, state and cursor, and owes the reconciler only the
// packages whose announcement is pending.
func TestListingsFromAReplicaOpenedLater(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t, "")
	a := open(t, srv)
	ids := hub.NewIDSource(time.Now)
	var released, pending []string
	for i := range 120 {
		p := newPackage(ids)
		p.Campaign = []string{"korgau123", "open-doors"}[i%2]
		if i%3 == 0 {
			p.Status = hub.StatusReleased
			live := *p
			p.Live = &live
			released = append(released, p.ID)
		}
		if i%10 == 0 {
			p.Pending = &hub.Announcement{Event: hub.EventReleased, Version: 1}
			pending = append(pending, p.ID)
		}
		if err := a.CreatePackage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	b := open(t, srv)
	partner := hub.Filter{Campaigns: []string{"korgau123", "open-doors"}, Statuses: []hub.Status{hub.StatusReleased}, Released: true}
	for name, c := range map[string]*catalog.Catalog{"writer": a, "replica": b} {
		var got []string
		q := hub.PackageQuery{Limit: 7}
		for {
			page, err := c.ListPackages(ctx, partner, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page.Items {
				got = append(got, p.ID)
			}
			if q.After = page.Next; q.After == "" {
				break
			}
		}
		slices.Reverse(got)
		if !slices.Equal(got, released) {
			t.Errorf("%s: released %d packages, listed %d: %v", name, len(released), len(got), got)
		}
		page, err := c.ListPackages(ctx, hub.Filter{AllCampaigns: true}, hub.PackageQuery{Pending: true, Limit: hub.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		var owed []string
		for _, p := range slices.Backward(page.Items) {
			owed = append(owed, p.ID)
		}
		if !slices.Equal(owed, pending) {
			t.Errorf("%s: pending %v, listed %v", name, pending, owed)
		}
	}
}

// TestListingRechecksNewerDocuments: when the bucket holds a newer
// document than the index (another replica's write the watch has not
// brought yet), the page shows what the document says, never a package
// that no longer matches, and still fills the page.
func TestListingRechecksNewerDocuments(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t, "")
	_, js := natstest.Connect(t, srv)
	a, err := catalog.Open(ctx, js, catalog.Options{DocumentCache: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ids := hub.NewIDSource(time.Now)
	var made []string
	for range 5 {
		p := newPackage(ids)
		p.Status = hub.StatusScheduled
		if err := a.CreatePackage(ctx, p); err != nil {
			t.Fatal(err)
		}
		made = append(made, p.ID)
	}
	// Write the newest straight to the bucket, as another replica would,
	// and ask before the watch can tell the index.
	kv, err := js.KeyValue(ctx, catalog.PackagesBucket)
	if err != nil {
		t.Fatal(err)
	}
	newest, err := a.Package(ctx, made[4])
	if err != nil {
		t.Fatal(err)
	}
	newest.Status = hub.StatusDraft
	if _, err := kv.Put(ctx, newest.ID, mustJSON(t, newest)); err != nil {
		t.Fatal(err)
	}
	page, err := a.ListPackages(ctx, hub.Filter{AllCampaigns: true}, hub.PackageQuery{Status: hub.StatusScheduled, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range page.Items {
		if p.Status != hub.StatusScheduled {
			t.Errorf("listed %s as %s under status=scheduled", p.ID, p.Status)
		}
	}
	if len(page.Items) != 2 || page.Next == "" {
		t.Errorf("a page of %d, next %q: want a full page of 2 and more", len(page.Items), page.Next)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
