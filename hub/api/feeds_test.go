package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/syndication-hub/hub/feeds"
	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/server"
)

// feedPublicURL is the hub's public URL in these tests; feed links start
// with it and are fetched from the test server instead.
const feedPublicURL = "https://hub.example.org"

// feedAdminKey is the admin key every replica records (HUB_ADMIN_KEY).
const feedAdminKey = "hub_feeds-test-admin-key-0123456789"

// feedReplica is one hub process as `hub serve` wires it for feeds: its
// own catalog index, service, scheduler, feed cache and invalidator, and
// HTTP server, on a NATS and a blob store that all replicas share.
type feedReplica struct {
	URL     string
	svc     *hub.Service
	catalog *catalog.Catalog
	cache   *feeds.Cache
}

// startFeedReplicas starts n replicas (the server package's composition
// root, as `hub serve` runs it) on one NATS server and one blob
// directory, and waits until each one's invalidator watches the release
// stream.
func startFeedReplicas(tb testing.TB, n int) []feedReplica {
	tb.Helper()
	ctx := context.Background()
	cfg := server.Config{
		Addr: "127.0.0.1:0", DataDir: tb.TempDir(), PublicURL: feedPublicURL, NATSURL: natstest.StartExternal(tb),
		NATSReplicas: 1, MaxAssetBytes: hub.DefaultMaxAssetBytes, AdminKey: feedAdminKey,
	}
	if err := cfg.Resolve(); err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var out []feedReplica
	for range n {
		cfg := cfg
		cfg.IndexDir = tb.TempDir() // each replica's own, as in production
		srv, err := server.Start(ctx, cfg, server.Options{Logger: logger})
		if err != nil {
			tb.Fatalf("start a replica: %v", err)
		}
		tb.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			srv.Close(ctx)
		})
		select {
		case <-srv.FeedsReady():
		case <-time.After(10 * time.Second):
			tb.Fatal("the feed invalidator did not start")
		}
		out = append(out, feedReplica{URL: srv.URL(), svc: srv.Service(), catalog: srv.Catalog(), cache: srv.FeedCache()})
	}
	return out
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) { w.tb.Log(string(p)); return len(p), nil }

// feedHub is a replica driven through the test harness's helpers.
type feedHub struct {
	*testHub
	cache *feeds.Cache
}

func newFeedHubs(t *testing.T, n int) []*feedHub {
	t.Helper()
	var out []*feedHub
	for _, r := range startFeedReplicas(t, n) {
		out = append(out, &feedHub{
			testHub: &testHub{t: t, URL: r.URL, admin: feedAdminKey, svc: r.svc, catalog: r.catalog, renditions: true},
			cache:   r.cache,
		})
	}
	return out
}

func newFeedHub(t *testing.T) *feedHub { return newFeedHubs(t, 1)[0] }

// feedPackage makes a package in campaign and language with a headline
// and the given other fields, and uploads a poster to it.
func (h *feedHub) feedPackage(key, campaign, lang, headline string, fields map[string]any) string {
	h.t.Helper()
	body := map[string]any{"campaign": campaign, "language": lang, "headlines": []map[string]string{{"value": headline}}}
	for k, v := range fields {
		body[k] = v
	}
	var out struct{ ID string }
	h.do("POST", "/v1/packages", key, body).expect(h.t, http.StatusCreated).json(h.t, &out)
	h.do("PUT", "/v1/packages/"+out.ID+"/assets/poster.png", key, pngBytes(h.t, 8, 8, 3)).expect(h.t, http.StatusCreated)
	return out.ID
}

// release releases id and waits until this replica's feed cache has
// settled: emptied when the announcement arrived and again once the
// package index showed it. A test that then counts invalidations counts
// only its own.
func (h *feedHub) release(key, id string) {
	h.t.Helper()
	gen := h.cache.Generation()
	var released struct{ Version string } // ninjs: a string
	h.do("POST", "/v1/packages/"+id+"/release", key, nil).expect(h.t, http.StatusOK).json(h.t, &released)
	eventually(h.t, 10*time.Second, "the feed cache to settle after a release", func() bool { return h.cache.Generation() >= gen+2 })
	// The invalidator empties the cache again once this replica's
	// indexes (the listing's and the search index, which follows the
	// bucket on a watch of its own) show the release: other emptyings
	// (a rendition made) can come first, so wait for the indexes, then
	// for the cache to stay as it is for a few of the invalidator's ticks.
	eventually(h.t, 30*time.Second, "this replica's indexes to show the release", func() bool {
		version, _ := strconv.Atoi(released.Version)
		return h.svc.IndexShows(context.Background(), id, hub.EventReleased, version)
	})
	for settled := h.cache.Generation(); ; {
		time.Sleep(60 * time.Millisecond)
		now := h.cache.Generation()
		if now == settled {
			return
		}
		settled = now
	}
}

// feedPartner makes a partner entitled to campaigns, a key of its own
// and a feed token, and returns the partner id, key and token.
func (h *feedHub) feedPartner(name string, campaigns ...string) (id, key, token string) {
	h.t.Helper()
	var p struct{ ID string }
	h.do("POST", "/v1/partners", h.admin, map[string]any{"name": name, "medium": "online", "campaigns": campaigns}).
		expect(h.t, http.StatusCreated).json(h.t, &p)
	var k struct{ Key string }
	h.do("POST", "/v1/keys", h.admin, map[string]any{"role": "partner", "name": name + " ingest", "partner": p.ID}).
		expect(h.t, http.StatusCreated).json(h.t, &k)
	var tok struct{ Token string }
	h.do("POST", "/v1/partners/"+p.ID+"/feedtoken", h.admin, nil).expect(h.t, http.StatusCreated).json(h.t, &tok)
	return p.ID, k.Key, tok.Token
}

// feed fetches a feed without a key and parses it with gofeed.
func (h *feedHub) feed(path string) (*gofeed.Feed, response) {
	h.t.Helper()
	r := h.do("GET", path, "", nil).expect(h.t, http.StatusOK)
	f, err := gofeed.NewParser().Parse(bytes.NewReader(r.body))
	if err != nil {
		h.t.Fatalf("gofeed cannot parse %s: %v\n%s", path, err, r.body)
	}
	return f, r
}

func titles(f *gofeed.Feed) []string {
	var out []string
	for _, it := range f.Items {
		out = append(out, it.Title)
	}
	return out
}

// eventually polls cond until it holds and returns how long that took.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

const (
	kkHeadline = "Жұмыстағы қудалау — қылмыс"
	ruHeadline = "Домогательства на работе — это преступление"
	kyHeadline = "Жумушта куугунтуктоо — кылмыш"
)

var feedExts = map[feeds.Format]string{feeds.RSS: "rss", feeds.Atom: "atom", feeds.JSON: "json"}

// TestFeedsInEveryFormat releases Kazakh, Russian and Kyrgyz packages
// (one withdrawn) through the API and reads the public feeds back with
// gofeed, then follows their asset links without a key.
func TestFeedsInEveryFormat(t *testing.T) {
	h := newFeedHub(t)
	producer := h.key("producer")
	h.do("POST", "/v1/campaigns", producer, map[string]any{"slug": "survivors", "visibility": "partners"}).expect(t, http.StatusCreated)

	ky := h.feedPackage(producer, "korgau123", "ky", kyHeadline, nil)
	h.release(producer, ky)
	h.do("POST", "/v1/packages/"+ky+"/withdraw", producer, nil).expect(t, http.StatusOK)
	ru := h.feedPackage(producer, "korgau123", "ru", ruHeadline, map[string]any{"by": "Добрые вести"})
	h.release(producer, ru)
	kk := h.feedPackage(producer, "korgau123", "kk", kkHeadline, map[string]any{
		"descriptions": []map[string]string{{"value": "Көмекке қайда жүгінуге болады"}},
		"by":           "Dobrye Vesti", "copyrightnotice": "© Dobrye Vesti 2026", "usageterms": "Free to republish with credit",
		"contentwarning": "Қудалау сипатталады.",
	})
	h.do("PUT", "/v1/packages/"+kk+"/assets/infographic.pdf", producer, pdfBytes).expect(t, http.StatusCreated)
	h.do("PATCH", "/v1/packages/"+kk+"/assets/poster.png", producer, map[string]any{
		"caption": "Кампания плакаты", "credit": "Айгерім Н.", "language": "kk", "primary": true,
	}).expect(t, http.StatusOK)
	h.release(producer, kk)
	hidden := h.feedPackage(producer, "survivors", "ru", "Закрытая история", nil)
	h.release(producer, hidden)
	draft := h.feedPackage(producer, "korgau123", "ru", "Черновик", nil)

	// Released, the poster carries its credit (see credit_test.go).
	poster := creditedAs(t, "image/png", pngBytes(t, 8, 8, 3),
		hub.Credit{Credit: "Айгерім Н.", CopyrightNotice: "© Dobrye Vesti 2026", UsageTerms: "Free to republish with credit"})
	posterURL := feedPublicURL + "/v1/packages/" + kk + "/assets/poster.png"
	h.settled() // the poster's thumbnail is made: the feeds show it
	for _, format := range feeds.Formats {
		t.Run(string(format), func(t *testing.T) {
			h := &feedHub{h.with(t), h.cache}
			f, r := h.feed("/feeds/releases." + feedExts[format])
			if ct := r.Header.Get("Content-Type"); ct != format.ContentType() {
				t.Errorf("Content-Type %q", ct)
			}
			want := []string{kkHeadline, ruHeadline, "KILL: " + kyHeadline}
			if got := titles(f); !slices.Equal(got, want) {
				t.Fatalf("titles %q, want %q (nothing partners-only, no draft)", got, want)
			}
			for _, id := range []string{hidden, draft} {
				if bytes.Contains(r.body, []byte(id)) {
					t.Errorf("the public feed shows %s", id)
				}
			}
			item, kill := f.Items[0], f.Items[2]
			if !strings.Contains(item.GUID, kk) || !strings.HasSuffix(item.GUID, "/versions/1") {
				t.Errorf("guid %q does not hold the id and the version", item.GUID)
			}
			if !strings.Contains(item.Description, "Көмекке қайда жүгінуге болады") || !strings.Contains(item.Description, "Қудалау сипатталады.") {
				t.Errorf("summary %q", item.Description)
			}
			i := slices.IndexFunc(item.Enclosures, func(e *gofeed.Enclosure) bool { return e.URL == posterURL })
			if i < 0 || item.Enclosures[i].Type != "image/png" || item.Enclosures[i].Length != fmt.Sprint(len(poster)) {
				t.Fatalf("no enclosure of the primary poster with its type and length: %+v", item.Enclosures)
			}
			if len(kill.Enclosures) != 0 || !strings.Contains(kill.GUID, ky) {
				t.Errorf("kill notice %+v", kill)
			}
			if format != feeds.JSON {
				media := item.Extensions["media"]["content"]
				if len(media) != 2 {
					t.Fatalf("%d media:content, want one per asset", len(media))
				}
				var posterMedia map[string]string
				var children map[string][]string
				for _, m := range media {
					if m.Attrs["url"] == posterURL {
						posterMedia = m.Attrs
						children = map[string][]string{}
						for name, exts := range m.Children {
							for _, e := range exts {
								children[name] = append(children[name], e.Value+e.Attrs["url"]+e.Attrs["scheme"])
							}
						}
					}
				}
				if posterMedia["fileSize"] != fmt.Sprint(len(poster)) || posterMedia["type"] != "image/png" ||
					posterMedia["medium"] != "image" || posterMedia["lang"] != "kk" || posterMedia["isDefault"] != "true" {
					t.Errorf("poster media:content %v", posterMedia)
				}
				for name, v := range map[string]string{
					"description": "Кампания плакаты", "credit": "Айгерім Н.", "copyright": "© Dobrye Vesti 2026",
					"license": "Free to republish with credit", "thumbnail": posterURL + "?rendition=thumbnail",
					"rating": "Қудалау сипатталады.urn:hub:contentwarning",
				} {
					if !slices.Equal(children[name], []string{v}) {
						t.Errorf("media:%s %q, want %q", name, children[name], v)
					}
				}
			}
			// The links are the hub's own, and open without a key.
			dl := h.do("GET", strings.TrimPrefix(posterURL, feedPublicURL), "", nil).expect(t, http.StatusOK)
			if !bytes.Equal(dl.body, poster) {
				t.Error("the enclosure link does not download the poster")
			}
		})
	}

	// Filters.
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"lang=ru", []string{ruHeadline}},
		{"lang=KK", []string{kkHeadline}},
		{"kind=graphic", []string{kkHeadline}},
		{"campaign=korgau123&limit=2", []string{kkHeadline, ruHeadline}},
		{"campaign=korgau123&kind=picture&lang=ky", []string{"KILL: " + kyHeadline}},
	} {
		if f, _ := h.feed("/feeds/releases.rss?" + tc.query); !slices.Equal(titles(f), tc.want) {
			t.Errorf("?%s: %q, want %q", tc.query, titles(f), tc.want)
		}
	}

	// A correction shows as a new item, version 2, at once.
	h.do("PATCH", "/v1/packages/"+kk, producer, map[string]any{"headlines": []map[string]string{{"value": "Түзетілген тақырып"}}}).expect(t, http.StatusOK)
	h.release(producer, kk)
	eventually(t, 5*time.Second, "the correction in the feed", func() bool {
		f, _ := h.feed("/feeds/releases.atom")
		return f.Items[0].Title == "Түзетілген тақырып" && strings.HasSuffix(f.Items[0].GUID, kk+"/versions/2")
	})
}

// TestFeedsNeverShowAnEmbargoedPackageEarly schedules a release and reads
// every feed, public and private, before and after the embargo, without
// a restart.
func TestFeedsNeverShowAnEmbargoedPackageEarly(t *testing.T) {
	h := newFeedHub(t)
	producer := h.key("producer")
	_, _, token := h.feedPartner("Almaty TV")
	id := h.feedPackage(producer, "korgau123", "kk", kkHeadline, nil)
	var paths []string
	for _, ext := range feedExts {
		paths = append(paths, "/feeds/releases."+ext, "/feeds/releases."+ext+"?campaign=korgau123&lang=kk", "/feeds/p/"+token+"/releases."+ext)
	}
	embargo := time.Now().Add(1500 * time.Millisecond).Truncate(time.Second).Add(time.Second)
	h.do("POST", "/v1/packages/"+id+"/release", producer, map[string]string{"embargo": embargo.Format(time.RFC3339)}).expect(t, http.StatusOK)
	for time.Until(embargo) > 150*time.Millisecond {
		for _, p := range paths {
			if r := h.do("GET", p, "", nil).expect(t, http.StatusOK); bytes.Contains(r.body, []byte(id)) {
				t.Fatalf("%s shows the package %v before its embargo", p, time.Until(embargo))
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Each feed is polled in turn, so the first delay is the embargo's
	// own; the others add the fetches before them.
	var delays []string
	for _, p := range paths {
		eventually(t, 5*time.Second, p+" after the embargo", func() bool {
			return bytes.Contains(h.do("GET", p, "", nil).expect(t, http.StatusOK).body, []byte(id))
		})
		delays = append(delays, time.Since(embargo).Round(time.Millisecond).String())
	}
	t.Logf("%d feeds (public, filtered, private; 3 formats) show the package after the embargo; polled in turn, at %s",
		len(paths), strings.Join(delays, ", "))
}

// TestReleaseReachesFeedsOnBothReplicas primes the feed caches of two
// replicas, releases on one, and measures when each replica's feeds show
// the package: the other replica learns of it only from the stream.
func TestReleaseReachesFeedsOnBothReplicas(t *testing.T) {
	hubs := newFeedHubs(t, 2)
	a, b := hubs[0], hubs[1]
	producer := a.key("producer")
	a.do("POST", "/v1/campaigns", producer, map[string]any{"slug": "survivors", "visibility": "partners"}).expect(t, http.StatusCreated)
	_, _, token := a.feedPartner("Bishkek Online", "survivors")
	old := a.feedPackage(producer, "korgau123", "ru", ruHeadline, nil)
	a.release(producer, old)

	matching := []string{"/feeds/p/" + token + "/releases.rss?campaign=survivors"}
	for _, ext := range feedExts {
		matching = append(matching, "/feeds/p/"+token+"/releases."+ext, "/feeds/p/"+token+"/releases."+ext+"?lang=kk&kind=picture")
	}
	notMatching := []string{"/feeds/releases.rss", "/feeds/p/" + token + "/releases.rss?lang=ru"}
	// Prime every cache, and wait until the other replica's catalog knows
	// the token (its partner index follows a watch).
	for _, h := range hubs {
		eventually(t, 5*time.Second, "the token on every replica", func() bool {
			return h.do("GET", matching[0], "", nil).StatusCode == http.StatusOK
		})
		for _, p := range append(slices.Clone(matching), notMatching...) {
			h.do("GET", p, "", nil).expect(t, http.StatusOK)
		}
	}
	genA, genB := a.cache.Generation(), b.cache.Generation()

	id := a.feedPackage(producer, "survivors", "kk", kkHeadline, nil)
	// Watch both caches' generations from before the release call.
	invalidated := make([]time.Duration, len(hubs))
	released := time.Now()
	var watchers sync.WaitGroup
	for i, h := range hubs {
		gen := []uint64{genA, genB}[i]
		watchers.Go(func() {
			for h.cache.Generation() == gen && time.Since(released) < 5*time.Second {
				time.Sleep(100 * time.Microsecond)
			}
			invalidated[i] = time.Since(released)
		})
	}
	// The bare call: a.release would also wait for its own cache to
	// settle, which is not what this times.
	a.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
	releaseCall := time.Since(released)
	watchers.Wait()
	var wg sync.WaitGroup
	delays := make([][]time.Duration, len(hubs))
	for i, h := range hubs {
		wg.Go(func() {
			for _, p := range matching {
				start := time.Now()
				for !bytes.Contains(h.do("GET", p, "", nil).expect(t, http.StatusOK).body, []byte(id)) {
					if time.Since(start) > 5*time.Second {
						t.Errorf("replica %d: %s does not show the release after 5 s", i, p)
						return
					}
					time.Sleep(time.Millisecond)
				}
				delays[i] = append(delays[i], time.Since(released))
			}
		})
	}
	wg.Wait()
	t.Logf("POST .../release on replica 0 took %v (state written, announcement acknowledged by the stream)", releaseCall.Round(time.Microsecond))
	for i := range hubs {
		if len(delays[i]) > 0 {
			t.Logf("replica %d: cache invalidated %v after the release call began; first matching feed shows it after %v, all %d (polled in turn) after %v",
				i, invalidated[i].Round(time.Microsecond), delays[i][0].Round(time.Microsecond), len(matching), slices.Max(delays[i]).Round(time.Microsecond))
		}
	}
	if a.cache.Generation() == genA || b.cache.Generation() == genB {
		t.Error("a cache was not invalidated by the release stream")
	}
	for _, h := range hubs {
		for _, p := range notMatching {
			if bytes.Contains(h.do("GET", p, "", nil).expect(t, http.StatusOK).body, []byte(id)) {
				t.Errorf("%s shows a package it does not match", p)
			}
		}
	}
	// Both replicas render the same bytes, so a reader behind a load
	// balancer keeps getting 304s whichever answers.
	ra := a.do("GET", matching[1], "", nil, "Accept-Encoding", "identity")
	rb := b.do("GET", matching[1], "", nil, "Accept-Encoding", "identity")
	if ra.Header.Get("ETag") != rb.Header.Get("ETag") {
		t.Errorf("the replicas' ETags differ: %s, %s", ra.Header.Get("ETag"), rb.Header.Get("ETag"))
	}
	b.do("GET", matching[1], "", nil, "If-None-Match", ra.Header.Get("ETag")).expect(t, http.StatusNotModified)
}

func TestFeedRefusals(t *testing.T) {
	h := newFeedHub(t)
	producer := h.key("producer")
	h.do("POST", "/v1/campaigns", producer, map[string]any{"slug": "survivors", "visibility": "partners"}).expect(t, http.StatusCreated)
	id := h.feedPackage(producer, "korgau123", "ru", ruHeadline, nil)
	h.release(producer, id)
	partnerID, _, token := h.feedPartner("Almaty TV")
	// A token replaced by a new one is revoked.
	otherID, _, revoked := h.feedPartner("Karakol FM")
	h.do("POST", "/v1/partners/"+otherID+"/feedtoken", h.admin, nil).expect(t, http.StatusCreated)
	for _, tc := range []struct {
		path   string
		status int
		detail string
	}{
		{"/feeds/releases.xml", 404, "no feed format"},
		{"/feeds/releases.RSS", 404, "no feed format"},
		{"/feeds/p/" + token + "/releases.html", 404, "no feed format"},
		{"/feeds/releases.rss?campaign=nosuch", 404, "no campaign"},
		{"/feeds/releases.rss?campaign=Not%20a%20slug", 404, "no campaign"},
		{"/feeds/releases.atom?campaign=survivors", 404, "no campaign"},
		{"/feeds/p/" + token + "/releases.json?campaign=survivors", 404, "no campaign"},
		{"/feeds/releases.rss?limit=0", 400, "limit"},
		{"/feeds/releases.rss?limit=1000", 400, "limit"},
		{"/feeds/releases.rss?limit=201", 400, "limit"},
		{"/feeds/releases.rss?limit=many", 400, "limit"},
		{"/feeds/releases.json?kind=poster", 400, "kind"},
		{"/feeds/releases.json?lang=not-a-language-tag", 400, "language"},
		{"/feeds/p/hubfeed_unknown/releases.rss", 404, "no feed"},
		{"/feeds/p/" + strings.Replace(token, "_", "-", 1) + "/releases.rss", 404, "no feed"},
		{"/feeds/p/" + revoked + "/releases.rss", 404, "no feed"},
		{"/feeds/p//releases.rss", 404, ""},
	} {
		r := h.do("GET", tc.path, "", nil).expect(t, tc.status)
		if p := r.problem(t); !strings.Contains(p.Detail, tc.detail) {
			t.Errorf("%s: detail %q does not say %q", tc.path, p.Detail, tc.detail)
		}
	}
	h.do("GET", "/feeds/releases.rss?limit=200", "", nil).expect(t, http.StatusOK)
	h.do("GET", "/feeds/releases.rss?limit=1", "", nil).expect(t, http.StatusOK)
	if r := h.do("HEAD", "/feeds/releases.xml", "", nil).expect(t, http.StatusNotFound); len(r.body) != 0 {
		t.Error("HEAD answered with a body")
	}
	// A deactivated partner's feed is gone, as if it never was.
	h.do("GET", "/feeds/p/"+token+"/releases.rss", "", nil).expect(t, http.StatusOK)
	h.do("PATCH", "/v1/partners/"+partnerID, h.admin, map[string]any{"active": false}).expect(t, http.StatusOK)
	h.do("GET", "/feeds/p/"+token+"/releases.rss", "", nil).expect(t, http.StatusNotFound).problem(t)
}

// TestFeedCaching checks the validators, 304s, gzip, and that a release
// (and nothing else) makes a new rendering.
func TestFeedCaching(t *testing.T) {
	h := newFeedHub(t)
	producer := h.key("producer")
	h.release(producer, h.feedPackage(producer, "korgau123", "kk", kkHeadline, nil))
	const path = "/feeds/releases.rss"
	// A rendition becoming ready is a new rendering too (its thumbnail);
	// every package here has the same poster, so this is the only one.
	h.settled()

	first := h.do("GET", path, "", nil, "Accept-Encoding", "identity").expect(t, http.StatusOK)
	etag, lastModified := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
	if len(etag) != 66 || strings.HasPrefix(etag, "W/") || lastModified == "" {
		t.Fatalf("validators: ETag %q, Last-Modified %q", etag, lastModified)
	}
	for k, v := range map[string]string{
		"Content-Type": "application/rss+xml; charset=utf-8", "Vary": "Accept-Encoding", "Cache-Control": "public, no-cache",
	} {
		if got := first.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	gen := h.cache.Generation()
	h.do("GET", path, "", nil, "If-None-Match", etag).expect(t, http.StatusNotModified)
	h.do("GET", path, "", nil, "If-Modified-Since", lastModified).expect(t, http.StatusNotModified)
	h.do("HEAD", path, "", nil, "If-None-Match", etag).expect(t, http.StatusNotModified)
	if r := h.do("GET", path, "", nil, "Accept-Encoding", "identity"); !bytes.Equal(r.body, first.body) || r.Header.Get("ETag") != etag {
		t.Error("a second request got other bytes")
	}

	zipped := h.do("GET", path, "", nil, "Accept-Encoding", "gzip").expect(t, http.StatusOK)
	if zipped.Header.Get("Content-Encoding") != "gzip" || zipped.Header.Get("ETag") == etag {
		t.Fatalf("gzip answer: %v", zipped.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped.body))
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := io.ReadAll(zr); !bytes.Equal(plain, first.body) {
		t.Error("the gzip answer is not the feed")
	}
	h.do("GET", path, "", nil, "Accept-Encoding", "gzip", "If-None-Match", zipped.Header.Get("ETag")).expect(t, http.StatusNotModified)
	if h.cache.Generation() != gen {
		t.Error("the cache was invalidated without a release")
	}

	// A release invalidates: the old validators no longer match.
	h.release(producer, h.feedPackage(producer, "korgau123", "ru", ruHeadline, nil))
	eventually(t, 5*time.Second, "a new rendering", func() bool {
		return h.do("GET", path, "", nil, "If-None-Match", etag).StatusCode == http.StatusOK
	})
	time.Sleep(1100 * time.Millisecond) // Last-Modified has whole seconds
	h.do("GET", path, "", nil, "If-Modified-Since", lastModified).expect(t, http.StatusOK)
}

// TestPrivateFeeds: a partner's feed shows its partners-only campaigns
// beside the public ones; the public feed does not; tokens are issued by
// an admin or the partner itself, replaced and revoked.
func TestPrivateFeeds(t *testing.T) {
	h := newFeedHub(t)
	producer := h.key("producer")
	h.do("POST", "/v1/campaigns", producer, map[string]any{"slug": "survivors", "visibility": "partners"}).expect(t, http.StatusCreated)
	closed := h.feedPackage(producer, "survivors", "ru", "Закрытая история", nil)
	open := h.feedPackage(producer, "korgau123", "kk", kkHeadline, nil)
	h.release(producer, closed)
	h.release(producer, open)
	partnerID, partnerKey, _ := h.feedPartner("Almaty TV", "survivors")
	_, otherKey, _ := h.feedPartner("Bishkek Online")

	// The partner issues its own token; the one the admin issued is revoked.
	var tok struct{ Token, RSS, Atom, JSON string }
	h.do("POST", "/v1/partners/"+partnerID+"/feedtoken", partnerKey, nil).expect(t, http.StatusCreated).json(t, &tok)
	if !strings.HasPrefix(tok.Token, "hubfeed_") || tok.RSS != feedPublicURL+"/feeds/p/"+tok.Token+"/releases.rss" ||
		tok.Atom != feedPublicURL+"/feeds/p/"+tok.Token+"/releases.atom" || tok.JSON != feedPublicURL+"/feeds/p/"+tok.Token+"/releases.json" {
		t.Fatalf("feed token answer %+v", tok)
	}
	h.do("POST", "/v1/partners/"+partnerID+"/feedtoken", otherKey, nil).expect(t, http.StatusNotFound).problem(t)
	h.do("POST", "/v1/partners/"+partnerID+"/feedtoken", producer, nil).expect(t, http.StatusForbidden).problem(t)
	h.do("POST", "/v1/partners/"+partnerID+"/feedtoken", "", nil).expect(t, http.StatusUnauthorized).problem(t)
	h.do("POST", "/v1/partners/01JD3Z8Q4VJ5K6XW0M2N7P9RST/feedtoken", h.admin, nil).expect(t, http.StatusNotFound).problem(t)

	for _, format := range feeds.Formats {
		private, _ := h.feed(strings.TrimPrefix(map[feeds.Format]string{feeds.RSS: tok.RSS, feeds.Atom: tok.Atom, feeds.JSON: tok.JSON}[format], feedPublicURL))
		if got := titles(private); !slices.Equal(got, []string{kkHeadline, "Закрытая история"}) {
			t.Errorf("%s private feed: %q", format, got)
		}
		public, _ := h.feed("/feeds/releases." + feedExts[format])
		if got := titles(public); !slices.Equal(got, []string{kkHeadline}) {
			t.Errorf("%s public feed: %q", format, got)
		}
	}
	r := h.do("GET", "/feeds/p/"+tok.Token+"/releases.rss?campaign=survivors", "", nil).expect(t, http.StatusOK)
	if r.Header.Get("Cache-Control") != "private, no-cache" || !bytes.Contains(r.body, []byte("Almaty TV")) {
		t.Errorf("private feed headers %v", r.Header)
	}

	// Losing the entitlement changes the private feed at once, without
	// any release.
	h.do("PATCH", "/v1/partners/"+partnerID, h.admin, map[string]any{"campaigns": []string{}}).expect(t, http.StatusOK)
	if f, _ := h.feed("/feeds/p/" + tok.Token + "/releases.rss"); !slices.Equal(titles(f), []string{kkHeadline}) {
		t.Errorf("after the entitlement ended: %q", titles(f))
	}
	h.do("GET", "/feeds/p/"+tok.Token+"/releases.rss?campaign=survivors", "", nil).expect(t, http.StatusNotFound)
	// A campaign made public joins the public feed at once.
	h.do("PATCH", "/v1/campaigns/survivors", producer, map[string]any{"visibility": "public"}).expect(t, http.StatusOK)
	if f, _ := h.feed("/feeds/releases.json"); len(f.Items) != 2 {
		t.Errorf("after the campaign turned public: %q", titles(f))
	}

	h.do("DELETE", "/v1/partners/"+partnerID+"/feedtoken", partnerKey, nil).expect(t, http.StatusNoContent)
	h.do("GET", "/feeds/p/"+tok.Token+"/releases.rss", "", nil).expect(t, http.StatusNotFound).problem(t)
	h.do("DELETE", "/v1/partners/"+partnerID+"/feedtoken", h.admin, nil).expect(t, http.StatusNoContent)
}

// TestPublicAssetsDownloadWithoutKey: the feeds' asset links work without
// a key for released packages of public campaigns; for anything else a
// keyless caller is told to send a key (401), never more, and every other
// /v1 call still needs one.
func TestPublicAssetsDownloadWithoutKey(t *testing.T) {
	h := newFeedHub(t)
	producer := h.key("producer")
	h.do("POST", "/v1/campaigns", producer, map[string]any{"slug": "survivors", "visibility": "partners"}).expect(t, http.StatusCreated)
	open := h.feedPackage(producer, "korgau123", "ru", ruHeadline, nil)
	closed := h.feedPackage(producer, "survivors", "ru", ruHeadline, nil)
	withdrawn := h.feedPackage(producer, "korgau123", "ru", ruHeadline, nil)
	draft := h.feedPackage(producer, "korgau123", "ru", ruHeadline, nil)
	for _, id := range []string{open, closed, withdrawn} {
		h.release(producer, id)
	}
	h.do("POST", "/v1/packages/"+withdrawn+"/withdraw", producer, nil).expect(t, http.StatusOK)
	asset := func(id string) string { return "/v1/packages/" + id + "/assets/poster.png" }

	r := h.do("GET", asset(open), "", nil).expect(t, http.StatusOK)
	if !bytes.Equal(r.body, pngBytes(t, 8, 8, 3)) || r.Header.Get("Content-Type") != "image/png" {
		t.Errorf("keyless download: %v", r.Header)
	}
	h.do("HEAD", asset(open), "", nil).expect(t, http.StatusOK)
	h.do("GET", asset(open), "", nil, "Range", "bytes=0-3").expect(t, http.StatusPartialContent)
	for name, path := range map[string]string{
		"partners-only": asset(closed), "withdrawn": asset(withdrawn), "draft": asset(draft),
		"unknown package": asset("01JD3Z8Q4VJ5K6XW0M2N7P9RST"), "malformed id": asset("nope"),
		"unknown asset": "/v1/packages/" + open + "/assets/other.png",
	} {
		r := h.do("GET", path, "", nil).expect(t, http.StatusUnauthorized)
		if p := r.problem(t); !strings.Contains(p.Detail, "needs a key") || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %+v %v", name, p, r.Header)
		}
	}
	// With a key, nothing changes: a hidden package is a 404.
	loose := h.key("partner")
	h.do("GET", asset(closed), loose, nil).expect(t, http.StatusNotFound)
	h.do("GET", asset(open), loose, nil).expect(t, http.StatusOK)
	h.do("GET", asset(open), "hub_not-a-key", nil).expect(t, http.StatusUnauthorized)
	h.do("GET", asset(draft), producer, nil).expect(t, http.StatusOK)
	// Every other /v1 call still needs a key.
	for _, p := range []string{"/v1/packages/" + open, "/v1/packages", "/v1/packages/" + open + "/versions/1", "/v1/releases", "/v1/campaigns"} {
		h.do("GET", p, "", nil).expect(t, http.StatusUnauthorized)
	}
	h.do("PUT", asset(open), "", pngBytes(t, 4, 4, 1)).expect(t, http.StatusUnauthorized)
}

// BenchmarkFeedVsStaticFile serves a cached 50-item RSS feed through the
// whole hub (Echo, middleware, visibility fingerprint, cache) and the
// same bytes from a file through http.FileServer, each over real HTTP
// with many keep-alive clients for a fixed time, for the full body and
// for the 304 answer. Run it once:
//
//	go test ./hub/api -run '^$' -bench FeedVsStaticFile -benchtime 1x
func BenchmarkFeedVsStaticFile(b *testing.B) {
	const (
		items   = 50
		clients = 32
	)
	phase := 2 * time.Second
	if testing.Short() {
		phase = 300 * time.Millisecond
	}
	r := startFeedReplicas(b, 1)[0]
	ctx := context.Background()
	admin, err := r.svc.Authenticate(ctx, feedAdminKey)
	if err != nil {
		b.Fatal(err)
	}
	poster := pngBytes(b, 16, 16, 7)
	for i := range items {
		p, err := r.svc.CreatePackage(ctx, admin, &hub.Package{
			Campaign: "korgau123", Language: []string{"kk", "ky", "ru"}[i%3],
			Headlines:    []hub.Text{{Value: fmt.Sprintf("%s №%d", kkHeadline, i)}},
			Descriptions: []hub.Text{{Value: "Көмекке қайда жүгінуге болады: сенім телефондары мен заң кеңесі."}},
			By:           "Dobrye Vesti", UsageTerms: "Free to republish with credit", CopyrightNotice: "© Dobrye Vesti 2026",
		})
		if err != nil {
			b.Fatal(err)
		}
		for _, name := range []string{"Плакат.png", "poster-web.png"} {
			if _, _, err := r.svc.PutAsset(ctx, admin, p.ID, hub.AssetUpload{Name: name, Body: bytes.NewReader(poster), Size: int64(len(poster))}); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := r.svc.Release(ctx, admin, p.ID, nil); err != nil {
			b.Fatal(err)
		}
	}
	feedURL := r.URL + "/feeds/releases.rss"
	// Wait for the last release's invalidation, then fill the cache.
	var body []byte
	var etag string
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(feedURL)
		if err != nil {
			b.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		etag = resp.Header.Get("ETag")
		if bytes.Count(body, []byte("<item>")) == items {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the feed has %d items, want %d", bytes.Count(body, []byte("<item>")), items)
		}
		time.Sleep(20 * time.Millisecond)
	}
	gen := r.cache.Generation()

	dir := b.TempDir()
	file := filepath.Join(dir, "releases.rss")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil {
		b.Fatal(err)
	}
	static := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer static.Close()
	staticURL := static.URL + "/releases.rss"
	modified := st.ModTime().UTC().Format(http.TimeFormat)

	// The two servers take turns in short slices, so that a change in
	// the machine's load (other processes) falls on both alike.
	const slices = 4
	compare := func(status int, hubHeader, staticHeader []string) (hubRPS, staticRPS float64) {
		var hubN, staticN float64
		var hubT, staticT time.Duration
		for range slices {
			for _, side := range []struct {
				url    string
				header []string
				n      *float64
				d      *time.Duration
			}{{feedURL, hubHeader, &hubN, &hubT}, {staticURL, staticHeader, &staticN, &staticT}} {
				n, d, err := hammer(side.url, status, clients, phase/slices, side.header...)
				if err != nil {
					b.Fatal(err)
				}
				*side.n += float64(n)
				*side.d += d
			}
		}
		return hubN / hubT.Seconds(), staticN / staticT.Seconds()
	}
	b.ResetTimer()
	for range b.N {
		hubFull, staticFull := compare(http.StatusOK, nil, nil)
		hub304, static304 := compare(http.StatusNotModified, []string{"If-None-Match", etag}, []string{"If-Modified-Since", modified})
		b.ReportMetric(hubFull, "hub-200-req/s")
		b.ReportMetric(staticFull, "static-200-req/s")
		b.ReportMetric(hubFull/staticFull, "ratio-200")
		b.ReportMetric(hub304, "hub-304-req/s")
		b.ReportMetric(static304, "static-304-req/s")
		b.ReportMetric(hub304/static304, "ratio-304")
		b.Logf("%d-item RSS feed, %d bytes, %d keep-alive clients, %v per server and answer, in %d alternating slices", items, len(body), clients, phase, slices)
		b.Logf("full body: hub %.0f req/s, static file %.0f req/s, ratio %.2f (target >= 0.5)", hubFull, staticFull, hubFull/staticFull)
		b.Logf("304:       hub %.0f req/s, static file %.0f req/s, ratio %.2f (target >= 1)", hub304, static304, hub304/static304)
	}
	b.StopTimer()
	if r.cache.Generation() != gen {
		b.Error("the cache was invalidated during the measurement")
	}
}

// hammer sends GETs to url from clients keep-alive connections for d and
// returns how many answers came with the wanted status, and in how long.
// Compression is off, so both servers send the same bytes.
func hammer(url string, status, clients int, d time.Duration, header ...string) (int64, time.Duration, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var done atomic.Int64
	var failure atomic.Value
	start := time.Now()
	stop := start.Add(d)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for time.Now().Before(stop) {
				req, _ := http.NewRequest("GET", url, nil)
				for i := 0; i+1 < len(header); i += 2 {
					req.Header.Set(header[i], header[i+1])
				}
				resp, err := client.Do(req)
				if err != nil {
					failure.Store(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != status {
					failure.Store(fmt.Errorf("GET %s: %d, want %d", url, resp.StatusCode, status))
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if err, _ := failure.Load().(error); err != nil {
		return 0, 0, err
	}
	return done.Load(), time.Since(start), nil
}
