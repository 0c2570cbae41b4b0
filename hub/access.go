package hub

import "slices"

// This file is the one place that decides what a caller may see and change.
// Every path (API, downloads, zips, listings, feeds, the change log, NATS
// consumers, webhooks) asks these functions, so a rule changes in one
// place: the service's methods elsewhere call the named checks below
// rather than compare roles themselves, and handlers only map the errors
// these return to statuses.

// Audience is a caller as the visibility rules need it: the key, and for
// a partner key the partner record it belongs to (nil for a partner key
// without one, which sees public campaigns only). Build one with the
// constructors below rather than by hand.
type Audience struct {
	Key     *Key
	Partner *Partner
}

// KeyAudience is the audience of a request made with key k; p is the
// partner record a partner key belongs to (nil when it names none, or
// the record is gone).
func KeyAudience(k *Key, p *Partner) Audience {
	if k.Role != RolePartner || p == nil || p.ID != k.Partner {
		p = nil
	}
	return Audience{Key: k, Partner: p}
}

// PublicReader is the audience of the public feeds and of keyless
// downloads: a partner key without a partner record, which by the one
// rule sees released packages of public campaigns and nothing else.
func PublicReader() Audience { return Audience{Key: &Key{Name: "public", Role: RolePartner}} }

// PartnerAudience is partner p as it reads without a key of its own: its
// private feed, its webhook deliveries, its NATS consumer.
func PartnerAudience(p *Partner) Audience {
	return Audience{Key: &Key{Name: "partner " + p.Name, Role: RolePartner, Partner: p.ID}, Partner: p}
}

// ProducerAudience is a producer limited to campaigns (every campaign
// when none are given).
func ProducerAudience(campaigns ...string) Audience {
	return Audience{Key: &Key{Name: "producer", Role: RoleProducer, Campaigns: campaigns}}
}

// AdminAudience sees everything: the hub's own work (the scheduler, the
// reconciler) lists packages as it.
func AdminAudience() Audience { return Audience{Key: &Key{Name: "hub", Role: RoleAdmin}} }

// MaySeeCampaign reports whether a partner audience may see released
// packages of campaign c: public ones always, others when entitled.
func (a Audience) MaySeeCampaign(c *Campaign) bool {
	switch {
	case c == nil:
		return false
	case c.Visibility == VisibilityPublic:
		return true
	case a.Partner != nil && a.Partner.Active && a.Partner.EntitledTo(c.Slug):
		return true
	}
	return false
}

// MayKnowCampaign reports whether the audience may know of campaign slug
// (c its record, nil when there is none): see it in listings and in the
// change log. Admins know every one, producers those their key covers,
// partners those whose releases they may see.
func (a Audience) MayKnowCampaign(slug string, c *Campaign) bool {
	switch a.Key.Role {
	case RoleAdmin:
		return true
	case RoleProducer:
		return a.Key.mayUseCampaign(slug)
	case RolePartner:
		return a.MaySeeCampaign(c)
	}
	return false
}

// CanRead reports whether the audience may see package p (of campaign c)
// at all. Whatever it may not see is answered as not found, so existence
// does not leak. Producers and admins see the working copy; partners see
// only what has been released, and nothing before its embargo (a package
// under embargo has no live version: PartnerView is nil).
func CanRead(a Audience, c *Campaign, p *Package) bool {
	switch a.Key.Role {
	case RoleAdmin:
		return true
	case RoleProducer:
		return a.Key.mayUseCampaign(p.Campaign)
	case RolePartner:
		return PartnerView(p) != nil && a.MaySeeCampaign(c)
	}
	return false
}

// PartnerView returns the package as partners see it: the live version
// with the current status, a tombstone after a purge, or nil while
// nothing has been released.
func PartnerView(p *Package) *Package {
	switch {
	case p.Status == StatusPurged && (p.WasReleased || p.Live != nil):
		return p.Tombstone()
	case p.Status == StatusPurged:
		return nil // never released: partners never learn it existed
	case p.Live == nil:
		return nil
	case p.Status != StatusReleased && p.Status != StatusWithdrawn:
		return nil
	}
	v := p.Live.Clone()
	v.Status, v.Withdrawn = p.Status, p.Withdrawn
	v.Live, v.Pending, v.Blobs, v.Uploads = nil, nil, nil, nil
	return v
}

// Tombstone is what remains of a purged package: who it was (an id) and
// where it belonged, nothing that could identify anyone in it.
func (p *Package) Tombstone() *Package {
	t := &Package{ID: p.ID, Campaign: p.Campaign, Language: p.Language, Version: p.Version,
		Status: StatusPurged, FirstCreated: p.FirstCreated, VersionCreated: p.VersionCreated,
		WasReleased: p.WasReleased || p.Live != nil}
	if p.Live != nil {
		// The subject it was announced on, so the kill notice follows it.
		t.Language, t.Version = p.Live.Language, p.Live.Version
	}
	return t
}

// CanEdit reports whether the holder of k may change p.
func CanEdit(k *Key, p *Package) bool {
	switch k.Role {
	case RoleAdmin:
		return true
	case RoleProducer:
		return k.mayUseCampaign(p.Campaign)
	}
	return false
}

// CanDownload reports whether the audience may fetch the bytes of p's
// assets. A withdrawn package stays readable as a kill notice, but its
// assets stop being served to partners: they must take it down.
func CanDownload(a Audience, c *Campaign, p *Package) bool {
	if !CanRead(a, c, p) || p.Status == StatusPurged {
		return false
	}
	return p.Status != StatusWithdrawn || CanEdit(a.Key, p)
}

// RequireAdmin returns EFORBIDDEN unless k is an admin key: the one check
// of keys and of the partner directory. The HTTP layer calls it before
// reading a body, so a producer learns nothing from one.
func RequireAdmin(k *Key) error {
	if k.Role != RoleAdmin {
		return Errorf(EFORBIDDEN, "only an admin key can do this")
	}
	return nil
}

// MayReadAudit is the role check of the audit log: admins only. It names
// every key, partner and webhook and when each was touched, which no
// producer or partner may learn about the others.
func MayReadAudit(k *Key) error {
	if k.Role != RoleAdmin {
		return Errorf(EFORBIDDEN, "only an admin key can read the audit log")
	}
	return nil
}

// MayRotateKey says whether k may rotate key id: an admin any key, and
// every key's holder its own, so a partner's ingest script can roll its
// secret without waiting for an admin. A secret already replaced (in its
// grace period) may not rotate again: a leaked old secret must not be
// able to mint a fresh one. Another holder learns nothing (ENOTFOUND).
func MayRotateKey(k *Key, id string) error {
	switch {
	case k.Retires != nil:
		return Errorf(EFORBIDDEN, "this secret was replaced and is in its grace period; rotate with the new secret")
	case k.Role == RoleAdmin, k.ID == id:
		return nil
	}
	return Errorf(ENOTFOUND, "there is no key %q", id)
}

// MayCreatePackages returns EFORBIDDEN for keys that may never create a
// package (partners); the HTTP layer calls it before reading the body.
// Which campaigns a key may create in is CanCreateIn's question.
func MayCreatePackages(k *Key) error {
	if k.Role != RoleAdmin && k.Role != RoleProducer {
		return Errorf(EFORBIDDEN, "only producer and admin keys create packages")
	}
	return nil
}

// CanCreateIn reports whether k may create packages in campaign c.
// Returns EFORBIDDEN with the reason when it may not.
func CanCreateIn(k *Key, campaign string) error {
	if err := MayCreatePackages(k); err != nil {
		return err
	}
	if k.Role == RoleProducer && !k.mayUseCampaign(campaign) {
		return Errorf(EFORBIDDEN, "this key is limited to the campaigns %v", k.Campaigns)
	}
	return nil
}

// MayShapeCampaigns returns EFORBIDDEN unless k may create campaigns or
// make one public: an admin's act, or an unlimited producer's. A producer
// limited to some campaigns works inside them; opening one of them to
// everyone, or creating one, is not its call.
func MayShapeCampaigns(k *Key) error {
	switch {
	case k.Role == RoleAdmin, k.Role == RoleProducer && len(k.Campaigns) == 0:
		return nil
	case k.Role == RoleProducer:
		return Errorf(EFORBIDDEN, "this key is limited to the campaigns %v: creating a campaign or making one public is for an admin or an unlimited producer key", k.Campaigns)
	}
	return Errorf(EFORBIDDEN, "only admin and producer keys create campaigns")
}

// MayManageWebhooks is the role check of every webhook call: webhooks are
// for partner and admin keys only. The HTTP layer calls it before reading
// a body.
func MayManageWebhooks(k *Key) error {
	if k.Role != RoleAdmin && k.Role != RolePartner {
		return Errorf(EFORBIDDEN, "only partner and admin keys manage webhooks")
	}
	return nil
}

// webhookPartner returns the partner a new webhook of k's is for: its own
// for a partner key, the one named for an admin.
func webhookPartner(k *Key, partner string) (string, error) {
	if err := MayManageWebhooks(k); err != nil {
		return "", err
	}
	switch {
	case k.Role == RolePartner && k.Partner == "":
		return "", Errorf(EFORBIDDEN, "this partner key belongs to no partner record; webhooks belong to partner records")
	case k.Role == RolePartner && partner != "" && partner != k.Partner:
		return "", Errorf(ENOTFOUND, "there is no partner %q", partner)
	case k.Role == RolePartner:
		return k.Partner, nil
	case partner == "":
		return "", Errorf(EINVALID, "partner is required: the id of the partner the webhook is for")
	}
	return partner, nil
}

// mayManageWebhook reports whether k may see and change webhook w: an
// admin any, a partner key its own partner's.
func mayManageWebhook(k *Key, w *Webhook) bool {
	return k.Role == RoleAdmin || k.Role == RolePartner && k.Partner != "" && w.Partner == k.Partner
}

// mayReadPartner says whether k may read partner id's record: an admin
// any, a partner key its own. Another partner learns nothing (ENOTFOUND).
func mayReadPartner(k *Key, id string) error {
	switch {
	case k.Role == RoleAdmin, k.Role == RolePartner && k.Partner == id:
		return nil
	case k.Role == RolePartner:
		return Errorf(ENOTFOUND, "there is no partner %q", id)
	}
	return RequireAdmin(k)
}

// mayManageFeedToken says whether k may issue or revoke partnerID's feed
// token: an admin, or the partner itself through one of its own keys.
// Another partner learns nothing (ENOTFOUND), as with Service.Partner.
func mayManageFeedToken(k *Key, partnerID string) error {
	switch {
	case k.Role == RoleAdmin:
		return nil
	case k.Role == RolePartner && k.Partner == partnerID:
		return nil
	case k.Role == RolePartner:
		return Errorf(ENOTFOUND, "there is no partner %q", partnerID)
	}
	return Errorf(EFORBIDDEN, "only an admin key or the partner's own key can manage its feed token")
}

// seesEverything reports whether k is an admin's: it sees what a rule
// hides from others (dead letters of campaigns a partner lost, say), to
// run the hub.
func seesEverything(k *Key) bool { return k.Role == RoleAdmin }

// seesPartnerView reports whether k reads packages as partners do (the
// released version, siblings filtered) rather than the working copy.
func seesPartnerView(k *Key) bool { return k.Role == RolePartner }

// belongsToPartnerRecord reports whether k is a partner key of a partner
// record: such a key has entitlements, a NATS consumer and webhooks; a
// partner key without one reads public campaigns only.
func belongsToPartnerRecord(k *Key) bool { return k.Role == RolePartner && k.Partner != "" }

// IsOutletKey reports whether k is an outlet's key, a partner key of a
// partner record: what pages offer an outlet's own set-up to (the set-up
// itself asks the domain again).
func IsOutletKey(k *Key) bool { return k != nil && belongsToPartnerRecord(k) }

// mayReportRepublication returns EFORBIDDEN unless k is an outlet's key
// that a republication can be credited to.
func mayReportRepublication(k *Key) error {
	switch {
	case k.Role != RolePartner:
		return Errorf(EFORBIDDEN, "only partner outlets report republications; this is a %s key", k.Role)
	case k.Partner == "":
		return Errorf(EFORBIDDEN, "this partner key belongs to no partner record, so a republication could not be credited to an outlet; ask the hub's admin for a key of your outlet")
	}
	return nil
}

// mayReadReach reports whether k may read reach and pickups at all (which
// campaigns and packages is CanEdit's and Campaign's question): admins and
// producers, never partners, who learn nothing of other outlets.
func mayReadReach(k *Key) bool { return k.Role == RoleAdmin || k.Role == RoleProducer }

// mayConfirmTakedown returns EFORBIDDEN unless k is an outlet's key: a
// takedown is confirmed for a partner record, which a key without one
// has not.
func mayConfirmTakedown(k *Key) error {
	switch {
	case k.Role != RolePartner:
		return Errorf(EFORBIDDEN, "only partner outlets confirm takedowns; this is a %s key", k.Role)
	case k.Partner == "":
		return Errorf(EFORBIDDEN, "this partner key belongs to no partner record, so a takedown could not be credited to an outlet; ask the hub's admin for a key of your outlet")
	}
	return nil
}

// mayReadTakedowns reports whether k may read takedowns at all (which
// packages is CanEdit's question): admins and producers, never partners,
// who learn nothing of other outlets.
func mayReadTakedowns(k *Key) bool { return k.Role == RoleAdmin || k.Role == RoleProducer }

// couldReadLive reports whether partner could read the released packages
// of campaign c (nil when the campaign has no record): who a kill notice
// in c is for. An inactive partner could read nothing: its keys are
// refused.
func couldReadLive(partner *Partner, c *Campaign) bool {
	return partner.Active && PartnerAudience(partner).MaySeeCampaign(c)
}

// VisibleCampaigns returns the slugs of the campaigns whose releases the
// partner audience may receive, for filters on NATS consumers.
func (a Audience) VisibleCampaigns(all []*Campaign) []string {
	var out []string
	for _, c := range all {
		if a.MaySeeCampaign(c) {
			out = append(out, c.Slug)
		}
	}
	slices.Sort(out)
	return out
}

// Filter is the visibility rule in its query form: which packages an
// audience may see, as campaigns × states, for a catalog to answer a
// listing with (the JetStream catalog from its index of facts, the
// in-memory one by scanning). A package matches
// when its campaign is one of the campaigns (or AllCampaigns), its status
// one of Statuses (nil: any), and, with Released, it has a released
// version to show (a live one, or the tombstone of one). For every
// audience a and campaign records cs, a.ListingFilter(cs) matches exactly
// the packages CanRead lets a see; TestListingFilterMatchesCanRead checks
// that over random catalogs, so no index can become a second rule.
type Filter struct {
	AllCampaigns bool
	// Campaigns are slugs, sorted.
	Campaigns []string
	Statuses  []Status
	// Released also says how a package is compared with a request's own
	// filters (language, asset type): by its released version, as
	// PartnerView shows it, not by its working copy.
	Released bool
}

// partnerStatuses are the states in which PartnerView shows something.
var partnerStatuses = []Status{StatusReleased, StatusWithdrawn, StatusPurged}

// ListingFilter returns the filter of what a may see, given every
// campaign record (a partner sees no campaign without one). Admins see
// every package, producers every package of the campaigns their key
// covers, partners what was released in the campaigns MaySeeCampaign
// allows.
func (a Audience) ListingFilter(campaigns []*Campaign) Filter {
	switch a.Key.Role {
	case RoleAdmin:
		return Filter{AllCampaigns: true}
	case RoleProducer:
		if len(a.Key.Campaigns) == 0 {
			return Filter{AllCampaigns: true}
		}
		cs := slices.Clone(a.Key.Campaigns)
		slices.Sort(cs)
		return Filter{Campaigns: slices.Compact(cs)}
	case RolePartner:
		return Filter{Campaigns: a.VisibleCampaigns(campaigns), Statuses: partnerStatuses, Released: true}
	}
	return Filter{} // matches nothing
}

// Matches reports whether the stored package p is in the listing of f and
// of the request's own filters q (campaign, language, status, asset type,
// pending; not its cursor or limit). It is the meaning of
// PackageStore.ListPackages.
func (f Filter) Matches(p *Package, q PackageQuery) bool {
	return f.MatchesFacts(FactsOf(p), q)
}

// MatchesFacts is Matches on what a listing index keeps of a package: the
// one rule, whether a catalog scans documents or asks its index.
func (f Filter) MatchesFacts(p ListingFacts, q PackageQuery) bool {
	if !f.AllCampaigns {
		if _, ok := slices.BinarySearch(f.Campaigns, p.Campaign); !ok {
			return false
		}
	}
	if f.Statuses != nil && !slices.Contains(f.Statuses, p.Status) {
		return false
	}
	// What the audience is shown, and so what q is compared with.
	campaign, language, types := p.Campaign, p.Language, p.Types
	if f.Released {
		switch {
		case p.Status == StatusPurged && (p.WasReleased || p.Live):
			// Its tombstone: no assets, filed where it was announced.
			types = 0
			if p.Live {
				language = p.LiveLanguage
			}
		case p.Status == StatusPurged, !p.Live:
			return false
		default:
			campaign, language, types = p.LiveCampaign, p.LiveLanguage, p.LiveTypes
		}
	}
	switch {
	case q.Campaign != "" && campaign != q.Campaign,
		q.Language != "" && language != q.Language,
		q.Status != "" && p.Status != q.Status,
		q.Type != "" && !types.Has(q.Type),
		q.Pending && !p.Pending:
		return false
	}
	return true
}
