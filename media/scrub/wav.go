package scrub

// WAV (RIFF WAVE) is rewritten chunk by chunk: the chunks kept are copied
// as they are (their odd-size padding too), the RIFF size is set to what
// is left. Nothing is rewritten when nothing goes.
//
// Kept: fmt, data, fact, cue, smpl, inst, plst, acid, PEAK, levl, chna,
// dbmd, MD5 and padding (JUNK, PAD, FLLR): what players and editors need.
// LIST INFO is rebuilt with the items the policy keeps: title (INAM),
// copyright (ICOP), genre, product and track (IGNR, IPRD, ITRK), and in
// packages that are not anonymized the artist, engineer, technician,
// creation date, software and comments (IART, IENG, ITCH, ICRD, ISFT,
// ICMT...). The bext chunk (Broadcast Wave) keeps its place and size and
// its loudness values; its originator and originator reference, UMID and
// coding history (which name the recorder and often its serial number)
// are zeroed always, its description, origination date and time and time
// reference (the time of day the recording started) in anonymized
// packages. Removed always: iXML (the recorder's notes, scenes, takes and
// sometimes its GPS position), axml, _PMX (XMP), id3 and ID3 chunks, cart,
// umid, DISP, a LIST adtl's cue labels and notes in anonymized packages,
// every chunk the hub does not know, and bytes after the RIFF chunk.
//
// RF64 and BW64 (WAV over 4 GiB) are not parsed.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/syndication-hub/hub/hub"
)

const wavMaxChunks = 1 << 12 // chunks (or LIST items) one scan reads, at most

// scrubWAV scrubs a WAV file.
func scrubWAV(dst io.Writer, src hub.ScrubSource, p hub.ScrubPolicy, rep *hub.ScrubReport) error {
	rep.Format = "WAV"
	w := &wavScan{r: src, size: src.Size(), p: p}
	pieces, err := w.scan()
	if err != nil {
		return err
	}
	w.found.report(rep)
	return avWrite(dst, src, pieces)
}

type wavScan struct {
	r     io.ReaderAt
	size  int64
	p     hub.ScrubPolicy
	found avFindings
	count int // chunks read
}

func (w *wavScan) bad(reason string, args ...any) error {
	return hub.NotParsed("WAV", reason, args...)
}

func (w *wavScan) read(b []byte, off int64) error {
	if err := avRead(w.r, b, off); err != nil {
		return fmt.Errorf("scrub: WAV: %w", err)
	}
	return nil
}

func (w *wavScan) allZero(off, n int64) (bool, error) {
	zero, err := avAllZero(w.r, off, n)
	if err != nil {
		return false, fmt.Errorf("scrub: WAV: %w", err)
	}
	return zero, nil
}

// wavChunk is a chunk: its id, where it starts, the size its header says,
// and where the next one starts (after the pad byte, if it is there).
type wavChunk struct {
	id         string
	off, size  int64
	next       int64
	dataOffset int64
}

// chunks calls fn for each chunk from start to end.
func (w *wavScan) chunks(start, end int64, fn func(c wavChunk) error) error {
	var h [8]byte
	for off := start; off < end; {
		if end-off < 8 {
			if zero, err := w.allZero(off, end-off); err != nil || !zero {
				return cmpErr(err, w.bad("%d stray bytes at %d", end-off, off))
			}
			return fn(wavChunk{off: off, next: end}) // padding
		}
		if w.count++; w.count > wavMaxChunks {
			return w.bad("more than %d chunks", wavMaxChunks)
		}
		if err := w.read(h[:], off); err != nil {
			return err
		}
		c := wavChunk{id: string(h[:4]), off: off, size: int64(binary.LittleEndian.Uint32(h[4:])), dataOffset: off + 8}
		if c.size > end-off-8 {
			return w.bad("chunk %q at %d runs past the end", c.id, off)
		}
		c.next = min(off+8+c.size+c.size&1, end) // the last pad byte may be missing
		if err := fn(c); err != nil {
			return err
		}
		off = c.next
	}
	return nil
}

// scan decides the output.
func (w *wavScan) scan() ([]avPiece, error) {
	var h [12]byte
	if w.size < 12 {
		return nil, w.bad("too short")
	}
	if err := w.read(h[:], 0); err != nil {
		return nil, err
	}
	switch string(h[:4]) {
	case "RIFF":
	case "RF64", "BW64":
		return nil, w.bad("RF64 (WAV over 4 GiB) is not supported")
	default:
		return nil, w.bad("not a RIFF file")
	}
	if string(h[8:12]) != "WAVE" {
		return nil, w.bad("not a RIFF WAVE file")
	}
	end := 8 + int64(binary.LittleEndian.Uint32(h[4:8]))
	if end < 12 || end > w.size {
		return nil, w.bad("its RIFF size (%d) does not fit the file (%d bytes)", end, w.size)
	}
	var body []avPiece
	changed := false
	err := w.chunks(12, end, func(c wavChunk) error {
		pieces, ch, err := w.chunk(c)
		body = append(body, pieces...)
		changed = changed || ch
		return err
	})
	if err != nil {
		return nil, err
	}
	if after := w.size - end; after > 0 {
		gone, err := w.after(end, after)
		if err != nil {
			return nil, err
		}
		changed = changed || gone
	}
	if !changed {
		return []avPiece{avCopy(0, w.size)}, nil
	}
	var n int64 = 4
	for _, pc := range body {
		n += pc.n
	}
	hdr := binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(n))
	return append([]avPiece{avLit(append(hdr, "WAVE"...))}, body...), nil
}

// after judges the bytes after the RIFF chunk: a zero pad byte stays when
// nothing else changes; anything else goes.
func (w *wavScan) after(off, n int64) (bool, error) {
	t, ok, err := id3Read(w.r, off, w.size, "WAV")
	var np *hub.NotParsedError
	switch {
	case ok:
		id3Gone(&t, &w.found, "after the RIFF chunk")
		return true, nil
	case errors.As(err, &np):
		id3Gone(nil, &w.found, "after the RIFF chunk")
		return true, nil
	case err != nil:
		return false, err
	}
	zero, err := w.allZero(off, n)
	if err != nil {
		return false, err
	}
	if zero && n == 1 {
		return false, nil
	}
	if !zero {
		w.found.remove(avOther.field(), "after the RIFF chunk")
	}
	return true, nil
}

// chunk decides one chunk: its pieces, and whether it changed.
func (w *wavScan) chunk(c wavChunk) ([]avPiece, bool, error) {
	same := []avPiece{avCopy(c.off, c.next-c.off)}
	k := avOther
	switch c.id {
	case "", "fmt ", "data", "fact", "cue ", "smpl", "inst", "plst", "acid", "PEAK", "levl", "chna", "dbmd", "MD5 ",
		"JUNK", "junk", "PAD ", "pad ", "FLLR", "filr", "slnt":
		return same, false, nil
	case "bext":
		return w.bext(c)
	case "LIST":
		if c.size < 4 {
			return nil, false, w.bad("LIST chunk too short")
		}
		var t [4]byte
		if err := w.read(t[:], c.dataOffset); err != nil {
			return nil, false, err
		}
		switch string(t[:]) {
		case "INFO":
			return w.info(c)
		case "adtl":
			k = avComment
		}
	case "iXML", "umid":
		k = avRecorder
	case "_PMX":
		k = avXMP
	case "id3 ", "ID3 ":
		t, ok, err := id3Read(w.r, c.dataOffset, c.dataOffset+c.size, "WAV")
		var np *hub.NotParsedError
		if err != nil && !errors.As(err, &np) {
			return nil, false, err
		}
		if !ok {
			id3Gone(nil, &w.found, "id3")
		} else {
			id3Gone(&t, &w.found, "id3")
		}
		return nil, true, nil
	}
	if w.found.judge(k, wavWhere(c.id), w.p) {
		return nil, true, nil
	}
	return same, false, nil
}

func wavWhere(id string) string {
	for _, c := range []byte(id) {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("chunk %x", id)
		}
	}
	return id
}

// info rebuilds a LIST INFO chunk with the items the policy keeps.
func (w *wavScan) info(c wavChunk) ([]avPiece, bool, error) {
	var keep []avPiece
	var n int64
	removed := false
	end := c.dataOffset + c.size
	err := w.chunks(c.dataOffset+4, end, func(item wavChunk) error {
		if item.id == "" || !w.found.judge(wavInfoKind(item.id), "LIST INFO", w.p) {
			keep = append(keep, avCopy(item.off, item.next-item.off))
			n += item.next - item.off
		} else {
			removed = true
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, false, err
	case !removed:
		return []avPiece{avCopy(c.off, c.next-c.off)}, false, nil
	case n == 0:
		return nil, true, nil
	}
	hdr := binary.LittleEndian.AppendUint32([]byte("LIST"), uint32(4+n))
	pieces := append([]avPiece{avLit(append(hdr, "INFO"...))}, keep...)
	if n%2 == 1 {
		pieces = append(pieces, avLit([]byte{0}))
	}
	return pieces, true, nil
}

// bext zeroes the fields of a Broadcast Wave extension the policy removes,
// in place. A bext too short to be one goes whole.
func (w *wavScan) bext(c wavChunk) ([]avPiece, bool, error) {
	if c.size < 602 {
		w.found.remove(avOriginator.field(), "bext")
		return nil, true, nil
	}
	fields := []struct {
		from, to int64
		k        avKind
	}{
		{0, 256, avComment},       // Description
		{256, 288, avOriginator},  // Originator
		{288, 320, avOriginator},  // OriginatorReference
		{320, 338, avDate},        // OriginationDate, OriginationTime
		{338, 346, avDate},        // TimeReference: the samples since midnight
		{348, 412, avRecorder},    // UMID
		{602, c.size, avRecorder}, // CodingHistory
	}
	var patches []avPatch
	for _, f := range fields {
		if f.to <= f.from {
			continue
		}
		zero, err := w.allZero(c.dataOffset+f.from, f.to-f.from)
		if err != nil {
			return nil, false, err
		}
		if !zero && w.found.judge(f.k, "bext", w.p) {
			patches = append(patches, avPatch{off: c.dataOffset + f.from, n: f.to - f.from})
		}
	}
	if len(patches) == 0 {
		return []avPiece{avCopy(c.off, c.next-c.off)}, false, nil
	}
	pieces, err := avPatched(c.off, c.next, patches)
	return pieces, true, err
}

// wavInfoKind judges a LIST INFO item by its id.
func wavInfoKind(id string) avKind {
	switch id {
	case "INAM":
		return avTitle
	case "ICOP":
		return avCopyright
	case "IGNR", "IPRD", "ITRK", "IPRT", "IFRM":
		return avAlbum
	case "ILNG", "ILAN":
		return avLanguage
	case "ISTD", "IPUB":
		return avPublisher
	case "IART", "IENG", "ITCH", "ICMS", "ISTR", "IWRI", "IEDT", "IPRO", "IMUS", "ICNM", "IPDS", "ICDS", "ISRC", "IDST":
		return avAuthor
	case "ICRD", "IDIT", "IYER", "YEAR":
		return avDate
	case "ISFT":
		return avSoftware
	case "ICMT", "IKEY", "ISBJ":
		return avComment
	case "IMED", "ISRF", "IDPI", "ILGT", "ICRP", "IDIM", "ISHP", "IRTD", "IBPM":
		return avTech
	}
	return avOther
}
