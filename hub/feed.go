package hub

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// This file is the feed use case: which packages a feed shows, in what
// order, what it calls itself, and what its rendering depends on, so a
// cache knows when a copy is stale. Rendering the formats is feeds'; the
// URLs are the HTTP layer's.

// FeedRequest asks for one feed: the public one, or (Private) a partner's,
// found by its feed token, narrowed to a campaign, a language and an asset
// kind and to packages whose text has the words of Text (checked by
// ParseSearchText), with at most Limit items. Zero values mean "any";
// Limit 0 means every item.
type FeedRequest struct {
	Private  bool
	Token    string
	Campaign string
	Language string
	Kind     AssetType
	Text     string
	Limit    int
}

// Feed is one feed as its audience may see it.
type Feed struct {
	// Partner is the partner of a private feed, nil for the public one.
	Partner     *Partner
	Title       string
	Description string
	// Scope keeps this audience's renderings apart from other audiences'
	// in a cache: the token's hash for a private feed, not the partner id,
	// since a new token makes new URLs and the renderings with the old
	// ones in them must not be served.
	Scope string
	// Fingerprint sums up what the feed's bytes depend on besides its
	// packages, which announcements do not signal: the campaigns its
	// audience may see (visibility and entitlements change that) with the
	// names a title shows, and the partner's name.
	Fingerprint string

	svc      *Service
	audience Audience
	req      FeedRequest
}

// Feed decides the feed req asks for. Returns ENOTFOUND for a private
// feed whose token is malformed, unknown, revoked or of an inactive
// partner, and for a campaign the audience may not see (unknown and
// hidden look the same).
func (s *Service) Feed(ctx context.Context, req FeedRequest) (*Feed, error) {
	f := &Feed{svc: s, req: req, audience: PublicReader(), Scope: "public"}
	if req.Private {
		p, err := s.PartnerByFeedToken(ctx, req.Token)
		if err != nil {
			return nil, err
		}
		f.Partner, f.audience, f.Scope = p, PartnerAudience(p), "partner:"+p.FeedTokenHash
	}
	campaigns, err := s.knownCampaigns(ctx, f.audience)
	if err != nil {
		return nil, err
	}
	var narrowed []string
	if req.Campaign != "" {
		i := slices.IndexFunc(campaigns, func(c *Campaign) bool { return c.Slug == req.Campaign })
		if i < 0 {
			return nil, Errorf(ENOTFOUND, "there is no campaign %q", req.Campaign)
		}
		narrowed = append(narrowed, campaigns[i].Name)
	}
	if req.Language != "" {
		narrowed = append(narrowed, req.Language)
	}
	if req.Kind != "" {
		narrowed = append(narrowed, string(req.Kind))
	}
	if req.Text != "" {
		narrowed = append(narrowed, "“"+req.Text+"”")
	}
	f.Title = "Syndication hub: releases"
	if f.Partner != nil {
		f.Title += " for " + f.Partner.Name
	}
	if len(narrowed) > 0 {
		f.Title += " (" + strings.Join(narrowed, ", ") + ")"
	}
	f.Description = "Campaign media packages as they are released, newest first, with a kill notice for each one withdrawn."
	if f.Partner == nil {
		f.Description += " Public campaigns only; assets download without a key."
	}
	f.Fingerprint = feedFingerprint(campaigns, f.Partner)
	return f, nil
}

// Items lists the feed's packages as its audience sees them (partner
// views, tombstones for purges), in feed order (see FeedItems). It is
// apart from Feed so that serving a cached rendering costs no listing.
func (f *Feed) Items(ctx context.Context) ([]*Package, error) {
	q := PackageQuery{Campaign: f.req.Campaign, Language: f.req.Language, Text: f.req.Text, Limit: MaxPageSize}
	var all []*Package
	for {
		page, err := f.svc.listPackages(ctx, f.audience, q)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return FeedItems(all, f.req.Kind, f.req.Limit), nil
		}
		q.After = page.Next
	}
}

// FeedItems puts packages (as their audience sees them) in feed order:
// newest first by their last change as partners see it (a withdrawal, or
// the release of the live version), then by id; keeps those with an asset
// of kind (any when ""), and at most limit (all when 0). A purged package
// stays in a kind-filtered feed: its tombstone has no assets left to
// match, and its kill notice must still reach everyone who may have
// republished it.
func FeedItems(packages []*Package, kind AssetType, limit int) []*Package {
	out := make([]*Package, 0, min(len(packages), max(limit, 0)))
	for _, p := range packages {
		if kind == "" || p.Status == StatusPurged || p.HasAssetType(kind) {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b *Package) int {
		if c := b.Changed().Compare(a.Changed()); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func feedFingerprint(campaigns []*Campaign, p *Partner) string {
	h := sha256.New()
	for _, c := range campaigns {
		h.Write([]byte(c.Slug + "\x00" + c.Name + "\x00"))
	}
	if p != nil {
		h.Write([]byte("\x01" + p.Name))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
