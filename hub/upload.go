package hub

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// AssetUpload is one asset's bytes on their way in.
type AssetUpload struct {
	Name string
	// Type is the asset type the uploader asked for, or "" to infer it
	// from the sniffed content type.
	Type AssetType
	Body io.Reader
	// Size is the exact length when the client declared it, else -1.
	Size int64
}

// uploadHeartbeat is how often a running upload renews its marker; the
// catalog forgets markers a few heartbeats old, so a crashed upload never
// blocks a release for long.
const uploadHeartbeat = 20 * time.Second

// PutAsset streams an asset into the blob store and records it on the
// working copy, replacing an asset of the same name. The bytes are hashed
// and sniffed on the way; the content type a client claims is ignored. If
// anything fails (a disconnect, a type not allowed, the size limit, a
// concurrent change) nothing is recorded and no blob stays behind.
// created is false when an existing asset was replaced.
func (s *Service) PutAsset(ctx context.Context, k *Key, id string, up AssetUpload) (asset *Asset, created bool, err error) {
	p, err := s.checkUpload(ctx, k, id, up)
	if err != nil {
		return nil, false, err
	}

	// Mark the upload in the catalog, so a release on any replica waits for it.
	uploadID := s.ids.New()
	stopMarker, err := s.markUploading(ctx, id, uploadID)
	if err != nil {
		return nil, false, err
	}
	defer stopMarker()

	digest := newDigestReader(up.Body, s.maxAssetBytes)
	defer digest.Close()
	body := bufio.NewReaderSize(digest, 64<<10)
	head, err := body.Peek(SniffLength)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, s.uploadError(digest, err)
	}
	if len(head) == 0 {
		return nil, false, Errorf(EINVALID, "the asset is empty")
	}
	contentType := SniffContentType(head)
	typ, err := CheckAssetContent(up.Type, contentType)
	if err != nil {
		return nil, false, err
	}

	policy := ScrubPolicy{Anonymized: p.Anonymized}
	blobKey := s.ids.New()
	stored, report, err := s.storeScrubbed(ctx, uploadID, blobKey, body, digest, up.Size, contentType, policy)
	if err != nil {
		return nil, false, err
	}
	n, sum := stored.Size, stored.SHA256
	// From here on the work must finish or be undone even if the client
	// has gone: a blob without a record would never be cleaned up.
	ctx = context.WithoutCancel(ctx)
	rec, err := s.catalog.AcquireBlob(ctx, sum, BlobRecord{Key: blobKey, Size: n})
	if err != nil {
		s.deleteBlob(ctx, blobKey)
		return nil, false, fmt.Errorf("record blob: %w", err)
	}
	if rec.Key != blobKey {
		s.deleteBlob(ctx, blobKey) // the same bytes are stored already
	}
	a := Asset{
		Name: up.Name, Type: typ, ContentType: contentType, Size: n, SHA256: sum,
		BlobKey: rec.Key, Uploaded: s.now().UTC(),
	}
	if report != nil {
		a.Scrub = policy.Level()
		if report.NotParsed != "" {
			a.Scrub = ScrubNotParsed
		}
		if report.Received.SHA256 != sum {
			received := report.Received
			a.Received = &received
		}
	}
	var release []string // references to let go of once the update is in
	var replaced bool
	var pkgCampaign string
	_, err = s.catalog.UpdatePackage(ctx, id, func(p *Package) error {
		release, replaced, pkgCampaign = nil, false, p.Campaign
		if err := s.editable(k, id, p); err != nil {
			return err
		}
		if err := mayAddAsset(p, up.Name); err != nil {
			return err
		}
		if p.Anonymized && !policy.Anonymized {
			return Errorf(ECONFLICT, "package %s was marked anonymized while %s was uploading, so it was scrubbed for a package that is not; upload it again", id, up.Name)
		}
		if slices.Contains(p.Blobs, sum) {
			release = append(release, sum) // the package holds a reference already
		} else {
			p.Blobs = append(p.Blobs, sum)
		}
		if old := p.Asset(up.Name); old != nil {
			replaced = true
			oldSum := old.SHA256
			// Keep what a producer set by PATCH; only the bytes change.
			a.Caption, a.Credit, a.Language, a.Primary = old.Caption, old.Credit, old.Language, old.Primary
			*old = a
			if oldSum != sum && dropUnusedBlob(p, oldSum) {
				release = append(release, oldSum)
			}
		} else {
			p.Assets = append(p.Assets, a)
		}
		s.touch(p)
		return checkEntrySize(p)
	})
	if err != nil {
		s.releaseBlob(ctx, sum)
		return nil, false, s.missingPackage(id, err)
	}
	for _, r := range release {
		s.releaseBlob(ctx, r)
	}
	if report != nil {
		// Beside the blob record, which holds the report's lifetime: it
		// goes with the last reference (releaseBlob). A lost report loses
		// the producer only the list of what went; the bytes are scrubbed.
		if err := s.catalog.PutScrubReport(ctx, sum, report); err != nil {
			s.logger.Warn("record scrub report", "package", id, "asset", up.Name, "err", err)
		}
	}
	s.planRenditions(ctx, &a)
	// The package only: an asset's name may itself say who is in it.
	s.audit(ctx, k, AuditEntry{Action: AuditAssetPut, Target: id, Package: id, Campaign: pkgCampaign})
	return &a, !replaced, nil
}

// CheckUpload checks what PutAsset checks before it reads a byte: the
// name, the size (up.Size; -1 when unknown), and that k may add an asset
// of that name to package id. A resumable upload runs it when it is
// created and again before each of its later requests, so a key revoked
// or a package withdrawn meanwhile stops it. Returns ENOTFOUND for a
// package k may not edit, ECONFLICT for one that takes no change, and
// ETOOLARGE or EINVALID for the size.
func (s *Service) CheckUpload(ctx context.Context, k *Key, id string, up AssetUpload) error {
	_, err := s.checkUpload(ctx, k, id, up)
	return err
}

func (s *Service) checkUpload(ctx context.Context, k *Key, id string, up AssetUpload) (*Package, error) {
	if !ValidID(id) {
		return nil, notFound(id)
	}
	if err := ValidAssetName(up.Name); err != nil {
		return nil, err
	}
	p, err := s.catalog.Package(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, notFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("read package %s: %w", id, err)
	}
	if err := s.editable(k, id, p); err != nil {
		return nil, err
	}
	// Checked now, before a byte is stored, and again under the revision
	// check, since another upload may add a name meanwhile.
	if err := mayAddAsset(p, up.Name); err != nil {
		return nil, err
	}
	if up.Size > s.maxAssetBytes {
		return nil, Errorf(ETOOLARGE, "the asset is %d bytes; the limit is %d", up.Size, s.maxAssetBytes)
	}
	if up.Size == 0 {
		return nil, Errorf(EINVALID, "the asset is empty")
	}
	return p, nil
}

// MaxPackageEntryBytes bounds what a producer's edits may make a package's
// stored entry (working copy, released version, pending announcement),
// encoded as the catalog stores it: far under NATS's payload limit (1 MiB
// by default, 8 MiB on the embedded server), so the entry stays writable
// and a withdrawal or purge, which are never refused for size, always
// fits.
const MaxPackageEntryBytes = 512 << 10

// checkEntrySize refuses an edit that would make p's entry larger than
// MaxPackageEntryBytes.
func checkEntrySize(p *Package) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode package %s: %w", p.ID, err)
	}
	if len(b) > MaxPackageEntryBytes {
		return Errorf(ETOOLARGE, "package %s would take %d KiB to store, more than the %d KiB a package may; shorten its texts or put some assets in a sibling package", p.ID, (len(b)+1023)/1024, MaxPackageEntryBytes/1024)
	}
	return nil
}

// MaxAssetsPerPackage bounds a package's assets: a campaign package holds
// a few dozen (posters, cuts, languages), and each one costs every
// partner a listing line and the package entry a few hundred bytes.
const MaxAssetsPerPackage = 200

// mayAddAsset checks that p's working copy can take an asset named name:
// a new one under the cap, or one that replaces the asset of exactly that
// name, never one that another name would be saved over (NameKey).
func mayAddAsset(p *Package, name string) error {
	if p.Asset(name) != nil {
		return nil // a replacement
	}
	key := NameKey(name)
	for _, a := range p.Assets {
		if NameKey(a.Name) == key {
			return Errorf(ECONFLICT, "package %s has an asset %q already: %q would be the same file on Windows and macOS (names differing only in case or Unicode form); upload under that name to replace it, or choose another", p.ID, a.Name, name)
		}
	}
	if len(p.Assets) >= MaxAssetsPerPackage {
		return Errorf(ECONFLICT, "package %s has %d assets, the most a package holds; put the rest in a sibling package", p.ID, len(p.Assets))
	}
	return nil
}

// uploadStale is how long an upload that stopped renewing its marker
// still blocks a release: a few heartbeats, so a crashed upload does not
// block it for long.
const uploadStale = 3 * uploadHeartbeat

// uploading reports whether any upload into p was alive within uploadStale.
func (p *Package) uploading(now time.Time) bool {
	for _, alive := range p.Uploads {
		if now.Sub(alive) < uploadStale {
			return true
		}
	}
	return false
}

// markUploading records an upload in progress in the package entry and
// renews the record until the returned stop is called, which removes it.
func (s *Service) markUploading(ctx context.Context, id, uploadID string) (stop func(), err error) {
	mark := func(ctx context.Context, alive bool) error {
		_, err := s.catalog.UpdatePackage(ctx, id, func(p *Package) error {
			now := s.now().UTC()
			if alive {
				if p.Uploads == nil {
					p.Uploads = map[string]time.Time{}
				}
				p.Uploads[uploadID] = now
			} else {
				delete(p.Uploads, uploadID)
			}
			// Forget markers of uploads that died without clearing theirs.
			for other, seen := range p.Uploads {
				if now.Sub(seen) >= uploadStale {
					delete(p.Uploads, other)
				}
			}
			return nil
		})
		return err
	}
	if err := mark(ctx, true); err != nil {
		return nil, s.missingPackage(id, fmt.Errorf("mark upload: %w", err))
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(uploadHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := mark(context.WithoutCancel(ctx), true); err != nil {
					s.logger.Warn("renew upload marker", "package", id, "err", err)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		if err := mark(context.WithoutCancel(ctx), false); err != nil {
			s.logger.Warn("clear upload marker", "package", id, "err", err)
		}
	}, nil
}

// uploadError explains why streaming an upload failed, in terms of who
// caused it: the client (too big, went away) or the hub's storage.
func (s *Service) uploadError(d *digestReader, err error) error {
	switch {
	case d.tooBig:
		return Errorf(ETOOLARGE, "the asset is larger than the limit of %d bytes; nothing was stored", s.maxAssetBytes)
	case d.readErr != nil:
		return Errorf(ECANCELED, "the upload broke off after %d bytes (%v); nothing was stored", d.n, d.readErr)
	case errors.Is(err, context.Canceled):
		return Errorf(ECANCELED, "the upload was cancelled after %d bytes; nothing was stored", d.n)
	case ErrorCode(err) == EINVALID:
		return Errorf(EINVALID, "the body was not as long as its declared Content-Length; nothing was stored")
	}
	return fmt.Errorf("store asset bytes: %w", err)
}

// AssetPatch holds the asset fields a PATCH changes; nil leaves one alone.
type AssetPatch struct {
	Caption  *string
	Credit   *string
	Language *string
	Primary  *bool
	AltText  *string
	Captions *string
}

// UpdateAsset sets an asset's caption, credit, language or primary flag.
// Marking one asset primary unmarks the others.
func (s *Service) UpdateAsset(ctx context.Context, k *Key, id, name string, patch AssetPatch) (*Asset, error) {
	if !ValidID(id) {
		return nil, notFound(id)
	}
	if patch.Language != nil && *patch.Language != "" {
		lang, err := NormalizeLanguage(*patch.Language)
		if err != nil {
			return nil, err
		}
		patch.Language = &lang
	}
	for _, f := range []*string{patch.Caption, patch.Credit, patch.AltText} {
		if f != nil && strings.ContainsFunc(*f, isControlNotSpace) {
			return nil, Errorf(EINVALID, "caption, credit and alt text may not contain control characters")
		}
	}
	var out Asset
	p, err := s.catalog.UpdatePackage(ctx, id, func(p *Package) error {
		if err := s.editable(k, id, p); err != nil {
			return err
		}
		a := p.Asset(name)
		if a == nil {
			return noAsset(id, name)
		}
		if patch.Caption != nil {
			a.Caption = *patch.Caption
		}
		if patch.Credit != nil {
			a.Credit = *patch.Credit
		}
		if patch.Language != nil {
			a.Language = *patch.Language
		}
		if patch.Primary != nil {
			if *patch.Primary {
				for i := range p.Assets {
					p.Assets[i].Primary = false
				}
			}
			a.Primary = *patch.Primary
		}
		if patch.AltText != nil {
			if a.Type != AssetPicture && a.Type != AssetGraphic {
				return Errorf(EINVALID, "alt text describes a picture or a graphic; %q is a %s (give a video its captions instead)", name, a.Type)
			}
			a.AltText = *patch.AltText
		}
		if patch.Captions != nil {
			if err := mayCaption(p, a, *patch.Captions); err != nil {
				return err
			}
			a.Captions = *patch.Captions
		}
		out = *a
		s.touch(p)
		return checkEntrySize(p)
	})
	if err != nil {
		return nil, s.missingPackage(id, err)
	}
	s.auditPackage(ctx, k, AuditAssetUpdate, p)
	return &out, nil
}

// mayCaption checks that caption file a may caption the asset named
// video ("" unlinks it): a WebVTT or SRT text asset, and a video or audio
// of the same package.
func mayCaption(p *Package, a *Asset, video string) error {
	if video == "" {
		return nil
	}
	if ct := baseMediaType(a.ContentType); ct != "text/vtt" && ct != "application/x-subrip" {
		return Errorf(EINVALID, "only a WebVTT or SRT file captions a video; %q is %s", a.Name, ct)
	}
	v := p.Asset(video)
	if v == nil || v.Type != AssetVideo && v.Type != AssetAudio {
		return Errorf(EINVALID, "package %s has no video or audio %q for %q to caption", p.ID, video, a.Name)
	}
	return nil
}

// DeleteAsset removes an asset from the working copy, and its bytes unless
// another asset or a released version uses them.
func (s *Service) DeleteAsset(ctx context.Context, k *Key, id, name string) error {
	if !ValidID(id) {
		return notFound(id)
	}
	var release string
	p, err := s.catalog.UpdatePackage(ctx, id, func(p *Package) error {
		release = ""
		if err := s.editable(k, id, p); err != nil {
			return err
		}
		i := slices.IndexFunc(p.Assets, func(a Asset) bool { return a.Name == name })
		if i < 0 {
			return noAsset(id, name)
		}
		sum := p.Assets[i].SHA256
		p.Assets = slices.Delete(p.Assets, i, i+1)
		if dropUnusedBlob(p, sum) {
			release = sum
		}
		s.touch(p)
		return nil
	})
	if err != nil {
		return s.missingPackage(id, err)
	}
	if release != "" {
		s.releaseBlob(context.WithoutCancel(ctx), release)
	}
	s.auditPackage(ctx, k, AuditAssetDelete, p)
	return nil
}

// Asset returns the package (as the caller sees it) and one of its assets,
// when the caller may download it. Returns ENOTFOUND for a package it may
// not see or fetch from, and for a name the package lacks.
func (s *Service) Asset(ctx context.Context, k *Key, id, name string) (*Package, *Asset, error) {
	sg, err := s.sight(ctx, k, id)
	if err != nil {
		return nil, nil, err
	}
	a := sg.view.Asset(name)
	if a == nil || !sg.mayDownload() {
		return nil, nil, noAsset(id, name)
	}
	return sg.view, a, nil
}

// OpenAsset opens the bytes of an asset that Asset returned, ready to be
// served with ranges. The caller closes the Blob.
func (s *Service) OpenAsset(ctx context.Context, a *Asset) (Blob, error) {
	b, err := s.blobs.Open(ctx, a.BlobKey)
	if err != nil {
		return nil, fmt.Errorf("open asset %s: %w", a.Name, err)
	}
	return b, nil
}

// PresignAsset returns a short-lived direct download URL for an asset of a
// released package, when the blob store can make one; ok is false when it
// cannot, or the package is not released (drafts and embargoed packages
// never leave through a URL that outlives the check).
func (s *Service) PresignAsset(ctx context.Context, p *Package, a *Asset, disposition string) (url string, ok bool, err error) {
	ps, can := s.blobs.(BlobPresigner)
	if !can || p.Status != StatusReleased {
		return "", false, nil
	}
	u, err := ps.PresignGet(ctx, a.BlobKey, PresignTTL, disposition, a.ContentType)
	if err != nil {
		return "", false, fmt.Errorf("presign %s: %w", a.Name, err)
	}
	return u.String(), true, nil
}

// PresignTTL is how long a presigned download URL works: long enough to
// follow a redirect, too short to pass around.
const PresignTTL = 60 * time.Second

// storeScrubbed stores an upload's bytes under blobKey, scrubbed, and
// returns the digest of what was stored, with the scrub report (nil when
// the service scrubs nothing). The received bytes wait on the scratch disk
// and never reach the blob store unscrubbed, except, in a package that is
// not anonymized, a file the scrubber cannot read: then they are stored as
// received and the report says why.
func (s *Service) storeScrubbed(ctx context.Context, upload, blobKey string, body io.Reader, digest *digestReader, size int64, contentType string, policy ScrubPolicy) (Digest, *ScrubReport, error) {
	if s.scrubber == nil || s.scratch == nil {
		if policy.Anonymized {
			return Digest{}, nil, Errorf(EUNSUPPORTED, "this hub runs without scrubbing, so an anonymized package takes no upload; nothing was stored")
		}
		n, err := s.blobs.Put(ctx, blobKey, body, size)
		if err != nil {
			return Digest{}, nil, s.uploadError(digest, err)
		}
		return Digest{SHA256: digest.Sum(), Size: n}, nil, nil
	}
	spool, err := s.scratch.Spool(ctx, upload, body, size)
	if err != nil {
		if ErrorCode(err) == EFULL {
			return Digest{}, nil, err
		}
		return Digest{}, nil, s.uploadError(digest, err)
	}
	defer func() {
		if err := spool.Close(); err != nil {
			s.logger.Warn("remove scratch file", "err", err)
		}
	}()
	// The scrub follows the bytes as they arrive, and the store follows
	// the scrub: a long upload is stored while it is received, not after.
	rep := &ScrubReport{}
	stored, err := s.putScrubbed(ctx, blobKey, spool, contentType, policy, rep)
	if errors.Is(err, ErrScrubAgain) {
		if spoolErr := spool.Wait(); spoolErr == nil {
			*rep = ScrubReport{}
			stored, err = s.putScrubbed(ctx, blobKey, spool, contentType, policy, rep)
		}
	}
	// Whatever the scrub made of them, the bytes must all have come, as
	// declared: a store that finished early (a scrubber that stops at a
	// JPEG's end) is undone when they did not.
	spoolErr := spool.Wait()
	if spoolErr != nil || digest.tooBig || size >= 0 && digest.n != size {
		// Even a store that failed may have written the object (an S3
		// put cut off by the client's going away, after its last byte
		// was sent): the key is this upload's alone, so delete it.
		s.deleteBlob(context.WithoutCancel(ctx), blobKey)
		if ErrorCode(spoolErr) == EFULL {
			return Digest{}, nil, spoolErr
		}
		if spoolErr != nil || digest.tooBig {
			return Digest{}, nil, s.uploadError(digest, spoolErr)
		}
		return Digest{}, nil, Errorf(EINVALID, "the body was not as long as its declared Content-Length; nothing was stored")
	}
	rep.Received = Digest{SHA256: digest.Sum(), Size: spool.Size()}
	var np *NotParsedError
	if errors.As(err, &np) {
		if policy.Anonymized {
			return Digest{}, nil, Errorf(EUNSUPPORTED, "this package is anonymized, and the hub cannot remove identifying metadata from this file (%s); nothing was stored. Export it again in a common form (JPEG, PNG, MP4, MP3, PDF) and upload that", np.Error())
		}
		*rep = ScrubReport{Format: np.Format, NotParsed: np.Reason, Received: rep.Received}
		stored, err = s.putHashed(ctx, blobKey, io.NewSectionReader(spool, 0, spool.Size()), spool.Size())
	}
	if err != nil {
		return Digest{}, nil, err
	}
	return stored, rep, nil
}

// putScrubbed streams the scrubber's output for spool into the blob store.
func (s *Service) putScrubbed(ctx context.Context, blobKey string, spool SpooledUpload, contentType string, policy ScrubPolicy, rep *ScrubReport) (Digest, error) {
	pr, pw := io.Pipe()
	scrubbed := make(chan error, 1)
	go func() {
		err := s.scrubber.Scrub(ctx, pw, spool, contentType, policy, rep)
		pw.CloseWithError(err) // nil: the store reads io.EOF
		scrubbed <- err
	}()
	stored, putErr := s.putHashed(ctx, blobKey, pr, -1)
	pr.CloseWithError(errStoreGaveUp) // a store that failed first unblocks the scrubber
	scrubErr := <-scrubbed
	var herr *Error
	var np *NotParsedError
	switch {
	case scrubErr != nil && putErr == nil:
		// Not reached (the store read the scrubber's error), but a blob
		// must never stay behind a failed scrub.
		s.deleteBlob(context.WithoutCancel(ctx), blobKey)
		return Digest{}, scrubErr
	case putErr != nil && (ErrorCode(putErr) == EUNAVAILABLE || ErrorCode(putErr) == EFULL):
		// The store failed on its own, and the scrubber only met the
		// closed pipe: say what is wrong, not that the file is.
		return Digest{}, putErr
	case errors.As(scrubErr, &np), errors.As(scrubErr, &herr), errors.Is(scrubErr, ErrScrubAgain):
		return Digest{}, scrubErr // the scrubber's own verdict on the file
	case putErr != nil:
		return Digest{}, putErr
	}
	return stored, nil
}

// errStoreGaveUp tells the scrubber that nobody reads its output any more.
var errStoreGaveUp = errors.New("the blob store stopped reading")

// putHashed stores r under blobKey and returns the digest of what it
// stored.
func (s *Service) putHashed(ctx context.Context, blobKey string, r io.Reader, size int64) (Digest, error) {
	h := sha256.New()
	n, err := s.blobs.Put(ctx, blobKey, io.TeeReader(r, h), size)
	if err != nil {
		return Digest{}, fmt.Errorf("store asset bytes: %w", err)
	}
	return Digest{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}
