package portal_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/syndication-hub/hub/portal/browsertest"
)

// TestBrowserPackages is an outlet's way through released material, in a
// real browser: a partner signs in with its key, sees the grid with a
// thumbnail, opens a package and finds the content warning before the
// previews (closed until asked), downloads the zip, reports where it
// republished the package, opens its set-up and issues a feed token, and
// once the producer withdraws the package confirms the takedown, which
// the page says again on the next load.
func TestBrowserPackages(t *testing.T) {
	n := newNewsroom(t)
	id := n.make(pkgSpec{campaign: "shelters", headline: "Убежища области", warning: "Рассказы о насилии", release: "now"})
	b := browsertest.Start(t)

	b.Visit(n.h.URL + "/signin")
	b.Do(chromedp.SendKeys(chromedp.ID("key"), n.entitled), chromedp.Submit(chromedp.ID("key")),
		chromedp.WaitVisible(chromedp.ID("signed-in")))
	b.Visit(n.h.URL + "/releases")
	thumb := `#grid img.thumb`
	b.Do(chromedp.Poll[chromedp.Void](`document.querySelector('` + thumb + `')?.complete && document.querySelector('` + thumb + `').naturalWidth > 0`))
	if alt := evaluate[string](t, b, `document.querySelector('`+thumb+`').alt`); alt != "Женщина у двери кризисного центра" {
		t.Errorf("thumbnail alt %q", alt)
	}

	// The filters narrow the grid (htmx swaps it; a plain GET without).
	b.Do(chromedp.SetValue(chromedp.ID("f-language"), "kk"), chromedp.Click(chromedp.ID("apply-filters")),
		chromedp.WaitVisible(chromedp.ID("no-releases")))
	b.CheckPage()
	b.Do(chromedp.SetValue(chromedp.ID("f-language"), ""), chromedp.Click(chromedp.ID("apply-filters")),
		chromedp.WaitVisible(chromedp.ID("grid")))
	b.Do(chromedp.Click(chromedp.CSS(`#grid a[href="/packages/`+id+`"]`)), chromedp.WaitVisible(chromedp.ID("headline")))
	b.CheckPage()
	if got := b.Text("#headline"); got != "Убежища области" {
		t.Errorf("headline %q", got)
	}
	// The warning is read first; the previews stay closed until asked.
	if evaluate[bool](t, b, `document.getElementById('previews').open`) {
		t.Error("the previews are open under a content warning")
	}
	if !evaluate[bool](t, b, `!!(document.getElementById('content-warning').compareDocumentPosition(document.getElementById('previews')) & Node.DOCUMENT_POSITION_FOLLOWING)`) {
		t.Error("the content warning does not come before the previews")
	}
	b.Do(chromedp.Click(chromedp.CSS(`#previews summary`)))
	b.Do(chromedp.Poll[chromedp.Void](`(() => { const i = document.querySelector('#previews img'); return i && i.complete && i.naturalWidth > 0 })()`))
	if alt := evaluate[string](t, b, `document.querySelector('#previews img').alt`); alt != "Женщина у двери кризисного центра" {
		t.Errorf("preview alt %q", alt)
	}
	b.CheckPage()
	zip := evaluate[float64](t, b, `fetch(document.getElementById('download-zip').href).then(r => r.status)`)
	if zip != 200 {
		t.Errorf("the zip answers %v", zip)
	}

	// The outlet reports where it republished the package, and the page
	// lists the report.
	b.Do(chromedp.SendKeys(chromedp.ID("repub-url"), "https://example.kz/news/123"),
		chromedp.SendKeys(chromedp.ID("repub-audience"), "12000"),
		chromedp.Click(chromedp.ID("repub-submit")), chromedp.WaitVisible(chromedp.ID("repub-recorded")))
	b.CheckPage()
	if got := b.Text("#repub-reports tbody"); !strings.Contains(got, "https://example.kz/news/123") {
		t.Errorf("the reports list %q", got)
	}

	// Its set-up, from the menu: a feed token's addresses, shown once.
	b.Do(chromedp.Click(chromedp.ID("nav-setup")), chromedp.WaitVisible(chromedp.ID("setup-title")))
	b.CheckPage()
	b.Do(chromedp.Click(chromedp.ID("issue-feed-token")), chromedp.WaitVisible(chromedp.ID("feed-issued")))
	b.CheckPage()
	atom := evaluate[string](t, b, `document.getElementById('feed-atom').value`)
	if feed := evaluate[float64](t, b, `fetch('`+atom+`').then(r => r.status)`); !strings.Contains(atom, "/feeds/p/") || feed != 200 {
		t.Errorf("the Atom feed %q answers %v", atom, feed)
	}

	// The producer withdraws it: the page becomes the notice, and the
	// outlet confirms, which every later load says.
	apiCall(t, n.h, "POST", "/v1/packages/"+id+"/withdraw", n.producer, nil).expect(t, 200)
	b.Visit(n.h.URL + "/packages/" + id)
	b.Do(chromedp.WaitVisible(chromedp.ID("takendown")))
	if strings.Contains(evaluate[string](t, b, `document.body.innerHTML`), "poster.jpg") {
		t.Error("the withdrawn package's page still offers its files")
	}
	b.Do(chromedp.Click(chromedp.ID("confirm-takedown")), chromedp.WaitVisible(chromedp.ID("takedown-confirmed")))
	b.CheckPage()
	b.Visit(n.h.URL + "/packages/" + id)
	b.Do(chromedp.WaitVisible(chromedp.ID("takedown-confirmed")))
	apiCall(t, n.h, "GET", "/v1/packages/"+id+"/takedowns", n.producer, nil).expect(t, 200, `"unconfirmed":0`)
}

// TestPackagesScreenshots writes the releases grid, a package's page
// (with an outlet's republication report) and the outlet's set-up page
// as PNGs to the directory HUB_SCREENSHOTS names.
func TestPackagesScreenshots(t *testing.T) {
	dir := os.Getenv("HUB_SCREENSHOTS")
	if dir == "" {
		t.Skip("HUB_SCREENSHOTS names no directory")
	}
	n := newNewsroom(t)
	kk := n.make(pkgSpec{campaign: "shelters", lang: "kk", headline: "Облыстағы баспаналар: көмек қайдан табуға болады", release: "now"})
	n.make(pkgSpec{campaign: "open-doors", headline: "Двери открыты: истории тех, кто ушёл от насилия", warning: "Рассказы о насилии", release: "now"})
	ru := n.make(pkgSpec{campaign: "shelters", headline: "Убежища области: где найти помощь", release: "now", translations: []string{kk}})
	n.make(pkgSpec{campaign: "open-doors", lang: "ky", headline: "Эшиктер ачык", release: "now", withdraw: true})
	b := browsertest.Start(t)
	b.Visit(n.h.URL + "/signin")
	b.Do(chromedp.SendKeys(chromedp.ID("key"), n.entitled), chromedp.Submit(chromedp.ID("key")),
		chromedp.WaitVisible(chromedp.ID("signed-in")), chromedp.EmulateViewport(1280, 900))
	apiCall(t, n.h, "POST", "/v1/packages/"+ru+"/republications", n.entitled,
		map[string]any{"url": "https://example.kz/news/123", "published": time.Now().Add(-time.Hour).Format(time.RFC3339), "audience": 12000}).expect(t, 201)
	for name, path := range map[string]string{"packages-releases.png": "/releases", "packages-page.png": "/packages/" + ru, "partner-setup.png": "/setup"} {
		b.Visit(n.h.URL + path)
		b.Do(chromedp.Poll[chromedp.Void](`[...document.images].every(i => i.complete)`))
		png, err := chromedp.Run(b.Context(), chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes", name, len(png))
	}
}

// evaluate runs a script in the page and returns its value, awaiting a
// promise.
func evaluate[T any](t *testing.T, b *browsertest.Browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.Context(), chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}
