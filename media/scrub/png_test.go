package scrub_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image/png"
	"slices"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/mediatest"
)

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, mediatest.Picture(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngChunk builds a chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// afterIHDR puts chunks right after a PNG's IHDR.
func afterIHDR(p []byte, chunks ...[]byte) []byte {
	at := 8 + 8 + 13 + 4
	return slices.Concat(p[:at], slices.Concat(chunks...), p[at:])
}

// chunkTypes lists a PNG's chunk types, in order.
func chunkTypes(t *testing.T, p []byte) []string {
	t.Helper()
	var types []string
	for at := 8; at+8 <= len(p); {
		n := int(binary.BigEndian.Uint32(p[at:]))
		types = append(types, string(p[at+4:at+8]))
		at += 12 + n
	}
	return types
}

func TestScrubPNG(t *testing.T) {
	for _, p := range []hub.ScrubPolicy{{Anonymized: true}, {Anonymized: false}} {
		t.Run(fmt.Sprintf("anonymized=%v", p.Anonymized), func(t *testing.T) {
			dir := t.TempDir()
			always, anon := identifying()
			path := writeFile(t, dir, "in.png", pngBytes(t, 48, 32))
			mediatest.Plant(t, path, slices.Concat(always.args, anon.args, rightsArgs(), []string{
				"-Orientation#=6", "-Copyright=(c) Hub Agency 2024", "-ICC_Profile<=" + writeFile(t, dir, "p.icc", testICC()),
				"-PNG:Comment=png text comment", "-PNG:Author=PNG Author Person", "-PNG:CreationTime=2019:07:08 09:10:11",
				"-PNG:Software=PNG Software X", "-PNG:ModifyDate=2019:07:08 09:10:11",
			})...)
			in := afterIHDR(mediatest.ReadFile(t, path), pngChunk("caBX", []byte("c2pa manifest CABX-SECRET")),
				pngChunk("prVt", []byte("PRIVATE-SECRET")), pngChunk("tEXt", []byte("Raw profile type exif\x00\nexif\n  4\nRAWEXIF-SECRET")))
			in = append(in, "TRAILER-SECRET"...)
			gone := slices.Concat(always.values, []string{"CABX-SECRET", "PRIVATE-SECRET", "RAWEXIF-SECRET", "TRAILER-SECRET"})
			if p.Anonymized {
				gone = slices.Concat(gone, anon.values, []string{"png text comment", "PNG Author Person", "PNG Software X"})
			}
			if found := leaks(t, "in.png", in, gone); len(found) == 0 {
				t.Fatal("the planted file holds none of the planted values")
			}
			out, rep := scrubFile(t, "in.png", "image/png", in, p)
			if found := leaks(t, "out.png", out, gone); len(found) > 0 {
				t.Errorf("left behind:\n%v", found)
			}
			tags := mediatest.TagsOf(t, "out.png", out)
			want := map[string]any{
				"IFD0:Orientation":             6.0,
				"IFD0:Copyright":               "(c) Hub Agency 2024",
				"PNG:Copyright":                "(c) Hub Agency 2024",
				"XMP-photoshop:Credit":         "Hub Agency Credit",
				"XMP-dc:Rights":                "(c) Hub Agency 2024",
				"XMP-xmpRights:UsageTerms":     "Editorial use only",
				"ICC_Profile:ProfileCopyright": "Hub Test ICC Profile",
			}
			if !p.Anonymized {
				want["PNG:Author"] = "PNG Author Person"
				want["IFD0:Artist"] = "Aigerim Artist"
				want["XMP-dc:Creator"] = "Dana Creator"
			}
			for k, v := range want {
				if tags[k] != v {
					t.Errorf("%s = %v, want %v", k, tags[k], v)
				}
			}
			types := chunkTypes(t, out)
			if slices.Contains(types, "tIME") == p.Anonymized {
				t.Errorf("chunks %v", types)
			}
			for _, f := range []string{"GPS position", "camera serial number", "content credentials (C2PA)", "other metadata",
				"data after the picture (secondary images)", "edit history"} {
				if !hasRemoved(rep, f) {
					t.Errorf("the report does not say %q went: %v", f, removed(rep))
				}
			}
			samePixels(t, in, out)
			idempotent(t, "image/png", out, p)
		})
	}
}

func TestScrubPNGUnchanged(t *testing.T) {
	dir := t.TempDir()
	plain := pngBytes(t, 40, 30)
	withICC := writeFile(t, dir, "icc.png", plain)
	mediatest.Plant(t, withICC, "-ICC_Profile<="+writeFile(t, dir, "p.icc", testICC()))
	apng := writeFile(t, dir, "a.apng", nil)
	mediatest.Run(t, "ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=32x24:rate=5", "-frames:v", "3",
		"-f", "apng", "-plays", "0", apng)
	for name, in := range map[string][]byte{"plain": plain, "ICC": mediatest.ReadFile(t, withICC), "APNG": mediatest.ReadFile(t, apng)} {
		for _, p := range []hub.ScrubPolicy{{Anonymized: true}, {}} {
			out, rep := scrubFile(t, "in.png", "image/png", in, p)
			if name == "APNG" {
				// ffmpeg may sign it (a Software text); the animation stays.
				for _, c := range []string{"acTL", "fcTL", "fdAT"} {
					if !slices.Contains(chunkTypes(t, out), c) {
						t.Errorf("APNG %+v: no %s in %v", p, c, chunkTypes(t, out))
					}
				}
				idempotent(t, "image/png", out, p)
				continue
			}
			if !bytes.Equal(out, in) || len(rep.Removed) > 0 {
				t.Errorf("%s %+v: changed (%d bytes to %d), removed %v", name, p, len(in), len(out), removed(rep))
			}
		}
	}
}

func TestScrubPNGNotParsed(t *testing.T) {
	p := pngBytes(t, 16, 16)
	idat := bytes.Index(p, []byte("IDAT")) - 4
	badCRC := slices.Clone(p)
	badCRC[idat+8] ^= 0xFF
	huge := slices.Clone(p)
	binary.BigEndian.PutUint32(huge[idat:], 0xFFFFFFF0)
	past := slices.Clone(p)
	binary.BigEndian.PutUint32(past[idat:], 0x7FFFFFF0)
	for name, in := range map[string][]byte{
		"empty":           {},
		"bad signature":   append([]byte("\x89PNX"), p[4:]...),
		"huge length":     huge,
		"past the end":    past,
		"bad IDAT CRC":    badCRC,
		"no IEND":         p[:len(p)-12],
		"truncated chunk": p[:idat+20],
		"not IHDR first":  slices.Concat(p[:8], pngChunk("gAMA", []byte{0, 0, 0, 1}), p[8:]),
		"bad chunk type":  slices.Concat(p[:33], pngChunk("a1b2", nil), p[33:]),
		"huge eXIf":       slices.Concat(p[:33], binary.BigEndian.AppendUint32(nil, 20<<20), []byte("eXIf"), make([]byte, 20<<20+4), p[33:]),
	} {
		for _, pol := range []hub.ScrubPolicy{{Anonymized: true}, {}} {
			_, _, err := scrubBytes(t.Context(), "image/png", in, pol)
			t.Run(fmt.Sprintf("%s/anonymized=%v", name, pol.Anonymized), func(t *testing.T) { notParsed(t, err, "PNG") })
		}
	}
}
