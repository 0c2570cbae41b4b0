package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Scrubbing removes what could identify a person, a place or a device from
// an asset's bytes before they are stored: a survivor who spoke on
// condition of anonymity must not be found through the GPS position in a
// poster or the name of the laptop an interview was cut on. It follows
// IPTC's guidance: remove what identifies, keep credit, copyright, usage
// terms, the colour profile and the orientation. Pixels and essence are
// never re-encoded.

// ScrubPolicy says how much a scrub removes.
type ScrubPolicy struct {
	// Anonymized is the package's flag: besides locations and device
	// identifiers (always removed), creator and author names, creation
	// dates, software and free-text comments go, and a file the hub cannot
	// scrub is refused instead of stored unchanged.
	Anonymized bool
}

// ScrubReport says what a scrub found and removed from one asset, for its
// producers (never partners: the removed values themselves are never
// kept, only what kind of thing was there).
type ScrubReport struct {
	// Format is the container the scrubber read ("JPEG", "MP4", ...).
	Format string `json:"format"`
	// Removed lists what went, by field.
	Removed []Removal `json:"removed,omitempty"`
	// Kept lists what was kept on purpose ("ICC profile", "orientation",
	// "copyright notice").
	Kept []string `json:"kept,omitempty"`
	// NotParsed, when set, says why the file was stored as received: the
	// hub recognised it but could not read it (or has no scrubber for its
	// type) in a package that is not anonymized.
	NotParsed string `json:"not_parsed,omitempty"`
	// Received is the digest and size of the bytes the client sent; the
	// asset's own SHA256 and Size are those of the stored bytes.
	Received Digest `json:"received"`
}

// Removal is one kind of thing a scrub removed.
type Removal struct {
	// Field is what it was, for a person: "GPS position", "camera serial
	// number", "author".
	Field string `json:"field"`
	// Where is the part of the file it was in: "EXIF", "XMP", "udta".
	Where string `json:"where"`
}

// Digest names some bytes by their SHA-256 (hex) and length.
type Digest struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Remove records a removal, once per field and place.
func (r *ScrubReport) Remove(field, where string) {
	for _, x := range r.Removed {
		if x.Field == field && x.Where == where {
			return
		}
	}
	r.Removed = append(r.Removed, Removal{Field: field, Where: where})
}

// Keep records something kept on purpose, once.
func (r *ScrubReport) Keep(what string) {
	for _, x := range r.Kept {
		if x == what {
			return
		}
	}
	r.Kept = append(r.Kept, what)
}

// ScrubSource is the received bytes of one upload, spooled to scratch
// space: scrubbers need to read them more than once (an MP4's index may
// come after its media) and some tools need a file.
type ScrubSource interface {
	io.ReaderAt
	// Size is how many bytes were received.
	Size() int64
	// Path is the file's name on the scratch disk, for tools that read a
	// file; never shown to anyone.
	Path() string
}

// Scratch is where an upload's received bytes wait while they are
// scrubbed; nothing unscrubbed goes anywhere else.
type Scratch interface {
	// Spool copies r (size bytes, -1 when unknown) into a new scratch
	// file named for upload (a ULID made when it began), refusing with
	// EFULL before reading when the disk lacks room. It returns once the
	// file is made and copies in the background, so the scrub and the
	// store can follow the bytes as they arrive; Wait says how the copy
	// ended. Close removes the file, whatever happened.
	Spool(ctx context.Context, upload string, r io.Reader, size int64) (SpooledUpload, error)

	// Sweep removes scratch files last written before cutoff whose upload
	// inUse does not claim, as BlobStore.SweepPartial does, and returns
	// how many it removed.
	Sweep(ctx context.Context, cutoff time.Time, inUse func(upload string) bool) (int, error)

	// Workspace makes an empty directory named for id (a ULID) for a
	// job's files, swept like the spooled uploads; remove deletes it.
	Workspace(id string) (path string, remove func(), err error)
}

// SpooledUpload is an upload's received bytes on the scratch disk, read
// while they arrive: ReadAt waits for the bytes it asks for, and fails
// with the copy's error when they never come; Size is the declared length
// until the copy ends (an unknown one waits for the end), and Path waits
// for the end too, since tools read the whole file. Close removes them.
type SpooledUpload interface {
	ScrubSource
	// Arriving reports whether bytes are still being received.
	Arriving() bool
	// Wait blocks until every byte is received, and returns the copy's
	// error: the client's broken-off body, a full disk.
	Wait() error
	io.Closer
}

// StillArriving reports whether src is an upload still being received: a
// scrubber that writes as it reads may then meet, late in the file,
// something that undoes what it wrote (ErrScrubAgain).
func StillArriving(src ScrubSource) bool {
	a, ok := src.(interface{ Arriving() bool })
	return ok && a.Arriving()
}

// ErrScrubAgain is a scrubber's answer when it wrote, following the bytes
// as they arrived, what a part of the file it read later shows to be
// wrong (an MP4 whose index, after its media, reveals a GPS track that
// only a remux removes): the caller discards the output and scrubs again
// once the whole file is there.
var ErrScrubAgain = errors.New("scrub: the file must be read whole before it is scrubbed")

// ScrubReportStore keeps each stored blob's scrub report by the blob's
// content sum: identical stored bytes share one, and it goes when the
// blob's last reference does.
type ScrubReportStore interface {
	// PutScrubReport records the report for sum, replacing one there.
	PutScrubReport(ctx context.Context, sum string, r *ScrubReport) error
	// ScrubReport returns the report for sum, or ENOTFOUND.
	ScrubReport(ctx context.Context, sum string) (*ScrubReport, error)
	// DeleteScrubReport removes the report for sum; none is no error.
	DeleteScrubReport(ctx context.Context, sum string) error
}

// Scrubber removes identifying metadata from an asset.
type Scrubber interface {
	// Scrub reads src, sniffed as contentType, and writes the bytes to
	// store to dst, reporting into rep. Bytes with nothing to remove are
	// written unchanged. A file it recognises but cannot read is a
	// *NotParsedError, whatever it wrote to dst by then (the caller starts
	// over); a type it has no scrubber for is a *NotParsedError too.
	Scrub(ctx context.Context, dst io.Writer, src ScrubSource, contentType string, p ScrubPolicy, rep *ScrubReport) error
}

// NotParsedError is a file the scrubber could not read as its type says.
type NotParsedError struct {
	Format string
	Reason string
}

func (e *NotParsedError) Error() string {
	return fmt.Sprintf("not parsed: %s: %s", e.Format, e.Reason)
}

// NotParsed returns a *NotParsedError.
func NotParsed(format, reason string, args ...any) *NotParsedError {
	return &NotParsedError{Format: format, Reason: fmt.Sprintf(reason, args...)}
}

// ScrubReport returns what scrubbing found and removed in asset name of
// package id, for those who may change the package (its producers and
// admins); to anyone else the package does not exist. It is the report of
// the asset's bytes as stored now.
func (s *Service) ScrubReport(ctx context.Context, k *Key, id, name string) (*ScrubReport, error) {
	if !ValidID(id) {
		return nil, notFound(id)
	}
	p, err := s.catalog.Package(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, notFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("read package %s: %w", id, err)
	}
	if !CanEdit(k, p) {
		return nil, notFound(id)
	}
	a := p.Asset(name)
	if a == nil {
		return nil, noAsset(id, name)
	}
	if a.Scrub == "" {
		return nil, Errorf(ENOTFOUND, "asset %q of package %s was stored before the hub scrubbed uploads, so it has no scrub report; upload it again to have it scrubbed", name, id)
	}
	r, err := s.catalog.ScrubReport(ctx, a.SHA256)
	if ErrorCode(err) == ENOTFOUND {
		return nil, Errorf(ENOTFOUND, "the scrub report of asset %q of package %s was lost; its bytes were scrubbed (%s); upload it again for a new report", name, id, a.Scrub)
	} else if err != nil {
		return nil, fmt.Errorf("read scrub report of %s/%s: %w", id, name, err)
	}
	// Different files can scrub to the same stored bytes, which share
	// one report, the last upload's: one of another package, perhaps of
	// another campaign, is not this asset's to show (what that upload
	// sent and what it held).
	received := a.SHA256
	if a.Received != nil {
		received = a.Received.SHA256
	}
	if r.Received.SHA256 != received {
		return nil, Errorf(ENOTFOUND, "the scrub report of asset %q of package %s was replaced by that of another upload that stored the same bytes; its bytes were scrubbed (%s); upload it again for a new report", name, id, a.Scrub)
	}
	return r, nil
}
