package portal_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
)

// TestAdminPagesByVisitor: the admin's pages answer admins; to producers
// and partners they do not exist (the 404 page, GET or POST), and a
// visitor signed out is asked to sign in.
func TestAdminPagesByVisitor(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	admin, producer, partner, anon := newVisitor(t, h), newVisitor(t, h), newVisitor(t, h), newVisitor(t, h)
	admin.signIn(h.AdminKey)
	producer.signIn(h.ProducerKey(t))
	partner.signIn(h.PartnerKey(t, "Regional TV"))
	ctx := context.Background()
	outlet, err := h.Service.CreatePartner(ctx, h.Admin(t), &hub.Partner{Name: "Ош ТВ", Medium: hub.MediumTV, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := h.Service.Keys(ctx, h.Admin(t))
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	paths := []string{"/admin/partners", "/admin/partners/" + outlet.ID, "/admin/keys", "/admin/keys/" + keys[0].Key.ID + "/revoke",
		"/admin/campaigns", "/admin/webhooks", "/admin/audit", "/admin/health"}
	for _, path := range paths {
		admin.get(path).expect(t, http.StatusOK, `</h1>`)
		for _, who := range []*visitor{producer, partner} {
			who.get(path).expect(t, http.StatusNotFound, `data-status="404"`)
		}
		anon.get(path).expect(t, http.StatusUnauthorized, `action="/signin"`)
	}
	// A form posted by a producer changes nothing and finds nothing.
	producer.post("/", "/admin/partners", url.Values{"name": {"Sneaky"}, "medium": {"tv"}}).expect(t, http.StatusNotFound)
	producer.post("/", "/admin/keys/"+keys[0].Key.ID+"/revoke", nil).expect(t, http.StatusNotFound)
	producer.post("/", "/admin/campaigns", url.Values{"slug": {"sneaky"}, "name": {"x"}, "visibility": {"public"}}).expect(t, http.StatusNotFound)
	if a := admin.get("/admin/partners"); strings.Contains(a.body, "Sneaky") {
		t.Error("a producer's form made a partner")
	}
	if _, err := h.Service.Authenticate(ctx, h.AdminKey); err != nil {
		t.Errorf("the producer's revoke reached the admin key: %v", err)
	}
}

var secretOnPage = regexp.MustCompile(`<output id="key-secret">([^<]+)</output>`)

// TestAdminPartnersAndKeys: an admin adds an outlet and finds it listed,
// grants it a campaign, issues it a key that is shown once, and revokes
// the key: a browser signed in with it is signed out on its next page.
func TestAdminPartnersAndKeys(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	admin := newVisitor(t, h)
	admin.signIn(h.AdminKey)
	admin.post("/admin/campaigns", "/admin/campaigns", url.Values{"slug": {"korgau"}, "name": {"Қорғау"}, "visibility": {"partners"}}).
		expect(t, http.StatusCreated, `id="campaign-created"`)

	// A refusal keeps what was typed and says why.
	admin.post("/admin/partners", "/admin/partners", url.Values{"name": {"Талас ТВ"}, "medium": {"smoke signals"}}).
		expect(t, http.StatusBadRequest, `id="form-error"`, `value="Талас ТВ"`)
	admin.post("/admin/partners", "/admin/partners", url.Values{"name": {"Талас ТВ"}, "region": {"Талас"}, "medium": {"tv"},
		"languages": {"ky, ru"}, "active": {"on"}}).expect(t, http.StatusCreated, `id="partner-created"`)
	list := admin.get("/admin/partners")
	list.expect(t, http.StatusOK, "Талас ТВ", "<td>Талас</td>", "ky, ru")
	partners, err := h.Service.Partners(context.Background(), h.Admin(t))
	if err != nil || len(partners) != 1 {
		t.Fatalf("partners %v, %v", partners, err)
	}
	id := partners[0].ID

	// Entitlements and the active flag, from the partner's page.
	admin.post("/admin/partners/"+id, "/admin/partners/"+id, url.Values{"campaigns": {"korgau"}, "active": {"on"}}).
		expect(t, http.StatusSeeOther)
	admin.get("/admin/partners/"+id+"?saved=1").expect(t, http.StatusOK, `id="partner-saved"`, `value="korgau" checked`)
	admin.get("/admin/partners").expect(t, http.StatusOK, "<code>korgau</code>")

	// A key for the outlet: the secret on the answer, once.
	issued := admin.post("/admin/keys", "/admin/keys", url.Values{"name": {"Талас ТВ ingest"}, "role": {"partner"}, "partner": {id}, "days": {"30"}})
	issued.expect(t, http.StatusCreated, `id="key-secret"`, "Талас ТВ ingest")
	m := secretOnPage.FindStringSubmatch(issued.body)
	if m == nil || !strings.HasPrefix(m[1], "hub_") {
		t.Fatalf("no secret on the answer:\n%.1500s", issued.body)
	}
	secret := m[1]
	again := admin.get("/admin/keys")
	again.expect(t, http.StatusOK, "Талас ТВ ingest")
	if strings.Contains(again.body, secret) || strings.Contains(again.body, `id="key-secret"`) {
		t.Error("the key list shows the secret again")
	}
	if !strings.Contains(issued.body, "Талас ТВ ingest") {
		t.Error("the issued key is not listed")
	}

	// The outlet signs in with it, then the admin revokes it.
	outlet := newVisitor(t, h)
	outlet.signIn(secret)
	outlet.get("/").expect(t, http.StatusOK, `id="signed-in"`, "Талас ТВ ingest")
	k, err := h.Service.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	confirm := admin.get("/admin/keys/" + k.ID + "/revoke")
	confirm.expect(t, http.StatusOK, `id="confirm-revoke"`, "Талас ТВ")
	if _, err := h.Service.Authenticate(context.Background(), secret); err != nil {
		t.Fatal("opening the confirmation revoked the key")
	}
	admin.post("/admin/keys/"+k.ID+"/revoke", "/admin/keys/"+k.ID+"/revoke", nil).expect(t, http.StatusSeeOther)
	admin.get("/admin/keys?revoked="+k.ID).expect(t, http.StatusOK, `id="key-revoked"`)
	outlet.get("/").expect(t, http.StatusOK, `action="/signin"`)
	if outlet.cookie("hub_session") != "" {
		t.Error("the revoked key's session cookie stayed")
	}
	if a := admin.get("/admin/keys"); strings.Contains(a.body, "key-"+k.ID+`"`) {
		t.Error("the revoked key is still listed")
	}

	// The audit log, newest first: the revocation before the key's making.
	audit := admin.get("/admin/audit")
	audit.expect(t, http.StatusOK, "key.revoke", "key.create", "partner.update", "partner.create", "campaign.create")
	if strings.Index(audit.body, "key.revoke") > strings.Index(audit.body, "campaign.create") {
		t.Error("the audit log is not newest first")
	}
	// Paged: two at a time, the older page continues where this one ends.
	first := admin.get("/admin/audit?limit=2")
	if n := strings.Count(first.body, "<code>key.") + strings.Count(first.body, "<code>partner.") + strings.Count(first.body, "<code>campaign."); n != 2 {
		t.Errorf("a page of 2 shows %d entries", n)
	}
	older := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(first.body)
	if older == nil {
		t.Fatalf("no older page:\n%s", first.body)
	}
	admin.get(strings.ReplaceAll(older[1], "&amp;", "&")).expect(t, http.StatusOK, "partner.update")
}

// TestAdminCampaignsWebhooksHealth: campaigns' visibility changes from
// the list; the health page shows each outlet's consumer and webhooks.
func TestAdminCampaignsWebhooksHealth(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	admin := newVisitor(t, h)
	admin.signIn(h.AdminKey)
	admin.post("/admin/campaigns", "/admin/campaigns", url.Values{"slug": {"Not A Slug"}, "name": {"x"}, "visibility": {"public"}}).
		expect(t, http.StatusBadRequest, `id="form-error"`)
	admin.post("/admin/campaigns", "/admin/campaigns", url.Values{"slug": {"tazalyk"}, "name": {"Тазалық"}, "visibility": {"partners"},
		"hashtags": {"taza, eco"}}).expect(t, http.StatusCreated, "#taza")
	admin.post("/admin/campaigns", "/admin/campaigns/tazalyk/visibility", url.Values{"visibility": {"public"}}).expect(t, http.StatusSeeOther)
	c, err := h.Service.Campaign(context.Background(), h.Admin(t), "tazalyk")
	if err != nil || c.Visibility != hub.VisibilityPublic {
		t.Fatalf("campaign %+v, %v", c, err)
	}
	admin.get("/admin/campaigns").expect(t, http.StatusOK, `href="/campaigns/tazalyk/reach"`)

	h.PartnerKey(t, "Almaty TV", "tazalyk")
	admin.get("/admin/webhooks").expect(t, http.StatusOK, `id="webhooks-none"`)
	health := admin.get("/admin/health")
	health.expect(t, http.StatusOK, "Almaty TV")
	if !strings.Contains(health.body, "up to date") && !strings.Contains(health.body, "всё получено") {
		t.Errorf("the health page shows no consumer state:\n%s", health.body)
	}
}

// reachOf polls the reach page until want appears: downloads are
// recorded after their answer, not before.
func reachOf(t *testing.T, v *visitor, campaign, want string) answer {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a := v.get("/campaigns/" + campaign + "/reach")
		if strings.Contains(a.body, want) || time.Now().After(deadline) {
			return a
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var svgBar = regexp.MustCompile(`<rect class="bar"[^>]*><title>([^<]*)</title>`)

// TestReachPage: the campaign's producers and admins see its reach drawn
// as SVG; a producer of another campaign and a partner get the 404 page;
// a campaign without pickups says so in a sentence.
func TestReachPage(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	p := h.ReadyPackage(t, "korgau")
	apiCall(t, h, "POST", "/v1/packages/"+p.ID+"/release", h.AdminKey, nil).expect(t, http.StatusOK)
	outletKey := h.PartnerKey(t, "Almaty TV", "korgau")
	for range 3 {
		apiCall(t, h, "GET", "/v1/packages/"+p.ID+"/assets/poster.png", outletKey, nil).expect(t, http.StatusOK)
	}
	apiCall(t, h, "POST", "/v1/packages/"+p.ID+"/republications", outletKey, map[string]any{
		"url": "https://almaty.example/news/1", "published": time.Now().Add(-time.Hour).Format(time.RFC3339), "audience": 125000,
	}).expect(t, http.StatusCreated)

	var other struct{ Key string }
	ans := apiCall(t, h, "POST", "/v1/keys", h.AdminKey, map[string]any{"role": "producer", "name": "other team", "campaigns": []string{"tazalyk"}})
	ans.expect(t, http.StatusCreated)
	json.Unmarshal([]byte(ans.body), &other)

	producer, stranger, partner, admin := newVisitor(t, h), newVisitor(t, h), newVisitor(t, h), newVisitor(t, h)
	producer.signIn(h.ProducerKey(t))
	stranger.signIn(other.Key)
	partner.signIn(outletKey)
	admin.signIn(h.AdminKey)

	a := reachOf(t, producer, "korgau", "3 загрузки")
	a.expect(t, http.StatusOK, `<svg id="chart-days"`, `id="chart-region-outlets"`, `id="chart-medium-audience"`,
		"https://almaty.example/news/1", "Almaty TV", "125\u00a0000")
	bars := svgBar.FindAllStringSubmatch(a.body[strings.Index(a.body, `id="chart-days"`):strings.Index(a.body, `id="chart-region-outlets"`)], -1)
	if len(bars) != 1 || !strings.Contains(bars[0][1], "3 загрузки") {
		t.Errorf("downloads per day: %q, want one bar of 3", bars)
	}
	if strings.Contains(a.body, "style=") || strings.Contains(a.body, "<script>") {
		t.Error("the reach page has inline style or script")
	}
	admin.do("GET", "/campaigns/korgau/reach", nil, "Accept-Language", "en").expect(t, http.StatusOK, "3 downloads", "125,000")

	stranger.get("/campaigns/korgau/reach").expect(t, http.StatusNotFound, `data-status="404"`)
	partner.get("/campaigns/korgau/reach").expect(t, http.StatusNotFound, `data-status="404"`)
	newVisitor(t, h).get("/campaigns/korgau/reach").expect(t, http.StatusUnauthorized, `action="/signin"`)

	// The other producer's own campaign, without a pickup: a sentence.
	h.ReadyPackage(t, "tazalyk")
	a = stranger.get("/campaigns/tazalyk/reach")
	a.expect(t, http.StatusOK, `id="reach-empty"`)
	if strings.Contains(a.body, "<svg") {
		t.Error("an empty campaign shows a chart")
	}
}
