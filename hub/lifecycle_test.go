package hub_test

import (
	"slices"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// TestLifecycle walks one package through every state, draft to purged,
// and checks after each step what a producer and a partner see and what
// was announced.
func TestLifecycle(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	outlet := d.partner("Almaty TV", true)
	partner := d.key(hub.Key{Role: hub.RolePartner, Partner: outlet.ID})

	p := d.draft(producer, "korgau123", "kk", "Жұмыстағы қудалау — қылмыс")
	if p.Status != hub.StatusDraft || p.Version != 1 {
		t.Fatalf("a new package: %s v%d", p.Status, p.Version)
	}
	_, err := d.svc.Package(ctx, partner, p.ID)
	wantCode(t, "a partner reading a draft", err, hub.ENOTFOUND)
	_, err = d.svc.Release(ctx, producer, p.ID, nil)
	wantCode(t, "releasing without an asset", err, hub.ECONFLICT)
	_, err = d.svc.Release(ctx, partner, p.ID, nil)
	wantCode(t, "a partner releasing", err, hub.ENOTFOUND)
	d.upload(producer, p.ID, "poster.png", picture(1))

	// Scheduled: nothing reaches a partner before the embargo.
	embargo := start.Add(2 * time.Hour)
	p, err = d.svc.Release(ctx, producer, p.ID, &embargo)
	if err != nil || p.Status != hub.StatusScheduled || !p.Embargo.Equal(embargo) {
		t.Fatalf("scheduling: %+v, %v", p, err)
	}
	_, err = d.svc.Package(ctx, partner, p.ID)
	wantCode(t, "a partner reading a scheduled package", err, hub.ENOTFOUND)
	if len(d.sent.ids()) != 0 {
		t.Fatalf("announced before the embargo: %v", d.sent.ids())
	}
	d.clock.Set(embargo)
	if n, err := d.svc.FireDue(ctx); n != 1 || err != nil {
		t.Fatalf("FireDue at the embargo: %d, %v", n, err)
	}

	// Released.
	seen, err := d.svc.Package(ctx, partner, p.ID)
	if err != nil || seen.Status != hub.StatusReleased || seen.Version != 1 || seen.Headlines[0].Value != "Жұмыстағы қудалау — қылмыс" {
		t.Fatalf("a partner reading the release: %+v, %v", seen, err)
	}
	if seen.Embargo != nil || seen.Live != nil || seen.Blobs != nil {
		t.Fatalf("the partner view carries the working copy's bookkeeping: %+v", seen)
	}
	if _, _, err := d.svc.Asset(ctx, partner, p.ID, "poster.png"); err != nil {
		t.Fatalf("a partner downloading a released asset: %v", err)
	}

	// A revision: the partner keeps seeing version 1 until it is released.
	d.clock.Set(embargo.Add(time.Hour))
	headline := []hub.Text{{Value: "Түзетілген тақырып"}}
	rev, err := d.svc.UpdatePackage(ctx, producer, p.ID, hub.PackagePatch{Headlines: &headline})
	if err != nil || rev.Version != 2 || rev.Status != hub.StatusReleased {
		t.Fatalf("editing a released package: %+v, %v", rev, err)
	}
	if seen, _ := d.svc.Package(ctx, partner, p.ID); seen.Version != 1 || seen.Headlines[0].Value != "Жұмыстағы қудалау — қылмыс" {
		t.Fatalf("a partner sees an unreleased revision: v%d %q", seen.Version, seen.Headlines[0].Value)
	}
	_, err = d.svc.Release(ctx, producer, p.ID, &embargo)
	wantCode(t, "a correction with an embargo", err, hub.EINVALID)

	// Corrected.
	if _, err := d.svc.Release(ctx, producer, p.ID, nil); err != nil {
		t.Fatal(err)
	}
	if seen, _ := d.svc.Package(ctx, partner, p.ID); seen.Version != 2 || seen.Headlines[0].Value != "Түзетілген тақырып" {
		t.Fatalf("after the correction a partner sees v%d %q", seen.Version, seen.Headlines[0].Value)
	}
	_, err = d.svc.Release(ctx, producer, p.ID, nil)
	wantCode(t, "a correction without changes", err, hub.ECONFLICT)
	v1, err := d.svc.Version(ctx, partner, p.ID, 1)
	if err != nil || v1.Headlines[0].Value != "Жұмыстағы қудалау — қылмыс" {
		t.Fatalf("version 1 after the correction: %+v, %v", v1, err)
	}

	// Withdrawn: a kill notice; the assets stop being served to partners.
	p, err = d.svc.Withdraw(ctx, producer, p.ID)
	if err != nil || p.Status != hub.StatusWithdrawn {
		t.Fatalf("withdrawing: %+v, %v", p, err)
	}
	if seen, err := d.svc.Package(ctx, partner, p.ID); err != nil || seen.Status != hub.StatusWithdrawn {
		t.Fatalf("a partner reading the withdrawn package: %+v, %v", seen, err)
	}
	_, _, err = d.svc.Asset(ctx, partner, p.ID, "poster.png")
	wantCode(t, "a partner downloading a withdrawn asset", err, hub.ENOTFOUND)
	if _, _, err := d.svc.Asset(ctx, producer, p.ID, "poster.png"); err != nil {
		t.Fatalf("the producer downloading a withdrawn asset: %v", err)
	}
	_, err = d.svc.UpdatePackage(ctx, producer, p.ID, hub.PackagePatch{Headlines: &headline})
	wantCode(t, "editing a withdrawn package", err, hub.ECONFLICT)

	// Purged: a tombstone, every byte and version gone.
	p, err = d.svc.Purge(ctx, producer, p.ID)
	if err != nil || p.Status != hub.StatusPurged || len(p.Headlines) != 0 || len(p.Assets) != 0 {
		t.Fatalf("purging: %+v, %v", p, err)
	}
	if seen, err := d.svc.Package(ctx, partner, p.ID); err != nil || seen.Status != hub.StatusPurged || len(seen.Headlines) != 0 {
		t.Fatalf("a partner reading the tombstone: %+v, %v", seen, err)
	}
	_, err = d.svc.Version(ctx, partner, p.ID, 1)
	wantCode(t, "an archived version after the purge", err, hub.ENOTFOUND)
	if n := d.blobFiles(); n != 0 {
		t.Fatalf("%d blobs left after the purge", n)
	}

	want := []string{p.ID + ".1.released", p.ID + ".2.corrected", p.ID + ".2.withdrawn", p.ID + ".2.purged"}
	if got := d.sent.ids(); !slices.Equal(got, want) {
		t.Fatalf("announced %v, want %v", got, want)
	}
	if n, err := d.svc.Reconcile(ctx); n != 0 || err != nil {
		t.Fatalf("the reconciler found %d pending announcements (%v)", n, err)
	}
}

// TestPurgeNeverReleased: a draft purged leaves no trace for partners and
// announces nothing.
func TestPurgeNeverReleased(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	partner := d.key(hub.Key{Role: hub.RolePartner})
	p := d.draft(producer, "korgau123", "ru", "Черновик")
	d.upload(producer, p.ID, "poster.png", picture(1))
	if _, err := d.svc.Purge(ctx, producer, p.ID); err != nil {
		t.Fatal(err)
	}
	_, err := d.svc.Package(ctx, partner, p.ID)
	wantCode(t, "a partner reading a purged draft", err, hub.ENOTFOUND)
	if page, _ := d.svc.Packages(ctx, partner, hub.PackageQuery{}); len(page.Items) != 0 {
		t.Fatalf("a partner lists %d packages", len(page.Items))
	}
	if got := d.sent.ids(); len(got) != 0 {
		t.Fatalf("announced %v", got)
	}
	if d.blobFiles() != 0 {
		t.Fatal("the purged draft's blob stayed")
	}
}

// TestEmbargo drives the scheduler's questions with the fake clock: the
// next embargo, nothing fired a moment before it, everything due fired at
// it, a rescheduled or unscheduled package not fired at its old time.
func TestEmbargo(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	public := hub.PublicReader().Key
	schedule := func(headline string, at time.Time) *hub.Package {
		t.Helper()
		p := d.draft(producer, "korgau123", "ru", headline)
		d.upload(producer, p.ID, "poster.png", picture(len(headline)))
		if _, err := d.svc.Release(ctx, producer, p.ID, &at); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, ok := d.svc.NextEmbargo(ctx); ok {
		t.Fatal("an embargo with nothing scheduled")
	}
	past := start.Add(-time.Minute)
	p := d.draft(producer, "korgau123", "ru", "в прошлом")
	d.upload(producer, p.ID, "poster.png", picture(0))
	_, err := d.svc.Release(ctx, producer, p.ID, &past)
	wantCode(t, "an embargo in the past", err, hub.EINVALID)

	first, second := start.Add(time.Hour), start.Add(2*time.Hour)
	a := schedule("first", second)
	b := schedule("second", second)
	c := schedule("moved back", start.Add(3*time.Hour))
	// Rescheduling a to earlier; unscheduling c.
	if _, err := d.svc.Release(ctx, producer, a.ID, &first); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.Unschedule(ctx, producer, c.ID); err != nil {
		t.Fatal(err)
	}
	if next, ok := d.svc.NextEmbargo(ctx); !ok || !next.Equal(first) {
		t.Fatalf("next embargo %v %t, want %v", next, ok, first)
	}

	d.clock.Set(first.Add(-time.Nanosecond))
	if n, _ := d.svc.FireDue(ctx); n != 0 {
		t.Fatalf("%d fired a nanosecond before the embargo", n)
	}
	if page, _ := d.svc.Packages(ctx, public, hub.PackageQuery{}); len(page.Items) != 0 {
		t.Fatalf("the public sees %d packages before the embargo", len(page.Items))
	}
	d.clock.Set(first)
	if n, _ := d.svc.FireDue(ctx); n != 1 {
		t.Fatalf("%d fired at the first embargo, want 1", n)
	}
	if next, ok := d.svc.NextEmbargo(ctx); !ok || !next.Equal(second) {
		t.Fatalf("next embargo %v %t, want %v", next, ok, second)
	}
	d.clock.Set(start.Add(4 * time.Hour)) // long after every embargo, as after downtime
	if n, _ := d.svc.FireDue(ctx); n != 1 {
		t.Fatalf("%d fired after the second embargo, want 1 (b only: c was unscheduled)", n)
	}
	if n, _ := d.svc.FireDue(ctx); n != 0 {
		t.Fatalf("fired %d again", n)
	}
	page, err := d.svc.Packages(ctx, public, hub.PackageQuery{})
	if err != nil || len(page.Items) != 2 || page.Items[0].ID != b.ID || page.Items[1].ID != a.ID {
		t.Fatalf("the public listing after both embargoes: %v, %v", page.Items, err)
	}
	if got, err := d.svc.Package(ctx, producer, c.ID); err != nil || got.Status != hub.StatusDraft {
		t.Fatalf("the unscheduled package: %+v, %v", got, err)
	}
	if want := []string{a.ID + ".1.released", b.ID + ".1.released"}; !slices.Equal(d.sent.ids(), want) {
		t.Fatalf("announced %v, want %v", d.sent.ids(), want)
	}
}

// TestScheduledPackageMarkedAnonymizedDoesNotFire: a package scheduled
// with assets scrubbed for a package that is not anonymized, then marked
// anonymized, must not go out at its embargo with names, dates and
// software still in its assets: a release now would refuse it (409), and
// so must the embargo.
func TestScheduledPackageMarkedAnonymizedDoesNotFire(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	p := d.draft(producer, "korgau123", "kk", "Жұмыстағы қудалау — қылмыс")
	d.upload(producer, p.ID, "poster.png", picture(1))
	embargo := start.Add(time.Hour)
	if _, err := d.svc.Release(ctx, producer, p.ID, &embargo); err != nil {
		t.Fatal(err)
	}
	on := true
	_, err := d.svc.UpdatePackage(ctx, producer, p.ID, hub.PackagePatch{Anonymized: &on})
	d.clock.Set(embargo)
	if _, ferr := d.svc.FireDue(ctx); ferr != nil {
		t.Fatal(ferr)
	}
	got, gerr := d.svc.Package(ctx, producer, p.ID)
	if gerr != nil {
		t.Fatal(gerr)
	}
	if got.Status == hub.StatusReleased && got.Anonymized {
		t.Fatalf("marking a scheduled package anonymized (%v) let it fire with an asset scrubbed %q", err, got.Assets[0].Scrub)
	}
	wantCode(t, "marking a scheduled package anonymized whose assets were not scrubbed for it", err, hub.ECONFLICT)
}
