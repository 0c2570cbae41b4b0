package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A released version's pictures carry what they were released with: the
// credit line, the copyright notice and the usage terms are written into
// the file itself (XMP, and IPTC IIM where the file has it), so a picture
// that leaves an outlet's system on its own still says whose it is and on
// what terms. The credited bytes are a derived blob with a digest of its
// own, held by the package like an upload; the working copy keeps the
// scrubbed upload, and each version points at what it went out with.

// Credit is what a release writes into a picture.
type Credit struct {
	Credit          string
	CopyrightNotice string
	UsageTerms      string
}

// Empty reports whether there is nothing to write.
func (c Credit) Empty() bool {
	return strings.TrimSpace(c.Credit) == "" && strings.TrimSpace(c.CopyrightNotice) == "" && strings.TrimSpace(c.UsageTerms) == ""
}

// CreditWriter writes a release's credit into pictures (media/credit).
type CreditWriter interface {
	// WriteCredit writes src (size bytes of contentType, as stored) with c
	// written into it to dst, without re-encoding it. It reports false,
	// having written nothing to dst, when there is nothing to write: c is
	// empty, the picture carries exactly c already, or the writer does not
	// edit its type. A file it cannot read is a *NotParsedError.
	WriteCredit(ctx context.Context, dst io.Writer, src io.ReaderAt, size int64, contentType string, c Credit) (bool, error)
}

// creditOf is what a release writes into asset a of p: the asset's own
// credit, else the package's credit line, with the package's copyright
// notice and usage terms (as Credits in the zip says them).
func creditOf(p *Package, a *Asset) Credit {
	c := Credit{Credit: a.Credit, CopyrightNotice: p.CopyrightNotice, UsageTerms: p.UsageTerms}
	if strings.TrimSpace(c.Credit) == "" {
		c.Credit = p.By
	}
	return c
}

// credited reports whether a release writes credit into assets of type t.
func credited(t AssetType) bool { return t == AssetPicture || t == AssetGraphic }

// creditedBlob is one picture credited for a release: stored, with one
// reference acquired, before the release is written (an update may run
// its function again, so no blob is written inside one).
type creditedBlob struct {
	// source is the digest of the stored bytes it was made from, credit
	// what was written: the release takes it only if the asset still has
	// both.
	source string
	credit Credit
	// stored is the credited bytes' digest and key; nil when there was
	// nothing to write (the asset goes out as it is).
	stored *Digest
	key    string
}

// credits are the credited pictures prepared for one release, by asset
// name.
type credits map[string]creditedBlob

// errCreditsStale aborts a release whose pictures changed (bytes or
// credit) after they were credited: they are credited again.
var errCreditsStale = Errorf(ECONFLICT, "the package changed while its pictures were credited for release; release it again")

// maxCreditTries bounds how often a release credits its pictures again
// because they keep changing under it.
const maxCreditTries = 3

// crediting reports whether releases write credit into pictures: the
// writer and the scratch disk it reads from are both wired.
func (s *Service) crediting() bool { return s.creditWriter != nil && s.scratch != nil }

// prepareCredits credits every picture of p's working copy that needs it.
// Each entry with stored bytes holds one reference, which the caller
// settles (settleCredits) whatever becomes of the release.
func (s *Service) prepareCredits(ctx context.Context, p *Package) (credits, error) {
	if !s.crediting() {
		return nil, nil
	}
	c := credits{}
	for i := range p.Assets {
		a := &p.Assets[i]
		want := creditOf(p, a)
		if !credited(a.Type) || want.Empty() {
			continue
		}
		e, err := s.creditAsset(ctx, p.ID, a, want)
		if err != nil {
			s.settleCredits(context.WithoutCancel(ctx), c, nil)
			return nil, err
		}
		c[a.Name] = e
	}
	return c, nil
}

// creditAsset writes want into a copy of a's stored bytes and stores it,
// content-addressed as uploads are.
func (s *Service) creditAsset(ctx context.Context, id string, a *Asset, want Credit) (creditedBlob, error) {
	e := creditedBlob{source: a.SHA256, credit: want}
	dir, remove, err := s.scratch.Workspace(s.ids.New())
	if err != nil {
		return e, fmt.Errorf("credit scratch: %w", err)
	}
	defer remove()
	src := filepath.Join(dir, "source")
	if err := s.copyBlob(ctx, a.BlobKey, src); err != nil {
		return e, fmt.Errorf("credit asset %s of %s: %w", a.Name, id, err)
	}
	changed, out, err := s.writeCredit(ctx, dir, src, a.ContentType, want)
	var np *NotParsedError
	if errors.As(err, &np) {
		// Stored as received (the scrubber could not read it either), or
		// a form the writer does not edit: it goes out as it is.
		s.logger.Warn("credit not written into a released picture", "package", id, "asset", a.Name, "err", err)
		return e, nil
	} else if err != nil || !changed {
		return e, err
	}
	key := s.ids.New()
	d, err := s.storeFile(ctx, key, out)
	if err != nil {
		return e, fmt.Errorf("store credited asset %s of %s: %w", a.Name, id, err)
	}
	ctx = context.WithoutCancel(ctx) // a stored blob must get its record or go
	rec, err := s.catalog.AcquireBlob(ctx, d.SHA256, BlobRecord{Key: key, Size: d.Size})
	if err != nil {
		s.deleteBlob(ctx, key)
		return e, fmt.Errorf("record credited asset %s of %s: %w", a.Name, id, err)
	}
	if rec.Key != key {
		s.deleteBlob(ctx, key) // the same credited bytes are stored already
	}
	e.stored, e.key = &d, rec.Key
	return e, nil
}

// writeCredit runs the writer from the scratch file src into a new one
// beside it, and returns that file's path.
func (s *Service) writeCredit(ctx context.Context, dir, src, contentType string, want Credit) (bool, string, error) {
	in, err := os.Open(src)
	if err != nil {
		return false, "", fmt.Errorf("credit scratch: %w", err)
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return false, "", fmt.Errorf("credit scratch: %w", err)
	}
	path := filepath.Join(dir, "credited")
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, "", fmt.Errorf("credit scratch: %w", err)
	}
	changed, err := s.creditWriter.WriteCredit(ctx, out, in, info.Size(), contentType, want)
	if cerr := out.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("credit scratch: %w", cerr)
	}
	return changed, path, err
}

// applyCredits points the live version's pictures at their credited
// bytes, and adds those to what p holds (taken notes the entries whose
// reference p took over). It returns errCreditsStale when a picture's
// bytes or credit are not what was prepared.
func (s *Service) applyCredits(p, live *Package, c credits, taken map[string]bool) error {
	if !s.crediting() {
		return nil
	}
	for i := range live.Assets {
		a := &live.Assets[i]
		want := creditOf(live, a)
		if !credited(a.Type) || want.Empty() {
			continue
		}
		e, ok := c[a.Name]
		if !ok || e.source != a.SHA256 || e.credit != want {
			return errCreditsStale
		}
		if e.stored == nil {
			continue
		}
		// Renditions and the scrub report belong to the bytes it was made
		// from (they look the same, pixel for pixel).
		a.Source = a.SHA256
		a.SHA256, a.Size, a.BlobKey = e.stored.SHA256, e.stored.Size, e.key
		if !slices.Contains(p.Blobs, e.stored.SHA256) {
			p.Blobs = append(p.Blobs, e.stored.SHA256)
			taken[a.Name] = true
		}
	}
	return nil
}

// settleCredits lets go of the references of c that the release did not
// take (all of them when taken is nil: the release was not written).
func (s *Service) settleCredits(ctx context.Context, c credits, taken map[string]bool) {
	for name, e := range c {
		if e.stored != nil && !taken[name] {
			s.releaseBlob(ctx, e.stored.SHA256)
		}
	}
}

// RenditionSum is the content sum an asset's renditions are kept under:
// that of the bytes it was credited from, if it was.
func (a *Asset) RenditionSum() string {
	if a.Source != "" {
		return a.Source
	}
	return a.SHA256
}
