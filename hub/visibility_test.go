package hub_test

import (
	"slices"
	"testing"

	"github.com/syndication-hub/hub/hub"
)

// TestVisibilityPerRole checks, through the Service, what each role sees
// of one small catalog on every read path the domain offers: listings,
// single reads, downloads, campaigns, the feeds' items.
func TestVisibilityPerRole(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	d.campaign("korgau123", hub.VisibilityPublic)
	d.campaign("survivors", hub.VisibilityPartners)
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	limited := d.key(hub.Key{Role: hub.RoleProducer, Campaigns: []string{"survivors"}})

	open := d.released(producer, "korgau123", "Открытая история", 1)
	closed := d.released(producer, "survivors", "Закрытая история", 2)
	draft := d.draft(producer, "korgau123", "ru", "Черновик")
	closedDraft := d.draft(limited, "survivors", "ru", "Закрытый черновик")

	entitled := d.partner("Almaty TV", true, "survivors")
	other := d.partner("Bishkek Online", true)
	dormant := d.partner("Osh Radio", false, "survivors")
	keys := map[string]*hub.Key{
		"admin":            d.admin,
		"producer":         producer,
		"limited producer": limited,
		"entitled partner": d.key(hub.Key{Role: hub.RolePartner, Partner: entitled.ID}),
		"other partner":    d.key(hub.Key{Role: hub.RolePartner, Partner: other.ID}),
		// Authenticate refuses an inactive partner's key at the door; the
		// rule itself gives it what the public sees and no more.
		"inactive partner":       d.key(hub.Key{Role: hub.RolePartner, Partner: dormant.ID}),
		"partner without record": d.key(hub.Key{Role: hub.RolePartner}),
		"public":                 hub.PublicReader().Key,
	}
	all := []string{closedDraft.ID, draft.ID, closed.ID, open.ID} // newest first
	want := map[string][]string{
		"admin":                  all,
		"producer":               all,
		"limited producer":       {closedDraft.ID, closed.ID},
		"entitled partner":       {closed.ID, open.ID},
		"other partner":          {open.ID},
		"inactive partner":       {open.ID},
		"partner without record": {open.ID},
		"public":                 {open.ID},
	}
	wantCampaigns := map[string][]string{
		"admin": {"korgau123", "survivors"}, "producer": {"korgau123", "survivors"}, "limited producer": {"survivors"},
		"entitled partner": {"korgau123", "survivors"}, "other partner": {"korgau123"}, "inactive partner": {"korgau123"},
		"partner without record": {"korgau123"}, "public": {"korgau123"},
	}
	for name, k := range keys {
		t.Run(name, func(t *testing.T) {
			page, err := d.svc.Packages(ctx, k, hub.PackageQuery{})
			if err != nil {
				t.Fatal(err)
			}
			var listed []string
			for _, p := range page.Items {
				listed = append(listed, p.ID)
			}
			if !slices.Equal(listed, want[name]) {
				t.Errorf("lists %v, want %v", listed, want[name])
			}
			for _, id := range all {
				p, err := d.svc.Package(ctx, k, id)
				visible := slices.Contains(want[name], id)
				switch {
				case visible && err != nil:
					t.Errorf("reading %s: %v", id, err)
				case !visible && hub.ErrorCode(err) != hub.ENOTFOUND:
					t.Errorf("reading hidden %s: %v, want not found", id, err)
				case visible && k.Role == hub.RolePartner && (p.Live != nil || p.Blobs != nil):
					t.Errorf("a partner got the working copy of %s", id)
				}
				_, _, err = d.svc.Asset(ctx, k, id, "poster.png")
				if hasPoster := id == open.ID || id == closed.ID; visible && hasPoster && err != nil {
					t.Errorf("downloading from %s: %v", id, err)
				} else if !visible && hub.ErrorCode(err) != hub.ENOTFOUND {
					t.Errorf("downloading from hidden %s: %v", id, err)
				}
			}
			campaigns, err := d.svc.Campaigns(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			var slugs []string
			for _, c := range campaigns {
				slugs = append(slugs, c.Slug)
			}
			if !slices.Equal(slugs, wantCampaigns[name]) {
				t.Errorf("campaigns %v, want %v", slugs, wantCampaigns[name])
			}
		})
	}

	// A partner's private feed shows what its key shows; the public feed
	// what the public reader sees.
	token, err := d.svc.IssueFeedToken(ctx, d.admin, entitled.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		req  hub.FeedRequest
		want []string
	}{
		{hub.FeedRequest{}, []string{open.ID}},
		{hub.FeedRequest{Private: true, Token: token}, []string{closed.ID, open.ID}},
		{hub.FeedRequest{Private: true, Token: token, Campaign: "survivors"}, []string{closed.ID}},
	} {
		feed, err := d.svc.Feed(ctx, tc.req)
		if err != nil {
			t.Fatalf("%+v: %v", tc.req, err)
		}
		items, err := feed.Items(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range items {
			got = append(got, p.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("feed %+v: %v, want %v", tc.req, got, tc.want)
		}
	}
	_, err = d.svc.Feed(ctx, hub.FeedRequest{Campaign: "survivors"})
	wantCode(t, "the public feed of a partners-only campaign", err, hub.ENOTFOUND)
	_, err = d.svc.Feed(ctx, hub.FeedRequest{Private: true})
	wantCode(t, "a private feed without a token", err, hub.ENOTFOUND)

	// Entitlements and visibility change what is seen at once.
	off := false
	if _, err := d.svc.UpdatePartner(ctx, d.admin, entitled.ID, hub.PartnerPatch{Active: &off}); err != nil {
		t.Fatal(err)
	}
	if page, _ := d.svc.Packages(ctx, keys["entitled partner"], hub.PackageQuery{}); len(page.Items) != 1 {
		t.Errorf("a partner made inactive still lists %d packages", len(page.Items))
	}
	public := hub.VisibilityPublic
	if _, err := d.svc.UpdateCampaign(ctx, d.admin, "survivors", hub.CampaignPatch{Visibility: &public}); err != nil {
		t.Fatal(err)
	}
	if page, _ := d.svc.Packages(ctx, hub.PublicReader().Key, hub.PackageQuery{}); len(page.Items) != 2 {
		t.Errorf("after survivors turned public the public lists %d packages", len(page.Items))
	}
}

// TestRoleChecks: the checks the HTTP layer runs before reading a body,
// and the Service runs again, refuse the roles that may never make a call.
func TestRoleChecks(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	outlet := d.partner("Almaty TV", true)
	partner := d.key(hub.Key{Role: hub.RolePartner, Partner: outlet.ID})

	for _, tc := range []struct {
		what string
		err  error
		code string
	}{
		{"a producer creating a key", func() error {
			_, _, err := d.svc.CreateKey(ctx, producer, hub.Key{Name: "x", Role: hub.RoleAdmin})
			return err
		}(), hub.EFORBIDDEN},
		{"a producer listing partners", func() error { _, err := d.svc.Partners(ctx, producer); return err }(), hub.EFORBIDDEN},
		{"a producer creating a partner", func() error {
			_, err := d.svc.CreatePartner(ctx, producer, &hub.Partner{Name: "x", Medium: hub.MediumTV})
			return err
		}(), hub.EFORBIDDEN},
		{"a producer reading a partner", func() error { _, err := d.svc.Partner(ctx, producer, outlet.ID); return err }(), hub.EFORBIDDEN},
		{"a partner reading another partner", func() error { _, err := d.svc.Partner(ctx, partner, "01K00000000000000000000000"); return err }(), hub.ENOTFOUND},
		{"a partner creating a package", func() error {
			_, err := d.svc.CreatePackage(ctx, partner, &hub.Package{Campaign: "korgau123", Language: "ru"})
			return err
		}(), hub.EFORBIDDEN},
		{"a producer listing webhooks", func() error { _, err := d.svc.Webhooks(ctx, producer); return err }(), hub.EFORBIDDEN},
		{"the HTTP layer's admin check", hub.RequireAdmin(producer), hub.EFORBIDDEN},
		{"the HTTP layer's package check", hub.MayCreatePackages(partner), hub.EFORBIDDEN},
		{"the HTTP layer's webhook check", hub.MayManageWebhooks(producer), hub.EFORBIDDEN},
	} {
		wantCode(t, tc.what, tc.err, tc.code)
	}
	for _, ok := range []error{hub.RequireAdmin(d.admin), hub.MayCreatePackages(producer), hub.MayManageWebhooks(partner)} {
		if ok != nil {
			t.Errorf("a check refused a role it is for: %v", ok)
		}
	}
	if got, err := d.svc.Partner(ctx, partner, outlet.ID); err != nil || got.ID != outlet.ID {
		t.Errorf("a partner reading its own record: %v", err)
	}
}
