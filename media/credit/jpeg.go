package credit

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"

	"github.com/syndication-hub/hub/hub"
)

// JPEG: the segments from SOI to the first SOS are looked at by their
// headers, and only the XMP APP1 and the Photoshop APP13 are read; the
// first XMP segment is replaced (any other standard XMP segment dropped:
// the fields must not appear twice), or a new one goes after the leading
// JFIF and EXIF segments, where readers look first. Everything from the
// first SOS on is copied as it is.

const (
	sigXMP = "http://ns.adobe.com/xap/1.0/\x00"
	// maxSegment is the most a segment's payload may hold.
	maxSegment = 65533
	// maxSegments bounds the segments before the first scan.
	maxSegments = 4096
)

// jpegSegment is one segment before the first scan, by its place.
type jpegSegment struct {
	start, end int64 // marker (and fill bytes) to the end of the payload
	marker     byte
	sig        string // "xmp", "exif", "photoshop" for the ones that matter
}

func planJPEG(ctx context.Context, src io.ReaderAt, size int64, v values) (layout, bool, error) {
	segs, err := jpegHeader(ctx, src, size)
	if err != nil {
		return nil, false, err
	}
	var l layout
	l.copy(0, 2)
	changed := false
	insertAt := 0 // the segment to put a new XMP segment before
	for i, s := range segs {
		if insertAt == i && (s.marker == 0xE0 || s.sig == "exif") {
			insertAt = i + 1
		}
	}
	xmpDone := false
	for i, s := range segs {
		if i == insertAt && !xmpDone && !hasXMP(segs) {
			l.add(jpegXMPSegment(newXMP(v)))
			changed, xmpDone = true, true
		}
		switch s.sig {
		case "xmp":
			if xmpDone {
				changed = true // a second packet: dropped
				continue
			}
			xmpDone = true
			payload, err := readAt(src, s.start+4, int(s.end-s.start-4), "JPEG")
			if err != nil {
				return nil, false, err
			}
			out, same := editXMP(payload[len(sigXMP):], v)
			if same {
				break
			}
			if len(sigXMP)+len(out) > maxSegment {
				out = newXMP(v) // the rest of the packet cannot come along
			}
			if len(sigXMP)+len(out) > maxSegment {
				return nil, false, hub.NotParsed("JPEG", "the credit, copyright notice and usage terms do not fit in one XMP segment")
			}
			l.add(jpegXMPSegment(out))
			changed = true
			continue
		case "photoshop":
			payload, err := readAt(src, s.start+4, int(s.end-s.start-4), "JPEG")
			if err != nil {
				return nil, false, err
			}
			out, same := editPhotoshop(payload[len(sigPhotoshop):], v)
			if !same && len(sigPhotoshop)+len(out) <= maxSegment {
				l.add(appSegment(0xED, sigPhotoshop, out))
				changed = true
				continue
			}
		}
		l.copy(s.start, s.end-s.start)
	}
	last := segs[len(segs)-1].end // the end of the first SOS header
	l.copy(last, size-last)
	return l, changed, nil
}

func hasXMP(segs []jpegSegment) bool {
	for _, s := range segs {
		if s.sig == "xmp" {
			return true
		}
	}
	return false
}

func jpegXMPSegment(packet []byte) []byte { return appSegment(0xE1, sigXMP, packet) }

// appSegment writes an APPn segment: marker, length, signature, data.
func appSegment(marker byte, sig string, data []byte) []byte {
	n := 2 + len(sig) + len(data)
	b := make([]byte, 0, 2+n)
	b = append(b, 0xFF, marker, byte(n>>8), byte(n))
	b = append(b, sig...)
	return append(b, data...)
}

// jpegHeader reads the segment headers from SOI to the first SOS (the
// last one returned).
func jpegHeader(ctx context.Context, src io.ReaderAt, size int64) ([]jpegSegment, error) {
	soi, err := readAt(src, 0, 2, "JPEG")
	if err != nil || soi[0] != 0xFF || soi[1] != 0xD8 {
		return nil, hub.NotParsed("JPEG", "no start-of-image marker")
	}
	var segs []jpegSegment
	for off := int64(2); ; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(segs) == maxSegments {
			return nil, hub.NotParsed("JPEG", "more than %d segments before the first scan", maxSegments)
		}
		start := off
		b, err := readAt(src, off, 1, "JPEG")
		if err != nil {
			return nil, err
		}
		if b[0] != 0xFF {
			return nil, hub.NotParsed("JPEG", "no marker at byte %d", start)
		}
		for b[0] == 0xFF { // fill bytes
			off++
			if b, err = readAt(src, off, 1, "JPEG"); err != nil {
				return nil, err
			}
		}
		m := b[0]
		off++
		switch {
		case m == 0x00 || m == 0x01 || m == 0xD8 || m == 0xD9 || (m >= 0xD0 && m <= 0xD7):
			return nil, hub.NotParsed("JPEG", "marker %#02x at byte %d before the first scan", m, start)
		}
		l, err := readAt(src, off, 2, "JPEG")
		if err != nil {
			return nil, err
		}
		n := int64(binary.BigEndian.Uint16(l))
		if n < 2 || off+n > size {
			return nil, hub.NotParsed("JPEG", "the segment at byte %d has length %d", start, n)
		}
		s := jpegSegment{start: start, end: off + n, marker: m}
		if m == 0xE1 || m == 0xED {
			head, err := readAt(src, off+2, int(min(n-2, 32)), "JPEG")
			if err != nil {
				return nil, err
			}
			switch {
			case m == 0xE1 && bytes.HasPrefix(head, []byte(sigXMP)):
				s.sig = "xmp"
			case m == 0xE1 && bytes.HasPrefix(head, []byte("Exif\x00")):
				s.sig = "exif"
			case m == 0xED && bytes.HasPrefix(head, []byte(sigPhotoshop)):
				s.sig = "photoshop"
			}
		}
		segs = append(segs, s)
		off = s.end
		if m == 0xDA {
			return segs, nil
		}
	}
}
