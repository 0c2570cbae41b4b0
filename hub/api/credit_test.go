package api_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
	"github.com/syndication-hub/hub/media/credit"
)

// TestReleasedPicturesCarryTheirCredit: partners get a released picture
// with the package's credit written into it, on every path (the asset,
// the zip, the version), under the sha256 the version names; the
// producer's working copy keeps the scrubbed upload; the renditions of the
// upload still show for the released asset; a purge leaves no credited
// bytes behind.
func TestReleasedPicturesCarryTheirCredit(t *testing.T) {
	forEachStore(t, hubOptions{renditions: true}, func(t *testing.T, h *testHub) {
		ctx := t.Context()
		producer, partner := h.key("producer"), h.key("partner")
		id := h.createPackage(producer, "korgau123") // by Dobrye Vesti, usage terms set
		rights := "© 2026 «Добрые вести»"
		h.do("PATCH", "/v1/packages/"+id, producer, map[string]any{"copyrightnotice": rights}).expect(t, http.StatusOK)
		img := image.NewRGBA(image.Rect(0, 0, 48, 32))
		for i := range img.Pix {
			img.Pix[i] = uint8(i * 13)
		}
		var photo bytes.Buffer
		if err := jpeg.Encode(&photo, img, nil); err != nil {
			t.Fatal(err)
		}
		path := "/v1/packages/" + id + "/assets/photo.jpg"
		h.do("PUT", path, producer, photo.Bytes()).expect(t, http.StatusCreated)
		h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
		h.settled()

		association := func(key, at string) ninjs.Association {
			t.Helper()
			var it ninjs.Item
			h.do("GET", at, key, nil).expect(t, http.StatusOK).json(t, &it)
			if len(it.Associations) != 1 {
				t.Fatalf("%s: %d associations", at, len(it.Associations))
			}
			return it.Associations[0]
		}
		working := association(producer, "/v1/packages/"+id)
		released := association(partner, "/v1/packages/"+id)
		if released.SHA256 == working.SHA256 || released.Source != working.SHA256 || working.Source != "" {
			t.Fatalf("released sha256 %s source %q, working copy sha256 %s source %q", released.SHA256, released.Source, working.SHA256, working.Source)
		}
		if v := association(partner, "/v1/packages/"+id+"/versions/1"); v.SHA256 != released.SHA256 || v.Size != released.Size {
			t.Fatalf("version 1 names %s (%d bytes), the package %s", v.SHA256, v.Size, released.SHA256)
		}

		got := h.do("GET", path, partner, nil).expect(t, http.StatusOK).body
		if sha(got) != released.SHA256 || int64(len(got)) != released.Size {
			t.Fatalf("the partner's download is %s, the version says %s", sha(got), released.SHA256)
		}
		want := hub.Credit{Credit: "Dobrye Vesti", CopyrightNotice: rights, UsageTerms: "Free to republish with credit"}
		if changed, err := credit.Write(ctx, io.Discard, bytes.NewReader(got), int64(len(got)), "image/jpeg", want); err != nil || changed {
			t.Fatalf("the released picture does not carry the credit (%v)", err)
		}
		if _, zipped := zipFile(t, readZip(t, h.do("GET", "/v1/packages/"+id+"/archive.zip", partner, nil).expect(t, http.StatusOK)), "photo.jpg"); sha(zipped) != released.SHA256 {
			t.Fatal("the zip holds other bytes than the version names")
		}
		if own := h.do("GET", path, producer, nil).expect(t, http.StatusOK).body; sha(own) != working.SHA256 {
			t.Fatal("the producer's working copy is not the scrubbed upload")
		}

		// The renditions are the upload's, shown for the released asset.
		ready := false
		for _, r := range released.Renditions {
			ready = ready || r.Name == "thumbnail" && r.State == "ready"
		}
		if !ready {
			t.Fatalf("the released asset shows no ready thumbnail: %+v", released.Renditions)
		}
		h.do("GET", path+"?rendition=thumbnail", partner, nil).expect(t, http.StatusOK)

		p, err := h.catalog.Package(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		key := p.Live.Assets[0].BlobKey
		h.do("POST", "/v1/packages/"+id+"/purge", producer, nil).expect(t, http.StatusOK)
		if _, err := h.blobs.Stat(ctx, key); hub.ErrorCode(err) != hub.ENOTFOUND {
			t.Fatalf("the credited blob is still stored after the purge (%v)", err)
		}
		recs, err := h.catalog.BlobRecords(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := recs[released.SHA256]; ok {
			t.Fatal("the credited blob's record outlived the purge")
		}
	})
}

// harnessCredit is what createPackage's packages write into their
// pictures when released.
var harnessCredit = hub.Credit{Credit: "Dobrye Vesti", UsageTerms: "Free to republish with credit"}

// creditedAs is what partners get of stored bytes b (a picture of
// contentType) released with c: b with c written in, or b itself when
// there is nothing to write.
func creditedAs(t testing.TB, contentType string, b []byte, c hub.Credit) []byte {
	t.Helper()
	var out bytes.Buffer
	changed, err := credit.Write(t.Context(), &out, bytes.NewReader(b), int64(len(b)), contentType, c)
	if err != nil {
		t.Fatal(err)
	}
	if !changed {
		return b
	}
	return out.Bytes()
}
