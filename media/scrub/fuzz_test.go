package scrub_test

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/syndication-hub/hub/hub"
)

// The fuzz targets feed each parser hostile bytes: it must not panic nor
// allocate from a length it read, must fail with a NotParsed only, and
// what it writes, scrubbed again, must come out the same with nothing
// removed. The seeds are built here without tools; testdata/fuzz holds
// files planted by exiftool and made by ffmpeg (WebP).

func fuzzScrub(f *testing.F, contentType string, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := hub.ScrubPolicy{Anonymized: len(data)%2 == 0}
		out, _, err := scrubBytes(context.Background(), contentType, data, p)
		if err != nil {
			var np *hub.NotParsedError
			if !errors.As(err, &np) {
				t.Fatalf("an error that is not a NotParsed: %v", err)
			}
			return
		}
		idempotent(t, contentType, out, p)
	})
}

// xmpSeed is an XMP packet with something of everything.
const xmpSeed = `<?xpacket begin="` + "\ufeff" + `" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="t"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
 xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" photoshop:Credit="C" exif:GPSLatitude="43,14N">
<dc:creator><rdf:Seq><rdf:li>A</rdf:li></rdf:Seq></dc:creator><dc:rights><rdf:Alt><rdf:li xml:lang="x-default">R</rdf:li></rdf:Alt></dc:rights>
<xmpMM:History><rdf:Seq><rdf:li rdf:parseType="Resource"><stEvt:action xmlns:stEvt="x">saved</stEvt:action></rdf:li></rdf:Seq></xmpMM:History>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`

// tiffSeed is a TIFF with an orientation, a make, a GPS IFD and a
// thumbnail IFD.
func tiffSeed() []byte {
	le := binary.LittleEndian
	b := []byte("II*\x00\x08\x00\x00\x00")
	b = le.AppendUint16(b, 4)
	entry := func(tag, typ uint16, count, value uint32) {
		b = le.AppendUint16(b, tag)
		b = le.AppendUint16(b, typ)
		b = le.AppendUint32(b, count)
		b = le.AppendUint32(b, value)
	}
	entry(0x010F, 2, 8, 8+2+4*12+4)  // Make, out of line
	entry(0x0112, 3, 1, 6)           // Orientation
	entry(0x8298, 2, 4, 0x00632843)  // Copyright "(c" inline
	entry(0x8825, 4, 1, 8+2+4*12+12) // GPS IFD
	b = le.AppendUint32(b, 8+2+4*12+12+18)
	b = append(b, "Zorkica\x00"...)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint32(b, 2)
	b = append(b, 'N', 0, 0, 0)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint16(b, 0) // IFD1, empty
	return le.AppendUint32(b, 0)
}

// iptcSeed is an APP13 Photoshop block with an IIM record.
func iptcSeed() []byte {
	iim := []byte{0x1C, 1, 90, 0, 3, 0x1B, '%', 'G', 0x1C, 2, 110, 0, 1, 'C', 0x1C, 2, 90, 0, 2, 'A', 'l', 0x1C, 2, 80, 0, 1, 'B'}
	res := append([]byte("8BIM\x04\x04\x00\x00"), binary.BigEndian.AppendUint32(nil, uint32(len(iim)))...)
	res = append(res, iim...)
	if len(res)%2 == 1 {
		res = append(res, 0)
	}
	return segment(0xED, append([]byte("Photoshop 3.0\x00"), res...))
}

func FuzzScrubJPEG(f *testing.F) {
	j := jpegBytes(f, 8, 8)
	full := insertAfterSOI(j,
		segment(0xE0, []byte("JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x01\x01\x00\x00\x00")),
		segment(0xE1, append([]byte("Exif\x00\x00"), tiffSeed()...)),
		segment(0xE1, append([]byte("http://ns.adobe.com/xap/1.0/\x00"), xmpSeed...)),
		iptcSeed(), segment(0xFE, []byte("comment")), mpfSegment(), jumbfC2PA(), extendedXMP(),
		segment(0xE2, append([]byte("ICC_PROFILE\x00\x01\x01"), testICC()...)), segment(0xEE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x01")))
	fuzzScrub(f, "image/jpeg", j, full, append(slices.Clone(full), j...), scanMarkers(f))
}

func FuzzScrubPNG(f *testing.F) {
	p := pngBytes(f, 4, 4)
	full := afterIHDR(p, pngChunk("eXIf", tiffSeed()), pngChunk("iTXt", append([]byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"), xmpSeed...)),
		pngChunk("tEXt", []byte("Author\x00A")), pngChunk("tEXt", []byte("Copyright\x00C")), pngChunk("tIME", make([]byte, 7)),
		pngChunk("caBX", []byte("c2pa")), pngChunk("iCCP", append([]byte("icc\x00\x00"), 0x78, 0x9c, 0x03, 0, 0, 0, 0, 1)))
	fuzzScrub(f, "image/png", p, full, append(slices.Clone(full), "trailer"...))
}

func FuzzScrubWebP(f *testing.F) {
	// A VP8L (lossless) 1x1 picture, by hand, then the metadata chunks.
	vp8l := []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")
	full := []byte("RIFF\x00\x00\x00\x00WEBP")
	full = addRIFFChunk(full, "VP8X", []byte("\x2c\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	full = addRIFFChunk(full, "ICCP", testICC())
	full = append(full, vp8l[12:]...)
	full = addRIFFChunk(full, "EXIF", tiffSeed())
	full = addRIFFChunk(full, "XMP ", []byte(xmpSeed))
	full = addRIFFChunk(full, "PRIV", []byte("x"))
	fuzzScrub(f, "image/webp", vp8l, full, append(slices.Clone(full), "trailer"...))
}

func FuzzScrubGIF(f *testing.F) {
	g := gifBytes(f)
	xmp := slices.Concat([]byte{0x21, 0xFF, 11}, []byte("XMP DataXMP"), []byte(xmpSeed), []byte{1})
	for i := 255; i >= 0; i-- {
		xmp = append(xmp, byte(i))
	}
	xmp = append(xmp, 0)
	full := beforeTrailer(g, xmp, []byte{0x21, 0xFE, 3, 'a', 'b', 'c', 0}, appExt("MGK8BIM0000", []byte("8BIM")), appExt("ICCRGBG1012", testICC()))
	fuzzScrub(f, "image/gif", g, full, append(slices.Clone(full), "trailer"...))
}

func FuzzScrubSVG(f *testing.F) {
	fuzzScrub(f, "image/svg+xml",
		[]byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>`),
		[]byte(svgDocument(jpegBytes(f, 2, 2), pngBytes(f, 1, 1), []byte(`<svg xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" inkscape:version="1"/>`))),
		[]byte(`<!DOCTYPE svg [<!ENTITY e "x">]><svg a='1'b="&e;"><!--c--><metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata><style>u{background:url(data:image/gif;base64,R0lGODlhAQABAAAAACw=)}</style></svg>`),
		[]byte("<svg>"+xmpSeed+"</svg>"),
	)
}
