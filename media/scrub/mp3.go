package scrub

// MP3 carries its metadata in tags around the audio frames: ID3v2 at the
// start (and sometimes at the end, found by its footer), APEv2, Lyrics3
// and ID3v1 at the end. The frames between them are copied untouched.
//
// ID3v2 is scrubbed frame by frame, read by the lengths in its headers
// (syncsafe where the version says so, bounded by the tag): the frames
// kept are copied as they are into a new tag of the same version without
// padding, an extended header or a footer. Always removed: cover pictures
// (APIC: a picture carries its own EXIF), attached objects (GEOB), private
// frames (PRIV, where XMP hides), user-defined text and links (TXXX,
// WXXX), file identifiers, ratings with an e-mail (POPM), purchase
// details, chapters (CHAP and CTOC hold frames of their own) and any frame
// the hub does not know. Removed in anonymized packages: artists,
// composers, lyricists, encoded-by and owner (TPE1..4, TCOM, TEXT, TOLY,
// TOPE, TIPL, TMCL, TENC, TOWN...), dates (TDRC, TYER...), software (TSSE)
// and comments (COMM). Kept: title, album, genre, track number, language,
// lyrics, publisher and copyright (TCOP, WCOP): IPTC's credit and rights.
// A tag whose frames cannot be told apart (ID3v2.2 and 2.3
// unsynchronisation of the whole tag, v2.2 compression) goes whole.
//
// ID3v1 (and Enhanced TAG) has no room for a location: in anonymized
// packages its artist, year and comment are blanked in place, and its
// title, album and genre stay. An APEv2 tag, a Lyrics3 tag or an ID3v2
// tag at the end goes whole when it holds anything the policy removes.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/syndication-hub/hub/hub"
)

const (
	id3MaxTags     = 64      // ID3v2 tags at the start of one file, at most
	id3MaxFrames   = 1 << 12 // frames (or APE items) in one tag, at most
	mp3MaxTrailers = 16      // tags at the end of one file, at most
)

// scrubMP3 scrubs an MP3 file.
func scrubMP3(dst io.Writer, src hub.ScrubSource, p hub.ScrubPolicy, rep *hub.ScrubReport) error {
	rep.Format = "MP3"
	m := &mp3Scan{r: src, size: src.Size(), p: p}
	pieces, err := m.scan()
	if err != nil {
		return err
	}
	m.found.report(rep)
	return avWrite(dst, src, pieces)
}

type mp3Scan struct {
	r     io.ReaderAt
	size  int64
	p     hub.ScrubPolicy
	found avFindings
}

func (m *mp3Scan) bad(reason string, args ...any) error {
	return hub.NotParsed("MP3", reason, args...)
}

func (m *mp3Scan) read(b []byte, off int64) error {
	if err := avRead(m.r, b, off); err != nil {
		return fmt.Errorf("scrub: MP3: %w", err)
	}
	return nil
}

// scan decides the output: the tags at the start, the audio, the tags at
// the end.
func (m *mp3Scan) scan() ([]avPiece, error) {
	var pieces []avPiece
	pos := int64(0)
	for i := 0; ; i++ {
		tag, ok, err := id3Read(m.r, pos, m.size, "MP3")
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if i == id3MaxTags {
			return nil, m.bad("more than %d ID3v2 tags", id3MaxTags)
		}
		pieces = append(pieces, m.id3(tag)...)
		pos = tag.off + tag.n
	}
	end := m.size
	var tail [][]avPiece
	last := ""
	for i := 0; ; i++ {
		kind, off, err := m.trailer(pos, end, last)
		if err != nil {
			return nil, err
		}
		if kind == "" {
			break
		}
		if i == mp3MaxTrailers {
			return nil, m.bad("more than %d tags at the end", mp3MaxTrailers)
		}
		t, err := m.trailerPieces(kind, off, end)
		if err != nil {
			return nil, err
		}
		tail = append(tail, t)
		end, last = off, kind
	}
	pieces = append(pieces, avCopy(pos, end-pos))
	for i := len(tail) - 1; i >= 0; i-- {
		pieces = append(pieces, tail[i]...)
	}
	return pieces, nil
}

// id3 decides an ID3v2 tag at the start: as it is, rebuilt with the frames
// kept, or gone.
func (m *mp3Scan) id3(t id3Tag) []avPiece {
	if t.opaque {
		id3Gone(&t, &m.found, "ID3v2")
		return nil
	}
	var keep []id3Frame
	removed := t.junk
	if t.junk {
		m.found.remove(avOther.field(), "ID3v2")
	}
	for _, f := range t.frames {
		if m.found.judge(f.kind(), "ID3v2", m.p) {
			removed = true
		} else {
			keep = append(keep, f)
		}
	}
	switch {
	case !removed:
		return []avPiece{avCopy(t.off, t.n)}
	case len(keep) == 0:
		return nil
	}
	var n int64
	for _, f := range keep {
		n += f.n
	}
	flags := byte(0)
	if t.major == 4 {
		flags = t.flags & 0x80 // every frame unsynchronised: they still are
	}
	hdr := []byte{'I', 'D', '3', t.major, 0, flags, byte(n >> 21 & 0x7f), byte(n >> 14 & 0x7f), byte(n >> 7 & 0x7f), byte(n & 0x7f)}
	pieces := []avPiece{avLit(hdr)}
	for _, f := range keep {
		pieces = append(pieces, avCopy(f.off, f.n))
	}
	return pieces
}

// trailer finds the tag that ends at end, after pos: its kind ("" for
// none) and where it starts.
func (m *mp3Scan) trailer(pos, end int64, last string) (string, int64, error) {
	var b [32]byte
	has := func(off int64, magic string) (bool, error) {
		if off < pos {
			return false, nil
		}
		if err := m.read(b[:len(magic)], off); err != nil {
			return false, err
		}
		return string(b[:len(magic)]) == magic, nil
	}
	if ok, err := has(end-128, "TAG"); ok || err != nil {
		return "ID3v1", end - 128, err
	}
	if last == "ID3v1" {
		if ok, err := has(end-227, "TAG+"); ok || err != nil {
			return "TAG+", end - 227, err
		}
	}
	if ok, err := has(end-9, "LYRICS200"); err != nil {
		return "", 0, err
	} else if ok {
		if end-15 < pos {
			return "", 0, m.bad("Lyrics3 tag cut short")
		}
		if err := m.read(b[:6], end-15); err != nil {
			return "", 0, err
		}
		n, err := strconv.ParseUint(string(b[:6]), 10, 32)
		start := end - 15 - int64(n)
		if err != nil || start < pos {
			return "", 0, m.bad("Lyrics3 tag of a bad size")
		}
		if ok, err := has(start, "LYRICSBEGIN"); !ok || err != nil {
			return "", 0, cmpErr(err, m.bad("Lyrics3 tag without its beginning"))
		}
		return "Lyrics3", start, nil
	}
	if ok, err := has(end-9, "LYRICSEND"); err != nil {
		return "", 0, err
	} else if ok {
		from := max(pos, end-9-5100-11)
		window := make([]byte, end-9-from)
		if err := m.read(window, from); err != nil {
			return "", 0, err
		}
		i := bytes.LastIndex(window, []byte("LYRICSBEGIN"))
		if i < 0 {
			return "", 0, m.bad("Lyrics3 tag without its beginning")
		}
		return "Lyrics3v1", from + int64(i), nil
	}
	if ok, err := has(end-32, "APETAGEX"); err != nil {
		return "", 0, err
	} else if ok {
		if err := m.read(b[:], end-32); err != nil {
			return "", 0, err
		}
		n := int64(binary.LittleEndian.Uint32(b[12:16]))
		header := binary.LittleEndian.Uint32(b[20:24])&(1<<31) != 0
		if header {
			n += 32
		}
		if n < 32 || end-n < pos {
			return "", 0, m.bad("APEv2 tag of a bad size")
		}
		if ok, err := has(end-n, "APETAGEX"); header && (!ok || err != nil) {
			return "", 0, cmpErr(err, m.bad("APEv2 tag without its header"))
		}
		return "APEv2", end - n, nil
	}
	if ok, err := has(end-10, "3DI"); err != nil {
		return "", 0, err
	} else if ok {
		if err := m.read(b[:10], end-10); err != nil {
			return "", 0, err
		}
		n, ok := id3Size(b[6:10])
		start := end - 20 - n
		if !ok || start < pos {
			return "", 0, m.bad("ID3v2 footer of a bad size")
		}
		return "ID3v2", start, nil
	}
	return "", 0, nil
}

// cmpErr is err, or alt when err is nil.
func cmpErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// trailerPieces decides the tag of kind from off to end.
func (m *mp3Scan) trailerPieces(kind string, off, end int64) ([]avPiece, error) {
	switch kind {
	case "ID3v1", "TAG+":
		return m.id3v1(kind, off, end)
	case "ID3v2":
		t, ok, err := id3Read(m.r, off, end, "MP3")
		if err != nil {
			return nil, err
		}
		if !ok || t.n != end-off {
			return nil, m.bad("ID3v2 footer without its tag")
		}
		if t.opaque {
			id3Gone(&t, &m.found, "ID3v2")
			return nil, nil
		}
		kinds := make([]avKind, 0, len(t.frames))
		for _, f := range t.frames {
			kinds = append(kinds, f.kind())
		}
		return m.whole(kinds, t.junk, "ID3v2", off, end), nil
	case "APEv2":
		kinds, err := m.ape(off, end)
		if err != nil {
			return nil, err
		}
		return m.whole(kinds, false, "APEv2", off, end), nil
	}
	kinds, err := m.lyrics3(kind, off, end)
	if err != nil {
		return nil, err
	}
	return m.whole(kinds, false, "Lyrics3", off, end), nil
}

// whole keeps a tag as it is when the policy removes none of its items,
// and drops it whole (reporting all of them) when it removes any.
func (m *mp3Scan) whole(kinds []avKind, junk bool, where string, off, end int64) []avPiece {
	drop := junk
	for _, k := range kinds {
		drop = drop || k.removes(m.p)
	}
	if !drop {
		for _, k := range kinds {
			m.found.judge(k, where, m.p)
		}
		return []avPiece{avCopy(off, end-off)}
	}
	if junk {
		m.found.remove(avOther.field(), where)
	}
	for _, k := range kinds {
		if f := k.field(); f != "" {
			m.found.remove(f, where)
		}
	}
	return nil
}

// id3v1 blanks an ID3v1 (or Enhanced TAG) tag's fields the policy removes.
func (m *mp3Scan) id3v1(kind string, off, end int64) ([]avPiece, error) {
	b := make([]byte, end-off)
	if err := m.read(b, off); err != nil {
		return nil, err
	}
	type field struct {
		from, to int
		k        avKind
	}
	fields := []field{{4, 64, avTitle}, {64, 124, avAuthor}, {124, 184, avAlbum}} // Enhanced TAG
	if kind == "ID3v1" {
		fields = []field{{3, 33, avTitle}, {33, 63, avAuthor}, {63, 93, avAlbum}, {93, 97, avDate}, {97, 127, avComment}}
		if b[125] == 0 && b[126] != 0 { // ID3v1.1: a track number ends the comment
			fields[4].to = 125
		}
	}
	changed := false
	for _, f := range fields {
		if len(bytes.Trim(b[f.from:f.to], " \x00")) == 0 {
			continue
		}
		if m.found.judge(f.k, kind, m.p) {
			clear(b[f.from:f.to])
			changed = true
		}
	}
	if !changed {
		return []avPiece{avCopy(off, end-off)}, nil
	}
	return []avPiece{avLit(b)}, nil
}

// ape reads the kinds of an APEv2 tag's items.
func (m *mp3Scan) ape(off, end int64) ([]avKind, error) {
	var f [32]byte
	if err := m.read(f[:], end-32); err != nil {
		return nil, err
	}
	count := binary.LittleEndian.Uint32(f[16:20])
	if count > id3MaxFrames {
		return nil, m.bad("APEv2 tag of %d items", count)
	}
	pos := off
	if binary.LittleEndian.Uint32(f[20:24])&(1<<31) != 0 {
		pos += 32
	}
	items := end - 32
	kinds := make([]avKind, 0, count)
	var h [8 + 256]byte
	for range count {
		if items-pos < 8+2 {
			return nil, m.bad("APEv2 tag cut short")
		}
		b := h[:min(int64(len(h)), items-pos)]
		if err := m.read(b, pos); err != nil {
			return nil, err
		}
		size := int64(binary.LittleEndian.Uint32(b[:4]))
		key, _, ok := bytes.Cut(b[8:], []byte{0})
		if !ok || len(key) == 0 || pos+8+int64(len(key))+1+size > items {
			return nil, m.bad("APEv2 item of a bad size")
		}
		kinds = append(kinds, apeKind(string(key)))
		pos += 8 + int64(len(key)) + 1 + size
	}
	return kinds, nil
}

// lyrics3 reads the kinds of a Lyrics3 tag's fields.
func (m *mp3Scan) lyrics3(kind string, off, end int64) ([]avKind, error) {
	if kind == "Lyrics3v1" {
		return []avKind{avLyrics}, nil
	}
	var kinds []avKind
	var h [8]byte
	for pos, fields := off+11, end-15; pos < fields; {
		if fields-pos < 8 || len(kinds) == id3MaxFrames {
			return nil, m.bad("Lyrics3 tag of bad fields")
		}
		if err := m.read(h[:], pos); err != nil {
			return nil, err
		}
		n, err := strconv.ParseUint(string(h[3:8]), 10, 32)
		if err != nil || pos+8+int64(n) > fields {
			return nil, m.bad("Lyrics3 field of a bad size")
		}
		k := avOther
		switch string(h[:3]) {
		case "LYR":
			k = avLyrics
		case "IND":
			k = avTech
		case "INF":
			k = avComment
		case "AUT", "EAR":
			k = avAuthor
		case "EAL":
			k = avAlbum
		case "ETT":
			k = avTitle
		}
		kinds = append(kinds, k)
		pos += 8 + int64(n)
	}
	return kinds, nil
}

// id3Tag is an ID3v2 tag: where it is (header and footer included), its
// version and flags, and its frames.
type id3Tag struct {
	off, n int64
	major  byte
	flags  byte
	frames []id3Frame
	opaque bool // its frames cannot be told apart
	junk   bool // bytes after the frames that are not padding
}

// id3Frame is one frame, its header included; desc is a TXXX frame's
// description ("comment"), when it can be read.
type id3Frame struct {
	id     string
	off, n int64
	desc   string
}

// kind judges the frame: a TXXX by its description, others by their id.
func (f id3Frame) kind() avKind {
	if f.desc != "" {
		if k := remuxKeyKind(f.desc); k != avTech {
			return k
		}
	}
	return id3Kind(f.id)
}

// id3Size reads a syncsafe integer.
func id3Size(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c >= 0x80 {
			return 0, false
		}
		n = n<<7 | int64(c)
	}
	return n, true
}

// id3Read reads the ID3v2 tag at off, which must end by end; ok is false
// when there is none.
func id3Read(r io.ReaderAt, off, end int64, format string) (t id3Tag, ok bool, err error) {
	if end-off < 10 {
		return t, false, nil
	}
	var h [10]byte
	if err := avRead(r, h[:], off); err != nil {
		return t, false, fmt.Errorf("scrub: %s: %w", format, err)
	}
	if string(h[:3]) != "ID3" {
		return t, false, nil
	}
	size, ok := id3Size(h[6:10])
	if !ok || h[3] < 2 || h[3] > 4 || h[4] == 0xff {
		return t, false, hub.NotParsed(format, "bad ID3v2 header at %d", off)
	}
	t = id3Tag{off: off, n: 10 + size, major: h[3], flags: h[5]}
	if t.major == 4 && t.flags&0x10 != 0 {
		t.n += 10
	}
	if t.n > end-off {
		return t, false, hub.NotParsed(format, "ID3v2 tag at %d runs past the end", off)
	}
	if (t.major < 4 && t.flags&0x80 != 0) || (t.major == 2 && t.flags&0x40 != 0) {
		t.opaque = true
		return t, true, nil
	}
	return t, true, id3Frames(r, &t, off+10+size, format)
}

// id3Frames reads the frame headers of t, whose frames end at dataEnd.
func id3Frames(r io.ReaderAt, t *id3Tag, dataEnd int64, format string) error {
	bad := func(reason string, args ...any) error { return hub.NotParsed(format, reason, args...) }
	pos := t.off + 10
	var h [10]byte
	if t.major > 2 && t.flags&0x40 != 0 { // an extended header
		if dataEnd-pos < 6 {
			return bad("ID3v2 extended header cut short")
		}
		if err := avRead(r, h[:4], pos); err != nil {
			return fmt.Errorf("scrub: %s: %w", format, err)
		}
		n, ok := id3Size(h[:4])
		if t.major == 3 {
			n, ok = int64(binary.BigEndian.Uint32(h[:4]))+4, true
		}
		if !ok || n < 6 || n > dataEnd-pos {
			return bad("ID3v2 extended header of a bad size")
		}
		pos += n
	}
	hdr, idLen := int64(10), 4
	if t.major == 2 {
		hdr, idLen = 6, 3
	}
	for dataEnd-pos >= hdr {
		if err := avRead(r, h[:hdr], pos); err != nil {
			return fmt.Errorf("scrub: %s: %w", format, err)
		}
		if h[0] == 0 {
			break
		}
		id := string(h[:idLen])
		if !id3ValidID(id) {
			t.junk = true
			return nil
		}
		var n int64
		switch t.major {
		case 2:
			n = int64(h[3])<<16 | int64(h[4])<<8 | int64(h[5])
		case 3:
			n = int64(binary.BigEndian.Uint32(h[4:8]))
		default:
			var ok bool
			if n, ok = id3Size(h[4:8]); !ok { // some writers forget v2.4's syncsafe sizes
				n = int64(binary.BigEndian.Uint32(h[4:8]))
			}
		}
		if n > dataEnd-pos-hdr {
			return bad("ID3v2 frame %s runs past its tag", id)
		}
		if len(t.frames) == id3MaxFrames {
			return bad("more than %d ID3v2 frames", id3MaxFrames)
		}
		f := id3Frame{id: id, off: pos, n: hdr + n}
		if (id == "TXXX" || id == "TXX") && (hdr == 6 || h[8]|h[9] == 0) {
			d, err := id3Desc(r, pos+hdr, min(n, 66))
			if err != nil {
				return fmt.Errorf("scrub: %s: %w", format, err)
			}
			f.desc = d
		}
		t.frames = append(t.frames, f)
		pos += hdr + n
	}
	zero, err := avAllZero(r, pos, dataEnd-pos)
	if err != nil {
		return fmt.Errorf("scrub: %s: %w", format, err)
	}
	t.junk = !zero
	return nil
}

// id3Desc reads the description that starts a TXXX frame of n bytes
// (n small): its text encoding, then the text up to a NUL. UTF-16 is read
// for its ASCII.
func id3Desc(r io.ReaderAt, off, n int64) (string, error) {
	if n < 2 {
		return "", nil
	}
	b := make([]byte, n)
	if err := avRead(r, b, off); err != nil {
		return "", err
	}
	enc, b := b[0], b[1:]
	if enc == 1 || enc == 2 {
		var a []byte
		if len(b) >= 2 && (b[0] == 0xff && b[1] == 0xfe || b[0] == 0xfe && b[1] == 0xff) {
			b = b[2:]
		}
		for i := 0; i+1 < len(b); i += 2 {
			c := b[i] | b[i+1]
			if c == 0 {
				break
			}
			a = append(a, c)
		}
		b = a
	} else if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b), nil
}

func id3ValidID(id string) bool {
	for _, c := range []byte(id) {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// id3Kind judges an ID3v2 frame by its id.
func id3Kind(id string) avKind {
	if len(id) == 3 {
		id = id3v22(id)
	}
	switch id {
	case "TIT1", "TIT2", "TIT3", "TSOT":
		return avTitle
	case "TCOP", "WCOP", "USER":
		return avCopyright
	case "TALB", "TOAL", "TSOA", "TCON", "TRCK", "TPOS", "TSST":
		return avAlbum
	case "TLAN":
		return avLanguage
	case "USLT", "SYLT":
		return avLyrics
	case "TPUB", "WPUB", "TRSN", "TRSO", "WORS":
		return avPublisher
	case "TPE1", "TPE2", "TPE3", "TPE4", "TCOM", "TEXT", "TOLY", "TOPE", "TIPL", "TMCL", "IPLS", "TSOP", "TSO2", "TSOC", "TOWN", "TENC", "WOAR":
		return avAuthor
	case "TDRC", "TYER", "TDAT", "TIME", "TDRL", "TDEN", "TDTG", "TORY", "TDOR", "TRDA":
		return avDate
	case "TSSE":
		return avSoftware
	case "COMM":
		return avComment
	case "APIC":
		return avCover
	case "GEOB":
		return avAttachment
	case "PRIV":
		return avPrivate
	case "POPM", "COMR", "OWNE":
		return avAccount
	case "TLEN", "TBPM", "TKEY", "TMED", "TFLT", "TDLY", "TSRC", "TMOO", "TPRO", "TCMP", "RVA2", "RVAD", "EQU2", "EQUA",
		"ETCO", "MLLT", "SYTC", "POSS", "ASPI", "SEEK", "RBUF", "PCNT", "RVRB":
		return avTech
	}
	return avOther
}

// id3v22 maps an ID3v2.2 frame id to its ID3v2.3 one.
func id3v22(id string) string {
	switch id {
	case "TT1":
		return "TIT1"
	case "TT2":
		return "TIT2"
	case "TT3":
		return "TIT3"
	case "TP1":
		return "TPE1"
	case "TP2":
		return "TPE2"
	case "TP3":
		return "TPE3"
	case "TP4":
		return "TPE4"
	case "TCM":
		return "TCOM"
	case "TXT":
		return "TEXT"
	case "TOL":
		return "TOLY"
	case "TOA":
		return "TOPE"
	case "TOT":
		return "TOAL"
	case "TAL":
		return "TALB"
	case "TCO":
		return "TCON"
	case "TCR":
		return "TCOP"
	case "TRK":
		return "TRCK"
	case "TPA":
		return "TPOS"
	case "TLA":
		return "TLAN"
	case "TLE":
		return "TLEN"
	case "TBP":
		return "TBPM"
	case "TKE":
		return "TKEY"
	case "TMT":
		return "TMED"
	case "TFT":
		return "TFLT"
	case "TDY":
		return "TDLY"
	case "TRC":
		return "TSRC"
	case "TPB":
		return "TPUB"
	case "TEN":
		return "TENC"
	case "TSS":
		return "TSSE"
	case "TYE":
		return "TYER"
	case "TDA":
		return "TDAT"
	case "TIM":
		return "TIME"
	case "TRD":
		return "TRDA"
	case "TOR":
		return "TORY"
	case "IPL":
		return "IPLS"
	case "COM":
		return "COMM"
	case "ULT":
		return "USLT"
	case "SLT":
		return "SYLT"
	case "PIC":
		return "APIC"
	case "GEO":
		return "GEOB"
	case "POP":
		return "POPM"
	case "CNT":
		return "PCNT"
	case "RVA":
		return "RVAD"
	case "EQU":
		return "EQUA"
	case "ETC":
		return "ETCO"
	case "MLL":
		return "MLLT"
	case "STC":
		return "SYTC"
	case "BUF":
		return "RBUF"
	case "REV":
		return "RVRB"
	case "WCP":
		return "WCOP"
	case "WPB":
		return "WPUB"
	case "WAR":
		return "WOAR"
	}
	return id // TXX, WXX, UFI, CRA, CRM, LNK...: unknown, removed
}

// apeKind judges an APEv2 item by its key.
func apeKind(key string) avKind {
	k := strings.ToLower(key)
	switch k {
	case "title", "subtitle":
		return avTitle
	case "copyright":
		return avCopyright
	case "album", "genre", "track", "disc", "discnumber", "tracknumber":
		return avAlbum
	case "language":
		return avLanguage
	case "lyrics":
		return avLyrics
	case "publisher", "label":
		return avPublisher
	case "artist", "album artist", "albumartist", "composer", "conductor", "performer", "lyricist", "writer", "arranger", "engineer":
		return avAuthor
	case "year", "record date", "date":
		return avDate
	case "tool name", "tool version", "encoder", "encoded by", "encodedby":
		return avSoftware
	case "comment", "description", "notes":
		return avComment
	case "isrc", "bpm", "media", "index":
		return avTech
	}
	switch {
	case strings.HasPrefix(k, "replaygain_"), strings.HasPrefix(k, "mp3gain_"):
		return avTech
	case strings.HasPrefix(k, "cover art"):
		return avCover
	}
	return avOther
}

// id3Gone reports the frames of an ID3v2 tag that goes whole; t may be
// unreadable (nil).
func id3Gone(t *id3Tag, found *avFindings, where string) {
	if t == nil || t.opaque || len(t.frames) == 0 {
		found.remove("ID3 tag", where)
		return
	}
	for _, f := range t.frames {
		if k := f.kind().field(); k != "" {
			found.remove(k, where)
		}
	}
}
