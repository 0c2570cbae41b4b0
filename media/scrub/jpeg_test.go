package scrub_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"slices"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/mediatest"
)

// jpegBytes encodes a test picture with Go's encoder (no metadata at all).
func jpegBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, mediatest.Picture(w, h), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// segment builds a JPEG segment.
func segment(marker byte, payload []byte) []byte {
	b := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(len(payload)+2))
	return append(b, payload...)
}

// insertAfterSOI puts segments right after a JPEG's SOI.
func insertAfterSOI(j []byte, segs ...[]byte) []byte {
	out := append([]byte(nil), j[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, j[2:]...)
}

// jumbfC2PA is an APP11 JUMBF box labelled c2pa, as a C2PA manifest
// store starts.
func jumbfC2PA() []byte {
	d := append([]byte("jumd"), 0x63, 0x32, 0x70, 0x61, 0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71, 0x03)
	d = append(d, "c2pa\x00"...)
	d = append(binary.BigEndian.AppendUint32(nil, uint32(len(d)+4)), d...)
	jumb := append([]byte("jumb"), d...)
	jumb = append(binary.BigEndian.AppendUint32(nil, uint32(len(jumb)+4)), jumb...)
	return segment(0xEB, append([]byte("JP\x00\x01\x00\x00\x00\x01"), jumb...))
}

// mpfSegment is an APP2 MPF index (version only).
func mpfSegment() []byte {
	tiff := []byte("II*\x00\x08\x00\x00\x00\x01\x00")
	tiff = binary.LittleEndian.AppendUint16(tiff, 0xB000)
	tiff = binary.LittleEndian.AppendUint16(tiff, 7)
	tiff = binary.LittleEndian.AppendUint32(tiff, 4)
	tiff = append(tiff, "0100\x00\x00\x00\x00"...)
	return segment(0xE2, append([]byte("MPF\x00"), tiff...))
}

// extendedXMP is an APP1 extended-XMP segment holding secret text.
func extendedXMP() []byte {
	data := []byte(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><!-- EXTENDED-SECRET --></x:xmpmeta>`)
	p := append([]byte("http://ns.adobe.com/xmp/extension/\x00"), bytes.Repeat([]byte("A"), 32)...)
	p = binary.BigEndian.AppendUint32(p, uint32(len(data)))
	p = binary.BigEndian.AppendUint32(p, 0)
	return segment(0xE1, append(p, data...))
}

// plantedJPEG makes a JPEG with everything a camera, an editor and a
// phone leave behind, and returns it with the values that must go.
func plantedJPEG(t *testing.T, p hub.ScrubPolicy) (in []byte, gone []string) {
	t.Helper()
	dir := t.TempDir()
	always, anon := identifying()
	path := writeFile(t, dir, "in.jpg", jpegBytes(t, 64, 48))
	thumb := writeFile(t, dir, "thumb.jpg", jpegBytes(t, 16, 12))
	icc := writeFile(t, dir, "p.icc", testICC())
	args := slices.Concat(always.args, anon.args, rightsArgs(), []string{
		"-Orientation#=6", "-Copyright=(c) Hub Agency 2024", "-ThumbnailImage<=" + thumb, "-ICC_Profile<=" + icc,
		"-Comment=COM secret comment", "-IPTC:By-line=Byline Person", "-IPTC:City=Almaty",
		"-IPTC:Credit=Hub Agency Credit", "-IPTC:CopyrightNotice=(c) Hub Agency 2024",
	})
	mediatest.Plant(t, path, args...)
	in = insertAfterSOI(mediatest.ReadFile(t, path), jumbfC2PA(), mpfSegment(), extendedXMP())

	// A second picture after EOI, as phones store depth maps and
	// originals, with its own position.
	second := writeFile(t, dir, "second.jpg", jpegBytes(t, 32, 24))
	mediatest.Plant(t, second, "-GPSLatitude=51.1694", "-GPSLatitudeRef=N", "-Make=TrailerCam", "-SerialNumber=TRAILER-SN-999")
	in = append(in, mediatest.ReadFile(t, second)...)

	gone = slices.Concat(always.values, []string{"TrailerCam", "TRAILER-SN-999", "EXTENDED-SECRET", "jumb", "MPF\x00"})
	if p.Anonymized {
		gone = slices.Concat(gone, anon.values, []string{"COM secret comment", "Byline Person"})
	}
	return in, gone
}

func TestScrubJPEG(t *testing.T) {
	for _, p := range []hub.ScrubPolicy{{Anonymized: true}, {Anonymized: false}} {
		t.Run(fmt.Sprintf("anonymized=%v", p.Anonymized), func(t *testing.T) {
			in, gone := plantedJPEG(t, p)
			if found := leaks(t, "in.jpg", in, gone); len(found) == 0 {
				t.Fatal("the planted file holds none of the planted values: the test plants nothing")
			}
			out, rep := scrubFile(t, "in.jpg", "image/jpeg", in, p)
			if found := leaks(t, "out.jpg", out, gone); len(found) > 0 {
				t.Errorf("left behind:\n%v", found)
			}
			tags := mediatest.TagsOf(t, "out.jpg", out)
			if g := tagGroups(tags, "IFD1:", "MPF0:", "JUMBF:", "XMP-xmpMM:", "GPS:", "IPTC:", "MakerNotes:"); len(g) > 0 {
				t.Errorf("tags left: %v", g)
			}
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
				want["ExifIFD:DateTimeOriginal"] = "2019:07:08 09:10:11"
				want["IFD0:Software"] = "SecretEditor 9.1"
				want["XMP-dc:Creator"] = "Dana Creator"
				want["File:Comment"] = "COM secret comment"
			}
			for k, v := range want {
				if tags[k] != v {
					t.Errorf("%s = %v, want %v", k, tags[k], v)
				}
			}
			if !bytes.Contains(out, testICC()) {
				t.Error("the ICC profile is not in the output as it was")
			}
			fields := []string{"GPS position", "camera serial number", "lens serial number", "camera make and model",
				"owner name", "computer name", "embedded thumbnail", "edit history", "content credentials (C2PA)",
				"data after the picture (secondary images)", "location"}
			if p.Anonymized {
				fields = append(fields, "author", "creation date", "software", "comment")
			}
			for _, f := range fields {
				if !hasRemoved(rep, f) {
					t.Errorf("the report does not say %q went: %v", f, removed(rep))
				}
			}
			for _, k := range []string{"orientation", "ICC profile", "credit", "copyright notice", "usage terms"} {
				if !slices.Contains(rep.Kept, k) {
					t.Errorf("the report does not say %q was kept: %v", k, rep.Kept)
				}
			}
			if rep.Format != "JPEG" {
				t.Errorf("format %q", rep.Format)
			}
			js, _ := json.Marshal(rep)
			for _, v := range gone {
				if bytes.Contains(js, []byte(v)) {
					t.Errorf("the report holds the removed value %q", v)
				}
			}
			samePixels(t, in, out)
			idempotent(t, "image/jpeg", out, p)
		})
	}
}

// TestScrubJPEGCarriesIPTC: credit and copyright found only in the IPTC
// block are carried into the XMP packet written instead.
func TestScrubJPEGCarriesIPTC(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "in.jpg", jpegBytes(t, 32, 24))
	mediatest.Plant(t, path, "-IPTC:Credit=IIM Only Credit", "-IPTC:CopyrightNotice=(c) IIM Only", "-IPTC:By-line=IIM Byline",
		"-IPTC:City=Almaty", "-IPTC:DateCreated=2019:07:08", "-IPTC:TimeCreated=09:10:11+06:00")
	in := mediatest.ReadFile(t, path)
	for _, p := range []hub.ScrubPolicy{{Anonymized: true}, {}} {
		out, rep := scrubFile(t, "in.jpg", "image/jpeg", in, p)
		tags := mediatest.TagsOf(t, "out.jpg", out)
		if tags["XMP-photoshop:Credit"] != "IIM Only Credit" || tags["XMP-dc:Rights"] != "(c) IIM Only" {
			t.Errorf("%+v: credit and rights not carried over: %v", p, tags)
		}
		if g := tagGroups(tags, "IPTC:"); len(g) > 0 {
			t.Errorf("%+v: IPTC left: %v", p, g)
		}
		if bytes.Contains(out, []byte("Almaty")) {
			t.Errorf("%+v: the city is left", p)
		}
		byline := tags["XMP-dc:Creator"] == "IIM Byline"
		date := tags["XMP-photoshop:DateCreated"] == "2019:07:08 09:10:11+06:00"
		if p.Anonymized == byline || p.Anonymized == date {
			t.Errorf("%+v: by-line %v, date %v (%v)", p, tags["XMP-dc:Creator"], tags["XMP-photoshop:DateCreated"], removed(rep))
		}
		idempotent(t, "image/jpeg", out, p)
	}
}

// TestScrubJPEGUnchanged: nothing to remove, nothing changed.
func TestScrubJPEGUnchanged(t *testing.T) {
	dir := t.TempDir()
	plain := jpegBytes(t, 40, 30)
	withICC := writeFile(t, dir, "icc.jpg", plain)
	mediatest.Plant(t, withICC, "-ICC_Profile<="+writeFile(t, dir, "p.icc", testICC()))
	rights := writeFile(t, dir, "rights.jpg", plain)
	mediatest.Plant(t, rights, "-XMP-photoshop:Credit=Hub Agency Credit", "-XMP-dc:Rights=(c) Hub", "-Orientation#=3")
	for name, in := range map[string][]byte{
		"plain":        plain,
		"ICC":          mediatest.ReadFile(t, withICC),
		"scan markers": scanMarkers(t),
	} {
		for _, p := range []hub.ScrubPolicy{{Anonymized: true}, {}} {
			out, rep := scrubFile(t, "in.jpg", "image/jpeg", in, p)
			if !bytes.Equal(out, in) || len(rep.Removed) > 0 {
				t.Errorf("%s %+v: changed (%d bytes to %d), removed %v", name, p, len(in), len(out), removed(rep))
			}
		}
	}
	// Rights and orientation only: what exiftool writes beside them
	// (resolution, toolkit name) goes, the rest stays, and once scrubbed
	// the file is left alone.
	out, _ := scrubFile(t, "in.jpg", "image/jpeg", mediatest.ReadFile(t, rights), hub.ScrubPolicy{Anonymized: true})
	tags := mediatest.TagsOf(t, "out.jpg", out)
	if tags["IFD0:Orientation"] != 3.0 || tags["XMP-photoshop:Credit"] != "Hub Agency Credit" {
		t.Errorf("tags %v", tags)
	}
	idempotent(t, "image/jpeg", out, hub.ScrubPolicy{Anonymized: true})
}

// scanMarkers is a JPEG whose entropy-coded data holds stuffed bytes,
// restart markers and fill bytes (the scanner must not end the scan at
// them), and a second scan after a table segment.
func scanMarkers(t testing.TB) []byte {
	j := jpegBytes(t, 16, 16)
	sos := bytes.Index(j, []byte{0xFF, 0xDA})
	sosLen := int(binary.BigEndian.Uint16(j[sos+2:]))
	head := j[:sos+2+sosLen]
	data := []byte{0x12, 0xFF, 0x00, 0xD9, 0x34, 0xFF, 0xD3, 0x56, 0xFF, 0x00, 0xFF, 0xD7, 0x00}
	dht := bytes.Index(j, []byte{0xFF, 0xC4})
	dhtSeg := j[dht : dht+2+int(binary.BigEndian.Uint16(j[dht+2:]))]
	out := slices.Concat(head, data, dhtSeg, j[sos:sos+2+sosLen], data, []byte{0xFF, 0xFF, 0xD9})
	return out
}

// TestScrubJPEGBetweenScans: metadata between scans goes, tables stay.
func TestScrubJPEGBetweenScans(t *testing.T) {
	in := scanMarkers(t)
	eoi := len(in) - 3
	exif := segment(0xE1, append([]byte("Exif\x00\x00"), tiffWithMake()...))
	com := segment(0xFE, []byte("between scans"))
	withMeta := slices.Concat(in[:eoi], exif, com, in[eoi:], []byte("trailing vendor data"))
	out, rep := scrubFile(t, "in.jpg", "image/jpeg", withMeta, hub.ScrubPolicy{Anonymized: true})
	if !bytes.Equal(out, in) {
		t.Errorf("got %x\nwant %x", out, in)
	}
	for _, f := range []string{"camera make and model", "comment", "data after the picture (secondary images)"} {
		if !hasRemoved(rep, f) {
			t.Errorf("no %q in %v", f, removed(rep))
		}
	}
}

// tiffWithMake is a little-endian TIFF whose IFD0 holds Make only.
func tiffWithMake() []byte {
	b := []byte("II*\x00\x08\x00\x00\x00\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, 0x010F)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint32(b, 4)
	b = append(b, "Zrk\x00"...)
	return binary.LittleEndian.AppendUint32(b, 0)
}

func TestScrubJPEGNotParsed(t *testing.T) {
	j := jpegBytes(t, 64, 48)
	sos := bytes.Index(j, []byte{0xFF, 0xDA})
	for name, in := range map[string][]byte{
		"empty":             {},
		"no SOI":            j[2:],
		"truncated in scan": j[:sos+(len(j)-sos)/2],
		"truncated header":  j[:sos-3],
		"segment past end":  slices.Concat(j[:2], []byte{0xFF, 0xE1, 0xFF, 0xF0}, []byte("Exif\x00\x00")),
		"garbage":           slices.Concat(j[:2], []byte("not a marker")),
		"short length":      slices.Concat(j[:2], []byte{0xFF, 0xE1, 0x00, 0x01}, j[2:]),
		"EOI before scan":   []byte{0xFF, 0xD8, 0xFF, 0xD9},
	} {
		for _, p := range []hub.ScrubPolicy{{Anonymized: true}, {}} {
			_, _, err := scrubBytes(t.Context(), "image/jpeg", in, p)
			t.Run(fmt.Sprintf("%s/anonymized=%v", name, p.Anonymized), func(t *testing.T) { notParsed(t, err, "JPEG") })
		}
	}
}
