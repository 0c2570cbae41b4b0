package hub_test

import (
	"testing"

	"github.com/syndication-hub/hub/hub"
)

// TestBlobReferenceCounts: identical uploads share one stored blob, and its
// bytes are deleted only when the last package holding it lets go.
func TestBlobReferenceCounts(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	a := d.draft(producer, "korgau123", "ru", "Первый")
	b := d.draft(producer, "korgau123", "kk", "Екінші")
	c := d.draft(producer, "korgau123", "ky", "Үчүнчү")

	poster := picture(1)
	first := d.upload(producer, a.ID, "poster.png", poster)
	second := d.upload(producer, b.ID, "плакат.png", poster)
	d.upload(producer, b.ID, "copy.png", poster) // the same package holds it once
	third := d.upload(producer, c.ID, "poster.png", poster)
	if first.BlobKey != second.BlobKey || first.BlobKey != third.BlobKey {
		t.Fatalf("identical uploads stored apart: %s %s %s", first.BlobKey, second.BlobKey, third.BlobKey)
	}
	if n := d.blobFiles(); n != 1 {
		t.Fatalf("%d blobs for one content", n)
	}

	// Replacing a draft's only copy of other bytes drops those bytes.
	d.upload(producer, c.ID, "extra.png", picture(2))
	if n := d.blobFiles(); n != 2 {
		t.Fatalf("%d blobs for two contents", n)
	}
	d.upload(producer, c.ID, "extra.png", picture(3))
	if n := d.blobFiles(); n != 2 {
		t.Fatalf("%d blobs after replacing a draft's asset, want 2", n)
	}
	if err := d.svc.DeleteAsset(ctx, producer, c.ID, "extra.png"); err != nil {
		t.Fatal(err)
	}
	if n := d.blobFiles(); n != 1 {
		t.Fatalf("%d blobs after deleting a draft's only asset of its content, want 1", n)
	}

	// a is released, then the others go one by one; the bytes stay until
	// the last reference does.
	if _, err := d.svc.Release(ctx, producer, a.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.svc.DeletePackage(ctx, producer, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.svc.DeleteAsset(ctx, producer, c.ID, "poster.png"); err != nil {
		t.Fatal(err)
	}
	if n := d.blobFiles(); n != 1 {
		t.Fatalf("%d blobs while the released package holds the content, want 1", n)
	}
	// A revision that drops the asset keeps the bytes: the live version
	// still serves them.
	if err := d.svc.DeleteAsset(ctx, producer, a.ID, "poster.png"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.svc.Asset(ctx, hub.PublicReader().Key, a.ID, "poster.png"); err != nil {
		t.Fatalf("the live version's asset after a revision dropped it: %v", err)
	}
	if n := d.blobFiles(); n != 1 {
		t.Fatalf("%d blobs after the revision, want 1", n)
	}
	if _, err := d.svc.Purge(ctx, producer, a.ID); err != nil {
		t.Fatal(err)
	}
	if n := d.blobFiles(); n != 0 {
		t.Fatalf("%d blobs after the last reference went", n)
	}
	// The content uploaded again is stored afresh.
	again := d.upload(producer, c.ID, "poster.png", poster)
	if again.BlobKey == first.BlobKey || d.blobFiles() != 1 {
		t.Fatalf("re-upload after the purge: key %s (was %s), %d blobs", again.BlobKey, first.BlobKey, d.blobFiles())
	}
}
