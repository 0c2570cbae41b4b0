package portal_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/portal/browsertest"
)

// adminHub is a hub with a campaign that outlets have picked up: a
// released package of korgau, downloaded through the API by two outlets
// and republished by one.
func adminHub(t *testing.T) *hubtest.Hub {
	t.Helper()
	h := hubtest.Start(t, hubtest.Options{})
	ctx := context.Background()
	if _, err := h.Service.CreateCampaign(ctx, h.Admin(t), &hub.Campaign{Slug: "korgau", Name: "Қорғау: зорлық-зомбылықсыз үй",
		Visibility: hub.VisibilityPartners}); err != nil {
		t.Fatal(err)
	}
	p := h.ReadyPackage(t, "korgau")
	apiCall(t, h, "POST", "/v1/packages/"+p.ID+"/release", h.AdminKey, nil).expect(t, http.StatusOK)
	almaty := h.PartnerKey(t, "Almaty TV", "korgau")
	osh := adminOutletKey(t, h, "Ош FM", "Ош", hub.MediumRadio)
	for i, key := range []string{almaty, almaty, almaty, osh, osh} {
		apiCall(t, h, "GET", "/v1/packages/"+p.ID+"/assets/poster.png", key, nil).expect(t, http.StatusOK)
		if i == 2 {
			apiCall(t, h, "GET", "/v1/packages/"+p.ID+"/archive.zip", key, nil).expect(t, http.StatusOK)
		}
	}
	apiCall(t, h, "POST", "/v1/packages/"+p.ID+"/republications", almaty, map[string]any{
		"url": "https://almaty-tv.example/kk/news/korgau", "published": time.Now().Add(-2 * time.Hour).Format(time.RFC3339), "audience": 240000,
	}).expect(t, http.StatusCreated)
	apiCall(t, h, "POST", "/v1/packages/"+p.ID+"/republications", osh, map[string]any{
		"url": "https://osh-fm.example/efir/123", "published": time.Now().Add(-time.Hour).Format(time.RFC3339), "audience": 38500,
	}).expect(t, http.StatusCreated)
	// Downloads are recorded after their answers: wait for the last.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := h.Service.Reach(ctx, h.Admin(t), "korgau")
		if err == nil && r.Downloads.Total == 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return h
}

// adminOutletKey makes an outlet entitled to korgau and a key of it.
func adminOutletKey(t *testing.T, h *hubtest.Hub, name, region string, medium hub.Medium) string {
	t.Helper()
	ctx := context.Background()
	p, err := h.Service.CreatePartner(ctx, h.Admin(t), &hub.Partner{Name: name, Region: region, Medium: medium,
		Campaigns: []string{"korgau"}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := h.Service.CreateKey(ctx, h.Admin(t), hub.Key{Role: hub.RolePartner, Name: name + " ingest", Partner: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func adminEval[T any](t *testing.T, b *browsertest.Browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.Context(), chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// TestBrowserAdmin is the admin's round in a real browser: sign in with
// the admin key, add an outlet with a campaign, issue it a key (shown
// once), revoke the key after the confirmation page, then read the
// campaign's reach, each page checked by axe and the CSP.
func TestBrowserAdmin(t *testing.T) {
	h := adminHub(t)
	ctx := context.Background()
	b := browsertest.Start(t)
	b.Visit(h.URL + "/signin")
	b.Do(chromedp.SendKeys(chromedp.ID("key"), h.AdminKey), chromedp.Submit(chromedp.ID("key")),
		chromedp.WaitVisible(chromedp.ID("signed-in")))

	// A new outlet, entitled to korgau.
	b.Visit(h.URL + "/admin/partners")
	b.Do(chromedp.SendKeys(chromedp.ID("partner-name"), "Шымкент Online"), chromedp.SendKeys(chromedp.ID("partner-region"), "Шымкент"),
		chromedp.SetValue(chromedp.ID("partner-medium"), "online"), chromedp.Click(chromedp.CSS(`input[name=campaigns][value=korgau]`)),
		chromedp.Click(chromedp.ID("create-partner")), chromedp.WaitVisible(chromedp.ID("partner-created")))
	b.CheckPage()
	if got := b.Text("#partners"); !strings.Contains(got, "Шымкент Online") || !strings.Contains(got, "korgau") {
		t.Errorf("the partners list shows %q", got)
	}
	var outlet *hub.Partner
	partners, _ := h.Service.Partners(ctx, h.Admin(t))
	for _, p := range partners {
		if p.Name == "Шымкент Online" {
			outlet = p
		}
	}
	if outlet == nil || !outlet.EntitledTo("korgau") {
		t.Fatalf("the outlet was not made as asked: %+v", outlet)
	}

	// Its key, shown once.
	b.Visit(h.URL + "/admin/keys")
	b.Do(chromedp.SendKeys(chromedp.ID("key-name"), "Шымкент Online ingest"), chromedp.Click(chromedp.ID("key-role-partner")),
		chromedp.SetValue(chromedp.ID("key-partner"), outlet.ID), chromedp.Click(chromedp.ID("issue-key")),
		chromedp.WaitVisible(chromedp.ID("key-secret")))
	b.CheckPage()
	secret := strings.TrimSpace(b.Text("#key-secret"))
	k, err := h.Service.Authenticate(ctx, secret)
	if err != nil || k.Partner != outlet.ID {
		t.Fatalf("the shown key %q: %+v, %v", secret, k, err)
	}
	b.Visit(h.URL + "/admin/keys")
	if n := adminEval[int](t, b, `document.querySelectorAll('#key-secret').length`); n != 0 {
		t.Error("the key list shows the secret again")
	}

	// Revoked, after the confirmation page.
	b.Do(chromedp.Click(chromedp.CSS(`#key-`+k.ID+` a.button`)), chromedp.WaitVisible(chromedp.ID("confirm-revoke")))
	b.CheckPage()
	b.Do(chromedp.Click(chromedp.ID("confirm-revoke")), chromedp.WaitVisible(chromedp.ID("key-revoked")))
	b.CheckPage()
	if _, err := h.Service.Authenticate(ctx, secret); hub.ErrorCode(err) != hub.EUNAUTHORIZED {
		t.Errorf("the revoked key still authenticates: %v", err)
	}

	// The other admin pages pass axe too.
	for _, path := range []string{"/admin/partners/" + outlet.ID, "/admin/campaigns", "/admin/webhooks", "/admin/audit", "/admin/health"} {
		b.Visit(h.URL + path)
	}

	// The reach of korgau, from the campaigns list.
	b.Visit(h.URL + "/admin/campaigns")
	b.Do(chromedp.Click(chromedp.CSS(`a[href="/campaigns/korgau/reach"]`)), chromedp.WaitVisible(chromedp.ID("chart-days")))
	b.CheckPage()
	if n := adminEval[int](t, b, `document.querySelectorAll('#chart-days rect.bar').length`); n != 1 {
		t.Errorf("downloads per day: %d bars, want 1 (every download was today)", n)
	}
	if n := adminEval[int](t, b, `document.querySelectorAll('#chart-region-outlets rect.bar').length`); n != 2 {
		t.Errorf("outlets by region: %d bars, want 2", n)
	}
	if got := b.Text("#republications"); !strings.Contains(got, "osh-fm.example") || !strings.Contains(got, "Almaty TV") {
		t.Errorf("republications: %q", got)
	}
}

// TestAdminScreenshots writes the partners page and a campaign's reach
// page as PNGs to the directory HUB_SCREENSHOTS names.
func TestAdminScreenshots(t *testing.T) {
	dir := os.Getenv("HUB_SCREENSHOTS")
	if dir == "" {
		t.Skip("HUB_SCREENSHOTS names no directory")
	}
	h := adminHub(t)
	b := browsertest.Start(t)
	b.Visit(h.URL + "/signin")
	b.Do(chromedp.SendKeys(chromedp.ID("key"), h.AdminKey), chromedp.Submit(chromedp.ID("key")),
		chromedp.WaitVisible(chromedp.ID("signed-in")), chromedp.EmulateViewport(1280, 900))
	// In Russian: its numbers group with a no-break space.
	b.Do(chromedp.SetValue(chromedp.ID("lang-select"), "ru"), chromedp.Click(chromedp.CSS("form.lang button")),
		chromedp.WaitVisible(chromedp.Search(`//html[@lang="ru"]`)))
	for _, shot := range []struct{ name, path string }{
		{"admin-partners.png", "/admin/partners"},
		{"reach.png", "/campaigns/korgau/reach"},
	} {
		b.Visit(h.URL + shot.path)
		png, err := chromedp.Run(b.Context(), chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, shot.name), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes", shot.name, len(png))
	}
}
