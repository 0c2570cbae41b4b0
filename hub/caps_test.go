package hub_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/syndication-hub/hub/hub"
)

// TestPackageCaps: a package holds at most MaxAssetsPerPackage assets and
// its stored entry stays under MaxPackageEntryBytes; both are refused with
// a sentence and nothing stored, while a withdrawal and a purge of a
// package at the limit always go through (issue 9).
func TestPackageCaps(t *testing.T) {
	d := newDomain(t)
	ctx := context.Background()

	t.Run("assets", func(t *testing.T) {
		p := d.draft(d.admin, "korgau123", "ru", "Много файлов")
		for i := range hub.MaxAssetsPerPackage {
			d.upload(d.admin, p.ID, fmt.Sprintf("poster-%03d.png", i), picture(i))
		}
		files := d.blobFiles()
		_, _, err := d.svc.PutAsset(ctx, d.admin, p.ID, hub.AssetUpload{Name: "one-more.png", Body: bytes.NewReader(picture(999)), Size: int64(len(picture(999)))})
		if hub.ErrorCode(err) != hub.ECONFLICT || !strings.Contains(err.Error(), "the most a package holds") {
			t.Fatalf("asset %d: %v", hub.MaxAssetsPerPackage+1, err)
		}
		if d.blobFiles() != files {
			t.Error("the refused asset's bytes were stored")
		}
		// Replacing one is no new asset.
		d.upload(d.admin, p.ID, "poster-000.png", picture(1000))
	})

	t.Run("entry size", func(t *testing.T) {
		const word = "Домогательство "
		n := hub.MaxPackageEntryBytes / len(word) // words in a full entry
		half := strings.Repeat(word, n/2+1)
		if _, err := d.svc.CreatePackage(ctx, d.admin, &hub.Package{Campaign: "korgau123", Language: "ru",
			Headlines: []hub.Text{{Value: "Слишком длинно"}}, Bodies: []hub.Text{{Value: half + half}}}); hub.ErrorCode(err) != hub.ETOOLARGE {
			t.Fatalf("a package over the entry size was created: %v", err)
		}
		// Under the limit as a draft, but a released copy beside the
		// working copy would be over it: the edit is refused, the kill
		// notices still go.
		p := d.draft(d.admin, "korgau123", "ru", "Длинная статья")
		body := []hub.Text{{Value: strings.Repeat(word, n*3/8)}}
		if _, err := d.svc.UpdatePackage(ctx, d.admin, p.ID, hub.PackagePatch{Bodies: &body}); err != nil {
			t.Fatal(err)
		}
		d.upload(d.admin, p.ID, "poster.png", picture(7))
		if _, err := d.svc.Release(ctx, d.admin, p.ID, nil); err != nil {
			t.Fatal(err)
		}
		longer := []hub.Text{{Value: strings.Repeat(word, n*3/4)}} // alone under the limit, not beside the released copy
		if _, err := d.svc.UpdatePackage(ctx, d.admin, p.ID, hub.PackagePatch{Bodies: &longer}); hub.ErrorCode(err) != hub.ETOOLARGE {
			t.Fatalf("an edit past the entry size: %v", err)
		}
		if got, _ := d.catalog.Package(ctx, p.ID); got.Bodies[0].Value != body[0].Value {
			t.Error("the refused edit was stored")
		}
		if _, err := d.svc.Withdraw(ctx, d.admin, p.ID); err != nil {
			t.Fatalf("withdrawing a large package: %v", err)
		}
		if _, err := d.svc.Purge(ctx, d.admin, p.ID); err != nil {
			t.Fatalf("purging a large package: %v", err)
		}
	})
}
