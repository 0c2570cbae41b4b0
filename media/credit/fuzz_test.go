package credit_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/credit"
)

// FuzzWrite feeds the writer hostile bytes as each type it edits: it must
// not panic, must fail with a NotParsed only, and what it writes, credited
// again, must come out the same. testdata/fuzz holds small real files
// (planted by exiftool, WebP made by ffmpeg).
func FuzzWrite(f *testing.F) {
	f.Add(jpegBytes(f), uint8(0))
	f.Add(pngBytes(f), uint8(1))
	f.Add([]byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"), uint8(2))
	types := []string{"image/jpeg", "image/png", "image/webp"}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		ct := types[int(which)%len(types)]
		c := kazakh
		if which&4 != 0 {
			c.UsageTerms = ""
		}
		var out bytes.Buffer
		changed, err := credit.Write(t.Context(), &out, bytes.NewReader(data), int64(len(data)), ct, c)
		if err != nil {
			var np *hub.NotParsedError
			if !errors.As(err, &np) {
				t.Fatalf("an error that is not a NotParsed: %v", err)
			}
			return
		}
		if !changed {
			return
		}
		var again bytes.Buffer
		changed, err = credit.Write(t.Context(), &again, bytes.NewReader(out.Bytes()), int64(out.Len()), ct, c)
		if err != nil {
			t.Fatalf("crediting the output again: %v", err)
		}
		if changed && !bytes.Equal(again.Bytes(), out.Bytes()) {
			t.Fatalf("crediting the output again changed it (%d bytes, then %d)", out.Len(), again.Len())
		}
	})
}
