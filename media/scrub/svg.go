package scrub

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/syndication-hub/hub/hub"
)

// SVG, from encoding/xml's token stream, streamed: the tokens the hub keeps
// are copied from the source byte for byte (by their offsets), and only
// the start tags it changes are written anew, so nothing is added that the
// file did not have (no script, no markup: only the kept attributes, and
// the minimal metadata below).
//
// Removed: <metadata> and any RDF or x:xmpmeta outside it (replaced by a
// minimal <metadata> with the kept properties, see xmp.go); the elements
// and attributes of editors' namespaces (Inkscape, Sodipodi, Adobe
// Illustrator including its private copy of the whole document in i:pgf,
// Sketch, Affinity, Figma), which hold file names, local paths, user names
// and versions; attributes whose value is a local file (file:, C:\); the
// metadata of images embedded as base64 data URIs (scrubbed as the picture
// they are, and re-encoded); comments, in anonymized packages.
//
// Kept: everything else, <title> and <desc> among it (accessibility).
//
// Refused (NotParsed): what encoding/xml cannot read (a document that is
// not well-formed, an encoding other than UTF-8 or ASCII, an unknown
// entity); entity declarations with markup or external entities (what
// they expand to would escape the scrubber); an embedded image that cannot
// be scrubbed; and, in anonymized packages, DOCTYPE declarations other
// than entities and images embedded other than as base64.

const (
	nsSVG   = "http://www.w3.org/2000/svg"
	nsXLink = "http://www.w3.org/1999/xlink"
	// maxEmbedded is the most base64 text of one embedded image read.
	maxEmbedded = 48 << 20
	// maxSVGDepth is how deep SVG documents embedded in SVG documents are
	// scrubbed.
	maxSVGDepth = 2
)

// editorNS is whether a namespace is an editor's private one.
func editorNS(ns string) bool {
	switch ns {
	case "http://www.inkscape.org/namespaces/inkscape",
		"http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
		"http://inkscape.sourceforge.net/DTD/sodipodi-0.dtd",
		"http://ns.adobe.com/AdobeIllustrator/10.0/",
		"http://ns.adobe.com/Extensibility/1.0/",
		"http://ns.adobe.com/Graphs/1.0/",
		"http://ns.adobe.com/AdobeSVGViewerExtensions/3.0/",
		"http://ns.adobe.com/Variables/1.0/",
		"http://ns.adobe.com/SaveForWeb/1.0/",
		"http://ns.adobe.com/ImageReplacement/1.0/",
		"http://ns.adobe.com/GenericCustomNamespace/1.0/",
		"http://ns.adobe.com/XPath/1.0/",
		"http://www.bohemiancoding.com/sketch/ns",
		"http://www.serif.com/",
		"http://www.figma.com/figma/ns",
		// Undeclared prefixes, as encoding/xml leaves them.
		"inkscape", "sodipodi", "sketch", "serif":
		return true
	}
	return false
}

// editorField names an editor attribute for the report.
func editorField(local string) string {
	switch local {
	case "docname":
		return fieldFileName
	case "absref", "docbase", "export-filename":
		return fieldFilePath
	case "version":
		return fieldSoftware
	}
	return fieldEditor
}

type svgScrub struct {
	ctx   context.Context
	src   hub.ScrubSource
	p     hub.ScrubPolicy
	rep   *hub.ScrubReport
	depth int // of this document among embedded SVG documents

	d    *xml.Decoder
	w    *bufio.Writer
	from int64 // the source is written up to here
}

func scrubSVG(ctx context.Context, dst io.Writer, src hub.ScrubSource, p hub.ScrubPolicy, rep *hub.ScrubReport) error {
	s := &svgScrub{ctx: ctx, src: src, p: p, rep: rep}
	return s.run(dst)
}

// ioError marks an error of the source, as opposed to one of the XML.
type ioError struct{ error }

func (e ioError) Unwrap() error { return e.error }

type ioTagReader struct{ r io.Reader }

func (t ioTagReader) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	if err != nil && err != io.EOF {
		err = ioError{err}
	}
	return n, err
}

func (s *svgScrub) run(dst io.Writer) error {
	s.rep.Format = "SVG"
	size := s.src.Size()
	s.d = xml.NewDecoder(bufio.NewReaderSize(ioTagReader{section(s.src)}, bufFor(size)))
	s.d.Strict = true
	s.d.Entity = map[string]string{}
	s.d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "us-ascii", "ascii":
			return in, nil
		}
		return nil, fmt.Errorf("the %q encoding (the hub reads UTF-8 and ASCII)", label)
	}
	s.w = newWriter(dst, size)
	depth, roots := 0, 0
	for {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		before := s.d.InputOffset()
		tok, err := s.d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return s.xmlError(err)
		}
		after := s.d.InputOffset()
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 || t.Name.Local != "svg" {
					return hub.NotParsed("SVG", "the root element is <%s>, not one <svg>", t.Name.Local)
				}
			}
			consumed, err := s.start(t, before, after)
			if err != nil {
				return err
			}
			if !consumed {
				depth++
			}
		case xml.EndElement:
			depth--
		case xml.Comment:
			if s.p.Anonymized {
				s.rep.Remove(fieldComment, "SVG comment")
				if err := s.edit(before, after, nil); err != nil {
					return err
				}
			} else {
				s.rep.Keep(fieldComment)
			}
		case xml.ProcInst:
			if t.Target != "xml" && localPath(string(t.Inst), true) {
				s.rep.Remove(fieldFilePath, "SVG processing instruction")
				if err := s.edit(before, after, nil); err != nil {
					return err
				}
			}
		case xml.Directive:
			if err := s.directive(t); err != nil {
				return err
			}
		case xml.CharData:
			if err := s.text(t, before, after); err != nil {
				return err
			}
		}
	}
	if roots == 0 {
		return hub.NotParsed("SVG", "no <svg> element")
	}
	if err := s.edit(size, size, nil); err != nil {
		return err
	}
	if err := s.w.Flush(); err != nil {
		return writeError("SVG", err)
	}
	return nil
}

// xmlError turns a decoder's error into the scrubber's.
func (s *svgScrub) xmlError(err error) error {
	var ioe ioError
	if errors.As(err, &ioe) {
		return fmt.Errorf("scrub SVG: reading: %w", ioe.error)
	}
	return hub.NotParsed("SVG", "%v", err)
}

// edit writes the source up to from, then repl in place of from..to.
func (s *svgScrub) edit(from, to int64, repl []byte) error {
	if from > s.from {
		if err := copyRange(s.w, s.src, s.from, from-s.from); err != nil {
			return readError("SVG", err, "the document")
		}
	}
	if _, err := s.w.Write(repl); err != nil {
		return writeError("SVG", err)
	}
	s.from = to
	return nil
}

// start decides on an element whose start tag is before..after; consumed
// is whether it read the element through its end.
func (s *svgScrub) start(t xml.StartElement, before, after int64) (consumed bool, err error) {
	switch {
	case editorNS(t.Name.Space):
		s.rep.Remove(fieldEditor, "SVG editor data")
		if err := s.d.Skip(); err != nil {
			return true, s.xmlError(err)
		}
		return true, s.edit(before, s.d.InputOffset(), nil)
	case isSVGMetadata(t.Name), is(t.Name, nsRDF, "RDF"), is(t.Name, nsX, "xmpmeta"):
		return true, s.metadata(t, before)
	}
	changes := map[int]*string{}
	for i, a := range t.Attr {
		switch {
		case isXMLNS(a):
		case editorNS(a.Name.Space):
			s.rep.Remove(editorField(a.Name.Local), "SVG editor data")
			changes[i] = nil
		case localPath(a.Value, a.Name.Local == "href" || a.Name.Local == "src" || is(a.Name, nsXML, "base")):
			s.rep.Remove(fieldFilePath, "SVG")
			changes[i] = nil
		case hasDataURI(a.Value):
			v, changed, err := s.dataURIs(a.Value)
			if err != nil {
				return false, err
			}
			if changed {
				changes[i] = &v
			}
		}
	}
	if len(changes) == 0 {
		return false, nil
	}
	if after-before > maxEmbedded*2 {
		return false, hub.NotParsed("SVG", "a start tag of %d bytes", after-before)
	}
	raw, err := readAt(s.src, before, int(after-before))
	if err != nil {
		return false, readError("SVG", err, "the start tag at byte %d", before)
	}
	tag, ok := rewriteTag(raw, len(t.Attr), changes)
	if !ok {
		return false, hub.NotParsed("SVG", "the start tag at byte %d does not read as encoding/xml read it", before)
	}
	return false, s.edit(before, after, tag)
}

func isSVGMetadata(n xml.Name) bool {
	return n.Local == "metadata" && (n.Space == nsSVG || n.Space == "")
}

// metadata reads a <metadata> element (or RDF/XMP outside one) whose start
// tag was just read, and replaces it when anything in it is to go.
func (s *svgScrub) metadata(t xml.StartElement, before int64) error {
	wrapper := isSVGMetadata(t.Name)
	sub := &subtree{d: s.d, wrapper: wrapper}
	if !wrapper {
		sub.first = xml.CopyToken(t)
	}
	scan := &rdfScan{next: sub.next, p: s.p}
	if err := scan.top(); err != nil {
		return s.xmlError(err)
	}
	if !sub.done {
		return hub.NotParsed("SVG", "the metadata at byte %d does not end", before)
	}
	end := s.d.InputOffset()
	scan.report(s.rep, "SVG metadata")
	if scan.clean() {
		return nil
	}
	var repl []byte
	if len(scan.props) > 0 {
		name := "metadata"
		if wrapper && t.Name.Space == nsSVG {
			// Written with the prefix it had, if it had one.
			if head, err := readAt(s.src, before, min(int(end-before), 64)); err == nil {
				if n := bytes.IndexAny(head, " \t\r\n/>"); n > 1 {
					name = string(head[1:n])
				}
			}
		}
		var b bytes.Buffer
		b.WriteString("<" + name + ">\n")
		writeRDF(&b, scan.props)
		b.WriteString("</" + name + ">")
		repl = b.Bytes()
	}
	return s.edit(before, end, repl)
}

// subtree gives an rdfScan the tokens of one element of the document: its
// content (wrapper: the start tag was read, the end tag is the last token),
// or the element itself (first is its start tag).
type subtree struct {
	d       *xml.Decoder
	first   xml.Token
	wrapper bool
	depth   int
	done    bool
}

func (t *subtree) next() (xml.Token, error) {
	if t.done {
		return nil, io.EOF
	}
	tok := t.first
	t.first = nil
	if tok == nil {
		var err error
		if tok, err = t.d.Token(); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		tok = xml.CopyToken(tok)
	}
	switch tok.(type) {
	case xml.StartElement:
		t.depth++
	case xml.EndElement:
		if t.depth == 0 {
			t.done = true // the wrapper's end
			return tok, nil
		}
		t.depth--
		if t.depth == 0 && !t.wrapper {
			t.done = true
		}
	}
	return tok, nil
}

// text decides on character data: only images embedded in it (CSS) change.
func (s *svgScrub) text(t xml.CharData, before, after int64) error {
	if !hasDataURI(string(t)) {
		return nil
	}
	v, changed, err := s.dataURIs(string(t))
	if err != nil || !changed {
		return err
	}
	head, err := readAt(s.src, before, min(int(after-before), 9))
	if err != nil {
		return readError("SVG", err, "the text at byte %d", before)
	}
	var b bytes.Buffer
	if string(head) == "<![CDATA[" && !strings.Contains(v, "]]>") {
		b.WriteString("<![CDATA[" + v + "]]>")
	} else {
		escape(&b, v)
	}
	return s.edit(before, after, b.Bytes())
}

// directive reads a DOCTYPE's internal subset: its entities are given to
// the decoder; what cannot be scrubbed safely is refused.
func (s *svgScrub) directive(d xml.Directive) error {
	if !bytes.HasPrefix(d, []byte("DOCTYPE")) {
		return nil
	}
	i := bytes.IndexByte(d, '[')
	if i < 0 {
		return nil
	}
	b := d[i+1:]
	for {
		b = bytes.TrimLeft(b, " \t\r\n")
		switch {
		case len(b) == 0 || b[0] == ']':
			return nil
		case bytes.HasPrefix(b, []byte("<!--")):
			end := bytes.Index(b, []byte("-->"))
			if end < 0 {
				return hub.NotParsed("SVG", "an unterminated comment in the DOCTYPE")
			}
			b = b[end+3:]
		case bytes.HasPrefix(b, []byte("<!ENTITY")):
			rest, err := s.entity(b[len("<!ENTITY"):])
			if err != nil {
				return err
			}
			b = rest
		case bytes.HasPrefix(b, []byte("<!")) || bytes.HasPrefix(b, []byte("<?")):
			if s.p.Anonymized {
				return hub.NotParsed("SVG", "a DOCTYPE declaring more than entities cannot be scrubbed safely")
			}
			end := declEnd(b)
			if end < 0 {
				return hub.NotParsed("SVG", "an unterminated declaration in the DOCTYPE")
			}
			b = b[end+1:]
		default:
			return hub.NotParsed("SVG", "a DOCTYPE with parameter entities or unknown content")
		}
	}
}

// declEnd finds the '>' ending a declaration, outside quotes.
func declEnd(b []byte) int {
	var q byte
	for i, c := range b {
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '>':
			return i
		}
	}
	return -1
}

// entity reads one entity declaration (after "<!ENTITY"), returning what
// follows it.
func (s *svgScrub) entity(b []byte) ([]byte, error) {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) > 0 && b[0] == '%' {
		return nil, hub.NotParsed("SVG", "a parameter entity in the DOCTYPE")
	}
	n := bytes.IndexAny(b, " \t\r\n")
	if n <= 0 {
		return nil, hub.NotParsed("SVG", "an entity declaration without a name")
	}
	name := string(b[:n])
	b = bytes.TrimLeft(b[n:], " \t\r\n")
	if len(b) == 0 || (b[0] != '"' && b[0] != '\'') {
		return nil, hub.NotParsed("SVG", "an external entity (%s) in the DOCTYPE", name)
	}
	end := bytes.IndexByte(b[1:], b[0])
	if end < 0 {
		return nil, hub.NotParsed("SVG", "an unterminated entity value (%s)", name)
	}
	value := b[1 : 1+end]
	if bytes.ContainsAny(value, "<&%") {
		return nil, hub.NotParsed("SVG", "the entity %s holds markup or references", name)
	}
	b = bytes.TrimLeft(b[2+end:], " \t\r\n")
	if len(b) == 0 || b[0] != '>' {
		return nil, hub.NotParsed("SVG", "the entity declaration %s does not end", name)
	}
	s.d.Entity[name] = string(value)
	return b[1:], nil
}

// localPath is whether a value names a file on someone's computer: a file:
// URL, or (in a link) a Windows path.
func localPath(v string, link bool) bool {
	v = strings.TrimSpace(v)
	if len(v) >= 5 && strings.EqualFold(v[:5], "file:") {
		return true
	}
	if !link {
		return false
	}
	return strings.HasPrefix(v, `\\`) ||
		(len(v) >= 3 && asciiLetter(v[0]) && v[1] == ':' && (v[2] == '\\' || v[2] == '/'))
}

func asciiLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// hasDataURI is whether s may hold a data URI.
func hasDataURI(s string) bool { return indexFold(s, "data:", 0) >= 0 }

// indexFold finds an ASCII word in s from i, ignoring case.
func indexFold(s, word string, i int) int {
	for ; i+len(word) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(word)], word) {
			return i
		}
	}
	return -1
}

// dataURIs scrubs the images embedded in v as base64 data URIs, and says
// whether any changed.
func (s *svgScrub) dataURIs(v string) (string, bool, error) {
	var out strings.Builder
	changed, last := false, 0
	for i := 0; ; {
		j := indexFold(v, "data:", i)
		if j < 0 {
			break
		}
		i = j + 5
		if j > 0 && (asciiLetter(v[j-1]) || v[j-1] >= '0' && v[j-1] <= '9') {
			continue // "metadata:", not a URI
		}
		comma := strings.IndexByte(v[i:], ',')
		if comma < 0 || comma > 256 {
			continue
		}
		params := strings.Split(strings.ToLower(v[i:i+comma]), ";")
		mediatype := strings.TrimSpace(params[0])
		if !strings.HasPrefix(mediatype, "image/") {
			continue
		}
		base64ed := false
		for _, x := range params[1:] {
			base64ed = base64ed || strings.TrimSpace(x) == "base64"
		}
		start := i + comma + 1
		if !base64ed {
			if s.p.Anonymized {
				return "", false, hub.NotParsed("SVG", "an image (%s) embedded other than as base64 cannot be scrubbed", mediatype)
			}
			i = start
			continue
		}
		k := start
		for k < len(v) && base64Char(v[k]) {
			k++
		}
		i = k
		if k-start > maxEmbedded {
			return "", false, hub.NotParsed("SVG", "an embedded image over %d bytes", maxEmbedded)
		}
		data, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, v[start:k]))
		if err != nil {
			return "", false, hub.NotParsed("SVG", "an embedded image (%s) that is not valid base64", mediatype)
		}
		clean, ok, err := s.embedded(mediatype, data)
		if err != nil {
			return "", false, err
		}
		if ok {
			out.WriteString(v[last:start])
			out.WriteString(base64.StdEncoding.EncodeToString(clean))
			last, changed = k, true
		}
	}
	if !changed {
		return v, false, nil
	}
	out.WriteString(v[last:])
	return out.String(), true, nil
}

func base64Char(c byte) bool {
	return asciiLetter(c) || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=' ||
		c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// embedded scrubs an embedded image, known by its first bytes (its label
// for SVG), and returns it when it changed.
func (s *svgScrub) embedded(mediatype string, data []byte) ([]byte, bool, error) {
	var scrub func(context.Context, io.Writer, hub.ScrubSource, hub.ScrubPolicy, *hub.ScrubReport) error
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8}):
		scrub = scrubJPEG
	case bytes.HasPrefix(data, []byte(pngSignature)):
		scrub = scrubPNG
	case bytes.HasPrefix(data, []byte("GIF8")):
		scrub = scrubGIF
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		scrub = scrubWebP
	case mediatype == "image/svg+xml" && s.depth+1 < maxSVGDepth:
		scrub = func(ctx context.Context, dst io.Writer, src hub.ScrubSource, p hub.ScrubPolicy, rep *hub.ScrubReport) error {
			return (&svgScrub{ctx: ctx, src: src, p: p, rep: rep, depth: s.depth + 1}).run(dst)
		}
	case s.p.Anonymized:
		return nil, false, hub.NotParsed("SVG", "an embedded %s image the hub cannot scrub", mediatype)
	default:
		return nil, false, nil // left as it is, outside anonymized packages
	}
	sub := &hub.ScrubReport{}
	var out bytes.Buffer
	if err := scrub(s.ctx, &out, memSource{bytes.NewReader(data)}, s.p, sub); err != nil {
		var np *hub.NotParsedError
		if errors.As(err, &np) {
			return nil, false, hub.NotParsed("SVG", "an embedded image: %s: %s", np.Format, np.Reason)
		}
		return nil, false, err
	}
	for _, r := range sub.Removed {
		s.rep.Remove(r.Field, "embedded "+sub.Format+": "+r.Where)
	}
	for _, k := range sub.Kept {
		s.rep.Keep(k)
	}
	if bytes.Equal(out.Bytes(), data) {
		return nil, false, nil
	}
	return out.Bytes(), true, nil
}

// rewriteTag writes a start tag again, attribute i dropped (changes[i]
// nil) or given a new value; the rest as it was. ok is false when the tag
// does not have n attributes as encoding/xml read them.
func rewriteTag(raw []byte, n int, changes map[int]*string) ([]byte, bool) {
	ws := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
	if len(raw) < 2 || raw[0] != '<' {
		return nil, false
	}
	i := 1
	for i < len(raw) && !ws(raw[i]) && raw[i] != '>' && raw[i] != '/' {
		i++
	}
	out := append([]byte(nil), raw[:i]...)
	attrs := 0
	for {
		for i < len(raw) && ws(raw[i]) {
			i++
		}
		if i >= len(raw) {
			return nil, false
		}
		if raw[i] == '>' || raw[i] == '/' {
			break
		}
		from := i
		for i < len(raw) && !ws(raw[i]) && raw[i] != '=' {
			i++
		}
		nameEnd := i
		for i < len(raw) && ws(raw[i]) {
			i++
		}
		if i >= len(raw) || raw[i] != '=' {
			return nil, false
		}
		i++
		for i < len(raw) && ws(raw[i]) {
			i++
		}
		if i >= len(raw) || (raw[i] != '"' && raw[i] != '\'') {
			return nil, false
		}
		q := raw[i]
		end := bytes.IndexByte(raw[i+1:], q)
		if end < 0 {
			return nil, false
		}
		i += end + 2
		change, has := changes[attrs]
		switch {
		case !has:
			out = append(out, ' ')
			out = append(out, raw[from:i]...)
		case change != nil:
			var b bytes.Buffer
			escape(&b, *change)
			out = append(out, ' ')
			out = append(out, raw[from:nameEnd]...)
			out = append(out, `="`...)
			out = append(out, b.Bytes()...)
			out = append(out, '"')
		}
		attrs++
	}
	tail := raw[i:]
	if attrs != n || (string(tail) != ">" && string(tail) != "/>") {
		return nil, false
	}
	return append(out, tail...), true
}
