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
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/media/mediatest"
	"github.com/syndication-hub/hub/portal/browsertest"
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
