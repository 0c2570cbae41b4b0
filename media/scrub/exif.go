package scrub

import (
	"encoding/binary"
	"slices"

	"github.com/syndication-hub/hub/hub"
)

// EXIF (a TIFF structure: JPEG APP1 after "Exif\0\0", PNG eXIf, WebP
// EXIF). It is never edited in place: the block is read, and when anything
// in it is to go, it is replaced by a minimal TIFF the hub writes itself,
// in the source's byte order, holding only IFD0's Orientation (when it is
// not 1) and Copyright and, in packages that are not anonymized, the
// author, dates, software and comments (IFD0, and an Exif IFD for the
// dates). No GPS IFD, no Interop IFD, no IFD1 (the thumbnail), no maker
// note. The kept values are copied raw, so no value is converted.
//
// A block is copied unchanged only if everything in it is kept and every
// byte of it is accounted for by the structure (header, IFDs and the
// values they point to, with zero padding between): data left behind by an
// editor that dropped a pointer and not what it pointed to is removed.

const (
	tagOrientation = 0x0112
	tagExifIFD     = 0x8769
	tagGPSIFD      = 0x8825
	tagInteropIFD  = 0xA005
	tagSubIFDs     = 0x014A
)

// tiffEntry is one IFD entry, its value raw.
type tiffEntry struct {
	tag, typ uint16
	count    uint32
	value    []byte // nil: a type of unknown size, or a value out of bounds
	span     [2]int // where an out-of-line value is; {0, 0} when inline
}

// exifScrub is what scrubTIFF decided.
type exifScrub struct {
	findings
	// out is the TIFF to write instead, when the block is not clean; nil
	// when nothing is kept (write no EXIF at all).
	out []byte
}

// exifTag says what an EXIF tag is and when it is kept. exif is whether
// the tag is in the Exif IFD (not IFD0).
func exifTag(exif bool, tag uint16) (string, keepClass) {
	switch tag {
	case 0x010F, 0x0110: // Make, Model
		return fieldMakeModel, removeAlways
	case 0x013C: // HostComputer
		return fieldComputer, removeAlways
	case 0xC62F, 0xA431: // CameraSerialNumber (DNG), BodySerialNumber
		return fieldSerial, removeAlways
	case 0xA435: // LensSerialNumber
		return fieldLensSerial, removeAlways
	case 0xA433, 0xA434: // LensMake, LensModel
		return fieldLens, removeAlways
	case 0xA430: // CameraOwnerName
		return fieldOwner, removeAlways
	case 0xA420: // ImageUniqueID
		return fieldUniqueID, removeAlways
	case 0x927C, 0xC4A5: // MakerNote, PrintIM
		return fieldMakerNotes, removeAlways
	case 0x9C9E: // XPKeywords
		return fieldKeywords, removeAlways
	case 0x013B, 0x9C9D: // Artist, XPAuthor
		return fieldAuthor, keepUnlessAnonymized
	case 0x0132: // DateTime
		return fieldModified, keepUnlessAnonymized
	case 0x9003, 0x9004, 0x9010, 0x9011, 0x9012, 0x9290, 0x9291, 0x9292:
		// DateTimeOriginal, DateTimeDigitized, OffsetTime*, SubSecTime*
		return fieldCreated, keepUnlessAnonymized
	case 0x0131: // Software
		return fieldSoftware, keepUnlessAnonymized
	case 0x010E, 0x9286, 0x9C9C, 0x9C9F: // ImageDescription, UserComment, XPComment, XPSubject
		return fieldComment, keepUnlessAnonymized
	case 0x9C9B: // XPTitle
		return fieldTitle, keepUnlessAnonymized
	case 0x8298: // Copyright
		if !exif {
			return fieldCopyright, keepAlways
		}
	case tagOrientation:
		if !exif {
			return fieldOrientation, keepAlways
		}
	}
	return fieldOtherEXIF, removeAlways
}

// scrubTIFF reads a TIFF-structured EXIF block and decides what to write.
func scrubTIFF(b []byte, p hub.ScrubPolicy) exifScrub {
	var s exifScrub
	bo, ifd0Off, ok := tiffHeader(b)
	if !ok {
		s.remove(fieldUnreadable)
		return s
	}
	spans := [][2]int{{0, 8}}
	ifd0, next, span, ok := readIFD(b, bo, ifd0Off)
	if !ok {
		s.remove(fieldUnreadable)
		return s
	}
	spans = append(spans, span)
	var keep0, keepExif []tiffEntry
	// entry classifies one entry, appending it to *keep when it stays.
	entry := func(e tiffEntry, exif bool, keep *[]tiffEntry) {
		field, class := exifTag(exif, e.tag)
		if e.value == nil {
			s.remove(field)
			return
		}
		if e.tag == tagOrientation && !exif {
			if e.typ != 3 || e.count != 1 {
				s.remove(fieldOtherEXIF)
				return
			}
			switch v := bo.Uint16(e.value); {
			case v == 1: // the default: not kept, not removed
				spans = append(spans, e.span)
				return
			case v < 1 || v > 8:
				s.remove(fieldOtherEXIF)
				return
			}
		}
		if !class.kept(p) {
			s.remove(field)
			return
		}
		s.keep(field)
		spans = append(spans, e.span)
		*keep = append(*keep, e)
	}
	for _, e := range ifd0 {
		switch e.tag {
		case tagExifIFD:
			off, ok := e.pointer(bo)
			if !ok {
				s.remove(fieldUnreadable)
				continue
			}
			entries, _, span, ok := readIFD(b, bo, off)
			if !ok {
				s.remove(fieldUnreadable)
				continue
			}
			spans = append(spans, span)
			for _, x := range entries {
				switch x.tag {
				case tagGPSIFD:
					s.remove(fieldGPS)
				case tagExifIFD, tagInteropIFD:
					s.remove(fieldOtherEXIF)
				default:
					entry(x, true, &keepExif)
				}
			}
		case tagGPSIFD:
			s.remove(fieldGPS)
		case tagSubIFDs, 0x0201, 0x0202: // SubIFDs (previews), JPEGInterchangeFormat(Length)
			s.remove(fieldThumbnail)
		case tagInteropIFD:
			s.remove(fieldOtherEXIF)
		default:
			entry(e, false, &keep0)
		}
	}
	if next != 0 {
		s.remove(fieldThumbnail) // IFD1
	}
	if s.clean() && !accounted(b, spans) {
		s.remove(fieldOtherEXIF)
	}
	if !s.clean() && len(keep0)+len(keepExif) > 0 {
		s.out = buildTIFF(bo, keep0, keepExif)
	}
	return s
}

// tiffHeader reads the byte order and the offset of IFD0.
func tiffHeader(b []byte) (binary.ByteOrder, uint32, bool) {
	if len(b) < 8 {
		return nil, 0, false
	}
	var bo binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return nil, 0, false
	}
	return bo, bo.Uint32(b[4:]), true
}

func tiffTypeSize(t uint16) int {
	switch t {
	case 1, 2, 6, 7: // BYTE, ASCII, SBYTE, UNDEFINED
		return 1
	case 3, 8: // SHORT, SSHORT
		return 2
	case 4, 9, 11, 13: // LONG, SLONG, FLOAT, IFD
		return 4
	case 5, 10, 12: // RATIONAL, SRATIONAL, DOUBLE
		return 8
	}
	return 0
}

// readIFD reads the IFD at off: its entries, the offset of the next IFD
// and the bytes the IFD itself takes. Every length is checked against b.
func readIFD(b []byte, bo binary.ByteOrder, off uint32) ([]tiffEntry, uint32, [2]int, bool) {
	if off < 8 || uint64(off)+2 > uint64(len(b)) {
		return nil, 0, [2]int{}, false
	}
	start := int(off)
	n := int(bo.Uint16(b[start:]))
	end := start + 2 + 12*n + 4
	if end > len(b) {
		return nil, 0, [2]int{}, false
	}
	entries := make([]tiffEntry, 0, n)
	for i := range n {
		raw := b[start+2+12*i : start+2+12*i+12]
		e := tiffEntry{tag: bo.Uint16(raw), typ: bo.Uint16(raw[2:]), count: bo.Uint32(raw[4:])}
		size := uint64(tiffTypeSize(e.typ)) * uint64(e.count)
		switch {
		case size == 0 && tiffTypeSize(e.typ) == 0:
			// unknown type: its size cannot be known
		case size <= 4:
			e.value = raw[8 : 8+size]
		default:
			voff := uint64(bo.Uint32(raw[8:]))
			if voff+size <= uint64(len(b)) {
				e.value = b[voff : voff+size]
				e.span = [2]int{int(voff), int(voff + size)}
			}
		}
		entries = append(entries, e)
	}
	return entries, bo.Uint32(b[end-4:]), [2]int{start, end}, true
}

// pointer reads an entry that points to an IFD.
func (e tiffEntry) pointer(bo binary.ByteOrder) (uint32, bool) {
	if (e.typ != 4 && e.typ != 13) || e.count != 1 || len(e.value) != 4 {
		return 0, false
	}
	return bo.Uint32(e.value), true
}

// accounted reports whether every byte of b outside spans is zero.
func accounted(b []byte, spans [][2]int) bool {
	slices.SortFunc(spans, func(x, y [2]int) int { return x[0] - y[0] })
	at := 0
	zero := func(from, to int) bool {
		for _, c := range b[from:to] {
			if c != 0 {
				return false
			}
		}
		return true
	}
	for _, s := range spans {
		if s[0] > at {
			if !zero(at, s[0]) {
				return false
			}
		}
		at = max(at, s[1])
	}
	return zero(min(at, len(b)), len(b))
}

// buildTIFF writes a TIFF holding the given IFD0 and Exif IFD entries,
// values word-aligned after each IFD, no next IFD.
func buildTIFF(bo binary.ByteOrder, ifd0, exif []tiffEntry) []byte {
	out := make([]byte, 8, 512)
	if bo == binary.LittleEndian {
		copy(out, "II*\x00")
	} else {
		copy(out, "MM\x00*")
	}
	bo.PutUint32(out[4:], 8)
	ifd0 = slices.Clone(ifd0)
	if len(exif) > 0 {
		ifd0 = append(ifd0, tiffEntry{tag: tagExifIFD, typ: 4, count: 1, value: make([]byte, 4)})
	}
	ptr := appendIFD(&out, bo, ifd0)
	if len(exif) > 0 {
		if len(out)%2 == 1 {
			out = append(out, 0)
		}
		bo.PutUint32(out[ptr:], uint32(len(out)))
		appendIFD(&out, bo, slices.Clone(exif))
	}
	return out
}

// appendIFD appends an IFD and its values, returning where the Exif IFD
// pointer's value is (0 when there is none).
func appendIFD(out *[]byte, bo binary.ByteOrder, entries []tiffEntry) int {
	slices.SortStableFunc(entries, func(x, y tiffEntry) int { return int(x.tag) - int(y.tag) })
	b := *out
	start := len(b)
	b = append(b, make([]byte, 2+12*len(entries)+4)...)
	bo.PutUint16(b[start:], uint16(len(entries)))
	ptr := 0
	for i, e := range entries {
		at := start + 2 + 12*i
		bo.PutUint16(b[at:], e.tag)
		bo.PutUint16(b[at+2:], e.typ)
		bo.PutUint32(b[at+4:], e.count)
		switch {
		case e.tag == tagExifIFD:
			ptr = at + 8
		case len(e.value) <= 4:
			copy(b[at+8:at+12], e.value)
		default:
			if len(b)%2 == 1 {
				b = append(b, 0)
			}
			bo.PutUint32(b[at+8:], uint32(len(b)))
			b = append(b, e.value...)
		}
	}
	*out = b
	return ptr
}
