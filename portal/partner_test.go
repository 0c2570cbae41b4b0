package portal_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/hub/webhooktest"
	"github.com/syndication-hub/hub/portal"
	"github.com/syndication-hub/hub/publisher/webhooks"
)

// outlets is a test hub with two partner outlets, A entitled to the
// partners-only campaign "shelters" and B to nothing, and visitors signed
// in as each, as a producer and as an admin.
type outlets struct {
	h                           *hubtest.Hub
	producerKey                 string
	a, b, producer, admin, anon *visitor
}

func newOutlets(t *testing.T, opts hubtest.Options) *outlets {
	h := hubtest.Start(t, opts)
	o := &outlets{h: h, producerKey: h.ProducerKey(t)}
	apiCall(t, h, "POST", "/v1/campaigns", o.producerKey, map[string]any{"slug": "shelters", "name": "Shelters", "visibility": "partners"}).expect(t, 201)
	o.a, o.b, o.producer, o.admin, o.anon = newVisitor(t, h), newVisitor(t, h), newVisitor(t, h), newVisitor(t, h), newVisitor(t, h)
	o.a.signIn(h.PartnerKey(t, "Almaty TV", "shelters"))
	o.b.signIn(h.PartnerKey(t, "Osh Online"))
	o.producer.signIn(o.producerKey)
	o.admin.signIn(h.AdminKey)
	return o
}

var (
	feedURLField = regexp.MustCompile(`id="feed-(rss|atom|json)"[^>]*value="([^"]+)"`)
	secretField  = regexp.MustCompile(`id="webhook-secret"[^>]*value="([^"]+)"`)
)

// TestSetupAccess: only an outlet's key sees a set-up page, its own; the
// signed-out are sent to sign in and back, everyone else gets the 403
// page. The page and the layout's menu link each other.
func TestSetupAccess(t *testing.T) {
	o := newOutlets(t, hubtest.Options{})
	public := newVisitor(t, o.h)
	public.signIn(o.h.PublicPartnerKey(t))
	o.anon.get("/setup").expect(t, 401, `action="/signin"`, `name="next" value="/setup"`)
	for name, v := range map[string]*visitor{"producer": o.producer, "admin": o.admin, "partner key of no outlet": public} {
		if a := v.get("/setup"); a.status != 403 || !strings.Contains(a.body, `data-status="403"`) || strings.Contains(a.body, `id="nav-setup"`) {
			t.Errorf("%s: /setup answers %d\n%.600s", name, a.status, a.body)
		}
		if strings.Contains(v.get("/").body, `href="/setup"`) {
			t.Errorf("%s: the home page links to the set-up", name)
		}
	}
	o.a.get("/").expect(t, 200, `id="home-setup"`, `id="nav-setup"`)
	a := o.a.get("/setup")
	a.expect(t, 200, `id="setup-title"`, "Almaty TV", `aria-current="page"`, `id="feed-state"`, `id="nats-consumer"`,
		`id="pull-command"`, "hub pull --dest", "--follow", "HUB_URL="+o.h.URL, `id="webhooks-none"`, `id="webhook-form"`)
	if strings.Contains(a.body, "Osh Online") {
		t.Error("an outlet's set-up names another outlet")
	}
	// In Kyrgyz; an outlet entitled to no campaign has its consumer too.
	o.b.do("GET", "/setup", nil, "Accept-Language", "ky").expect(t, 200, "Туташуу", "Osh Online", `id="nats-facts"`)

	// A person signed in with a sign-in link of an outlet has its set-up,
	// told that the link's key has no secret to connect with.
	var outlet struct{ ID string }
	ans := apiCall(t, o.h, "POST", "/v1/partners", o.h.AdminKey, map[string]any{"name": "Bishkek Radio", "medium": "radio", "active": true})
	ans.expect(t, 201)
	json.Unmarshal([]byte(ans.body), &outlet)
	ans = apiCall(t, o.h, "POST", "/v1/signin-links", o.h.AdminKey, map[string]any{"name": "Айгерім", "role": "partner", "partner": outlet.ID})
	ans.expect(t, 201)
	var link struct{ URL string }
	json.Unmarshal([]byte(ans.body), &link)
	person := newVisitor(t, o.h)
	path := strings.TrimPrefix(link.URL, o.h.URL)
	person.post(path, path, nil).expect(t, 303)
	a = person.do("GET", "/setup", nil, "Accept-Language", "en")
	a.expect(t, 200, "Bishkek Radio", `id="feed-replace-help"`, "works as long as that link", "&lt;your-key-id&gt;")
	if strings.Contains(a.body, "Almaty TV") {
		t.Error("a link's set-up names another outlet")
	}
}

// TestSetupFeedToken: an outlet issues a feed token and sees its three
// feeds' addresses once; they work; the page then says since when a
// token exists and never shows it again. A new token ends the old one,
// revoking ends both; another outlet learns nothing of it, and a form
// without its token changes nothing.
func TestSetupFeedToken(t *testing.T) {
	o := newOutlets(t, hubtest.Options{})
	o.a.get("/setup").expect(t, 200, `class="badge off"`)
	o.a.do("POST", "/setup/feedtoken", url.Values{}).expect(t, 403, `data-status="403"`)
	o.a.get("/setup").expect(t, 200, `class="badge off"`)

	issued := o.a.post("/setup", "/setup/feedtoken", nil)
	issued.expect(t, 201, `id="feed-issued"`, `id="feed-rss"`, `id="feed-atom"`, `id="feed-json"`, `id="feed-replace-help"`)
	feeds := map[string]string{}
	for _, m := range feedURLField.FindAllStringSubmatch(issued.body, -1) {
		feeds[m[1]] = html.UnescapeString(m[2])
	}
	if len(feeds) != 3 || !strings.HasPrefix(feeds["atom"], o.h.URL+"/feeds/p/") || !strings.HasSuffix(feeds["json"], "/releases.json") {
		t.Fatalf("feeds %v", feeds)
	}
	token := strings.TrimSuffix(strings.TrimPrefix(feeds["rss"], o.h.URL+"/feeds/p/"), "/releases.rss")
	for _, u := range feeds {
		if a := newVisitor(t, o.h).get(strings.TrimPrefix(u, o.h.URL)); a.status != 200 {
			t.Errorf("%s answers %d", u, a.status)
		}
	}
	later := o.a.get("/setup")
	later.expect(t, 200, `id="feed-state"`, `class="badge ok"`, `id="revoke-feed-token"`)
	if strings.Contains(later.body, token) {
		t.Error("the set-up page shows the feed token again")
	}
	// Another outlet sees no token of its own and nothing of A's.
	if b := o.b.get("/setup"); !strings.Contains(b.body, `class="badge off"`) || strings.Contains(b.body, token) || strings.Contains(b.body, `id="revoke-feed-token"`) {
		t.Errorf("another outlet's set-up shows a token state:\n%.800s", b.body)
	}

	// A new token ends the old one.
	again := o.a.post("/setup", "/setup/feedtoken", nil)
	again.expect(t, 201, `id="feed-issued"`)
	newAtom := feedURLField.FindAllStringSubmatch(again.body, -1)[1][2]
	newVisitor(t, o.h).get(strings.TrimPrefix(feeds["atom"], o.h.URL)).expect(t, 404)
	newVisitor(t, o.h).get(strings.TrimPrefix(newAtom, o.h.URL)).expect(t, 200)

	// Revoking: not without the form's token, then for good.
	o.a.do("POST", "/setup/feedtoken/revoke", url.Values{}).expect(t, 403)
	newVisitor(t, o.h).get(strings.TrimPrefix(newAtom, o.h.URL)).expect(t, 200)
	revoked := o.a.post("/setup", "/setup/feedtoken/revoke", nil)
	if revoked.status != http.StatusSeeOther || revoked.header.Get("Location") != "/setup?done=revoked" {
		t.Fatalf("revoke: %d %s", revoked.status, revoked.header.Get("Location"))
	}
	o.a.get("/setup?done=revoked").expect(t, 200, `id="feed-revoked"`, `class="badge off"`)
	newVisitor(t, o.h).get(strings.TrimPrefix(newAtom, o.h.URL)).expect(t, 404)

	// Nobody else issues or revokes through these forms.
	o.producer.post("/", "/setup/feedtoken", nil).expect(t, 403)
	o.admin.post("/", "/setup/feedtoken/revoke", nil).expect(t, 403)
	o.anon.post("/", "/setup/feedtoken", nil).expect(t, 401, `name="next" value="/setup"`)
}

// TestSetupWebhooks: an outlet registers a webhook and sees its secret
// once; a URL the domain refuses comes back in the visitor's language
// with nothing stored; its dead letters show with a replay that fails
// while the endpoint is down and delivers once it is up; it is deleted
// after a confirmation page. Another outlet never sees, replays or
// deletes any of it.
func TestSetupWebhooks(t *testing.T) {
	o := newOutlets(t, hubtest.Options{Webhooks: &webhooks.Options{AllowPrivateTargets: true,
		MaxAttempts: 2, FirstRetry: 20 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond,
		Timeout: 500 * time.Millisecond, SyncEvery: 100 * time.Millisecond,
	}})
	ctx := context.Background()
	rcv := webhooktest.Start(t, webhooktest.Dead)
	hooks := func() []*hub.Webhook {
		t.Helper()
		k, err := o.h.Service.Authenticate(ctx, o.h.AdminKey)
		if err != nil {
			t.Fatal(err)
		}
		all, err := o.h.Service.Webhooks(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return all
	}

	// Refused URLs: the sentence in the visitor's language, the URL kept,
	// nothing stored; no token, nothing either.
	for _, tt := range []struct{ lang, url, want string }{
		{"kk", "javascript:alert(1)", "Сұрау дұрыс емес"},
		{"ru", "ftp://example.kz/hook", "Запрос неверен"},
		{"ky", "https://user:pw@example.kz/hook", "Сурам туура эмес"},
	} {
		form := url.Values{"url": {tt.url}, "csrf": {o.a.csrf("/setup")}}
		a := o.a.do("POST", "/setup/webhooks", form, "Accept-Language", tt.lang)
		a.expect(t, 400, `id="webhook-error"`, tt.want, `lang="`+tt.lang+`"`)
	}
	o.a.do("POST", "/setup/webhooks", url.Values{"url": {rcv.URL + "/hub"}}).expect(t, 403)
	if n := len(hooks()); n != 0 {
		t.Fatalf("refused forms stored %d webhooks", n)
	}

	created := o.a.post("/setup", "/setup/webhooks", url.Values{"url": {rcv.URL + "/hub"}})
	created.expect(t, 201, `id="webhook-created"`, `id="webhook-secret"`, rcv.URL+"/hub")
	m := secretField.FindStringSubmatch(created.body)
	if m == nil {
		t.Fatal("no secret on the page")
	}
	// The page escapes the secret's '+' (a base64 secret may hold one).
	secret := html.UnescapeString(m[1])
	rcv.SetSecret(secret)
	all := hooks()
	if len(all) != 1 || all[0].Secret != secret {
		t.Fatalf("webhooks %+v", all)
	}
	w := all[0]
	if a := o.a.get("/setup"); strings.Contains(a.body, secret) || !strings.Contains(a.body, `id="wh-`+w.ID+`"`) {
		t.Error("the set-up page shows the secret again, or not the webhook")
	}

	// A release the endpoint refuses becomes a dead letter.
	pkg := o.h.ReadyPackage(t, "shelters")
	apiCall(t, o.h, "POST", "/v1/packages/"+pkg.ID+"/release", o.producerKey, nil).expect(t, 200)
	msg := pkg.ID + ".1.released"
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(o.a.get("/setup").body, msg); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no dead letter on the page after %d attempts", rcv.Attempts(msg))
		}
	}
	replay := "/setup/webhooks/" + w.ID + "/deadletters/" + msg + "/replay"
	o.a.get("/setup").expect(t, 200, `action="`+replay+`"`)

	// Outlet B sees none of it and may touch none of it; the admin's
	// page shows it, under the outlet's name.
	b := o.b.get("/setup")
	for _, s := range []string{w.ID, rcv.URL, msg} {
		if strings.Contains(b.body, s) {
			t.Errorf("another outlet's set-up shows %q", s)
		}
	}
	o.b.post("/setup", replay, nil).expect(t, 404)
	o.b.get("/setup/webhooks/"+w.ID+"/delete").expect(t, 404)
	o.b.post("/setup", "/setup/webhooks/"+w.ID+"/delete", nil).expect(t, 404)
	o.producer.post("/", replay, nil).expect(t, 403)
	o.admin.get("/admin/webhooks").expect(t, 200, "Almaty TV", `action="/admin/webhooks/`+w.ID+`/deadletters/`+msg+`/replay"`)
	if n := len(hooks()); n != 1 {
		t.Fatalf("%d webhooks after another outlet's attempts", n)
	}

	// Replays: refused without the token, kept while the endpoint fails,
	// delivered once it works.
	o.a.do("POST", replay, url.Values{}).expect(t, 403)
	o.a.post("/setup", replay, nil).expect(t, 200, `id="replay-error"`, msg)
	rcv.SetBehaviour(webhooktest.OK)
	done := o.a.post("/setup", replay, nil)
	done.expect(t, 200, `id="replayed"`)
	if strings.Contains(done.body, `action="`+replay+`"`) {
		t.Error("a delivered dead letter is still listed")
	}
	rcv.WaitFor(t, msg, 5*time.Second)

	// Deleting asks first; the confirmation's form deletes.
	o.a.get("/setup").expect(t, 200, `href="/setup/webhooks/`+w.ID+`/delete"`)
	o.a.get("/setup/webhooks/"+w.ID+"/delete").expect(t, 200, `id="delete-webhook-form"`, rcv.URL+"/hub", `id="keep-webhook"`)
	o.a.do("POST", "/setup/webhooks/"+w.ID+"/delete", url.Values{}).expect(t, 403)
	if n := len(hooks()); n != 1 {
		t.Fatal("a delete without the token deleted")
	}
	del := o.a.post("/setup/webhooks/"+w.ID+"/delete", "/setup/webhooks/"+w.ID+"/delete", nil)
	if del.status != http.StatusSeeOther || del.header.Get("Location") != "/setup?done=deleted" {
		t.Fatalf("delete: %d %s", del.status, del.header.Get("Location"))
	}
	o.a.get("/setup?done=deleted").expect(t, 200, `id="webhook-deleted"`, `id="webhooks-none"`)
	if n := len(hooks()); n != 0 {
		t.Fatalf("%d webhooks after the delete", n)
	}
}

// TestRepublicationReports: an outlet that sees a released package
// reports where it republished it from the package's page and then sees
// what was recorded and its earlier reports, never another outlet's.
// Bad input comes back in the visitor's language with the sentence for
// the field to fix, and nothing is stored; a form without its token,
// visitors that are not an outlet's and an outlet that may not see the
// package store nothing either.
func TestRepublicationReports(t *testing.T) {
	n := newNewsroom(t)
	h := n.h
	ctx := context.Background()
	private := n.make(pkgSpec{campaign: "shelters", headline: "Убежища области", release: "now"})
	public := n.make(pkgSpec{campaign: "open-doors", headline: "Двери открыты", release: "now"})
	outlet, other, producer, admin, anon := newVisitor(t, h), newVisitor(t, h), newVisitor(t, h), newVisitor(t, h), newVisitor(t, h)
	outlet.signIn(n.entitled)
	other.signIn(n.other)
	producer.signIn(n.producer)
	admin.signIn(h.AdminKey)
	stored := func(key, id string) []hub.Pickup {
		t.Helper()
		k, err := h.Service.Authenticate(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		reports, err := h.Service.OwnRepublications(ctx, k, id)
		if err != nil {
			t.Fatal(err)
		}
		return reports
	}
	page := "/packages/" + private
	report := page + "/republications"

	outlet.get(page).expect(t, 200, `id="republications"`, `id="repub-form"`, `action="`+report+`"`, `id="repub-none"`,
		`<label for="repub-url">`, `<label for="repub-published">`, `<label for="repub-medium">`, `<label for="repub-audience">`)
	for name, v := range map[string]*visitor{"producer": producer, "admin": admin, "signed out": anon} {
		if a := v.get("/packages/" + public); a.status != 200 || strings.Contains(a.body, `id="repub-form"`) {
			t.Errorf("%s: the package page answers %d or offers the report form", name, a.status)
		}
	}

	// Refusals: the package page again, 400, in the visitor's language,
	// what was typed kept, nothing stored.
	long := "https://example.kz/" + strings.Repeat("a", 2048)
	future := time.Now().Add(48 * time.Hour).Format("2006-01-02T15:04")
	for _, tt := range []struct {
		lang, url, published, audience, want, field string
	}{
		{"kk", "javascript:alert(1)", "", "", "Хаб мұндай мекенжайды қабылдамайды", "repub-url"},
		{"ru", "javascript:alert(1)", "", "", "Хаб не принимает такой адрес", "repub-url"},
		{"ru", long, "", "", "не длиннее 2048 символов", "repub-url"},
		{"kk", "example.kz/news/1", "", "", "толық http немесе https мекенжайын", "repub-url"},
		{"ky", "https://example.kz/news/1", future, "", "али келе элек", "repub-published"},
		{"kk", "https://example.kz/news/1", "вчера", "", "Жариялау уақыты", "repub-published"},
		{"ru", "https://example.kz/news/1", "", "-5", "Охват — целое число", "repub-audience"},
		{"en", "https://example.kz/news/1", "", "lots", "The audience must be a whole number", "repub-audience"},
	} {
		form := url.Values{"url": {tt.url}, "published": {tt.published}, "audience": {tt.audience}, "csrf": {outlet.csrf(page)}}
		a := outlet.do("POST", report, form, "Accept-Language", tt.lang)
		a.expect(t, 400, `lang="`+tt.lang+`"`, `id="repub-problem"`, tt.want, `id="headline"`)
		if !regexp.MustCompile(`id="` + tt.field + `"[^>]*aria-invalid="true"`).MatchString(a.body) {
			t.Errorf("%s %q: %s is not marked invalid", tt.lang, tt.url, tt.field)
		}
		if tt.url != long && !strings.Contains(a.body, `value="`+tt.url+`"`) {
			t.Errorf("%s %q: the address typed is not kept", tt.lang, tt.url)
		}
	}
	outlet.do("POST", report, url.Values{"url": {"https://example.kz/news/1"}}).expect(t, 403)
	producer.post("/", report, url.Values{"url": {"https://example.kz/news/1"}}).expect(t, 403)
	admin.post("/", report, url.Values{"url": {"https://example.kz/news/1"}}).expect(t, 403)
	anon.post("/", "/packages/"+public+"/republications", url.Values{"url": {"https://example.kz/news/1"}}).expect(t, 401, `action="/signin"`)
	other.post("/", report, url.Values{"url": {"https://example.kz/news/1"}}).expect(t, 404)
	if got := stored(n.entitled, private); len(got) != 0 {
		t.Fatalf("refused reports stored %+v", got)
	}

	// A report: recorded, and the page says so and lists it.
	a := outlet.post(page, report, url.Values{"url": {"https://example.kz/news/1"}, "published": {"2025-01-05T09:30"}, "medium": {"online"}, "audience": {"12000"}})
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), page+"?reported=") {
		t.Fatalf("report: %d %s\n%.600s", a.status, a.header.Get("Location"), a.body)
	}
	got := stored(n.entitled, private)
	if len(got) != 1 || got[0].URL != "https://example.kz/news/1" || got[0].Audience != 12000 || got[0].Medium != hub.MediumOnline ||
		!got[0].Published.Equal(time.Date(2025, 1, 5, 9, 30, 0, 0, time.UTC)) {
		t.Fatalf("stored %+v", got)
	}
	shown := outlet.get(a.header.Get("Location"))
	shown.expect(t, 200, `id="repub-recorded"`, `id="repub-reports"`, `href="https://example.kz/news/1"`, "12\u00a0000")
	// Later loads list it without the notice; a second report, with the
	// outlet's medium and now as its time, comes first.
	outlet.get(page).expect(t, 200, `href="https://example.kz/news/1"`)
	outlet.post(page, report, url.Values{"url": {"https://example.kz/news/2"}}).expect(t, http.StatusSeeOther)
	got = stored(n.entitled, private)
	if len(got) != 2 || got[0].URL != "https://example.kz/news/2" || got[0].Medium != hub.MediumTV || got[0].Audience != 0 {
		t.Fatalf("stored %+v", got)
	}
	if a := outlet.get(page); strings.Contains(a.body, `id="repub-recorded"`) || strings.Index(a.body, "news/2") > strings.Index(a.body, "news/1") {
		t.Error("a later load shows the notice, or the newest report not first")
	}

	// Another outlet's page of a package both see lists only its own.
	outlet.post("/packages/"+public, "/packages/"+public+"/republications", url.Values{"url": {"https://example.kz/open/1"}}).expect(t, http.StatusSeeOther)
	if a := other.get("/packages/" + public); !strings.Contains(a.body, `id="repub-none"`) || strings.Contains(a.body, "example.kz/open/1") {
		t.Error("another outlet sees an outlet's report")
	}
}

// operatorNATS is NATS access as a hub whose operator issues outlets'
// credentials answers it: no user, no credential.
type operatorNATS struct{}

func (operatorNATS) PartnerAccess(_ context.Context, _ *hub.Key, p *hub.Partner, _ hub.Audience) (hub.NATSAccess, error) {
	return hub.NATSAccess{URL: "nats://nats.example.kz:4222", Stream: "HUB_RELEASES", Consumer: "partner-" + p.ID,
		InboxPrefix: "_INBOX_partner-" + p.ID, Subjects: []string{"hub.releases.shelters.>"}}, nil
}

// TestSetupNATSKinds: a portal without NATS access says so on the
// set-up page; one whose operator issues credentials says to ask for a
// credentials file, and its example command takes one.
func TestSetupNATSKinds(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	key := h.PartnerKey(t, "Almaty TV", "shelters")
	for _, tt := range []struct {
		name   string
		access hub.NATSAccessProvider
		want   []string
	}{
		{"no NATS access", nil, []string{`id="nats-off"`, `id="pull-command"`}},
		{"operator's credentials", operatorNATS{}, []string{`id="nats-facts"`, "nats://nats.example.kz:4222", "credentials file", "--creds outlet.creds"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := echo.New()
			srv := httptest.NewServer(e)
			t.Cleanup(srv.Close)
			pages, err := portal.New(h.Service, portal.Options{PublicURL: srv.URL, NATSAccess: tt.access})
			if err != nil {
				t.Fatal(err)
			}
			pages.Register(e)
			v := newVisitor(t, &hubtest.Hub{URL: srv.URL})
			v.signIn(key)
			v.do("GET", "/setup", nil, "Accept-Language", "en").expect(t, 200, tt.want...)
		})
	}
}
