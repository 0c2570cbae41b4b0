package hub_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog/memory"
	"github.com/syndication-hub/hub/hub/scratch"
	"github.com/syndication-hub/hub/media/credit"
)

// newCreditingDomain is a domain whose releases credit pictures, with the
// real writer.
func newCreditingDomain(t *testing.T) *domain {
	t.Helper()
	return newCreditingDomainOver(t, nil)
}

func newCreditingDomainOver(t *testing.T, wrap func(*memory.Catalog) hub.Catalog) *domain {
	t.Helper()
	dir, err := scratch.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return newDomainWith(t, hub.ServiceOptions{Scratch: dir, CreditWriter: credit.New()}, wrap)
}

// photo is a small JPEG made by Go's encoder (no metadata at all).
func photo(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// stored reads the blob of an asset.
func (d *domain) stored(a *hub.Asset) []byte {
	d.t.Helper()
	b, err := d.svc.OpenAsset(d.t.Context(), a)
	if err != nil {
		d.t.Fatal(err)
	}
	defer b.Close()
	out, err := io.ReadAll(b)
	if err != nil {
		d.t.Fatal(err)
	}
	return out
}

// carries reports whether b carries c already (the writer has nothing to
// write into it).
func carries(t *testing.T, b []byte, c hub.Credit) bool {
	t.Helper()
	changed, err := credit.Write(t.Context(), io.Discard, bytes.NewReader(b), int64(len(b)), "image/jpeg", c)
	if err != nil {
		t.Fatal(err)
	}
	return !changed
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestReleaseCreditsPictures(t *testing.T) {
	ctx := t.Context()
	d := newCreditingDomain(t)
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	p := d.draft(producer, "korgau123", "kk", "Қорғау")
	by, rights, terms := "Қорғау қоры", "© 2024 Қорғау", "Тек редакциялық пайдалану үшін"
	if _, err := d.svc.UpdatePackage(ctx, producer, p.ID, hub.PackagePatch{By: &by, CopyrightNotice: &rights, UsageTerms: &terms}); err != nil {
		t.Fatal(err)
	}
	original := photo(t)
	up := d.upload(producer, p.ID, "photo.jpg", original)
	d.upload(producer, p.ID, "notes.txt", []byte("plain text, never credited"))
	p, err := d.svc.Release(ctx, producer, p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	live := p.Live.Asset("photo.jpg")
	if live.SHA256 == up.SHA256 || live.Source != up.SHA256 {
		t.Fatalf("live asset sha256 %s source %q; upload %s", live.SHA256, live.Source, up.SHA256)
	}
	got := d.stored(live)
	if sum(got) != live.SHA256 || int64(len(got)) != live.Size {
		t.Fatalf("the live blob is not what the asset says: sha256 %s, %d bytes", sum(got), len(got))
	}
	want := hub.Credit{Credit: by, CopyrightNotice: rights, UsageTerms: terms}
	if !carries(t, got, want) {
		t.Fatal("the released picture does not carry the credit")
	}
	if w := p.Asset("photo.jpg"); w.SHA256 != up.SHA256 || !bytes.Equal(d.stored(w), original) {
		t.Fatal("the working copy lost the scrubbed original")
	}
	if n := p.Live.Asset("notes.txt"); n.Source != "" {
		t.Fatalf("a text asset was credited: %+v", n)
	}
	if !slices.Contains(p.Blobs, live.SHA256) {
		t.Fatalf("the package does not hold the credited bytes: %v", p.Blobs)
	}
	files := d.blobFiles()

	// A correction with the same credit: the same bytes, the same blob.
	headline := []hub.Text{{Value: "Қорғау, түзетілген"}}
	if _, err := d.svc.UpdatePackage(ctx, producer, p.ID, hub.PackagePatch{Headlines: &headline}); err != nil {
		t.Fatal(err)
	}
	p2, err := d.svc.Release(ctx, producer, p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := p2.Live.Asset("photo.jpg"); a.SHA256 != live.SHA256 || a.BlobKey != live.BlobKey {
		t.Fatalf("an unchanged credit made other bytes: %s, was %s", a.SHA256, live.SHA256)
	}
	if d.refs(live.SHA256) != 1 || d.blobFiles() != files {
		t.Fatalf("refs %d, %d blobs (was %d): the same credited bytes twice", d.refs(live.SHA256), d.blobFiles(), files)
	}

	// An asset's own credit comes before the package's credit line.
	own := "Фото: Айгерим"
	if _, err := d.svc.UpdateAsset(ctx, producer, p.ID, "photo.jpg", hub.AssetPatch{Credit: &own}); err != nil {
		t.Fatal(err)
	}
	p3, err := d.svc.Release(ctx, producer, p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	third := p3.Live.Asset("photo.jpg")
	if third.SHA256 == live.SHA256 || !carries(t, d.stored(third), hub.Credit{Credit: own, CopyrightNotice: rights, UsageTerms: terms}) {
		t.Fatal("the asset's own credit was not written")
	}
	v1, err := d.svc.Version(ctx, producer, p.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v1.Asset("photo.jpg").SHA256 != live.SHA256 {
		t.Fatal("version 1 no longer points at what it was released with")
	}

	// Purge: no credited bytes stay behind.
	if _, err := d.svc.Purge(ctx, producer, p.ID); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{live.SHA256, third.SHA256, up.SHA256} {
		if d.refs(s) != 0 {
			t.Errorf("blob %s still recorded after the purge", s)
		}
	}
	if n := d.blobFiles(); n != 0 {
		t.Fatalf("%d blobs left after the purge", n)
	}
}

func TestReleaseWithNothingToCredit(t *testing.T) {
	ctx := t.Context()
	d := newCreditingDomain(t)
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	p := d.draft(producer, "korgau123", "kk", "no credit given")
	up := d.upload(producer, p.ID, "photo.jpg", photo(t))
	p, err := d.svc.Release(ctx, producer, p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := p.Live.Asset("photo.jpg"); a.SHA256 != up.SHA256 || a.BlobKey != up.BlobKey || a.Source != "" {
		t.Fatalf("released %+v, uploaded %+v", a, up)
	}
}

func TestReleaseAtEmbargoCredits(t *testing.T) {
	ctx := t.Context()
	d := newCreditingDomain(t)
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	p := d.draft(producer, "korgau123", "ru", "под эмбарго")
	by := "Фонд «Коргау»"
	if _, err := d.svc.UpdatePackage(ctx, producer, p.ID, hub.PackagePatch{By: &by}); err != nil {
		t.Fatal(err)
	}
	up := d.upload(producer, p.ID, "photo.jpg", photo(t))
	at := start.Add(time.Hour)
	if _, err := d.svc.Release(ctx, producer, p.ID, &at); err != nil {
		t.Fatal(err)
	}
	files := d.blobFiles()
	if files != 1 {
		t.Fatalf("%d blobs before the embargo, want the upload only", files)
	}
	d.clock.Set(at)
	if n, err := d.svc.FireDue(ctx); err != nil || n != 1 {
		t.Fatalf("fired %d: %v", n, err)
	}
	p, err := d.svc.Package(ctx, producer, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	a := p.Live.Asset("photo.jpg")
	if a.Source != up.SHA256 || !carries(t, d.stored(a), hub.Credit{Credit: by}) {
		t.Fatalf("the embargoed release was not credited: %+v", a)
	}
}

// TestSweepSettlesUnusedCredit: a process killed after storing a credited
// picture and before writing the release leaves a blob record no package
// holds; the sweep's settling removes it and its bytes.
func TestSweepSettlesUnusedCredit(t *testing.T) {
	const grace = time.Hour
	ctx := t.Context()
	d := newCreditingDomain(t)
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	p := d.draft(producer, "korgau123", "kk", "killed mid-release")
	by := "Қорғау"
	if _, err := d.svc.UpdatePackage(ctx, producer, p.ID, hub.PackagePatch{By: &by}); err != nil {
		t.Fatal(err)
	}
	d.upload(producer, p.ID, "photo.jpg", photo(t))
	p, err := d.svc.Package(ctx, producer, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.svc.CreditForTest(ctx, p); err != nil {
		t.Fatal(err)
	}
	if d.blobFiles() != 2 {
		t.Fatalf("%d blobs, want the upload and its credited copy", d.blobFiles())
	}
	d.sweepAt(start, grace)
	rep := d.sweepAt(start.Add(grace+2*time.Minute), grace)
	if rep.Unheld != 1 || d.blobFiles() != 1 {
		t.Fatalf("sweep %+v, %d blobs left, want the credited copy gone", rep, d.blobFiles())
	}
}

// meddlingCatalog changes a package once, just before the next update of
// it: another request landing between a release's crediting and its write.
type meddlingCatalog struct {
	*memory.Catalog
	meddle func(p *hub.Package)
}

func (c *meddlingCatalog) UpdatePackage(ctx context.Context, id string, fn func(p *hub.Package) error) (*hub.Package, error) {
	if m := c.meddle; m != nil {
		c.meddle = nil
		if _, err := c.Catalog.UpdatePackage(ctx, id, func(p *hub.Package) error { m(p); return nil }); err != nil {
			return nil, err
		}
	}
	return c.Catalog.UpdatePackage(ctx, id, fn)
}

// TestReleaseCreditsAgainWhenTheCreditChanged: a credit changed after the
// pictures were credited and before the release is written makes the
// release credit them again; the first credited copy is let go.
func TestReleaseCreditsAgainWhenTheCreditChanged(t *testing.T) {
	ctx := t.Context()
	mc := &meddlingCatalog{}
	d := newCreditingDomainOver(t, func(c *memory.Catalog) hub.Catalog { mc.Catalog = c; return mc })
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	p := d.draft(producer, "korgau123", "kk", "changed under the release")
	by := "Бірінші"
	if _, err := d.svc.UpdatePackage(ctx, producer, p.ID, hub.PackagePatch{By: &by}); err != nil {
		t.Fatal(err)
	}
	d.upload(producer, p.ID, "photo.jpg", photo(t))
	later := "Фото: кейінгі"
	mc.meddle = func(p *hub.Package) { p.Assets[0].Credit = later }
	p, err := d.svc.Release(ctx, producer, p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !carries(t, d.stored(p.Live.Asset("photo.jpg")), hub.Credit{Credit: later}) {
		t.Fatal("the release went out with the credit it was prepared with")
	}
	if n := d.blobFiles(); n != 2 {
		t.Fatalf("%d blobs, want the upload and one credited copy", n)
	}
}
