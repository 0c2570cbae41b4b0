package scrub_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"slices"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/mediatest"
)

// gifBytes encodes a looping two-frame GIF (Go writes NETSCAPE2.0).
func gifBytes(t testing.TB) []byte {
	t.Helper()
	var frames []*image.Paletted
	for i := range 2 {
		f := image.NewPaletted(image.Rect(0, 0, 40, 30), palette.Plan9)
		draw.Draw(f, f.Bounds(), mediatest.Picture(40+i*5, 30), image.Point{}, draw.Src)
		frames = append(frames, f)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, &gif.GIF{Image: frames, Delay: []int{10, 10}, LoopCount: 0}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gifSubBlocks splits data into sub-blocks with the terminator.
func gifSubBlocks(data []byte) []byte {
	var b []byte
	for len(data) > 0 {
		n := min(len(data), 255)
		b = append(b, byte(n))
		b = append(b, data[:n]...)
		data = data[n:]
	}
	return append(b, 0)
}

// appExt builds an application extension.
func appExt(id string, data []byte) []byte {
	return slices.Concat([]byte{0x21, 0xFF, 11}, []byte(id), gifSubBlocks(data))
}

// beforeTrailer puts blocks before a GIF's trailer.
func beforeTrailer(g []byte, blocks ...[]byte) []byte {
	return slices.Concat(g[:len(g)-1], slices.Concat(blocks...), g[len(g)-1:])
}

func sameFrames(t *testing.T, a, b []byte) {
	t.Helper()
	x, err := gif.DecodeAll(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	y, err := gif.DecodeAll(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decoding the output: %v", err)
	}
	if len(x.Image) != len(y.Image) || x.LoopCount != y.LoopCount {
		t.Fatalf("%d frames looping %d, then %d looping %d", len(x.Image), x.LoopCount, len(y.Image), y.LoopCount)
	}
	for i := range x.Image {
		if !bytes.Equal(x.Image[i].Pix, y.Image[i].Pix) {
			t.Fatalf("frame %d changed", i)
		}
	}
}

func TestScrubGIF(t *testing.T) {
	for _, p := range []hub.ScrubPolicy{{Anonymized: true}, {Anonymized: false}} {
		t.Run(fmt.Sprintf("anonymized=%v", p.Anonymized), func(t *testing.T) {
			dir := t.TempDir()
			always, anon := identifying()
			orig := gifBytes(t)
			path := writeFile(t, dir, "in.gif", orig)
			mediatest.Plant(t, path, slices.Concat(always.args, anon.args, rightsArgs(), []string{"-Comment=GIF comment secret"})...)
			icc := appExt("ICCRGBG1012", testICC())
			in := beforeTrailer(mediatest.ReadFile(t, path), appExt("MGK8BIM0000", []byte("8BIM-SECRET")), icc,
				[]byte{0x21, 0x99, 5, 'X', '-', 'S', 'E', 'C', 0})
			in = append(in, "TRAILER-SECRET"...)
			gone := slices.Concat(always.values, []string{"8BIM-SECRET", "X-SEC", "TRAILER-SECRET"})
			if p.Anonymized {
				gone = slices.Concat(gone, anon.values, []string{"GIF comment secret"})
			}
			if found := leaks(t, "in.gif", in, gone); len(found) == 0 {
				t.Fatal("the planted file holds none of the planted values")
			}
			out, rep := scrubFile(t, "in.gif", "image/gif", in, p)
			if found := leaks(t, "out.gif", out, gone); len(found) > 0 {
				t.Errorf("left behind:\n%v", found)
			}
			tags := mediatest.TagsOf(t, "out.gif", out)
			want := map[string]any{
				"XMP-photoshop:Credit":     "Hub Agency Credit",
				"XMP-dc:Rights":            "(c) Hub Agency 2024",
				"XMP-xmpRights:UsageTerms": "Editorial use only",
			}
			if !p.Anonymized {
				want["XMP-dc:Creator"] = "Dana Creator"
				want["File:Comment"] = "GIF comment secret"
			}
			for k, v := range want {
				if tags[k] != v {
					t.Errorf("%s = %v, want %v", k, tags[k], v)
				}
			}
			if !bytes.Contains(out, icc) || !slices.Contains(rep.Kept, "ICC profile") {
				t.Error("the ICC profile went")
			}
			for _, f := range []string{"GPS position", "camera serial number", "other metadata", "data after the picture (secondary images)"} {
				if !hasRemoved(rep, f) {
					t.Errorf("the report does not say %q went: %v", f, removed(rep))
				}
			}
			sameFrames(t, orig, out) // (Go's decoder refuses the unknown extension in)
			idempotent(t, "image/gif", out, p)
		})
	}
}

func TestScrubGIFUnchanged(t *testing.T) {
	in := gifBytes(t)
	withICC := beforeTrailer(in, appExt("ICCRGBG1012", testICC()))
	for name, b := range map[string][]byte{"plain": in, "ICC": withICC} {
		for _, p := range []hub.ScrubPolicy{{Anonymized: true}, {}} {
			out, rep := scrubFile(t, "in.gif", "image/gif", b, p)
			if !bytes.Equal(out, b) || len(rep.Removed) > 0 {
				t.Errorf("%s %+v: changed (%d bytes to %d), removed %v", name, p, len(b), len(out), removed(rep))
			}
		}
	}
}

func TestScrubGIFNotParsed(t *testing.T) {
	g := gifBytes(t)
	for name, in := range map[string][]byte{
		"empty":         {},
		"bad header":    append([]byte("GIF88a"), g[6:]...),
		"no trailer":    g[:len(g)-1],
		"truncated":     g[:len(g)/2],
		"unknown block": beforeTrailer(g, []byte{0x42}),
	} {
		for _, p := range []hub.ScrubPolicy{{Anonymized: true}, {}} {
			_, _, err := scrubBytes(t.Context(), "image/gif", in, p)
			t.Run(fmt.Sprintf("%s/anonymized=%v", name, p.Anonymized), func(t *testing.T) { notParsed(t, err, "GIF") })
		}
	}
}
