// Package credit writes a release's credit line, copyright notice and
// usage terms into a picture (see hub.CreditWriter): XMP photoshop:Credit,
// dc:rights and xmpRights:UsageTerms, and the IPTC IIM credit and
// copyright notice where a JPEG carries an IIM record. Like the scrubber
// it works by segment and chunk surgery: pixels are copied, never decoded
// or re-encoded, and the source is read through io.ReaderAt, so only the
// metadata is ever held in memory.
//
// Each container has its own file; the XMP and IIM editing is shared.
package credit

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/syndication-hub/hub/hub"
)

// Writer is the hub's hub.CreditWriter.
type Writer struct{}

// New returns a Writer.
func New() *Writer { return &Writer{} }

var _ hub.CreditWriter = (*Writer)(nil)

// WriteCredit writes src (size bytes of contentType) with c written into
// it to dst. It reports false, having written nothing, when there is
// nothing to write: c is empty, the picture carries exactly c already, or
// its type is not one the writer edits (GIF, SVG, TIFF, PDF...). A file it
// cannot read is a *hub.NotParsedError.
func (w *Writer) WriteCredit(ctx context.Context, dst io.Writer, src io.ReaderAt, size int64, contentType string, c hub.Credit) (bool, error) {
	return Write(ctx, dst, src, size, contentType, c)
}

// Write is WriteCredit without a Writer, for callers that need no port.
func Write(ctx context.Context, dst io.Writer, src io.ReaderAt, size int64, contentType string, c hub.Credit) (bool, error) {
	v := valuesOf(c)
	if v.empty() {
		return false, nil
	}
	base, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		base = contentType
	}
	var plan func(context.Context, io.ReaderAt, int64, values) (layout, bool, error)
	switch base {
	case "image/jpeg":
		plan = planJPEG
	case "image/png", "image/apng", "image/vnd.mozilla.apng":
		plan = planPNG
	case "image/webp":
		plan = planWebP
	default:
		return false, nil
	}
	l, changed, err := plan(ctx, src, size, v)
	if err != nil || !changed {
		return false, err
	}
	if err := l.write(ctx, dst, src); err != nil {
		return false, err
	}
	return true, nil
}

// values are the three texts, made fit for XML and IIM; "" leaves what a
// file holds for that field as it is.
type values struct {
	credit, rights, usage string
}

func valuesOf(c hub.Credit) values {
	return values{credit: clean(c.Credit), rights: clean(c.CopyrightNotice), usage: clean(c.UsageTerms)}
}

func (v values) empty() bool { return v.credit == "" && v.rights == "" && v.usage == "" }

// clean makes s valid UTF-8 without the characters XML 1.0 forbids (a
// producer's text passed the hub's checks, but a picture must never come
// out unreadable because of one stray byte), trimmed of surrounding space.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000 {
			return r
		}
		return '\uFFFD'
	}, s)
	return strings.TrimSpace(s)
}

// piece is part of the output: n bytes of the source at off, or data.
type piece struct {
	off, n int64
	data   []byte
}

// layout is the output as pieces, planned before a byte is written, so a
// picture with nothing to write costs no output at all.
type layout []piece

// copy appends n bytes of the source at off, merged with a range just
// before it.
func (l *layout) copy(off, n int64) {
	if n == 0 {
		return
	}
	if k := len(*l); k > 0 {
		last := &(*l)[k-1]
		if last.data == nil && last.off+last.n == off {
			last.n += n
			return
		}
	}
	*l = append(*l, piece{off: off, n: n})
}

// add appends new bytes.
func (l *layout) add(b []byte) {
	if len(b) > 0 {
		*l = append(*l, piece{data: b})
	}
}

// size is the output's length.
func (l layout) size() int64 {
	var n int64
	for _, p := range l {
		if p.data != nil {
			n += int64(len(p.data))
		} else {
			n += p.n
		}
	}
	return n
}

func (l layout) write(ctx context.Context, dst io.Writer, src io.ReaderAt) error {
	w := bufio.NewWriterSize(dst, 64<<10)
	for _, p := range l {
		if err := ctx.Err(); err != nil {
			return err
		}
		if p.data != nil {
			if _, err := w.Write(p.data); err != nil {
				return fmt.Errorf("write credited picture: %w", err)
			}
			continue
		}
		if _, err := io.Copy(w, io.NewSectionReader(src, p.off, p.n)); err != nil {
			return fmt.Errorf("copy picture bytes at %d: %w", p.off, err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write credited picture: %w", err)
	}
	return nil
}

// maxMetadata bounds a metadata block the writer reads into memory.
const maxMetadata = 16 << 20

// readAt reads n bytes of src at off; a short read is a NotParsed for
// format (the file ends early).
func readAt(src io.ReaderAt, off int64, n int, format string) ([]byte, error) {
	b := make([]byte, n)
	k, err := src.ReadAt(b, off)
	if k == n {
		return b, nil
	}
	if err == nil || err == io.EOF {
		return nil, hub.NotParsed(format, "the file ends at byte %d, inside a block", off+int64(k))
	}
	return nil, fmt.Errorf("read %s at byte %d: %w", format, off, err)
}
