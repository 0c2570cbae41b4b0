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
	// Two walks over the chunks, keeping none of them: the first finds
	// the XMP packet (which may follow the pixels), the second lays out
	// the output. A file of a million empty chunks costs two walks, not a
	// list of a million.
	var packet []byte // the first XMP chunk's, nil for none
	haveXMP, haveIDAT := false, false
	end, err := walkPNG(ctx, src, size, func(c pngChunkAt) error {
		haveIDAT = haveIDAT || c.typ == "IDAT"
		if !c.xmp || haveXMP {
			return nil
		}
		haveXMP = true
		if c.n > maxMetadata {
			return hub.NotParsed("PNG", "an XMP chunk of %d bytes", c.n)
		}
		data, err := readAt(src, c.off+8, int(c.n), "PNG")
		if err != nil {
			return err
		}
		packet = itxtText(data[len(keywordXMP)+1:])
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if !haveIDAT {
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
	wrote := false
	if _, err := walkPNG(ctx, src, size, func(c pngChunkAt) error {
		if c.typ == "IDAT" && !wrote {
			l.add(pngChunk("iTXt", append([]byte(keywordXMP+"\x00\x00\x00\x00\x00"), out...)))
			wrote = true
		}
		if !c.xmp {
			l.copy(c.off, 12+c.n)
		}
		return nil
	}); err != nil {
		return nil, false, err
	}
	l.copy(end, size-end) // what follows IEND, as it was
	return l, true, nil
}

// maxPNGChunks bounds the chunks a PNG may have: real files have dozens,
// or thousands of IDAT chunks for a big picture.
const maxPNGChunks = 1 << 20

// pngChunkAt is one chunk of a PNG: where it starts, its data's length,
// its type, and whether it is an XMP iTXt chunk.
type pngChunkAt struct {
	off, n int64
	typ    string
	xmp    bool
}

// walkPNG calls fn for each chunk from the signature to IEND, and returns
// where IEND ends.
func walkPNG(ctx context.Context, src io.ReaderAt, size int64, fn func(pngChunkAt) error) (int64, error) {
	var h [8]byte
	for off, count := int64(8), 0; ; count++ {
		if count%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		if count == maxPNGChunks {
			return 0, hub.NotParsed("PNG", "more than %d chunks", maxPNGChunks)
		}
		if _, err := src.ReadAt(h[:], off); err != nil {
			return 0, hub.NotParsed("PNG", "no IEND chunk")
		}
		c := pngChunkAt{off: off, n: int64(binary.BigEndian.Uint32(h[:4])), typ: string(h[4:])}
		if c.n > 1<<31-1 || off+12+c.n > size {
			return 0, hub.NotParsed("PNG", "the %q chunk at byte %d runs past the end of the file", h[4:], off)
		}
		if c.typ == "iTXt" && c.n >= int64(len(keywordXMP)+1) {
			kw, err := readAt(src, off+8, len(keywordXMP)+1, "PNG")
			if err != nil {
				return 0, err
			}
			c.xmp = string(kw) == keywordXMP+"\x00"
		}
		if err := fn(c); err != nil {
			return 0, err
		}
		off += 12 + c.n
		if c.typ == "IEND" {
			return off, nil
		}
	}
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
