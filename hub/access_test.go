package hub_test

import (
	"testing"

	"github.com/syndication-hub/hub/hub"
)

func TestAccessRules(t *testing.T) {
	public := &hub.Campaign{Slug: "korgau123", Visibility: hub.VisibilityPublic}
	closed := &hub.Campaign{Slug: "survivors", Visibility: hub.VisibilityPartners}
	entitled := &hub.Partner{ID: "P1", Active: true, Campaigns: []string{"survivors"}}
	other := &hub.Partner{ID: "P2", Active: true}
	inactive := &hub.Partner{ID: "P3", Active: false, Campaigns: []string{"survivors"}}

	admin := hub.Audience{Key: &hub.Key{Role: hub.RoleAdmin}}
	anyProducer := hub.Audience{Key: &hub.Key{Role: hub.RoleProducer}}
	limited := hub.Audience{Key: &hub.Key{Role: hub.RoleProducer, Campaigns: []string{"korgau123"}}}
	partnerOf := func(p *hub.Partner) hub.Audience {
		return hub.Audience{Key: &hub.Key{Role: hub.RolePartner, Partner: p.ID}, Partner: p}
	}
	loose := hub.Audience{Key: &hub.Key{Role: hub.RolePartner}} // a partner key without a partner record

	released := func(c *hub.Campaign, s hub.Status) *hub.Package {
		p := &hub.Package{Campaign: c.Slug, Status: s, Version: 1}
		if s != hub.StatusDraft && s != hub.StatusScheduled {
			p.Live = &hub.Package{Campaign: c.Slug, Version: 1}
		}
		return p
	}
	for _, tc := range []struct {
		name                 string
		aud                  hub.Audience
		c                    *hub.Campaign
		p                    *hub.Package
		read, edit, download bool
	}{
		{"admin, a draft", admin, closed, released(closed, hub.StatusDraft), true, true, true},
		{"producer, any campaign", anyProducer, closed, released(closed, hub.StatusDraft), true, true, true},
		{"limited producer, own campaign", limited, public, released(public, hub.StatusDraft), true, true, true},
		{"limited producer, other campaign", limited, closed, released(closed, hub.StatusReleased), false, false, false},
		{"partner, a draft", partnerOf(entitled), public, released(public, hub.StatusDraft), false, false, false},
		{"partner, embargoed", partnerOf(entitled), public, released(public, hub.StatusScheduled), false, false, false},
		{"partner, public release", partnerOf(other), public, released(public, hub.StatusReleased), true, false, true},
		{"loose partner key, public release", loose, public, released(public, hub.StatusReleased), true, false, true},
		{"loose partner key, partners-only campaign", loose, closed, released(closed, hub.StatusReleased), false, false, false},
		{"entitled partner, partners-only campaign", partnerOf(entitled), closed, released(closed, hub.StatusReleased), true, false, true},
		{"partner not entitled, partners-only campaign", partnerOf(other), closed, released(closed, hub.StatusReleased), false, false, false},
		{"inactive partner", partnerOf(inactive), closed, released(closed, hub.StatusReleased), false, false, false},
		{"partner, withdrawn: the notice but not the bytes", partnerOf(other), public, released(public, hub.StatusWithdrawn), true, false, false},
		{"producer, withdrawn: still its own", limited, public, released(public, hub.StatusWithdrawn), true, true, true},
		{"partner, purged: the tombstone only", partnerOf(other), public, released(public, hub.StatusPurged), true, false, false},
		{"partner, unknown campaign", partnerOf(entitled), nil, released(public, hub.StatusReleased), false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := hub.CanRead(tc.aud, tc.c, tc.p); got != tc.read {
				t.Errorf("CanRead = %v", got)
			}
			if got := hub.CanEdit(tc.aud.Key, tc.p); got != tc.edit {
				t.Errorf("CanEdit = %v", got)
			}
			if got := hub.CanDownload(tc.aud, tc.c, tc.p); got != tc.download {
				t.Errorf("CanDownload = %v", got)
			}
		})
	}
}

func TestPartnerViewShowsTheLiveVersion(t *testing.T) {
	p := &hub.Package{ID: "X", Campaign: "c", Version: 3, Status: hub.StatusReleased, By: "working copy",
		Live: &hub.Package{ID: "X", Campaign: "c", Version: 2, By: "as released"}, Blobs: []string{"abc"}}
	v := hub.PartnerView(p)
	if v.By != "as released" || v.Version != 2 || v.Status != hub.StatusReleased || v.Blobs != nil || v.Live != nil {
		t.Fatalf("partner view %+v", v)
	}
	p.Status = hub.StatusPurged
	if v := hub.PartnerView(p); v.By != "" || v.Status != hub.StatusPurged || v.ID != "X" {
		t.Fatalf("tombstone %+v", v)
	}
	draft := &hub.Package{ID: "Y", Status: hub.StatusDraft}
	if v := hub.PartnerView(draft.Tombstone()); v != nil {
		t.Fatalf("a purged draft shows partners a tombstone: %+v", v)
	}
}
