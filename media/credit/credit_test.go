package credit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	_ "golang.org/x/image/webp"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/credit"
	"github.com/syndication-hub/hub/media/mediatest"
)

// write credits b as contentType.
func write(t testing.TB, contentType string, b []byte, c hub.Credit) ([]byte, bool) {
	t.Helper()
	var out bytes.Buffer
	changed, err := credit.New().WriteCredit(t.Context(), &out, bytes.NewReader(b), int64(len(b)), contentType, c)
	if err != nil {
		t.Fatalf("write credit into %s: %v", contentType, err)
	}
	if !changed && out.Len() > 0 {
		t.Fatalf("nothing to write, yet %d bytes written", out.Len())
	}
	return out.Bytes(), changed
}

func jpegBytes(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, mediatest.Picture(40, 30), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pngBytes(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, mediatest.Picture(40, 30)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// webpBytes makes a WebP with ffmpeg: lossy (a VP8 chunk) or lossless
// (VP8L), both simple files without a VP8X.
func webpBytes(t testing.TB, lossless bool) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.webp")
	mode := "0"
	if lossless {
		mode = "1"
	}
	mediatest.Run(t, "ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=1",
		"-frames:v", "1", "-c:v", "libwebp", "-lossless", mode, path)
	return mediatest.ReadFile(t, path)
}

// planted writes b to a file, plants tags with exiftool and reads it back.
func planted(t testing.TB, name string, b []byte, tags ...string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	mediatest.Plant(t, path, tags...)
	return mediatest.ReadFile(t, path)
}

// rights reads the fields the writer sets with exiftool, the oracle.
func rights(t testing.TB, name string, b []byte) map[string]string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out := mediatest.Run(t, "exiftool", "-j", "-G1", "-charset", "iptc=UTF8",
		"-XMP-photoshop:Credit", "-XMP-dc:Rights", "-XMP-xmpRights:UsageTerms", "-IPTC:Credit", "-IPTC:CopyrightNotice",
		"-XMP-dc:Creator", "-Warning", path)
	var docs []map[string]any
	if err := json.Unmarshal(out, &docs); err != nil || len(docs) != 1 {
		t.Fatalf("exiftool -j: %v\n%s", err, out)
	}
	got := map[string]string{}
	for k, v := range docs[0] {
		if k != "SourceFile" {
			s, _ := v.(string)
			if s == "" {
				b, _ := json.Marshal(v)
				s = string(b)
			}
			got[k] = s
		}
	}
	return got
}

// samePixels fails unless a and b decode to the same pixels.
func samePixels(t testing.TB, a, b []byte) {
	t.Helper()
	x, _, err := image.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatalf("decoding the input: %v", err)
	}
	y, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decoding the output: %v", err)
	}
	if x.Bounds() != y.Bounds() || !bytes.Equal(rgba(x).Pix, rgba(y).Pix) {
		t.Fatal("the output's pixels differ from the input's")
	}
}

func rgba(m image.Image) *image.RGBA {
	r := image.NewRGBA(m.Bounds())
	draw.Draw(r, r.Bounds(), m, m.Bounds().Min, draw.Src)
	return r
}

// kazakh is a release's credit in Kazakh and Russian, with the
// characters XML must escape.
var kazakh = hub.Credit{
	Credit:          "Фото: Әйгерім Сәрсенова / «Қорғау» & Co <бірлесіп>",
	CopyrightNotice: "© 2024 Қоғамдық қор \"Қорғау\"",
	UsageTerms:      "Только для редакционного использования; 18+ > без изменений",
}

func TestWrite(t *testing.T) {
	xmpWant := map[string]string{
		"XMP-photoshop:Credit":     kazakh.Credit,
		"XMP-dc:Rights":            kazakh.CopyrightNotice,
		"XMP-xmpRights:UsageTerms": kazakh.UsageTerms,
	}
	withIPTC := map[string]string{"IPTC:Credit": kazakh.Credit, "IPTC:CopyrightNotice": kazakh.CopyrightNotice}
	for k, v := range xmpWant {
		withIPTC[k] = v
	}
	oldRights := []string{"-XMP-photoshop:Credit=Old Credit", "-XMP-dc:Rights=Old Rights", "-XMP-xmpRights:UsageTerms=Old terms", "-XMP-dc:Creator=Dana Creator"}
	tests := []struct {
		name, file, contentType string
		in                      func(t testing.TB) []byte
		want                    map[string]string
	}{
		{"JPEG without metadata", "a.jpg", "image/jpeg", jpegBytes, xmpWant},
		{"JPEG with XMP", "b.jpg", "image/jpeg", func(t testing.TB) []byte {
			return planted(t, "b.jpg", jpegBytes(t), oldRights...)
		}, merge(xmpWant, map[string]string{"XMP-dc:Creator": "Dana Creator"})},
		{"JPEG with IPTC", "c.jpg", "image/jpeg", func(t testing.TB) []byte {
			return planted(t, "c.jpg", jpegBytes(t), "-IPTC:Credit=Old IIM Credit", "-IPTC:CopyrightNotice=Old IIM rights", "-IPTC:ObjectName=Keep me")
		}, withIPTC},
		{"PNG without metadata", "a.png", "image/png", pngBytes, xmpWant},
		{"PNG with XMP", "b.png", "image/png", func(t testing.TB) []byte {
			return planted(t, "b.png", pngBytes(t), oldRights...)
		}, merge(xmpWant, map[string]string{"XMP-dc:Creator": "Dana Creator"})},
		{"WebP lossy, simple", "a.webp", "image/webp", func(t testing.TB) []byte { return webpBytes(t, false) }, xmpWant},
		{"WebP lossless, simple", "b.webp", "image/webp", func(t testing.TB) []byte { return webpBytes(t, true) }, xmpWant},
		{"WebP with XMP", "c.webp", "image/webp", func(t testing.TB) []byte {
			return planted(t, "c.webp", webpBytes(t, false), oldRights...)
		}, merge(xmpWant, map[string]string{"XMP-dc:Creator": "Dana Creator"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in(t)
			out, changed := write(t, tt.contentType, in, kazakh)
			if !changed {
				t.Fatal("nothing written")
			}
			got := rights(t, tt.file, out)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if w, ok := got["ExifTool:Warning"]; ok {
				t.Errorf("exiftool warns: %s", w)
			}
			if _, ok := tt.want["IPTC:Credit"]; !ok && got["IPTC:Credit"] != "" {
				t.Errorf("IIM written into a file that had none: %q", got["IPTC:Credit"])
			}
			samePixels(t, in, out)
			// Written once: the output carries the values, so nothing more.
			if again, changed := write(t, tt.contentType, out, kazakh); changed {
				t.Fatalf("writing the output again changed it (%d bytes, then %d)", len(out), len(again))
			}
		})
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range []map[string]string{a, b} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestIPTCKeepsOtherDatasets(t *testing.T) {
	in := planted(t, "c.jpg", jpegBytes(t), "-IPTC:Credit=Old", "-IPTC:ObjectName=Keep me", "-IPTC:Keywords=one", "-IPTC:Keywords+=two")
	out, _ := write(t, "image/jpeg", in, kazakh)
	tags := mediatest.TagsOf(t, "c.jpg", out)
	if tags["IPTC:ObjectName"] != "Keep me" {
		t.Errorf("IPTC:ObjectName = %v", tags["IPTC:ObjectName"])
	}
	if kw, _ := json.Marshal(tags["IPTC:Keywords"]); string(kw) != `["one","two"]` {
		t.Errorf("IPTC:Keywords = %s", kw)
	}
	if tags["IPTC:CodedCharacterSet"] == nil {
		t.Error("no coded character set")
	}
}

func TestNothingToWrite(t *testing.T) {
	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	tests := []struct {
		name, contentType string
		in                func(t testing.TB) []byte
		c                 hub.Credit
	}{
		{"empty values", "image/jpeg", jpegBytes, hub.Credit{Credit: " "}},
		{"GIF", "image/gif", func(testing.TB) []byte { return gif }, kazakh},
		{"SVG", "image/svg+xml", func(testing.TB) []byte { return []byte("<svg/>") }, kazakh},
		{"JPEG carrying them", "image/jpeg", func(t testing.TB) []byte {
			return planted(t, "a.jpg", jpegBytes(t), "-XMP-photoshop:Credit="+kazakh.Credit, "-XMP-dc:Rights="+kazakh.CopyrightNotice,
				"-XMP-xmpRights:UsageTerms="+kazakh.UsageTerms)
		}, kazakh},
		{"PNG carrying the credit, nothing else asked", "image/png", func(t testing.TB) []byte {
			return planted(t, "a.png", pngBytes(t), "-XMP-photoshop:Credit=Agency")
		}, hub.Credit{Credit: "Agency"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, changed := write(t, tt.contentType, tt.in(t), tt.c); changed {
				t.Fatal("written")
			}
		})
	}
}

func TestNotParsed(t *testing.T) {
	for _, tt := range []struct{ contentType, in string }{
		{"image/jpeg", "\xff\xd8\xff\xe1\xff\xff"},
		{"image/png", "\x89PNG\r\n\x1a\n\x00\x00"},
		{"image/webp", "RIFF\x04\x00\x00\x00WEBP"},
	} {
		var out bytes.Buffer
		_, err := credit.Write(t.Context(), &out, bytes.NewReader([]byte(tt.in)), int64(len(tt.in)), tt.contentType, kazakh)
		var np *hub.NotParsedError
		if !errors.As(err, &np) {
			t.Errorf("%s: got %v, want a NotParsed", tt.contentType, err)
		}
	}
}
