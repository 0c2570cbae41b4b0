package scrub

// Office Open XML packages (DOCX, XLSX, PPTX) are ZIP archives of XML
// parts. The package is rewritten member by member, in the order the
// archive holds them and with each member's compression method: members
// with nothing to remove are copied compressed, as they were; the rest are
// decompressed (to a bound: a zip bomb is refused), edited as a stream of
// XML tokens whose bytes are copied unchanged except where something goes,
// and compressed again.
//
// Always: pictures, sound and video under */media/, embedded objects under
// */embeddings/ and the package thumbnail go through the Scrubber by their
// sniffed type, as an upload of their own would (GPS positions and camera
// serial numbers in a photo pasted into a press release). One the hub
// cannot scrub is kept as it is in a package that is not anonymized and
// refused in one that is.
//
// Anonymized packages besides:
//   - docProps/core.xml: dc:creator, cp:lastModifiedBy, dcterms:created,
//     dcterms:modified, cp:lastPrinted, cp:revision and dc:description
//     (the free-text comments field) go; the title, subject, keywords,
//     category and language stay: a producer sets them to describe the
//     document, not the person.
//   - docProps/app.xml: Company, Manager, Application, AppVersion, Template
//     and TotalTime (minutes spent editing) go.
//   - docProps/custom.xml (custom properties, often a company's
//     classification labels with an e-mail address), customXml/ (data
//     stores, SharePoint metadata) and word/people.xml (the accounts of
//     the people who commented) are dropped, together with their
//     relationships and content-type overrides, so the package stays
//     consistent and opens without a repair prompt.
//   - comment and tracked-change authors are replaced by "Author" (as
//     Word's own "remove personal information" does: the attribute is
//     required), their initials and dates go; PowerPoint's comment
//     authors, Excel's comment authors and threaded-comment persons
//     likewise.
//   - revision save ids (w:rsid* attributes, the w:rsids list, which tie
//     documents edited in one session together), document ids (w14:docId,
//     w15:docId) and the attached template (its relationship holds a path,
//     with the user's account name, on the author's computer) go.
//   - the members' modification times (they say when the document was
//     last saved) are set to 1980-01-01, as Word itself writes them, and
//     the archive's and members' comments go.

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/syndication-hub/hub/hub"
)

const (
	// maxOOXMLMemberBytes bounds one member the scrubber decompresses: a
	// document.xml of a 2,000-page book is some tens of MiB; more is a
	// zip bomb.
	maxOOXMLMemberBytes = 256 << 20
	// maxOOXMLExpandedBytes bounds all the members one package has the
	// scrubber decompress together.
	maxOOXMLExpandedBytes = 1 << 30
	// maxOOXMLMembers bounds the central directory.
	maxOOXMLMembers = 100_000
	// maxNesting bounds documents inside documents (a workbook embedded in
	// a presentation embedded in a document).
	maxNesting = 3
)

// Namespaces the OOXML rules name, transitional and strict.
const (
	nsW        = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	nsWStrict  = "http://purl.oclc.org/ooxml/wordprocessingml/main"
	nsW14      = "http://schemas.microsoft.com/office/word/2010/wordml"
	nsW15      = "http://schemas.microsoft.com/office/word/2012/wordml"
	nsW16CEX   = "http://schemas.microsoft.com/office/word/2018/wordml/cex"
	nsCP       = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
	nsDCTerms  = "http://purl.org/dc/terms/"
	nsEP       = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
	nsEPStrict = "http://purl.oclc.org/ooxml/officeDocument/extendedProperties"
	nsP        = "http://schemas.openxmlformats.org/presentationml/2006/main"
	nsPStrict  = "http://purl.oclc.org/ooxml/presentationml/main"
	nsP188     = "http://schemas.microsoft.com/office/powerpoint/2018/8/main"
	nsS        = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	nsSStrict  = "http://purl.oclc.org/ooxml/spreadsheetml/main"
	nsXTC      = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"
	nsRels     = "http://schemas.openxmlformats.org/package/2006/relationships"
	nsTypes    = "http://schemas.openxmlformats.org/package/2006/content-types"
)

// fixedTime is what comment and member dates are set to in anonymized
// packages where the schema requires one: the earliest time a ZIP header
// can hold.
const fixedTime = "1980-01-01T00:00:00Z"

// depthKey carries how deep in nested documents a scrub is.
type depthKey struct{}

func nesting(ctx context.Context) int {
	d, _ := ctx.Value(depthKey{}).(int)
	return d
}

// isOOXML reports whether an archive is an Office Open XML package.
func isOOXML(zr *zip.Reader) bool {
	for _, f := range zr.File {
		if f.Name == "[Content_Types].xml" {
			return true
		}
	}
	return false
}

// ooxmlFormat names a package by its main part.
func ooxmlFormat(zr *zip.Reader) string {
	for _, f := range zr.File {
		switch {
		case strings.HasPrefix(f.Name, "word/"):
			return "DOCX"
		case strings.HasPrefix(f.Name, "xl/"):
			return "XLSX"
		case strings.HasPrefix(f.Name, "ppt/"):
			return "PPTX"
		}
	}
	return "OOXML"
}

// ooxmlDropped says whether an anonymized package loses a whole part, and
// what it was.
func ooxmlDropped(name string) (field string, ok bool) {
	switch {
	case name == "docProps/custom.xml":
		return "custom properties", true
	case strings.HasPrefix(name, "customXml/"):
		return "custom XML data", true
	case name == "word/people.xml":
		return "comment authors", true
	}
	return "", false
}

// ooxmlScrubbed says whether a member is a file of its own that goes
// through the Scrubber.
func ooxmlScrubbed(name string) bool {
	return strings.Contains(name, "/media/") || strings.Contains(name, "/embeddings/") ||
		strings.HasPrefix(name, "docProps/thumbnail.")
}

func isXMLPart(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".xml") || strings.HasSuffix(n, ".rels")
}

// scrubOOXML scrubs a DOCX, XLSX or PPTX (or says a plain ZIP is not
// one), sniffed as contentType.
func (s *Scrubber) scrubOOXML(ctx context.Context, dst io.Writer, src hub.ScrubSource, contentType string, p hub.ScrubPolicy, rep *hub.ScrubReport) error {
	zr, err := zip.NewReader(src, src.Size())
	if err != nil {
		format := "ZIP"
		switch {
		case strings.HasSuffix(contentType, "wordprocessingml.document"):
			format = "DOCX"
		case strings.HasSuffix(contentType, "spreadsheetml.sheet"):
			format = "XLSX"
		case strings.HasSuffix(contentType, "presentationml.presentation"):
			format = "PPTX"
		}
		return hub.NotParsed(format, "the archive cannot be read: %v", err)
	}
	if !isOOXML(zr) {
		return hub.NotParsed("ZIP", "the archive is not an Office document, and the hub has no scrubber for other ZIP archives")
	}
	format := ooxmlFormat(zr)
	rep.Format = format
	if len(zr.File) > maxOOXMLMembers {
		return tooLarge(p, format, "the document has %d parts; the hub scrubs at most %d", len(zr.File), maxOOXMLMembers)
	}
	if nesting(ctx) >= maxNesting {
		return hub.NotParsed(format, "documents are nested more than %d deep", maxNesting)
	}
	dir := scratchDir(src)
	out, err := os.CreateTemp(dir, "scrub-ooxml-*")
	if err != nil {
		return fmt.Errorf("scrub %s: scratch file: %w", format, err)
	}
	defer func() {
		out.Close()
		os.Remove(out.Name())
	}()
	z := &ooxmlScrub{s: s, zr: zr, p: p, rep: rep, format: format, dir: dir, dropped: map[string]bool{}}
	bw := bufio.NewWriter(out)
	changed, err := z.rewrite(context.WithValue(ctx, depthKey{}, nesting(ctx)+1), bw)
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("scrub %s: scratch file: %w", format, err)
	}
	if !changed {
		if _, err := io.Copy(dst, section(src)); err != nil {
			return fmt.Errorf("scrub %s: %w", format, err)
		}
		return nil
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("scrub %s: scratch file: %w", format, err)
	}
	if _, err := io.Copy(dst, out); err != nil {
		return fmt.Errorf("scrub %s: %w", format, err)
	}
	return nil
}

// tooLarge refuses a file over a bound in an anonymized package and lets
// it be stored unchanged in others.
func tooLarge(p hub.ScrubPolicy, format, reason string, args ...any) error {
	if p.Anonymized {
		return hub.Errorf(hub.ETOOLARGE, "the %s cannot be scrubbed: %s", format, fmt.Sprintf(reason, args...))
	}
	return hub.NotParsed(format, reason, args...)
}

// scratchDir is where a scrub spools: beside the upload, on the scratch
// disk.
func scratchDir(src hub.ScrubSource) string {
	if p := src.Path(); p != "" {
		return filepath.Dir(p)
	}
	return os.TempDir()
}

// ooxmlScrub is one package's rewrite.
type ooxmlScrub struct {
	s        *Scrubber
	zr       *zip.Reader
	p        hub.ScrubPolicy
	rep      *hub.ScrubReport
	format   string
	dir      string
	dropped  map[string]bool // part names, with a leading slash
	expanded int64           // bytes decompressed so far
}

func (z *ooxmlScrub) rewrite(ctx context.Context, w io.Writer) (changed bool, err error) {
	if z.p.Anonymized {
		for _, f := range z.zr.File {
			if _, ok := ooxmlDropped(f.Name); ok {
				z.dropped["/"+f.Name] = true
			}
		}
	}
	var expands uint64
	for _, f := range z.zr.File {
		if (z.p.Anonymized && isXMLPart(f.Name)) || ooxmlScrubbed(f.Name) {
			expands += min(f.UncompressedSize64, maxOOXMLExpandedBytes+1)
		}
	}
	if expands > maxOOXMLExpandedBytes {
		return false, tooLarge(z.p, z.format, "the document expands to %d bytes; the hub scrubs documents of at most %d", expands, maxOOXMLExpandedBytes)
	}
	zw := zip.NewWriter(w)
	if z.zr.Comment != "" {
		if z.p.Anonymized {
			z.rep.Remove("archive comment", "ZIP")
			changed = true
		} else if err := zw.SetComment(z.zr.Comment); err != nil {
			return false, hub.NotParsed(z.format, "archive comment: %v", err)
		}
	}
	for _, f := range z.zr.File {
		if err := ctx.Err(); err != nil {
			return false, fmt.Errorf("scrub %s: %w", z.format, err)
		}
		c, err := z.member(ctx, zw, f)
		if err != nil {
			return false, err
		}
		changed = changed || c
	}
	if err := zw.Close(); err != nil {
		return false, fmt.Errorf("scrub %s: %w", z.format, err)
	}
	return changed, nil
}

// member copies, edits or drops one member.
func (z *ooxmlScrub) member(ctx context.Context, zw *zip.Writer, f *zip.File) (changed bool, err error) {
	if field, ok := ooxmlDropped(f.Name); ok && z.p.Anonymized {
		z.rep.Remove(field, f.Name)
		return true, nil
	}
	if f.Flags&0x1 != 0 {
		return false, hub.NotParsed(z.format, "part %s is encrypted", f.Name)
	}
	if f.Method != zip.Store && f.Method != zip.Deflate {
		return false, hub.NotParsed(z.format, "part %s uses compression method %d", f.Name, f.Method)
	}
	fh := z.header(f)
	if z.p.Anonymized && (!f.Modified.Equal(zipEpoch()) || !bytes.Equal(fh.Extra, zipExtra(f.Extra, false))) {
		z.rep.Remove("modification times", "ZIP")
		changed = true
	}
	if fh.Comment != f.Comment {
		z.rep.Remove("archive comment", "ZIP")
		changed = true
	}
	switch {
	case strings.HasSuffix(f.Name, "/"):
		_, err := zw.CreateRaw(fh)
		return changed, wrapZip(z.format, err)
	case z.p.Anonymized && isXMLPart(f.Name):
		c, err := z.editXML(zw, f, fh)
		return changed || c, err
	case ooxmlScrubbed(f.Name):
		c, err := z.scrubMember(ctx, zw, f, fh)
		return changed || c, err
	}
	return changed, z.copyRaw(zw, f, fh)
}

// header is the header a member is written with.
func (z *ooxmlScrub) header(f *zip.File) *zip.FileHeader {
	fh := f.FileHeader
	fh.Modified = time.Time{} // never let archive/zip add a timestamp of its own
	fh.Extra = zipExtra(f.Extra, z.p.Anonymized)
	if z.p.Anonymized {
		// CreateRaw writes the MS-DOS fields as they are (Modified is
		// for CreateHeader, which would add an extended timestamp).
		//lint:ignore SA1019 the raw header's own fields
		fh.ModifiedDate, fh.ModifiedTime = 1<<5|1, 0 // 1980-01-01 00:00
		fh.Comment = ""
	}
	return &fh
}

// zipEpoch is the earliest time a ZIP header holds, which anonymized
// packages' members get.
func zipEpoch() time.Time { return time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC) }

// zipExtra keeps a member's extra fields but its ZIP64 sizes (the writer
// writes its own) and, in anonymized packages, its timestamps.
func zipExtra(extra []byte, anonymized bool) []byte {
	var out []byte
	for len(extra) >= 4 {
		id := binary.LittleEndian.Uint16(extra)
		n := int(binary.LittleEndian.Uint16(extra[2:]))
		if 4+n > len(extra) {
			break
		}
		field := extra[:4+n]
		extra = extra[4+n:]
		switch id {
		case 0x0001: // ZIP64
			continue
		case 0x5455, 0x000a, 0x5855: // extended timestamp, NTFS times, Info-ZIP Unix
			if anonymized {
				continue
			}
		}
		out = append(out, field...)
	}
	if out == nil && len(extra) == 0 {
		return nil
	}
	return out
}

func wrapZip(format string, err error) error {
	if err != nil {
		return fmt.Errorf("scrub %s: %w", format, err)
	}
	return nil
}

// copyRaw copies a member's compressed bytes unchanged.
func (z *ooxmlScrub) copyRaw(zw *zip.Writer, f *zip.File, fh *zip.FileHeader) error {
	r, err := f.OpenRaw()
	if err != nil {
		return hub.NotParsed(z.format, "part %s: %v", f.Name, err)
	}
	w, err := zw.CreateRaw(fh)
	if err != nil {
		return wrapZip(z.format, err)
	}
	if _, err := io.Copy(w, r); err != nil {
		return hub.NotParsed(z.format, "part %s: %v", f.Name, err)
	}
	return nil
}

// open decompresses a member within the bounds.
func (z *ooxmlScrub) open(f *zip.File) (io.ReadCloser, error) {
	if f.UncompressedSize64 > maxOOXMLMemberBytes {
		return nil, tooLarge(z.p, z.format, "part %s expands to %d bytes; the hub scrubs parts of at most %d", f.Name, f.UncompressedSize64, maxOOXMLMemberBytes)
	}
	r, err := f.Open()
	if err != nil {
		return nil, hub.NotParsed(z.format, "part %s: %v", f.Name, err)
	}
	return &boundedReader{r: r, z: z, name: f.Name}, nil
}

// boundedReader counts what a member expands to (archive/zip already
// stops one that expands past what its header says).
type boundedReader struct {
	r    io.ReadCloser
	z    *ooxmlScrub
	name string
	n    int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	b.z.expanded += int64(n)
	switch {
	case b.n > maxOOXMLMemberBytes:
		return n, tooLarge(b.z.p, b.z.format, "part %s expands to more than %d bytes", b.name, maxOOXMLMemberBytes)
	case b.z.expanded > maxOOXMLExpandedBytes:
		return n, tooLarge(b.z.p, b.z.format, "the document expands to more than %d bytes", maxOOXMLExpandedBytes)
	}
	if err != nil && err != io.EOF {
		return n, hub.NotParsed(b.z.format, "part %s: %v", b.name, err)
	}
	return n, err
}

func (b *boundedReader) Close() error { return b.r.Close() }

// readErr keeps the bound's and the archive's own errors, which say more
// than the XML decoder's wrapping of them.
func readErr(err error) error {
	var np *hub.NotParsedError
	var he *hub.Error
	if errors.As(err, &np) {
		return np
	}
	if errors.As(err, &he) {
		return he
	}
	return nil
}

// editXML rewrites one XML part.
func (z *ooxmlScrub) editXML(zw *zip.Writer, f *zip.File, fh *zip.FileHeader) (bool, error) {
	r, err := z.open(f)
	if err != nil {
		return false, err
	}
	defer r.Close()
	fh.CRC32, fh.CompressedSize64, fh.UncompressedSize64 = 0, 0, 0
	w, err := zw.CreateHeader(fh)
	if err != nil {
		return false, wrapZip(z.format, err)
	}
	e := &xmlEdit{part: f.Name, rep: z.rep, dropped: z.dropped}
	changed, err := e.run(r, w)
	if err != nil {
		if re := readErr(err); re != nil {
			return false, re
		}
		return false, hub.NotParsed(z.format, "part %s is not well-formed XML: %v", f.Name, err)
	}
	return changed, nil
}

// scrubMember passes an embedded file through the Scrubber.
func (z *ooxmlScrub) scrubMember(ctx context.Context, zw *zip.Writer, f *zip.File, fh *zip.FileHeader) (bool, error) {
	r, err := z.open(f)
	if err != nil {
		return false, err
	}
	defer r.Close()
	in, err := spool(z.dir, r)
	if err != nil {
		if re := readErr(err); re != nil {
			return false, re
		}
		return false, fmt.Errorf("scrub %s: part %s: %w", z.format, f.Name, err)
	}
	defer in.remove()
	res, err := z.s.scrubEmbedded(ctx, in, z.p, f.Name, z.rep)
	if err != nil {
		return false, err
	}
	if res == nil {
		return false, z.copyRaw(zw, f, fh)
	}
	defer res.remove()
	fh.CRC32, fh.CompressedSize64, fh.UncompressedSize64 = 0, 0, 0
	w, err := zw.CreateHeader(fh)
	if err != nil {
		return false, wrapZip(z.format, err)
	}
	if _, err := io.Copy(w, section(res)); err != nil {
		return false, fmt.Errorf("scrub %s: part %s: %w", z.format, f.Name, err)
	}
	return true, nil
}

// spooled is a file spooled to the scratch disk, as a hub.ScrubSource.
type spooled struct {
	*os.File
	size int64
	sum  [sha256.Size]byte
}

func (f *spooled) Size() int64  { return f.size }
func (f *spooled) Path() string { return f.Name() }
func (f *spooled) remove() {
	f.Close()
	os.Remove(f.Name())
}

// spool copies r to a scratch file.
func spool(dir string, r io.Reader) (*spooled, error) {
	f, err := os.CreateTemp(dir, "scrub-part-*")
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	s := &spooled{File: f, size: n}
	h.Sum(s.sum[:0])
	return s, nil
}

// scrubEmbedded scrubs a file found inside a document through the
// Scrubber, by its sniffed type. It returns the scrubbed bytes, or nil
// when they are unchanged or (outside anonymized packages) cannot be
// scrubbed. where names the file inside its document.
func (s *Scrubber) scrubEmbedded(ctx context.Context, in *spooled, p hub.ScrubPolicy, where string, rep *hub.ScrubReport) (*spooled, error) {
	head := make([]byte, hub.SniffLength)
	n, err := in.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("scrub %s: %w", where, err)
	}
	contentType := hub.SniffContentType(head[:n])
	out, err := os.CreateTemp(filepath.Dir(in.Name()), "scrub-part-*")
	if err != nil {
		return nil, fmt.Errorf("scrub %s: %w", where, err)
	}
	res := &spooled{File: out}
	h := sha256.New()
	var sub hub.ScrubReport
	err = s.Scrub(ctx, io.MultiWriter(out, h), in, contentType, p, &sub)
	var np *hub.NotParsedError
	switch {
	case errors.As(err, &np):
		res.remove()
		if p.Anonymized {
			return nil, hub.Errorf(hub.EUNSUPPORTED, "the document holds a file (%s, %s) the hub cannot scrub: %s", where, contentType, np.Reason)
		}
		rep.Keep(fmt.Sprintf("%s, not scrubbed (%s)", where, np.Reason))
		return nil, nil
	case err != nil:
		res.remove()
		return nil, err
	}
	for _, r := range sub.Removed {
		rep.Remove(r.Field, r.Where+", "+where)
	}
	for _, k := range sub.Kept {
		rep.Keep(k + ", " + where)
	}
	res.size, err = out.Seek(0, io.SeekCurrent)
	if err != nil {
		res.remove()
		return nil, fmt.Errorf("scrub %s: %w", where, err)
	}
	h.Sum(res.sum[:0])
	if res.sum == in.sum {
		res.remove()
		return nil, nil
	}
	return res, nil
}

// xmlEdit streams one XML part, copying the bytes of every token it keeps
// as they were.
type xmlEdit struct {
	part    string
	rep     *hub.ScrubReport
	dropped map[string]bool

	buf     []byte // bytes the decoder read from offset base on
	base    int64
	stack   []xml.Name
	skip    int // depth inside an element being dropped
	replace int // CharData tokens seen in an element whose text is replaced
	changed bool
}

// recorder hands the decoder one byte at a time, keeping them.
type recorder struct {
	r *bufio.Reader
	e *xmlEdit
}

func (r recorder) ReadByte() (byte, error) {
	b, err := r.r.ReadByte()
	if err == nil {
		r.e.buf = append(r.e.buf, b)
	}
	return b, err
}

func (r recorder) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = b
	return 1, nil
}

func (e *xmlEdit) run(r io.Reader, w io.Writer) (bool, error) {
	bw := bufio.NewWriter(w)
	dec := xml.NewDecoder(recorder{r: bufio.NewReader(r), e: e})
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return false, err
		}
		end := dec.InputOffset()
		if start < e.base || end-e.base > int64(len(e.buf)) {
			return false, errors.New("the decoder's offsets run outside what it read")
		}
		if err := e.token(bw, tok, e.buf[start-e.base:end-e.base]); err != nil {
			return false, err
		}
		// The decoder may have read a byte past the token, to give back.
		rest := copy(e.buf, e.buf[end-e.base:])
		e.buf = e.buf[:rest]
		e.base = end
	}
	if len(e.stack) != 0 {
		return false, errors.New("unexpected end of the part")
	}
	if _, err := bw.Write(e.buf); err != nil {
		return false, err
	}
	return e.changed, bw.Flush()
}

func (e *xmlEdit) token(w *bufio.Writer, tok xml.Token, raw []byte) error {
	switch t := tok.(type) {
	case xml.StartElement:
		e.stack = append(e.stack, t.Name)
		if e.skip > 0 {
			e.skip++
			return nil
		}
		if field, ok := e.dropElement(t); ok {
			if field != "" {
				e.rep.Remove(field, e.part)
			}
			e.changed = true
			e.skip = 1
			return nil
		}
		e.replace = 0
		return e.startTag(w, t, raw)
	case xml.EndElement:
		if len(e.stack) > 0 {
			e.stack = e.stack[:len(e.stack)-1]
		}
		if e.skip > 0 {
			e.skip--
			return nil
		}
	case xml.CharData:
		if e.skip > 0 {
			return nil
		}
		if field, text, ok := e.replaceText(); ok {
			if e.replace++; e.replace > 1 {
				text = ""
			}
			if string(t) != text {
				e.rep.Remove(field, e.part)
				e.changed = true
			}
			xml.EscapeText(w, []byte(text))
			return nil
		}
	default:
		if e.skip > 0 {
			return nil
		}
	}
	_, err := w.Write(raw)
	return err
}

func isNS(space string, ns ...string) bool {
	for _, n := range ns {
		if space == n {
			return true
		}
	}
	return false
}

// dropElement says whether an element goes with all it holds.
func (e *xmlEdit) dropElement(t xml.StartElement) (string, bool) {
	n := t.Name
	switch {
	case n.Space == nsDC && n.Local == "creator":
		return "author", true
	case n.Space == nsDC && n.Local == "description":
		return "comments", true
	case n.Space == nsCP && n.Local == "lastModifiedBy":
		return "last modified by", true
	case n.Space == nsCP && n.Local == "revision":
		return "revision number", true
	case n.Space == nsCP && n.Local == "lastPrinted":
		return "last printed date", true
	case n.Space == nsDCTerms && n.Local == "created":
		return "creation date", true
	case n.Space == nsDCTerms && n.Local == "modified":
		return "modification date", true
	case isNS(n.Space, nsEP, nsEPStrict):
		switch n.Local {
		case "Company":
			return "company", true
		case "Manager":
			return "manager", true
		case "Application", "AppVersion":
			return "software", true
		case "Template":
			return "template name", true
		case "TotalTime":
			return "editing time", true
		}
	case isNS(n.Space, nsW, nsWStrict) && n.Local == "rsids":
		return "revision ids", true
	case isNS(n.Space, nsW, nsWStrict) && n.Local == "attachedTemplate":
		return "template path", true
	case isNS(n.Space, nsW14, nsW15) && n.Local == "docId":
		return "document id", true
	case n.Space == nsRels && n.Local == "Relationship":
		return e.dropRelationship(t)
	case n.Space == nsTypes && n.Local == "Override":
		if e.dropped[attr(t, "", "PartName")] {
			return "", true // bookkeeping for a part that goes
		}
	}
	return "", false
}

// dropRelationship says whether a relationship points at a part that goes
// or at the author's template.
func (e *xmlEdit) dropRelationship(t xml.StartElement) (string, bool) {
	if strings.HasSuffix(attr(t, "", "Type"), "/attachedTemplate") {
		return "template path", true
	}
	if attr(t, "", "TargetMode") == "External" {
		return "", false
	}
	target := attr(t, "", "Target")
	if !strings.HasPrefix(target, "/") {
		// The source of word/_rels/document.xml.rels is word/document.xml.
		base := path.Dir(path.Dir(e.part))
		target = path.Join("/", base, target)
	}
	if e.dropped[target] {
		return "", true
	}
	return "", false
}

func attr(t xml.StartElement, space, local string) string {
	for _, a := range t.Attr {
		if a.Name.Space == space && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// attrAction is what becomes of one attribute: removed (keep false), or
// given a new value (value != "").
type attrAction struct {
	field string
	keep  bool
	value string
}

// editAttr says what becomes of one attribute of an element; ok false
// leaves it.
func editAttr(el, a xml.Name) (attrAction, bool) {
	switch {
	case isNS(a.Space, nsW, nsWStrict):
		what := "tracked-change"
		if el.Local == "comment" {
			what = "comment"
		}
		switch {
		case a.Local == "author":
			return attrAction{field: what + " authors", keep: true, value: "Author"}, true
		case a.Local == "initials":
			return attrAction{field: what + " authors"}, true
		case a.Local == "date":
			return attrAction{field: what + " dates"}, true
		case strings.HasPrefix(a.Local, "rsid"):
			return attrAction{field: "revision ids"}, true
		}
	case a.Space == nsW16CEX && a.Local == "dateUtc":
		return attrAction{field: "comment dates"}, true
	case a.Space == "" && isNS(el.Space, nsP, nsPStrict) && el.Local == "cmAuthor":
		switch a.Local {
		case "name":
			return attrAction{field: "comment authors", keep: true, value: "Author"}, true
		case "initials":
			return attrAction{field: "comment authors", keep: true, value: "A"}, true
		}
	case a.Space == "" && isNS(el.Space, nsP, nsPStrict) && el.Local == "cm" && a.Local == "dt":
		return attrAction{field: "comment dates"}, true
	case a.Space == "" && el.Space == nsP188 && el.Local == "author":
		switch a.Local {
		case "name":
			return attrAction{field: "comment authors", keep: true, value: "Author"}, true
		case "initials":
			return attrAction{field: "comment authors"}, true
		case "userId":
			return attrAction{field: "comment authors", keep: true, value: "Author"}, true
		case "providerId":
			return attrAction{field: "comment authors", keep: true, value: "None"}, true
		}
	case a.Space == "" && el.Space == nsP188 && el.Local == "cm" && a.Local == "created":
		return attrAction{field: "comment dates", keep: true, value: fixedTime}, true
	case a.Space == "" && el.Space == nsXTC && el.Local == "person":
		switch a.Local {
		case "displayName":
			return attrAction{field: "comment authors", keep: true, value: "Author"}, true
		case "userId", "providerId":
			return attrAction{field: "comment authors"}, true
		}
	case a.Space == "" && el.Space == nsXTC && el.Local == "threadedComment" && a.Local == "dT":
		return attrAction{field: "comment dates", keep: true, value: fixedTime}, true
	}
	return attrAction{}, false
}

// replaceText says whether the text of the current element is replaced:
// the author list of a workbook's comments, which the comments refer to
// by position.
func (e *xmlEdit) replaceText() (field, text string, ok bool) {
	n := len(e.stack)
	if n >= 2 && isNS(e.stack[n-1].Space, nsS, nsSStrict) && e.stack[n-1].Local == "author" && e.stack[n-2].Local == "authors" {
		return "comment authors", "Author", true
	}
	return "", "", false
}

// startTag writes a start tag, its attributes edited.
func (e *xmlEdit) startTag(w *bufio.Writer, t xml.StartElement, raw []byte) error {
	var actions []attrAction
	var which []int
	for i, a := range t.Attr {
		if act, ok := editAttr(t.Name, a.Name); ok && (!act.keep || act.value != a.Value) {
			actions = append(actions, act)
			which = append(which, i)
		}
	}
	if len(actions) == 0 {
		_, err := w.Write(raw)
		return err
	}
	spans, err := scanAttrs(raw)
	if err != nil {
		return err
	}
	if len(spans) != len(t.Attr) {
		return fmt.Errorf("start tag %s: %d attributes read, %d found", t.Name.Local, len(t.Attr), len(spans))
	}
	at := 0
	for k, i := range which {
		sp := spans[i]
		w.Write(raw[at:sp.start])
		if act := actions[k]; act.keep {
			w.Write(raw[sp.start:sp.valueStart])
			xml.EscapeText(w, []byte(act.value))
			w.Write(raw[sp.valueEnd:sp.end])
		}
		e.rep.Remove(actions[k].field, e.part)
		at = sp.end
	}
	e.changed = true
	_, err = w.Write(raw[at:])
	return err
}

// attrSpan is where one attribute is in a start tag: from the white space
// before its name to after its closing quote, and its value inside the
// quotes.
type attrSpan struct{ start, valueStart, valueEnd, end int }

// scanAttrs finds the attributes of a start tag the decoder has already
// read as well-formed (optionally preceded by white space or nothing
// else).
func scanAttrs(raw []byte) ([]attrSpan, error) {
	i := bytes.IndexByte(raw, '<')
	if i < 0 {
		return nil, errors.New("no start tag")
	}
	i++
	for i < len(raw) && !isXMLSpace(raw[i]) && raw[i] != '/' && raw[i] != '>' {
		i++
	}
	var spans []attrSpan
	for {
		start := i
		for i < len(raw) && isXMLSpace(raw[i]) {
			i++
		}
		if i >= len(raw) || raw[i] == '/' || raw[i] == '>' {
			return spans, nil
		}
		for i < len(raw) && raw[i] != '=' && !isXMLSpace(raw[i]) {
			i++
		}
		for i < len(raw) && isXMLSpace(raw[i]) {
			i++
		}
		if i >= len(raw) || raw[i] != '=' {
			return nil, errors.New("attribute without a value")
		}
		i++
		for i < len(raw) && isXMLSpace(raw[i]) {
			i++
		}
		if i >= len(raw) || (raw[i] != '"' && raw[i] != '\'') {
			return nil, errors.New("attribute value without quotes")
		}
		q := raw[i]
		i++
		vs := i
		j := bytes.IndexByte(raw[i:], q)
		if j < 0 {
			return nil, errors.New("attribute value without its closing quote")
		}
		i += j
		spans = append(spans, attrSpan{start: start, valueStart: vs, valueEnd: i, end: i + 1})
		i++
	}
}

func isXMLSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }
