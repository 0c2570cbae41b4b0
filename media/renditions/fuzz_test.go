package renditions_test

import (
	"bytes"
	"context"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/syndication-hub/hub/media/renditions"
)

// panics is a slog handler that keeps what Make logs at error level: a
// decoder's panic, which Make recovers from.
type panics struct {
	mu   sync.Mutex
	msgs []string
}

func (p *panics) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (p *panics) WithAttrs([]slog.Attr) slog.Handler           { return p }
func (p *panics) WithGroup(string) slog.Handler                { return p }
func (p *panics) Handle(_ context.Context, r slog.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	p.msgs = append(p.msgs, msg)
	return nil
}

// FuzzPicture feeds Make hostile pictures: every planned rendition ends
// final, and no decoder panics (Make would recover, and log it).
func FuzzPicture(f *testing.F) {
	img := image.NewRGBA(image.Rect(0, 0, 24, 16))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 5)
	}
	types := []string{"image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff", "image/webp"}
	encoders := []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return jpeg.Encode(b, img, nil) },
		func(b *bytes.Buffer) error { return png.Encode(b, img) },
		func(b *bytes.Buffer) error { return gif.Encode(b, img, nil) },
		func(b *bytes.Buffer) error { return bmp.Encode(b, img) },
		func(b *bytes.Buffer) error { return tiff.Encode(b, img, nil) },
	}
	for i, encode := range encoders {
		var b bytes.Buffer
		if err := encode(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b.Bytes())
	}
	// A JPEG with an EXIF segment whose IFD says orientation 6.
	var j bytes.Buffer
	jpeg.Encode(&j, image.NewGray(image.Rect(0, 0, 8, 8)), nil)
	exif := []byte("Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00")
	app1 := append([]byte{0xff, 0xe1, byte((len(exif) + 2) >> 8), byte(len(exif) + 2)}, exif...)
	f.Add(uint8(0), append(append([]byte{0xff, 0xd8}, app1...), j.Bytes()[2:]...))
	f.Add(uint8(5), []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"))

	log := &panics{}
	m := renditions.New(renditions.Options{MaxPixels: 1 << 20, Logger: slog.New(log)})
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		contentType := types[int(which)%len(types)]
		src := filepath.Join(t.TempDir(), "src")
		if err := os.WriteFile(src, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rs, _ := m.Make(context.Background(), src, contentType, t.TempDir())
		for _, r := range rs {
			if r.State != renditions.Ready && r.State != renditions.Failed {
				t.Errorf("%s: %s %q", r.Name, r.State, r.Reason)
			}
			if r.State == renditions.Ready && (r.Width < 1 || r.Height < 1 || r.Width > renditions.WebSize || r.Height > renditions.WebSize) {
				t.Errorf("%s: %dx%d", r.Name, r.Width, r.Height)
			}
		}
		log.mu.Lock()
		defer log.mu.Unlock()
		if len(log.msgs) > 0 {
			t.Fatalf("Make logged %q for %s %x", log.msgs, contentType, data)
		}
	})
}
