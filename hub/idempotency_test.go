package hub_test

import (
	"sync"
	"testing"

	"github.com/syndication-hub/hub/hub"
)

// TestCreatePackageAsMakesOnePackage: a create under a reserved id makes
// the package under that id; trying it again, one after the other or
// eight at once, answers that package (existed) and makes no other.
func TestCreatePackageAsMakesOnePackage(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	body := func() *hub.Package {
		return &hub.Package{Campaign: "korgau123", Language: "ru", Headlines: []hub.Text{{Value: "Домогательства — это преступление"}}}
	}

	id := d.svc.NewPackageID()
	p, existed, err := d.svc.CreatePackageAs(ctx, producer, id, body())
	if err != nil || existed || p.ID != id {
		t.Fatalf("first try: %v, existed %v, id %v; want a new package %s", err, existed, p, id)
	}
	again, existed, err := d.svc.CreatePackageAs(ctx, producer, id, body())
	if err != nil || !existed || again.ID != id || again.FirstCreated != p.FirstCreated {
		t.Fatalf("second try: %v, existed %v, %+v; want package %s as the first made it", err, existed, again, id)
	}

	raced := d.svc.NewPackageID()
	var wg sync.WaitGroup
	var mu sync.Mutex
	made := 0
	for range 8 {
		wg.Go(func() {
			p, existed, err := d.svc.CreatePackageAs(ctx, producer, raced, body())
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("a raced try: %v", err)
			case p.ID != raced:
				t.Errorf("a raced try answered %s, not the reserved %s", p.ID, raced)
			case !existed:
				made++
			}
		})
	}
	wg.Wait()
	if made != 1 {
		t.Errorf("%d of 8 raced tries made the package; want 1", made)
	}
	if page, err := d.svc.Packages(ctx, d.admin, hub.PackageQuery{}); err != nil || len(page.Items) != 2 {
		t.Fatalf("%d packages (%v); want 2, one per reserved id", len(page.Items), err)
	}
	if _, _, err := d.svc.CreatePackageAs(ctx, producer, "not-an-id", body()); err == nil {
		t.Error("a create under a malformed id was let through")
	}
}
