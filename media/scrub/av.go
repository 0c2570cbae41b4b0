package scrub

// What the audio and video scrubbers (bmff.go, mp3.go, wav.go, remux.go)
// share: how a piece of metadata is judged, and how the output is written
// as a list of pieces of the source with some bytes replaced.

import (
	"fmt"
	"io"

	"github.com/syndication-hub/hub/hub"
)

// avKind is a kind of metadata, as a scrubber judges it: what it is for a
// person, and in which packages it goes.
type avKind uint8

const (
	avTech       avKind = iota // technical details, kept without a word
	avTitle                    // kept
	avCopyright                // kept
	avLanguage                 // kept
	avAlbum                    // kept: album, genre, track number
	avLyrics                   // kept: the words are the work's own
	avPublisher                // kept: the organisation's credit
	avAuthor                   // anonymized packages
	avDate                     // anonymized packages
	avSoftware                 // anonymized packages
	avComment                  // anonymized packages
	avLocation                 // always
	avDevice                   // always
	avSerial                   // always
	avCover                    // always: a picture has its own metadata
	avXMP                      // always
	avTelemetry                // always
	avTimecode                 // always: a time of day is a date
	avDataTrack                // always
	avHandler                  // always: cameras name themselves there
	avOriginator               // always
	avRecorder                 // always
	avAccount                  // always
	avAttachment               // always
	avPrivate                  // always
	avOther                    // always: what the hub does not know may be anything
)

// field names the kind for a person; "" for technical details.
func (k avKind) field() string {
	switch k {
	case avTitle:
		return "title"
	case avCopyright:
		return "copyright notice"
	case avLanguage:
		return "language"
	case avAlbum:
		return "album and track number"
	case avLyrics:
		return "lyrics"
	case avPublisher:
		return "publisher"
	case avAuthor:
		return "author"
	case avDate:
		return "creation date"
	case avSoftware:
		return "software"
	case avComment:
		return "comment"
	case avLocation:
		return "GPS position"
	case avDevice:
		return "camera make and model"
	case avSerial:
		return "camera serial number"
	case avCover:
		return "cover picture"
	case avXMP:
		return "XMP metadata"
	case avTelemetry:
		return "GPS telemetry track"
	case avTimecode:
		return "timecode track"
	case avDataTrack:
		return "data track"
	case avHandler:
		return "video track name"
	case avOriginator:
		return "broadcast originator"
	case avRecorder:
		return "recording device"
	case avAccount:
		return "account name"
	case avAttachment:
		return "attached file"
	case avPrivate:
		return "private data"
	case avOther:
		return "other metadata"
	}
	return ""
}

// removes says whether the policy removes this kind.
func (k avKind) removes(p hub.ScrubPolicy) bool {
	switch {
	case k < avAuthor:
		return false
	case k < avLocation:
		return p.Anonymized
	}
	return true
}

// avFindings collects what one scan removed and kept, so that a scan can be
// thrown away (or done over) before it is reported.
type avFindings struct {
	removed []hub.Removal
	kept    []string
}

// judge records k, found in where, and says whether it goes.
func (f *avFindings) judge(k avKind, where string, p hub.ScrubPolicy) bool {
	if k.removes(p) {
		f.remove(k.field(), where)
		return true
	}
	if k.field() != "" {
		f.kept = append(f.kept, k.field())
	}
	return false
}

func (f *avFindings) remove(field, where string) {
	f.removed = append(f.removed, hub.Removal{Field: field, Where: where})
}

// report copies the findings into rep.
func (f *avFindings) report(rep *hub.ScrubReport) {
	for _, r := range f.removed {
		rep.Remove(r.Field, r.Where)
	}
	for _, k := range f.kept {
		rep.Keep(k)
	}
}

// avPiece is a run of output bytes: n bytes of the source from off, or lit,
// or n zero bytes.
type avPiece struct {
	off, n int64
	lit    []byte
	zero   bool
}

func avCopy(off, n int64) avPiece { return avPiece{off: off, n: n} }
func avLit(b []byte) avPiece      { return avPiece{lit: b, n: int64(len(b))} }
func avZero(n int64) avPiece      { return avPiece{n: n, zero: true} }

// avWrite writes the pieces to dst, reading the copied runs from r.
func avWrite(dst io.Writer, r io.ReaderAt, pieces []avPiece) error {
	var zeros [32 << 10]byte
	for _, pc := range pieces {
		switch {
		case pc.n <= 0:
		case pc.lit != nil:
			if _, err := dst.Write(pc.lit); err != nil {
				return fmt.Errorf("scrub: write: %w", err)
			}
		case pc.zero:
			for n := pc.n; n > 0; {
				k := min(n, int64(len(zeros)))
				if _, err := dst.Write(zeros[:k]); err != nil {
					return fmt.Errorf("scrub: write: %w", err)
				}
				n -= k
			}
		default:
			if _, err := io.Copy(dst, io.NewSectionReader(r, pc.off, pc.n)); err != nil {
				return fmt.Errorf("scrub: copy %d bytes from %d: %w", pc.n, pc.off, err)
			}
		}
	}
	return nil
}

// avPatch replaces n bytes of the source at off with lit followed by
// zeros: an in-place edit, the same size.
type avPatch struct {
	off, n int64
	lit    []byte
}

// avPatched turns in-place patches (sorted, not overlapping) of the bytes
// from start to end into pieces.
func avPatched(start, end int64, patches []avPatch) ([]avPiece, error) {
	pieces := make([]avPiece, 0, 3*len(patches)+1)
	pos := start
	for _, p := range patches {
		if p.off < pos || p.n < int64(len(p.lit)) || p.off+p.n > end {
			return nil, fmt.Errorf("scrub: patch of %d bytes at %d overlaps another or the end (%d)", p.n, p.off, end)
		}
		pieces = append(pieces, avCopy(pos, p.off-pos))
		if len(p.lit) > 0 {
			pieces = append(pieces, avLit(p.lit))
		}
		pieces = append(pieces, avZero(p.n-int64(len(p.lit))))
		pos = p.off + p.n
	}
	return append(pieces, avCopy(pos, end-pos)), nil
}

// avRead reads exactly len(b) bytes at off; a short read is io.ErrUnexpectedEOF.
func avRead(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("scrub: read %d bytes at %d: %w", len(b), off, err)
}

// avAllZero says whether the n bytes at off are all zero.
func avAllZero(r io.ReaderAt, off, n int64) (bool, error) {
	var buf [4 << 10]byte
	for n > 0 {
		k := min(n, int64(len(buf)))
		if err := avRead(r, buf[:k], off); err != nil {
			return false, err
		}
		for _, c := range buf[:k] {
			if c != 0 {
				return false, nil
			}
		}
		off += k
		n -= k
	}
	return true, nil
}
