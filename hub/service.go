package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Service is what producers, partners and admins act through. It applies
// the rules (who may see and change what, the lifecycle, the upload
// checks) over a Catalog for metadata and a BlobStore for bytes, and
// hands state changes to an Announcer.
type Service struct {
	catalog       Catalog
	blobs         BlobStore
	announcer     Announcer
	log           ReleaseLog
	ids           *IDSource
	now           func() time.Time
	maxAssetBytes int64
	scrubber      Scrubber
	scratch       Scratch
	creditWriter  CreditWriter
	staged        StagedUploads

	renditionMaker RenditionMaker
	renditionQueue RenditionQueue
	logger         *slog.Logger
	scheduled      chan struct{}

	// allowPrivateTargets lets webhooks point at non-public addresses.
	allowPrivateTargets bool

	// pickups records downloads and republications (see pickup.go).
	pickups PickupLog

	// auditLog records who did what (see audit.go); nil records nothing.
	auditLog AuditLog

	// sessions keeps portal sessions and sign-in links (see session.go).
	sessions SessionStore
	// takedownConfirmed is told of each first confirmation of a takedown.
	takedownConfirmed func(TakedownVia)
	// search is the full-text index; nil when the hub has none.
	search SearchIndex
}

// ServiceOptions configures a Service.
type ServiceOptions struct {
	// MaxAssetBytes is the largest asset accepted; 0 means DefaultMaxAssetBytes.
	MaxAssetBytes int64
	// Now is the clock; nil means time.Now. Tests set it to make embargoes exact.
	Now func() time.Time
	// Announcer publishes releases, corrections, withdrawals and purges;
	// nil keeps them pending (for tests of the domain alone).
	Announcer Announcer
	// ReleaseLog reads back what was announced, for GET /v1/releases.
	ReleaseLog ReleaseLog
	// Logger receives what goes wrong out of a caller's sight; nil discards.
	Logger *slog.Logger
	// AllowPrivateWebhookTargets lets webhooks point at loopback, private
	// and link-local addresses (HUB_WEBHOOKS_ALLOW_PRIVATE): for tests
	// and closed networks. The deliverer has the same switch.
	AllowPrivateWebhookTargets bool
	// Pickups records partners' downloads and republication reports, for
	// campaign reach; nil records nothing (and reach is unavailable).
	Pickups PickupLog
	// AuditLog records every act of a key (see audit.go); nil records
	// nothing, and GET /v1/audit answers 503.
	AuditLog AuditLog
	// Scrubber removes identifying metadata from uploads before they are
	// stored, with Scratch holding the received bytes meanwhile. The hub
	// always has both (server wires them); without them (a test of other
	// rules) bytes are stored as received, and an anonymized package takes
	// no upload at all.
	Scrubber Scrubber
	Scratch  Scratch
	// CreditWriter writes the credit, copyright notice and usage terms
	// into released pictures (see credit.go), reading from Scratch;
	// without it (or Scratch) released pictures are the stored bytes.
	CreditWriter CreditWriter
	// Staged holds resumable uploads until they are complete; nil when
	// the hub takes none. Sweeps and purges reach it.
	Staged StagedUploads
	// RenditionMaker and RenditionQueue make renditions after uploads;
	// without them assets have only their original.
	RenditionMaker RenditionMaker
	RenditionQueue RenditionQueue
	// Sessions keeps the web portal's sessions and sign-in links; nil
	// answers every sign-in EUNAVAILABLE.
	Sessions SessionStore
	// TakedownConfirmed, when set, is told of every first confirmation of
	// a takedown (see takedown.go), for the metrics; it must not block.
	TakedownConfirmed func(via TakedownVia)
	// Search is this replica's full-text index (hub/search); nil answers
	// every search and q filter EUNAVAILABLE.
	Search SearchIndex
}

// DefaultMaxAssetBytes is 8 GiB: a long broadcast-quality interview fits,
// and it stays far below what 16 MiB multipart parts allow (~156 GiB).
const DefaultMaxAssetBytes = 8 << 30

// NewService returns a Service over the given catalog and blob store.
func NewService(catalog Catalog, blobs BlobStore, opts ServiceOptions) *Service {
	s := &Service{
		catalog: catalog, blobs: blobs, announcer: opts.Announcer, log: opts.ReleaseLog,
		now: opts.Now, maxAssetBytes: opts.MaxAssetBytes, logger: opts.Logger,
		scheduled: make(chan struct{}, 1),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxAssetBytes <= 0 {
		s.maxAssetBytes = DefaultMaxAssetBytes
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.ids = NewIDSource(s.now)
	s.allowPrivateTargets = opts.AllowPrivateWebhookTargets
	s.pickups = opts.Pickups
	s.auditLog = opts.AuditLog
	s.sessions = opts.Sessions
	s.scrubber, s.scratch, s.staged = opts.Scrubber, opts.Scratch, opts.Staged
	s.creditWriter = opts.CreditWriter
	s.takedownConfirmed = opts.TakedownConfirmed
	s.search = opts.Search
	s.renditionMaker, s.renditionQueue = opts.RenditionMaker, opts.RenditionQueue
	return s
}

// MaxAssetBytes returns the largest asset the service accepts, so the HTTP
// layer can refuse an over-long Content-Length before reading a byte.
func (s *Service) MaxAssetBytes() int64 { return s.maxAssetBytes }

// Now returns the service's clock reading.
func (s *Service) Now() time.Time { return s.now() }

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

// Audience resolves the visibility inputs for k: its partner record, if
// it belongs to one.
func (s *Service) Audience(ctx context.Context, k *Key) (Audience, error) {
	if !belongsToPartnerRecord(k) {
		return KeyAudience(k, nil), nil
	}
	p, err := s.catalog.Partner(ctx, k.Partner)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return KeyAudience(k, nil), fmt.Errorf("load partner %s: %w", k.Partner, err)
	}
	return KeyAudience(k, p), nil
}

// campaign returns the campaign record for slug, or nil when there is none.
func (s *Service) campaign(ctx context.Context, slug string) (*Campaign, error) {
	c, err := s.catalog.Campaign(ctx, slug)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil
	}
	return c, err
}

// visible returns p as the audience may see it (the working copy for
// producers and admins, the partner view for partners), or nil.
func (s *Service) visible(ctx context.Context, a Audience, p *Package) (*Package, error) {
	c, err := s.campaign(ctx, p.Campaign)
	if err != nil {
		return nil, err
	}
	if !CanRead(a, c, p) {
		return nil, nil
	}
	return s.viewOf(ctx, a, p), nil
}

// viewOf returns p, which a may see, as a sees it: the working copy for
// producers and admins, the partner view for partners.
func (s *Service) viewOf(ctx context.Context, a Audience, p *Package) *Package {
	if !seesPartnerView(a.Key) {
		return p
	}
	v := PartnerView(p)
	v.Translations = s.visibleSiblings(ctx, a, v.Translations)
	return v
}

// visibleSiblings keeps the translation ids a partner audience may read,
// by the same rule as every read.
func (s *Service) visibleSiblings(ctx context.Context, a Audience, ids []string) []string {
	return s.siblings(ctx, ids, func(sib *Package) bool {
		sc, err := s.campaign(ctx, sib.Campaign)
		return err == nil && CanRead(a, sc, sib)
	})
}

// siblings keeps the translation ids whose packages pass keep: a link
// must not reveal a sibling the reader may not see (a draft, one under
// embargo, one in a campaign hidden from it).
func (s *Service) siblings(ctx context.Context, ids []string, keep func(*Package) bool) []string {
	var out []string
	for _, id := range ids {
		if sib, err := s.catalog.Package(ctx, id); err == nil && keep(sib) {
			out = append(out, id)
		}
	}
	return out
}

// announcedView is p as its announcement carries it to every partner who
// may see its campaign: the partner view, linking only released siblings
// of the same campaign.
func (s *Service) announcedView(ctx context.Context, p *Package) *Package {
	v := PartnerView(p)
	if v != nil {
		v.Translations = s.siblings(ctx, v.Translations, func(sib *Package) bool {
			return sib.Campaign == p.Campaign && sib.Status != StatusPurged && PartnerView(sib) != nil
		})
	}
	return v
}

// ensureCampaign records a campaign with the defaults (public) the first
// time a package names it, so the first exchange works on a fresh hub;
// only for a key that may create campaigns (MayShapeCampaigns). A limited
// producer naming one that does not exist is told so. The creation is
// recorded in the audit log as k's act.
func (s *Service) ensureCampaign(ctx context.Context, k *Key, slug string) error {
	if _, err := s.catalog.Campaign(ctx, slug); err == nil {
		return nil
	} else if ErrorCode(err) != ENOTFOUND {
		return fmt.Errorf("look up campaign %s: %w", slug, err)
	}
	if err := MayShapeCampaigns(k); err != nil {
		return Errorf(EINVALID, "there is no campaign %q, and this key may not create one: an admin creates it first", slug)
	}
	s.logger.Info("campaign created with the defaults (public) by the first package naming it", "campaign", slug, "key", k.ID)
	err := s.catalog.CreateCampaign(ctx, NewCampaign(slug, s.now()))
	if ErrorCode(err) == ECONFLICT {
		return nil // another request created it first
	} else if err != nil {
		return fmt.Errorf("create campaign %s: %w", slug, err)
	}
	s.audit(ctx, k, AuditEntry{Action: AuditCampaignCreate, Target: slug, Campaign: slug})
	return nil
}

// CreatePackage creates a draft from the producer-set fields of p.
func (s *Service) CreatePackage(ctx context.Context, k *Key, p *Package) (*Package, error) {
	p, _, err := s.createPackage(ctx, k, s.ids.New(), p, false)
	return p, err
}

// NewPackageID returns a new package id, for CreatePackageAs: the record
// of an Idempotency-Key reserves it before the create is first tried.
func (s *Service) NewPackageID() string { return s.ids.New() }

// CreatePackageAs is CreatePackage under id, reserved (NewPackageID) for
// one create that may be tried more than once: when a try's outcome is
// unknown (IsUnconfirmed), the next goes under the same id. A package
// already there under id is an earlier try's landing, so it is returned
// as it is, with existed true, and nothing is changed: the create makes
// one package however often it is tried, even with two tries at once.
// It is the caller's own create (the reservation is its), so the stored
// package is returned before the rules a new create meets are asked.
func (s *Service) CreatePackageAs(ctx context.Context, k *Key, id string, p *Package) (*Package, bool, error) {
	if !ValidID(id) {
		return nil, false, fmt.Errorf("create package under %q: not a package id", id)
	}
	if got, err := s.catalog.Package(ctx, id); err == nil {
		return got, true, nil
	} else if ErrorCode(err) != ENOTFOUND {
		return nil, false, fmt.Errorf("look for package %s, reserved for this create: %w", id, err)
	}
	return s.createPackage(ctx, k, id, p, true)
}

// createPackage makes the draft under id. reserved says id is a
// reservation another try may have used first: the catalog's conflict on
// id is then that try's package, returned with existed true.
func (s *Service) createPackage(ctx context.Context, k *Key, id string, p *Package, reserved bool) (*Package, bool, error) {
	if err := p.Validate(); err != nil {
		return nil, false, err
	}
	if err := CanCreateIn(k, p.Campaign); err != nil {
		return nil, false, err
	}
	if err := s.ensureCampaign(ctx, k, p.Campaign); err != nil {
		return nil, false, err
	}
	now := s.now().UTC()
	p.ID = id
	p.Version = 1
	p.Status = StatusDraft
	p.FirstCreated, p.VersionCreated = now, now
	p.Embargo, p.Assets, p.Live, p.Pending, p.Blobs = nil, nil, nil, nil, nil
	if err := checkEntrySize(p); err != nil {
		return nil, false, err
	}
	if err := s.catalog.CreatePackage(ctx, p); reserved && ErrorCode(err) == ECONFLICT {
		// Another try of this create, still settling when this one
		// looked, landed first.
		got, err := s.catalog.Package(ctx, id)
		if err != nil {
			return nil, false, fmt.Errorf("read package %s, made by another try of this create: %w", id, err)
		}
		return got, true, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("create package: %w", err)
	}
	s.auditPackage(ctx, k, AuditPackageCreate, p)
	return p, false, nil
}

// sighting is a package as one caller meets it: the stored package, the
// caller's audience and the package's campaign (which the visibility rule
// needs), and the view the caller gets (nil when it may not see it).
type sighting struct {
	stored   *Package
	audience Audience
	campaign *Campaign
	view     *Package
}

// sight reads package id and applies the visibility rule for k. A
// malformed, absent or hidden package is the uniform not-found answer.
func (s *Service) sight(ctx context.Context, k *Key, id string) (sighting, error) {
	if !ValidID(id) {
		return sighting{}, notFound(id)
	}
	p, err := s.catalog.Package(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return sighting{}, notFound(id)
	} else if err != nil {
		return sighting{}, fmt.Errorf("read package %s: %w", id, err)
	}
	aud, err := s.Audience(ctx, k)
	if err != nil {
		return sighting{}, err
	}
	c, err := s.campaign(ctx, p.Campaign)
	if err != nil {
		return sighting{}, err
	}
	v, err := s.visible(ctx, aud, p)
	if err != nil {
		return sighting{}, err
	}
	if v == nil {
		return sighting{}, notFound(id)
	}
	return sighting{stored: p, audience: aud, campaign: c, view: v}, nil
}

// mayDownload reports whether the caller of sg may fetch the package's bytes.
func (sg sighting) mayDownload() bool { return CanDownload(sg.audience, sg.campaign, sg.stored) }

// Package returns the package with id as the caller may see it.
// Returns ENOTFOUND when it is absent or hidden from k.
func (s *Service) Package(ctx context.Context, k *Key, id string) (*Package, error) {
	sg, err := s.sight(ctx, k, id)
	if err != nil {
		return nil, err
	}
	return sg.view, nil
}

// Packages lists the packages k may see that match q, newest first, each
// as k may see it. The catalog answers the audience's listing filter (the
// rule's query form, see Filter); nothing here looks at packages one by
// one, so an index can answer it later.
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
	a, err := s.Audience(ctx, k)
	if err != nil {
		return PackagePage{}, err
	}
	return s.listPackages(ctx, a, q)
}

// listPackages returns one page of what a may see, each package as a
// sees it.
func (s *Service) listPackages(ctx context.Context, a Audience, q PackageQuery) (PackagePage, error) {
	campaigns, err := s.catalog.Campaigns(ctx)
	if err != nil {
		return PackagePage{}, fmt.Errorf("list campaigns: %w", err)
	}
	bySlug := make(map[string]*Campaign, len(campaigns))
	for _, c := range campaigns {
		bySlug[c.Slug] = c
	}
	if q.Text != "" {
		return s.searchListing(ctx, a, a.ListingFilter(campaigns), bySlug, q)
	}
	page, err := s.catalog.ListPackages(ctx, a.ListingFilter(campaigns), q)
	if err != nil {
		return PackagePage{}, fmt.Errorf("list packages: %w", err)
	}
	out := PackagePage{Items: make([]*Package, 0, len(page.Items)), Next: page.Next}
	for _, p := range page.Items {
		// The filter is the rule's query form and a differential test holds
		// it to CanRead; this check is the second lock, so that an index
		// that ever disagrees leaks nothing (and says so).
		if !CanRead(a, bySlug[p.Campaign], p) {
			s.logger.Error("the listing filter matched a package the visibility rule hides; left out", "package", p.ID, "role", a.Key.Role)
			continue
		}
		out.Items = append(out.Items, s.viewOf(ctx, a, p))
	}
	return out, nil
}

// eachPackage calls fn on every package f matches, newest first, page by
// page: for the hub's own rounds (scheduler, reconciler), which look at
// what the listing shows and then read the package itself.
func (s *Service) eachPackage(ctx context.Context, f Filter, q PackageQuery, fn func(p *Package) error) error {
	q.Limit = MaxPageSize
	for {
		page, err := s.catalog.ListPackages(ctx, f, q)
		if err != nil {
			return fmt.Errorf("list packages: %w", err)
		}
		for _, p := range page.Items {
			if err := fn(p); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		q.After = page.Next
	}
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

// editable checks that k may change p now: ENOTFOUND when k may not
// change it (partners never learn more than a not found from a write),
// ECONFLICT when its state allows no changes. A change to a released
// package starts a revision, released later as a correction.
func (s *Service) editable(k *Key, id string, p *Package) error {
	switch {
	case !CanEdit(k, p):
		return notFound(id)
	case p.Status == StatusWithdrawn:
		return Errorf(ECONFLICT, "package %s was withdrawn; a withdrawn package cannot be changed or corrected", id)
	case p.Status == StatusPurged:
		return Errorf(ECONFLICT, "package %s was purged", id)
	}
	return nil
}

// touch records an edit: the edit time, and on a released package the
// start of a revision (the next version number).
func (s *Service) touch(p *Package) {
	p.VersionCreated = s.now().UTC()
	if p.Live != nil && p.Version == p.Live.Version {
		p.Version++
	}
}

// UpdatePackage applies patch to the working copy.
func (s *Service) UpdatePackage(ctx context.Context, k *Key, id string, patch PackagePatch) (*Package, error) {
	if !ValidID(id) {
		return nil, notFound(id)
	}
	if patch.Campaign != nil {
		if err := CanCreateIn(k, *patch.Campaign); err != nil {
			return nil, err
		}
		// Before the write, so a refusal leaves the package as it was.
		if err := s.ensureCampaign(ctx, k, *patch.Campaign); err != nil {
			return nil, err
		}
	}
	p, err := s.catalog.UpdatePackage(ctx, id, func(p *Package) error {
		if err := s.editable(k, id, p); err != nil {
			return err
		}
		if patch.Campaign != nil && *patch.Campaign != p.Campaign && p.Live != nil {
			return Errorf(ECONFLICT, "package %s was released in campaign %s; it cannot move to another", id, p.Campaign)
		}
		if patch.Language != nil && *patch.Language != p.Language && p.Live != nil {
			// Its announcements and outlets' copies are filed under the
			// language; another language is a sibling package.
			return Errorf(ECONFLICT, "package %s was released in %s; make a sibling package for another language and link it in translations", id, p.Language)
		}
		patch.Apply(p)
		if err := p.Validate(); err != nil {
			return err
		}
		if p.Status == StatusScheduled {
			// It goes out at its embargo without another look: marked
			// anonymized now, assets scrubbed for a package that was not
			// would go out with names, dates and software in them.
			if err := releasable(p, false); err != nil {
				return err
			}
		}
		s.touch(p)
		return checkEntrySize(p)
	})
	if err != nil {
		return nil, s.missingPackage(id, err)
	}
	s.auditPackage(ctx, k, AuditPackageUpdate, p)
	return p, nil
}

// DeletePackage removes a draft and the stored bytes no other package
// shares. Released packages are withdrawn or purged instead.
func (s *Service) DeletePackage(ctx context.Context, k *Key, id string) error {
	if !ValidID(id) {
		return notFound(id)
	}
	p, err := s.catalog.DeletePackage(ctx, id, func(p *Package) error {
		if err := s.editable(k, id, p); err != nil {
			return err
		}
		if p.Status != StatusDraft {
			return Errorf(ECONFLICT, "package %s is %s; only drafts are deleted (withdraw or purge a released one)", id, p.Status)
		}
		return nil
	})
	if err != nil {
		return s.missingPackage(id, err)
	}
	for _, sum := range p.Blobs {
		s.releaseBlob(context.WithoutCancel(ctx), sum)
	}
	s.deleteStaged(context.WithoutCancel(ctx), id)
	s.auditPackage(ctx, k, AuditPackageDelete, p)
	return nil
}

func (s *Service) deleteBlob(ctx context.Context, key string) {
	if err := s.blobs.Delete(ctx, key); err != nil {
		s.logger.Error("delete blob", "key", key, "err", err)
	}
}

func (s *Service) releaseBlob(ctx context.Context, sum string) {
	orphan, err := s.catalog.ReleaseBlob(ctx, sum)
	if err != nil {
		s.logger.Error("release blob reference", "sha256", sum, "err", err)
		return
	}
	if orphan != "" {
		s.forgetContent(ctx, sum, orphan)
	}
}

// forgetContent deletes what the hub keeps of content sum once its last
// reference went: the blob under key and what was derived from it.
func (s *Service) forgetContent(ctx context.Context, sum, key string) {
	s.deleteBlob(ctx, key)
	if err := s.catalog.DeleteScrubReport(ctx, sum); err != nil {
		s.logger.Error("delete scrub report", "sha256", sum, "err", err)
	}
	s.forgetRenditions(ctx, sum)
}

// dropUnusedBlob removes sum from p.Blobs when no asset of the working copy
// uses it and no version was ever released (a released version may use it;
// its bytes then stay until a purge). Reports whether it was dropped.
func dropUnusedBlob(p *Package, sum string) bool {
	if p.Live != nil || slices.ContainsFunc(p.Assets, func(a Asset) bool { return a.SHA256 == sum }) {
		return false
	}
	i := slices.Index(p.Blobs, sum)
	if i < 0 {
		return false
	}
	p.Blobs = slices.Delete(p.Blobs, i, i+1)
	return true
}
