package scrub

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"

	"github.com/syndication-hub/hub/hub"
)

// WebP, by chunk surgery on the RIFF container: chunks are removed (not
// overwritten with unknown ones: a removed chunk leaves nothing behind) and
// the RIFF size and the VP8X flags fixed.
//
// Removed: EXIF (replaced by a minimal one, see exif.go), XMP (replaced by
// a minimal packet, see xmp.go), unknown chunks (decoders ignore them;
// vendors put metadata there), and anything after the RIFF size.
//
// Kept: VP8X, ICCP, ANIM, ANMF (frames are copied whole), ALPH, VP8,
// VP8L.
//
// The chunk headers are read twice: once to decide and learn the output's
// size (the RIFF header comes first), once to write. Only the EXIF and XMP
// chunks are read into memory.

const (
	webpFlagXMP  = 0x04
	webpFlagEXIF = 0x08
)

type webpScrub struct {
	ctx  context.Context
	src  hub.ScrubSource
	p    hub.ScrubPolicy
	rep  *hub.ScrubReport
	end  int64 // the end of the RIFF data
	vp8x bool  // the first chunk is VP8X (metadata is allowed)

	exif, xmp   []byte // what to write for the first EXIF and XMP chunk; nil: nothing
	removedAny  bool
	outSize     int64 // the output's RIFF size
	flagsTarget byte  // VP8X flags to write, when removedAny
}

// webpChunk is one chunk header, at off.
type webpChunk struct {
	off    int64
	fourcc string
	size   int64 // payload
	total  int64 // header, payload and the pad byte when there is one
}

func scrubWebP(ctx context.Context, dst io.Writer, src hub.ScrubSource, p hub.ScrubPolicy, rep *hub.ScrubReport) error {
	rep.Format = "WebP"
	s := &webpScrub{ctx: ctx, src: src, p: p, rep: rep}
	hdr, err := readAt(src, 0, 12)
	if err != nil || string(hdr[:4]) != "RIFF" || string(hdr[8:]) != "WEBP" {
		return hub.NotParsed("WebP", "no RIFF WEBP header")
	}
	riff := int64(binary.LittleEndian.Uint32(hdr[4:]))
	s.end = 8 + riff
	switch {
	case riff < 4+8:
		return hub.NotParsed("WebP", "RIFF size %d holds no chunk", riff)
	case s.end > src.Size():
		return hub.NotParsed("WebP", "RIFF size %d runs past the end of the file (%d bytes)", riff, src.Size())
	}
	if err := s.plan(); err != nil {
		return err
	}
	if s.end < src.Size() {
		rep.Remove(fieldTrailer, "after the RIFF data")
		s.removedAny = true
	}
	if !s.removedAny {
		// Nothing goes: the bytes as they came (the RIFF data only).
		w := newWriter(dst, s.src.Size())
		if err := copyRange(w, src, 0, s.end); err != nil {
			return readError("WebP", err, "the RIFF data")
		}
		if err := w.Flush(); err != nil {
			return writeError("WebP", err)
		}
		return nil
	}
	return s.write(dst)
}

// chunks calls fn for each top-level chunk, checking each header.
func (s *webpScrub) chunks(fn func(c webpChunk) error) error {
	for off, n := int64(12), 0; off < s.end; n++ {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		if off+8 > s.end {
			return hub.NotParsed("WebP", "a chunk header at byte %d runs past the RIFF size", off)
		}
		h, err := readAt(s.src, off, 8)
		if err != nil {
			return readError("WebP", err, "the chunk header at byte %d", off)
		}
		c := webpChunk{off: off, fourcc: string(h[:4]), size: int64(binary.LittleEndian.Uint32(h[4:]))}
		c.total = 8 + c.size
		if off+c.total > s.end {
			return hub.NotParsed("WebP", "the %q chunk at byte %d runs past the RIFF size", c.fourcc, off)
		}
		if c.size%2 == 1 && off+c.total < s.end {
			c.total++ // the pad byte (a last chunk may lack it)
		}
		if n == 0 {
			switch c.fourcc {
			case "VP8X":
				if c.size != 10 {
					return hub.NotParsed("WebP", "a VP8X chunk of %d bytes", c.size)
				}
				s.vp8x = true
			case "VP8 ", "VP8L":
			default:
				return hub.NotParsed("WebP", "the first chunk is %q", c.fourcc)
			}
		}
		if err := fn(c); err != nil {
			return err
		}
		off += c.total
	}
	return nil
}

// keepChunk is whether a chunk type is copied as it is.
func keepChunk(fourcc string) bool {
	switch fourcc {
	case "VP8X", "ICCP", "ANIM", "ANMF", "ALPH", "VP8 ", "VP8L":
		return true
	}
	return false
}

// plan reads the chunks, deciding on the EXIF and XMP and adding up the
// output.
func (s *webpScrub) plan() error {
	exifSeen, xmpSeen := false, false
	s.outSize = 4
	var flags byte
	err := s.chunks(func(c webpChunk) error {
		switch {
		case c.fourcc == "VP8X":
			b, err := readAt(s.src, c.off+8, 1)
			if err != nil {
				return readError("WebP", err, "the VP8X chunk")
			}
			flags = b[0]
			s.outSize += c.total
		case c.fourcc == "ICCP":
			s.rep.Keep(fieldICC)
			s.outSize += c.total
		case keepChunk(c.fourcc):
			s.outSize += c.total
		case c.fourcc == "EXIF":
			data, err := s.read(c)
			if err != nil {
				return err
			}
			tiff := data
			if len(tiff) >= 6 && string(tiff[:6]) == "Exif\x00\x00" {
				tiff = tiff[6:]
			}
			e := scrubTIFF(tiff, s.p)
			if exifSeen || !s.vp8x {
				dropAll(s.rep, e.findings, "EXIF")
				s.removedAny = true
				return nil
			}
			exifSeen = true
			e.report(s.rep, "EXIF")
			switch {
			case e.clean():
				s.exif = data
			default:
				s.removedAny = true
				s.exif = e.out
			}
			s.outSize += chunkTotal(s.exif)
		case c.fourcc == "XMP ":
			data, err := s.read(c)
			if err != nil {
				return err
			}
			res := analyzeXMP(data, s.p)
			if xmpSeen || !s.vp8x {
				dropAll(s.rep, res.findings, "XMP")
				s.removedAny = true
				return nil
			}
			xmpSeen = true
			res.report(s.rep, "XMP")
			switch {
			case res.clean():
				s.xmp = data
			default:
				s.removedAny = true
				if len(res.props) > 0 {
					s.xmp = xmpPacket(res.props)
				}
			}
			s.outSize += chunkTotal(s.xmp)
		default:
			s.rep.Remove(fieldOther, "RIFF "+printable(c.fourcc))
			s.removedAny = true
		}
		return nil
	})
	flags &^= webpFlagEXIF | webpFlagXMP
	if s.exif != nil {
		flags |= webpFlagEXIF
	}
	if s.xmp != nil {
		flags |= webpFlagXMP
	}
	s.flagsTarget = flags
	if s.outSize > 1<<32-1 {
		return hub.NotParsed("WebP", "the output would be over 4 GiB")
	}
	return err
}

// chunkTotal is how many bytes a chunk holding data takes (0 for none).
func chunkTotal(data []byte) int64 {
	if data == nil {
		return 0
	}
	return 8 + int64(len(data)) + int64(len(data)%2)
}

// read reads a metadata chunk's payload.
func (s *webpScrub) read(c webpChunk) ([]byte, error) {
	if c.size > maxMetadata {
		return nil, hub.NotParsed("WebP", "a %q chunk of %d bytes (the hub reads at most %d)", c.fourcc, c.size, maxMetadata)
	}
	b, err := readAt(s.src, c.off+8, int(c.size))
	if err != nil {
		return nil, readError("WebP", err, "the %q chunk at byte %d", c.fourcc, c.off)
	}
	return b, nil
}

// write writes the planned output.
func (s *webpScrub) write(dst io.Writer) error {
	w := newWriter(dst, s.src.Size())
	var hdr [12]byte
	copy(hdr[:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(s.outSize))
	copy(hdr[8:], "WEBP")
	w.Write(hdr[:])
	exifDone, xmpDone := false, false
	err := s.chunks(func(c webpChunk) error {
		switch {
		case c.fourcc == "VP8X":
			b, err := readAt(s.src, c.off, int(c.total))
			if err != nil {
				return readError("WebP", err, "the VP8X chunk")
			}
			b[8] = s.flagsTarget
			w.Write(b)
		case keepChunk(c.fourcc):
			if err := copyRange(w, s.src, c.off, c.total); err != nil {
				return readError("WebP", err, "the %q chunk at byte %d", c.fourcc, c.off)
			}
		case c.fourcc == "EXIF" && !exifDone:
			exifDone = true
			writeWebPChunk(w, "EXIF", s.exif)
		case c.fourcc == "XMP " && !xmpDone:
			xmpDone = true
			writeWebPChunk(w, "XMP ", s.xmp)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return writeError("WebP", err)
	}
	return nil
}

// writeWebPChunk writes a chunk with its pad byte (nothing for nil data).
func writeWebPChunk(w *bufio.Writer, fourcc string, data []byte) {
	if data == nil {
		return
	}
	var h [8]byte
	copy(h[:], fourcc)
	binary.LittleEndian.PutUint32(h[4:], uint32(len(data)))
	w.Write(h[:])
	w.Write(data)
	if len(data)%2 == 1 {
		w.WriteByte(0)
	}
}

// printable shows a fourcc in a report, without control bytes.
func printable(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7E {
			b[i] = '?'
		}
	}
	return string(b)
}
