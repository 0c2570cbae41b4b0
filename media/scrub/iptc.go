package scrub

import (
	"encoding/binary"
	"strings"
	"unicode/utf8"

	"github.com/syndication-hub/hub/hub"
)

// Photoshop image resources (JPEG APP13 "Photoshop 3.0") and the IPTC IIM
// record in them (resource 0x0404). Like XMP, a block is kept unchanged
// only when all it holds is kept: the IIM datasets for credit (2:110),
// source (2:115) and copyright (2:116) and, in packages that are not
// anonymized, by-line, dates, program, caption, headline, title; the
// copyright flag and URL resources; the IPTC digest. Otherwise it is
// dropped whole, and what it held that is kept is carried into the XMP
// packet the JPEG scrubber writes (IPTC's own mapping: 2:110 is
// photoshop:Credit, 2:116 dc:rights, 2:80 dc:creator...).

// iimClass says what an IIM dataset is, when it is kept, and the XMP
// property it maps to.
func iimClass(rec, ds byte) (field string, class keepClass, ns, local string) {
	if rec == 1 {
		switch ds {
		case 0, 90: // envelope record version, coded character set
			return "", keepAlways, "", ""
		}
		return fieldOther, removeAlways, "", ""
	}
	if rec != 2 {
		return fieldOther, removeAlways, "", ""
	}
	switch ds {
	case 0: // record version
		return "", keepAlways, "", ""
	case 110:
		return fieldCredit, keepAlways, nsPhotoshop, "Credit"
	case 115:
		return fieldCredit, keepAlways, nsPhotoshop, "Source"
	case 116:
		return fieldCopyright, keepAlways, nsDC, "rights"
	case 80:
		return fieldAuthor, keepUnlessAnonymized, nsDC, "creator"
	case 85:
		return fieldAuthor, keepUnlessAnonymized, nsPhotoshop, "AuthorsPosition"
	case 122:
		return fieldAuthor, keepUnlessAnonymized, nsPhotoshop, "CaptionWriter"
	case 55, 60:
		return fieldCreated, keepUnlessAnonymized, nsPhotoshop, "DateCreated"
	case 62, 63:
		return fieldCreated, keepUnlessAnonymized, nsXMP, "CreateDate"
	case 65:
		return fieldSoftware, keepUnlessAnonymized, nsXMP, "CreatorTool"
	case 70:
		return fieldSoftware, keepUnlessAnonymized, "", ""
	case 120:
		return fieldComment, keepUnlessAnonymized, nsDC, "description"
	case 105:
		return fieldComment, keepUnlessAnonymized, nsPhotoshop, "Headline"
	case 40:
		return fieldComment, keepUnlessAnonymized, nsPhotoshop, "Instructions"
	case 5:
		return fieldTitle, keepUnlessAnonymized, nsDC, "title"
	case 25:
		return fieldKeywords, removeAlways, "", ""
	case 26, 27, 90, 92, 95, 100, 101:
		return fieldLocation, removeAlways, "", ""
	case 118:
		return fieldContact, removeAlways, "", ""
	}
	return fieldOther, removeAlways, "", ""
}

// irbResult is what reading a Photoshop resource block found.
type irbResult struct {
	findings
	props []xmpProp // what is kept, for the XMP packet written instead
}

// analyzePhotoshop reads the resources after "Photoshop 3.0\0".
func analyzePhotoshop(b []byte, p hub.ScrubPolicy) irbResult {
	var r irbResult
	for len(b) > 0 {
		if len(b) < 12 {
			if allZero(b) {
				break
			}
			r.remove(fieldUnreadable)
			return r
		}
		switch string(b[:4]) {
		case "8BIM", "PHUT", "AgHg", "DCSR", "MeSa":
		default:
			r.remove(fieldUnreadable)
			return r
		}
		id := binary.BigEndian.Uint16(b[4:])
		nameLen := int(b[6])
		name := 1 + nameLen // the Pascal-string name, padded to even
		if name%2 == 1 {
			name++
		}
		if 6+name+4 > len(b) {
			r.remove(fieldUnreadable)
			return r
		}
		size := uint64(binary.BigEndian.Uint32(b[6+name:]))
		start := 6 + name + 4
		if size > uint64(len(b)-start) {
			r.remove(fieldUnreadable)
			return r
		}
		data := b[start : start+int(size)]
		next := start + int(size)
		if next%2 == 1 && next < len(b) {
			next++
		}
		b = b[next:]
		if nameLen > 0 {
			r.remove(fieldOther)
		}
		switch id {
		case 0x0404: // IPTC-NAA
			r.iim(data, p)
		case 0x0425: // IPTC digest: an MD5 of the IIM
		case 0x040A: // copyright flag
			if len(data) == 1 && data[0] <= 1 {
				r.keep(fieldUsage)
				r.props = append(r.props, xmpProp{ns: nsXMPRights, local: "Marked", val: simple(map[byte]string{0: "False", 1: "True"}[data[0]])})
			} else {
				r.remove(fieldOther)
			}
		case 0x040B: // copyright URL
			r.keep(fieldUsage)
			r.props = append(r.props, xmpProp{ns: nsXMPRights, local: "WebStatement", val: simple(iimText(data, true))})
		case 0x0409, 0x040C:
			r.remove(fieldThumbnail)
		case 0x0421: // version info: the writer's name
			r.remove(fieldSoftware)
		case 0x0422, 0x0423: // EXIF data
			e := scrubTIFF(data, hub.ScrubPolicy{Anonymized: true})
			for _, f := range append(e.removed, e.kept...) {
				r.remove(f)
			}
		case 0x0424: // XMP
			x := analyzeXMP(data, p)
			for _, f := range x.removed {
				r.remove(f)
			}
			r.remove(fieldDuplicate)
			for _, k := range x.kept {
				r.keep(k)
			}
			r.props, _ = mergeProps(r.props, x.props)
		default:
			r.remove(fieldOther)
		}
	}
	return r
}

// iim reads an IPTC IIM record.
func (r *irbResult) iim(d []byte, p hub.ScrubPolicy) {
	isUTF8 := false
	var props []xmpProp
	var date, tm, dDate, dTime string
	for len(d) > 0 {
		if d[0] != 0x1C {
			if allZero(d) {
				break
			}
			r.remove(fieldUnreadable)
			return
		}
		if len(d) < 5 {
			r.remove(fieldUnreadable)
			return
		}
		rec, ds := d[1], d[2]
		n := int(binary.BigEndian.Uint16(d[3:]))
		hdr := 5
		if n&0x8000 != 0 { // extended dataset: the length's length
			k := n & 0x7FFF
			if k == 0 || k > 4 || len(d) < 5+k {
				r.remove(fieldUnreadable)
				return
			}
			n = 0
			for _, c := range d[5 : 5+k] {
				n = n<<8 | int(c)
			}
			hdr += k
		}
		if n < 0 || n > len(d)-hdr {
			r.remove(fieldUnreadable)
			return
		}
		val := d[hdr : hdr+n]
		d = d[hdr+n:]
		if rec == 1 && ds == 90 {
			isUTF8 = string(val) == "\x1b%G"
		}
		field, class, ns, local := iimClass(rec, ds)
		if field == "" {
			continue
		}
		if !class.kept(p) || ns == "" {
			r.remove(field) // (a kept one with no XMP home could not be carried over)
			continue
		}
		r.keep(field)
		text := iimText(val, isUTF8)
		switch {
		case rec == 2 && ds == 55:
			date = text
		case rec == 2 && ds == 60:
			tm = text
		case rec == 2 && ds == 62:
			dDate = text
		case rec == 2 && ds == 63:
			dTime = text
		case rec == 2 && ds == 80:
			if len(props) > 0 && props[len(props)-1].ns == nsDC && props[len(props)-1].local == "creator" {
				last := &props[len(props)-1]
				last.val.items = append(last.val.items, xmpItem{text: text})
				continue
			}
			props = append(props, xmpProp{ns: ns, local: local, val: xmpValue{kind: 'q', items: []xmpItem{{text: text}}}})
		default:
			props, _ = mergeProps(props, []xmpProp{{ns: ns, local: local, val: simple(text)}})
		}
	}
	if date != "" {
		props = append(props, xmpProp{ns: nsPhotoshop, local: "DateCreated", val: simple(iimDate(date, tm))})
	}
	if dDate != "" {
		props = append(props, xmpProp{ns: nsXMP, local: "CreateDate", val: simple(iimDate(dDate, dTime))})
	}
	r.props, _ = mergeProps(r.props, props)
}

// iimText decodes an IIM value: UTF-8 when the record says so or the bytes
// are valid UTF-8, Latin-1 otherwise; control characters go.
func iimText(b []byte, isUTF8 bool) string {
	var s strings.Builder
	if isUTF8 || utf8.Valid(b) {
		for _, c := range string(b) {
			if c >= 0x20 || c == '\t' || c == '\n' {
				s.WriteRune(c)
			}
		}
		return s.String()
	}
	for _, c := range b {
		if c >= 0x20 || c == '\t' || c == '\n' {
			s.WriteRune(rune(c))
		}
	}
	return s.String()
}

// iimDate turns CCYYMMDD and HHMMSS±HHMM into XMP's date form, or leaves
// them as they were when they are not that.
func iimDate(date, tm string) string {
	if len(date) != 8 || !digits(date) {
		return strings.TrimSpace(date + " " + tm)
	}
	out := date[:4] + "-" + date[4:6] + "-" + date[6:]
	if len(tm) >= 6 && digits(tm[:6]) {
		out += "T" + tm[:2] + ":" + tm[2:4] + ":" + tm[4:6]
		if len(tm) == 11 && (tm[6] == '+' || tm[6] == '-') && digits(tm[7:]) {
			out += tm[6:9] + ":" + tm[9:]
		}
	}
	return out
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func simple(text string) xmpValue { return xmpValue{kind: 's', items: []xmpItem{{text: text}}} }

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
