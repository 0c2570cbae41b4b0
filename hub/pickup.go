package hub

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
)

// PickupKind is what a partner did with a package.
type PickupKind string

// A download is one asset served (whole or a range of it, or a redirect
// to a presigned URL); an archive is the whole package served as a zip; a
// republication is a partner's report of where it published the package.
const (
	PickupDownload      PickupKind = "download"
	PickupArchive       PickupKind = "archive"
	PickupRepublication PickupKind = "republication"
)

// Pickup is one event of the pickup log: who took what, and where it went.
// Region and medium are the partner's at the time, so a report stays true
// to what happened when the partner record changes later.
type Pickup struct {
	Kind     PickupKind `json:"kind"`
	Time     time.Time  `json:"time"`
	Campaign string     `json:"campaign"`
	Package  string     `json:"package"`
	// Version is the version of the package the partner saw.
	Version int `json:"version"`
	// Partner is the outlet's partner id: "" for a keyless download of a
	// public package, and for a partner key without a partner record
	// (Key tells those two apart).
	Partner string `json:"partner,omitempty"`
	// Key is the id of the key used; "" for a keyless download.
	Key    string `json:"key,omitempty"`
	Region string `json:"region,omitempty"`
	Medium Medium `json:"medium,omitempty"`

	// Asset is the asset a download served.
	Asset string `json:"asset,omitempty"`
	// Assets are the assets an archive held.
	Assets []string `json:"assets,omitempty"`
	// Bytes is how much of the body was sent.
	Bytes int64 `json:"bytes,omitempty"`
	// Ranged marks a download answered with a range (206): a resumed or
	// parallel download, counted once per partner, asset and version.
	Ranged bool `json:"ranged,omitempty"`
	// Presigned marks a download answered with a redirect to the blob
	// store; the bytes then flow past the hub.
	Presigned bool `json:"presigned,omitempty"`

	// ID identifies a republication report.
	ID string `json:"id,omitempty"`
	// URL is where the republication appeared.
	URL string `json:"url,omitempty"`
	// Published is when it appeared.
	Published *time.Time `json:"published,omitempty"`
	// Audience is how many people the partner says it reached.
	Audience int64 `json:"audience,omitempty"`
}

// PickupLog keeps the pickup log. Its implementation is publisher/pickups.Log, on
// a JetStream stream; the interface is here so the domain does not
// import NATS.
type PickupLog interface {
	// Record hands p to the log and returns at once: a download must
	// neither wait for nor fail with its record. The log reports its own
	// failures.
	Record(p Pickup)

	// Append stores p and returns once it is stored. Its errors say what
	// became of p: EUNAVAILABLE when NATS did not answer (not stored, or
	// not confirmed either way), EFULL when its store has no room.
	Append(ctx context.Context, p Pickup) error

	// Scan calls fn with every pickup of campaign (of one package of it,
	// when pkg is not ""), oldest first, up to the last one stored when the
	// scan began. An error from fn ends the scan and is returned.
	Scan(ctx context.Context, campaign, pkg string, fn func(Pickup) error) error

	// Forget deletes every pickup of package id of campaign: after a
	// purge, not even asset names or republication URLs may remain.
	Forget(ctx context.Context, campaign, id string) error
}

// recordTimeout bounds the partner lookup of a download's record, which
// runs after the answer has been sent, with the request's context gone.
const recordTimeout = 2 * time.Second

// RecordDownload records that the holder of k was served assets of p, p
// as k sees it (a partner's live version): one asset (pk.Asset) or an
// archive (pk.Assets), with pk.Bytes sent. The caller sets what it served;
// the rest (time, package, partner, region, medium) is filled in here.
// Only partner audiences are recorded, the keyless public among them: a
// producer looking at its own work is not a pickup. Never fails.
func (s *Service) RecordDownload(ctx context.Context, k *Key, p *Package, pk Pickup) {
	if s.pickups == nil || k == nil || k.Role != RolePartner || p == nil {
		return
	}
	pk.Time = s.now().UTC()
	pk.Campaign, pk.Package, pk.Version = p.Campaign, p.ID, p.Version
	pk.Key, pk.Partner = k.ID, k.Partner
	if k.Partner != "" {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if partner, err := s.catalog.Partner(ctx, k.Partner); err == nil {
			pk.Region, pk.Medium = partner.Region, partner.Medium
		} else {
			s.logger.Warn("pickup without the partner's region and medium", "partner", k.Partner, "err", err)
		}
	}
	s.pickups.Record(pk)
}

// Republication is a partner's report of where it republished a package.
// Nil fields were not given.
type Republication struct {
	URL string
	// Medium defaults to the partner's medium.
	Medium Medium
	// Published is required.
	Published *time.Time
	// Audience is how many people it reached; 0 when not known.
	Audience int64
}

// Limits of a republication report.
const (
	// MaxRepublicationURL is the longest URL a report may carry.
	MaxRepublicationURL = 2048
	// MaxAudience bounds a reported audience: more than everyone on earth
	// is a typing error, and sums must not overflow.
	MaxAudience = 10_000_000_000
	// PublishedSkew is how far in the future a publication time may lie,
	// for clocks that run a little fast.
	PublishedSkew = 5 * time.Minute
)

// validate checks a report and fills the default medium.
func (r *Republication) validate(partner *Partner, now time.Time) error {
	if err := validRepublicationURL(r.URL); err != nil {
		return err
	}
	switch r.Medium {
	case "":
		r.Medium = partner.Medium
	case MediumTV, MediumRadio, MediumPrint, MediumOnline:
	default:
		return fieldErrorf("medium", "medium %q is not one of tv, radio, print, online (leave it out for your outlet's medium, %s)", r.Medium, partner.Medium)
	}
	switch {
	case r.Published == nil:
		return fieldErrorf("published", "published is required: the RFC 3339 time the republication appeared, such as \"2026-11-25T09:00:00+06:00\"")
	case r.Published.After(now.Add(PublishedSkew)):
		return fieldErrorf("published", "published %s is in the future (it is now %s); report a republication once it has appeared",
			r.Published.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case r.Audience < 0:
		return fieldErrorf("audience", "audience must be zero or more: the number of people the republication reached")
	case r.Audience > MaxAudience:
		return fieldErrorf("audience", "audience %d is more people than there are; give the number the republication reached", r.Audience)
	}
	return nil
}

func validRepublicationURL(s string) error {
	switch {
	case s == "":
		return fieldErrorf("url", "url is required: the address where the republication can be seen, such as \"https://example.kz/news/123\"")
	case len(s) > MaxRepublicationURL:
		return fieldErrorf("url", "url is longer than %d bytes", MaxRepublicationURL)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fieldErrorf("url", "url %q contains spaces or control characters; percent-encode them", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fieldErrorf("url", "url %q is not a URL: %v", s, err)
	}
	if scheme := strings.ToLower(u.Scheme); (scheme != "http" && scheme != "https") || u.Host == "" || u.Opaque != "" {
		return fieldErrorf("url", "url %q is not an absolute http or https address such as \"https://example.kz/news/123\"", s)
	}
	return nil
}

// ReportRepublication records a partner's report that it republished
// package id. The key must belong to a partner record (EFORBIDDEN
// otherwise: the report is about an outlet), and the partner must see the
// package: released, or withdrawn after it was released (ENOTFOUND
// otherwise, as everywhere). Returns the record as stored.
func (s *Service) ReportRepublication(ctx context.Context, k *Key, id string, r Republication) (*Pickup, error) {
	if err := mayReportRepublication(k); err != nil {
		return nil, err
	}
	sg, err := s.sight(ctx, k, id)
	if err != nil {
		return nil, err
	}
	v, aud := sg.view, sg.audience
	if aud.Partner == nil || v.Status == StatusPurged {
		return nil, notFound(id)
	}
	now := s.now().UTC()
	if err := r.validate(aud.Partner, now); err != nil {
		return nil, err
	}
	if s.pickups == nil {
		return nil, Errorf(EUNAVAILABLE, "this hub records no pickups")
	}
	published := r.Published.UTC()
	pk := Pickup{
		Kind: PickupRepublication, Time: now, Campaign: v.Campaign, Package: v.ID, Version: v.Version,
		Partner: aud.Partner.ID, Key: k.ID, Region: aud.Partner.Region, Medium: r.Medium,
		ID: s.ids.New(), URL: r.URL, Published: &published, Audience: r.Audience,
	}
	if err := s.pickups.Append(ctx, pk); err != nil {
		// The log says what became of it (not saved, unconfirmed, no room):
		// a report it did not confirm may have been stored, and sending
		// it again is harmless, since a report sent again replaces the
		// earlier one.
		return nil, fmt.Errorf("record a republication of %s: %w", v.ID, err)
	}
	return &pk, nil
}

// OwnRepublications returns the republications of package id that the
// caller's outlet reported, newest report first, one per URL (a report
// sent again replaces the earlier one, as reach counts them). Only the
// outlet's own: reports of other outlets and downloads are never read
// out. Errors as ReportRepublication: EFORBIDDEN for a key that is not an
// outlet's, ENOTFOUND for a package it may not see, EUNAVAILABLE on a hub
// that records no pickups.
func (s *Service) OwnRepublications(ctx context.Context, k *Key, id string) ([]Pickup, error) {
	if err := mayReportRepublication(k); err != nil {
		return nil, err
	}
	sg, err := s.sight(ctx, k, id)
	if err != nil {
		return nil, err
	}
	v, aud := sg.view, sg.audience
	if aud.Partner == nil || v.Status == StatusPurged {
		return nil, notFound(id)
	}
	if s.pickups == nil {
		return nil, Errorf(EUNAVAILABLE, "this hub records no pickups")
	}
	byURL := map[string]int{}
	var out []Pickup
	err = s.pickups.Scan(ctx, v.Campaign, v.ID, func(pk Pickup) error {
		if pk.Kind != PickupRepublication || pk.Partner != aud.Partner.ID {
			return nil
		}
		if i, ok := byURL[pk.URL]; ok {
			out[i] = pk
			return nil
		}
		byURL[pk.URL] = len(out)
		out = append(out, pk)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the republications of %s: %w", v.ID, err)
	}
	slices.SortStableFunc(out, func(a, b Pickup) int { return b.Time.Compare(a.Time) })
	return out, nil
}

// Reach is what a campaign's packages achieved, from the pickup log.
type Reach struct {
	Campaign string `json:"campaign"`
	// Outlets counts the partners with a download or a republication.
	Outlets   int            `json:"outlets"`
	Downloads ReachDownloads `json:"downloads"`
	// Republications counts reported republications, one per partner,
	// package and URL (a report sent again replaces the earlier one).
	Republications int `json:"republications"`
	// Audience sums the audiences of those republications.
	Audience int64         `json:"audience"`
	Regions  []RegionReach `json:"regions"`
	Media    []MediumReach `json:"media"`
}

// ReachDownloads counts downloads, assets and zips alike.
type ReachDownloads struct {
	// Total counts requests: a download resumed three times is three.
	Total int `json:"total"`
	// Distinct counts assets picked up: one per partner (or key, or the
	// keyless public as one), package, version and asset. A zip picks up
	// each asset in it.
	Distinct int `json:"distinct"`
	// Anonymous counts the requests made without a key.
	Anonymous int          `json:"anonymous"`
	Assets    []AssetReach `json:"assets"`
}

// AssetReach is one asset's downloads.
type AssetReach struct {
	Package string `json:"package"`
	Asset   string `json:"asset"`
	// Downloads counts distinct pickups of it, Requests every request
	// that served it, Outlets the partners that took it.
	Downloads int `json:"downloads"`
	Requests  int `json:"requests"`
	Outlets   int `json:"outlets"`
}

// ReachCounts are the figures of one region or medium.
type ReachCounts struct {
	Outlets        int   `json:"outlets"`
	Downloads      int   `json:"downloads"`
	Requests       int   `json:"requests"`
	Republications int   `json:"republications"`
	Audience       int64 `json:"audience"`
}

// RegionReach is the reach in one region; "" holds partners without a
// region and keyless downloads.
type RegionReach struct {
	Region string `json:"region"`
	ReachCounts
}

// MediumReach is the reach in one medium: a download counts under the
// partner's medium, a republication under the medium it appeared in.
type MediumReach struct {
	Medium Medium `json:"medium"`
	ReachCounts
}

// Reach computes the reach of campaign from the pickup log, for admins and
// producers whose key covers the campaign. Partners, and producers limited
// to other campaigns, get ENOTFOUND, as for a campaign that does not exist.
func (s *Service) Reach(ctx context.Context, k *Key, campaign string) (*Reach, error) {
	if !mayReadReach(k) {
		return nil, Errorf(ENOTFOUND, "there is no campaign %q", campaign)
	}
	if _, err := s.Campaign(ctx, k, campaign); err != nil {
		return nil, err
	}
	if s.pickups == nil {
		return nil, Errorf(EUNAVAILABLE, "this hub records no pickups")
	}
	t := newReachTally()
	if err := s.pickups.Scan(ctx, campaign, "", func(p Pickup) error { t.add(p); return nil }); err != nil {
		return nil, fmt.Errorf("read the pickups of %s: %w", campaign, err)
	}
	return t.reach(campaign), nil
}

// MaxPackagePickups bounds the events PackagePickups returns: the newest.
const MaxPackagePickups = 1000

// PackagePickups returns the newest pickups of package id (at most
// MaxPackagePickups, newest first) and the names of the partners in them,
// by id, for those who may edit the package. Partners and producers of
// other campaigns get ENOTFOUND.
func (s *Service) PackagePickups(ctx context.Context, k *Key, id string) ([]Pickup, map[string]string, error) {
	if !ValidID(id) || !mayReadReach(k) {
		return nil, nil, notFound(id)
	}
	p, err := s.catalog.Package(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil, notFound(id)
	} else if err != nil {
		return nil, nil, fmt.Errorf("read package %s: %w", id, err)
	}
	if !CanEdit(k, p) {
		return nil, nil, notFound(id)
	}
	if s.pickups == nil {
		return nil, nil, Errorf(EUNAVAILABLE, "this hub records no pickups")
	}
	newest := newestPickups{max: MaxPackagePickups}
	if err := s.pickups.Scan(ctx, p.Campaign, id, func(pk Pickup) error { newest.add(pk); return nil }); err != nil {
		return nil, nil, fmt.Errorf("read the pickups of %s: %w", id, err)
	}
	out := newest.list()
	names := map[string]string{}
	for _, pk := range out {
		if _, seen := names[pk.Partner]; pk.Partner != "" && !seen {
			names[pk.Partner] = ""
			if partner, err := s.catalog.Partner(ctx, pk.Partner); err == nil {
				names[pk.Partner] = partner.Name
			}
		}
	}
	return out, names, nil
}

// newestPickups keeps the last max pickups added, in a ring, so that a
// much-downloaded package costs no more memory than the answer.
type newestPickups struct {
	max  int
	ring []Pickup
	next int // where the next one goes, once the ring is full
}

func (r *newestPickups) add(p Pickup) {
	if len(r.ring) < r.max {
		r.ring = append(r.ring, p)
		return
	}
	r.ring[r.next] = p
	r.next = (r.next + 1) % r.max
}

// list returns the pickups kept, newest first.
func (r *newestPickups) list() []Pickup {
	out := make([]Pickup, 0, len(r.ring))
	for i := len(r.ring) - 1; i >= 0; i-- {
		out = append(out, r.ring[(r.next+i)%len(r.ring)])
	}
	return out
}

// reachTally adds pickups up into a Reach.
type reachTally struct {
	total, anonymous int
	// distinct downloads: who, package, version, asset
	distinct map[pickupKey]*pickupGroups
	requests map[assetKey]int
	// republications by who, package and URL: the last report counts
	republished map[republicationKey]Pickup
	outlets     map[string]bool
	regions     map[string]*groupTally
	media       map[Medium]*groupTally
}

type pickupKey struct {
	who, pkg string
	version  int
	asset    string
}

type assetKey struct{ pkg, asset string }

type republicationKey struct{ who, pkg, url string }

// pickupGroups are the region and medium a distinct pickup was counted
// under (a partner that changed region in between counts in both).
type pickupGroups struct {
	partner string
	// Almost always one each: a slice, not a map.
	regions []string
	media   []Medium
}

type groupTally struct {
	outlets map[string]bool
	counts  ReachCounts
}

func newReachTally() *reachTally {
	return &reachTally{
		distinct: map[pickupKey]*pickupGroups{}, requests: map[assetKey]int{},
		republished: map[republicationKey]Pickup{}, outlets: map[string]bool{},
		regions: map[string]*groupTally{}, media: map[Medium]*groupTally{},
	}
}

// who identifies the taker of a pickup: its partner, else its key, else
// the keyless public as one.
func (p *Pickup) who() string {
	switch {
	case p.Partner != "":
		return p.Partner
	case p.Key != "":
		return "key:" + p.Key
	}
	return "public"
}

func groupOf[K comparable](m map[K]*groupTally, k K) *groupTally {
	g := m[k]
	if g == nil {
		g = &groupTally{outlets: map[string]bool{}}
		m[k] = g
	}
	return g
}

func (t *reachTally) add(p Pickup) {
	switch p.Kind {
	case PickupDownload, PickupArchive:
		t.total++
		if p.Key == "" && p.Partner == "" {
			t.anonymous++
		}
		assets := p.Assets
		if p.Kind == PickupDownload {
			assets = []string{p.Asset}
		}
		region, medium := groupOf(t.regions, p.Region), groupOf(t.media, p.Medium)
		region.counts.Requests++
		medium.counts.Requests++
		if p.Partner != "" {
			t.outlets[p.Partner] = true
			region.outlets[p.Partner] = true
			medium.outlets[p.Partner] = true
		}
		for _, a := range assets {
			t.requests[assetKey{p.Package, a}]++
			k := pickupKey{p.who(), p.Package, p.Version, a}
			g := t.distinct[k]
			if g == nil {
				g = &pickupGroups{partner: p.Partner}
				t.distinct[k] = g
			}
			if !slices.Contains(g.regions, p.Region) {
				g.regions = append(g.regions, p.Region)
			}
			if !slices.Contains(g.media, p.Medium) {
				g.media = append(g.media, p.Medium)
			}
		}
	case PickupRepublication:
		t.republished[republicationKey{p.who(), p.Package, p.URL}] = p
	}
}

func (t *reachTally) reach(campaign string) *Reach {
	r := &Reach{Campaign: campaign}
	r.Downloads.Total, r.Downloads.Anonymous, r.Downloads.Distinct = t.total, t.anonymous, len(t.distinct)

	type assetTally struct {
		downloads int
		outlets   map[string]bool
	}
	assets := map[assetKey]*assetTally{}
	for k, g := range t.distinct {
		a := assets[assetKey{k.pkg, k.asset}]
		if a == nil {
			a = &assetTally{outlets: map[string]bool{}}
			assets[assetKey{k.pkg, k.asset}] = a
		}
		a.downloads++
		if g.partner != "" {
			a.outlets[g.partner] = true
		}
		for _, region := range g.regions {
			groupOf(t.regions, region).counts.Downloads++
		}
		for _, medium := range g.media {
			groupOf(t.media, medium).counts.Downloads++
		}
	}
	r.Downloads.Assets = make([]AssetReach, 0, len(assets))
	for k, a := range assets {
		r.Downloads.Assets = append(r.Downloads.Assets, AssetReach{
			Package: k.pkg, Asset: k.asset, Downloads: a.downloads, Requests: t.requests[k], Outlets: len(a.outlets),
		})
	}
	slices.SortFunc(r.Downloads.Assets, func(a, b AssetReach) int {
		return cmp.Or(strings.Compare(a.Package, b.Package), strings.Compare(a.Asset, b.Asset))
	})

	for _, p := range t.republished {
		r.Republications++
		r.Audience += p.Audience
		for _, g := range []*groupTally{groupOf(t.regions, p.Region), groupOf(t.media, p.Medium)} {
			g.counts.Republications++
			g.counts.Audience += p.Audience
			if p.Partner != "" {
				g.outlets[p.Partner] = true
			}
		}
		if p.Partner != "" {
			t.outlets[p.Partner] = true
		}
	}
	r.Outlets = len(t.outlets)

	r.Regions = make([]RegionReach, 0, len(t.regions))
	for region, g := range t.regions {
		g.counts.Outlets = len(g.outlets)
		r.Regions = append(r.Regions, RegionReach{Region: region, ReachCounts: g.counts})
	}
	slices.SortFunc(r.Regions, func(a, b RegionReach) int { return strings.Compare(a.Region, b.Region) })
	r.Media = make([]MediumReach, 0, len(t.media))
	for medium, g := range t.media {
		g.counts.Outlets = len(g.outlets)
		r.Media = append(r.Media, MediumReach{Medium: medium, ReachCounts: g.counts})
	}
	slices.SortFunc(r.Media, func(a, b MediumReach) int { return strings.Compare(string(a.Medium), string(b.Medium)) })
	return r
}
