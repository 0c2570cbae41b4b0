package scrub

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/syndication-hub/hub/hub"
)

// XMP (JPEG APP1, PNG iTXt XML:com.adobe.xmp, WebP "XMP ", GIF "XMP
// DataXMP", and the RDF in an SVG's <metadata>). An XMP packet mixes what
// identifies (exif:GPSLatitude, aux:SerialNumber, xmpMM:History) with what
// must stay (dc:rights, photoshop:Credit, xmpRights:UsageTerms), and its
// RDF can say one thing many ways, so it is not edited: it is read, and if
// anything in it is to go, the whole packet is dropped and a minimal one
// written in its place with only the kept properties, in one canonical
// form (an rdf:Description with simple values, URIs, and Seq/Bag/Alt
// arrays of plain items). A kept property in a form the hub does not write
// (a structure, a qualified value) is removed, and reported as removed.

const (
	nsRDF       = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	nsX         = "adobe:ns:meta/"
	nsXML       = "http://www.w3.org/XML/1998/namespace"
	nsDC        = "http://purl.org/dc/elements/1.1/"
	nsXMP       = "http://ns.adobe.com/xap/1.0/"
	nsXMPRights = "http://ns.adobe.com/xap/1.0/rights/"
	nsXMPMM     = "http://ns.adobe.com/xap/1.0/mm/"
	nsXMPNote   = "http://ns.adobe.com/xmp/note/"
	nsPhotoshop = "http://ns.adobe.com/photoshop/1.0/"
	nsExif      = "http://ns.adobe.com/exif/1.0/"
	nsExifEX    = "http://cipa.jp/exif/1.0/"
	nsTIFF      = "http://ns.adobe.com/tiff/1.0/"
	nsAux       = "http://ns.adobe.com/exif/1.0/aux/"
	nsCRS       = "http://ns.adobe.com/camera-raw-settings/1.0/"
	nsPDF       = "http://ns.adobe.com/pdf/1.3/"
	nsIptcCore  = "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"
	nsIptcExt   = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
	nsCC        = "http://creativecommons.org/ns#"
	nsGImage    = "http://ns.google.com/photos/1.0/image/"
	nsGDepth    = "http://ns.google.com/photos/1.0/depthmap/"
	nsGContain  = "http://ns.google.com/photos/1.0/container/"
	nsGContItem = "http://ns.google.com/photos/1.0/container/item/"
)

// xmpClass says what an XMP property is and when it is kept.
func xmpClass(ns, local string) (string, keepClass) {
	switch ns {
	case nsDC:
		switch local {
		case "rights":
			return fieldCopyright, keepAlways
		case "creator":
			return fieldAuthor, keepUnlessAnonymized
		case "description":
			return fieldComment, keepUnlessAnonymized
		case "title":
			return fieldTitle, keepUnlessAnonymized
		case "date":
			return fieldCreated, keepUnlessAnonymized
		case "subject":
			return fieldKeywords, removeAlways
		}
	case nsPhotoshop:
		switch local {
		case "Credit", "Source":
			return fieldCredit, keepAlways
		case "AuthorsPosition", "CaptionWriter":
			return fieldAuthor, keepUnlessAnonymized
		case "DateCreated":
			return fieldCreated, keepUnlessAnonymized
		case "Headline", "Instructions":
			return fieldComment, keepUnlessAnonymized
		case "City", "State", "Country":
			return fieldLocation, removeAlways
		case "History", "DocumentAncestors":
			return fieldHistory, removeAlways
		}
	case nsXMPRights:
		switch local {
		case "UsageTerms", "WebStatement", "Marked", "Certificate":
			return fieldUsage, keepAlways
		case "Owner":
			return fieldCopyright, keepAlways
		}
	case nsCC:
		switch local {
		case "license":
			return fieldUsage, keepAlways
		case "attributionName":
			return fieldCredit, keepAlways
		}
	case nsXMP:
		switch local {
		case "CreateDate":
			return fieldCreated, keepUnlessAnonymized
		case "ModifyDate", "MetadataDate":
			return fieldModified, keepUnlessAnonymized
		case "CreatorTool":
			return fieldSoftware, keepUnlessAnonymized
		case "Thumbnails":
			return fieldThumbnail, removeAlways
		}
	case nsPDF:
		if local == "Producer" {
			return fieldSoftware, keepUnlessAnonymized
		}
	case nsTIFF:
		switch local {
		case "Orientation":
			return fieldOrientation, keepAlways
		case "Make", "Model":
			return fieldMakeModel, removeAlways
		case "Artist":
			return fieldAuthor, keepUnlessAnonymized
		case "DateTime":
			return fieldModified, keepUnlessAnonymized
		case "Software":
			return fieldSoftware, keepUnlessAnonymized
		case "ImageDescription":
			return fieldComment, keepUnlessAnonymized
		case "Copyright":
			return fieldCopyright, keepAlways
		}
		return fieldOtherEXIF, removeAlways
	case nsExif, nsExifEX, nsAux:
		switch {
		case strings.HasPrefix(local, "GPS"):
			return fieldGPS, removeAlways
		case local == "DateTimeOriginal" || local == "DateTimeDigitized":
			return fieldCreated, keepUnlessAnonymized
		case local == "UserComment":
			return fieldComment, keepUnlessAnonymized
		case local == "SerialNumber" || local == "BodySerialNumber":
			return fieldSerial, removeAlways
		case local == "LensSerialNumber":
			return fieldLensSerial, removeAlways
		case local == "OwnerName" || local == "CameraOwnerName":
			return fieldOwner, removeAlways
		case strings.HasPrefix(local, "Lens"):
			return fieldLens, removeAlways
		case local == "ImageUniqueID":
			return fieldUniqueID, removeAlways
		}
		return fieldOtherEXIF, removeAlways
	case nsIptcCore:
		switch local {
		case "Location", "CountryCode":
			return fieldLocation, removeAlways
		case "CreatorContactInfo":
			return fieldContact, removeAlways
		}
	case nsIptcExt:
		if strings.HasPrefix(local, "Location") || local == "City" || local == "ProvinceState" || strings.HasPrefix(local, "Country") {
			return fieldLocation, removeAlways
		}
	case nsXMPMM, nsCRS:
		return fieldHistory, removeAlways
	case nsXMPNote:
		return fieldExtendedXMP, removeAlways
	case nsGImage, nsGDepth:
		return fieldEmbedded, removeAlways
	case nsGContain, nsGContItem:
		return fieldTrailer, removeAlways
	}
	return fieldOther, removeAlways
}

// xmpPrefix is the prefix the hub writes a kept property's namespace with.
func xmpPrefix(ns string) string {
	switch ns {
	case nsDC:
		return "dc"
	case nsXMP:
		return "xmp"
	case nsXMPRights:
		return "xmpRights"
	case nsPhotoshop:
		return "photoshop"
	case nsTIFF:
		return "tiff"
	case nsExif:
		return "exif"
	case nsExifEX:
		return "exifEX"
	case nsAux:
		return "aux"
	case nsPDF:
		return "pdf"
	case nsCC:
		return "cc"
	}
	return ""
}

// xmpCanonical is the array kind the hub writes a property as (0: as read).
func xmpCanonical(ns, local string) byte {
	switch {
	case ns == nsDC && local == "creator":
		return 'q'
	case ns == nsDC && (local == "rights" || local == "description" || local == "title"),
		ns == nsXMPRights && local == "UsageTerms", ns == nsExif && local == "UserComment":
		return 'a'
	}
	return 0
}

// xmpItem is one value: the text of a simple property or an array item.
type xmpItem struct{ lang, text string }

// xmpValue is a property's value: kind 's' simple, 'u' URI, 'q' Seq,
// 'b' Bag, 'a' Alt.
type xmpValue struct {
	kind  byte
	items []xmpItem
}

// xmpProp is a kept property.
type xmpProp struct {
	ns, local string
	val       xmpValue
}

// xmpResult is what reading an XMP packet found.
type xmpResult struct {
	findings
	props []xmpProp // what is kept, in the order read
}

// errXMPEnd is XMP that ends inside an element.
var errXMPEnd = errors.New("XMP ends inside an element")

// xmpMaxDepth bounds the nesting the scan follows: real XMP nests a
// handful of levels, and a packet nested deeper is unreadable (removed
// whole) at once, instead of after a decoder has walked a hundred
// thousand levels of it.
const xmpMaxDepth = 256

// errXMPDeep is XMP nested deeper than xmpMaxDepth.
var errXMPDeep = errors.New("XMP nests too deep")

// is reports whether n is ns:local.
func is(n xml.Name, ns, local string) bool { return n.Space == ns && n.Local == local }

// analyzeXMP reads an XMP packet. A packet it cannot read is removed whole,
// nothing kept from it.
func analyzeXMP(packet []byte, p hub.ScrubPolicy) xmpResult {
	d := xml.NewDecoder(bytes.NewReader(packet))
	d.Strict = true
	s := &rdfScan{next: d.Token, p: p}
	if err := s.top(); err != nil {
		return xmpResult{findings: findings{removed: []string{fieldUnreadable}}}
	}
	return s.xmpResult
}

// rdfScan reads XMP/RDF from a token stream (an XMP packet's own decoder,
// or the part of an SVG document inside <metadata>).
type rdfScan struct {
	next func() (xml.Token, error)
	p    hub.ScrubPolicy
	xmpResult
}

func isXMLNS(a xml.Attr) bool {
	return a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns")
}

// top reads to the end of the stream (or of the element the stream is the
// content of).
func (s *rdfScan) top() error {
	for {
		tok, err := s.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := s.element(t, true); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		default:
			s.misc(t)
		}
	}
}

// misc notes what is neither an element nor white space: it goes.
func (s *rdfScan) misc(tok xml.Token) {
	switch t := tok.(type) {
	case xml.CharData:
		if !isSpace(t) {
			s.remove(fieldOther)
		}
	case xml.ProcInst:
		if t.Target != "xpacket" {
			s.remove(fieldOther)
		}
	case xml.Comment, xml.Directive:
		s.remove(fieldOther)
	}
}

// element reads an x:xmpmeta or rdf:RDF element (anything else goes).
func (s *rdfScan) element(t xml.StartElement, outer bool) error {
	switch {
	case outer && is(t.Name, nsX, "xmpmeta"):
		for _, a := range t.Attr {
			switch {
			case isXMLNS(a):
			case a.Name.Local == "xmptk" && (a.Name.Space == nsX || a.Name.Space == ""):
				// The XMP library's name: software, but not the user's.
				if s.p.Anonymized {
					s.remove(fieldSoftware)
				}
			default:
				s.remove(fieldOther)
			}
		}
		return s.each(func(c xml.StartElement) error { return s.element(c, false) })
	case is(t.Name, nsRDF, "RDF"):
		s.onlyXMLNS(t)
		return s.each(s.node)
	}
	s.remove(fieldOther)
	return s.skip()
}

// onlyXMLNS notes any attribute other than a namespace declaration.
func (s *rdfScan) onlyXMLNS(t xml.StartElement) {
	for _, a := range t.Attr {
		if !isXMLNS(a) {
			s.remove(fieldOther)
		}
	}
}

// each reads the content of the element just started to its end, calling
// elem for each child element (which reads it to its end).
func (s *rdfScan) each(elem func(xml.StartElement) error) error {
	for {
		tok, err := s.next()
		if err != nil {
			if err == io.EOF {
				return errXMPEnd
			}
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := elem(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		default:
			s.misc(t)
		}
	}
}

// skip reads the element just started to its end.
func (s *rdfScan) skip() error {
	for depth := 1; depth > 0; {
		tok, err := s.next()
		if err != nil {
			if err == io.EOF {
				return errXMPEnd
			}
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
			if depth > xmpMaxDepth {
				return errXMPDeep
			}
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// node reads a node element: an rdf:Description, or a typed node (whose
// type goes) and its properties.
func (s *rdfScan) node(t xml.StartElement) error {
	if !is(t.Name, nsRDF, "Description") {
		s.remove(fieldOther)
	}
	for _, a := range t.Attr {
		switch {
		case isXMLNS(a):
		case is(a.Name, nsRDF, "about"):
			if a.Value != "" {
				s.remove(fieldHistory) // a document ID
			}
		case a.Name.Space == nsRDF || a.Name.Space == nsXML:
			s.remove(fieldOther)
		default:
			s.property(a.Name, xmpValue{kind: 's', items: []xmpItem{{text: a.Value}}})
		}
	}
	return s.each(func(c xml.StartElement) error {
		v, ok, err := s.value(c, 0)
		if err != nil {
			return err
		}
		if !ok {
			field, _ := xmpClass(c.Name.Space, c.Name.Local)
			s.remove(field)
			return nil
		}
		s.property(c.Name, v)
		return nil
	})
}

// property notes a property read in a form the hub can write back.
func (s *rdfScan) property(name xml.Name, v xmpValue) {
	field, class := xmpClass(name.Space, name.Local)
	if name.Space == nsRDF || !class.kept(s.p) {
		s.remove(field)
		return
	}
	if field == fieldOrientation {
		if v.kind != 's' || len(v.items[0].text) != 1 || v.items[0].text[0] < '1' || v.items[0].text[0] > '8' {
			s.remove(fieldOtherEXIF)
			return
		}
	}
	for _, x := range s.props {
		if x.ns == name.Space && x.local == name.Local {
			s.remove(fieldDuplicate)
			return
		}
	}
	s.keep(field)
	s.props = append(s.props, xmpProp{ns: name.Space, local: name.Local, val: v})
}

// value reads a property element to its end; ok is false when its value is
// in a form the hub does not write back. depth > 0 for an array item or a
// structure's field, which may hold no element (so nesting stays bounded).
func (s *rdfScan) value(t xml.StartElement, depth int) (xmpValue, bool, error) {
	ok := true
	v := xmpValue{kind: 's'}
	lang := ""
	for _, a := range t.Attr {
		switch {
		case isXMLNS(a), is(a.Name, nsRDF, "datatype"):
		case is(a.Name, nsXML, "lang"):
			lang = a.Value
		case is(a.Name, nsRDF, "resource"):
			v.kind = 'u'
			v.items = []xmpItem{{text: a.Value}}
		default: // rdf:parseType, qualifiers, structures in attributes
			ok = false
		}
	}
	var text strings.Builder
	children := 0
	for {
		tok, err := s.next()
		if err != nil {
			if err == io.EOF {
				return v, false, errXMPEnd
			}
			return v, false, err
		}
		switch c := tok.(type) {
		case xml.CharData:
			text.Write(c)
		case xml.EndElement:
			switch {
			case !ok:
				return v, false, nil
			case children == 0 && v.kind == 'u':
				return v, isSpace([]byte(text.String())), nil
			case children == 0:
				v.items = []xmpItem{{lang: lang, text: text.String()}}
				return v, true, nil
			}
			return v, isSpace([]byte(text.String())), nil
		case xml.StartElement:
			children++
			if children > 1 || v.kind == 'u' || !ok || depth > 0 {
				ok = false
				if err := s.skip(); err != nil {
					return v, false, err
				}
				continue
			}
			switch c.Name.Local {
			case "Seq", "Bag", "Alt":
				if c.Name.Space != nsRDF {
					ok = false
					if err := s.skip(); err != nil {
						return v, false, err
					}
					continue
				}
				v.kind = map[string]byte{"Seq": 'q', "Bag": 'b', "Alt": 'a'}[c.Name.Local]
				items, good, err := s.array(c)
				if err != nil {
					return v, false, err
				}
				v.items, ok = items, ok && good
			default:
				// A structure: kept only as the one Inkscape writes for a
				// name (<cc:Agent><dc:title>name</dc:title></cc:Agent>).
				name, good, err := s.agent(c)
				if err != nil {
					return v, false, err
				}
				v.items, ok = []xmpItem{{text: name}}, ok && good
			}
		default:
			ok = false
		}
	}
}

// array reads an rdf:Seq, Bag or Alt of plain items.
func (s *rdfScan) array(t xml.StartElement) ([]xmpItem, bool, error) {
	ok := true
	for _, a := range t.Attr {
		if !isXMLNS(a) {
			ok = false
		}
	}
	var items []xmpItem
	err := s.each(func(li xml.StartElement) error {
		if !is(li.Name, nsRDF, "li") {
			ok = false
			return s.skip()
		}
		v, good, err := s.value(li, 1)
		if err != nil {
			return err
		}
		if !good || v.kind != 's' {
			ok = false
			return nil
		}
		items = append(items, v.items[0])
		return nil
	})
	return items, ok, err
}

// agent reads a structure holding only a dc:title, and returns the title.
func (s *rdfScan) agent(t xml.StartElement) (string, bool, error) {
	ok := is(t.Name, nsRDF, "Description") || is(t.Name, nsCC, "Agent")
	for _, a := range t.Attr {
		if !isXMLNS(a) && !(is(a.Name, nsRDF, "about") && a.Value == "") {
			ok = false
		}
	}
	var name string
	titles := 0
	err := s.each(func(c xml.StartElement) error {
		if !is(c.Name, nsDC, "title") {
			ok = false
			return s.skip()
		}
		titles++
		v, good, err := s.value(c, 1)
		if err != nil {
			return err
		}
		if !good || v.kind != 's' {
			ok = false
			return nil
		}
		name = v.items[0].text
		return nil
	})
	return name, ok && titles == 1, err
}

// mergeProps adds to props those of more whose names it lacks, and says
// whether it added any.
func mergeProps(props []xmpProp, more []xmpProp) ([]xmpProp, bool) {
	added := false
outer:
	for _, m := range more {
		for _, x := range props {
			if x.ns == m.ns && x.local == m.local {
				continue outer
			}
		}
		props = append(props, m)
		added = true
	}
	return props, added
}

// xmpPacket writes a minimal XMP packet holding props.
func xmpPacket(props []xmpProp) []byte {
	var b bytes.Buffer
	b.WriteString("<?xpacket begin=\"\ufeff\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n")
	b.WriteString("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n")
	writeRDF(&b, props)
	b.WriteString("</x:xmpmeta>\n<?xpacket end=\"w\"?>")
	return b.Bytes()
}

// writeRDF writes an rdf:RDF holding props.
func writeRDF(b *bytes.Buffer, props []xmpProp) {
	b.WriteString(`<rdf:RDF xmlns:rdf="` + nsRDF + `">` + "\n")
	b.WriteString(` <rdf:Description rdf:about=""`)
	var seen []string
	for _, p := range props {
		if !slices.Contains(seen, p.ns) {
			seen = append(seen, p.ns)
			b.WriteString("\n  xmlns:" + xmpPrefix(p.ns) + `="`)
			escape(b, p.ns)
			b.WriteString(`"`)
		}
	}
	b.WriteString(">\n")
	for _, p := range props {
		name := xmpPrefix(p.ns) + ":" + p.local
		kind := p.val.kind
		if c := xmpCanonical(p.ns, p.local); c != 0 && kind != 'u' {
			kind = c
		}
		switch kind {
		case 'u':
			b.WriteString("  <" + name + ` rdf:resource="`)
			escape(b, p.val.items[0].text)
			b.WriteString("\"/>\n")
		case 's':
			b.WriteString("  <" + name + ">")
			escape(b, p.val.items[0].text)
			b.WriteString("</" + name + ">\n")
		default:
			array := map[byte]string{'q': "rdf:Seq", 'b': "rdf:Bag", 'a': "rdf:Alt"}[kind]
			b.WriteString("  <" + name + ">\n   <" + array + ">\n")
			for _, it := range p.val.items {
				lang := it.lang
				if kind == 'a' && lang == "" {
					lang = "x-default"
				}
				b.WriteString("    <rdf:li")
				if lang != "" {
					b.WriteString(` xml:lang="`)
					escape(b, lang)
					b.WriteString(`"`)
				}
				b.WriteString(">")
				escape(b, it.text)
				b.WriteString("</rdf:li>\n")
			}
			b.WriteString("   </" + array + ">\n  </" + name + ">\n")
		}
	}
	b.WriteString(" </rdf:Description>\n</rdf:RDF>\n")
}

// escape writes s escaped for XML text and attribute values.
func escape(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s))
}
