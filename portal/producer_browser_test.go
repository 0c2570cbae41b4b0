package portal_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/portal/browsertest"
	"github.com/syndication-hub/hub/portal/i18n"
)

// studioZone is the browser's time zone in the studio's browser test:
// Almaty, UTC+05:00 all year, so an embargo typed there must reach the
// hub five hours earlier in UTC.
const studioZone = "Asia/Almaty"

// TestBrowserStudio is a producer's main flow in a real browser: sign in
// with a key, create a package, drop a PNG poster on the uploader (sent
// resumably through /v1/uploads with the CSRF header), see it listed
// with its scrub report, and release it with an embargo a few seconds
// ahead, typed in the browser's zone; the scheduler then releases it.
// The browser fails the test on console errors and CSP violations, axe
// on accessibility. With HUB_SCREENSHOTS set, it saves the studio's
// pages there.
func TestBrowserStudio(t *testing.T) {
	start := time.Now()
	h := hubtest.Start(t, hubtest.Options{})
	campaign(t, h, "korgau")
	key := producerFor(t, h, "Айгерім Бекова", "korgau")
	b := browsertest.Start(t)
	zone, err := time.LoadLocation(studioZone)
	if err != nil {
		t.Skipf("no zone data for %s: %v", studioZone, err)
	}
	if _, err := chromedp.Call(b.Context(), emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: studioZone}); err != nil {
		t.Fatalf("set the browser's time zone: %v", err)
	}
	b.Do(chromedp.EmulateViewport(1280, 900))

	b.Visit(h.URL + "/signin")
	b.Do(chromedp.SendKeys(chromedp.ID("key"), key), chromedp.Submit(chromedp.ID("key")),
		chromedp.WaitVisible(chromedp.ID("signed-in")))
	// In Kazakh, whose strings the uploader gets from the hub's catalog.
	b.Do(chromedp.SetValue(chromedp.ID("lang-select"), "kk"), chromedp.Click(chromedp.CSS("form.lang button")),
		chromedp.WaitVisible(chromedp.Search(`//h1[@id="greeting"][contains(., "Сәлеметсіз бе")]`)))
	kk := i18n.For(i18n.KK)
	b.Visit(h.URL + "/studio")
	b.Do(chromedp.Click(chromedp.ID("new-package")), chromedp.WaitVisible(chromedp.ID("package-form")))
	b.CheckPage()
	b.Do(chromedp.SetValue(chromedp.ID("campaign"), "korgau"), chromedp.SetValue(chromedp.ID("language"), "kk"),
		chromedp.SendKeys(chromedp.ID("headline"), "Жұмыстағы қудалау — қылмыс"),
		chromedp.SendKeys(chromedp.ID("summary"), "Науқанның постері мен мәтіні."),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("package-title")))
	id := strings.TrimPrefix(strings.SplitN(b.Location(), "?", 2)[0], h.URL+"/studio/")
	if !hub.ValidID(id) {
		t.Fatalf("after create the browser is at %s", b.Location())
	}

	// The uploader: a PNG dropped in (its file input), uploaded with tus.
	b.Do(chromedp.WaitVisible(chromedp.CSS("#uppy .uppy-Dashboard")))
	b.CheckPage()
	poster := filepath.Join(t.TempDir(), "poster.png")
	if err := os.WriteFile(poster, posterPNG(t), 0o600); err != nil {
		t.Fatal(err)
	}
	b.Do(chromedp.SetUploadFiles(chromedp.CSS(`#uppy input[type=file]`), []string{poster}),
		chromedp.WaitVisible(chromedp.CSS(".uppy-StatusBar-actionBtn--upload")))
	if got := b.Text(".uppy-StatusBar-actionBtn--upload"); got != "1 файлды жүктеу" {
		t.Errorf("the uploader's button says %q", got)
	}
	b.CheckPage()
	shot(t, b, "studio-upload")
	b.Do(chromedp.Click(chromedp.CSS(".uppy-StatusBar-actionBtn--upload")),
		chromedp.WaitVisible(chromedp.CSS(`article.asset[data-name="poster.png"] details.scrub-report`)))
	b.CheckPage()
	// A standard scrub of a PNG keeps its text chunks (an author's name
	// goes only from anonymized packages): the report says what it read
	// and that there was nothing to remove.
	if got := b.Text(`article.asset[data-name="poster.png"] details.scrub-report`); !strings.Contains(got, "PNG") {
		t.Errorf("the scrub report shows %q", got)
	}
	if n := len(h.Requests("PATCH", "/v1/uploads/")); n == 0 {
		t.Error("the file did not go through the resumable uploads")
	}
	for _, r := range h.Requests("POST", "/v1/uploads") {
		if r.Header.Get("X-CSRF-Token") == "" {
			t.Error("an upload was created without the CSRF header")
		}
	}
	p := stored(t, h, id)
	if a := p.Asset("poster.png"); a == nil || a.Type != hub.AssetPicture || a.Scrub != hub.ScrubStandard {
		t.Fatalf("the stored asset: %+v", a)
	}

	// The embargo, a few seconds ahead in Almaty's time.
	embargo := time.Now().Add(8 * time.Second).In(zone).Truncate(time.Second)
	if _, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](
		`document.getElementById('embargo-input').value = '`+embargo.Format("2006-01-02T15:04:05")+`'`)); err != nil {
		t.Fatalf("type the embargo: %v", err)
	}
	b.Do(chromedp.Click(chromedp.ID("schedule")), chromedp.WaitVisible(chromedp.ID("embargo-local")))
	b.CheckPage()
	shot(t, b, "studio-package")
	if got := stored(t, h, id); got.Status != hub.StatusScheduled || got.Embargo == nil || !got.Embargo.Equal(embargo) {
		t.Fatalf("scheduled %s at %v, want %v", got.Status, got.Embargo, embargo.UTC())
	}
	if got, want := b.Text("#embargo-local"), kk.DateTime(embargo)+" (UTC+05:00)"; got != want {
		t.Errorf("the embargo shows as %q, want %q", got, want)
	}
	if got := b.Text("#embargo-utc"); got != kk.DateTime(embargo.UTC())+" (UTC)" {
		t.Errorf("the embargo in UTC shows as %q", got)
	}
	deadline := time.Now().Add(30 * time.Second)
	for stored(t, h, id).Status != hub.StatusReleased {
		if time.Now().After(deadline) {
			t.Fatal("the scheduler did not release the package at its embargo")
		}
		time.Sleep(250 * time.Millisecond)
	}
	b.Visit(h.URL + "/studio/" + id)
	if got := b.Text("#package-status"); got != "жарияланған" {
		t.Errorf("after the embargo the status shows %q", got)
	}
	b.Visit(h.URL + "/studio")
	shot(t, b, "studio")
	t.Logf("browser test took %v", time.Since(start).Round(time.Millisecond))
}

// shot saves a full-page PNG of the tab as <name>.png in the directory
// HUB_SCREENSHOTS names; without it, nothing.
func shot(t *testing.T, b *browsertest.Browser, name string) {
	t.Helper()
	dir := os.Getenv("HUB_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.Context(), chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
