package scrub_test

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/mediatest"
)

// tiffEntry is one IFD0 entry for buildTIFF: its value inline (4 bytes).
type tiffEntry struct {
	tag, typ uint16
	count    uint32
	value    [4]byte
}

// buildTIFF writes a TIFF whose IFD0 holds entries (inline values only),
// then extra bytes.
func buildTIFF(bo binary.AppendByteOrder, entries []tiffEntry, extra []byte) []byte {
	b := []byte("II*\x00")
	if bo == binary.AppendByteOrder(binary.BigEndian) {
		b = []byte("MM\x00*")
	}
	b = bo.AppendUint32(b, 8)
	b = bo.AppendUint16(b, uint16(len(entries)))
	for _, e := range entries {
		b = bo.AppendUint16(b, e.tag)
		b = bo.AppendUint16(b, e.typ)
		b = bo.AppendUint32(b, e.count)
		b = append(b, e.value[:]...)
	}
	b = bo.AppendUint32(b, 0)
	return append(b, extra...)
}

func orientation(bo binary.ByteOrder, v uint16) tiffEntry {
	e := tiffEntry{tag: 0x0112, typ: 3, count: 1}
	bo.PutUint16(e.value[:], v)
	return e
}

// TestScrubEXIF: what becomes of an EXIF block, through PNG's eXIf.
func TestScrubEXIF(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	make_ := tiffEntry{tag: 0x010F, typ: 2, count: 4, value: [4]byte{'Z', 'r', 'k', 0}}
	for _, c := range []struct {
		name        string
		tiff        []byte
		unchanged   bool
		orientation any // what exiftool reads in the output; nil: no EXIF at all
		removed     string
	}{
		{"orientation 1 only", buildTIFF(le, []tiffEntry{orientation(le, 1)}, nil), true, 1.0, ""},
		{"orientation 6 only, big-endian", buildTIFF(be, []tiffEntry{orientation(be, 6)}, nil), true, 6.0, ""},
		{"orientation 6 and make", buildTIFF(le, []tiffEntry{make_, orientation(le, 6)}, nil), false, 6.0, "camera make and model"},
		{"orientation 8 and make, big-endian", buildTIFF(be, []tiffEntry{make_, orientation(be, 8)}, nil), false, 8.0, "camera make and model"},
		{"orientation 1 and make", buildTIFF(le, []tiffEntry{make_, orientation(le, 1)}, nil), false, nil, "camera make and model"},
		{"orientation out of range", buildTIFF(le, []tiffEntry{orientation(le, 9)}, nil), false, nil, "other EXIF data"},
		{"data no entry points to", buildTIFF(le, []tiffEntry{orientation(le, 3)}, []byte("hidden SN-77-4242")), false, 3.0, "other EXIF data"},
		{"zero padding", buildTIFF(le, []tiffEntry{orientation(le, 3)}, make([]byte, 6)), true, 3.0, ""},
		{"IFD0 out of bounds", []byte("II*\x00\xff\x00\x00\x00"), false, nil, "metadata that could not be read"},
		{"not TIFF", []byte("hello, world"), false, nil, "metadata that could not be read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := afterIHDR(pngBytes(t, 4, 4), pngChunk("eXIf", c.tiff))
			out, rep := scrubFile(t, "in.png", "image/png", in, hub.ScrubPolicy{Anonymized: true})
			if bytes.Equal(out, in) != c.unchanged {
				t.Errorf("unchanged %v, want %v (removed %v)", bytes.Equal(out, in), c.unchanged, removed(rep))
			}
			if c.removed != "" && !hasRemoved(rep, c.removed) {
				t.Errorf("removed %v, want %q", removed(rep), c.removed)
			}
			tags := mediatest.TagsOf(t, "out.png", out)
			if tags["IFD0:Orientation"] != c.orientation {
				t.Errorf("orientation %v, want %v", tags["IFD0:Orientation"], c.orientation)
			}
			if c.orientation == nil && slices.Contains(chunkTypes(t, out), "eXIf") {
				t.Error("an eXIf is left")
			}
			if c.orientation != nil && c.orientation != 1.0 && !slices.Contains(rep.Kept, "orientation") {
				t.Errorf("kept %v", rep.Kept)
			}
			if bytes.Contains(out, []byte("SN-77-4242")) || bytes.Contains(out, []byte("Zrk")) {
				t.Error("the make or the hidden data is left")
			}
			idempotent(t, "image/png", out, hub.ScrubPolicy{Anonymized: true})
		})
	}
}

// TestScrubHostileXMP: XMP nested a hundred thousand deep (given up on
// past xmpMaxDepth levels), or a property repeated, goes.
func TestScrubHostileXMP(t *testing.T) {
	deep := `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:rights>` +
		strings.Repeat("<rdf:Seq><rdf:li>", 100000) + "x" + strings.Repeat("</rdf:li></rdf:Seq>", 100000) +
		`</dc:rights></rdf:Description></rdf:RDF></x:xmpmeta>`
	dup := `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">` +
		`<dc:rights>a</dc:rights><dc:rights>b</dc:rights></rdf:Description></rdf:RDF></x:xmpmeta>`
	for name, xmp := range map[string]string{"deep": deep, "duplicate": dup, "not XML": "<x:xmpmeta><", "empty": ""} {
		in := afterIHDR(pngBytes(t, 4, 4), pngChunk("iTXt", append([]byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"), xmp...)))
		out, rep, err := scrubBytes(t.Context(), "image/png", in, hub.ScrubPolicy{Anonymized: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name != "empty" && len(rep.Removed) == 0 {
			t.Errorf("%s: nothing removed", name)
		}
		idempotent(t, "image/png", out, hub.ScrubPolicy{Anonymized: true})
	}
}
