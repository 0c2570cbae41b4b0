package credit

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"

	"github.com/syndication-hub/hub/hub"
)

// PNG: the chunk headers are read, and only the XMP iTXt
// (XML:com.adobe.xmp) is read whole; its packet is edited and written,
// uncompressed, just before the first IDAT (XMP after the image data is
// missed by readers that stop there), and any other XMP chunk is dropped.
// Every other chunk is copied as it is, CRC included.

const (
	pngSignature = "\x89PNG\r\n\x1a\n"
	keywordXMP   = "XML:com.adobe.xmp"
)

func planPNG(ctx context.Context, src io.ReaderAt, size int64, v values) (layout, bool, error) {
	sig, err := readAt(src, 0, 8, "PNG")
	if err != nil || string(sig) != pngSignature {
		return nil, false, hub.NotParsed("PNG", "no PNG signature")
	}
	type chunk struct {
		off, total int64
		typ        string
		xmp        bool
	}
	var chunks []chunk
	var packet []byte // the first XMP chunk's, nil for none
	haveXMP, idat := false, -1
	for off := int64(8); ; {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		h, err := readAt(src, off, 8, "PNG")
		if err != nil {
			return nil, false, hub.NotParsed("PNG", "no IEND chunk")
		}
		n := int64(binary.BigEndian.Uint32(h))
		c := chunk{off: off, total: 12 + n, typ: string(h[4:])}
		if n > 1<<31-1 || off+c.total > size {
			return nil, false, hub.NotParsed("PNG", "the %q chunk at byte %d runs past the end of the file", h[4:], off)
		}
		if c.typ == "iTXt" && n >= int64(len(keywordXMP)+1) {
			kw, err := readAt(src, off+8, len(keywordXMP)+1, "PNG")
			if err != nil {
				return nil, false, err
			}
			if string(kw) == keywordXMP+"\x00" {
				c.xmp = true
				if !haveXMP {
					haveXMP = true
					if n > maxMetadata {
						return nil, false, hub.NotParsed("PNG", "an XMP chunk of %d bytes", n)
					}
					data, err := readAt(src, off+8, int(n), "PNG")
					if err != nil {
						return nil, false, err
					}
					packet = itxtText(data[len(keywordXMP)+1:])
				}
			}
		}
		if c.typ == "IDAT" && idat < 0 {
			idat = len(chunks)
		}
		chunks = append(chunks, c)
		off += c.total
		if c.typ == "IEND" {
			break
		}
	}
	if idat < 0 {
		return nil, false, hub.NotParsed("PNG", "no IDAT chunk")
	}
	var out []byte
	if packet != nil {
		var same bool
		if out, same = editXMP(packet, v); same {
			return nil, false, nil
		}
	} else {
		out = newXMP(v)
	}
	var l layout
	l.copy(0, 8)
	for i, c := range chunks {
		if i == idat {
			l.add(pngChunk("iTXt", append([]byte(keywordXMP+"\x00\x00\x00\x00\x00"), out...)))
		}
		if !c.xmp {
			l.copy(c.off, c.total)
		}
	}
	last := chunks[len(chunks)-1]
	l.copy(last.off+last.total, size-last.off-last.total) // what follows IEND, as it was
	return l, true, nil
}

// itxtText returns the text of an iTXt chunk after its keyword (flag,
// method, language, translated keyword, text), or nil when it cannot be
// read (then a new packet replaces it).
func itxtText(rest []byte) []byte {
	if len(rest) < 2 || rest[1] != 0 || rest[0] > 1 {
		return nil
	}
	parts := bytes.SplitN(rest[2:], []byte{0}, 3)
	if len(parts) != 3 {
		return nil
	}
	if rest[0] == 0 {
		return parts[2]
	}
	zr, err := zlib.NewReader(bytes.NewReader(parts[2]))
	if err != nil {
		return nil
	}
	text, err := io.ReadAll(io.LimitReader(zr, maxMetadata+1))
	if err != nil || len(text) > maxMetadata {
		return nil
	}
	return text
}

// pngChunk builds a chunk, computing its CRC.
func pngChunk(typ string, data []byte) []byte {
	b := make([]byte, 0, 12+len(data))
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}
