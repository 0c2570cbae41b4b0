package scrub

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/syndication-hub/hub/hub"
)

// JPEG, by segment surgery; the entropy-coded data is copied, never
// decoded.
//
// Removed: EXIF APP1 (replaced by a minimal EXIF, see exif.go), XMP APP1
// and extended XMP (replaced by a minimal packet, see xmp.go), APP13
// Photoshop/IPTC (carried into that packet, see iptc.go), APP11 (JUMBF:
// C2PA), APP3-APP10, APP12, APP15, any APP0/APP1/APP2/APP14 the hub does
// not know, the JFIF extension thumbnail (APP0 JFXX, and the thumbnail
// inside APP0 JFIF), APP2 MPF (the index of the secondary pictures), and
// everything after the first EOI (MPF secondary pictures, gain maps,
// vendor trailers: they carry their own EXIF and uncropped pictures).
// COM goes in anonymized packages.
//
// Kept: APP0 JFIF, APP2 ICC_PROFILE, APP14 Adobe (it says how to decode
// the colours), every table, frame and scan segment.
//
// The header (SOI to the first SOS) is read twice: once to decide (the
// kept IPTC values may have to go into the XMP packet, which may come
// before the IPTC block), once to write. Each segment is at most 64 KiB.
// Past the first SOS the file is streamed: entropy-coded data is copied up
// to the next marker (0xFF followed by neither 0x00, a stuffed byte, nor
// RSTn), and the segments between scans are handled as in the header
// (metadata there is dropped).

const (
	jpegSOI  = 0xD8
	jpegEOI  = 0xD9
	jpegSOS  = 0xDA
	jpegCOM  = 0xFE
	jpegAPP0 = 0xE0
	// maxJPEGSegments bounds the segments before the first scan (real
	// files have a few dozen).
	maxJPEGSegments = 4096
	// maxSegment is the most a segment's payload may hold.
	maxSegment = 65533
)

const (
	sigEXIF        = "Exif\x00"
	sigXMP         = "http://ns.adobe.com/xap/1.0/\x00"
	sigExtendedXMP = "http://ns.adobe.com/xmp/extension/\x00"
	sigPhotoshop   = "Photoshop 3.0\x00"
)

type segAction uint8

const (
	segCopy segAction = iota
	segDrop
	segReplace
)

// jpegSeg is one segment of the header.
type jpegSeg struct {
	start, end int64 // in the source: fill bytes, marker, length, payload
	marker     byte
	action     segAction
	repl       []byte // the segment to write instead (segReplace)
}

type jpegScrub struct {
	ctx context.Context
	src hub.ScrubSource
	p   hub.ScrubPolicy
	rep *hub.ScrubReport
	buf []byte // one segment's payload (see payload)

	exifSeen bool
	xmp      []jpegXMP // the standard XMP segments, in order
	iptc     []jpegIPTC
}

type jpegXMP struct {
	seg int
	res xmpResult
}

type jpegIPTC struct {
	seg int
	res irbResult
}

func scrubJPEG(ctx context.Context, dst io.Writer, src hub.ScrubSource, p hub.ScrubPolicy, rep *hub.ScrubReport) error {
	rep.Format = "JPEG"
	j := &jpegScrub{ctx: ctx, src: src, p: p, rep: rep}
	segs, err := j.header()
	if err != nil {
		return err
	}
	xmpAt, xmpSeg, err := j.planXMP(segs)
	if err != nil {
		return err
	}
	w := newWriter(dst, src.Size())
	w.Write([]byte{0xFF, jpegSOI})
	for i, s := range segs {
		if i == xmpAt {
			w.Write(xmpSeg)
		}
		switch s.action {
		case segCopy:
			if err := copyRange(w, src, s.start, s.end-s.start); err != nil {
				return readError("JPEG", err, "the segment at byte %d", s.start)
			}
		case segReplace:
			w.Write(s.repl)
		}
	}
	if err := j.body(w, segs[len(segs)-1].end); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return writeError("JPEG", err)
	}
	return nil
}

// header reads the segments from SOI to the first SOS and decides on each.
func (j *jpegScrub) header() ([]jpegSeg, error) {
	size := j.src.Size()
	r := newSeqReader(j.src, 0, size)
	var soi [2]byte
	if err := r.readFull(soi[:]); err != nil || soi != [2]byte{0xFF, jpegSOI} {
		return nil, hub.NotParsed("JPEG", "no start-of-image marker")
	}
	var segs []jpegSeg
	for {
		if err := j.ctx.Err(); err != nil {
			return nil, err
		}
		if len(segs) == maxJPEGSegments {
			return nil, hub.NotParsed("JPEG", "more than %d segments before the first scan", maxJPEGSegments)
		}
		start := r.off
		m, length, err := readMarker(r)
		if err != nil {
			return nil, err
		}
		switch {
		case m == jpegEOI:
			return nil, hub.NotParsed("JPEG", "end of image before the first scan")
		case length < 0:
			return nil, hub.NotParsed("JPEG", "marker %#02x at byte %d before the first scan", m, start)
		}
		seg := jpegSeg{start: start, marker: m, end: r.off + int64(length)}
		if seg.end > size {
			return nil, hub.NotParsed("JPEG", "truncated: the segment at byte %d runs past the end of the file", start)
		}
		if isMetadataMarker(m) {
			payload := j.payload(length)
			if err := r.readFull(payload); err != nil {
				return nil, readError("JPEG", err, "the segment at byte %d", start)
			}
			j.classify(&seg, len(segs), payload, true)
		} else if err := r.discard(int64(length)); err != nil {
			return nil, readError("JPEG", err, "the segment at byte %d", start)
		}
		segs = append(segs, seg)
		if m == jpegSOS {
			return segs, nil
		}
	}
}

// payload returns the buffer for a segment's payload of n bytes (at most
// maxSegment: a segment length is 16 bits).
func (j *jpegScrub) payload(n int) []byte {
	if cap(j.buf) < n {
		j.buf = make([]byte, n, max(n, min(2*cap(j.buf), maxSegment)))
	}
	return j.buf[:n]
}

// readMarker reads a marker, skipping fill bytes, and its length (the
// payload's, -1 for markers without one). A missing marker is NotParsed.
func readMarker(r *seqReader) (byte, int, error) {
	at := r.off
	b, err := r.ReadByte()
	if err != nil {
		return 0, 0, readError("JPEG", err, "a marker at byte %d", at)
	}
	if b != 0xFF {
		return 0, 0, hub.NotParsed("JPEG", "no marker at byte %d", at)
	}
	for b == 0xFF {
		if b, err = r.ReadByte(); err != nil {
			return 0, 0, readError("JPEG", err, "a marker at byte %d", at)
		}
	}
	switch {
	case b == 0x00:
		return 0, 0, hub.NotParsed("JPEG", "no marker at byte %d", at)
	case b == jpegSOI, b == jpegEOI, b == 0x01, b >= 0xD0 && b <= 0xD7:
		return b, -1, nil
	}
	var l [2]byte
	if err := r.readFull(l[:]); err != nil {
		return 0, 0, readError("JPEG", err, "the segment at byte %d", at)
	}
	n := int(binary.BigEndian.Uint16(l[:]))
	if n < 2 {
		return 0, 0, hub.NotParsed("JPEG", "segment length %d at byte %d", n, at)
	}
	return b, n - 2, nil
}

// isMetadataMarker is whether a marker's segment is read to decide on it.
func isMetadataMarker(m byte) bool { return (m >= jpegAPP0 && m <= 0xEF) || m == jpegCOM }

// dropAll reports a dropped block: what it held that is kept elsewhere is
// removed with it.
func dropAll(rep *hub.ScrubReport, f findings, where string) {
	for _, field := range f.removed {
		rep.Remove(field, where)
	}
	for _, field := range f.kept {
		rep.Remove(field, where)
	}
	if f.clean() && len(f.kept) == 0 {
		rep.Remove(fieldDuplicate, where)
	}
}

// classify decides on an APPn or COM segment and reports what it removes.
// In the header (inHeader), EXIF and XMP are replaced by minimal ones; past
// the first scan, where they do not belong, they are dropped.
func (j *jpegScrub) classify(seg *jpegSeg, index int, payload []byte, inHeader bool) {
	has := func(sig string) bool { return bytes.HasPrefix(payload, []byte(sig)) }
	drop := func(field, where string) {
		seg.action = segDrop
		j.rep.Remove(field, where)
	}
	app := fmt.Sprintf("APP%d", seg.marker-jpegAPP0)
	switch m := seg.marker; {
	case m == jpegCOM:
		if j.p.Anonymized {
			drop(fieldComment, "COM")
		} else {
			j.rep.Keep(fieldComment)
		}
	case m == jpegAPP0 && has("JFIF\x00"):
		// A JFIF thumbnail (rare) is width, height and RGB after the
		// 14-byte header: write the header with none.
		if len(payload) >= 14 && (payload[12] != 0 || payload[13] != 0 || len(payload) > 14) {
			repl := make([]byte, 0, 18)
			repl = append(repl, 0xFF, jpegAPP0, 0, 16)
			repl = append(repl, payload[:12]...)
			repl = append(repl, 0, 0)
			seg.action, seg.repl = segReplace, repl
			j.rep.Remove(fieldThumbnail, "JFIF")
		}
	case m == jpegAPP0 && has("JFXX\x00"):
		drop(fieldThumbnail, "JFIF extension")
	case m == 0xE1 && has(sigEXIF) && len(payload) >= 6:
		j.exif(seg, payload[6:], inHeader)
	case m == 0xE1 && has(sigXMP):
		res := analyzeXMP(payload[len(sigXMP):], j.p)
		seg.action = segDrop // unless planXMP keeps it
		if !inHeader {
			dropAll(j.rep, res.findings, "XMP")
			return
		}
		j.xmp = append(j.xmp, jpegXMP{seg: index, res: res})
		res.report(j.rep, "XMP")
	case m == 0xE1 && has(sigExtendedXMP):
		drop(fieldExtendedXMP, "XMP")
	case m == 0xE2 && has("ICC_PROFILE\x00"):
		j.rep.Keep(fieldICC)
	case m == 0xE2 && has("MPF\x00"):
		drop(fieldTrailer, "MPF")
	case m == 0xEB && (bytes.Contains(payload, []byte("jumb")) || bytes.Contains(payload, []byte("c2pa"))):
		drop(fieldC2PA, app+" (JUMBF)")
	case m == 0xED && has(sigPhotoshop):
		res := analyzePhotoshop(payload[len(sigPhotoshop):], j.p)
		if res.clean() && inHeader {
			for _, k := range res.kept {
				j.rep.Keep(k)
			}
			return
		}
		seg.action = segDrop
		if !inHeader {
			dropAll(j.rep, res.findings, "IPTC")
			return
		}
		j.iptc = append(j.iptc, jpegIPTC{seg: index, res: res})
		res.report(j.rep, "IPTC")
	case m == 0xEE && has("Adobe"):
	default:
		drop(fieldOther, app)
	}
}

// exif decides on an EXIF segment: the first in the header is replaced by
// a minimal one, any other dropped.
func (j *jpegScrub) exif(seg *jpegSeg, tiff []byte, inHeader bool) {
	if j.exifSeen || !inHeader {
		seg.action = segDrop
		dropAll(j.rep, scrubTIFF(tiff, j.p).findings, "EXIF")
		return
	}
	j.exifSeen = true
	e := scrubTIFF(tiff, j.p)
	e.report(j.rep, "EXIF")
	switch {
	case e.clean():
	case e.out == nil || len(e.out)+6 > maxSegment:
		seg.action = segDrop
	default:
		seg.action, seg.repl = segReplace, appSegment(0xE1, sigEXIF+"\x00", e.out)
	}
}

// appSegment writes an APPn segment: marker, length, signature, data.
func appSegment(marker byte, sig string, data []byte) []byte {
	n := 2 + len(sig) + len(data)
	b := make([]byte, 0, 2+n)
	b = append(b, 0xFF, marker, byte(n>>8), byte(n))
	b = append(b, sig...)
	return append(b, data...)
}

// planXMP decides on the XMP: the one standard XMP segment is kept when it
// is clean and the dropped IPTC blocks bring nothing it lacks; otherwise a
// minimal packet with everything kept from the XMP and IPTC blocks is
// written where the first XMP (or, lacking one, the first dropped IPTC
// block) was. It returns the index of the segment to write it before, and
// the segment.
func (j *jpegScrub) planXMP(segs []jpegSeg) (int, []byte, error) {
	var props []xmpProp
	for _, x := range j.xmp {
		props, _ = mergeProps(props, x.res.props)
	}
	added := false
	for _, x := range j.iptc {
		var more bool
		props, more = mergeProps(props, x.res.props)
		added = added || more
	}
	if len(j.xmp) > 1 {
		j.rep.Remove(fieldDuplicate, "XMP")
	}
	if len(j.xmp) == 1 && j.xmp[0].res.clean() && !added {
		segs[j.xmp[0].seg].action = segCopy
		return -1, nil, nil
	}
	if len(props) == 0 {
		return -1, nil, nil
	}
	at := -1
	switch {
	case len(j.xmp) > 0:
		at = j.xmp[0].seg
	case len(j.iptc) > 0:
		at = j.iptc[0].seg
	}
	packet := xmpPacket(props)
	if len(sigXMP)+len(packet) > maxSegment {
		// Only credit, rights and usage terms, then.
		var kept []xmpProp
		for _, p := range props {
			if _, class := xmpClass(p.ns, p.local); class == keepAlways {
				kept = append(kept, p)
			}
		}
		packet = xmpPacket(kept)
		if len(sigXMP)+len(packet) > maxSegment {
			return 0, nil, hub.NotParsed("JPEG", "the credit and rights to keep do not fit in one XMP segment")
		}
	}
	return at, appSegment(0xE1, sigXMP, packet), nil
}

// body streams from the end of the first SOS to the first EOI: scans are
// copied up to their next marker, the segments between them decided on as
// in the header; anything after EOI is dropped.
func (j *jpegScrub) body(w *bufio.Writer, off int64) error {
	size := j.src.Size()
	r := bufio.NewReaderSize(io.NewSectionReader(j.src, off, size-off), bufFor(size-off))
	pos := off // of the next byte r gives
	for {
		if err := j.ctx.Err(); err != nil {
			return err
		}
		if _, err := r.Peek(2); err != nil {
			return readError("JPEG", err, "entropy-coded data (no end-of-image marker)")
		}
		// Copy what is buffered up to the first marker: 0xFF followed by
		// 0x00 (a stuffed byte), RSTn or another 0xFF (a fill byte) is
		// data. A 0xFF last in the buffer waits for the next round.
		chunk, _ := r.Peek(r.Buffered())
		i, marker := 0, false
		for {
			k := bytes.IndexByte(chunk[i:], 0xFF)
			if k < 0 {
				i = len(chunk)
				break
			}
			i += k
			if i+1 == len(chunk) {
				break
			}
			if m := chunk[i+1]; m == 0x00 || m == 0xFF || (m >= 0xD0 && m <= 0xD7) {
				i++
				continue
			}
			marker = true
			break
		}
		if _, err := w.Write(chunk[:i]); err != nil {
			return writeError("JPEG", err)
		}
		r.Discard(i)
		pos += int64(i)
		if !marker {
			continue
		}
		two, err := r.Peek(2)
		if err != nil {
			return readError("JPEG", err, "entropy-coded data (no end-of-image marker)")
		}
		switch m := two[1]; {
		case m == jpegEOI:
			w.Write(two)
			r.Discard(2)
			if _, err := r.Peek(1); err == nil {
				j.rep.Remove(fieldTrailer, "after the end of the picture")
			}
			return nil
		case m == jpegSOI || m == 0x01:
			return hub.NotParsed("JPEG", "marker %#02x at byte %d", m, pos)
		}
		// A segment between scans.
		head, err := r.Peek(4)
		if err != nil {
			return readError("JPEG", err, "the segment at byte %d", pos)
		}
		length := int(binary.BigEndian.Uint16(head[2:]))
		if length < 2 {
			return hub.NotParsed("JPEG", "segment length %d at byte %d", length, pos)
		}
		if pos+2+int64(length) > size {
			return hub.NotParsed("JPEG", "truncated: the segment at byte %d runs past the end of the file", pos)
		}
		seg := jpegSeg{start: pos, marker: head[1], end: pos + 2 + int64(length)}
		if !isMetadataMarker(seg.marker) {
			if _, err := io.CopyN(tagWriter{w}, r, seg.end-seg.start); err != nil {
				return readError("JPEG", err, "the segment at byte %d", pos)
			}
			pos = seg.end
			continue
		}
		payload := j.payload(length - 2)
		r.Discard(4)
		if _, err := io.ReadFull(r, payload); err != nil {
			return readError("JPEG", err, "the segment at byte %d", pos)
		}
		j.classify(&seg, -1, payload, false)
		switch seg.action {
		case segCopy:
			w.Write([]byte{0xFF, seg.marker, byte(length >> 8), byte(length)})
			w.Write(payload)
		case segReplace:
			w.Write(seg.repl)
		}
		pos = seg.end
	}
}
