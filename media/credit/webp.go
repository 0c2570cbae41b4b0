package credit

import (
	"context"
	"encoding/binary"
	"io"

	"github.com/syndication-hub/hub/hub"
)

// WebP: the RIFF chunks are looked at by their headers, and only the XMP
// chunk is read; its packet is edited in place, or a new chunk goes last
// (where the container's order puts XMP), any other XMP chunk dropped.
// Metadata needs the extended format: the VP8X chunk gets the XMP flag,
// and a simple file (a lone VP8 or VP8L chunk) gets a VP8X with the
// canvas size read from its bitstream. The RIFF size is written anew.

const (
	webpFlagXMP   = 0x04
	webpFlagAlpha = 0x10
)

func planWebP(ctx context.Context, src io.ReaderAt, size int64, v values) (layout, bool, error) {
	hdr, err := readAt(src, 0, 12, "WebP")
	if err != nil || string(hdr[:4]) != "RIFF" || string(hdr[8:]) != "WEBP" {
		return nil, false, hub.NotParsed("WebP", "no RIFF WEBP header")
	}
	end := 8 + int64(binary.LittleEndian.Uint32(hdr[4:]))
	if end > size || end < 20 {
		return nil, false, hub.NotParsed("WebP", "a RIFF size of %d in a file of %d bytes", end-8, size)
	}
	type chunk struct {
		off, total int64
		fourcc     string
	}
	// An animation has a chunk a frame: thousands, never millions.
	const maxWebPChunks = 1 << 16
	var chunks []chunk
	var packet []byte
	haveXMP := false
	for off := int64(12); off < end; {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		if off+8 > end {
			return nil, false, hub.NotParsed("WebP", "a chunk header at byte %d runs past the RIFF size", off)
		}
		h, err := readAt(src, off, 8, "WebP")
		if err != nil {
			return nil, false, err
		}
		n := int64(binary.LittleEndian.Uint32(h[4:]))
		c := chunk{off: off, total: 8 + n + n%2, fourcc: string(h[:4])}
		if off+8+n > end {
			return nil, false, hub.NotParsed("WebP", "the %q chunk at byte %d runs past the RIFF size", h[:4], off)
		}
		c.total = min(c.total, end-off) // a last chunk may lack its pad byte
		if c.fourcc == "XMP " && !haveXMP {
			haveXMP = true
			if n > maxMetadata {
				return nil, false, hub.NotParsed("WebP", "an XMP chunk of %d bytes", n)
			}
			if packet, err = readAt(src, off+8, int(n), "WebP"); err != nil {
				return nil, false, err
			}
		}
		if len(chunks) == maxWebPChunks {
			return nil, false, hub.NotParsed("WebP", "more than %d chunks", maxWebPChunks)
		}
		chunks = append(chunks, c)
		off += c.total
	}
	first := chunks[0].fourcc
	if first != "VP8X" && first != "VP8 " && first != "VP8L" {
		return nil, false, hub.NotParsed("WebP", "the first chunk is %q", first)
	}
	var out []byte
	if haveXMP {
		var same bool
		if out, same = editXMP(packet, v); same {
			return nil, false, nil
		}
	} else {
		out = newXMP(v)
	}
	var body layout
	if first != "VP8X" {
		vp8x, err := webpVP8X(src, chunks[0].off, chunks[0].total, first)
		if err != nil {
			return nil, false, err
		}
		body.add(vp8x)
	}
	written := false
	for _, c := range chunks {
		switch {
		case c.fourcc == "VP8X":
			if c.total < 18 {
				return nil, false, hub.NotParsed("WebP", "a VP8X chunk of %d bytes", c.total-8)
			}
			b, err := readAt(src, c.off, 9, "WebP")
			if err != nil {
				return nil, false, err
			}
			b[8] |= webpFlagXMP
			body.add(b)
			body.copy(c.off+9, c.total-9)
		case c.fourcc == "XMP " && !written:
			body.add(webpChunk("XMP ", out))
			written = true
		case c.fourcc == "XMP ":
		default:
			if c.off+c.total == end && (c.total-8)%2 == 1 {
				// The last chunk lacked its pad byte; now a chunk follows it.
				body.copy(c.off, c.total)
				body.add([]byte{0})
				continue
			}
			body.copy(c.off, c.total)
		}
	}
	if !written {
		body.add(webpChunk("XMP ", out))
	}
	riff := 4 + body.size()
	if riff > 1<<32-1 {
		return nil, false, hub.NotParsed("WebP", "the file would be over 4 GiB")
	}
	var l layout
	head := []byte("RIFF\x00\x00\x00\x00WEBP")
	binary.LittleEndian.PutUint32(head[4:], uint32(riff))
	l.add(head)
	l = append(l, body...)
	return l, true, nil
}

// webpVP8X builds the VP8X chunk a simple file needs for metadata, with
// the canvas size of its VP8 or VP8L bitstream (the chunk at off).
func webpVP8X(src io.ReaderAt, off, total int64, fourcc string) ([]byte, error) {
	b, err := readAt(src, off+8, int(min(total-8, 10)), "WebP")
	if err != nil {
		return nil, err
	}
	var w, h uint32
	var flags byte = webpFlagXMP
	switch {
	case fourcc == "VP8 " && len(b) >= 10 && b[3] == 0x9D && b[4] == 0x01 && b[5] == 0x2A:
		w = uint32(binary.LittleEndian.Uint16(b[6:])) & 0x3FFF
		h = uint32(binary.LittleEndian.Uint16(b[8:])) & 0x3FFF
	case fourcc == "VP8L" && len(b) >= 5 && b[0] == 0x2F:
		bits := binary.LittleEndian.Uint32(b[1:])
		w, h = bits&0x3FFF+1, bits>>14&0x3FFF+1
		if bits>>28&1 == 1 {
			flags |= webpFlagAlpha
		}
	default:
		return nil, hub.NotParsed("WebP", "the %q bitstream has no frame header", fourcc)
	}
	if w == 0 || h == 0 {
		return nil, hub.NotParsed("WebP", "a canvas of %dx%d", w, h)
	}
	d := make([]byte, 10)
	d[0] = flags
	put24 := func(at int, x uint32) { d[at], d[at+1], d[at+2] = byte(x), byte(x>>8), byte(x>>16) }
	put24(4, w-1)
	put24(7, h-1)
	return webpChunk("VP8X", d), nil
}

// webpChunk builds a chunk with its pad byte.
func webpChunk(fourcc string, data []byte) []byte {
	b := make([]byte, 0, 9+len(data))
	b = append(b, fourcc...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}
