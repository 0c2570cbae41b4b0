package scrub

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"strings"

	"github.com/syndication-hub/hub/hub"
)

// PNG (and APNG), by chunk surgery: chunks are copied whole or dropped,
// and the only CRCs computed are those of the chunks the hub writes.
//
// Removed: eXIf (replaced by a minimal one, see exif.go), the XMP iTXt
// (replaced by a minimal packet, see xmp.go), caBX (C2PA), other text
// chunks by keyword (author, creation time, software, comments, titles go
// in anonymized packages; ImageMagick's raw EXIF/IPTC/XMP profiles and
// keywords the hub does not know always go), tIME in anonymized packages,
// unknown ancillary chunks (private chunks are where vendors put their
// metadata), and anything after IEND.
//
// Kept: the critical chunks, PLTE, tRNS, gAMA, cHRM, sRGB, iCCP, cICP,
// mDCV, cLLI, pHYs, sBIT, bKGD, hIST, sPLT, sCAL, pCAL, oFFs, acTL, fcTL,
// fdAT, and Copyright/Disclaimer text.
//
// Refused (NotParsed): a bad signature, a chunk length over 2^31-1 or past
// the end of the file, a bad CRC on a critical chunk, no IEND, and a
// metadata chunk the hub has to read (eXIf, XMP) over maxMetadata.

const pngSignature = "\x89PNG\r\n\x1a\n"

// pngChunkClass says what the hub does with a chunk type.
func pngChunkClass(typ string) (field string, class keepClass) {
	switch typ {
	case "IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "cICP", "mDCV", "mDCv", "cLLI", "cLLi",
		"pHYs", "sBIT", "bKGD", "hIST", "sPLT", "sCAL", "pCAL", "oFFs", "acTL", "fcTL", "fdAT":
		return "", keepAlways
	case "iCCP":
		return fieldICC, keepAlways
	case "tIME":
		return fieldModified, keepUnlessAnonymized
	case "caBX":
		return fieldC2PA, removeAlways
	}
	if typ[0]&0x20 == 0 { // an unknown critical chunk: the picture needs it
		return "", keepAlways
	}
	return fieldOther, removeAlways
}

// pngTextClass says what a text chunk is by its keyword.
func pngTextClass(keyword string) (string, keepClass) {
	switch keyword {
	case "Copyright":
		return fieldCopyright, keepAlways
	case "Disclaimer":
		return fieldUsage, keepAlways
	case "Author":
		return fieldAuthor, keepUnlessAnonymized
	case "Creation Time", "date:create", "date:timestamp":
		return fieldCreated, keepUnlessAnonymized
	case "date:modify":
		return fieldModified, keepUnlessAnonymized
	case "Software":
		return fieldSoftware, keepUnlessAnonymized
	case "Comment", "Description":
		return fieldComment, keepUnlessAnonymized
	case "Title":
		return fieldTitle, keepUnlessAnonymized
	case "Source":
		return fieldMakeModel, removeAlways
	case "Raw profile type icc", "Raw profile type icm":
		return fieldICC, keepAlways
	case "Raw profile type exif", "Raw profile type APP1":
		return fieldOtherEXIF, removeAlways
	}
	if k, ok := strings.CutPrefix(keyword, "exif:"); ok {
		switch {
		case strings.HasPrefix(k, "GPS"):
			return fieldGPS, removeAlways
		case k == "Make" || k == "Model":
			return fieldMakeModel, removeAlways
		case strings.HasSuffix(k, "SerialNumber"):
			return fieldSerial, removeAlways
		}
		return fieldOtherEXIF, removeAlways
	}
	return fieldOther, removeAlways
}

const keywordXMP = "XML:com.adobe.xmp"

func scrubPNG(ctx context.Context, dst io.Writer, src hub.ScrubSource, p hub.ScrubPolicy, rep *hub.ScrubReport) error {
	rep.Format = "PNG"
	size := src.Size()
	sig, err := readAt(src, 0, 8)
	if err != nil || string(sig) != pngSignature {
		return hub.NotParsed("PNG", "no PNG signature")
	}
	w := newWriter(dst, src.Size())
	w.WriteString(pngSignature)
	r := newSeqReader(src, 8, size)
	exifSeen, xmpSeen := false, false
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		at := r.off
		var hdr [8]byte
		if err := r.readFull(hdr[:]); err != nil {
			return readError("PNG", err, "a chunk header at byte %d (no IEND chunk)", at)
		}
		length := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:])
		switch {
		case length > 1<<31-1:
			return hub.NotParsed("PNG", "chunk length %d at byte %d is over 2^31-1", length, at)
		case !pngChunkType(hdr[4:]):
			return hub.NotParsed("PNG", "chunk type %q at byte %d", hdr[4:], at)
		case at+12+length > size:
			return hub.NotParsed("PNG", "the %s chunk at byte %d runs past the end of the file", typ, at)
		case n == 0 && typ != "IHDR":
			return hub.NotParsed("PNG", "the first chunk is %s, not IHDR", typ)
		}
		var err error
		switch typ {
		case "eXIf", "exIf", "zxIf":
			err = pngEXIF(w, r, hdr, length, p, rep, &exifSeen)
		case "tEXt", "zTXt", "iTXt":
			err = pngText(w, r, hdr, length, p, rep, &xmpSeen)
		default:
			field, class := pngChunkClass(typ)
			switch {
			case class.kept(p):
				if field != "" {
					rep.Keep(field)
				}
				err = pngCopy(w, r, hdr, length)
			default:
				rep.Remove(field, typ)
				err = r.discard(length + 4)
			}
		}
		if err != nil {
			return readError("PNG", err, "the %s chunk at byte %d", typ, at)
		}
		if typ == "IEND" {
			if r.off < size {
				rep.Remove(fieldTrailer, "after IEND")
			}
			break
		}
	}
	if err := w.Flush(); err != nil {
		return writeError("PNG", err)
	}
	return nil
}

func pngChunkType(t []byte) bool {
	for _, c := range t {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// pngCopy copies a chunk whose header was read, checking the CRC of a
// critical one.
func pngCopy(w *bufio.Writer, r *seqReader, hdr [8]byte, length int64) error {
	if _, err := w.Write(hdr[:]); err != nil {
		return writeErr{err}
	}
	if hdr[4]&0x20 != 0 { // ancillary: copied as it is
		return r.copyN(w, length+4)
	}
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	if err := r.copyN(io.MultiWriter(w, crc), length); err != nil {
		return err
	}
	var sum [4]byte
	if err := r.readFull(sum[:]); err != nil {
		return err
	}
	if binary.BigEndian.Uint32(sum[:]) != crc.Sum32() {
		return hub.NotParsed("PNG", "bad CRC on the %s chunk at byte %d", hdr[4:], r.off-12-length)
	}
	if _, err := w.Write(sum[:]); err != nil {
		return writeErr{err}
	}
	return nil
}

// pngChunk writes a chunk, computing its CRC.
func pngChunk(w io.Writer, typ string, data []byte) error {
	b := make([]byte, 0, 12+len(data))
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
	if _, err := w.Write(b); err != nil {
		return writeErr{err}
	}
	return nil
}

// pngRead reads a chunk's data and CRC, when the hub must look inside.
func pngRead(r *seqReader, typ string, length int64) (data, crc []byte, err error) {
	if length > maxMetadata {
		return nil, nil, hub.NotParsed("PNG", "a %s chunk of %d bytes (the hub reads at most %d)", typ, length, maxMetadata)
	}
	b := make([]byte, length+4)
	if err := r.readFull(b); err != nil {
		return nil, nil, err
	}
	return b[:length], b[length:], nil
}

// pngWrite writes a chunk as it was read.
func pngWrite(w io.Writer, hdr [8]byte, data, crc []byte) error {
	for _, b := range [][]byte{hdr[:], data, crc} {
		if _, err := w.Write(b); err != nil {
			return writeErr{err}
		}
	}
	return nil
}

// pngEXIF replaces the first eXIf by a minimal one and drops any other.
func pngEXIF(w *bufio.Writer, r *seqReader, hdr [8]byte, length int64, p hub.ScrubPolicy, rep *hub.ScrubReport, seen *bool) error {
	data, crc, err := pngRead(r, "eXIf", length)
	if err != nil {
		return err
	}
	e := scrubTIFF(data, p)
	if *seen || string(hdr[4:]) != "eXIf" {
		dropAll(rep, e.findings, string(hdr[4:]))
		return nil
	}
	*seen = true
	e.report(rep, "eXIf")
	switch {
	case e.clean():
		return pngWrite(w, hdr, data, crc)
	case e.out != nil:
		return pngChunk(w, "eXIf", e.out)
	}
	return nil
}

// pngText decides on a tEXt, zTXt or iTXt chunk by its keyword; the XMP
// one is read.
func pngText(w *bufio.Writer, r *seqReader, hdr [8]byte, length int64, p hub.ScrubPolicy, rep *hub.ScrubReport, xmpSeen *bool) error {
	typ := string(hdr[4:])
	head := make([]byte, min(length, 80))
	if err := r.readFull(head); err != nil {
		return err
	}
	rest := length - int64(len(head))
	keyword, _, ok := bytes.Cut(head, []byte{0})
	if !ok || len(keyword) == 0 {
		rep.Remove(fieldOther, typ)
		return r.discard(rest + 4)
	}
	if typ == "iTXt" && string(keyword) == keywordXMP {
		tail, crc, err := pngRead(r, typ, rest)
		if err != nil {
			return err
		}
		return pngXMP(w, hdr, append(head, tail...), crc, p, rep, xmpSeen)
	}
	field, class := pngTextClass(string(keyword))
	if !class.kept(p) {
		rep.Remove(field, typ)
		return r.discard(rest + 4)
	}
	rep.Keep(field)
	if _, err := w.Write(hdr[:]); err != nil {
		return writeErr{err}
	}
	if _, err := w.Write(head); err != nil {
		return writeErr{err}
	}
	return r.copyN(w, rest+4)
}

// pngXMP decides on the XMP iTXt chunk.
func pngXMP(w *bufio.Writer, hdr [8]byte, data, crc []byte, p hub.ScrubPolicy, rep *hub.ScrubReport, seen *bool) error {
	// keyword \0 compression-flag method language \0 translated \0 text
	rest := data[len(keywordXMP)+1:]
	var packet []byte
	ok := len(rest) >= 2
	if ok {
		flag, method := rest[0], rest[1]
		parts := bytes.SplitN(rest[2:], []byte{0}, 3)
		ok = len(parts) == 3 && method == 0 && flag <= 1
		if ok {
			packet = parts[2]
			if flag == 1 {
				packet, ok = inflate(packet)
			}
		}
	}
	var res xmpResult
	if ok {
		res = analyzeXMP(packet, p)
	} else {
		res.remove(fieldUnreadable)
	}
	if *seen {
		dropAll(rep, res.findings, "XMP")
		return nil
	}
	*seen = true
	res.report(rep, "XMP")
	switch {
	case res.clean():
		return pngWrite(w, hdr, data, crc)
	case len(res.props) > 0:
		chunk := append([]byte(keywordXMP), 0, 0, 0, 0, 0)
		return pngChunk(w, "iTXt", append(chunk, xmpPacket(res.props)...))
	}
	return nil
}

// inflate decompresses zlib data, at most maxMetadata bytes of it.
func inflate(b []byte) ([]byte, bool) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, false
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxMetadata+1))
	if err != nil || len(out) > maxMetadata {
		return nil, false
	}
	return out, true
}
