package scrub_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/mediatest"
)

// webpFile makes a WebP with ffmpeg (extra arguments: an animation).
func webpFile(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	input := []string{"-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5"}
	if len(args) == 0 {
		args = []string{"-frames:v", "1"}
	}
	mediatest.Run(t, "ffmpeg", slices.Concat(input, args, []string{path})...)
	return path
}

// addRIFFChunk appends a chunk to a WebP and fixes the RIFF size.
func addRIFFChunk(w []byte, fourcc string, data []byte) []byte {
	c := append([]byte(fourcc), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	out := append(slices.Clone(w), c...)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// rawFrames decodes a picture to RGBA frames with ffmpeg.
func rawFrames(t *testing.T, name string, b []byte) []byte {
	t.Helper()
	path := writeFile(t, t.TempDir(), name, b)
	return mediatest.Run(t, "ffmpeg", "-loglevel", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgba", "-")
}

// webpChunks lists a WebP's top-level chunks.
func webpChunks(b []byte) []string {
	var c []string
	for at := 12; at+8 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[at+4:]))
		c = append(c, string(b[at:at+4]))
		at += 8 + n + n%2
	}
	return c
}

func TestScrubWebP(t *testing.T) {
	for _, p := range []hub.ScrubPolicy{{Anonymized: true}, {Anonymized: false}} {
		t.Run(fmt.Sprintf("anonymized=%v", p.Anonymized), func(t *testing.T) {
			dir := t.TempDir()
			always, anon := identifying()
			path := webpFile(t, dir, "in.webp")
			mediatest.Plant(t, path, slices.Concat(always.args, anon.args, rightsArgs(), []string{
				"-Orientation#=6", "-Copyright=(c) Hub Agency 2024", "-ICC_Profile<=" + writeFile(t, dir, "p.icc", testICC()),
			})...)
			in := addRIFFChunk(mediatest.ReadFile(t, path), "PRIV", []byte("PRIVATE-SECRET!"))
			in = append(in, "TRAILER-SECRET"...)
			gone := slices.Concat(always.values, []string{"PRIVATE-SECRET", "TRAILER-SECRET"})
			if p.Anonymized {
				gone = slices.Concat(gone, anon.values)
			}
			if found := leaks(t, "in.webp", in, gone); len(found) == 0 {
				t.Fatal("the planted file holds none of the planted values")
			}
			out, rep := scrubFile(t, "in.webp", "image/webp", in, p)
			if found := leaks(t, "out.webp", out, gone); len(found) > 0 {
				t.Errorf("left behind:\n%v", found)
			}
			tags := mediatest.TagsOf(t, "out.webp", out)
			want := map[string]any{
				"IFD0:Orientation":             6.0,
				"IFD0:Copyright":               "(c) Hub Agency 2024",
				"XMP-photoshop:Credit":         "Hub Agency Credit",
				"XMP-dc:Rights":                "(c) Hub Agency 2024",
				"XMP-xmpRights:UsageTerms":     "Editorial use only",
				"ICC_Profile:ProfileCopyright": "Hub Test ICC Profile",
			}
			if !p.Anonymized {
				want["IFD0:Artist"] = "Aigerim Artist"
				want["XMP-dc:Creator"] = "Dana Creator"
			}
			for k, v := range want {
				if tags[k] != v {
					t.Errorf("%s = %v, want %v", k, tags[k], v)
				}
			}
			if size := int(binary.LittleEndian.Uint32(out[4:])); size != len(out)-8 {
				t.Errorf("RIFF size %d for %d bytes", size, len(out))
			}
			if flags := out[20]; flags&0x08 == 0 || flags&0x04 == 0 || flags&0x20 == 0 {
				t.Errorf("VP8X flags %#x, want EXIF, XMP and ICC", flags)
			}
			for _, f := range []string{"GPS position", "camera serial number", "other metadata", "data after the picture (secondary images)"} {
				if !hasRemoved(rep, f) {
					t.Errorf("the report does not say %q went: %v", f, removed(rep))
				}
			}
			if !bytes.Equal(rawFrames(t, "in.webp", in), rawFrames(t, "out.webp", out)) {
				t.Error("the pixels changed")
			}
			idempotent(t, "image/webp", out, p)
		})
	}
}

// TestScrubWebPNoMetadataLeft: when nothing is kept, the EXIF and XMP
// chunks go and their VP8X flags are cleared.
func TestScrubWebPNoMetadataLeft(t *testing.T) {
	dir := t.TempDir()
	path := webpFile(t, dir, "in.webp")
	mediatest.Plant(t, path, "-GPSLatitude=43.2416", "-GPSLatitudeRef=N", "-Make=Zorkicam", "-XMP-tiff:Model=ZK-9000X")
	in := mediatest.ReadFile(t, path)
	out, _ := scrubFile(t, "in.webp", "image/webp", in, hub.ScrubPolicy{Anonymized: true})
	if c := webpChunks(out); slices.Contains(c, "EXIF") || slices.Contains(c, "XMP ") || out[20]&0x0C != 0 {
		t.Errorf("chunks %v, flags %#x", c, out[20])
	}
	if size := int(binary.LittleEndian.Uint32(out[4:])); size != len(out)-8 {
		t.Errorf("RIFF size %d for %d bytes", size, len(out))
	}
	if !bytes.Equal(rawFrames(t, "in.webp", in), rawFrames(t, "out.webp", out)) {
		t.Error("the pixels changed")
	}
	idempotent(t, "image/webp", out, hub.ScrubPolicy{Anonymized: true})
}

func TestScrubWebPUnchanged(t *testing.T) {
	dir := t.TempDir()
	plain := mediatest.ReadFile(t, webpFile(t, dir, "plain.webp"))
	icc := webpFile(t, dir, "icc.webp")
	mediatest.Plant(t, icc, "-ICC_Profile<="+writeFile(t, dir, "p.icc", testICC()))
	anim := mediatest.ReadFile(t, webpFile(t, dir, "anim.webp", "-frames:v", "3", "-loop", "0"))
	lossless := mediatest.ReadFile(t, webpFile(t, dir, "lossless.webp", "-frames:v", "1", "-lossless", "1"))
	for name, in := range map[string][]byte{"plain": plain, "ICC": mediatest.ReadFile(t, icc), "animated": anim, "lossless": lossless} {
		for _, p := range []hub.ScrubPolicy{{Anonymized: true}, {}} {
			out, rep := scrubFile(t, "in.webp", "image/webp", in, p)
			if !bytes.Equal(out, in) || len(rep.Removed) > 0 {
				t.Errorf("%s %+v: changed (%d bytes to %d), removed %v", name, p, len(in), len(out), removed(rep))
			}
		}
	}
}

func TestScrubWebPNotParsed(t *testing.T) {
	w := mediatest.ReadFile(t, webpFile(t, t.TempDir(), "in.webp"))
	big := slices.Clone(w)
	binary.LittleEndian.PutUint32(big[4:], uint32(len(w)))
	chunkPast := slices.Clone(w)
	binary.LittleEndian.PutUint32(chunkPast[16:], uint32(len(w)))
	vp8x := slices.Concat([]byte("RIFF\x00\x00\x00\x00WEBPVP8X\x04\x00\x00\x00\x00\x00\x00\x00"), w[12:])
	binary.LittleEndian.PutUint32(vp8x[4:], uint32(len(vp8x)-8))
	unknownFirst := slices.Concat(w[:12], []byte("ABCD\x00\x00\x00\x00"), w[12:])
	binary.LittleEndian.PutUint32(unknownFirst[4:], uint32(len(unknownFirst)-8))
	for name, in := range map[string][]byte{
		"empty":               {},
		"not WEBP":            slices.Concat([]byte("RIFF\x04\x00\x00\x00WAVE"), w[12:]),
		"RIFF size too big":   big,
		"chunk past the RIFF": chunkPast,
		"short VP8X":          vp8x,
		"unknown first chunk": unknownFirst,
		"truncated":           w[:len(w)/2],
	} {
		for _, p := range []hub.ScrubPolicy{{Anonymized: true}, {}} {
			_, _, err := scrubBytes(t.Context(), "image/webp", in, p)
			t.Run(fmt.Sprintf("%s/anonymized=%v", name, p.Anonymized), func(t *testing.T) { notParsed(t, err, "WebP") })
		}
	}
}
