package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptrace"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/hub/websession"
	"github.com/syndication-hub/hub/portal/browsertest"
)

const (
	defaultPortalCards    = 50
	defaultPortalRequests = 200
	defaultPortalViews    = 20
	// portalWarmup requests (and views) of each kind come first, off the
	// record: the first ones pay for connections, caches and the JIT of
	// the browser.
	portalWarmup = 5
	// portalViewportW is the browser window's width; its height is the
	// grid's (portalViewportH), so every card is in view and every lazy
	// thumbnail is fetched without scrolling.
	portalViewportW = 1280
	// portalPictureWait bounds the wait for a page's pictures: one that
	// never comes fails the benchmark instead of hanging it.
	portalPictureWait = 30_000 // ms
)

// BenchmarkPortal measures what the portal's server-rendered pages cost
// beside the JSON API for the same data (issue 12): the partner's grid of
// BENCH_CARDS released packages (GET /releases?limit=N, with the
// partner's session) beside GET /v1/packages?status=released&limit=N
// (the same partner's key), and a package's page beside GET
// /v1/packages/{id}. The hub is hubtest's, in this process: the whole
// hub as `hub serve` runs it, blobs on disk, each package with a JPEG
// poster whose renditions are made before anything is measured.
//
// BenchmarkPortal/http asks each BENCH_REQUESTS times over one kept-alive
// connection and reports time to first byte and to the last byte read,
// p50 and p99, and the page/API ratios. BenchmarkPortal/browser opens
// each page BENCH_BROWSER_ROUNDS times in Chromium (cache disabled) and
// reports navigation timing's responseStart and loadEventEnd, and when
// every picture on the page was decoded (the page with all its
// thumbnails), beside a fetch() of the API's URL with the key from the
// same page, timed in the page: resource timing's responseStart and the
// JSON parsed. It skips without Chromium, except under CI=true.
// Nothing is asserted about a duration: it prints a table.
func BenchmarkPortal(b *testing.B) {
	cards := int(envInt(b, "BENCH_CARDS", defaultPortalCards, 1))
	if cards > hub.MaxPageSize {
		b.Fatalf("BENCH_CARDS=%d: at most %d, one page of the API", cards, hub.MaxPageSize)
	}
	requests := int(envInt(b, "BENCH_REQUESTS", defaultPortalRequests, 1))
	views := int(envInt(b, "BENCH_BROWSER_ROUNDS", defaultPortalViews, 1))
	start := time.Now()
	s := seedPortal(b, cards)
	fmt.Printf("\nBenchmarkPortal: %d released packages with a %dx%d JPEG poster each, renditions made, seeded in %v\n",
		cards, portalPosterW, portalPosterH, time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	b.Run("http", func(b *testing.B) { s.measureHTTP(b, requests) })
	b.Run("browser", func(b *testing.B) { s.measureBrowser(b, views) })
}

// portalPosterW and portalPosterH are the posters' size: a photograph as
// a campaign sends one, so the thumbnail and web renditions are real
// work and real bytes.
const portalPosterW, portalPosterH = 1600, 900

// portalSeed is the seeded hub: the partner's key and session, and the
// package whose page is measured.
type portalSeed struct {
	h       *hubtest.Hub
	key     string
	session string
	pkg     string
	cards   int
}

// seedPortal makes a partners-only campaign, cards packages in it with a
// poster each (alt text, primary), waits until every poster has its
// thumbnail and web rendition, releases them, and signs in a partner
// entitled to the campaign. It checks, off the clock, that the grid and
// the listing both show cards packages.
func seedPortal(b *testing.B, cards int) *portalSeed {
	b.Helper()
	ctx := context.Background()
	h := hubtest.Start(b, hubtest.Options{})
	svc, admin := h.Service, h.Admin(b)
	if _, err := svc.CreateCampaign(ctx, admin, &hub.Campaign{Slug: "bench", Name: "Бенчмарк", Visibility: hub.VisibilityPartners}); err != nil {
		b.Fatal(err)
	}
	var ids []string
	for i := range cards {
		p, err := svc.CreatePackage(ctx, admin, &hub.Package{Campaign: "bench", Language: "ru",
			Headlines:    []hub.Text{{Value: fmt.Sprintf("Пакет %d: где найти помощь", i+1)}},
			Descriptions: []hub.Text{{Role: "summary", Value: "Адреса и телефоны кризисных центров области."}},
			Bodies: []hub.Text{{ContentType: "text/html", Value: strings.Repeat(
				"<p>Кризисные центры принимают круглосуточно. Консультация бесплатна и анонимна.</p>", 12)}},
			By: "Фонд «Коргау»", UsageTerms: "Можно публиковать с указанием источника."})
		if err != nil {
			b.Fatal(err)
		}
		poster, err := makeJPEG(portalPosterW, portalPosterH, uint64(5000+i))
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := svc.PutAsset(ctx, admin, p.ID, hub.AssetUpload{Name: "poster.jpg", Body: bytes.NewReader(poster),
			Size: int64(len(poster))}); err != nil {
			b.Fatal(err)
		}
		alt, primary := "Женщина у двери кризисного центра", true
		if _, err := svc.UpdateAsset(ctx, admin, p.ID, "poster.jpg", hub.AssetPatch{AltText: &alt, Primary: &primary}); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for _, id := range ids {
		for !postersReady(ctx, b, h, admin, id) {
			if time.Now().After(deadline) {
				b.Fatalf("the renditions of %s are not ready after 10 minutes", id)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if _, err := svc.Release(ctx, admin, id, nil); err != nil {
			b.Fatal(err)
		}
	}
	s := &portalSeed{h: h, key: h.PartnerKey(b, "Bench TV", "bench"), pkg: ids[0], cards: cards}
	_, secret, err := svc.SignIn(ctx, s.key, hub.SessionMeta{UserAgent: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	s.session = secret

	// Off the clock: both show every card, with its thumbnail.
	c := &http.Client{}
	grid, err := s.get(c, s.gridPage(), false)
	if err != nil {
		b.Fatal(err)
	}
	if n, t := strings.Count(grid, `class="release-card"`), strings.Count(grid, `rendition=thumbnail"`); n != cards || t != cards {
		b.Fatalf("the grid shows %d cards and %d thumbnails, want %d", n, t, cards)
	}
	list, err := s.get(c, s.gridAPI(), true)
	if err != nil {
		b.Fatal(err)
	}
	var page struct{ Items []json.RawMessage }
	if err := json.Unmarshal([]byte(list), &page); err != nil || len(page.Items) != cards {
		b.Fatalf("the listing has %d items (%v), want %d", len(page.Items), err, cards)
	}
	return s
}

// postersReady reports whether package id's poster has its thumbnail and
// web rendition.
func postersReady(ctx context.Context, b *testing.B, h *hubtest.Hub, admin *hub.Key, id string) bool {
	p, err := h.Service.Package(ctx, admin, id)
	if err != nil {
		b.Fatal(err)
	}
	for _, set := range h.Service.RenditionSets(ctx, p) {
		for _, name := range []string{"thumbnail", "web"} {
			r := set.Rendition(name)
			if r == nil || r.State == hub.RenditionPending {
				return false
			}
			if r.State != hub.RenditionReady {
				b.Fatalf("rendition %s of %s: %s", name, id, r.State)
			}
		}
		return true
	}
	return false
}

func (s *portalSeed) gridPage() string { return fmt.Sprintf("/releases?limit=%d", s.cards) }
func (s *portalSeed) gridAPI() string {
	return fmt.Sprintf("/v1/packages?status=released&limit=%d", s.cards)
}
func (s *portalSeed) packagePage() string { return "/packages/" + s.pkg }
func (s *portalSeed) packageAPI() string  { return "/v1/packages/" + s.pkg }

// request is a GET of path as the partner: with its key for the API, its
// session for a page.
func (s *portalSeed) request(ctx context.Context, path string, api bool) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.h.URL+path, nil)
	if api {
		req.Header.Set("Authorization", "Bearer "+s.key)
	} else {
		req.AddCookie(&http.Cookie{Name: websession.Cookie, Value: s.session})
	}
	return req
}

func (s *portalSeed) get(c *http.Client, path string, api bool) (string, error) {
	resp, err := c.Do(s.request(context.Background(), path, api))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %d", path, resp.StatusCode)
	}
	return string(body), err
}

// portalProbe is one of the four things measured, and its figures in ms.
type portalProbe struct {
	label, path string
	api         bool
	first, full []float64
	bytes       int64
}

// timed asks once: the time until the first byte of the answer, until
// its last byte was read, and its size.
func (s *portalSeed) timed(c *http.Client, p *portalProbe) (first, full time.Duration, n int64, err error) {
	var start, got time.Time
	trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { got = time.Now() }}
	req := s.request(httptrace.WithClientTrace(context.Background(), trace), p.path, p.api)
	start = time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	n, err = io.Copy(io.Discard, resp.Body)
	end := time.Now()
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %d", p.path, resp.StatusCode)
	}
	return got.Sub(start), end.Sub(start), n, err
}

func (s *portalSeed) measureHTTP(b *testing.B, requests int) {
	probes := []*portalProbe{
		{label: "grid page", path: s.gridPage()}, {label: "grid API", path: s.gridAPI(), api: true},
		{label: "package page", path: s.packagePage()}, {label: "package API", path: s.packageAPI(), api: true},
	}
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
	load := loadAvg()
	for i := range portalWarmup + requests {
		for j := range probes {
			p := probes[(i+j)%len(probes)] // each goes first in turn
			first, full, n, err := s.timed(c, p)
			if err != nil {
				b.Fatal(err)
			}
			if i >= portalWarmup {
				p.first, p.full, p.bytes = append(p.first, ms(first)), append(p.full, ms(full)), n
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(0, "ns/op")
	var t strings.Builder
	fmt.Fprintf(&t, "\nBenchmarkPortal/http: %d requests of each (after %d to warm up), taking turns, one kept-alive connection, "+
		"hub and client in one process (%d CPUs)\n", requests, portalWarmup, runtime.NumCPU())
	fmt.Fprintf(&t, "%-13s %-44s %9s %9s %9s %9s %9s\n", "", "GET", "bytes", "TTFB p50", "TTFB p99", "full p50", "full p99")
	for _, p := range probes {
		fmt.Fprintf(&t, "%-13s %-44s %9d %9.2f %9.2f %9.2f %9.2f\n", p.label, p.path, p.bytes,
			percentile(p.first, 50), percentile(p.first, 99), percentile(p.full, 50), percentile(p.full, 99))
	}
	for k, name := range []string{"grid", "package"} {
		page, api := probes[2*k], probes[2*k+1]
		r := func(xs, ys []float64, pc float64) float64 { return percentile(xs, pc) / percentile(ys, pc) }
		fmt.Fprintf(&t, "%-13s %-44s %9.2f %9.2f %9.2f %9.2f %9.2f\n", name+" page/API", "", float64(page.bytes)/float64(api.bytes),
			r(page.first, api.first, 50), r(page.first, api.first, 99), r(page.full, api.full, 50), r(page.full, api.full, 99))
		b.ReportMetric(r(page.first, api.first, 50), name+"-ttfb-ratio")
		b.ReportMetric(r(page.full, api.full, 50), name+"-full-ratio")
		b.ReportMetric(percentile(page.full, 50), name+"-page-p50-ms")
		b.ReportMetric(percentile(api.full, 50), name+"-api-p50-ms")
	}
	fmt.Fprintf(&t, "times in ms; TTFB: request sent to the first byte of the answer; full: to its last byte read; "+
		"p99 nearest-rank; ratios page/API of the same percentile\n")
	fmt.Fprintf(&t, "load average (1, 5, 15 min) before: %s, after: %s\n", load, loadAvg())
	fmt.Print(t.String())
}

// navTiming is what the page says of its own load, in ms from the
// navigation's start, and of its pictures.
type navTiming struct {
	ResponseStart float64 `json:"responseStart"`
	LoadEventEnd  float64 `json:"loadEventEnd"`
	// Pictures is when the last picture was decoded (the page with every
	// thumbnail drawn), LastByte when the last one's last byte came.
	Pictures float64 `json:"pictures"`
	LastByte float64 `json:"lastByte"`
	Images   int     `json:"images"`
	Loaded   int     `json:"loaded"`
	// Height is the page's, in CSS pixels.
	Height int `json:"height"`
}

// navScript (with portalPictureWait) waits for loadEventEnd (set once the load handlers ran),
// then for every picture to be decoded: Chromium fires the load event
// before it has fetched lazy pictures, even those in view.
const navScript = `(async () => {
  let n;
  while (!(n = performance.getEntriesByType('navigation')[0]) || n.loadEventEnd <= 0) {
    await new Promise(r => setTimeout(r, 5));
  }
  const imgs = [...document.images];
  await Promise.race([Promise.all(imgs.map(i => i.decode().catch(() => null))),
    new Promise(r => setTimeout(r, %d))]);
  const pictures = imgs.length ? performance.now() : n.loadEventEnd;
  const lastByte = Math.max(0, ...imgs.map(i => (performance.getEntriesByName(i.currentSrc)[0] || {}).responseEnd || 0));
  return {responseStart: n.responseStart, loadEventEnd: n.loadEventEnd, pictures, lastByte, images: imgs.length,
    loaded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
    height: document.documentElement.scrollHeight};
})()`

// fetchTiming is a fetch() of the API from the page: resource timing's
// responseStart after its start, and the time until the JSON is parsed.
type fetchTiming struct {
	ResponseStart float64 `json:"responseStart"`
	Parsed        float64 `json:"parsed"`
	Bytes         float64 `json:"bytes"`
}

// fetchScript fetches url with the key, as a page's script would ask the
// API, from the page just loaded (the same origin, so no preflight).
func fetchScript(url, key string) string {
	u, _ := json.Marshal(url)
	k, _ := json.Marshal("Bearer " + key)
	return fmt.Sprintf(`(async () => {
  performance.clearResourceTimings();
  const url = new URL(%s, location.href).href;
  const t0 = performance.now();
  const r = await fetch(url, {headers: {Authorization: %s}, cache: 'no-store'});
  if (!r.ok) throw new Error('fetch ' + url + ': ' + r.status);
  await r.json();
  const parsed = performance.now() - t0;
  const e = performance.getEntriesByName(url).pop();
  return {responseStart: e.responseStart - e.startTime, parsed: parsed, bytes: e.encodedBodySize};
})()`, u, k)
}

func (s *portalSeed) measureBrowser(b *testing.B, views int) {
	br := browsertest.Start(b) // skips without Chromium, unless CI=true
	ctx := br.Context()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		b.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		b.Fatal(err)
	}
	httpOnly := true
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: websession.Cookie, Value: s.session,
		URL: s.h.URL + "/", Path: "/", HTTPOnly: &httpOnly}); err != nil {
		b.Fatal(err)
	}
	// The window is as tall as the grid: a first view measures it.
	br.Do(chromedp.EmulateViewport(portalViewportW, 1000), chromedp.Navigate(s.h.URL+s.gridPage()))
	height, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	if err != nil {
		b.Fatal(err)
	}
	portalViewportH := max(1000, height+200)
	br.Do(chromedp.EmulateViewport(portalViewportW, portalViewportH))
	type pageRun struct {
		label, page, api     string
		resp, load, pictures []float64
		fetchResp, fetchJSON []float64
		images, loaded       int
	}
	runs := []*pageRun{{label: "grid", page: s.gridPage(), api: s.gridAPI(), loaded: math.MaxInt},
		{label: "package", page: s.packagePage(), api: s.packageAPI(), loaded: math.MaxInt}}
	load := loadAvg()
	for i := range portalWarmup + views {
		for j := range runs {
			r := runs[(i+j)%len(runs)]
			br.Do(chromedp.Navigate(s.h.URL + r.page))
			nav, err := chromedp.Run(ctx, chromedp.Evaluate[navTiming](fmt.Sprintf(navScript, portalPictureWait), chromedp.EvalAwaitPromise))
			if err != nil {
				b.Fatalf("%s: navigation timing: %v", r.page, err)
			}
			f, err := chromedp.Run(ctx, chromedp.Evaluate[fetchTiming](fetchScript(r.api, s.key), chromedp.EvalAwaitPromise))
			if err != nil {
				b.Fatalf("%s: fetch: %v", r.api, err)
			}
			if nav.Loaded < nav.Images {
				b.Fatalf("%s: %d of its %d pictures loaded within %d ms", r.page, nav.Loaded, nav.Images, portalPictureWait)
			}
			if i < portalWarmup {
				continue
			}
			r.resp, r.load = append(r.resp, nav.ResponseStart), append(r.load, nav.LoadEventEnd)
			r.pictures = append(r.pictures, max(nav.Pictures, nav.LoadEventEnd))
			r.fetchResp, r.fetchJSON = append(r.fetchResp, f.ResponseStart), append(r.fetchJSON, f.Parsed)
			r.images, r.loaded = nav.Images, min(r.loaded, nav.Loaded)
		}
	}
	b.StopTimer()
	b.ReportMetric(0, "ns/op")
	p := percentile
	var t strings.Builder
	fmt.Fprintf(&t, "\nBenchmarkPortal/browser: Chromium (headless, cache disabled, %dx%d window: every card in view), "+
		"%d views of each page (after %d), taking turns; after each view, a fetch() of the API's URL with the key from that page\n",
		portalViewportW, portalViewportH, views, portalWarmup)
	fmt.Fprintf(&t, "%-8s %-13s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s %10s\n", "", "", "resp p50", "resp p99", "load p50", "load p99",
		"pics p50", "pics p99", "fetch", "fetch", "fetch", "fetch", "pictures")
	fmt.Fprintf(&t, "%-8s %-13s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s %10s\n", "", "", "", "", "", "", "", "",
		"resp p50", "resp p99", "JSON p50", "JSON p99", "loaded")
	for _, r := range runs {
		fmt.Fprintf(&t, "%-8s %-13s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %4d of %2d\n", r.label, "page, API",
			p(r.resp, 50), p(r.resp, 99), p(r.load, 50), p(r.load, 99), p(r.pictures, 50), p(r.pictures, 99),
			p(r.fetchResp, 50), p(r.fetchResp, 99), p(r.fetchJSON, 50), p(r.fetchJSON, 99), r.loaded, r.images)
	}
	for _, r := range runs {
		ratio := func(xs, ys []float64, pc float64) float64 { return p(xs, pc) / p(ys, pc) }
		fmt.Fprintf(&t, "%-8s %-13s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n", r.label, "page/fetch",
			ratio(r.resp, r.fetchResp, 50), ratio(r.resp, r.fetchResp, 99), ratio(r.load, r.fetchJSON, 50), ratio(r.load, r.fetchJSON, 99),
			ratio(r.pictures, r.fetchJSON, 50), ratio(r.pictures, r.fetchJSON, 99))
		b.ReportMetric(ratio(r.resp, r.fetchResp, 50), r.label+"-browser-ttfb-ratio")
		b.ReportMetric(ratio(r.load, r.fetchJSON, 50), r.label+"-browser-load-ratio")
		b.ReportMetric(ratio(r.pictures, r.fetchJSON, 50), r.label+"-browser-render-ratio")
		b.ReportMetric(p(r.pictures, 50), r.label+"-render-p50-ms")
	}
	fmt.Fprintf(&t, "ms from the navigation's (the fetch's) start. resp: responseStart; load: loadEventEnd; pics: every picture "+
		"decoded (Chromium fires load before lazy pictures arrive, even those in view), at least loadEventEnd; "+
		"fetch JSON: until r.json() resolved; pictures loaded: in the worst view, of those on the page\n")
	fmt.Fprintf(&t, "ratios page/fetch: resp / fetch resp, load / fetch JSON, pics / fetch JSON, of the same percentile\n")
	fmt.Fprintf(&t, "load average (1, 5, 15 min) before: %s, after: %s\n", load, loadAvg())
	fmt.Print(t.String())
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
