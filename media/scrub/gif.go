package scrub

import (
	"bufio"
	"bytes"
	"context"
	"io"

	"github.com/syndication-hub/hub/hub"
)

// GIF, by block surgery, streamed: image data is copied sub-block by
// sub-block, never decoded.
//
// Removed: comment extensions in anonymized packages; application
// extensions other than NETSCAPE2.0 and ANIMEXTS1.0 (looping) and
// ICCRGBG1012 (the ICC profile), among them "XMP DataXMP" (replaced by a
// minimal packet, see xmp.go) and ImageMagick's IPTC and 8BIM profiles;
// unknown extensions; anything after the trailer.
//
// Kept: the header, colour tables, images, graphic control and plain text
// extensions (plain text is drawn).

// gifXMPTrailer is the 257 bytes that follow an XMP packet in a GIF (the
// "magic trailer": 0x01, 0xFF down to 0x00), so that a decoder reading the
// packet as sub-blocks lands on the block terminator.
func gifXMPTrailer() []byte {
	t := make([]byte, 0, 257)
	t = append(t, 0x01)
	for i := 255; i >= 0; i-- {
		t = append(t, byte(i))
	}
	return t
}

func scrubGIF(ctx context.Context, dst io.Writer, src hub.ScrubSource, p hub.ScrubPolicy, rep *hub.ScrubReport) error {
	rep.Format = "GIF"
	size := src.Size()
	r := newSeqReader(src, 0, size)
	w := newWriter(dst, src.Size())
	var head [13]byte
	if err := r.readFull(head[:]); err != nil || (string(head[:6]) != "GIF87a" && string(head[:6]) != "GIF89a") {
		return hub.NotParsed("GIF", "no GIF header")
	}
	w.Write(head[:])
	if head[10]&0x80 != 0 { // the global colour table
		if err := r.copyN(w, 3<<(head[10]&7+1)); err != nil {
			return readError("GIF", err, "the global colour table")
		}
	}
	xmpSeen := false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		at := r.off
		b, err := r.ReadByte()
		if err != nil {
			return readError("GIF", err, "a block at byte %d (no trailer)", at)
		}
		switch b {
		case 0x2C: // image descriptor
			var d [9]byte
			if err := r.readFull(d[:]); err != nil {
				return readError("GIF", err, "the image at byte %d", at)
			}
			w.WriteByte(b)
			w.Write(d[:])
			if d[8]&0x80 != 0 {
				if err := r.copyN(w, 3<<(d[8]&7+1)); err != nil {
					return readError("GIF", err, "the local colour table at byte %d", at)
				}
			}
			if err := r.copyN(w, 1); err != nil { // LZW minimum code size
				return readError("GIF", err, "the image at byte %d", at)
			}
			if err := gifSubBlocks(r, w); err != nil {
				return readError("GIF", err, "the image at byte %d", at)
			}
		case 0x21: // extension
			label, err := r.ReadByte()
			if err != nil {
				return readError("GIF", err, "the extension at byte %d", at)
			}
			if err := gifExtension(r, w, label, p, rep, &xmpSeen); err != nil {
				return readError("GIF", err, "the extension at byte %d", at)
			}
		case 0x3B: // trailer
			w.WriteByte(b)
			if r.off < size {
				rep.Remove(fieldTrailer, "after the GIF trailer")
			}
			if err := w.Flush(); err != nil {
				return writeError("GIF", err)
			}
			return nil
		default:
			return hub.NotParsed("GIF", "unknown block %#02x at byte %d", b, at)
		}
	}
}

// gifSubBlocks copies data sub-blocks through the terminator (w nil: skip
// them).
func gifSubBlocks(r *seqReader, w io.Writer) error {
	for {
		n, err := r.ReadByte()
		if err != nil {
			return err
		}
		if w != nil {
			if _, err := w.Write([]byte{n}); err != nil {
				return writeErr{err}
			}
		}
		if n == 0 {
			return nil
		}
		if w == nil {
			err = r.discard(int64(n))
		} else {
			err = r.copyN(w, int64(n))
		}
		if err != nil {
			return err
		}
	}
}

// gifExtension decides on an extension whose label was read.
func gifExtension(r *seqReader, w *bufio.Writer, label byte, p hub.ScrubPolicy, rep *hub.ScrubReport, xmpSeen *bool) error {
	copyExt := func() error {
		w.Write([]byte{0x21, label})
		return gifSubBlocks(r, w)
	}
	switch label {
	case 0xF9, 0x01: // graphic control, plain text
		return copyExt()
	case 0xFE: // comment
		if p.Anonymized {
			rep.Remove(fieldComment, "GIF comment")
			return gifSubBlocks(r, nil)
		}
		rep.Keep(fieldComment)
		return copyExt()
	case 0xFF: // application
	default:
		rep.Remove(fieldOther, "GIF extension")
		return gifSubBlocks(r, nil)
	}
	n, err := r.ReadByte()
	if err != nil {
		return err
	}
	if n != 11 {
		rep.Remove(fieldOther, "GIF application extension")
		if n == 0 {
			return nil
		}
		if err := r.discard(int64(n)); err != nil {
			return err
		}
		return gifSubBlocks(r, nil)
	}
	var id [11]byte
	if err := r.readFull(id[:]); err != nil {
		return err
	}
	writeHead := func() {
		w.Write([]byte{0x21, 0xFF, 11})
		w.Write(id[:])
	}
	switch string(id[:]) {
	case "NETSCAPE2.0", "ANIMEXTS1.0":
		writeHead()
		return gifSubBlocks(r, w)
	case "ICCRGBG1012":
		rep.Keep(fieldICC)
		writeHead()
		return gifSubBlocks(r, w)
	case "XMP DataXMP":
	default:
		field := fieldOther
		if bytes.HasPrefix(id[:], []byte("C2PA")) {
			field = fieldC2PA
		}
		rep.Remove(field, "GIF application extension")
		return gifSubBlocks(r, nil)
	}
	// The packet is raw bytes read as sub-blocks: put them back together.
	var raw bytes.Buffer
	for {
		n, err := r.ReadByte()
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		if raw.Len()+1+int(n) > maxMetadata {
			return hub.NotParsed("GIF", "an XMP extension over %d bytes", maxMetadata)
		}
		raw.WriteByte(n)
		if err := r.copyN(&raw, int64(n)); err != nil {
			return err
		}
	}
	packet := raw.Bytes()
	trailer := gifXMPTrailer()
	var res xmpResult
	if xmp, ok := bytes.CutSuffix(packet, trailer); ok {
		res = analyzeXMP(xmp, p)
	} else {
		res.remove(fieldUnreadable)
	}
	if *xmpSeen {
		dropAll(rep, res.findings, "XMP")
		return nil
	}
	*xmpSeen = true
	res.report(rep, "XMP")
	switch {
	case res.clean():
		writeHead()
		w.Write(packet)
		w.WriteByte(0)
	case len(res.props) > 0:
		writeHead()
		w.Write(xmpPacket(res.props))
		w.Write(trailer)
		w.WriteByte(0)
	}
	return nil
}
