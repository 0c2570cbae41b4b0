package scrub_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/mediatest"
	"github.com/syndication-hub/hub/media/scrub"
)

// docPolicy is a package's policy.
func docPolicy(anonymized bool) hub.ScrubPolicy { return hub.ScrubPolicy{Anonymized: anonymized} }

// docMemSource is a hub.ScrubSource in memory, for fuzzing: no scratch
// file, as when the hub has none to name.
type docMemSource struct {
	*bytes.Reader
	size int64
}

func (m docMemSource) Size() int64  { return m.size }
func (m docMemSource) Path() string { return "" }

func docMem(b []byte) docMemSource {
	return docMemSource{Reader: bytes.NewReader(b), size: int64(len(b))}
}

// scrubDoc scrubs b, sniffed as contentType, from a scratch file.
func scrubDoc(t testing.TB, name string, b []byte, contentType string, p hub.ScrubPolicy) ([]byte, hub.ScrubReport, error) {
	t.Helper()
	var out bytes.Buffer
	var rep hub.ScrubReport
	err := scrub.New(scrub.Options{}).Scrub(context.Background(), &out, sourceOf(t, name, b), contentType, p, &rep)
	return out.Bytes(), rep, err
}

// mustScrubDoc scrubs and fails the test on an error.
func mustScrubDoc(t testing.TB, name string, b []byte, contentType string, p hub.ScrubPolicy) ([]byte, hub.ScrubReport) {
	t.Helper()
	out, rep, err := scrubDoc(t, name, b, contentType, p)
	if err != nil {
		t.Fatalf("scrub %s: %v", name, err)
	}
	return out, rep
}

// docPicture encodes a small picture with image/jpeg: no metadata at all.
func docPicture(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 48, 32))
	for y := range 32 {
		for x := range 48 {
			img.Set(x, y, color.RGBA{uint8(x * 5), uint8(y * 8), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// docGPSPicture is docPicture with a GPS position and a camera serial number
// planted by exiftool.
func docGPSPicture(t testing.TB) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(path, docPicture(t), 0o600); err != nil {
		t.Fatal(err)
	}
	mediatest.Plant(t, path, "-GPSLatitude=43.2416", "-GPSLatitudeRef=N", "-GPSLongitude=76.9286", "-GPSLongitudeRef=E",
		"-SerialNumber=CAM-SN-7731", "-Artist=Aigerim Photographer")
	return mediatest.ReadFile(t, path)
}

// jpegScrubbable says whether the Scrubber has a JPEG scrubber yet: the
// documents' pictures go through it when it has.
func jpegScrubbable(t testing.TB) bool {
	t.Helper()
	_, _, err := scrubDoc(t, "probe.jpg", docPicture(t), "image/jpeg", docPolicy(false))
	var np *hub.NotParsedError
	return !errors.As(err, &np)
}

// wantNotParsed fails the test unless err is a *hub.NotParsedError.
func wantNotParsed(t testing.TB, err error) {
	t.Helper()
	var np *hub.NotParsedError
	if !errors.As(err, &np) {
		t.Fatalf("got %v (%T), want a *hub.NotParsedError", err, err)
	}
}

// noPlantedIn fails the test when any planted value is in b, as bytes or as
// UTF-16 (PDF text strings), whatever the case.
func noPlantedIn(t testing.TB, what string, b []byte, planted []string) {
	t.Helper()
	lower := bytes.ToLower(b)
	for _, v := range planted {
		if bytes.Contains(lower, bytes.ToLower([]byte(v))) {
			t.Errorf("%s still holds %q", what, v)
		}
		if bytes.Contains(b, docUTF16(v)) {
			t.Errorf("%s still holds %q as UTF-16", what, v)
		}
	}
}

func docUTF16(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r>>8), byte(r))
	}
	return b
}

// noPlantedTag fails the test when exiftool finds a planted value in any tag.
func noPlantedTag(t testing.TB, tags map[string]any, planted []string) {
	t.Helper()
	for k, v := range tags {
		s := strings.ToLower(fmt.Sprint(v))
		for _, p := range planted {
			if strings.Contains(s, strings.ToLower(p)) {
				t.Errorf("exiftool still finds %q in %s", p, k)
			}
		}
	}
}

func docRemoved(rep hub.ScrubReport, field string) bool {
	for _, r := range rep.Removed {
		if r.Field == field {
			return true
		}
	}
	return false
}

func newScrubber() *scrub.Scrubber { return scrub.New(scrub.Options{}) }

func TestDocumentsCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, in := range map[string]struct {
		b  []byte
		ct string
	}{
		"in.pdf":  {buildPDF(pdfSpec{info: "<< /Author (A) >>"}), "application/pdf"},
		"in.docx": {buildDOCX(t, docxParts(nil), time.Now()), ctDOCX},
	} {
		var rep hub.ScrubReport
		err := newScrubber().Scrub(ctx, &bytes.Buffer{}, sourceOf(t, name, in.b), in.ct, docPolicy(true), &rep)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v, want canceled", name, err)
		}
	}
}
