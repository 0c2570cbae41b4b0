package scrub_test

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/mediatest"
)

// pdfSpec says what a test PDF holds.
type pdfSpec struct {
	pages  int
	info   string // the document information dictionary, "" for none
	jpeg   []byte // an image on every page, nil for none
	annot  bool   // a sticky note with an author on page 1
	attach bool   // an embedded file and a file-attachment annotation
	piece  bool   // /PieceInfo on page 1
	id     bool   // a file identifier
	sig    bool   // a signature field, signed
}

// buildPDF writes a PDF by hand: one revision, a classic
// cross-reference table.
func buildPDF(s pdfSpec) []byte {
	if s.pages == 0 {
		s.pages = 1
	}
	var objs []string
	add := func(body string) int {
		objs = append(objs, body)
		return len(objs)
	}
	catalog := add("")
	pages := add("")
	font := add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	image := 0
	if s.jpeg != nil {
		image = add(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width 48 /Height 32 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n%s\nendstream", len(s.jpeg), s.jpeg))
	}
	names := ""
	if s.attach {
		ef := add("<< /Type /EmbeddedFile /Length 29 >>\nstream\nsecret notes of Aigerim Attach\nendstream")
		spec := add(fmt.Sprintf("<< /Type /Filespec /F (notes.txt) /UF (notes.txt) /EF << /F %d 0 R >> >>", ef))
		names = fmt.Sprintf(" /Names << /EmbeddedFiles << /Names [(notes.txt) %d 0 R] >> >>", spec)
	}
	var kids []string
	for i := range s.pages {
		content := fmt.Sprintf("BT /F1 24 Tf 20 150 Td (Page %d) Tj ET", i+1)
		xobj := ""
		if image != 0 {
			content += " q 96 0 0 64 50 20 cm /Im1 Do Q"
			xobj = fmt.Sprintf(" /XObject << /Im1 %d 0 R >>", image)
		}
		c := add(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
		extra := ""
		if i == 0 {
			var annots []string
			if s.annot {
				annots = append(annots, fmt.Sprintf("%d 0 R", add("<< /Type /Annot /Subtype /Text /Rect [10 10 30 30] /Contents (Check this) /T (Aigerim Annotator) /M (D:20240506070809Z) >>")))
			}
			if s.attach {
				ef := add("<< /Type /EmbeddedFile /Length 27 >>\nstream\nattached by Aigerim Attach\nendstream")
				annots = append(annots, fmt.Sprintf("%d 0 R", add(fmt.Sprintf("<< /Type /Annot /Subtype /FileAttachment /Rect [40 10 60 30] /FS << /Type /Filespec /F (more.txt) /EF << /F %d 0 R >> >> /T (Aigerim Attach) >>", ef))))
			}
			if annots != nil {
				extra += " /Annots [" + strings.Join(annots, " ") + "]"
			}
			if s.piece {
				extra += " /PieceInfo << /Illustrator << /Private (Aigerim Private) /LastModified (D:20240506070809Z) >> >>"
			}
		}
		kids = append(kids, fmt.Sprintf("%d 0 R", add("")))
		objs[len(objs)-1] = fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 200 200] /Contents %d 0 R /Resources << /Font << /F1 %d 0 R >>%s >>%s >>", pages, c, font, xobj, extra)
	}
	if s.sig {
		v := add("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /Name (Aigerim Signer) /M (D:20240506070809Z) /Location (Almaty) /ByteRange [0 10 20 30] /Contents <00112233> >>")
		field := add(fmt.Sprintf("<< /FT /Sig /T (Signature1) /V %d 0 R /Rect [0 0 0 0] /Subtype /Widget /Type /Annot /F 132 >>", v))
		names += fmt.Sprintf(" /AcroForm << /Fields [%d 0 R] /SigFlags 3 >>", field)
	}
	objs[catalog-1] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R%s >>", pages, names)
	objs[pages-1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), s.pages)
	trailer := ""
	if s.id {
		trailer += " /ID [<0123456789ABCDEFFEDCBA9876543210> <0123456789ABCDEFFEDCBA9876543210>]"
	}
	if s.info != "" {
		trailer += fmt.Sprintf(" /Info %d 0 R", add(s.info))
	}

	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, catalog, trailer, xref)
	return b.Bytes()
}

// plantPDF has exiftool update a PDF, incrementally as it always does.
func plantPDF(t testing.TB, b []byte, tags ...string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "planted.pdf")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	mediatest.Plant(t, path, tags...)
	return mediatest.ReadFile(t, path)
}

// pdfStreams decodes every stream of a PDF with pdfcpu.
func pdfStreams(t testing.TB, b []byte) [][]byte {
	t.Helper()
	conf := &model.Configuration{Reader15: true, ValidationMode: model.ValidationRelaxed, Eol: types.EolLF, Limits: model.DefaultResourceLimits()}
	doc, err := pdfcpu.ReadWithContext(context.Background(), bytes.NewReader(b), conf)
	if err != nil {
		t.Fatalf("pdfcpu cannot read the scrubbed PDF: %v", err)
	}
	var out [][]byte
	for nr := range doc.Table {
		o, err := doc.Dereference(types.IndirectRef{ObjectNumber: types.Integer(nr)})
		if err != nil {
			t.Fatalf("object %d: %v", nr, err)
		}
		if sd, ok := o.(types.StreamDict); ok {
			if err := sd.Decode(); err == nil {
				out = append(out, sd.Content)
			}
			out = append(out, sd.Raw)
		}
	}
	return out
}

// checkPDF runs the oracles on a scrubbed PDF: exiftool finds none of the
// planted values, nor do the raw bytes or any decoded stream; one
// revision; pdftoppm renders page 1; as many pages as before.
func checkPDF(t *testing.T, in, out []byte, planted []string) {
	t.Helper()
	outTags := mediatest.TagsOf(t, "out.pdf", out)
	noPlantedTag(t, outTags, planted)
	noPlantedIn(t, "the PDF's bytes", out, planted)
	for _, s := range pdfStreams(t, out) {
		noPlantedIn(t, "a stream", s, planted)
	}
	if n := bytes.Count(out, []byte("%%EOF")); n != 1 {
		t.Errorf("%d %%%%EOF markers, want 1", n)
	}
	if n := bytes.Count(out, []byte("startxref")); n != 1 {
		t.Errorf("%d startxref, want 1", n)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "out.pdf")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	mediatest.Run(t, "pdftoppm", "-f", "1", "-l", "1", "-r", "18", "-png", path, filepath.Join(dir, "page"))
	if m, _ := filepath.Glob(filepath.Join(dir, "page*.png")); len(m) != 1 {
		t.Errorf("pdftoppm rendered %v", m)
	}
	before := mediatest.TagsOf(t, "in.pdf", in)["PDF:PageCount"]
	after := outTags["PDF:PageCount"]
	if fmt.Sprint(before) != fmt.Sprint(after) || after == nil {
		t.Errorf("page count %v, was %v", after, before)
	}
}

// plantedPDF is a PDF with everything the scrub removes: an author in its
// first revision, replaced by exiftool in a second with XMP.
func plantedPDF(t testing.TB) ([]byte, []string) {
	t.Helper()
	b := buildPDF(pdfSpec{
		pages: 2, info: "<< /Author (Original Authorname) /Producer (OldProducer 1.0) /CreationDate (D:20230102030405Z) >>",
		jpeg: docPicture(t), annot: true, attach: true, piece: true, id: true, sig: true,
	})
	b = plantPDF(t, b, "-PDF:Author=Aigerim Kassymova", "-PDF:Creator=SurvivorWriter 9.1", "-PDF:Producer=LeakyPDF 3.2",
		"-PDF:Title=Microsoft Word - aigerim_statement.docx", "-PDF:Keywords=kwplanted",
		"-PDF:CreateDate=2024:05:06 07:08:09", "-PDF:ModifyDate=2024:05:06 07:08:10",
		"-XMP-dc:Creator=Aigerim Xmpcreator", "-XMP-xmp:CreatorTool=XmpToolLeak 7", "-XMP-pdf:Producer=XmpProducerLeak",
		"-XMP-exif:GPSLatitude=43.2416", "-XMP-exif:GPSLongitude=76.9286")
	return b, []string{"Original Authorname", "OldProducer", "Aigerim", "SurvivorWriter", "LeakyPDF", "aigerim_statement",
		"kwplanted", "XmpToolLeak", "XmpProducerLeak", "43.2416", "76.9286", "Xmpcreator", "D:2023", "D:2024", "2024-05-06", "2024:05:06", "0123456789ABCDEF", "Almaty"}
}

func TestPDFAnonymized(t *testing.T) {
	t.Parallel()
	in, planted := plantedPDF(t)
	tags := mediatest.TagsOf(t, "in.pdf", in)
	if tags["PDF:Author"] != "Aigerim Kassymova" || tags["XMP-dc:Creator"] == nil {
		t.Fatalf("exiftool did not plant: %v", tags)
	}
	if !bytes.Contains(in, []byte("Original Authorname")) {
		t.Fatal("the first revision's author is not in the planted file")
	}
	out, rep := mustScrubDoc(t, "in.pdf", in, "application/pdf", docPolicy(true))
	checkPDF(t, in, out, planted)
	if rep.Format != "PDF" {
		t.Errorf("format %q", rep.Format)
	}
	for _, f := range []string{"author", "software", "creation date", "title", "document metadata (XMP)", "annotation authors",
		"embedded file", "application data", "earlier revisions", "file identifier", "digital signatures"} {
		if !docRemoved(rep, f) {
			t.Errorf("report misses %q: %+v", f, rep.Removed)
		}
	}
	for _, r := range rep.Removed {
		for _, p := range planted {
			if strings.Contains(r.Field+r.Where, p) {
				t.Errorf("the report holds a removed value: %+v", r)
			}
		}
	}
	if bytes.Contains(out, []byte("/EmbeddedFile")) || bytes.Contains(out, []byte("FileAttachment")) || bytes.Contains(out, []byte("PieceInfo")) {
		t.Error("an embedded file or private data is still there")
	}
	if !bytes.Contains(out, []byte("(Check this)")) {
		t.Error("the note's text went with its author")
	}
	// Scrubbing again finds nothing more and changes nothing.
	again, rep2 := mustScrubDoc(t, "again.pdf", out, "application/pdf", docPolicy(true))
	if !bytes.Equal(again, out) {
		t.Errorf("a scrubbed PDF is rewritten again: %+v", rep2.Removed)
	}
}

func TestPDFObjectStreams(t *testing.T) {
	t.Parallel()
	// As office suites write PDFs: objects packed in object streams, a
	// cross-reference stream; then exiftool's update.
	b := buildPDF(pdfSpec{pages: 2, info: "<< /Author (Original Authorname) >>", annot: true, jpeg: docPicture(t)})
	conf := &model.Configuration{Reader15: true, ValidationMode: model.ValidationRelaxed, Eol: types.EolLF, Limits: model.DefaultResourceLimits(),
		WriteObjectStream: true, WriteXRefStream: true}
	doc, err := pdfcpu.ReadWithContext(context.Background(), bytes.NewReader(b), conf)
	if err != nil {
		t.Fatal(err)
	}
	var packed bytes.Buffer
	doc.Write.Writer = bufio.NewWriter(&packed)
	if err := pdfcpu.WriteContext(doc); err != nil {
		t.Fatal(err)
	}
	doc.Write.Flush()
	if !bytes.Contains(packed.Bytes(), []byte("/ObjStm")) {
		t.Fatal("pdfcpu wrote no object stream")
	}
	in := plantPDF(t, packed.Bytes(), "-PDF:Author=Aigerim Kassymova", "-XMP-dc:Creator=Aigerim Xmpcreator")
	out, _ := mustScrubDoc(t, "packed.pdf", in, "application/pdf", docPolicy(true))
	checkPDF(t, in, out, []string{"Original Authorname", "Aigerim", "pdfcpu"})
}

func TestPDFNormalKeepsInformation(t *testing.T) {
	t.Parallel()
	in, _ := plantedPDF(t)
	out, rep := mustScrubDoc(t, "in.pdf", in, "application/pdf", docPolicy(false))
	gone := []string{"Original Authorname", "OldProducer", "XmpToolLeak", "XmpProducerLeak", "43.2416", "Xmpcreator", "Aigerim Attach", "Aigerim Private"}
	checkPDF(t, in, out, gone)
	tags := mediatest.TagsOf(t, "out.pdf", out)
	for tag, want := range map[string]string{"PDF:Author": "Aigerim Kassymova", "PDF:Producer": "LeakyPDF 3.2", "PDF:Title": "Microsoft Word - aigerim_statement.docx"} {
		if tags[tag] != want {
			t.Errorf("%s = %v, want %q kept", tag, tags[tag], want)
		}
	}
	if !bytes.Contains(out, []byte("Aigerim Annotator")) {
		t.Error("a normal package loses the annotation's author")
	}
	if docRemoved(rep, "author") || docRemoved(rep, "annotation authors") {
		t.Errorf("a normal package reports names removed: %+v", rep.Removed)
	}
}

func TestPDFNothingToRemoveIsUnchanged(t *testing.T) {
	t.Parallel()
	in := buildPDF(pdfSpec{pages: 3, jpeg: docPicture(t)})
	for _, anon := range []bool{false, true} {
		out, rep := mustScrubDoc(t, "clean.pdf", in, "application/pdf", docPolicy(anon))
		if !bytes.Equal(out, in) {
			t.Errorf("anonymized %v: a clean PDF was rewritten: %+v", anon, rep.Removed)
		}
	}
	// A normal package keeps the document information as it is.
	in = buildPDF(pdfSpec{info: "<< /Author (Someone Credited) /Title (Poster) >>"})
	if out, rep := mustScrubDoc(t, "info.pdf", in, "application/pdf", docPolicy(false)); !bytes.Equal(out, in) {
		t.Errorf("a PDF with only document information was rewritten in a normal package: %+v", rep.Removed)
	}
	out, _ := mustScrubDoc(t, "info.pdf", in, "application/pdf", docPolicy(true))
	checkPDF(t, in, out, []string{"Someone Credited", "(Poster)"})
}

func TestPDFPictureMetadata(t *testing.T) {
	t.Parallel()
	gps := docGPSPicture(t)
	in := buildPDF(pdfSpec{jpeg: gps})
	if !jpegScrubbable(t) {
		// Until the JPEG scrubber lands: kept in a normal package,
		// refused in an anonymized one.
		out, rep := mustScrubDoc(t, "gps.pdf", in, "application/pdf", docPolicy(false))
		if !bytes.Equal(out, in) || len(rep.Kept) == 0 {
			t.Errorf("an unscrubbable picture was not kept as it is: %+v", rep)
		}
		_, _, err := scrubDoc(t, "gps.pdf", in, "application/pdf", docPolicy(true))
		if hub.ErrorCode(err) != hub.EUNSUPPORTED {
			t.Errorf("anonymized: got %v, want %s", err, hub.EUNSUPPORTED)
		}
		return
	}
	for _, anon := range []bool{false, true} {
		out, _ := mustScrubDoc(t, "gps.pdf", in, "application/pdf", docPolicy(anon))
		checkPDF(t, in, out, []string{"CAM-SN-7731"})
		for _, s := range pdfStreams(t, out) {
			if bytes.HasPrefix(s, []byte{0xFF, 0xD8}) {
				tags := mediatest.TagsOf(t, "image.jpg", s)
				for k := range tags {
					if strings.Contains(k, "GPS") {
						t.Errorf("anonymized %v: %s still in the image", anon, k)
					}
				}
			}
		}
	}
}

func TestPDFNotParsed(t *testing.T) {
	t.Parallel()
	in := buildPDF(pdfSpec{info: "<< /Author (A) >>"})
	for name, b := range map[string][]byte{
		"truncated": in[:len(in)/3],
		"garbage":   append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 300)...),
		"empty":     nil,
	} {
		_, _, err := scrubDoc(t, name+".pdf", b, "application/pdf", docPolicy(true))
		wantNotParsed(t, err)
	}
}

func TestPDFTooLarge(t *testing.T) {
	t.Parallel()
	// A sparse file over the bound: neither read nor rewritten.
	path := filepath.Join(t.TempDir(), "big.pdf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(300 << 20); err != nil {
		t.Fatal(err)
	}
	src := fileSource{File: f, size: 300 << 20}
	var rep hub.ScrubReport
	s := newScrubber()
	err = s.Scrub(context.Background(), &bytes.Buffer{}, src, "application/pdf", docPolicy(true), &rep)
	if hub.ErrorCode(err) != hub.ETOOLARGE {
		t.Errorf("anonymized: %v, want %s", err, hub.ETOOLARGE)
	}
	err = s.Scrub(context.Background(), &bytes.Buffer{}, src, "application/pdf", docPolicy(false), &rep)
	wantNotParsed(t, err)
}

func TestPDFSyntaxBound(t *testing.T) {
	t.Parallel()
	// 17 MiB of small dictionaries, as objects and packed in an object
	// stream (20 KiB compressed): refused before pdfcpu reads them.
	plain := append(buildPDF(pdfSpec{}), bytes.Repeat([]byte("9 0 obj\n<< /Type /Annot /Subtype /Text /Rect [0 0 1 1] /T (A) >>\nendobj\n"), 17<<20/64)...)
	var packed bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&packed, zlib.BestSpeed)
	io.WriteString(zw, "9 0 <<")
	zw.Write(bytes.Repeat([]byte("/a 1"), 4<<20))
	io.WriteString(zw, ">>")
	zw.Close()
	clean := buildPDF(pdfSpec{})
	objStm := append(clean[:len(clean):len(clean)], fmt.Sprintf("8 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n", packed.Len(), packed.Bytes())...)
	for name, b := range map[string][]byte{"objects": plain, "object stream": objStm} {
		_, _, err := scrubDoc(t, "dense.pdf", b, "application/pdf", docPolicy(true))
		if hub.ErrorCode(err) != hub.ETOOLARGE {
			t.Errorf("%s, anonymized: %v, want %s", name, err, hub.ETOOLARGE)
		}
		_, _, err = scrubDoc(t, "dense.pdf", b, "application/pdf", docPolicy(false))
		wantNotParsed(t, err)
	}
}

func FuzzScrubPDF(f *testing.F) {
	clean := buildPDF(pdfSpec{})
	full := buildPDF(pdfSpec{pages: 2, info: "<< /Author (A) /CreationDate (D:2024) >>", annot: true, attach: true, piece: true})
	f.Add(clean)
	f.Add(full)
	f.Add(full[:len(full)-40])
	f.Add(bytes.Replace(full, []byte("xref"), []byte("xreg"), 1))
	s := newScrubber()
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, anon := range []bool{false, true} {
			var out bytes.Buffer
			var rep hub.ScrubReport
			err := s.Scrub(context.Background(), &out, docMem(b), "application/pdf", docPolicy(anon), &rep)
			var np *hub.NotParsedError
			if err != nil && !errors.As(err, &np) && hub.ErrorCode(err) == hub.EINTERNAL {
				t.Fatalf("anonymized %v: %v", anon, err)
			}
		}
	})
}
