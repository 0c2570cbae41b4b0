package hub

import "slices"

// This file is the one place that decides what a caller may see and change.
// Every path (API, downloads, listings, the change log, NATS consumers,
// webhooks, and later feeds and zips) asks these functions, so a rule
// changes in one place.

// Audience is a caller as the visibility rules need it: the key, and for
// a partner key the partner record it belongs to (nil for a partner key
// without one, which sees public campaigns only).
type Audience struct {
	Key     *Key
	Partner *Partner
}

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

// CanRead reports whether the audience may see package p (of campaign c)
// at all. Whatever it may not see is answered as not found, so existence
// does not leak. Producers and admins see the working copy; partners see
// only what has been released, and nothing before its embargo.
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

// CanCreateIn reports whether k may create packages in campaign c.
// Returns EFORBIDDEN with the reason when it may not.
func CanCreateIn(k *Key, campaign string) error {
	switch {
	case k.Role == RoleAdmin:
		return nil
	case k.Role != RoleProducer:
		return Errorf(EFORBIDDEN, "only producer and admin keys create packages")
	case !k.mayUseCampaign(campaign):
		return Errorf(EFORBIDDEN, "this key is limited to the campaigns %v", k.Campaigns)
	}
	return nil
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
