package scrub

// PDF documents are read whole by pdfcpu and, when anything goes, written
// afresh: one revision, one cross-reference table, only the objects the
// catalog reaches. An incremental update (what exiftool and most editors
// append) leaves the old document information and metadata in the file's
// bytes, readable by anyone who looks past the last trailer; so does an
// object nothing references any more. A file with none of these and
// nothing to remove is stored byte for byte as received.
//
// Always removed (they may hold places, devices and files the hub cannot
// vouch for):
//   - XMP metadata: the catalog's and every object's /Metadata stream (a
//     placed photo's XMP carries its EXIF, GPS position included; the
//     document's its editing history with file paths). XMP is not
//     scrubbed field by field: what a producer wants kept (title, author
//     outside anonymized packages) is in the document information too.
//   - embedded files: the /EmbeddedFiles name tree, /EF and /RF of every
//     file specification, associated files (/AF), portfolios
//     (/Collection) and file-attachment annotations.
//   - /PieceInfo, applications' private data (Illustrator keeps a whole
//     copy of its own document there, placed photos included).
//   - JPEG images (streams whose only filter is /DCTDecode) that carry
//     metadata segments go through the Scrubber as JPEG pictures; one the
//     hub cannot scrub stays as it is outside anonymized packages and is
//     refused in them.
//
// Anonymized packages besides lose the document information dictionary
// whole (author, creator and producer software, dates, title, subject,
// keywords and custom keys: the title is not identifying by itself, but
// PDFs printed from an office suite take the file's name as their title,
// "Microsoft Word - interview_aigerim.docx"), the authors and dates of
// annotations (/T, /M, /CreationDate on markup annotations and their
// pop-ups) and the file identifier (/ID, which ties the file to its
// original on the author's computer). Encrypted PDFs are not rewritten
// (their strings and streams cannot be checked): they are not parsed.

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/syndication-hub/hub/hub"
)

// maxPDFBytes and maxPDFSyntaxBytes bound the PDFs the hub rewrites
// (later a setting of the hub's). pdfcpu holds a whole document in
// memory: stream data as the bytes read (scrubbing 201 MiB of JPEG images
// peaks at 215 MiB resident, see TestPDFMemory), but the object syntax
// around them as Go maps and slices, some 30 times its bytes (234 MiB of
// small dictionaries peaked at 5.9 GiB; 215 MiB of which 15 MiB syntax,
// cross-reference table included, at 686 MiB). So a PDF is refused over
// 256 MiB, and over 16 MiB of syntax (all but stream data; object streams
// count decoded): at most some 800 MiB for one scrub. Campaign posters and
// infographics are a few MiB, print masters some tens, with well under
// 1 MiB of syntax; a 1,000-page report has a few MiB.
const (
	maxPDFBytes       = 256 << 20
	maxPDFSyntaxBytes = 16 << 20
)

// pdfConfig is pdfcpu's configuration for the scrub, made here: pdfcpu's
// own default would create a configuration directory in $HOME.
func pdfConfig() *model.Configuration {
	return &model.Configuration{
		Version:                   model.VersionStr,
		Reader15:                  true,
		ValidationMode:            model.ValidationRelaxed,
		UnsupportedResourcePolicy: model.UnsupportedResourceSkip,
		Eol:                       types.EolLF,
		// A classic cross-reference table and no object streams: the
		// document information is then written where it can be checked.
		WriteObjectStream: false,
		WriteXRefStream:   false,
		EncryptUsingAES:   true,
		EncryptKeyLength:  256,
		Permissions:       model.PermissionsPrint,
		TimestampFormat:   "2006-01-02 15:04",
		DateFormat:        "2006-01-02",
		Offline:           true,
		Timeout:           5,
		TimeoutCRL:        10,
		TimeoutOCSP:       10,
		Limits:            pdfLimits(),
	}
}

// pdfLimits are pdfcpu's bounds on what a document makes it allocate,
// tightened to the syntax bound.
func pdfLimits() model.ResourceLimits {
	l := model.DefaultResourceLimits()
	l.MaxObjectCount = 1_000_000
	l.MaxXRefEntries = 1_000_000
	l.MaxObjectStreamCount = 100_000
	l.MaxObjectStreamFirst = maxPDFSyntaxBytes
	return l
}

// isMarkupAnnotation says whether an annotation subtype carries an author
// (ISO 32000-2, 12.5.6.2), counting the pop-ups that show it.
func isMarkupAnnotation(subtype string) bool {
	switch subtype {
	case "Text", "FreeText", "Line", "Square", "Circle", "Polygon", "PolyLine", "Highlight", "Underline",
		"Squiggly", "StrikeOut", "Caret", "Stamp", "Ink", "FileAttachment", "Sound", "Redact", "Projection", "Popup":
		return true
	}
	return false
}

// infoField names the document information entries for the report.
func infoField(key string) string {
	switch key {
	case "Author":
		return "author"
	case "Creator", "Producer":
		return "software"
	case "CreationDate":
		return "creation date"
	case "ModDate":
		return "modification date"
	case "Title":
		return "title"
	case "Subject":
		return "subject"
	case "Keywords":
		return "keywords"
	case "Trapped":
		return "trapping"
	}
	return "custom properties"
}

// scrubPDF scrubs a PDF.
func (s *Scrubber) scrubPDF(ctx context.Context, dst io.Writer, src hub.ScrubSource, p hub.ScrubPolicy, rep *hub.ScrubReport) (err error) {
	rep.Format = "PDF"
	if src.Size() > maxPDFBytes {
		return tooLarge(p, "PDF", "the document is %d bytes; the hub rewrites PDFs of at most %d", src.Size(), maxPDFBytes)
	}
	syntax, err := pdfSyntaxBytes(section(src), maxPDFSyntaxBytes)
	if err != nil {
		return fmt.Errorf("scrub PDF: %w", err)
	}
	if syntax > maxPDFSyntaxBytes {
		return tooLarge(p, "PDF", "the document has more than %d bytes of objects besides its streams; the hub rewrites PDFs of at most %d", int64(maxPDFSyntaxBytes), int64(maxPDFSyntaxBytes))
	}
	defer func() {
		if r := recover(); r != nil {
			s.logger.Warn("the PDF reader panicked", "stack", string(debug.Stack()))
			err = hub.NotParsed("PDF", "the document cannot be read")
		}
	}()
	doc, err := pdfcpu.ReadWithContext(ctx, section(src), pdfConfig())
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("scrub PDF: %w", ctx.Err())
		}
		if errors.Is(err, pdfcpu.ErrWrongPassword) {
			return hub.NotParsed("PDF", "the document is encrypted")
		}
		return hub.NotParsed("PDF", "the document cannot be read: %v", err)
	}
	if doc.Encrypt != nil || doc.E != nil {
		return hub.NotParsed("PDF", "the document is encrypted")
	}
	if doc.Root == nil || doc.RootDict == nil {
		return hub.NotParsed("PDF", "the document has no catalog")
	}
	d := &pdfScrub{s: s, doc: doc, p: p, rep: rep, dir: scratchDir(src)}
	if err := d.scrub(context.WithValue(ctx, depthKey{}, nesting(ctx)+1)); err != nil {
		return err
	}
	if !d.changed {
		if _, err := io.Copy(dst, section(src)); err != nil {
			return fmt.Errorf("scrub PDF: %w", err)
		}
		return nil
	}
	return d.write(dst)
}

// pdfScrub is one document's scrub.
type pdfScrub struct {
	s       *Scrubber
	doc     *model.Context
	p       hub.ScrubPolicy
	rep     *hub.ScrubReport
	dir     string
	changed bool
}

func (d *pdfScrub) remove(field, where string) {
	d.rep.Remove(field, where)
	d.changed = true
}

func (d *pdfScrub) scrub(ctx context.Context) error {
	revisions := 0
	for _, e := range d.doc.Table {
		revisions = max(revisions, e.Incr)
	}
	if d.doc.Read.Linearized {
		revisions-- // the first page's cross-reference section
	}
	if revisions > 1 {
		d.remove("earlier revisions", "incremental updates")
	}
	reached, err := d.reach()
	if err != nil {
		return err
	}
	d.scrubInfo()
	for _, nr := range reached {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("scrub PDF: %w", err)
		}
		if err := d.object(ctx, nr); err != nil {
			return err
		}
	}
	d.walk(d.doc.RootDict, 0, "catalog")
	if d.p.Anonymized && !anonymousID(d.doc.ID) {
		// pdfcpu keeps the first, permanent, identifier and makes the
		// second, this version's, anew: a zero one is recognisably no
		// one's, so a scrubbed file is not rewritten again.
		zero := types.HexLiteral(strings.Repeat("00", 16))
		d.doc.ID = types.Array{zero, zero}
		d.remove("file identifier", "trailer")
	}
	return nil
}

// anonymousID says whether a file identifier is absent or the zero one.
func anonymousID(id types.Array) bool {
	if len(id) == 0 {
		return true
	}
	h, ok := id[0].(types.HexLiteral)
	return ok && strings.Trim(h.Value(), "0") == ""
}

// scrubInfo clears the document information in anonymized packages.
func (d *pdfScrub) scrubInfo() {
	if d.doc.Info == nil {
		return
	}
	info, err := d.doc.DereferenceDict(*d.doc.Info)
	if err != nil || info == nil {
		d.doc.Info = nil // a broken reference is no information
		return
	}
	if !d.p.Anonymized {
		if len(info) > 0 {
			d.rep.Keep("document information")
		}
		return
	}
	keys := make([]string, 0, len(info))
	for k := range info {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d.remove(infoField(k), "document information")
		delete(info, k)
	}
}

// reach lists the objects the trailer reaches, in order.
func (d *pdfScrub) reach() ([]int, error) {
	seen := map[int]bool{}
	var order []int
	var queue []int
	add := func(o types.Object) {
		refs(o, 0, func(ir types.IndirectRef) {
			nr := ir.ObjectNumber.Value()
			if !seen[nr] {
				seen[nr] = true
				queue = append(queue, nr)
			}
		})
	}
	add(*d.doc.Root)
	if d.doc.Info != nil {
		add(*d.doc.Info)
	}
	for len(queue) > 0 {
		nr := queue[0]
		queue = queue[1:]
		o, err := d.doc.Dereference(types.IndirectRef{ObjectNumber: types.Integer(nr)})
		if err != nil {
			return nil, hub.NotParsed("PDF", "object %d: %v", nr, err)
		}
		if o == nil {
			continue
		}
		order = append(order, nr)
		if sd, ok := o.(types.StreamDict); ok {
			o = sd.Dict
		}
		add(o)
	}
	for nr, e := range d.doc.Table {
		if nr == 0 || e.Free || seen[nr] || e.Object == nil {
			continue
		}
		switch e.Object.(type) {
		case types.ObjectStreamDict, types.XRefStreamDict:
			continue
		}
		d.remove("unused objects", "earlier revisions")
		break
	}
	return order, nil
}

// refs calls f on every indirect reference directly inside o.
func refs(o types.Object, depth int, f func(types.IndirectRef)) {
	if depth > 100 {
		return
	}
	switch o := o.(type) {
	case types.IndirectRef:
		f(o)
	case types.Dict:
		for _, v := range o {
			refs(v, depth+1, f)
		}
	case types.StreamDict:
		refs(o.Dict, depth+1, f)
	case types.Array:
		for _, v := range o {
			refs(v, depth+1, f)
		}
	}
}

// object scrubs one object the document reaches.
func (d *pdfScrub) object(ctx context.Context, nr int) error {
	e := d.doc.Table[nr]
	switch o := e.Object.(type) {
	case types.Dict:
		if nr != d.doc.Root.ObjectNumber.Value() {
			d.walk(o, 0, "")
		}
	case types.StreamDict:
		d.walk(o.Dict, 0, "")
		if isJPEGImage(o) {
			return d.image(ctx, nr, e, o)
		}
	case types.Array:
		d.walk(o, 0, "")
	}
	return nil
}

func name(d types.Dict, key string) string {
	if n, ok := d[key].(types.Name); ok {
		return n.Value()
	}
	return ""
}

// isJPEGImage says whether a stream is an image whose only filter is
// DCTDecode.
func isJPEGImage(sd types.StreamDict) bool {
	if name(sd.Dict, "Subtype") != "Image" {
		return false
	}
	switch f := sd.Dict["Filter"].(type) {
	case types.Name:
		return f.Value() == "DCTDecode"
	case types.Array:
		n, ok := f[0].(types.Name)
		return len(f) == 1 && ok && n.Value() == "DCTDecode"
	}
	return false
}

// walk removes what goes from a dictionary or array and the ones it holds
// directly. where is "catalog" for the catalog.
func (d *pdfScrub) walk(o types.Object, depth int, where string) {
	if depth > 100 {
		return
	}
	switch o := o.(type) {
	case types.Array:
		for _, v := range o {
			d.walk(v, depth+1, "")
		}
	case types.Dict:
		d.dict(o, where)
		for _, v := range o {
			d.walk(v, depth+1, "")
		}
	}
}

func (d *pdfScrub) dict(o types.Dict, where string) {
	if _, ok := o["Metadata"]; ok {
		if where == "catalog" {
			d.remove("document metadata (XMP)", "XMP")
		} else {
			d.remove("picture and page metadata (XMP)", "XMP")
		}
		delete(o, "Metadata")
	}
	if _, ok := o["PieceInfo"]; ok {
		d.remove("application data", "PieceInfo")
		delete(o, "PieceInfo")
	}
	for _, k := range []string{"EF", "RF", "AF"} {
		if _, ok := o[k]; ok {
			d.remove("embedded file", "file specification")
			delete(o, k)
		}
	}
	if where == "catalog" {
		if _, ok := o["Collection"]; ok {
			d.remove("embedded file", "portfolio")
			delete(o, "Collection")
		}
		if names, err := d.doc.DereferenceDict(o["Names"]); err == nil && names != nil {
			if _, ok := names["EmbeddedFiles"]; ok {
				d.remove("embedded file", "EmbeddedFiles")
				delete(names, "EmbeddedFiles")
			}
		}
	}
	if _, ok := o["Annots"]; ok {
		d.annots(o)
	}
	if d.p.Anonymized {
		d.signature(o, where)
	}
	if d.p.Anonymized && isMarkupAnnotation(name(o, "Subtype")) && (name(o, "Type") == "Annot" || o["Rect"] != nil) {
		if _, ok := o["T"]; ok {
			d.remove("annotation authors", "annotations")
			delete(o, "T")
		}
		for _, k := range []string{"M", "CreationDate"} {
			if _, ok := o[k]; ok {
				d.remove("annotation dates", "annotations")
				delete(o, k)
			}
		}
	}
}

// signature drops the signatures of signature fields, and the catalog's
// security store: a signature names its signer, in its certificate
// chain at least; the rewrite would break it anyway.
func (d *pdfScrub) signature(o types.Dict, where string) {
	if _, ok := o["V"]; ok && name(o, "FT") == "Sig" {
		d.remove("digital signatures", "signature fields")
		delete(o, "V")
	}
	if where != "catalog" {
		return
	}
	for _, k := range []string{"DSS", "Perms"} {
		if _, ok := o[k]; ok {
			d.remove("digital signatures", k)
			delete(o, k)
		}
	}
}

// annots drops file-attachment annotations from a page's annotations.
func (d *pdfScrub) annots(page types.Dict) {
	a, err := d.doc.DereferenceArray(page["Annots"])
	if err != nil || a == nil {
		return
	}
	kept := make(types.Array, 0, len(a))
	for _, v := range a {
		if annot, err := d.doc.DereferenceDict(v); err == nil && annot != nil && name(annot, "Subtype") == "FileAttachment" {
			d.remove("embedded file", "annotations")
			delete(annot, "FS")
			continue
		}
		kept = append(kept, v)
	}
	if len(kept) != len(a) {
		page["Annots"] = kept
	}
}

// image scrubs a JPEG image that carries metadata as a picture of its own.
func (d *pdfScrub) image(ctx context.Context, nr int, e *model.XRefTableEntry, sd types.StreamDict) error {
	if !jpegHasMetadata(sd.Raw) {
		return nil
	}
	in, err := spool(d.dir, bytes.NewReader(sd.Raw))
	if err != nil {
		return fmt.Errorf("scrub PDF: image %d: %w", nr, err)
	}
	defer in.remove()
	res, err := d.s.scrubEmbedded(ctx, in, d.p, fmt.Sprintf("image (object %d)", nr), d.rep)
	if err != nil || res == nil {
		return err
	}
	defer res.remove()
	b, err := io.ReadAll(section(res))
	if err != nil {
		return fmt.Errorf("scrub PDF: image %d: %w", nr, err)
	}
	sd.Raw = b
	n := int64(len(b))
	sd.StreamLength = &n
	sd.StreamLengthObjNr = nil
	sd.Update("Length", types.Integer(n))
	e.Object = sd
	d.changed = true
	return nil
}

// jpegHasMetadata says whether a JPEG holds segments besides JFIF, the
// colour profile and Adobe's colour transform: EXIF, XMP, IPTC, comments,
// makers' notes. A JPEG it cannot walk counts as holding some.
func jpegHasMetadata(b []byte) bool {
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return true
	}
	for i := 2; ; {
		if i+4 > len(b) || b[i] != 0xFF {
			return true
		}
		m := b[i+1]
		if m == 0xFF {
			i++
			continue
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if n < 2 || i+2+n > len(b) {
			return true
		}
		seg := b[i+4 : i+2+n]
		switch {
		case m == 0xDA: // start of scan: the headers are over
			return false
		case m == 0xE0 && (strings.HasPrefix(string(seg), "JFIF\x00") || strings.HasPrefix(string(seg), "JFXX\x00")):
		case m == 0xE2 && strings.HasPrefix(string(seg), "ICC_PROFILE\x00"):
		case m == 0xEE && strings.HasPrefix(string(seg), "Adobe"):
		case m >= 0xE0 && m <= 0xEF, m == 0xFE:
			return true
		}
		i += 2 + n
	}
}

// write writes the document afresh.
func (d *pdfScrub) write(dst io.Writer) error {
	target := "<<>>" // what is written for the document information
	if d.doc.Info != nil {
		info, err := d.doc.DereferenceDict(*d.doc.Info)
		if err != nil || info == nil {
			return hub.NotParsed("PDF", "document information: %v", err)
		}
		for k, v := range info {
			// Written direct: pdfcpu drops indirect dates and producers.
			if info[k], err = d.doc.Dereference(v); err != nil {
				return hub.NotParsed("PDF", "document information: %v", err)
			}
		}
		target = info.PDFString()
		// Room enough for it in place of what pdfcpu writes (its name
		// and the time as producer and dates).
		info["HubScrubPadding"] = types.StringLiteral(strings.Repeat("-", len(target)))
	}
	if d.p.Anonymized && len(d.doc.ID) == 0 {
		zero := types.HexLiteral(strings.Repeat("00", 16))
		d.doc.ID = types.Array{zero, zero}
	}
	pw := &infoPatcher{w: dst, doc: d.doc, info: []byte(target), start: -1}
	d.doc.Write.Writer = bufio.NewWriter(pw)
	err := pdfcpu.WriteContext(d.doc)
	if err == nil {
		err = d.doc.Write.Flush()
	}
	switch {
	case pw.err != nil:
		return fmt.Errorf("scrub PDF: write: %w", pw.err)
	case err != nil:
		// What pdfcpu read it cannot always write: a broken page tree.
		return hub.NotParsed("PDF", "the document cannot be rewritten: %v", err)
	}
	if d.doc.Info != nil && pw.want == nil {
		return errors.New("scrub PDF: write: the document information was not written")
	}
	return nil
}

// infoPatcher passes pdfcpu's output on, writing the document information
// the scrub decided on over the one pdfcpu writes: pdfcpu always writes
// one, with itself as producer and the time as dates. The dictionary is
// overwritten in place, padded with spaces, so no offset changes.
type infoPatcher struct {
	w     io.Writer
	doc   *model.Context
	info  []byte // what to write
	off   int64  // bytes passed on
	start int64  // where pdfcpu's dictionary starts, once known; -1 before
	want  []byte // pdfcpu's dictionary
	err   error
	buf   []byte
}

func (p *infoPatcher) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if p.want == nil && p.doc.Info != nil {
		nr, gen := p.doc.Info.ObjectNumber.Value(), p.doc.Info.GenerationNumber.Value()
		if at, ok := p.doc.Write.Table[nr]; ok {
			dict, err := p.doc.DereferenceDict(*p.doc.Info)
			if err != nil || dict == nil {
				p.err = fmt.Errorf("document information: %v", err)
				return 0, p.err
			}
			p.want = []byte(dict.PDFString())
			if len(p.info) > len(p.want) {
				p.err = errors.New("no room for the document information")
				return 0, p.err
			}
			p.start = at + int64(len(fmt.Sprintf("%d %d obj%s", nr, gen, p.doc.Write.Eol)))
		}
	}
	out := b
	if p.want != nil {
		lo, hi := max(p.start, p.off), min(p.start+int64(len(p.want)), p.off+int64(len(b)))
		if lo < hi {
			p.buf = append(p.buf[:0], b...)
			for i := lo; i < hi; i++ {
				j := i - p.start
				if b[i-p.off] != p.want[j] {
					p.err = errors.New("the document information is not where it was written")
					return 0, p.err
				}
				c := byte(' ')
				if j < int64(len(p.info)) {
					c = p.info[j]
				}
				p.buf[i-p.off] = c
			}
			out = p.buf
		}
	}
	n, err := p.w.Write(out)
	p.off += int64(n)
	if err != nil {
		p.err = err
		return n, err
	}
	return len(b), nil
}

// pdfSyntaxBytes measures the bytes of a PDF's object syntax: all but the
// data of its streams, object streams counted decoded. It stops counting
// past limit. It reads the file as bytes, not as PDF: a stream is what
// lies between the keywords stream and endstream, an object stream one
// whose dictionary names /ObjStm.
func pdfSyntaxBytes(r *io.SectionReader, limit int64) (int64, error) {
	var (
		syntax   int64
		buf      []byte
		chunk    = make([]byte, min(1<<20, r.Size()+1))
		inStream bool
		objStm   bool
		packed   []byte // an object stream's data
		tail     []byte // the syntax before the latest stream, for its dictionary
		eof      bool
	)
	const keep = len("endstream") + 2
	for !eof && syntax <= limit {
		n, err := io.ReadFull(r, chunk)
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			eof = true
		case err != nil:
			return 0, err
		}
		buf = append(buf, chunk[:n]...)
		pos := 0
		for syntax <= limit {
			if !inStream {
				i := streamKeyword(buf[pos:])
				if i < 0 {
					end := len(buf)
					if !eof {
						end = max(pos, len(buf)-keep)
					}
					syntax += int64(end - pos)
					tail = lastBytes(tail, buf[pos:end], 2048)
					pos = end
					break
				}
				syntax += int64(i + len("stream"))
				tail = lastBytes(tail, buf[pos:pos+i], 2048)
				objStm = isObjStm(tail)
				inStream, packed = true, packed[:0]
				pos += i + len("stream")
				continue
			}
			i := bytes.Index(buf[pos:], []byte("endstream"))
			if i < 0 {
				end := len(buf)
				if !eof {
					end = max(pos, len(buf)-keep)
				}
				if objStm {
					packed = append(packed, buf[pos:end]...)
					if int64(len(packed)) > limit {
						return limit + 1, nil
					}
				}
				pos = end
				break
			}
			if objStm {
				packed = append(packed, buf[pos:pos+i]...)
				syntax += inflatedSize(packed, limit-syntax+1)
			}
			inStream, tail = false, tail[:0]
			pos += i
		}
		buf = append(buf[:0], buf[pos:]...)
	}
	return syntax, nil
}

// streamKeyword finds the keyword stream that starts a stream's data:
// after white space or a dictionary's end, before an end of line.
func streamKeyword(b []byte) int {
	for at := 0; ; {
		i := bytes.Index(b[at:], []byte("stream"))
		if i < 0 {
			return -1
		}
		i += at
		before := i > 0 && (isPDFSpace(b[i-1]) || b[i-1] == '>')
		after := i+6 < len(b) && (b[i+6] == '\n' || b[i+6] == '\r')
		if before && after {
			return i
		}
		at = i + 1
	}
}

func isPDFSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func lastBytes(tail, b []byte, n int) []byte {
	tail = append(tail, b...)
	if len(tail) > n {
		tail = append(tail[:0], tail[len(tail)-n:]...)
	}
	return tail
}

// isObjStm says whether the dictionary before a stream (the syntax since
// the latest obj keyword) is an object stream's.
func isObjStm(tail []byte) bool {
	if i := bytes.LastIndex(tail, []byte("obj")); i >= 0 {
		tail = tail[i:]
	}
	return bytes.Contains(tail, []byte("/ObjStm"))
}

// inflatedSize is how many bytes a stream's data inflates to, at most
// limit; data that does not inflate counts as itself.
func inflatedSize(data []byte, limit int64) int64 {
	data = bytes.TrimLeft(data, "\r\n")
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return int64(len(data))
	}
	defer zr.Close()
	n, _ := io.Copy(io.Discard, io.LimitReader(zr, limit))
	return max(n, int64(len(data)))
}
