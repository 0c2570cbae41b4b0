package portal_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/portal/browsertest"
)

// TestBrowserSigninLink is a person's way in, in a real browser: an
// admin issues a sign-in link on the portal page, a previewer opens it
// twice, the person presses the button and is greeted by name, switches
// to Kazakh, finds the link used up, has a form without its token
// refused, and is signed out once the admin revokes the link's key.
func TestBrowserSigninLink(t *testing.T) {
	start := time.Now()
	h := hubtest.Start(t, hubtest.Options{})
	b := browsertest.Start(t)
	ctx := context.Background()
	admin, err := h.Service.Authenticate(ctx, h.AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	outlet, err := h.Service.CreatePartner(ctx, admin, &hub.Partner{Name: "Almaty TV", Medium: hub.MediumTV, Active: true})
	if err != nil {
		t.Fatal(err)
	}

	// The admin signs in with a key and issues a link.
	b.Visit(h.URL + "/signin")
	b.Do(chromedp.SendKeys(chromedp.ID("key"), h.AdminKey), chromedp.Submit(chromedp.ID("key")),
		chromedp.WaitVisible(chromedp.ID("signed-in")))
	b.CheckPage()
	b.Visit(h.URL + "/admin/signin-links")
	b.Do(chromedp.SendKeys(chromedp.ID("person"), "Айгерім Бекова"), chromedp.Click(chromedp.ID("role-partner")),
		chromedp.SetValue(chromedp.ID("partner"), outlet.ID), chromedp.Click(chromedp.ID("issue-link")),
		chromedp.WaitVisible(chromedp.ID("created-link")))
	b.CheckPage()
	link := strings.TrimSpace(b.Text("#created-link"))
	if !strings.HasPrefix(link, h.URL+"/signin/") {
		t.Fatalf("issued link %q", link)
	}
	b.Visit(h.URL + "/admin/sessions")
	b.Do(chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.ID("key")))

	// A chat's previewer fetches the link, twice: nothing is used up.
	for range 2 {
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("preview: %d", resp.StatusCode)
		}
	}
	b.Visit(link)
	b.Visit(link)
	b.Do(chromedp.Click(chromedp.ID("use-link")), chromedp.WaitVisible(chromedp.ID("greeting")))
	b.CheckPage()
	if got := b.Text("#greeting"); !strings.Contains(got, "Айгерім Бекова") {
		t.Errorf("home page greets %q", got)
	}

	// Kazakh.
	b.Do(chromedp.SetValue(chromedp.ID("lang-select"), "kk"), chromedp.Click(chromedp.CSS("form.lang button")),
		chromedp.WaitVisible(chromedp.Search(`//h1[@id="greeting"][contains(., "Сәлеметсіз бе")]`)))
	b.CheckPage()
	if lang, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`document.documentElement.lang`)); err != nil || lang != "kk" {
		t.Errorf("<html lang=%q> (%v)", lang, err)
	}

	// The used link, opened again, says so.
	b.Allow("status of 410")
	b.Visit(link)
	if got := b.Text("#link-state"); got != "Бұл сілтеме бұрын пайдаланылған" {
		t.Errorf("a used link shows %q", got)
	}

	// A form posted without its token is refused, and changes nothing.
	b.Allow("status of 403")
	b.Visit(h.URL + "/")
	drop := chromedp.Evaluate[any](`document.querySelector('form[action="/signout"] input[name=csrf]').remove()`)
	b.Do(chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error { _, err := drop(ctx, tgt); return err }),
		chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.ID("message")))
	b.CheckPage()
	if got := b.Text("#message"); got != "Форма қабылданбады" {
		t.Errorf("a form without its token shows %q", got)
	}
	b.Visit(h.URL + "/")
	b.Do(chromedp.WaitVisible(chromedp.ID("signed-in")))

	// The admin revokes the link's key through the API: the next page
	// load is signed out.
	links, err := h.Service.SigninLinks(ctx, admin)
	if err != nil || len(links) != 1 {
		t.Fatalf("links %v, %v", links, err)
	}
	apiCall(t, h, "DELETE", "/v1/keys/"+links[0].Link.KeyID, h.AdminKey, nil).expect(t, http.StatusNoContent)
	b.Visit(h.URL + "/")
	b.Do(chromedp.WaitVisible(chromedp.ID("key")))
	t.Logf("browser test took %v", time.Since(start).Round(time.Millisecond))
}
