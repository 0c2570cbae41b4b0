package hub

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Service is what producers, partners and admins act through. It applies
// the rules (who may see and change what, the lifecycle, the upload
// checks) over a Catalog for metadata and a BlobStore for bytes.
type Service struct {
	catalog       Catalog
	blobs         BlobStore
	ids           *IDSource
	now           func() time.Time
	maxAssetBytes int64
	log           *slog.Logger
}

// ServiceOptions configures a Service.
type ServiceOptions struct {
	// MaxAssetBytes is the largest asset accepted; 0 means DefaultMaxAssetBytes.
	MaxAssetBytes int64
	// Now is the clock; nil means time.Now. Tests set it to make embargoes exact.
	Now func() time.Time
	// Logger receives what goes wrong out of a caller's sight; nil discards.
	Logger *slog.Logger
}

// DefaultMaxAssetBytes is 8 GiB: a long broadcast-quality interview fits,
// and it stays far below what 16 MiB multipart parts allow (~156 GiB).
const DefaultMaxAssetBytes = 8 << 30

// NewService returns a Service over the given catalog and blob store.
func NewService(catalog Catalog, blobs BlobStore, opts ServiceOptions) *Service {
	s := &Service{catalog: catalog, blobs: blobs, now: opts.Now, maxAssetBytes: opts.MaxAssetBytes, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxAssetBytes <= 0 {
		s.maxAssetBytes = DefaultMaxAssetBytes
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ids = NewIDSource(s.now)
	return s
}

// MaxAssetBytes returns the largest asset the service accepts, so the HTTP
// layer can refuse an over-long Content-Length before reading a byte.
func (s *Service) MaxAssetBytes() int64 { return s.maxAssetBytes }

// Ready reports whether the catalog and the blob store both answer.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.catalog.Check(ctx); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	if err := s.blobs.Check(ctx); err != nil {
		return fmt.Errorf("blob store: %w", err)
	}
	return nil
}

// notFound is the one answer for a package that is absent, malformed or
// hidden from the caller, so none of the three can be told apart.
func notFound(id string) error {
	return Errorf(ENOTFOUND, "there is no package %q", id)
}

// noAsset is the answer for an asset name a visible package lacks.
func noAsset(id, name string) error {
	return &assetMissing{Errorf(ENOTFOUND, "package %s has no asset %q", id, name)}
}

// assetMissing marks a not-found that is about an asset, not the package.
type assetMissing struct{ err *Error }

func (e *assetMissing) Error() string { return e.err.Message }
func (e *assetMissing) Unwrap() error { return e.err }

// missingPackage turns the catalog's ENOTFOUND for the package itself into
// the uniform not-found answer, and passes other errors (a missing asset
// among them) through.
func (s *Service) missingPackage(id string, err error) error {
	var am *assetMissing
	if ErrorCode(err) == ENOTFOUND && !errors.As(err, &am) {
		return notFound(id)
	}
	return err
}

// CreatePackage creates a draft from the producer-set fields of p.
func (s *Service) CreatePackage(ctx context.Context, k *Key, p *Package) (*Package, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := CanCreateIn(k, p.Campaign); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	p.ID = s.ids.New()
	p.Version = 1
	p.Status = StatusDraft
	p.FirstCreated, p.VersionCreated = now, now
	p.Embargo = nil
	p.Assets = nil
	if err := s.catalog.CreatePackage(ctx, p); err != nil {
		return nil, fmt.Errorf("create package: %w", err)
	}
	return p, nil
}

// Package returns the package with id as the caller may see it.
// Returns ENOTFOUND when it is absent or hidden from k.
func (s *Service) Package(ctx context.Context, k *Key, id string) (*Package, error) {
	if !ValidID(id) {
		return nil, notFound(id)
	}
	p, err := s.catalog.Package(ctx, id)
	if ErrorCode(err) == ENOTFOUND || (err == nil && !CanRead(k, p)) {
		return nil, notFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("read package %s: %w", id, err)
	}
	return p, nil
}

// PackageQuery filters and pages a listing. Zero values mean "any".
type PackageQuery struct {
	Campaign string
	Language string
	Status   Status
	Type     AssetType
	// After is the cursor: the listing continues with packages older than it.
	After string
	// Limit is the page size, 1 to MaxPageSize; 0 means DefaultPageSize.
	Limit int
}

// Page sizes for listings.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// PackagePage is one page of a listing, newest first. Next is the cursor
// for the following page, "" on the last one.
type PackagePage struct {
	Items []*Package
	Next  string
}

// Packages lists the packages k may see that match q, newest first.
func (s *Service) Packages(ctx context.Context, k *Key, q PackageQuery) (PackagePage, error) {
	if q.Limit == 0 {
		q.Limit = DefaultPageSize
	}
	if q.Limit < 1 || q.Limit > MaxPageSize {
		return PackagePage{}, Errorf(EINVALID, "limit must be between 1 and %d", MaxPageSize)
	}
	if q.After != "" && !ValidID(q.After) {
		return PackagePage{}, Errorf(EINVALID, "the cursor %q is not one this hub gave out", q.After)
	}
	all, err := s.catalog.Packages(ctx)
	if err != nil {
		return PackagePage{}, fmt.Errorf("list packages: %w", err)
	}
	var page PackagePage
	for i := len(all) - 1; i >= 0; i-- {
		p := all[i]
		switch {
		case q.After != "" && p.ID >= q.After,
			q.Campaign != "" && p.Campaign != q.Campaign,
			q.Language != "" && p.Language != q.Language,
			q.Status != "" && p.Status != q.Status,
			q.Type != "" && !p.HasAssetType(q.Type),
			!CanRead(k, p):
			continue
		}
		if len(page.Items) == q.Limit {
			page.Next = page.Items[len(page.Items)-1].ID
			break
		}
		page.Items = append(page.Items, p)
	}
	return page, nil
}

// PackagePatch holds the fields a PATCH changes; nil leaves a field as it is.
type PackagePatch struct {
	Campaign        *string
	Language        *string
	Headlines       *[]Text
	Descriptions    *[]Text
	Bodies          *[]Text
	Subjects        *[]Subject
	Places          *[]Place
	By              *string
	CopyrightNotice *string
	UsageTerms      *string
	ContentWarning  *string
	Anonymized      *bool
	Translations    *[]string
}

// Apply copies the fields set in pp onto p.
func (pp PackagePatch) Apply(p *Package) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&p.Campaign, pp.Campaign)
	set(&p.Language, pp.Language)
	set(&p.By, pp.By)
	set(&p.CopyrightNotice, pp.CopyrightNotice)
	set(&p.UsageTerms, pp.UsageTerms)
	set(&p.ContentWarning, pp.ContentWarning)
	if pp.Headlines != nil {
		p.Headlines = *pp.Headlines
	}
	if pp.Descriptions != nil {
		p.Descriptions = *pp.Descriptions
	}
	if pp.Bodies != nil {
		p.Bodies = *pp.Bodies
	}
	if pp.Subjects != nil {
		p.Subjects = *pp.Subjects
	}
	if pp.Places != nil {
		p.Places = *pp.Places
	}
	if pp.Anonymized != nil {
		p.Anonymized = *pp.Anonymized
	}
	if pp.Translations != nil {
		p.Translations = *pp.Translations
	}
}

// editable loads the package for a change by k: ENOTFOUND when k may not
// see it, EFORBIDDEN when k may see but not change it, ECONFLICT when its
// state does not allow changes.
func (s *Service) editable(k *Key, id string, p *Package) error {
	if !CanRead(k, p) {
		return notFound(id)
	}
	if !CanEdit(k, p) {
		return Errorf(EFORBIDDEN, "a %s key cannot change packages", k.Role)
	}
	if p.Status != StatusDraft {
		return Errorf(ECONFLICT, "package %s is %s; only drafts can be changed", id, p.Status)
	}
	return nil
}

// UpdatePackage applies patch to a draft.
func (s *Service) UpdatePackage(ctx context.Context, k *Key, id string, patch PackagePatch) (*Package, error) {
	if !ValidID(id) {
		return nil, notFound(id)
	}
	p, err := s.catalog.UpdatePackage(ctx, id, func(p *Package) error {
		if err := s.editable(k, id, p); err != nil {
			return err
		}
		patch.Apply(p)
		if err := p.Validate(); err != nil {
			return err
		}
		if err := CanCreateIn(k, p.Campaign); err != nil {
			return err
		}
		p.VersionCreated = s.now().UTC()
		return nil
	})
	if ErrorCode(err) == ENOTFOUND {
		return nil, notFound(id)
	}
	return p, err
}

// DeletePackage removes a draft and the stored bytes no other package shares.
func (s *Service) DeletePackage(ctx context.Context, k *Key, id string) error {
	if !ValidID(id) {
		return notFound(id)
	}
	p, err := s.catalog.DeletePackage(ctx, id, func(p *Package) error { return s.editable(k, id, p) })
	if ErrorCode(err) == ENOTFOUND {
		return notFound(id)
	} else if err != nil {
		return err
	}
	for _, a := range p.Assets {
		s.releaseBlob(ctx, a.SHA256)
	}
	return nil
}

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

// PutAsset streams an asset into the blob store and records it on a draft,
// replacing an asset of the same name. The bytes are hashed and sniffed on
// the way; the content type a client claims is ignored. If anything fails
// (a disconnect, a type not allowed, the size limit, a concurrent change)
// nothing is recorded and no blob stays behind. created is false when an
// existing asset was replaced.
func (s *Service) PutAsset(ctx context.Context, k *Key, id string, up AssetUpload) (asset *Asset, created bool, err error) {
	if err := ValidAssetName(up.Name); err != nil {
		return nil, false, err
	}
	if !ValidID(id) {
		return nil, false, notFound(id)
	}
	p, err := s.catalog.Package(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, false, notFound(id)
	} else if err != nil {
		return nil, false, fmt.Errorf("read package %s: %w", id, err)
	}
	if err := s.editable(k, id, p); err != nil {
		return nil, false, err
	}
	if up.Size > s.maxAssetBytes {
		return nil, false, Errorf(ETOOLARGE, "the asset is %d bytes; the limit is %d", up.Size, s.maxAssetBytes)
	}
	if up.Size == 0 {
		return nil, false, Errorf(EINVALID, "the asset is empty")
	}

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

	blobKey := s.ids.New()
	n, err := s.blobs.Put(ctx, blobKey, body, up.Size)
	if err != nil {
		return nil, false, s.uploadError(digest, err)
	}
	sum := digest.Sum()
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
	var replaced *Asset
	_, err = s.catalog.UpdatePackage(ctx, id, func(p *Package) error {
		replaced = nil
		if err := s.editable(k, id, p); err != nil {
			return err
		}
		if old := p.Asset(up.Name); old != nil {
			prev := *old
			replaced = &prev
			// Keep what a producer set by PATCH; only the bytes change.
			a.Caption, a.Credit, a.Language, a.Primary = old.Caption, old.Credit, old.Language, old.Primary
			*old = a
		} else {
			p.Assets = append(p.Assets, a)
		}
		p.VersionCreated = s.now().UTC()
		return nil
	})
	if err != nil {
		s.releaseBlob(ctx, sum)
		if ErrorCode(err) == ENOTFOUND {
			return nil, false, notFound(id)
		}
		return nil, false, err
	}
	if replaced != nil {
		s.releaseBlob(ctx, replaced.SHA256)
	}
	return &a, replaced == nil, nil
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

func (s *Service) deleteBlob(ctx context.Context, key string) {
	if err := s.blobs.Delete(ctx, key); err != nil {
		s.log.Error("delete blob", "key", key, "err", err)
	}
}

func (s *Service) releaseBlob(ctx context.Context, sum string) {
	orphan, err := s.catalog.ReleaseBlob(ctx, sum)
	if err != nil {
		s.log.Error("release blob reference", "sha256", sum, "err", err)
		return
	}
	if orphan != "" {
		s.deleteBlob(ctx, orphan)
	}
}

// AssetPatch holds the asset fields a PATCH changes; nil leaves one alone.
type AssetPatch struct {
	Caption  *string
	Credit   *string
	Language *string
	Primary  *bool
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
	for _, f := range []*string{patch.Caption, patch.Credit} {
		if f != nil && strings.ContainsFunc(*f, isControlNotSpace) {
			return nil, Errorf(EINVALID, "caption and credit may not contain control characters")
		}
	}
	var out Asset
	_, err := s.catalog.UpdatePackage(ctx, id, func(p *Package) error {
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
		p.VersionCreated = s.now().UTC()
		out = *a
		return nil
	})
	if err != nil {
		return nil, s.missingPackage(id, err)
	}
	return &out, nil
}

// DeleteAsset removes an asset from a draft, and its bytes unless another
// asset shares them.
func (s *Service) DeleteAsset(ctx context.Context, k *Key, id, name string) error {
	if !ValidID(id) {
		return notFound(id)
	}
	var removed Asset
	_, err := s.catalog.UpdatePackage(ctx, id, func(p *Package) error {
		if err := s.editable(k, id, p); err != nil {
			return err
		}
		i := slices.IndexFunc(p.Assets, func(a Asset) bool { return a.Name == name })
		if i < 0 {
			return noAsset(id, name)
		}
		removed = p.Assets[i]
		p.Assets = slices.Delete(p.Assets, i, i+1)
		p.VersionCreated = s.now().UTC()
		return nil
	})
	if err != nil {
		return s.missingPackage(id, err)
	}
	s.releaseBlob(context.WithoutCancel(ctx), removed.SHA256)
	return nil
}

// Asset returns a package the caller may download from and one of its
// assets. Returns ENOTFOUND for a package it may not see or fetch from,
// and for a name the package lacks.
func (s *Service) Asset(ctx context.Context, k *Key, id, name string) (*Package, *Asset, error) {
	p, err := s.Package(ctx, k, id)
	if err != nil {
		return nil, nil, err
	}
	a := p.Asset(name)
	if a == nil || !CanDownload(k, p) {
		return nil, nil, noAsset(id, name)
	}
	return p, a, nil
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
// cannot, or the package is not released (drafts never leave through a
// URL that outlives the check).
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
