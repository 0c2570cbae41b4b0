package credit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// XMP is edited as a token stream, not rebuilt: every property the packet
// holds besides the three stays as it was written (the scrubber decided
// on those already), the three are removed wherever they are (an element
// or an attribute of any top-level rdf:Description) and written once, at
// the start of the first one. A packet that cannot be read is replaced by
// one holding the three only.

const (
	nsRDF       = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	nsXML       = "http://www.w3.org/XML/1998/namespace"
	nsDC        = "http://purl.org/dc/elements/1.1/"
	nsPhotoshop = "http://ns.adobe.com/photoshop/1.0/"
	nsXMPRights = "http://ns.adobe.com/xap/1.0/rights/"
)

// xmpField is one property the writer sets.
type xmpField struct {
	ns, prefix, local string
	alt               bool // a language alternative (rdf:Alt, x-default)
}

// xmpFields are the three, in the order of values' fields.
var xmpFields = [3]xmpField{
	{nsPhotoshop, "photoshop", "Credit", false},
	{nsDC, "dc", "rights", true},
	{nsXMPRights, "xmpRights", "UsageTerms", true},
}

func (v values) list() [3]string { return [3]string{v.credit, v.rights, v.usage} }

func fieldIndex(ns, local string) int {
	for i, f := range xmpFields {
		if f.ns == ns && f.local == local {
			return i
		}
	}
	return -1
}

var errNoDescription = errors.New("XMP packet without an rdf:Description")

// editXMP returns packet with v written into it, and whether it held v
// already (then out is nil).
func editXMP(packet []byte, v values) (out []byte, same bool) {
	out, found, err := rewriteXMP(packet, v)
	if err != nil {
		return newXMP(v), false
	}
	want := v.list()
	for i, w := range want {
		if w != "" && (found[i] == nil || *found[i] != w) {
			return out, false
		}
	}
	return nil, true
}

// newXMP is a packet holding v only.
func newXMP(v values) []byte {
	var b bytes.Buffer
	b.WriteString("<?xpacket begin=\"\ufeff\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n")
	b.WriteString(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="` + nsRDF + `">` + "\n")
	b.WriteString(`<rdf:Description rdf:about="">`)
	writeFields(&b, v)
	b.WriteString("</rdf:Description>\n</rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>")
	return b.Bytes()
}

// writeFields writes v's non-empty fields as property elements, each
// declaring its own namespaces (its property's, and RDF's on its Alt) so
// it means the same whatever prefixes, or default namespace, the packet
// around it uses.
func writeFields(b *bytes.Buffer, v values) {
	for i, text := range v.list() {
		if text == "" {
			continue
		}
		f := xmpFields[i]
		name := f.prefix + ":" + f.local
		b.WriteString("\n <" + name + " xmlns:" + f.prefix + `="` + f.ns + `">`)
		if f.alt {
			b.WriteString(`<rdf:Alt xmlns:rdf="` + nsRDF + `"><rdf:li xml:lang="x-default">`)
			escapeText(b, text)
			b.WriteString("</rdf:li></rdf:Alt>")
		} else {
			escapeText(b, text)
		}
		b.WriteString("</" + name + ">")
	}
	b.WriteString("\n")
}

// rewriteXMP writes packet with the fields v sets removed and written
// anew, and returns what the packet held for each of the three.
func rewriteXMP(packet []byte, v values) ([]byte, [3]*string, error) {
	var found [3]*string
	want := v.list()
	d := xml.NewDecoder(bytes.NewReader(packet))
	d.Strict = true
	var b bytes.Buffer
	b.Grow(len(packet) + 512)
	type open struct {
		ns, local string
		scope     map[string]string // prefix -> namespace declared here
	}
	var stack []open
	resolve := func(prefix string, extra map[string]string) string {
		if prefix == "xml" {
			return nsXML
		}
		if ns, ok := extra[prefix]; ok {
			return ns
		}
		for i := len(stack) - 1; i >= 0; i-- {
			if ns, ok := stack[i].scope[prefix]; ok {
				return ns
			}
		}
		return ""
	}
	is := func(i int, ns, local string) bool {
		return i >= 0 && i < len(stack) && stack[i].ns == ns && stack[i].local == local
	}
	written := false
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, found, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var scope map[string]string // made only for declarations: packets nest deep
			for _, a := range t.Attr {
				prefix, ok := a.Name.Local, a.Name.Space == "xmlns"
				if a.Name.Space == "" && a.Name.Local == "xmlns" {
					prefix, ok = "", true
				}
				if ok {
					if scope == nil {
						scope = map[string]string{}
					}
					scope[prefix] = a.Value
				}
			}
			ns := resolve(t.Name.Space, scope)
			n := len(stack)
			topDescription := is(n-1, nsRDF, "RDF") && ns == nsRDF && t.Name.Local == "Description"
			if is(n-1, nsRDF, "Description") && is(n-2, nsRDF, "RDF") {
				if i := fieldIndex(ns, t.Name.Local); i >= 0 && want[i] != "" {
					text, err := propertyText(d)
					if err != nil {
						return nil, found, err
					}
					found[i] = &text
					continue
				}
			}
			attrs := t.Attr
			if topDescription {
				attrs = nil
				for _, a := range t.Attr {
					if a.Name.Space != "xmlns" && a.Name.Space != "" {
						if i := fieldIndex(resolve(a.Name.Space, scope), a.Name.Local); i >= 0 && want[i] != "" {
							text := a.Value
							found[i] = &text
							continue
						}
					}
					attrs = append(attrs, a)
				}
			}
			writeStart(&b, t.Name, attrs)
			stack = append(stack, open{ns: ns, local: t.Name.Local, scope: scope})
			if topDescription && !written {
				writeFields(&b, v)
				written = true
			}
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, found, errors.New("XMP end tag without a start")
			}
			stack = stack[:len(stack)-1]
			b.WriteString("</" + rawName(t.Name) + ">")
		case xml.CharData:
			escapeText(&b, string(t))
		case xml.Comment:
			b.WriteString("<!--" + string(t) + "-->")
		case xml.ProcInst:
			b.WriteString("<?" + t.Target)
			if len(t.Inst) > 0 {
				b.WriteString(" " + string(t.Inst))
			}
			b.WriteString("?>")
		case xml.Directive:
			b.WriteString("<!" + string(t) + ">")
		}
	}
	if !written || len(stack) > 0 {
		return nil, found, errNoDescription
	}
	return b.Bytes(), found, nil
}

// propertyText reads the property element just started to its end and
// returns its value: its text, or that of its x-default (else first)
// array item.
func propertyText(d *xml.Decoder) (string, error) {
	var text, first, def strings.Builder
	haveFirst, haveDef := false, false
	inItem, isDefault, items := false, false, 0
	for depth := 1; depth > 0; {
		tok, err := d.RawToken()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if t.Name.Local == "li" {
				inItem, isDefault = true, false
				items++
				for _, a := range t.Attr {
					if a.Name.Space == "xml" && a.Name.Local == "lang" && a.Value == "x-default" {
						isDefault = true
					}
				}
			}
		case xml.EndElement:
			depth--
			if t.Name.Local == "li" {
				inItem = false
				haveFirst = haveFirst || items == 1
				haveDef = haveDef || isDefault
			}
		case xml.CharData:
			switch {
			case inItem && isDefault && !haveDef:
				def.Write(t)
			case inItem && items == 1:
				first.Write(t)
			case !inItem && depth == 1:
				text.Write(t)
			}
		}
	}
	switch {
	case haveDef:
		return def.String(), nil
	case haveFirst:
		return first.String(), nil
	}
	return text.String(), nil
}

func rawName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func writeStart(b *bytes.Buffer, name xml.Name, attrs []xml.Attr) {
	b.WriteString("<" + rawName(name))
	for _, a := range attrs {
		b.WriteString(" " + rawName(a.Name) + `="`)
		escapeAttr(b, a.Value)
		b.WriteString(`"`)
	}
	b.WriteString(">")
}

// escapeText escapes XML character data, keeping line breaks and tabs as
// they are (encoding/xml writes them as character references).
func escapeText(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteRune(r)
		}
	}
}

// escapeAttr escapes an attribute value in double quotes; white space
// other than a space is a character reference, which attribute-value
// normalization would otherwise turn into spaces.
func escapeAttr(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '"':
			b.WriteString("&quot;")
		case '\t':
			b.WriteString("&#x9;")
		case '\n':
			b.WriteString("&#xA;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteRune(r)
		}
	}
}
