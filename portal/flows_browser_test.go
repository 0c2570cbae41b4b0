package portal_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/media/mediatest"
	"github.com/syndication-hub/hub/portal"
	"github.com/syndication-hub/hub/portal/browsertest"
	"github.com/syndication-hub/hub/portal/i18n"
	"github.com/syndication-hub/hub/publisher/webhooks"
)

// TestBrowserUploadResumesAfterRestart is a producer's video upload that
// outlives a restart of the hub, in a real browser: the producer drops a
// video of a few MiB on the studio's uploader over a slow connection;
// once part of it is staged the hub stops and a new one starts on the
// same data dir and address. The browser, still signed in (sessions live
// in the data dir), finishes the upload from where it stopped: the new
// hub receives only the rest, and stores the video whole, scrubbed.
func TestBrowserUploadResumesAfterRestart(t *testing.T) {
	start := time.Now()
	video := filepath.Join(t.TempDir(), "interview.mp4")
	// Lossless-grade quality keeps ten seconds of test pattern at ~5 MiB:
	// long enough at the throttled speed below to stop the hub midway.
	mediatest.Run(t, "ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
		"-f", "lavfi", "-i", "sine", "-t", "10", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "4", "-c:a", "aac", "-shortest", video)
	body, err := os.ReadFile(video)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	size := int64(len(body))

	h := hubtest.Start(t, hubtest.Options{})
	campaign(t, h, "korgau")
	key := producerFor(t, h, "Айгерім Бекова", "korgau")
	b := browsertest.Start(t)
	b.Visit(h.URL + "/signin")
	b.Do(chromedp.SendKeys(chromedp.ID("key"), key), chromedp.Submit(chromedp.ID("key")),
		chromedp.WaitVisible(chromedp.ID("signed-in")))
	b.Visit(h.URL + "/studio/new")
	b.Do(chromedp.SetValue(chromedp.ID("campaign"), "korgau"), chromedp.SetValue(chromedp.ID("language"), "kk"),
		chromedp.SendKeys(chromedp.ID("headline"), "Сұхбат: көмек қайдан табылады"),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("package-title")),
		chromedp.WaitVisible(chromedp.CSS("#uppy .uppy-Dashboard")))
	id := strings.TrimPrefix(strings.SplitN(b.Location(), "?", 2)[0], h.URL+"/studio/")
	if !hub.ValidID(id) {
		t.Fatalf("after create the browser is at %s", b.Location())
	}

	// 1 MiB/s up: the file takes seconds, so the hub stops with part of
	// it staged. (Throttling is the browser's, so nothing about the hub
	// changes for the test.)
	throttle(t, b, 1<<20)
	b.Do(chromedp.SetUploadFiles(chromedp.CSS(`#uppy input[type=file]`), []string{video}),
		chromedp.WaitVisible(chromedp.CSS(".uppy-StatusBar-actionBtn--upload")),
		chromedp.Click(chromedp.CSS(".uppy-StatusBar-actionBtn--upload")))
	upload := stagedPart(t, h, 1<<20)

	// The hub stops, ending the PATCH in flight with a 503; what came
	// stays staged. That answer (or, should the connection close first,
	// its reset) and the refusals while no hub listens show in the
	// console, for this upload only; nothing else may.
	at := " (" + h.URL + "/v1/uploads/" + upload + ")"
	b.Allow("the server responded with a status of 503 (Service Unavailable)" + at)
	b.Allow("net::ERR_CONNECTION_REFUSED" + at)
	b.Allow("net::ERR_CONNECTION_RESET" + at)
	h.Stop(t)
	info, err := h.Server.Staging().Info(context.Background(), upload)
	if err != nil {
		t.Fatalf("the stopped hub's staging: %v", err)
	}
	if info.Offset <= 0 || info.Offset >= size {
		t.Fatalf("the first hub staged %d of %d bytes: the test wants part of the file", info.Offset, size)
	}
	first := len(h.Requests("PATCH", "/v1/uploads/"))
	throttle(t, b, -1) // the rest may go at full speed
	h.Restart(t)

	// The dashboard goes on by itself; the page then lists the video.
	b.Do(chromedp.WaitVisible(chromedp.CSS(`article.asset[data-name="interview.mp4"] details.scrub-report`)))
	b.CheckPage()
	var resent int64
	patches := h.Requests("PATCH", "/v1/uploads/"+upload)
	for i, r := range h.Requests("PATCH", "/v1/uploads/")[first:] {
		if r.Path != "/v1/uploads/"+upload {
			t.Errorf("after the restart the browser sent %s, not the staged upload", r.Path)
		}
		n, _ := strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64)
		resent += n
		if off := r.Header.Get("Upload-Offset"); i == 0 && off != strconv.FormatInt(info.Offset, 10) {
			t.Errorf("the first PATCH after the restart starts at %s, want %d, where the first hub stopped", off, info.Offset)
		}
	}
	if resent == 0 || resent != size-info.Offset {
		t.Errorf("the new hub received %d bytes by PATCH; want the %d the first did not (of %d)", resent, size-info.Offset, size)
	}
	if len(h.Requests("POST", "/v1/uploads")) != 1 {
		t.Errorf("the browser created %d uploads, want 1", len(h.Requests("POST", "/v1/uploads")))
	}
	a := stored(t, h, id).Asset("interview.mp4")
	if a == nil || a.Type != hub.AssetVideo || a.Scrub != hub.ScrubStandard {
		t.Fatalf("the stored asset: %+v", a)
	}
	// What the hub received is the file, byte for byte (Received is set
	// only when the scrub changed the bytes).
	received := a.SHA256
	if a.Received != nil {
		received = a.Received.SHA256
	}
	if received != hex.EncodeToString(sum[:]) {
		t.Errorf("the hub received bytes of sha256 %s, the file's is %x", received, sum)
	}
	t.Logf("%d of %d bytes went to the first hub, %d to the second, in %d PATCHes", info.Offset, size, resent, len(patches))
	t.Logf("browser test took %v", time.Since(start).Round(time.Millisecond))
}

// throttle caps the tab's upload speed at bytesPerSecond; -1 lifts it.
func throttle(t *testing.T, b *browsertest.Browser, bytesPerSecond float64) {
	t.Helper()
	if _, err := chromedp.Call(b.Context(), network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{UploadThroughput: bytesPerSecond, DownloadThroughput: -1}},
	}); err != nil {
		t.Fatalf("throttle the browser's network: %v", err)
	}
}

// stagedPart waits until the hub has staged at least n bytes of the
// browser's one resumable upload, and returns the upload's id.
func stagedPart(t *testing.T, h *hubtest.Hub, n int64) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for ; time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		patches := h.Requests("PATCH", "/v1/uploads/")
		if len(patches) == 0 {
			continue
		}
		id := strings.TrimPrefix(patches[0].Path, "/v1/uploads/")
		if info, err := h.Server.Staging().Info(context.Background(), id); err == nil && info.Offset >= n {
			return id
		}
	}
	t.Fatalf("the hub did not stage %d bytes of the upload within a minute", n)
	return ""
}

// TestBrowserFeedToPackage is a reader's way from a feed to the files,
// in a real browser: the public feeds (RSS and JSON) link a released
// package of a public campaign to its page, which opens signed out with
// its headline and credit and offers the zip; a partner's private feed
// links a partners-only package, whose page sends a signed-out browser
// to sign in and, signed in with the partner's key, back to the page.
func TestBrowserFeedToPackage(t *testing.T) {
	start := time.Now()
	n := newNewsroom(t)
	public := n.make(pkgSpec{campaign: "open-doors", headline: "Двери открыты: истории тех, кто ушёл от насилия", release: "now"})
	private := n.make(pkgSpec{campaign: "shelters", headline: "Убежища области: где найти помощь", release: "now"})
	b := browsertest.Start(t)

	// The feeds name the package's page; both formats the same one.
	rss := feedLink(t, n.h.URL+"/feeds/releases.rss", public)
	if got := feedLink(t, n.h.URL+"/feeds/releases.json", public); got != rss {
		t.Errorf("the JSON feed links %s, the RSS feed %s", got, rss)
	}
	b.Visit(rss)
	if got := b.Location(); got != n.h.URL+"/packages/"+public {
		t.Fatalf("the feed's link opened %s", got)
	}
	if got := b.Text("#headline"); got != "Двери открыты: истории тех, кто ушёл от насилия" {
		t.Errorf("the package's page shows the headline %q", got)
	}
	if got := evaluate[string](t, b, `document.getElementById('credit-line').value`); !strings.Contains(got, "Фонд «Коргау»") {
		t.Errorf("the package's page shows the credit %q", got)
	}

	// The zip, from the page's link, as the signed-out browser gets it.
	href, err := url.Parse(evaluate[string](t, b, `document.getElementById('download-zip').href`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(href.String())
	if err != nil {
		t.Fatal(err)
	}
	archive, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("the page's zip link %s answered %d %s (%v)", href, resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatalf("the zip is no zip: %v", err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if !slices.ContainsFunc(names, func(s string) bool { return strings.HasSuffix(s, "poster.jpg") }) {
		t.Errorf("the zip holds %v, not the poster", names)
	}

	// The partner's private feed, and its link opened signed out.
	k, err := n.h.Service.Authenticate(context.Background(), n.entitled)
	if err != nil {
		t.Fatal(err)
	}
	token, err := n.h.Service.IssueFeedToken(context.Background(), n.h.Admin(t), k.Partner)
	if err != nil {
		t.Fatal(err)
	}
	link := feedLink(t, n.h.URL+"/feeds/p/"+token+"/releases.rss", private)
	b.Visit(link)
	b.Do(chromedp.WaitVisible(chromedp.ID("key")))
	if got := b.Location(); !strings.HasPrefix(got, n.h.URL+"/signin?") {
		t.Errorf("signed out, the private package's link leads to %s, not the sign-in page", got)
	}
	b.Do(chromedp.SendKeys(chromedp.ID("key"), n.entitled), chromedp.Submit(chromedp.ID("key")),
		chromedp.WaitVisible(chromedp.ID("headline")))
	b.CheckPage()
	if got := b.Location(); got != link {
		t.Errorf("after signing in the browser is at %s, want the package's page %s", got, link)
	}
	if ct := evaluate[string](t, b, `document.contentType`); ct != "text/html" {
		t.Errorf("after signing in the browser shows %s", ct)
	}
	if got := b.Text("#headline"); got != "Убежища области: где найти помощь" {
		t.Errorf("the private package's page shows the headline %q", got)
	}
	t.Logf("browser test took %v", time.Since(start).Round(time.Millisecond))
}

// feedLink fetches the RSS or JSON feed at url, keyless as a feed reader
// does, and returns the link of its item for package id, waiting for the
// feed to carry it.
func feedLink(t *testing.T, feedURL, id string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(feedURL)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s answered %d (%v): %.300s", feedURL, resp.StatusCode, err, body)
		}
		var links []string
		if strings.HasSuffix(feedURL, ".json") {
			var f struct{ Items []struct{ URL string } }
			if err := json.Unmarshal(body, &f); err != nil {
				t.Fatalf("%s: %v", feedURL, err)
			}
			for _, it := range f.Items {
				links = append(links, it.URL)
			}
		} else {
			var f struct {
				Items []struct {
					Link string `xml:"link"`
				} `xml:"channel>item"`
			}
			if err := xml.Unmarshal(body, &f); err != nil {
				t.Fatalf("%s: %v", feedURL, err)
			}
			for _, it := range f.Items {
				links = append(links, it.Link)
			}
		}
		for _, l := range links {
			if strings.HasSuffix(l, "/packages/"+id) {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s links %v, not package %s", feedURL, links, id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBrowserEveryPageInKazakh visits every page of the portal in
// Kazakh, chosen in the layout's language form, as the role that may see
// it: signed out, as a partner, a producer and the admin. Each page must
// say <html lang="kk">, show no message of the English catalog whose
// Kazakh differs (nor any other English sentence outside code), and pass
// axe. The test fails when a GET route of the portal is not among the
// pages visited, so a new page cannot escape it.
func TestBrowserEveryPageInKazakh(t *testing.T) {
	start := time.Now()
	// Names in Kazakh, so that any English on a page is the portal's.
	h, ctx := hubtest.Start(t, hubtest.Options{Webhooks: &webhooks.Options{AllowPrivateTargets: true}}), context.Background()
	n := &newsroom{t: t, h: h, producer: producerFor(t, h, "Айгерім Бекова")}
	apiCall(t, h, "POST", "/v1/campaigns", n.producer, map[string]any{"slug": "open-doors", "name": "Ашық есік", "visibility": "public"}).expect(t, 201)
	apiCall(t, h, "POST", "/v1/campaigns", n.producer, map[string]any{"slug": "shelters", "name": "Баспаналар", "visibility": "partners"}).expect(t, 201)
	n.entitled, n.other = h.PartnerKey(t, "Алматы ТВ", "shelters"), h.PartnerKey(t, "Шымкент радиосы")
	public := n.make(pkgSpec{campaign: "open-doors", headline: "Есіктер ашық", release: "now"})
	shared := n.make(pkgSpec{campaign: "shelters", lang: "kk", headline: "Облыстағы баспаналар", warning: "Зорлық туралы әңгімелер", release: "now"})
	withdrawn := n.make(pkgSpec{campaign: "shelters", headline: "Отозванный материал", release: "now", withdraw: true})
	draft := n.make(pkgSpec{campaign: "shelters", headline: "Черновик"})
	partner, err := h.Service.Authenticate(ctx, n.entitled)
	if err != nil {
		t.Fatal(err)
	}
	other, err := h.Service.Authenticate(ctx, n.other)
	if err != nil {
		t.Fatal(err)
	}
	// The outlet's webhook, for its delete confirmation page.
	hook, err := h.Service.CreateWebhook(ctx, partner, "", "http://127.0.0.1:9/hub") // loopback: the test hub allows it
	if err != nil {
		t.Fatal(err)
	}
	_, link, err := h.Service.CreateSigninLink(ctx, h.Admin(t), hub.SigninLinkRequest{Person: "Айгерім Бекова", Role: hub.RolePartner, Partner: partner.Partner})
	if err != nil {
		t.Fatal(err)
	}
	b := browsertest.Start(t)
	english, kazakh := catalogOf(i18n.EN, i18n.KK), catalogOf(i18n.KK, i18n.EN)
	var visited []string
	// visit opens path, which must show what want selects (the page meant,
	// not an error), after waiting for what waitFor selects.
	visit := func(path, want string, waitFor ...string) {
		t.Helper()
		b.Visit(h.URL + path)
		for _, sel := range waitFor {
			b.Do(chromedp.WaitVisible(chromedp.CSS(sel)))
		}
		visited = append(visited, strings.SplitN(path, "?", 2)[0])
		if !evaluate[bool](t, b, `!!document.querySelector('`+want+`')`) {
			t.Errorf("%s shows no %s: %.300s", path, want, b.Text("main"))
		}
		if lang := evaluate[string](t, b, `document.documentElement.lang`); lang != "kk" {
			t.Errorf("%s: <html lang=%q>", path, lang)
		}
		seen := map[string]bool{}
		for _, s := range pageStrings(t, b) {
			if seen[s.Text] || kazakh.match(s.Text) != "" {
				continue // said already, or a Kazakh message with what fills it
			}
			seen[s.Text] = true
			if key := english.match(s.Text); key != "" {
				t.Errorf("%s: %q is the English of %s", path, s.Text, key)
			} else if !s.Code && s.Lang == "kk" && englishSentence(s.Text) {
				t.Errorf("%s: %q reads as English", path, s.Text)
			}
		}
		if len(waitFor) > 0 {
			b.CheckPage() // again, with what came later
		}
	}

	// Signed out: Kazakh is chosen in the layout's form.
	b.Visit(h.URL + "/")
	b.Do(chromedp.SetValue(chromedp.ID("lang-select"), "kk"), chromedp.Click(chromedp.CSS("form.lang button")),
		chromedp.WaitVisible(chromedp.Search(`//html[@lang="kk"]`)))
	b.Allow("status of 404") // the 404 page, a link nobody issued
	visit("/", "#key")
	visit("/signin", "#key")
	visit("/signin/"+link, "#use-link")
	visit("/signin/no-such-link", "#link-state")
	visit("/packages/"+public, "#headline")
	visit("/no-such-page", "#message")

	signIn := func(key string) {
		t.Helper()
		b.Visit(h.URL + "/signin")
		b.Do(chromedp.SendKeys(chromedp.ID("key"), key), chromedp.Submit(chromedp.ID("key")),
			chromedp.WaitVisible(chromedp.ID("signed-in")))
	}
	signOut := func() {
		t.Helper()
		b.Do(chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.ID("key")))
	}

	signIn(n.entitled)
	visit("/", "#greeting")
	visit("/releases", "#grid")
	visit("/packages/"+shared, "#content-warning")
	visit("/packages/"+withdrawn, "#takendown")
	visit("/setup", "#setup-title")
	visit("/setup/webhooks/"+hook.ID+"/delete", "#delete-webhook")
	signOut()

	signIn(n.producer)
	visit("/", "#greeting")
	visit("/studio", "#new-package")
	visit("/studio/new", "#package-form")
	visit("/studio/"+draft, "#package-form", "#uppy .uppy-Dashboard")
	visit("/studio/"+shared, "#package-status")
	visit("/studio/"+withdrawn+"/purge", "#confirm-purge")
	visit("/campaigns/shelters/reach", "#reach-figures, #reach-empty")
	signOut()

	signIn(h.AdminKey)
	visit("/", "#greeting")
	visit("/admin/partners", "#partners")
	visit("/admin/partners/"+partner.Partner, "#partner-active")
	visit("/admin/keys", "#keys")
	visit("/admin/keys/"+other.ID+"/revoke", "#confirm-revoke")
	visit("/admin/campaigns", "#campaigns")
	visit("/admin/webhooks", "#wh-"+hook.ID)
	visit("/admin/audit", "#audit")
	visit("/admin/health", "#health")
	visit("/admin/signin-links", "#person")
	visit("/admin/sessions", "#session-count")

	// Every page the portal serves was among them.
	e := echo.New()
	pages, err := portal.New(h.Service, portal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pages.Register(e)
	for _, r := range e.Routes() {
		if r.Method != http.MethodGet || r.Path == "/static/*" {
			continue
		}
		pattern := regexp.MustCompile("^" + regexp.MustCompile(`:[^/]+`).ReplaceAllString(regexp.QuoteMeta(r.Path), `[^/]+`) + "$")
		if !slices.ContainsFunc(visited, pattern.MatchString) {
			t.Errorf("GET %s is a page this test does not visit in Kazakh", r.Path)
		}
	}
	t.Logf("%d pages in Kazakh; browser test took %v", len(visited), time.Since(start).Round(time.Millisecond))
}

// pageText is a string a page shows or says (a text, a label, a title),
// with the language it is marked as and whether it is code.
type pageText struct {
	Text string `json:"text"`
	Lang string `json:"lang"`
	Code bool   `json:"code"`
}

// pageStrings collects what the page says: its text nodes, the whole
// text of elements that hold a sentence (a message with a placeholder
// filled in a child element), the attributes people read or hear, and the
// title. Whitespace is collapsed.
const pageStringsJS = `(() => {
  const out = [];
  const norm = s => s.replace(/\s+/g, ' ').trim();
  const add = (el, text) => {
    text = norm(text || '');
    if (!text) return;
    out.push({text, lang: ((el && el.closest('[lang]')) || document.documentElement).lang,
      code: !!(el && el.closest('code,pre,kbd,samp,textarea.code,[translate="no"]'))});
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode());) {
    const el = node.parentElement;
    if (el && !el.closest('script,style')) add(el, node.data);
  }
  for (const el of document.body.querySelectorAll('p,li,h1,h2,h3,h4,label,button,a,th,td,dt,dd,legend,summary,option,caption,figcaption')) {
    add(el, el.textContent);
  }
  for (const el of document.body.querySelectorAll('[aria-label],[title],[placeholder],[alt],input[type=submit],input[type=button]')) {
    for (const a of ['aria-label', 'title', 'placeholder', 'alt']) add(el, el.getAttribute(a));
    if (el.type === 'submit' || el.type === 'button') add(el, el.value);
  }
  for (const part of document.title.split(' · ')) add(null, part);
  return out;
})()`

func pageStrings(t *testing.T, b *browsertest.Browser) []pageText {
	t.Helper()
	v, err := chromedp.Run(b.Context(), chromedp.Evaluate[[]pageText](pageStringsJS))
	if err != nil {
		t.Fatalf("read the page's text: %v", err)
	}
	return v
}

// latinOnly is text of Latin letters and punctuation only.
var latinOnly = regexp.MustCompile(`^[A-Za-z][A-Za-z'’ ,.;:!?()/-]*$`)

// englishSentence reports whether s reads as English no catalog
// compares (a domain's sentence, a vendored script's default, a Kazakh
// message copied from English): four or more words, Latin letters only.
func englishSentence(s string) bool {
	return latinOnly.MatchString(s) && len(strings.Fields(s)) >= 4
}

// messages are the messages of one catalog that another says otherwise:
// exactly, or as patterns for those with placeholders.
type messages struct {
	exact    map[string]string // message -> key
	patterns map[string]*regexp.Regexp
}

var (
	placeholder = regexp.MustCompile(`\{[a-z_]+\}`)
	// aWord is what a pattern's own text must hold not to match any text.
	aWord = regexp.MustCompile(`\pL{3,}`)
)

// catalogOf returns the messages of l whose text in other differs (in
// English, those Kazakh would say otherwise; names and abbreviations
// that are the same in both are no mistake).
func catalogOf(l, other i18n.Lang) messages {
	p, o := i18n.For(l), i18n.For(other)
	m := messages{exact: map[string]string{}, patterns: map[string]*regexp.Regexp{}}
	for _, k := range i18n.Keys() {
		msg := p.T(k)
		if msg == k || msg == o.T(k) {
			continue
		}
		msg = strings.Join(strings.Fields(msg), " ")
		if !placeholder.MatchString(msg) {
			m.exact[msg] = k
			continue
		}
		literal := placeholder.Split(msg, -1)
		if !aWord.MatchString(strings.Join(literal, " ")) {
			continue
		}
		for i, l := range literal {
			literal[i] = regexp.QuoteMeta(l)
		}
		m.patterns[k] = regexp.MustCompile("^" + strings.Join(literal, ".+") + "$")
	}
	return m
}

// match returns the key of the message s is, or "", also when s is the
// message in brackets or quotes, or with a colon.
func (m messages) match(s string) string {
	for _, s := range []string{s, strings.Trim(s, "()[]«»\"'“”:·,.— ")} {
		if k, ok := m.exact[s]; ok {
			return k
		}
		for k, re := range m.patterns {
			if re.MatchString(s) {
				return k
			}
		}
	}
	return ""
}
