package scrub

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/syndication-hub/hub/hub"
)

// What the picture scrubbers (jpeg.go, png.go, webp.go, gif.go, svg.go)
// share: which fields are kept under which policy, the names the report
// gives them, and the readers and limits every parser goes through.
//
// The policy, for every container alike:
//
//   - Always removed: locations (GPS, place names), device and person
//     identifiers (camera make, model and serial numbers, owner and
//     computer names, unique image IDs, maker notes), embedded thumbnails
//     and previews (an uncropped picture), edit history and document IDs,
//     content credentials (C2PA, which name their signer), data after the
//     picture, and whatever a scrubber does not know (unknown APPn
//     segments, private PNG chunks, vendor application extensions): a
//     field the hub cannot name is a field it cannot vouch for.
//   - Removed in anonymized packages, kept otherwise: author names,
//     creation and modification dates, software, captions, titles and
//     free-text comments (the list; IPTC wants the creator kept
//     for attribution where nobody needs hiding).
//   - Always kept: credit, copyright notice, usage terms and licence, the
//     ICC profile and the orientation.
//
// Metadata blocks mix all three (an XMP packet holds the GPS position next
// to the copyright notice), so a block is never edited in place: it is
// read, and if anything in it is to go it is dropped whole and replaced by
// a block the hub writes itself, holding only what is kept (an EXIF block
// with the orientation and copyright, an XMP packet with credit, rights,
// usage terms). A block with nothing to remove is copied byte for byte, so
// a file with nothing to remove comes out identical.

// keepClass says when a field is kept.
type keepClass uint8

const (
	removeAlways keepClass = iota
	keepAlways
	keepUnlessAnonymized
)

func (c keepClass) kept(p hub.ScrubPolicy) bool {
	return c == keepAlways || (c == keepUnlessAnonymized && !p.Anonymized)
}

// The fields the report names, for a person.
const (
	fieldGPS         = "GPS position"
	fieldLocation    = "location"
	fieldSerial      = "camera serial number"
	fieldLensSerial  = "lens serial number"
	fieldMakeModel   = "camera make and model"
	fieldLens        = "lens make and model"
	fieldOwner       = "owner name"
	fieldComputer    = "computer name"
	fieldUniqueID    = "image unique ID"
	fieldMakerNotes  = "maker notes"
	fieldAuthor      = "author"
	fieldContact     = "creator contact details"
	fieldCreated     = "creation date"
	fieldModified    = "modification date"
	fieldSoftware    = "software"
	fieldComment     = "comment"
	fieldTitle       = "title"
	fieldKeywords    = "keywords"
	fieldThumbnail   = "embedded thumbnail"
	fieldHistory     = "edit history"
	fieldC2PA        = "content credentials (C2PA)"
	fieldTrailer     = "data after the picture (secondary images)"
	fieldOtherEXIF   = "other EXIF data"
	fieldOther       = "other metadata"
	fieldUnreadable  = "metadata that could not be read"
	fieldExtendedXMP = "extended XMP data"
	fieldEmbedded    = "embedded image"
	fieldFilePath    = "local file path"
	fieldFileName    = "file name"
	fieldEditor      = "editor data"
	fieldDuplicate   = "duplicate metadata block"

	fieldOrientation = "orientation"
	fieldCopyright   = "copyright notice"
	fieldCredit      = "credit"
	fieldUsage       = "usage terms"
	fieldICC         = "ICC profile"
)

// Limits on what a parser reads into memory from a length it was given.
const (
	// maxMetadata is the largest metadata block (EXIF, XMP, a PNG text
	// chunk) read whole; a larger one is refused, not skipped: real ones
	// are kilobytes.
	maxMetadata = 16 << 20
	// bufSize is the buffer the streaming copies go through.
	bufSize = 64 << 10
)

// findings collects the fields a block removes and keeps, for the caller
// to report under the block's name.
type findings struct {
	removed []string
	kept    []string
}

func (f *findings) remove(field string) {
	for _, x := range f.removed {
		if x == field {
			return
		}
	}
	f.removed = append(f.removed, field)
}

func (f *findings) keep(field string) {
	for _, x := range f.kept {
		if x == field {
			return
		}
	}
	f.kept = append(f.kept, field)
}

// clean is whether the block has nothing to remove.
func (f *findings) clean() bool { return len(f.removed) == 0 }

// report records the findings, as found in where.
func (f *findings) report(rep *hub.ScrubReport, where string) {
	for _, field := range f.removed {
		rep.Remove(field, where)
	}
	for _, field := range f.kept {
		rep.Keep(field)
	}
}

// seqReader reads a source forward from an offset, knowing where it is.
type seqReader struct {
	br  *bufio.Reader
	off int64
}

func newSeqReader(src io.ReaderAt, off, size int64) *seqReader {
	return &seqReader{br: bufio.NewReaderSize(io.NewSectionReader(src, off, size-off), bufFor(size-off)), off: off}
}

// bufFor is the buffer for streaming n bytes: bufSize, or less for a
// small file.
func bufFor(n int64) int { return int(max(min(n, bufSize), 16)) }

// newWriter buffers the output of a scrub of a size-byte file.
func newWriter(dst io.Writer, size int64) *bufio.Writer {
	return bufio.NewWriterSize(dst, bufFor(size))
}

func (r *seqReader) ReadByte() (byte, error) {
	b, err := r.br.ReadByte()
	if err == nil {
		r.off++
	}
	return b, err
}

func (r *seqReader) readFull(b []byte) error {
	n, err := io.ReadFull(r.br, b)
	r.off += int64(n)
	return err
}

func (r *seqReader) discard(n int64) error {
	for n > 0 {
		k := int(min(n, 1<<30))
		d, err := r.br.Discard(k)
		r.off += int64(d)
		n -= int64(d)
		if err != nil {
			return err
		}
	}
	return nil
}

// copyN copies the next n bytes to w.
func (r *seqReader) copyN(w io.Writer, n int64) error {
	m, err := io.CopyN(tagWriter{w}, r.br, n)
	r.off += m
	return err
}

// readError turns a failed read into the error a scrubber returns: the end
// of the file where more was due is a NotParsed (truncated), a NotParsed
// or a cancelled context passes through, a failed write (writeErr) is a
// write error, anything else an I/O error.
func readError(format string, err error, what string, args ...any) error {
	var we writeErr
	var np *hub.NotParsedError
	switch {
	case errors.As(err, &we):
		return writeError(format, we.error)
	case errors.As(err, &np), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return hub.NotParsed(format, "truncated: the file ends in %s", fmt.Sprintf(what, args...))
	}
	return fmt.Errorf("scrub %s: reading %s: %w", format, fmt.Sprintf(what, args...), err)
}

// writeError wraps a failed write.
func writeError(format string, err error) error {
	return fmt.Errorf("scrub %s: writing: %w", format, err)
}

// writeErr marks an error as a failed write, inside copies whose errors
// may be a read's or a write's.
type writeErr struct{ error }

func (e writeErr) Unwrap() error { return e.error }

// tagWriter marks its writer's errors as writeErr.
type tagWriter struct{ w io.Writer }

func (t tagWriter) Write(b []byte) (int, error) {
	n, err := t.w.Write(b)
	if err != nil {
		err = writeErr{err}
	}
	return n, err
}

// copyRange copies n bytes of src from off to w.
func copyRange(w io.Writer, src io.ReaderAt, off, n int64) error {
	_, err := io.Copy(tagWriter{w}, io.NewSectionReader(src, off, n))
	return err
}

// readAt reads n bytes of src at off (n is bounded by the caller).
func readAt(src io.ReaderAt, off int64, n int) ([]byte, error) {
	b := make([]byte, n)
	k, err := src.ReadAt(b, off)
	if k == n {
		return b, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}

// memSource is a hub.ScrubSource over bytes in memory (an image embedded
// in an SVG document).
type memSource struct{ *bytes.Reader }

func (m memSource) Path() string { return "" }

// isSpace reports whether b is only XML white space.
func isSpace(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			return false
		}
	}
	return true
}
