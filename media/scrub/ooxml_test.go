package scrub_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/mediatest"
)

const ctDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

// docxPart is one member of a test package.
type docxPart struct {
	name   string
	body   string
	method uint16
}

// docxParts is a minimal Word document with everything the scrub removes
// in anonymized packages; picture, when not nil, is word/media/image1.jpeg.
func docxParts(picture []byte) []docxPart {
	const (
		w  = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`
		r  = `xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
		pr = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	)
	pictureType, pictureRel, drawing := "", "", ""
	if picture != nil {
		pictureType = `<Default Extension="jpeg" ContentType="image/jpeg"/>`
		pictureRel = `<Relationship Id="rId9" Type="` + pr + `/image" Target="media/image1.jpeg"/>`
		drawing = `<w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"><wp:extent cx="457200" cy="304800"/><wp:docPr id="1" name="Picture 1"/>` +
			`<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">` +
			`<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:nvPicPr><pic:cNvPr id="0" name="image1.jpeg"/><pic:cNvPicPr/></pic:nvPicPr>` +
			`<pic:blipFill><a:blip r:embed="rId9"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="457200" cy="304800"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic>` +
			`</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>`
	}
	parts := []docxPart{
		{name: "[Content_Types].xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` + pictureType + `<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/comments.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/><Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/><Override PartName="/word/people.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.people+xml"/><Override PartName="/customXml/itemProps1.xml" ContentType="application/vnd.openxmlformats-officedocument.customXmlProperties+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/><Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>`},
		{name: "_rels/.rels", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId3" Type="` + pr + `/extended-properties" Target="docProps/app.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId1" Type="` + pr + `/officeDocument" Target="word/document.xml"/><Relationship Id="rId4" Type="` + pr + `/custom-properties" Target="docProps/custom.xml"/></Relationships>`},
		{name: "word/document.xml", method: zip.Deflate, body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document ` + w + ` ` + r + `><w:body><w:p w:rsidR="00AB12CD" w:rsidRDefault="00AB12CD"><w:commentRangeStart w:id="0"/><w:r w:rsidRPr="00AB12CD"><w:t xml:space="preserve">She spoke &amp; we listened. </w:t></w:r>` +
			`<w:ins w:id="1" w:author="Aigerim Kassymova" w:date="2024-05-06T07:08:09Z"><w:r><w:t>Inserted.</w:t></w:r></w:ins><w:del w:id="2" w:author='Dana Editor' w:date="2024-05-06T07:08:10Z"><w:r><w:delText>Gone.</w:delText></w:r></w:del>` +
			`<w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r>` + drawing + `</w:p><w:sectPr w:rsidR="00AB12CD"><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>`},
		{name: "word/_rels/document.xml.rels", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + pr + `/customXml" Target="../customXml/item1.xml"/><Relationship Id="rId2" Type="` + pr + `/settings" Target="settings.xml"/><Relationship Id="rId3" Type="` + pr + `/comments" Target="comments.xml"/><Relationship Id="rId4" Type="http://schemas.microsoft.com/office/2011/relationships/people" Target="people.xml"/>` + pictureRel + `</Relationships>`},
		{name: "word/comments.xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:comments ` + w + `><w:comment w:id="0" w:author="Aigerim Kassymova" w:date="2024-05-06T07:08:11Z" w:initials="QZ"><w:p><w:r><w:t>Is this safe to publish?</w:t></w:r></w:p></w:comment></w:comments>`},
		{name: "word/settings.xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings ` + w + ` ` + r + ` xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml"><w:attachedTemplate r:id="rId1"/><w:defaultTabStop w:val="708"/><w:rsids><w:rsidRoot w:val="00AB12CD"/><w:rsid w:val="00AB12CD"/><w:rsid w:val="00EF3456"/></w:rsids><w14:docId w14:val="1A2B3C4D"/></w:settings>`},
		{name: "word/_rels/settings.xml.rels", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + pr + `/attachedTemplate" Target="file:///C:\Users\akassymova\AppData\Roaming\Microsoft\Templates\Normal.dotm" TargetMode="External"/></Relationships>`},
		{name: "word/people.xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"><w15:person w15:author="Aigerim Kassymova"><w15:presenceInfo w15:providerId="AD" w15:userId="S::aigerim@example.org::1234"/></w15:person></w15:people>`},
		{name: "customXml/item1.xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="no"?><b:Sources xmlns:b="http://schemas.openxmlformats.org/officeDocument/2006/bibliography" SelectedStyle="Owner aigerim@example.org"/>`},
		{name: "customXml/itemProps1.xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="no"?><ds:datastoreItem ds:itemID="{11111111-2222-3333-4444-555555555555}" xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml"><ds:schemaRefs/></ds:datastoreItem>`},
		{name: "customXml/_rels/item1.xml.rels", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + pr + `/customXmlProps" Target="itemProps1.xml"/></Relationships>`},
		{name: "docProps/core.xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <dc:title>Voices: a campaign</dc:title>
  <dc:creator>Aigerim Kassymova</dc:creator>
  <cp:lastModifiedBy>Dana Editor</cp:lastModifiedBy>
  <cp:revision>17</cp:revision>
  <dc:description>notes from Aigerim's own laptop</dc:description>
  <dcterms:created xsi:type="dcterms:W3CDTF">2024-05-06T07:08:09Z</dcterms:created>
  <dcterms:modified xsi:type="dcterms:W3CDTF">2024-05-06T07:08:10Z</dcterms:modified>
</cp:coreProperties>`},
		{name: "docProps/app.xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Template>Normal.dotm</Template><TotalTime>42</TotalTime><Pages>1</Pages><Words>9</Words><Application>Microsoft Office Word</Application><Company>Sauran Media LLC</Company><Manager>Baurzhan Manager</Manager><AppVersion>16.0000</AppVersion></Properties>`},
		{name: "docProps/custom.xml", body: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Owner"><vt:lpwstr>aigerim@example.org</vt:lpwstr></property></Properties>`},
	}
	if picture != nil {
		parts = append(parts, docxPart{name: "word/media/image1.jpeg", body: string(picture), method: zip.Store})
	}
	return parts
}

// docxPlanted is what the anonymized scrub must leave nowhere.
var docxPlanted = []string{"Aigerim", "Kassymova", "Dana Editor", "00AB12CD", "00EF3456", "1A2B3C4D", "2024-05-06",
	"Sauran Media", "Baurzhan", "Microsoft Office Word", "16.0000", "akassymova", "Normal.dotm", "example.org", "11111111-2222"}

// buildDOCX zips parts with archive/zip, every member modified at when.
func buildDOCX(t testing.TB, parts []docxPart, when time.Time) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, p := range parts {
		method := p.method
		if method == 0 && p.name != "word/media/image1.jpeg" {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p.name, Method: method, Modified: when})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, p.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// officeTags reads an Office document's tags with exiftool, which needs
// Perl's Archive::Zip for them (Debian: libarchive-zip-perl, which it
// recommends).
func officeTags(t *testing.T, name string, b []byte) map[string]any {
	t.Helper()
	tags := mediatest.TagsOf(t, name, b)
	if w, _ := tags["ExifTool:Warning"].(string); strings.Contains(w, "Archive::Zip") {
		if os.Getenv("CI") == "true" {
			t.Fatalf("exiftool cannot read Office documents (CI=true): apt-get install -y --no-install-recommends libarchive-zip-perl")
		}
		t.Skip("exiftool cannot read Office documents; apt-get install -y --no-install-recommends libarchive-zip-perl")
	}
	return tags
}

// docxMembers reads a package back: names in order, bodies, methods.
func docxMembers(t testing.TB, b []byte) ([]*zip.File, map[string][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("the scrubbed package is not a ZIP: %v", err)
	}
	bodies := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		body, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		bodies[f.Name] = body
	}
	return zr.File, bodies
}

// checkPackage runs the structural oracles: every XML part well-formed,
// every internal relationship pointing at a part there, every override
// naming one, member order and compression kept.
func checkPackage(t *testing.T, in, out []byte) {
	t.Helper()
	inFiles, _ := docxMembers(t, in)
	outFiles, bodies := docxMembers(t, out)
	methods := map[string]uint16{}
	for _, f := range inFiles {
		methods[f.Name] = f.Method
	}
	var order []string
	for _, f := range outFiles {
		order = append(order, f.Name)
		if m, ok := methods[f.Name]; !ok || m != f.Method {
			t.Errorf("%s: method %d, was %d (there: %v)", f.Name, f.Method, m, ok)
		}
	}
	var want []string
	for _, f := range inFiles {
		if _, ok := bodies[f.Name]; ok {
			want = append(want, f.Name)
		}
	}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("member order %v, want %v", order, want)
	}
	for name, body := range bodies {
		if !strings.HasSuffix(name, ".xml") && !strings.HasSuffix(name, ".rels") {
			continue
		}
		dec := xml.NewDecoder(bytes.NewReader(body))
		for {
			_, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("%s is not well-formed: %v\n%s", name, err, body)
				break
			}
		}
		if !strings.HasSuffix(name, ".rels") {
			continue
		}
		var rels struct {
			Rel []struct {
				Target     string `xml:",attr"`
				TargetMode string `xml:",attr"`
			} `xml:"Relationship"`
		}
		if err := xml.Unmarshal(body, &rels); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, r := range rels.Rel {
			if r.TargetMode == "External" {
				continue
			}
			target := path.Join(path.Dir(path.Dir(name)), r.Target)
			if strings.HasPrefix(r.Target, "/") {
				target = strings.TrimPrefix(r.Target, "/")
			}
			if _, ok := bodies[target]; !ok {
				t.Errorf("%s points at %s, which is not there", name, target)
			}
		}
	}
	var types struct {
		Override []struct {
			PartName string `xml:",attr"`
		}
	}
	if err := xml.Unmarshal(bodies["[Content_Types].xml"], &types); err != nil {
		t.Fatal(err)
	}
	for _, o := range types.Override {
		if _, ok := bodies[strings.TrimPrefix(o.PartName, "/")]; !ok {
			t.Errorf("[Content_Types].xml names %s, which is not there", o.PartName)
		}
	}
}

func TestDOCXAnonymized(t *testing.T) {
	t.Parallel()
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	in := buildDOCX(t, docxParts(nil), when)
	for _, ct := range []string{ctDOCX, "application/zip"} {
		out, rep := mustScrubDoc(t, "in.docx", in, ct, docPolicy(true))
		if rep.Format != "DOCX" {
			t.Errorf("format %q", rep.Format)
		}
		checkPackage(t, in, out)
		noPlantedIn(t, "the package's bytes", out, docxPlanted)
		files, bodies := docxMembers(t, out)
		for name, body := range bodies {
			noPlantedIn(t, name, body, docxPlanted)
		}
		for _, f := range files {
			if !f.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) && !f.Modified.IsZero() || f.ModifiedDate != 0x21 || f.ModifiedTime != 0 {
				t.Errorf("%s modified %v", f.Name, f.Modified)
			}
		}
		for _, gone := range []string{"docProps/custom.xml", "word/people.xml", "customXml/item1.xml"} {
			if _, ok := bodies[gone]; ok {
				t.Errorf("%s is still there", gone)
			}
		}
		if strings.Contains(string(bodies["word/comments.xml"]), "initials") {
			t.Error("the comment's initials are still there")
		}
		for _, kept := range []string{"Voices: a campaign", "She spoke &amp; we listened.", "Inserted.", "Is this safe to publish?", `w:author="Author"`, "<Pages>1</Pages>"} {
			var all []byte
			for _, b := range bodies {
				all = append(all, b...)
			}
			if !bytes.Contains(all, []byte(kept)) {
				t.Errorf("%q went", kept)
			}
		}
		for _, f := range []string{"author", "last modified by", "company", "manager", "software", "creation date", "comment authors", "tracked-change authors",
			"revision ids", "custom properties", "modification times", "template path"} {
			if !docRemoved(rep, f) {
				t.Errorf("report misses %q: %+v", f, rep.Removed)
			}
		}
		tags := officeTags(t, "out.docx", out)
		if tags["XMP-dc:Title"] != "Voices: a campaign" {
			t.Errorf("exiftool does not read the scrubbed document's title: %v", tags)
		}
		noPlantedTag(t, tags, docxPlanted)

		again, rep2 := mustScrubDoc(t, "again.docx", out, ct, docPolicy(true))
		if !bytes.Equal(again, out) {
			t.Errorf("a scrubbed document is rewritten again: %+v", rep2.Removed)
		}
	}
	// What exiftool read before, to be sure it reads what was planted.
	tags := officeTags(t, "in.docx", in)
	if tags["XMP-dc:Creator"] != "Aigerim Kassymova" || tags["XML:Company"] != "Sauran Media LLC" {
		t.Errorf("exiftool reads no planted values: %v", tags)
	}
}

func TestDOCXNormalIsUnchanged(t *testing.T) {
	t.Parallel()
	in := buildDOCX(t, docxParts(nil), time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC))
	out, rep := mustScrubDoc(t, "in.docx", in, ctDOCX, docPolicy(false))
	if !bytes.Equal(out, in) {
		t.Errorf("a normal package's document was rewritten: %+v", rep.Removed)
	}
}

func TestDOCXPicture(t *testing.T) {
	t.Parallel()
	gps := docGPSPicture(t)
	in := buildDOCX(t, docxParts(gps), time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC))
	if !jpegScrubbable(t) {
		// Until the JPEG scrubber lands: kept as it is in a normal
		// package, refused in an anonymized one.
		out, rep := mustScrubDoc(t, "in.docx", in, ctDOCX, docPolicy(false))
		if !bytes.Equal(out, in) || len(rep.Kept) == 0 {
			t.Errorf("the picture was not kept as it is: %+v", rep)
		}
		_, _, err := scrubDoc(t, "in.docx", in, ctDOCX, docPolicy(true))
		if hub.ErrorCode(err) != hub.EUNSUPPORTED {
			t.Errorf("anonymized: got %v, want %s", err, hub.EUNSUPPORTED)
		}
		return
	}
	for _, anon := range []bool{false, true} {
		out, _ := mustScrubDoc(t, "in.docx", in, ctDOCX, docPolicy(anon))
		checkPackage(t, in, out)
		_, bodies := docxMembers(t, out)
		noPlantedIn(t, "the picture", bodies["word/media/image1.jpeg"], []string{"CAM-SN-7731"})
		for k := range mediatest.TagsOf(t, "image1.jpeg", bodies["word/media/image1.jpeg"]) {
			if strings.Contains(k, "GPS") {
				t.Errorf("anonymized %v: %s still in the picture", anon, k)
			}
		}
	}
}

func TestOOXMLNotParsed(t *testing.T) {
	t.Parallel()
	in := buildDOCX(t, docxParts(nil), time.Now())
	plain := buildDOCX(t, []docxPart{{name: "notes.txt", body: "hello"}}, time.Now())
	broken := buildDOCX(t, []docxPart{{name: "[Content_Types].xml", body: "<Types><Default"}, {name: "word/document.xml", body: "<w:document/>"}}, time.Now())
	for name, b := range map[string][]byte{
		"truncated": in[:len(in)/2],
		"plain zip": plain,
		"bad xml":   broken,
		"empty":     nil,
	} {
		_, _, err := scrubDoc(t, name+".docx", b, ctDOCX, docPolicy(true))
		var np *hub.NotParsedError
		if !errors.As(err, &np) {
			t.Errorf("%s: got %v, want not parsed", name, err)
		}
	}
}

func TestOOXMLBomb(t *testing.T) {
	t.Parallel()
	// Members that expand past the bounds: one of 257 MiB; five of 230
	// MiB; one that says it holds 1,000 bytes. Each is a few hundred KiB
	// of deflate.
	bomb := func(sizes []int, lie bool) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		if _, err := zw.Create("[Content_Types].xml"); err != nil {
			t.Fatal(err)
		}
		zeros := make([]byte, 1<<20)
		for i, size := range sizes {
			deflated := deflatedZeros(t, size)
			fh := &zip.FileHeader{Name: fmt.Sprintf("word/media/image%d.xml", i), Method: zip.Deflate,
				CompressedSize64: uint64(len(deflated)), UncompressedSize64: uint64(size)}
			for range size >> 20 {
				fh.CRC32 = crc32.Update(fh.CRC32, crc32.IEEETable, zeros)
			}
			if lie {
				fh.UncompressedSize64 = 1000
			}
			w, err := zw.CreateRaw(fh)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(deflated)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for name, b := range map[string][]byte{
		"one member": bomb([]int{257 << 20}, false),
		"in all":     bomb([]int{230 << 20, 230 << 20, 230 << 20, 230 << 20, 230 << 20}, false),
	} {
		for _, anon := range []bool{false, true} {
			_, _, err := scrubDoc(t, "bomb.docx", b, ctDOCX, docPolicy(anon))
			if anon && hub.ErrorCode(err) != hub.ETOOLARGE {
				t.Errorf("%s, anonymized: got %v, want %s", name, err, hub.ETOOLARGE)
			}
			if !anon {
				wantNotParsed(t, err)
			}
		}
	}
	// archive/zip stops at the size the header gives.
	_, _, err := scrubDoc(t, "bomb.docx", bomb([]int{257 << 20}, true), ctDOCX, docPolicy(true))
	wantNotParsed(t, err)
}

// deflatedZeros deflates size zero bytes quickly: once the window is all
// zeros, every flushed MiB deflates to the same bytes, repeated.
func deflatedZeros(t *testing.T, size int) []byte {
	t.Helper()
	var out bytes.Buffer
	fw, err := flate.NewWriter(&out, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	var chunks [][]byte
	for range 3 {
		start := out.Len()
		fw.Write(zeros)
		fw.Flush()
		chunks = append(chunks, bytes.Clone(out.Bytes()[start:]))
	}
	if !bytes.Equal(chunks[1], chunks[2]) {
		t.Fatal("deflate does not repeat itself")
	}
	for range size>>20 - 3 {
		out.Write(chunks[2])
	}
	fw.Close() // the final, empty block
	return out.Bytes()
}

func FuzzScrubOOXML(f *testing.F) {
	f.Add(buildDOCX(f, docxParts(nil)[:4], time.Unix(0, 0)))
	f.Add(buildDOCX(f, []docxPart{{name: "[Content_Types].xml", body: `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/docProps/custom.xml"/></Types>`},
		{name: "docProps/core.xml", body: `<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>A</dc:creator></cp:coreProperties>`},
		{name: "word/comments.xml", body: `<w:comments xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:comment w:author='A' w:initials="B"/></w:comments>`}}, time.Unix(0, 0)))
	f.Add([]byte("PK\x03\x04"))
	s := newScrubber()
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, anon := range []bool{false, true} {
			var out bytes.Buffer
			var rep hub.ScrubReport
			err := s.Scrub(context.Background(), &out, docMem(b), ctDOCX, docPolicy(anon), &rep)
			var np *hub.NotParsedError
			if err != nil && !errors.As(err, &np) && hub.ErrorCode(err) == hub.EINTERNAL {
				t.Fatalf("anonymized %v: %v", anon, err)
			}
		}
	})
}

func TestOOXMLWorkbookAndSlides(t *testing.T) {
	t.Parallel()
	types := `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>`
	for name, parts := range map[string][]docxPart{
		"XLSX": {
			{name: "[Content_Types].xml", body: types},
			{name: "xl/workbook.xml", body: `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>`},
			{name: "xl/comments1.xml", body: `<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><authors><author>Aigerim Kassymova</author><author>Dana &amp; Editor</author></authors><commentList><comment ref="A1" authorId="0"><text><t>Check</t></text></comment></commentList></comments>`},
			{name: "xl/persons/person.xml", body: `<personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"><person displayName="Aigerim Kassymova" id="{1}" userId="aigerim@example.org" providerId="AD"/></personList>`},
			{name: "xl/threadedComments/threadedComment1.xml", body: `<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"><threadedComment ref="A1" dT="2024-05-06T07:08:09.00" personId="{1}" id="{2}"><text>Check</text></threadedComment></ThreadedComments>`},
		},
		"PPTX": {
			{name: "[Content_Types].xml", body: types},
			{name: "ppt/presentation.xml", body: `<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>`},
			{name: "ppt/commentAuthors.xml", body: `<p:cmAuthorLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cmAuthor id="1" name="Aigerim Kassymova" initials="AKZ" lastIdx="1" clrIdx="0"/></p:cmAuthorLst>`},
			{name: "ppt/comments/comment1.xml", body: `<p:cmLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cm authorId="1" dt="2024-05-06T07:08:09.000" idx="1"><p:pos x="10" y="10"/><p:text>Check</p:text></p:cm></p:cmLst>`},
			{name: "ppt/authors.xml", body: `<p188:authorLst xmlns:p188="http://schemas.microsoft.com/office/powerpoint/2018/8/main"><p188:author id="{1}" name="Aigerim Kassymova" initials="AKZ" userId="aigerim@example.org" providerId="AD"/></p188:authorLst>`},
			{name: "ppt/comments/modernComment1.xml", body: `<p188:cmLst xmlns:p188="http://schemas.microsoft.com/office/powerpoint/2018/8/main"><p188:cm id="{3}" authorId="{1}" created="2024-05-06T07:08:09.000"/></p188:cmLst>`},
		},
	} {
		in := buildDOCX(t, parts, time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC))
		out, rep := mustScrubDoc(t, name, in, "application/zip", docPolicy(true))
		if rep.Format != name {
			t.Errorf("format %q, want %s", rep.Format, name)
		}
		checkPackage(t, in, out)
		_, bodies := docxMembers(t, out)
		for part, body := range bodies {
			noPlantedIn(t, name+" "+part, body, []string{"Aigerim", "Dana", "example.org", "2024-05-06", "AKZ"})
		}
		if !docRemoved(rep, "comment authors") {
			t.Errorf("%s: report misses the comment authors: %+v", name, rep.Removed)
		}
		if !bytes.Contains(bodies["xl/comments1.xml"], []byte("<author>Author</author><author>Author</author>")) && name == "XLSX" {
			t.Errorf("the workbook's authors are not replaced one for one: %s", bodies["xl/comments1.xml"])
		}
	}
}
