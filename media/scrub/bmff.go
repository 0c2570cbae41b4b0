package scrub

// MP4, QuickTime, M4A and 3GP (the ISO base media file format) are
// scrubbed by box surgery in place: each box that goes is overwritten by a
// `free` box of the same size, with its bytes zeroed, so every chunk
// offset (stco, co64) stays valid and the essence is the same bytes at the
// same place. The file is parsed through ReaderAt first (its moov may come
// after the media) and then streamed to dst with the patches applied.
//
// Removed always: locations (©xyz, loci, the QuickTime keys
// com.apple.quicktime.location.*), device make, model and serial numbers
// (©mak, ©mod, keys make and model, vendor boxes), XMP (uuid
// be7acfcb-97a9-42e8-9c71-999491e3afac, XMP_) and every other uuid box
// (Sony's XAVC XML among them), cover pictures (covr: a picture carries
// its own EXIF), account identifiers (apID...), a video track's handler
// name when it is not a generic one (GoPro and DJI name their cameras
// there), and any udta, meta or ilst item the hub does not know. Removed in
// anonymized packages: author and artist names, creation dates (©day, the
// keys creationdate, and the times in mvhd, tkhd and mdhd, zeroed in
// place), software (©swr, ©too, the keys software, a video sample entry's
// compressor name) and comments and descriptions.
//
// Kept: titles (©nam: the title is the work's, not its source's), the
// copyright notice (cprt), album, genre and track numbers, lyrics, track
// languages (mdhd is never touched but for its times), the handler names
// of audio and subtitle tracks ("English commentary"), chapters, and every
// box the decoders need.
//
// A track that is not video, sound, subtitles or text (GoPro's gpmd,
// Google's camm, DJI's djmd telemetry, timecode, timed metadata) holds its
// samples in mdat among the essence: freeing its trak would leave GPS per
// frame in the file. Such a file is remuxed by ffmpeg without its data
// tracks (remux.go), never re-encoded, and the remux's output then goes
// through the same surgery. Without ffmpeg an anonymized package refuses
// the file and another stores it unscrubbed (NotParsed).

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/syndication-hub/hub/hub"
)

const (
	bmffMaxBoxes = 1 << 16 // boxes one scan reads, at most
	bmffMaxKeys  = 1 << 12 // QuickTime keys one meta box may declare
)

// bmffFormat names the container of a sniffed content type and the ffmpeg
// muxer that writes it.
func bmffFormat(contentType string) (name, muxer string) {
	switch contentType {
	case "video/quicktime":
		return "QuickTime", "mov"
	case "video/x-m4v":
		return "M4V", "mp4"
	case "audio/mp4", "audio/x-m4a":
		return "M4A", "ipod"
	case "video/3gpp":
		return "3GP", "3gp"
	case "video/3gpp2":
		return "3G2", "3g2"
	}
	return "MP4", "mp4"
}

// scrubBMFF scrubs an MP4, QuickTime, M4A or 3GP file.
func (s *Scrubber) scrubBMFF(ctx context.Context, dst io.Writer, src hub.ScrubSource, contentType string, p hub.ScrubPolicy, rep *hub.ScrubReport) error {
	name, muxer := bmffFormat(contentType)
	rep.Format = name
	sc := &bmffScan{r: src, size: src.Size(), format: name, p: p}
	if hub.StillArriving(src) {
		if err := sc.stream(dst); err != nil {
			return err
		}
		sc.found.report(rep)
		return nil
	}
	if err := sc.scan(); err != nil {
		return err
	}
	if len(sc.data) == 0 {
		sc.found.report(rep)
		return sc.write(dst)
	}
	what := sc.data[0].field()
	if s.ffmpeg == "" {
		if p.Anonymized {
			return hub.Errorf(hub.EUNSUPPORTED, "the %s file has a %s, which only ffmpeg can remove from the media data, and ffmpeg is not installed on this hub", name, what)
		}
		return hub.NotParsed(name, "it has a %s, which only ffmpeg can remove, and ffmpeg is not installed", what)
	}
	// The remux drops the movie's own metadata whatever the policy: scan
	// again to report all of it.
	all := &bmffScan{r: src, size: src.Size(), format: name, p: p, dropGlobal: true}
	if err := all.scan(); err != nil {
		return err
	}
	out, err := s.remux(ctx, src, remuxJob{format: name, demuxer: "mov", muxer: muxer, keepStreamMetadata: true})
	if err != nil {
		return err
	}
	defer out.close()
	re := &bmffScan{r: out, size: out.size, format: name, p: p}
	if err := re.scan(); err != nil {
		return fmt.Errorf("scrub: %s remuxed by ffmpeg: %w", name, err)
	}
	if len(re.data) > 0 {
		return hub.NotParsed(name, "ffmpeg's remux kept a %s", re.data[0].field())
	}
	all.found.report(rep)
	for _, k := range sc.data {
		rep.Remove(k.field(), "trak")
	}
	re.found.report(rep)
	return re.write(dst)
}

// bmffBox is one box: its type, where it starts, its header's length (8,
// or 16 with a 64-bit size) and its whole size.
type bmffBox struct {
	typ  string
	off  int64
	hdr  int64
	size int64
}

func (b bmffBox) body() int64    { return b.off + b.hdr }
func (b bmffBox) end() int64     { return b.off + b.size }
func (b bmffBox) bodyLen() int64 { return b.size - b.hdr }

// bmffFree is the patch that turns b into a free box of the same size.
func bmffFree(b bmffBox) avPatch {
	lit := []byte("free")
	if b.hdr == 16 {
		lit = binary.BigEndian.AppendUint64(lit, uint64(b.size))
	}
	return avPatch{off: b.off + 4, n: b.size - 4, lit: lit}
}

// bmffEdit is what a scan of one container decided: its patches, and
// whether it kept or removed anything (a container that keeps nothing and
// removes something is freed whole).
type bmffEdit struct {
	patches       []avPatch
	kept, removed bool
}

func (e *bmffEdit) free(b bmffBox) {
	e.patches = append(e.patches, bmffFree(b))
	e.removed = true
}

func (e *bmffEdit) merge(o bmffEdit) {
	e.patches = append(e.patches, o.patches...)
	e.kept = e.kept || o.kept
	e.removed = e.removed || o.removed
}

// whole frees b instead of its parts when nothing in it is kept.
func (e *bmffEdit) whole(b bmffBox) {
	if e.removed && !e.kept {
		e.patches = []avPatch{bmffFree(b)}
	}
}

// bmffScan reads one file's boxes and decides its patches.
type bmffScan struct {
	r       io.ReaderAt
	size    int64
	format  string
	p       hub.ScrubPolicy
	found   avFindings
	patches []avPatch
	boxes   int
	// data lists the tracks that are not media, by kind.
	data []avKind
	// dropGlobal judges all the movie's own metadata removed, for the
	// report of a remux, which drops it.
	dropGlobal bool
}

func (s *bmffScan) bad(reason string, args ...any) error {
	return hub.NotParsed(s.format, reason, args...)
}

func (s *bmffScan) read(b []byte, off int64) error {
	if err := avRead(s.r, b, off); err != nil {
		return fmt.Errorf("scrub: %s: %w", s.format, err)
	}
	return nil
}

// judge records k, found in where, and says whether it goes; global is
// the movie's own metadata, which a remux drops.
func (s *bmffScan) judge(k avKind, where string, global bool) bool {
	if s.dropGlobal && global {
		if f := k.field(); f != "" {
			s.found.remove(f, where)
		}
		return true
	}
	return s.found.judge(k, where, s.p)
}

// write streams the file to dst with the patches applied.
func (s *bmffScan) write(dst io.Writer) error {
	slices.SortFunc(s.patches, func(a, b avPatch) int { return cmp.Compare(a.off, b.off) })
	pieces, err := avPatched(0, s.size, s.patches)
	if err != nil {
		return err
	}
	return avWrite(dst, s.r, pieces)
}

// box reads the header of the box at off, which must end by end.
func (s *bmffScan) box(off, end int64) (bmffBox, error) {
	s.boxes++
	if s.boxes > bmffMaxBoxes {
		return bmffBox{}, s.bad("it has more than %d boxes", bmffMaxBoxes)
	}
	var h [16]byte
	if err := s.read(h[:8], off); err != nil {
		return bmffBox{}, err
	}
	b := bmffBox{typ: string(h[4:8]), off: off, hdr: 8, size: int64(binary.BigEndian.Uint32(h[:4]))}
	switch b.size {
	case 0: // to the end of its parent
		b.size = end - off
	case 1: // a 64-bit size follows
		if end-off < 16 {
			return bmffBox{}, s.bad("box %s at %d is cut short", bmffName(b.typ), off)
		}
		if err := s.read(h[8:16], off+8); err != nil {
			return bmffBox{}, err
		}
		large := binary.BigEndian.Uint64(h[8:16])
		if large > uint64(end-off) {
			return bmffBox{}, s.bad("box %s at %d says it is %d bytes, past the end of its parent", bmffName(b.typ), off, large)
		}
		b.hdr, b.size = 16, int64(large)
	}
	if b.size < b.hdr {
		return bmffBox{}, s.bad("box %s at %d says it is %d bytes, shorter than its header", bmffName(b.typ), off, b.size)
	}
	if b.size > end-off {
		return bmffBox{}, s.bad("box %s at %d says it is %d bytes, past the end of its parent", bmffName(b.typ), off, b.size)
	}
	return b, nil
}

// children calls fn for each box in [start, end). Fewer than 8 zero bytes
// at the end are a QuickTime terminator.
func (s *bmffScan) children(start, end int64, fn func(bmffBox) error) error {
	for off := start; off < end; {
		if end-off < 8 {
			zero, err := avAllZero(s.r, off, end-off)
			if err != nil {
				return fmt.Errorf("scrub: %s: %w", s.format, err)
			}
			if !zero {
				return s.bad("%d stray bytes at %d", end-off, off)
			}
			return nil
		}
		b, err := s.box(off, end)
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
		off = b.end()
	}
	return nil
}

// scan reads the top-level boxes.
func (s *bmffScan) scan() error {
	return s.children(0, s.size, s.top)
}

// top scans one top-level box; its patches lie inside it.
func (s *bmffScan) top(b bmffBox) error {
	switch b.typ {
	case "moov":
		return s.moov(b)
	case "udta", "meta", "uuid":
		return s.metadata(b)
	case "ftyp", "styp", "mdat", "free", "skip", "wide", "moof", "mfra", "sidx", "ssix", "emsg", "prft", "pdin", "pnot", "PICT", "meco", "junk":
		return nil
	}
	if s.judge(avOther, bmffName(b.typ), true) {
		s.patches = append(s.patches, bmffFree(b))
	}
	return nil
}

// stream scans the top-level boxes of a file still arriving and writes
// each to dst, patched, as soon as it is scanned: the media, most of the
// file, goes to the store while it is received. A data track found in a
// movie header after the media was written needs a remux of the whole
// file: that is hub.ErrScrubAgain.
func (s *bmffScan) stream(dst io.Writer) error {
	var written int64
	flush := func(end int64) error {
		patches := s.patches
		s.patches = nil
		slices.SortFunc(patches, func(a, b avPatch) int { return cmp.Compare(a.off, b.off) })
		pieces, err := avPatched(written, end, patches)
		if err != nil {
			return err
		}
		written = end
		return avWrite(dst, s.r, pieces)
	}
	err := s.children(0, s.size, func(b bmffBox) error {
		if err := s.top(b); err != nil {
			return err
		}
		if len(s.data) > 0 {
			return hub.ErrScrubAgain
		}
		return flush(b.end())
	})
	if err != nil {
		return err
	}
	return flush(s.size) // a QuickTime terminator's zeros
}

// metadata scrubs a file- or movie-level udta, meta or uuid box.
func (s *bmffScan) metadata(b bmffBox) error {
	var e bmffEdit
	var err error
	switch b.typ {
	case "udta":
		e, err = s.udta(b, "udta", true)
	case "meta":
		e, err = s.meta(b, true)
	default:
		return s.uuid(b, nil, true)
	}
	s.patches = append(s.patches, e.patches...)
	return err
}

func (s *bmffScan) moov(b bmffBox) error {
	return s.children(b.body(), b.end(), func(c bmffBox) error {
		switch c.typ {
		case "mvhd":
			return s.times(c, true)
		case "trak":
			return s.trak(c)
		case "udta", "meta", "uuid":
			return s.metadata(c)
		case "cmov":
			return s.bad("its movie header is compressed")
		}
		return nil
	})
}

// uuid judges a uuid box by its user type and frees it, into e or the scan.
func (s *bmffScan) uuid(b bmffBox, e *bmffEdit, global bool) error {
	k := avOther
	if b.bodyLen() >= 16 {
		var u [16]byte
		if err := s.read(u[:], b.body()); err != nil {
			return err
		}
		switch fmt.Sprintf("%x", u) {
		case "be7acfcb97a942e89c71999491e3afac":
			k = avXMP
		case "50524f4621d24fcebb88695cfac9c740", "55534d5421d24fcebb88695cfac9c740": // Sony XAVC PROF, USMT
			k = avDevice
		}
	}
	s.judge(k, "uuid", global)
	if e != nil {
		e.free(b)
	} else {
		s.patches = append(s.patches, bmffFree(b))
	}
	return nil
}

// times zeroes the creation and modification times of an mvhd, tkhd or
// mdhd box in anonymized packages. (They are the movie's own metadata:
// a remux writes them from the movie's creation time, which it drops.)
func (s *bmffScan) times(b bmffBox, global bool) error {
	var v [1]byte
	if b.bodyLen() < 4 {
		return s.bad("%s box too short", b.typ)
	}
	if err := s.read(v[:], b.body()); err != nil {
		return err
	}
	n := int64(8)
	if v[0] == 1 {
		n = 16
	}
	if b.bodyLen() < 4+n {
		return s.bad("%s box too short", b.typ)
	}
	zero, err := avAllZero(s.r, b.body()+4, n)
	if err != nil {
		return fmt.Errorf("scrub: %s: %w", s.format, err)
	}
	if !zero && s.judge(avDate, b.typ, global) {
		s.patches = append(s.patches, avPatch{off: b.body() + 4, n: n})
	}
	return nil
}

// bmffTrack is what a trak says about itself.
type bmffTrack struct {
	handler  string
	entry    string  // the first sample entry's type
	name     []byte  // the handler name, up to 256 bytes
	nameAt   int64   // where the handler name starts
	nameLen  int64   // and its length
	compress []int64 // where the video sample entries' compressor names are
}

func (s *bmffScan) trak(b bmffBox) error {
	var t bmffTrack
	err := s.children(b.body(), b.end(), func(c bmffBox) error {
		switch c.typ {
		case "tkhd":
			return s.times(c, true)
		case "mdia":
			return s.mdia(c, &t)
		case "udta":
			e, err := s.udta(c, "track udta", false)
			s.patches = append(s.patches, e.patches...)
			return err
		case "meta":
			e, err := s.meta(c, false)
			s.patches = append(s.patches, e.patches...)
			return err
		case "uuid":
			return s.uuid(c, nil, false)
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch t.handler {
	case "":
		return s.bad("a track has no handler")
	case "vide", "soun", "sbtl", "subt", "text", "clcp":
	default:
		s.data = append(s.data, bmffDataKind(t.handler, t.entry))
		return nil
	}
	if t.handler == "vide" {
		if t.nameLen > 0 && !bmffGenericName(t.name) && s.judge(avHandler, "hdlr", false) {
			s.patches = append(s.patches, avPatch{off: t.nameAt, n: t.nameLen})
		}
		for _, at := range t.compress {
			zero, err := avAllZero(s.r, at, 32)
			if err != nil {
				return fmt.Errorf("scrub: %s: %w", s.format, err)
			}
			if !zero && s.judge(avSoftware, "stsd", false) {
				s.patches = append(s.patches, avPatch{off: at, n: 32})
			}
		}
	}
	return nil
}

// bmffDataKind names a track that is not media.
func bmffDataKind(handler, entry string) avKind {
	switch {
	case handler == "camm", entry == "gpmd", entry == "camm", entry == "djmd", entry == "GPS ", entry == "mett":
		return avTelemetry
	case handler == "tmcd", entry == "tmcd":
		return avTimecode
	}
	return avDataTrack
}

// bmffGenericName says whether a handler name is one every muxer writes,
// which names no camera.
func bmffGenericName(b []byte) bool {
	if len(b) > 0 && b[0] < 0x20 && int(b[0]) < len(b) { // a QuickTime Pascal string
		b = b[1 : 1+int(b[0])]
	} else if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	switch strings.TrimSpace(string(b)) {
	case "", "VideoHandler", "Video", "Core Media Video", "Video Media Handler", "Apple Video Media Handler",
		"L-SMASH Video Handler", "ISO Media file produced by Google Inc.", "Bento4 Video Handler", "GPAC ISO Video Handler":
		return true
	}
	return false
}

func (s *bmffScan) mdia(b bmffBox, t *bmffTrack) error {
	return s.children(b.body(), b.end(), func(c bmffBox) error {
		switch c.typ {
		case "mdhd":
			if err := s.times(c, true); err != nil {
				return err
			}
			return s.language(c)
		case "hdlr":
			if c.bodyLen() < 12 {
				return s.bad("hdlr box too short")
			}
			var h [4]byte
			if err := s.read(h[:], c.body()+8); err != nil {
				return err
			}
			t.handler = string(h[:])
			if c.bodyLen() > 24 {
				t.nameAt, t.nameLen = c.body()+24, c.bodyLen()-24
				t.name = make([]byte, min(t.nameLen, 256))
				return s.read(t.name, t.nameAt)
			}
		case "minf":
			return s.children(c.body(), c.end(), func(d bmffBox) error {
				if d.typ != "stbl" {
					return nil
				}
				return s.children(d.body(), d.end(), func(e bmffBox) error {
					if e.typ != "stsd" {
						return nil
					}
					return s.stsd(e, t)
				})
			})
		}
		return nil
	})
}

// language notes a track's language, kept.
func (s *bmffScan) language(b bmffBox) error {
	var v [1]byte
	if err := s.read(v[:], b.body()); err != nil {
		return err
	}
	at := int64(20)
	if v[0] == 1 {
		at = 32
	}
	if b.bodyLen() < at+2 {
		return nil
	}
	var l [2]byte
	if err := s.read(l[:], b.body()+at); err != nil {
		return err
	}
	switch binary.BigEndian.Uint16(l[:]) {
	case 0, 0x55c4, 0x7fff: // none, "und", unspecified
	default:
		s.found.judge(avLanguage, "mdhd", s.p)
	}
	return nil
}

// stsd notes the sample entries' type and where a video entry's
// compressor name is.
func (s *bmffScan) stsd(b bmffBox, t *bmffTrack) error {
	if b.bodyLen() < 8 {
		return s.bad("stsd box too short")
	}
	return s.children(b.body()+8, b.end(), func(e bmffBox) error {
		if t.entry == "" {
			t.entry = e.typ
		}
		// A visual sample entry: 8 bytes of reserved and data reference
		// index, 16 of version and vendor fields, width, height,
		// resolutions, data size and frame count, then the 32-byte name.
		if t.handler == "vide" && e.bodyLen() >= 78 && len(t.compress) < 64 {
			t.compress = append(t.compress, e.body()+42)
		}
		return nil
	})
}

// udta scans a user data box: each item is kept or freed.
func (s *bmffScan) udta(b bmffBox, where string, global bool) (bmffEdit, error) {
	var e bmffEdit
	err := s.children(b.body(), b.end(), func(c bmffBox) error {
		switch c.typ {
		case "free", "skip", "wide":
		case "meta":
			m, err := s.meta(c, global)
			e.merge(m)
			return err
		case "uuid":
			return s.uuid(c, &e, global)
		default:
			if s.judge(bmffItemKind(c.typ), where, global) {
				e.free(c)
			} else {
				e.kept = true
			}
		}
		return nil
	})
	e.whole(b)
	return e, err
}

// meta scans a meta box: an iTunes item list (handler mdir) or QuickTime
// keys (mdta) is scrubbed item by item; any other handler's meta (ID3, MPEG-7,
// XMP, pictures) goes whole.
func (s *bmffScan) meta(b bmffBox, global bool) (bmffEdit, error) {
	var e bmffEdit
	start := b.body()
	var h [8]byte
	switch {
	case b.bodyLen() >= 8:
		if err := s.read(h[:], start); err != nil {
			return e, err
		}
		if string(h[4:8]) != "hdlr" { // ISO's full box; QuickTime's has no version
			start += 4
		}
	case b.bodyLen() >= 4:
		start += 4
	default:
		return e, s.bad("meta box too short")
	}
	var handler string
	var keys, ilst *bmffBox
	var others []bmffBox
	err := s.children(start, b.end(), func(c bmffBox) error {
		switch c.typ {
		case "hdlr":
			if c.bodyLen() < 12 {
				return s.bad("hdlr box too short")
			}
			var t [4]byte
			if err := s.read(t[:], c.body()+8); err != nil {
				return err
			}
			handler = string(t[:])
		case "keys":
			if keys == nil {
				keys = &c
				return nil
			}
			others = append(others, c)
		case "ilst":
			if ilst == nil {
				ilst = &c
				return nil
			}
			others = append(others, c)
		case "free", "skip":
		default:
			others = append(others, c)
		}
		return nil
	})
	if err != nil {
		return e, err
	}
	where := "ilst"
	var kinds []avKind
	switch handler {
	case "mdir":
	case "mdta":
		where = "keys"
		if keys != nil {
			if kinds, err = s.keys(*keys); err != nil {
				return e, err
			}
		}
	default:
		s.judge(avOther, "meta", global)
		e.free(b)
		return e, nil
	}
	for _, c := range others {
		k := avOther
		switch c.typ {
		case "xml ", "bxml", "XMP_":
			k = avXMP
		case "uuid":
			if err := s.uuid(c, &e, global); err != nil {
				return e, err
			}
			continue
		}
		s.judge(k, "meta", global)
		e.free(c)
	}
	if ilst != nil {
		err = s.children(ilst.body(), ilst.end(), func(c bmffBox) error {
			if c.typ == "free" || c.typ == "skip" {
				return nil
			}
			var k avKind
			switch {
			case handler == "mdta":
				i := binary.BigEndian.Uint32([]byte(c.typ))
				k = avOther
				if i >= 1 && int64(i) <= int64(len(kinds)) {
					k = kinds[i-1]
				}
			case c.typ == "----":
				var err error
				if k, err = s.freeform(c); err != nil {
					return err
				}
			default:
				k = bmffItemKind(c.typ)
			}
			if s.judge(k, where, global) {
				e.free(c)
			} else {
				e.kept = true
			}
			return nil
		})
	}
	e.whole(b)
	return e, err
}

// keys reads a QuickTime keys box: the kind of each key, by index.
func (s *bmffScan) keys(b bmffBox) ([]avKind, error) {
	if b.bodyLen() < 8 {
		return nil, s.bad("keys box too short")
	}
	var h [8]byte
	if err := s.read(h[:], b.body()); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(h[4:8])
	if n > bmffMaxKeys {
		return nil, s.bad("keys box declares %d keys", n)
	}
	kinds := make([]avKind, 0, n)
	off := b.body() + 8
	for range n {
		if b.end()-off < 8 {
			return nil, s.bad("keys box cut short")
		}
		if err := s.read(h[:], off); err != nil {
			return nil, err
		}
		size := int64(binary.BigEndian.Uint32(h[:4]))
		if size < 8 || size > b.end()-off {
			return nil, s.bad("a key of %d bytes in a keys box", size)
		}
		name := make([]byte, min(size-8, 128))
		if err := s.read(name, off+8); err != nil {
			return nil, err
		}
		kinds = append(kinds, bmffKeyKind(string(name)))
		off += size
	}
	return kinds, nil
}

// freeform judges an iTunes freeform item (----) by its name: the gapless
// playback and loudness details are kept, anything else goes.
func (s *bmffScan) freeform(b bmffBox) (avKind, error) {
	k := avOther
	err := s.children(b.body(), b.end(), func(c bmffBox) error {
		if c.typ != "name" || c.bodyLen() < 4 {
			return nil
		}
		name := make([]byte, min(c.bodyLen()-4, 64))
		if err := s.read(name, c.body()+4); err != nil {
			return err
		}
		switch string(name) {
		case "iTunSMPB", "iTunNORM":
			k = avTech
		}
		return nil
	})
	return k, err
}

// bmffKeyKind judges a QuickTime metadata key (com.apple.quicktime.make).
func bmffKeyKind(key string) avKind {
	n := strings.ToLower(key)
	if strings.Contains(n, "location") || strings.Contains(n, "gps") || strings.Contains(n, "iso6709") {
		return avLocation
	}
	if strings.Contains(n, "serial") {
		return avSerial
	}
	switch n[strings.LastIndexByte(n, '.')+1:] {
	case "make", "model", "manufacturer", "lens":
		return avDevice
	case "software", "version", "encoder":
		return avSoftware
	case "creationdate", "date", "year":
		return avDate
	case "author", "artist", "director", "producer", "performer", "composer", "owner":
		return avAuthor
	case "comment", "description", "information", "keywords":
		return avComment
	case "title", "displayname":
		return avTitle
	case "copyright":
		return avCopyright
	case "album", "genre":
		return avAlbum
	case "publisher":
		return avPublisher
	case "artwork":
		return avCover
	}
	return avOther
}

// bmffItemKind judges a udta item or an iTunes ilst item by its type.
func bmffItemKind(typ string) avKind {
	switch typ {
	case "\xa9xyz", "loci":
		return avLocation
	case "\xa9mak", "\xa9mod", "manu", "modl", "FIRM", "LENS":
		return avDevice
	case "CAME", "MUID", "SNUM":
		return avSerial
	case "\xa9ART", "aART", "\xa9aut", "\xa9wrt", "\xa9com", "\xa9dir", "\xa9prd", "\xa9prf", "\xa9ope", "\xa9src",
		"\xa9phg", "\xa9edt", "\xa9con", "\xa9cnd", "auth", "perf", "ownr", "soar", "soaa", "soco":
		return avAuthor
	case "\xa9day", "yrrc", "purd", "\xa9dte":
		return avDate
	case "\xa9swr", "\xa9too", "\xa9enc":
		return avSoftware
	case "\xa9cmt", "\xa9des", "\xa9inf", "\xa9key", "desc", "ldes", "sdes", "dscp", "kywd":
		return avComment
	case "covr":
		return avCover
	case "XMP_":
		return avXMP
	case "apID", "atID", "cnID", "plID", "geID", "sfID", "akID", "cmID":
		return avAccount
	case "\xa9nam", "titl", "name":
		return avTitle
	case "cprt", "\xa9cpy":
		return avCopyright
	case "\xa9alb", "albm", "\xa9gen", "gnre", "trkn", "disk", "soal", "sonm", "\xa9grp", "tvsh", "tven", "tvsn", "tves", "tvnn":
		return avAlbum
	case "\xa9lyr":
		return avLyrics
	case "\xa9pub":
		return avPublisher
	case "lang", "elng":
		return avLanguage
	case "tmpo", "cpil", "pgap", "stik", "rtng", "clsf", "tsel", "kind", "hnti", "hinf", "chpl", "ptv ", "hdvd", "pcst":
		return avTech
	}
	return avOther
}

// bmffName is a box type for a report: as it is when it is printable.
func bmffName(typ string) string {
	for _, c := range []byte(typ) {
		if (c < 0x20 || c > 0x7e) && c != 0xa9 {
			return fmt.Sprintf("box %x", typ)
		}
	}
	return strings.ReplaceAll(typ, "\xa9", "©")
}
