package hub

import (
	"context"
	"fmt"
)

// ReleaseLog reads back the announcements of the release stream, for
// callers without NATS access. Its implementation is publisher/releases.Stream.
type ReleaseLog interface {
	// Entries returns up to limit entries after sequence after whose
	// campaign passes visible, and the sequence to continue from.
	Entries(ctx context.Context, after uint64, limit int, visible func(campaign string) bool) ([]LogEntry, uint64, error)
}

// LogEntry is one announcement as the change log lists it.
type LogEntry struct {
	Sequence uint64
	Event    Event
	ID       string // the announcement id
	Time     string
	Campaign string
	Language string
	Package  []byte // the announced ninjs JSON
}

// Releases returns the change log after cursor as the caller may see it.
func (s *Service) Releases(ctx context.Context, k *Key, after uint64, limit int) ([]LogEntry, uint64, error) {
	if s.log == nil {
		return nil, after, Errorf(EUNAVAILABLE, "the change log is not available")
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, after, Errorf(EINVALID, "limit must be between 1 and %d", MaxPageSize)
	}
	aud, err := s.Audience(ctx, k)
	if err != nil {
		return nil, after, err
	}
	campaigns := map[string]*Campaign{}
	visible := func(slug string) bool {
		c, seen := campaigns[slug]
		if !seen {
			c, _ = s.campaign(ctx, slug)
			campaigns[slug] = c
		}
		return aud.MayKnowCampaign(slug, c)
	}
	return s.log.Entries(ctx, after, limit, visible)
}

// Campaigns lists the campaigns the caller may know of: all for admins and
// unlimited producers, a limited producer's own, and for partners the
// ones whose releases they may see.
func (s *Service) Campaigns(ctx context.Context, k *Key) ([]*Campaign, error) {
	aud, err := s.Audience(ctx, k)
	if err != nil {
		return nil, err
	}
	return s.knownCampaigns(ctx, aud)
}

// knownCampaigns returns the campaigns aud may know of, by slug.
func (s *Service) knownCampaigns(ctx context.Context, aud Audience) ([]*Campaign, error) {
	all, err := s.catalog.Campaigns(ctx)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	var out []*Campaign
	for _, c := range all {
		if aud.MayKnowCampaign(c.Slug, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Campaign returns one campaign the caller may know of, else ENOTFOUND.
func (s *Service) Campaign(ctx context.Context, k *Key, slug string) (*Campaign, error) {
	all, err := s.Campaigns(ctx, k)
	if err != nil {
		return nil, err
	}
	for _, c := range all {
		if c.Slug == slug {
			return c, nil
		}
	}
	return nil, Errorf(ENOTFOUND, "there is no campaign %q", slug)
}

// CreateCampaign records a campaign (admins and unlimited producers).
func (s *Service) CreateCampaign(ctx context.Context, k *Key, c *Campaign) (*Campaign, error) {
	if err := MayShapeCampaigns(k); err != nil {
		return nil, err
	}
	if c.Name == "" {
		c.Name = c.Slug
	}
	if c.Visibility == "" {
		c.Visibility = VisibilityPublic
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.Created = s.now().UTC()
	if err := s.catalog.CreateCampaign(ctx, c); ErrorCode(err) == ECONFLICT {
		return nil, Errorf(ECONFLICT, "campaign %q exists", c.Slug)
	} else if err != nil {
		return nil, fmt.Errorf("create campaign: %w", err)
	}
	s.audit(ctx, k, AuditEntry{Action: AuditCampaignCreate, Target: c.Slug, Campaign: c.Slug})
	return c, nil
}

// CampaignPatch holds the campaign fields a PATCH changes.
type CampaignPatch struct {
	Name       *string
	Visibility *Visibility
	Hashtags   *[]string
}

// UpdateCampaign changes a campaign; a change of visibility changes at
// once who sees its packages on every path.
func (s *Service) UpdateCampaign(ctx context.Context, k *Key, slug string, patch CampaignPatch) (*Campaign, error) {
	if _, err := s.Campaign(ctx, k, slug); err != nil {
		return nil, err
	}
	if err := CanCreateIn(k, slug); err != nil {
		return nil, err
	}
	var was Visibility
	c, err := s.catalog.UpdateCampaign(ctx, slug, func(c *Campaign) error {
		was = c.Visibility
		if patch.Name != nil {
			c.Name = *patch.Name
		}
		if patch.Visibility != nil && *patch.Visibility != c.Visibility && *patch.Visibility == VisibilityPublic {
			// Opening a campaign to everyone publishes every released
			// package in it to the public feeds and keyless downloads.
			if err := MayShapeCampaigns(k); err != nil {
				return err
			}
		}
		if patch.Visibility != nil {
			c.Visibility = *patch.Visibility
		}
		if patch.Hashtags != nil {
			c.Hashtags = *patch.Hashtags
		}
		return c.Validate()
	})
	if ErrorCode(err) == ENOTFOUND {
		return nil, Errorf(ENOTFOUND, "there is no campaign %q", slug)
	} else if err != nil {
		return nil, err
	}
	action := AuditCampaignUpdate
	switch {
	case c.Visibility == was:
	case c.Visibility == VisibilityPublic:
		action = AuditCampaignPublic
	default:
		action = AuditCampaignPartnersOnly
	}
	s.audit(ctx, k, AuditEntry{Action: action, Target: slug, Campaign: slug})
	return c, nil
}

// Partners lists partners (admins only).
func (s *Service) Partners(ctx context.Context, k *Key) ([]*Partner, error) {
	if err := RequireAdmin(k); err != nil {
		return nil, err
	}
	return s.catalog.Partners(ctx)
}

// Partner returns one partner: any for an admin, its own for a partner key.
func (s *Service) Partner(ctx context.Context, k *Key, id string) (*Partner, error) {
	if err := mayReadPartner(k, id); err != nil {
		return nil, err
	}
	p, err := s.catalog.Partner(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, Errorf(ENOTFOUND, "there is no partner %q", id)
	}
	return p, err
}

// OwnPartner returns the partner record the caller's key belongs to: an
// outlet reads its own, for its set-up. Returns EFORBIDDEN for keys of no
// partner record (admins, producers, a partner key without one) and
// ENOTFOUND when the record is gone.
func (s *Service) OwnPartner(ctx context.Context, k *Key) (*Partner, error) {
	if !belongsToPartnerRecord(k) {
		return nil, Errorf(EFORBIDDEN, "only the key of a partner outlet has an outlet of its own; this is a %s key", k.Role)
	}
	return s.Partner(ctx, k, k.Partner)
}

// CreatePartner records a partner outlet (admins only).
func (s *Service) CreatePartner(ctx context.Context, k *Key, p *Partner) (*Partner, error) {
	if err := RequireAdmin(k); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p.ID, p.Created = s.ids.New(), s.now().UTC()
	if err := s.catalog.CreatePartner(ctx, p); err != nil {
		return nil, fmt.Errorf("create partner: %w", err)
	}
	s.audit(ctx, k, AuditEntry{Action: AuditPartnerCreate, Target: p.ID, Partner: p.ID})
	return p, nil
}

// PartnerPatch holds the partner fields a PATCH changes.
type PartnerPatch struct {
	Name      *string
	Region    *string
	Medium    *Medium
	Languages *[]string
	Campaigns *[]string
	Active    *bool
}

// UpdatePartner changes a partner (admins only); a change of entitlements
// changes at once what it sees on every path.
func (s *Service) UpdatePartner(ctx context.Context, k *Key, id string, patch PartnerPatch) (*Partner, error) {
	if err := RequireAdmin(k); err != nil {
		return nil, err
	}
	p, err := s.catalog.UpdatePartner(ctx, id, func(p *Partner) error {
		if patch.Name != nil {
			p.Name = *patch.Name
		}
		if patch.Region != nil {
			p.Region = *patch.Region
		}
		if patch.Medium != nil {
			p.Medium = *patch.Medium
		}
		if patch.Languages != nil {
			p.Languages = *patch.Languages
		}
		if patch.Campaigns != nil {
			p.Campaigns = *patch.Campaigns
		}
		if patch.Active != nil {
			p.Active = *patch.Active
		}
		return p.Validate()
	})
	if ErrorCode(err) == ENOTFOUND {
		return nil, Errorf(ENOTFOUND, "there is no partner %q", id)
	} else if err != nil {
		return nil, err
	}
	s.audit(ctx, k, AuditEntry{Action: AuditPartnerUpdate, Target: id, Partner: id})
	return p, nil
}
