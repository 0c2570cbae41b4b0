package hub_test

import (
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// TestFeedDecides checks what the feed use case decides besides its
// items: the title, the cache scope, and a fingerprint that changes with
// whatever changes the bytes without an announcement.
func TestFeedDecides(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	d.campaign("korgau123", hub.VisibilityPublic)
	d.campaign("survivors", hub.VisibilityPartners)
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	outlet := d.partner("Almaty TV", true)
	token, err := d.svc.IssueFeedToken(ctx, d.admin, outlet.ID)
	if err != nil {
		t.Fatal(err)
	}
	feed := func(req hub.FeedRequest) *hub.Feed {
		t.Helper()
		f, err := d.svc.Feed(ctx, req)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		return f
	}

	public := feed(hub.FeedRequest{})
	if public.Title != "Syndication hub: releases" || public.Partner != nil || public.Scope != "public" {
		t.Errorf("the public feed: %q, partner %v, scope %q", public.Title, public.Partner, public.Scope)
	}
	narrowed := feed(hub.FeedRequest{Campaign: "korgau123", Language: "kk", Kind: hub.AssetVideo})
	if narrowed.Title != "Syndication hub: releases (korgau123, kk, video)" {
		t.Errorf("a narrowed feed's title: %q", narrowed.Title)
	}
	private := feed(hub.FeedRequest{Private: true, Token: token})
	if private.Title != "Syndication hub: releases for Almaty TV" || private.Partner.ID != outlet.ID || private.Scope == public.Scope {
		t.Errorf("the private feed: %q, scope %q", private.Title, private.Scope)
	}

	// An entitlement changes what the partner may see: a new fingerprint.
	entitled := []string{"survivors"}
	if _, err := d.svc.UpdatePartner(ctx, d.admin, outlet.ID, hub.PartnerPatch{Campaigns: &entitled}); err != nil {
		t.Fatal(err)
	}
	if f := feed(hub.FeedRequest{Private: true, Token: token}); f.Fingerprint == private.Fingerprint {
		t.Error("the fingerprint did not change with an entitlement")
	} else if f := feed(hub.FeedRequest{}); f.Fingerprint != public.Fingerprint {
		t.Error("another partner's entitlement changed the public feed's fingerprint")
	}
	// A campaign's new name shows in titles: a new fingerprint.
	name := "KORGAU 123"
	if _, err := d.svc.UpdateCampaign(ctx, d.admin, "korgau123", hub.CampaignPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if f := feed(hub.FeedRequest{}); f.Fingerprint == public.Fingerprint {
		t.Error("the fingerprint did not change with a campaign's name")
	}
	// A new token makes a new scope: renderings with the old URLs go.
	again, err := d.svc.IssueFeedToken(ctx, d.admin, outlet.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f := feed(hub.FeedRequest{Private: true, Token: again}); f.Scope == private.Scope {
		t.Error("a new token kept the old cache scope")
	}
	_, err = d.svc.Feed(ctx, hub.FeedRequest{Private: true, Token: token})
	wantCode(t, "the replaced token", err, hub.ENOTFOUND)

	// Items: newest change first, a withdrawal counting as a change.
	first := d.released(producer, "korgau123", "Первый", 1)
	d.clock.Set(start.Add(time.Minute))
	second := d.released(producer, "korgau123", "Второй", 2)
	d.clock.Set(start.Add(2 * time.Minute))
	if _, err := d.svc.Withdraw(ctx, producer, first.ID); err != nil {
		t.Fatal(err)
	}
	items, err := feed(hub.FeedRequest{}).Items(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].ID != first.ID || items[0].Status != hub.StatusWithdrawn || items[1].ID != second.ID {
		t.Fatalf("feed items: %v", items)
	}
	if items, _ := feed(hub.FeedRequest{Limit: 1}).Items(ctx); len(items) != 1 {
		t.Fatalf("a feed of 1: %d items", len(items))
	}
	if items, _ := feed(hub.FeedRequest{Kind: hub.AssetVideo}).Items(ctx); len(items) != 0 {
		t.Fatalf("a video feed lists %d packages with pictures only", len(items))
	}
}
