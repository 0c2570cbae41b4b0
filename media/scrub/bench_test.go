package scrub_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/mediatest"
	"github.com/syndication-hub/hub/media/scrub"
)

// bigJPEG is a 12-megapixel photograph-sized JPEG (noise, so it does not
// compress to nothing) with a camera's metadata and a thumbnail.
func bigJPEG(b *testing.B) hub.ScrubSource {
	b.Helper()
	img := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Y {
		img.Y[i] = uint8(i/4000/12) + uint8(r.IntN(48))
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 128+uint8(r.IntN(16)), 120+uint8(r.IntN(16))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	path := writeFile(b, dir, "big.jpg", buf.Bytes())
	always, anon := identifying()
	mediatest.Plant(b, path, append(append(always.args, anon.args...), "-Orientation#=6",
		"-ThumbnailImage<="+writeFile(b, dir, "thumb.jpg", jpegBytes(b, 160, 120)))...)
	return sourceOf(b, "big.jpg", mediatest.ReadFile(b, path))
}

// BenchmarkScrubJPEG scrubs a 12-megapixel JPEG; compare with
// BenchmarkCopyJPEG, an io.Copy of the same bytes.
func BenchmarkScrubJPEG(b *testing.B) {
	src := bigJPEG(b)
	s := scrub.New(scrub.Options{})
	b.SetBytes(src.Size())
	for b.Loop() {
		if err := s.Scrub(b.Context(), io.Discard, src, "image/jpeg", hub.ScrubPolicy{Anonymized: true}, &hub.ScrubReport{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCopyJPEG(b *testing.B) {
	src := bigJPEG(b)
	b.SetBytes(src.Size())
	for b.Loop() {
		if _, err := io.Copy(io.Discard, io.NewSectionReader(src, 0, src.Size())); err != nil {
			b.Fatal(err)
		}
	}
}
