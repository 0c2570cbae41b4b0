// Package catalogtest is the conformance suite for hub.Catalog
// implementations. The JetStream catalog (hub/catalog) and the in-memory one
// (hub/catalog/memory) run the same suite from a two-line test, so the
// domain's tests over the memory catalog hold for the catalog the hub runs
// on: revision-checked updates, the documented error codes, blob reference
// counts, listings that answer the visibility rule's filter, and what a
// second process sharing the store sees.
package catalogtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// Open returns an empty catalog for one subtest, and a way to open another
// process's catalog on the same store (a replica): for a store that lives
// in one process, the same catalog again. Both register their own cleanup
// with t.
type Open func(t *testing.T) (c hub.Catalog, replica func() hub.Catalog)

// Run runs the suite against the catalogs open returns.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, c hub.Catalog, replica func() hub.Catalog)
	}{
		{"PackageCreateRead", testPackageCreateRead},
		{"PackageUpdate", testPackageUpdate},
		{"PackageDelete", testPackageDelete},
		{"EachPackage", testEachPackage},
		{"RevisionConflict", testRevisionConflict},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"Listing", testListing},
		{"ListingFollowsOwnWrites", testListingFollowsOwnWrites},
		{"LaggingIndex", testLaggingIndex},
		{"ListingMatchesCanRead", testListingMatchesCanRead},
		{"Versions", testVersions},
		{"Blobs", testBlobs},
		{"DerivedData", testDerivedData},
		{"Takedowns", testTakedowns},
		{"Keys", testKeys},
		{"Campaigns", testCampaigns},
		{"Partners", testPartners},
		{"Webhooks", testWebhooks},
		{"DeadLetters", testDeadLetters},
		{"Check", testCheck},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, replica := open(t)
			tt.fn(t, c, replica)
		})
	}
}

// ids makes package ids in creation order, as the Service does.
func ids() *hub.IDSource {
	clock := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	return hub.NewIDSource(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Millisecond)
		return clock
	})
}

func draft(id, campaign, language string) *hub.Package {
	now := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	return &hub.Package{ID: id, Campaign: campaign, Language: language, Version: 1, Status: hub.StatusDraft,
		FirstCreated: now, VersionCreated: now, Headlines: []hub.Text{{Value: "Заголовок " + id}}}
}

// same fails unless got and want encode to the same JSON: the form both
// catalogs keep, times compared as they survive it.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func code(t *testing.T, what string, err error, want string) {
	t.Helper()
	if got := hub.ErrorCode(err); got != want {
		t.Fatalf("%s: error %v (code %q), want code %q", what, err, got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testPackageCreateRead(t *testing.T, c hub.Catalog, _ func() hub.Catalog) {
	ctx := t.Context()
	p := draft(ids().New(), "korgau123", "ru")
	p.Assets = []hub.Asset{{Name: "poster.png", Type: hub.AssetPicture, SHA256: "ab", BlobKey: "K1"}}
	must(t, c.CreatePackage(ctx, p))
	want := p.Clone()
	// The stored package is the catalog's: changing what was handed in or
	// what was read changes nothing stored.
	p.Headlines[0].Value = "changed after create"
	got, err := c.Package(ctx, p.ID)
	must(t, err)
	same(t, "read back", got, want)
	got.Assets[0].Name = "changed after read"
	again, err := c.Package(ctx, p.ID)
	must(t, err)
	same(t, "read again", again, want)

	code(t, "creating an existing id", c.CreatePackage(ctx, draft(p.ID, "other", "kk")), hub.ECONFLICT)
	again, _ = c.Package(ctx, p.ID)
	same(t, "after a refused create", again, want)
	_, err = c.Package(ctx, ids().New()+"X")
	code(t, "reading a missing package", err, hub.ENOTFOUND)
	_, err = c.Package(ctx, "not a key.*")
	code(t, "reading a malformed id", err, hub.ENOTFOUND)
}

func testPackageUpdate(t *testing.T, c hub.Catalog, _ func() hub.Catalog) {
	ctx := t.Context()
	p := draft(ids().New(), "korgau123", "ru")
	must(t, c.CreatePackage(ctx, p))
	got, err := c.UpdatePackage(ctx, p.ID, func(p *hub.Package) error {
		p.By = "Dobrye Vesti"
		return nil
	})
	must(t, err)
	if got.By != "Dobrye Vesti" {
		t.Fatalf("UpdatePackage returned %+v", got)
	}
	stored, _ := c.Package(ctx, p.ID)
	same(t, "after the update", stored, got)

	// An error from fn aborts the update and comes back as it is.
	refuse := errors.New("refused by fn")
	_, err = c.UpdatePackage(ctx, p.ID, func(p *hub.Package) error {
		p.By = "must not be written"
		return refuse
	})
	if err != refuse {
		t.Fatalf("fn's error came back as %v", err)
	}
	again, _ := c.Package(ctx, p.ID)
	same(t, "after a refused update", again, stored)

	called := false
	_, err = c.UpdatePackage(ctx, ids().New(), func(*hub.Package) error { called = true; return nil })
	code(t, "updating a missing package", err, hub.ENOTFOUND)
	if called {
		t.Error("fn was called for a missing package")
	}
}

func testPackageDelete(t *testing.T, c hub.Catalog, _ func() hub.Catalog) {
	ctx := t.Context()
	p := draft(ids().New(), "korgau123", "ru")
	must(t, c.CreatePackage(ctx, p))
	refuse := hub.Errorf(hub.ECONFLICT, "not a draft")
	if _, err := c.DeletePackage(ctx, p.ID, func(*hub.Package) error { return refuse }); err != refuse {
		t.Fatalf("fn's error came back as %v", err)
	}
	if _, err := c.Package(ctx, p.ID); err != nil {
		t.Fatalf("a refused delete removed the package: %v", err)
	}
	deleted, err := c.DeletePackage(ctx, p.ID, func(*hub.Package) error { return nil })
	must(t, err)
	same(t, "the deleted package", deleted, p)
	_, err = c.Package(ctx, p.ID)
	code(t, "reading a deleted package", err, hub.ENOTFOUND)
	_, err = c.DeletePackage(ctx, p.ID, func(*hub.Package) error { return nil })
	code(t, "deleting it again", err, hub.ENOTFOUND)
	_, err = c.UpdatePackage(ctx, p.ID, func(*hub.Package) error { return nil })
	code(t, "updating a deleted package", err, hub.ENOTFOUND)
	// The id is free again.
	must(t, c.CreatePackage(ctx, p))
}

// testEachPackage: a sweep's pass sees every stored package once, with
// its latest state, and never a deleted one; fn's error stops it.
func testEachPackage(t *testing.T, c hub.Catalog, _ func() hub.Catalog) {
	ctx := t.Context()
	gen := ids()
	want := map[string]int{}
	var deleted string
	for i := range 25 {
		p := draft(gen.New(), "korgau123", "ru")
		must(t, c.CreatePackage(ctx, p))
		want[p.ID] = 1
		if i%5 == 0 {
			_, err := c.UpdatePackage(ctx, p.ID, func(p *hub.Package) error { p.Version = 2; return nil })
			must(t, err)
			want[p.ID] = 2
		}
		if i == 7 {
			deleted = p.ID
		}
	}
	_, err := c.DeletePackage(ctx, deleted, func(*hub.Package) error { return nil })
	must(t, err)
	delete(want, deleted)
	got := map[string]int{}
	must(t, c.EachPackage(ctx, func(p *hub.Package) error {
		if _, twice := got[p.ID]; twice {
			t.Errorf("package %s seen twice", p.ID)
		}
		got[p.ID] = p.Version
		return nil
	}))
	same(t, "the packages and versions seen", got, want)
	stop := errors.New("enough")
	seen := 0
	if err := c.EachPackage(ctx, func(*hub.Package) error { seen++; return stop }); err != stop || seen != 1 {
		t.Errorf("fn's error: EachPackage returned %v after %d packages, want it after 1", err, seen)
	}
}

// testRevisionConflict makes two updates of one package read the same
// revision: the first to write wins, the other must notice, read again and
// apply its change on top, so both changes land. The second writer is a
// replica where the store has several processes.
func testRevisionConflict(t *testing.T, c hub.Catalog, replica func() hub.Catalog) {
	ctx := t.Context()
	other := replica()
	p := draft(ids().New(), "korgau123", "ru")
	must(t, c.CreatePackage(ctx, p))

	aRead, bDone := make(chan struct{}), make(chan struct{})
	var aCalls int
	var wg sync.WaitGroup
	var aErr, bErr error
	wg.Go(func() {
		_, aErr = c.UpdatePackage(ctx, p.ID, func(p *hub.Package) error {
			aCalls++
			if aCalls == 1 {
				close(aRead)
				<-bDone // b writes after this read and before this write
			}
			p.Assets = append(p.Assets, hub.Asset{Name: "from-a"})
			return nil
		})
	})
	wg.Go(func() {
		defer close(bDone)
		<-aRead
		_, bErr = other.UpdatePackage(ctx, p.ID, func(p *hub.Package) error {
			p.Assets = append(p.Assets, hub.Asset{Name: "from-b"})
			return nil
		})
	})
	wg.Wait()
	must(t, aErr)
	must(t, bErr)
	got, err := c.Package(ctx, p.ID)
	must(t, err)
	var names []string
	for _, a := range got.Assets {
		names = append(names, a.Name)
	}
	if !slices.Equal(names, []string{"from-b", "from-a"}) {
		t.Fatalf("assets %v, want b's then a's: an update was lost", names)
	}
	if aCalls != 2 {
		t.Fatalf("the overtaken update ran fn %d times, want 2 (once more after the conflict)", aCalls)
	}
}

func testConcurrentUpdates(t *testing.T, c hub.Catalog, replica func() hub.Catalog) {
	ctx := t.Context()
	other := replica()
	p := draft(ids().New(), "korgau123", "ru")
	must(t, c.CreatePackage(ctx, p))
	var wg sync.WaitGroup
	const n = 16
	for i := range n {
		cat := c
		if i%2 == 1 {
			cat = other
		}
		wg.Go(func() {
			_, err := cat.UpdatePackage(ctx, p.ID, func(p *hub.Package) error {
				p.Assets = append(p.Assets, hub.Asset{Name: fmt.Sprintf("asset-%02d", i)})
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := other.Package(ctx, p.ID)
	must(t, err)
	if len(got.Assets) != n {
		t.Fatalf("%d assets after %d concurrent additions", len(got.Assets), n)
	}
}

// listAll pages through a listing with the given page size and returns
// every id, newest first, checking each page's size and cursor.
func listAll(t *testing.T, c hub.Catalog, f hub.Filter, q hub.PackageQuery) []string {
	t.Helper()
	var out []string
	for pages := 0; ; pages++ {
		page, err := c.ListPackages(t.Context(), f, q)
		must(t, err)
		limit := cmpOr(q.Limit, hub.DefaultPageSize)
		if len(page.Items) > limit {
			t.Fatalf("a page of %d items with limit %d", len(page.Items), limit)
		}
		for _, p := range page.Items {
			out = append(out, p.ID)
		}
		if page.Next == "" {
			return out
		}
		if len(page.Items) != limit || page.Next != page.Items[len(page.Items)-1].ID {
			t.Fatalf("page of %d (limit %d) with next %q: next must be the last id of a full page", len(page.Items), limit, page.Next)
		}
		if pages > 10000 {
			t.Fatal("the listing does not end")
		}
		q.After = page.Next
	}
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

func testListing(t *testing.T, c hub.Catalog, _ func() hub.Catalog) {
	ctx := t.Context()
	gen := ids()
	all := hub.AdminAudience().ListingFilter(nil)
	var newestFirst []string
	for i := range 7 {
		p := draft(gen.New(), []string{"korgau123", "survivors"}[i%2], []string{"ru", "kk", "ky"}[i%3])
		if i%3 == 0 {
			p.Assets = []hub.Asset{{Name: "clip.mp4", Type: hub.AssetVideo}}
		}
		if i == 4 {
			p.Status = hub.StatusScheduled
		}
		must(t, c.CreatePackage(ctx, p))
		newestFirst = append([]string{p.ID}, newestFirst...)
	}
	if got := listAll(t, c, all, hub.PackageQuery{}); !slices.Equal(got, newestFirst) {
		t.Fatalf("everything: %v, want newest first %v", got, newestFirst)
	}
	for _, limit := range []int{1, 2, 3, 6, 7, 8, hub.MaxPageSize} {
		if got := listAll(t, c, all, hub.PackageQuery{Limit: limit}); !slices.Equal(got, newestFirst) {
			t.Errorf("pages of %d: %v, want %v", limit, got, newestFirst)
		}
	}
	// A full last page has no next: the cursor never leads to an empty page.
	page, err := c.ListPackages(ctx, all, hub.PackageQuery{Limit: 7})
	must(t, err)
	if len(page.Items) != 7 || page.Next != "" {
		t.Errorf("7 packages in a page of 7: %d items, next %q", len(page.Items), page.Next)
	}
	// The cursor is exclusive and need not be a listed id.
	page, err = c.ListPackages(ctx, all, hub.PackageQuery{After: newestFirst[2], Limit: 2})
	must(t, err)
	if got := idsOf(page.Items); !slices.Equal(got, newestFirst[3:5]) || page.Next != newestFirst[4] {
		t.Errorf("after %s: %v next %q", newestFirst[2], got, page.Next)
	}
	page, err = c.ListPackages(ctx, all, hub.PackageQuery{After: "0", Limit: 2})
	must(t, err)
	if len(page.Items) != 0 || page.Next != "" {
		t.Errorf("after the lowest id: %v next %q", idsOf(page.Items), page.Next)
	}
	// The request's own filters.
	for _, tc := range []struct {
		q    hub.PackageQuery
		want []int // indexes into creation order
	}{
		{hub.PackageQuery{Campaign: "survivors"}, []int{5, 3, 1}},
		{hub.PackageQuery{Language: "kk"}, []int{4, 1}},
		{hub.PackageQuery{Type: hub.AssetVideo}, []int{6, 3, 0}},
		{hub.PackageQuery{Status: hub.StatusScheduled}, []int{4}},
		{hub.PackageQuery{Campaign: "korgau123", Type: hub.AssetVideo, Limit: 1}, []int{6, 0}},
		{hub.PackageQuery{Campaign: "nothing"}, nil},
	} {
		var want []string
		for _, i := range tc.want {
			want = append(want, newestFirst[len(newestFirst)-1-i])
		}
		if got := listAll(t, c, all, tc.q); !slices.Equal(got, want) {
			t.Errorf("%+v: %v, want %v", tc.q, got, want)
		}
	}
	// A filter that admits nothing lists nothing.
	if got := listAll(t, c, hub.Filter{}, hub.PackageQuery{}); len(got) != 0 {
		t.Errorf("the empty filter listed %v", got)
	}
}

func idsOf(ps []*hub.Package) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

// testListingFollowsOwnWrites: a process's own writes show in its own
// listings at once (a producer who just created a package sees it).
func testListingFollowsOwnWrites(t *testing.T, c hub.Catalog, _ func() hub.Catalog) {
	ctx := t.Context()
	all := hub.AdminAudience().ListingFilter(nil)
	p := draft(ids().New(), "korgau123", "ru")
	must(t, c.CreatePackage(ctx, p))
	if got := listAll(t, c, all, hub.PackageQuery{}); !slices.Equal(got, []string{p.ID}) {
		t.Fatalf("after create: %v", got)
	}
	_, err := c.UpdatePackage(ctx, p.ID, func(p *hub.Package) error { p.Status = hub.StatusScheduled; return nil })
	must(t, err)
	if got := listAll(t, c, all, hub.PackageQuery{Status: hub.StatusScheduled}); !slices.Equal(got, []string{p.ID}) {
		t.Fatalf("after update: %v", got)
	}
	if l, err := c.Listed(ctx, p.ID); err != nil || l.Status != hub.StatusScheduled {
		t.Fatalf("Listed after update: %v, %v", l, err)
	}
	_, err = c.DeletePackage(ctx, p.ID, func(*hub.Package) error { return nil })
	must(t, err)
	if got := listAll(t, c, all, hub.PackageQuery{}); len(got) != 0 {
		t.Fatalf("after delete: %v", got)
	}
	_, err = c.Listed(ctx, p.ID)
	code(t, "Listed after delete", err, hub.ENOTFOUND)
}

// testLaggingIndex: another process's listing may lag behind a write, but
// reading the package itself never does, and the listing catches up.
func testLaggingIndex(t *testing.T, c hub.Catalog, replica func() hub.Catalog) {
	ctx := t.Context()
	other := replica()
	all := hub.AdminAudience().ListingFilter(nil)
	p := draft(ids().New(), "korgau123", "ru")
	must(t, c.CreatePackage(ctx, p))
	got, err := other.Package(ctx, p.ID)
	must(t, err)
	same(t, "the replica's read right after the write", got, p)
	_, err = c.UpdatePackage(ctx, p.ID, func(p *hub.Package) error { p.By, p.Language = "Dobrye Vesti", "kk"; return nil })
	must(t, err)
	if got, err := other.Package(ctx, p.ID); err != nil || got.By != "Dobrye Vesti" {
		t.Fatalf("the replica's read right after an update: %+v, %v", got, err)
	}
	eventually(t, "the replica's listing shows the package", func() bool {
		page, err := other.ListPackages(ctx, all, hub.PackageQuery{})
		return err == nil && len(page.Items) == 1 && page.Items[0].By == "Dobrye Vesti"
	})
	eventually(t, "the replica's Listed shows the update", func() bool {
		l, err := other.Listed(ctx, p.ID)
		return err == nil && l.Language == "kk"
	})
	// And the other way round: the replica writes on what it read.
	_, err = other.UpdatePackage(ctx, p.ID, func(p *hub.Package) error { p.UsageTerms = "Free"; return nil })
	must(t, err)
	if got, _ := c.Package(ctx, p.ID); got.By != "Dobrye Vesti" || got.UsageTerms != "Free" {
		t.Fatalf("after both wrote: %+v", got)
	}
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testListingMatchesCanRead(t *testing.T, c hub.Catalog, _ func() hub.Catalog) {
	CompareWithCanRead(t, c, 1)
}

func testVersions(t *testing.T, c hub.Catalog, _ func() hub.Catalog) {
	ctx := t.Context()
	id := ids().New()
	v1, v2 := draft(id, "korgau123", "ru"), draft(id, "korgau123", "ru")
	v1.Status, v2.Status, v2.Version = hub.StatusReleased, hub.StatusReleased, 2
	v2.Headlines = []hub.Text{{Value: "Исправлено"}}
	must(t, c.PutVersion(ctx, v1))
	must(t, c.PutVersion(ctx, v2))
	must(t, c.PutVersion(ctx, v2)) // again: harmless
	for _, want := range []*hub.Package{v1, v2} {
		got, err := c.Version(ctx, id, want.Version)
		must(t, err)
		same(t, fmt.Sprintf("version %d", want.Version), got, want)
	}
	for _, n := range []int{0, -1, 3} {
		_, err := c.Version(ctx, id, n)
		code(t, fmt.Sprintf("version %d", n), err, hub.ENOTFOUND)
	}
	otherID := ids().New() + "0"
	other := draft(otherID, "korgau123", "ru")
	must(t, c.PutVersion(ctx, other))
	must(t, c.DeleteVersions(ctx, id))
	for _, n := range []int{1, 2} {
		_, err := c.Version(ctx, id, n)
		code(t, fmt.Sprintf("version %d after DeleteVersions", n), err, hub.ENOTFOUND)
	}
	if _, err := c.Version(ctx, otherID, 1); err != nil {
		t.Fatalf("another package's version went too: %v", err)
	}
	must(t, c.DeleteVersions(ctx, id)) // nothing left: no error
}

func testBlobs(t *testing.T, c hub.Catalog, _ func() hub.Catalog) {
	ctx := t.Context()
	sum := "3f2a0c1b" + fmt.Sprint(time.Now().UnixNano())
	rec, err := c.AcquireBlob(ctx, sum, hub.BlobRecord{Key: "BLOB1", Size: 42})
	must(t, err)
	same(t, "the first reference", rec, hub.BlobRecord{Key: "BLOB1", Size: 42, Refs: 1})
	// Identical content uploaded again shares the first blob.
	rec, err = c.AcquireBlob(ctx, sum, hub.BlobRecord{Key: "BLOB2", Size: 42})
	must(t, err)
	same(t, "the second reference", rec, hub.BlobRecord{Key: "BLOB1", Size: 42, Refs: 2})

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.AcquireBlob(ctx, sum, hub.BlobRecord{Key: "BLOBX", Size: 42}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range 9 {
		wg.Go(func() {
			if orphan, err := c.ReleaseBlob(ctx, sum); err != nil || orphan != "" {
				t.Errorf("release %d of 10: %q, %v; the blob has references left", i, orphan, err)
			}
		})
	}
	wg.Wait()
	orphan, err := c.ReleaseBlob(ctx, sum)
	must(t, err)
	if orphan != "BLOB1" {
		t.Fatalf("the last release returned %q, want the blob key BLOB1", orphan)
	}
	orphan, err = c.ReleaseBlob(ctx, sum)
	if err != nil || orphan != "" {
		t.Fatalf("releasing content without a record: %q, %v", orphan, err)
	}
	// Gone: the next upload of the content is new again.
	rec, err = c.AcquireBlob(ctx, sum, hub.BlobRecord{Key: "BLOB3", Size: 42})
	must(t, err)
	same(t, "after the last release", rec, hub.BlobRecord{Key: "BLOB3", Size: 42, Refs: 1})

	// The sweep's note is kept by UpdateBlob and cleared by any acquire or
	// release; a record left with no reference goes.
	seen := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	note := func(r *hub.BlobRecord) error {
		r.Unheld = &hub.UnheldReferences{Refs: r.Refs, Holders: 0, Seen: seen}
		return nil
	}
	removed, err := c.UpdateBlob(ctx, sum, note)
	must(t, err)
	if removed != "" {
		t.Fatalf("a noted record was removed: %q", removed)
	}
	recs, err := c.BlobRecords(ctx)
	must(t, err)
	same(t, "the noted record", recs[sum], hub.BlobRecord{Key: "BLOB3", Size: 42, Refs: 1,
		Unheld: &hub.UnheldReferences{Refs: 1, Seen: seen}})
	rec, err = c.AcquireBlob(ctx, sum, hub.BlobRecord{Key: "BLOB4", Size: 42})
	must(t, err)
	same(t, "an acquire after the note", rec, hub.BlobRecord{Key: "BLOB3", Size: 42, Refs: 2})
	_, err = c.UpdateBlob(ctx, sum, note)
	must(t, err)
	_, err = c.ReleaseBlob(ctx, sum)
	must(t, err)
	recs, err = c.BlobRecords(ctx)
	must(t, err)
	same(t, "a release after the note", recs[sum], hub.BlobRecord{Key: "BLOB3", Size: 42, Refs: 1})
	stop := errors.New("stop")
	if _, err := c.UpdateBlob(ctx, sum, func(*hub.BlobRecord) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("UpdateBlob returned %v, want fn's error as is", err)
	}
	removed, err = c.UpdateBlob(ctx, sum, func(r *hub.BlobRecord) error { r.Refs = 0; return nil })
	must(t, err)
	if removed != "BLOB3" {
		t.Fatalf("a record left with no reference: removed %q, want its blob key BLOB3", removed)
	}
	_, err = c.UpdateBlob(ctx, sum, note)
	code(t, "UpdateBlob of content without a record", err, hub.ENOTFOUND)
	recs, err = c.BlobRecords(ctx)
	must(t, err)
	if _, ok := recs[sum]; ok {
		t.Fatalf("the removed record is still listed: %+v", recs[sum])
	}
}

func testKeys(t *testing.T, c hub.Catalog, _ func() hub.Catalog) {
	ctx := t.Context()
	gen := ids()
	created := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	var keys []*hub.Key
	for i, role := range []hub.Role{hub.RoleAdmin, hub.RoleProducer, hub.RolePartner} {
		k := &hub.Key{ID: gen.New(), Name: string(role), Role: role, Created: created,
			Hash: hub.HashKeySecret(fmt.Sprint("secret", i, time.Now().UnixNano())), Prefix: "hub_abcdef"}
		if role == hub.RoleProducer {
			k.Campaigns = []string{"korgau123"}
		}
		keys = append(keys, k)
	}
	// Create in reverse, so "oldest first" is by id, not by insertion.
	for _, k := range slices.Backward(keys) {
		must(t, c.CreateKey(ctx, k))
	}
	dup := *keys[0]
	dup.ID = gen.New()
	code(t, "a key with an existing hash", c.CreateKey(ctx, &dup), hub.ECONFLICT)
	got, err := c.KeyByHash(ctx, keys[1].Hash)
	must(t, err)
	same(t, "KeyByHash", got, keys[1])
	_, err = c.KeyByHash(ctx, hub.HashKeySecret("unknown"))
	code(t, "an unknown hash", err, hub.ENOTFOUND)
	all, err := c.Keys(ctx)
	must(t, err)
	same(t, "Keys", all, keys)

	must(t, c.DeleteKey(ctx, keys[1].ID))
	_, err = c.KeyByHash(ctx, keys[1].Hash)
	code(t, "a deleted key", err, hub.ENOTFOUND)
	code(t, "deleting it again", c.DeleteKey(ctx, keys[1].ID), hub.ENOTFOUND)
	all, _ = c.Keys(ctx)
	same(t, "Keys after a delete", all, []*hub.Key{keys[0], keys[2]})

	// A rotated key: two records (secrets) with one id. UpdateKey marks
	// the old one; DeleteKey removes both.
	_, err = c.UpdateKey(ctx, hub.HashKeySecret("unknown"), func(*hub.Key) error { return nil })
	code(t, "updating an unknown hash", err, hub.ENOTFOUND)
	retires := created.Add(24 * time.Hour)
	old, err := c.UpdateKey(ctx, keys[2].Hash, func(k *hub.Key) error { k.Retires = &retires; return nil })
	must(t, err)
	if old.Retires == nil || !old.Retires.Equal(retires) {
		t.Errorf("UpdateKey answered %+v, want retires %s", old, retires)
	}
	got, err = c.KeyByHash(ctx, keys[2].Hash)
	must(t, err)
	same(t, "KeyByHash after UpdateKey", got, old)
	rotated := *keys[2]
	rotated.Hash, rotated.Rotated = hub.HashKeySecret(fmt.Sprint("rotated", time.Now().UnixNano())), &created
	must(t, c.CreateKey(ctx, &rotated))
	all, _ = c.Keys(ctx)
	if len(all) != 3 {
		t.Errorf("Keys lists %d records, want 3 (admin, and two secrets of the partner key)", len(all))
	}
	must(t, c.DeleteKey(ctx, keys[2].ID))
	for _, h := range []string{keys[2].Hash, rotated.Hash} {
		_, err = c.KeyByHash(ctx, h)
		code(t, "a secret of a deleted rotated key", err, hub.ENOTFOUND)
	}
	all, _ = c.Keys(ctx)
	same(t, "Keys after deleting a rotated key", all, []*hub.Key{keys[0]})
}

func testCampaigns(t *testing.T, c hub.Catalog, replica func() hub.Catalog) {
	ctx := t.Context()
	created := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	b := &hub.Campaign{Slug: "survivors", Name: "Survivors", Visibility: hub.VisibilityPartners, Created: created}
	a := &hub.Campaign{Slug: "korgau123", Name: "KORGAU 123", Visibility: hub.VisibilityPublic, Hashtags: []string{"#korgau"}, Created: created}
	must(t, c.CreateCampaign(ctx, b))
	must(t, c.CreateCampaign(ctx, a))
	code(t, "an existing slug", c.CreateCampaign(ctx, &hub.Campaign{Slug: "korgau123", Name: "again"}), hub.ECONFLICT)
	got, err := c.Campaign(ctx, "korgau123")
	must(t, err)
	same(t, "Campaign", got, a)
	got.Hashtags[0] = "#changed"
	if again, _ := c.Campaign(ctx, "korgau123"); again.Hashtags[0] != "#korgau" {
		t.Fatal("changing a campaign read back changed the stored one")
	}
	_, err = c.Campaign(ctx, "nothing")
	code(t, "an unknown campaign", err, hub.ENOTFOUND)
	all, err := c.Campaigns(ctx)
	must(t, err)
	same(t, "Campaigns by slug", all, []*hub.Campaign{a, b})

	updated, err := replica().UpdateCampaign(ctx, "survivors", func(c *hub.Campaign) error {
		c.Visibility = hub.VisibilityPublic
		return nil
	})
	must(t, err)
	if updated.Visibility != hub.VisibilityPublic {
		t.Fatalf("UpdateCampaign returned %+v", updated)
	}
	if got, _ := c.Campaign(ctx, "survivors"); got.Visibility != hub.VisibilityPublic {
		// The replica's write may reach this index a moment later.
		eventually(t, "the campaign update", func() bool {
			got, err := c.Campaign(ctx, "survivors")
			return err == nil && got.Visibility == hub.VisibilityPublic
		})
	}
	refuse := errors.New("refused")
	if _, err := c.UpdateCampaign(ctx, "survivors", func(*hub.Campaign) error { return refuse }); err != refuse {
		t.Fatalf("fn's error came back as %v", err)
	}
	_, err = c.UpdateCampaign(ctx, "nothing", func(*hub.Campaign) error { return nil })
	code(t, "updating an unknown campaign", err, hub.ENOTFOUND)
	concurrently(t, 8, func(i int) error {
		_, err := c.UpdateCampaign(ctx, "korgau123", func(c *hub.Campaign) error {
			c.Hashtags = append(c.Hashtags, fmt.Sprintf("#t%d", i))
			return nil
		})
		return err
	})
	if got, _ := c.Campaign(ctx, "korgau123"); len(got.Hashtags) != 9 {
		t.Fatalf("hashtags after 8 concurrent additions: %v", got.Hashtags)
	}
}

func concurrently(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := fn(i); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func testPartners(t *testing.T, c hub.Catalog, _ func() hub.Catalog) {
	ctx := t.Context()
	gen := ids()
	created := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	older := &hub.Partner{ID: gen.New(), Name: "Almaty TV", Medium: hub.MediumTV, Languages: []string{"kk", "ru"}, Campaigns: []string{"survivors"}, Active: true, Created: created}
	newer := &hub.Partner{ID: gen.New(), Name: "Bishkek Online", Medium: hub.MediumOnline, Created: created}
	must(t, c.CreatePartner(ctx, newer))
	must(t, c.CreatePartner(ctx, older))
	code(t, "an existing id", c.CreatePartner(ctx, &hub.Partner{ID: older.ID, Name: "again"}), hub.ECONFLICT)
	got, err := c.Partner(ctx, older.ID)
	must(t, err)
	same(t, "Partner", got, older)
	_, err = c.Partner(ctx, gen.New())
	code(t, "an unknown partner", err, hub.ENOTFOUND)
	all, err := c.Partners(ctx)
	must(t, err)
	same(t, "Partners oldest first", all, []*hub.Partner{older, newer})
	updated, err := c.UpdatePartner(ctx, newer.ID, func(p *hub.Partner) error {
		p.Active, p.FeedTokenHash = true, "abc"
		return nil
	})
	must(t, err)
	if got, _ := c.Partner(ctx, newer.ID); !got.Active || got.FeedTokenHash != "abc" {
		t.Fatalf("after the update: %+v (returned %+v)", got, updated)
	}
	_, err = c.UpdatePartner(ctx, gen.New(), func(*hub.Partner) error { return nil })
	code(t, "updating an unknown partner", err, hub.ENOTFOUND)
	concurrently(t, 8, func(i int) error {
		_, err := c.UpdatePartner(ctx, older.ID, func(p *hub.Partner) error {
			p.Campaigns = append(p.Campaigns, fmt.Sprintf("c%d", i))
			return nil
		})
		return err
	})
	if got, _ := c.Partner(ctx, older.ID); len(got.Campaigns) != 9 {
		t.Fatalf("entitlements after 8 concurrent additions: %v", got.Campaigns)
	}
}

func testWebhooks(t *testing.T, c hub.Catalog, _ func() hub.Catalog) {
	ctx := t.Context()
	gen := ids()
	created := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	partner := gen.New()
	a := &hub.Webhook{ID: gen.New(), Partner: partner, URL: "https://tv.example.kz/hooks", Secret: "whsec_a", Active: true, Created: created}
	b := &hub.Webhook{ID: gen.New(), Partner: partner, URL: "https://tv.example.kz/other", Secret: "whsec_b", Active: true, Created: created}
	must(t, c.CreateWebhook(ctx, b))
	must(t, c.CreateWebhook(ctx, a))
	code(t, "an existing id", c.CreateWebhook(ctx, &hub.Webhook{ID: a.ID}), hub.ECONFLICT)
	got, err := c.Webhook(ctx, a.ID)
	must(t, err)
	same(t, "Webhook", got, a)
	all, err := c.Webhooks(ctx)
	must(t, err)
	same(t, "Webhooks oldest first", all, []*hub.Webhook{a, b})

	d := &hub.DeadLetter{Webhook: a.ID, MessageID: gen.New() + ".1.released", Campaign: "korgau123", Sequence: 7, Attempts: 8, Failed: created}
	must(t, c.PutDeadLetter(ctx, d))
	must(t, c.DeleteWebhook(ctx, a.ID))
	_, err = c.Webhook(ctx, a.ID)
	code(t, "a deleted webhook", err, hub.ENOTFOUND)
	_, err = c.DeadLetter(ctx, a.ID, d.MessageID)
	code(t, "a deleted webhook's dead letter", err, hub.ENOTFOUND)
	if left, err := c.DeadLetters(ctx, a.ID); err != nil || len(left) != 0 {
		t.Fatalf("a deleted webhook's dead letters: %v, %v", left, err)
	}
	code(t, "deleting it again", c.DeleteWebhook(ctx, a.ID), hub.ENOTFOUND)
	all, _ = c.Webhooks(ctx)
	same(t, "Webhooks after a delete", all, []*hub.Webhook{b})
}

func testDeadLetters(t *testing.T, c hub.Catalog, _ func() hub.Catalog) {
	ctx := t.Context()
	gen := ids()
	at := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	hook, other := gen.New(), gen.New()
	pkg := gen.New()
	late := &hub.DeadLetter{Webhook: hook, MessageID: pkg + ".1.released", Campaign: "korgau123", Sequence: 3, Attempts: 8, LastStatus: 500, LastError: "boom", Failed: at.Add(time.Minute)}
	early := &hub.DeadLetter{Webhook: hook, MessageID: pkg + ".2.corrected", Campaign: "korgau123", Sequence: 5, Attempts: 8, Failed: at}
	tieA := &hub.DeadLetter{Webhook: hook, MessageID: pkg + ".3.corrected", Campaign: "korgau123", Failed: at.Add(time.Minute)}
	elsewhere := &hub.DeadLetter{Webhook: other, MessageID: pkg + ".1.released", Campaign: "korgau123", Failed: at}
	for _, d := range []*hub.DeadLetter{late, early, tieA, elsewhere} {
		must(t, c.PutDeadLetter(ctx, d))
	}
	got, err := c.DeadLetter(ctx, hook, late.MessageID)
	must(t, err)
	same(t, "DeadLetter", got, late)
	all, err := c.DeadLetters(ctx, hook)
	must(t, err)
	same(t, "oldest failure first, then by id", all, []*hub.DeadLetter{early, late, tieA})

	// A failed replay replaces the record.
	late.Attempts, late.LastError = 9, "still down"
	must(t, c.PutDeadLetter(ctx, late))
	got, _ = c.DeadLetter(ctx, hook, late.MessageID)
	same(t, "after a replace", got, late)

	must(t, c.DeleteDeadLetter(ctx, hook, early.MessageID))
	_, err = c.DeadLetter(ctx, hook, early.MessageID)
	code(t, "a deleted dead letter", err, hub.ENOTFOUND)
	must(t, c.DeleteDeadLetter(ctx, hook, early.MessageID)) // not there: no error
	all, _ = c.DeadLetters(ctx, hook)
	same(t, "after a delete", all, []*hub.DeadLetter{late, tieA})
	if got, _ := c.DeadLetters(ctx, other); len(got) != 1 {
		t.Fatalf("another webhook's dead letters: %v", got)
	}
	for _, id := range []string{gen.New(), "not a key.*"} {
		if none, err := c.DeadLetters(ctx, id); err != nil || len(none) != 0 {
			t.Fatalf("dead letters of %q: %v, %v", id, none, err)
		}
		_, err := c.DeadLetter(ctx, id, late.MessageID)
		code(t, "a dead letter of "+id, err, hub.ENOTFOUND)
	}
}

func testCheck(t *testing.T, c hub.Catalog, _ func() hub.Catalog) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	must(t, c.Check(ctx))
}

// testDerivedData: scrub reports and rendition sets, kept by content sum
// beside the blob records.
func testDerivedData(t *testing.T, c hub.Catalog, _ func() hub.Catalog) {
	ctx := t.Context()
	sum := "5cab" + fmt.Sprint(time.Now().UnixNano())
	_, err := c.ScrubReport(ctx, sum)
	code(t, "a report never written", err, hub.ENOTFOUND)
	rep := &hub.ScrubReport{Format: "JPEG", Removed: []hub.Removal{{Field: "GPS position", Where: "EXIF"}},
		Received: hub.Digest{SHA256: strings.Repeat("a", 64), Size: 42}}
	must(t, c.PutScrubReport(ctx, sum, rep))
	got, err := c.ScrubReport(ctx, sum)
	must(t, err)
	same(t, "the report", got, rep)
	must(t, c.DeleteScrubReport(ctx, sum))
	must(t, c.DeleteScrubReport(ctx, sum)) // none: no error
	_, err = c.ScrubReport(ctx, sum)
	code(t, "a deleted report", err, hub.ENOTFOUND)

	_, err = c.RenditionSet(ctx, sum)
	code(t, "a set never written", err, hub.ENOTFOUND)
	set, err := c.UpdateRenditionSet(ctx, sum, func(s *hub.RenditionSet) error {
		if len(s.Renditions) != 0 {
			t.Errorf("a new set starts with %v", s.Renditions)
		}
		s.SHA256, s.BlobKey = sum, "BLOB1"
		s.Renditions = []hub.Rendition{{Name: "thumbnail", State: hub.RenditionPending}}
		return nil
	})
	must(t, err)
	if set.Done() {
		t.Error("a set with a pending rendition is done")
	}
	_, err = c.UpdateRenditionSet(ctx, sum, func(s *hub.RenditionSet) error {
		s.Renditions[0] = hub.Rendition{Name: "thumbnail", State: hub.RenditionReady, BlobKey: "THUMB1", ContentType: "image/jpeg"}
		return nil
	})
	must(t, err)
	keys, err := c.RenditionBlobKeys(ctx)
	must(t, err)
	if !keys["THUMB1"] {
		t.Errorf("rendition blob keys %v lack THUMB1", keys)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		sets := c.RenditionSets(ctx, []string{sum, "absent"})
		if s := sets[sum]; s != nil && s.Done() && len(sets) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("RenditionSets never showed the ready set: %+v", sets)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop := errors.New("stop")
	if _, err := c.UpdateRenditionSet(ctx, sum, func(*hub.RenditionSet) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("UpdateRenditionSet returned %v, want fn's error as is", err)
	}
	must(t, c.DeleteRenditionSet(ctx, sum))
	must(t, c.DeleteRenditionSet(ctx, sum))
	_, err = c.RenditionSet(ctx, sum)
	code(t, "a deleted set", err, hub.ENOTFOUND)
}

// testTakedowns: takedown records, read from the store itself (a
// replica's confirmation shows at once) and changed under a revision
// check, so outlets confirming at once on two replicas all count.
func testTakedowns(t *testing.T, c hub.Catalog, replica func() hub.Catalog) {
	ctx := t.Context()
	id := ids().New()
	_, err := c.Takedown(ctx, id)
	code(t, "a record never written", err, hub.ENOTFOUND)
	_, err = c.Takedown(ctx, "not a key!")
	code(t, "a malformed id", err, hub.ENOTFOUND)
	withdrawn := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	_, err = c.UpdateTakedown(ctx, id, func(td *hub.Takedown) error {
		if td.Package != "" || len(td.Outlets) != 0 {
			t.Errorf("a new record starts as %+v", td)
		}
		td.Package, td.Campaign, td.Version, td.Event, td.Withdrawn = id, "korgau123", 2, hub.EventWithdrawn, &withdrawn
		return nil
	})
	must(t, err)
	other := replica()
	const n = 8
	concurrently(t, n, func(i int) error {
		cat := c
		if i%2 == 1 {
			cat = other
		}
		_, err := cat.UpdateTakedown(ctx, id, func(td *hub.Takedown) error {
			td.Outlets = append(td.Outlets, hub.TakedownOutlet{Partner: fmt.Sprintf("P%d", i)})
			return nil
		})
		return err
	})
	got, err := other.Takedown(ctx, id)
	must(t, err)
	if len(got.Outlets) != n || got.Version != 2 || !got.Withdrawn.Equal(withdrawn) {
		t.Errorf("after %d concurrent updates the replica reads %+v", n, got)
	}
	stop := errors.New("stop")
	if _, err := c.UpdateTakedown(ctx, id, func(*hub.Takedown) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("UpdateTakedown returned %v, want fn's error as is", err)
	}
}
