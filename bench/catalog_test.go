package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/server"
)

// BenchmarkCatalog measures how the hub holds up as its catalog grows.
// For each size in BENCH_CATALOG_SIZES (default 10000,250000) it seeds a
// data dir with that many packages in four campaigns (one in a hundred in
// the small campaign "rare") and four languages, two in three released,
// each document about 5 KiB as a real package's is; then it starts `hub
// serve` as its own process on that data dir and measures, over HTTP:
// the start until /readyz answers 200, the p50/p99 of the issue's
// listings, resident memory, and the write rate of create + upload +
// release. The table puts each size beside the first, as ratios.
//
// Seeding goes around HTTP (through hubtest's in-process hub, straight
// into its catalog: 250,000 packages through the API take an hour on two
// cores); everything measured goes through the API of a separate process.
func BenchmarkCatalog(b *testing.B) {
	sizes := []int{10_000, 250_000}
	if v := os.Getenv("BENCH_CATALOG_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 100 {
				b.Fatalf("BENCH_CATALOG_SIZES: %q is not a size of at least 100", f)
			}
			sizes = append(sizes, n)
		}
	}
	bin := buildHub(b)
	empty := measureCatalog(b, bin, 0)
	var runs []catalogRun
	for _, n := range sizes {
		runs = append(runs, measureCatalog(b, bin, n))
	}
	b.StopTimer()
	printCatalog(b, empty, runs)
}

// catalogRun is what one size measured.
type catalogRun struct {
	packages int
	seed     time.Duration
	// startup is a start on the replica's listing snapshot;
	// wholeBucketStart one without (a new replica's).
	startup          time.Duration
	wholeBucketStart time.Duration
	// listings by name: p50 and p99 of each.
	listings map[string][2]time.Duration
	items    map[string]int // how many packages each listing's page held
	rss      int64          // bytes, VmRSS
	anon     int64          // bytes, RssAnon
	heap     int64          // bytes, go_memstats_heap_inuse_bytes
	writes   float64
	// searchBuild is from the process's start until search answers 200
	// (a full build of the index: the seeding hub's is elsewhere);
	// searchCatchUp the same on a restart, which resumes the index.
	searchBuild, searchCatchUp time.Duration
	searches                   map[string][2]time.Duration
	searchItems                map[string]int
	indexBytes                 int64 // <data-dir>/index/search on disk
}

// catalogSearches are the searches measured: a rare word, a common one
// asked in an inflected form, a Kazakh prefix, and the q filter.
var catalogSearches = []struct{ name, who, path string }{
	{"search rare word", "partner", "/v1/search?q=" + catalogRareWord},
	{"search common word (ru)", "partner", "/v1/search?q=домогательствах"},
	{"search kk prefix", "partner", "/v1/search?q=зорлық"},
	{"search common word, admin", "admin", "/v1/search?q=harassment"},
	{"q listing rare campaign", "partner", "/v1/packages?campaign=rare&q=зомбулук"},
}

// catalogListings are the listings measured, as the table names
// them; with "who" the key they are asked with.
// The targets apply to pages of the default size (hub.DefaultPageSize);
// the admin's page of 500 is shown beside them (500 documents are 500
// KV reads when not cached).
var catalogListings = []struct {
	name, who, path string
	target          bool
}{
	{"partner campaign=rare", "partner", "/v1/packages?campaign=rare", true},
	{"producer rare+kk+released", "producer", "/v1/packages?campaign=rare&language=kk&status=released", true},
	{"partner newest page", "partner", "/v1/packages", true},
	{"admin page of 500", "admin", "/v1/packages?limit=500", false},
}

const (
	catalogWarmup   = 30
	catalogRequests = 400
	catalogWrites   = 300
	catalogSettle   = 10 * time.Second
)

// heapInUse reads the hub's Go heap in use from its metrics.
func heapInUse(b *testing.B, h *hubProcess) int64 {
	b.Helper()
	out, err := h.call(b.Context(), "GET", "/metrics", adminKey, "", http.StatusOK)
	if err != nil {
		b.Logf("metrics: %v", err)
		return 0
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "go_memstats_heap_inuse_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return int64(f)
		}
	}
	return 0
}

func measureCatalog(b *testing.B, bin string, n int) catalogRun {
	b.Helper()
	dir := b.TempDir()
	run := catalogRun{packages: n, listings: map[string][2]time.Duration{}, items: map[string]int{},
		searches: map[string][2]time.Duration{}, searchItems: map[string]int{}}
	start := time.Now()
	seededCatalog(b, dir, n)
	run.seed = time.Since(start)

	// The rate limits would measure themselves.
	flags := []string{"--rate-limit-per-key", "0", "--rate-limit-per-addr", "0"}
	// A replica's first start reads the whole bucket and builds the
	// search index from nothing (the seeding hub's indexes are put
	// aside), and leaves its listing snapshot when it stops; every later
	// start reads that and what changed since.
	if err := os.Remove(filepath.Join(dir, "index", "listings.snapshot")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		b.Fatal(err)
	}
	started := time.Now()
	first := runHub(b, bin, dir, flags...)
	run.wholeBucketStart = first.startup
	run.searchBuild = waitSearch(b, first, started)
	first.stop()
	h := runHub(b, bin, dir, flags...)
	defer h.stop()
	run.startup = h.startup
	producer := h.mustJSON(b, "POST", "/v1/keys", adminKey, `{"role":"producer","name":"bench"}`, http.StatusCreated)["key"].(string)
	outlet := h.mustJSON(b, "POST", "/v1/partners", adminKey, `{"name":"Bench TV","region":"Almaty","medium":"tv","campaigns":["big1","big2","big3","rare"]}`, http.StatusCreated)["id"].(string)
	partner := h.mustJSON(b, "POST", "/v1/keys", adminKey,
		`{"role":"partner","name":"bench","partner":"`+outlet+`"}`, http.StatusCreated)["key"].(string)
	keys := map[string]string{"partner": partner, "producer": producer, "admin": adminKey}
	ctx := b.Context()
	if n > 0 {
		for _, l := range catalogListings {
			// What each listing answers, so a fast empty page cannot pass
			// for a fast full one.
			var page struct {
				Items []json.RawMessage `json:"items"`
			}
			out, err := h.call(ctx, "GET", l.path, keys[l.who], "", http.StatusOK)
			if err != nil || json.Unmarshal(out, &page) != nil {
				b.Fatalf("%s: %v %.200s", l.path, err, out)
			}
			run.items[l.name] = len(page.Items)
			var ds []time.Duration
			for i := range catalogWarmup + catalogRequests {
				t0 := time.Now()
				if _, err := h.call(ctx, "GET", l.path, keys[l.who], "", http.StatusOK); err != nil {
					b.Fatal(err)
				}
				if i >= catalogWarmup {
					ds = append(ds, time.Since(t0))
				}
			}
			slices.Sort(ds)
			run.listings[l.name] = [2]time.Duration{ds[len(ds)/2], ds[len(ds)*99/100]}
		}
	}
	if n > 0 {
		for _, l := range catalogSearches {
			var page struct {
				Items []json.RawMessage `json:"items"`
			}
			out, err := h.call(ctx, "GET", l.path, keys[l.who], "", http.StatusOK)
			if err != nil || json.Unmarshal(out, &page) != nil {
				b.Fatalf("%s: %v %.200s", l.path, err, out)
			}
			run.searchItems[l.name] = len(page.Items)
			run.searches[l.name] = timeRequests(b, h, l.path, keys[l.who])
		}
	}
	// The start's garbage (every document decoded once) is freed but
	// returned to the system only slowly: resident memory is read after
	// the reads and a pause, and the Go heap in use from /metrics beside it.
	time.Sleep(catalogSettle)
	run.rss, run.anon = residentMemory(b, h.pid())
	run.heap = heapInUse(b, h)

	body := strings.Repeat("Жұмыстағы қудалау — қылмыс. ", 40)
	t0 := time.Now()
	for i := range catalogWrites {
		id := h.mustJSON(b, "POST", "/v1/packages", producer,
			`{"campaign":"big1","language":"kk","headlines":[{"value":"Жазу сынағы `+strconv.Itoa(i)+`"}]}`, http.StatusCreated)["id"].(string)
		if _, err := h.putText(ctx, producer, id, "article.txt", body+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
		if _, err := h.call(ctx, "POST", "/v1/packages/"+id+"/release", producer, "", http.StatusOK); err != nil {
			b.Fatal(err)
		}
	}
	run.writes = catalogWrites / time.Since(t0).Seconds()
	run.indexBytes = dirSize(filepath.Join(dir, "index", "search"))
	// A restart resumes the index from the revision it stored.
	h.stop()
	started = time.Now()
	again := runHub(b, bin, dir, flags...)
	run.searchCatchUp = waitSearch(b, again, started)
	again.stop()
	return run
}

// timeRequests returns the p50 and p99 of path asked with key, after a
// warm-up.
func timeRequests(b *testing.B, h *hubProcess, path, key string) [2]time.Duration {
	b.Helper()
	var ds []time.Duration
	for i := range catalogWarmup + catalogRequests {
		t0 := time.Now()
		if _, err := h.call(b.Context(), "GET", path, key, "", http.StatusOK); err != nil {
			b.Fatal(err)
		}
		if i >= catalogWarmup {
			ds = append(ds, time.Since(t0))
		}
	}
	slices.Sort(ds)
	return [2]time.Duration{ds[len(ds)/2], ds[len(ds)*99/100]}
}

// waitSearch polls until search answers (not 503 "index building") and
// returns the time since started.
func waitSearch(b *testing.B, h *hubProcess, started time.Time) time.Duration {
	b.Helper()
	deadline := time.Now().Add(30 * time.Minute)
	for {
		if _, err := h.call(b.Context(), "GET", "/v1/search?q=x", adminKey, "", http.StatusOK); err == nil {
			return time.Since(started)
		} else if time.Now().After(deadline) {
			b.Fatalf("search does not answer after 30 minutes: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dirSize is the bytes of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if info, err := e.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// putText uploads a text asset.
func (h *hubProcess) putText(ctx context.Context, key, id, name, text string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "PUT", h.url+"/v1/packages/"+id+"/assets/"+name, strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("PUT %s: %s", name, resp.Status)
	}
	return nil, nil
}

// seededCatalog fills data dir dir with n packages. With
// BENCH_CATALOG_DIR set, the seeded data dirs are kept there (one per
// size) and copied into dir on later runs: seeding 250,000 packages takes
// minutes, copying them seconds.
func seededCatalog(b *testing.B, dir string, n int) {
	b.Helper()
	keep := os.Getenv("BENCH_CATALOG_DIR")
	if keep == "" {
		seedCatalog(b, dir, n)
		return
	}
	kept := filepath.Join(keep, strconv.Itoa(n))
	if _, err := os.Stat(filepath.Join(kept, ".seeded")); err != nil {
		if err := os.RemoveAll(kept); err != nil {
			b.Fatal(err)
		}
		seedCatalog(b, kept, n)
		if err := os.WriteFile(filepath.Join(kept, ".seeded"), nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.CopyFS(dir, os.DirFS(kept)); err != nil {
		b.Fatalf("copy the seeded catalog: %v", err)
	}
}

// seedCatalog fills data dir dir with n packages: the campaigns through
// the service, the packages straight into the catalog of an in-process
// hub (as the API would store them: ids from the hub, released ones with
// their live copy), eight writers at once.
func seedCatalog(b *testing.B, dir string, n int) {
	b.Helper()
	// The seeding hub's search index is put aside, so the measured hub
	// builds its own from nothing.
	aside := b.TempDir()
	h := hubtest.Start(b, hubtest.Options{DataDir: dir, Configure: func(c *server.Config) { c.AdminKey, c.IndexDir = adminKey, aside }})
	defer h.Stop(b)
	ctx := b.Context()
	admin := h.Admin(b)
	for _, slug := range []string{"big1", "big2", "big3", "rare"} {
		if _, err := h.Service.CreateCampaign(ctx, admin, &hub.Campaign{Slug: slug, Name: "Campaign " + slug, Visibility: hub.VisibilityPartners}); err != nil {
			b.Fatal(err)
		}
	}
	store := h.Server.Catalog()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := store.CreatePackage(ctx, seedPackage(h.Service.NewPackageID(), i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatalf("seed: %v", err)
	}
}

// seedPackage is package i of the seeded catalog: about 8 KiB of JSON
// (texts of some 340 words, see catalogtext_test.go),
// in campaign "rare" one time in a hundred, else one of three large
// ones; in one of four languages; released two times in three.
func seedPackage(id string, i int) *hub.Package {
	campaign := []string{"big1", "big2", "big3"}[i%3]
	if i%100 == 7 {
		campaign = "rare"
	}
	lang := []string{"ru", "kk", "ky", "en"}[(i/3)%4]
	headline, description, body := seedTexts(i, lang)
	now := time.Now().UTC()
	sum := fmt.Sprintf("%064x", i)
	p := &hub.Package{
		ID: id, Campaign: campaign, Language: lang, Version: 1, Status: hub.StatusDraft,
		FirstCreated: now, VersionCreated: now,
		Headlines:    []hub.Text{{Value: fmt.Sprintf("%s (%d)", headline, i)}},
		Descriptions: []hub.Text{{Value: description}},
		Bodies:       []hub.Text{{ContentType: "text/plain", Value: body}},
		Subjects:     []hub.Subject{{Name: "harassment"}, {Name: "article-123"}},
		By:           "Campaign newsroom", UsageTerms: "Free to republish with credit, unchanged.", CopyrightNotice: "© 2026 Campaign",
		Assets: []hub.Asset{
			{Name: "poster.jpg", Type: hub.AssetPicture, ContentType: "image/jpeg", Size: 412_000, SHA256: sum, BlobKey: "blobs/" + sum,
				AltText: "Плакат кампании: женщина у двери", Credit: "Campaign / photo", Uploaded: now},
			{Name: "article.txt", Type: hub.AssetText, ContentType: "text/plain", Size: 2_400, SHA256: sum, BlobKey: "blobs/" + sum, Uploaded: now},
		},
		Blobs: []string{sum},
	}
	if i%3 != 2 {
		p.Status = hub.StatusReleased
		live := *p
		live.Blobs = nil
		p.Live = &live
	}
	return p
}

// residentMemory reads a process's VmRSS and RssAnon.
func residentMemory(b *testing.B, pid int) (rss, anon int64) {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Logf("resident memory: %v", err)
		return 0, 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "RssAnon:":
			anon = kb << 10
		}
	}
	return rss, anon
}

func printCatalog(b *testing.B, empty catalogRun, runs []catalogRun) {
	var t strings.Builder
	fmt.Fprintf(&t, "\ncatalog at scale (empty hub: RSS %.0f MiB, RssAnon %.0f MiB, start %v, writes %.0f/s)\n",
		mib(empty.rss), mib(empty.anon), empty.startup.Round(time.Millisecond), empty.writes)
	fmt.Fprintf(&t, "%-30s", "packages")
	for _, r := range runs {
		fmt.Fprintf(&t, " %22d", r.packages)
	}
	fmt.Fprintf(&t, " %12s\n", "last/first")
	row := func(name string, cell func(r catalogRun) (string, float64)) {
		fmt.Fprintf(&t, "%-30s", name)
		var first, last float64
		for i, r := range runs {
			s, v := cell(r)
			if i == 0 {
				first = v
			}
			last = v
			fmt.Fprintf(&t, " %22s", s)
		}
		if first > 0 {
			fmt.Fprintf(&t, " %12.2f", last/first)
		}
		t.WriteString("\n")
	}
	row("seed (in process)", func(r catalogRun) (string, float64) {
		return r.seed.Round(time.Millisecond).String(), r.seed.Seconds()
	})
	row("start until /readyz 200", func(r catalogRun) (string, float64) {
		return r.startup.Round(time.Millisecond).String(), r.startup.Seconds()
	})
	row("start without a snapshot", func(r catalogRun) (string, float64) {
		return r.wholeBucketStart.Round(time.Millisecond).String(), r.wholeBucketStart.Seconds()
	})
	for _, l := range catalogListings {
		row(l.name+" items", func(r catalogRun) (string, float64) {
			return strconv.Itoa(r.items[l.name]), float64(r.items[l.name])
		})
		row(l.name+" p50", func(r catalogRun) (string, float64) {
			d := r.listings[l.name][0]
			return fmt.Sprintf("%.2f ms", ms(d)), ms(d)
		})
		row(l.name+" p99", func(r catalogRun) (string, float64) {
			d := r.listings[l.name][1]
			return fmt.Sprintf("%.2f ms", ms(d)), ms(d)
		})
	}
	row("search index full build", func(r catalogRun) (string, float64) {
		return r.searchBuild.Round(time.Millisecond).String(), r.searchBuild.Seconds()
	})
	row("search index build rate", func(r catalogRun) (string, float64) {
		v := float64(r.packages) / r.searchBuild.Seconds()
		return fmt.Sprintf("%.0f pkg/s", v), v
	})
	row("search after a restart", func(r catalogRun) (string, float64) {
		return r.searchCatchUp.Round(time.Millisecond).String(), r.searchCatchUp.Seconds()
	})
	row("search index on disk", func(r catalogRun) (string, float64) {
		return fmt.Sprintf("%.0f MiB", mib(r.indexBytes)), mib(r.indexBytes)
	})
	for _, l := range catalogSearches {
		row(l.name+" items", func(r catalogRun) (string, float64) {
			return strconv.Itoa(r.searchItems[l.name]), float64(r.searchItems[l.name])
		})
		row(l.name+" p50", func(r catalogRun) (string, float64) {
			d := r.searches[l.name][0]
			return fmt.Sprintf("%.2f ms", ms(d)), ms(d)
		})
		row(l.name+" p99", func(r catalogRun) (string, float64) {
			d := r.searches[l.name][1]
			return fmt.Sprintf("%.2f ms", ms(d)), ms(d)
		})
	}
	row("writes (create+upload+release)", func(r catalogRun) (string, float64) {
		return fmt.Sprintf("%.0f /s", r.writes), r.writes
	})
	row("RSS", func(r catalogRun) (string, float64) { return fmt.Sprintf("%.0f MiB", mib(r.rss)), mib(r.rss) })
	row("RssAnon", func(r catalogRun) (string, float64) { return fmt.Sprintf("%.0f MiB", mib(r.anon)), mib(r.anon) })
	row("Go heap in use", func(r catalogRun) (string, float64) { return fmt.Sprintf("%.0f MiB", mib(r.heap)), mib(r.heap) })
	row("heap per package above empty", func(r catalogRun) (string, float64) {
		v := float64(r.heap-empty.heap) / float64(r.packages)
		return fmt.Sprintf("%.0f B", v), v
	})
	row("RSS per package above empty", func(r catalogRun) (string, float64) {
		v := float64(r.rss-empty.rss) / float64(r.packages)
		return fmt.Sprintf("%.0f B", v), v
	})
	row("RssAnon per package above empty", func(r catalogRun) (string, float64) {
		v := float64(r.anon-empty.anon) / float64(r.packages)
		return fmt.Sprintf("%.0f B", v), v
	})
	// Printed, not logged: go test keeps ten lines of a benchmark's log.
	fmt.Print(t.String())
	// The metrics are the last size's beside the first's: the targets
	// are ratios between the two (and bounds on the last).
	first, last := runs[0], runs[len(runs)-1]
	b.ReportMetric(0, "ns/op") // the wall time of seeding and measuring means nothing
	b.ReportMetric(float64(first.packages), "first-packages")
	b.ReportMetric(float64(last.packages), "last-packages")
	b.ReportMetric(last.writes/first.writes, "write-ratio")
	b.ReportMetric(float64(last.anon-empty.anon)/float64(last.packages), "anon-B/pkg")
	b.ReportMetric(float64(last.rss-empty.rss)/float64(last.packages), "rss-B/pkg")
	b.ReportMetric(last.startup.Seconds(), "start-s")
	b.ReportMetric(last.wholeBucketStart.Seconds(), "whole-bucket-start-s")
	// The worst listing: its p99 at the last size, and the largest
	// ratio of a listing's p99 between the sizes.
	var worstMS, worstRatio float64
	for _, l := range catalogListings {
		if !l.target {
			continue
		}
		p99 := ms(last.listings[l.name][1])
		worstMS = max(worstMS, p99)
		if f := ms(first.listings[l.name][1]); f > 0 {
			worstRatio = max(worstRatio, p99/f)
		}
	}
	b.ReportMetric(worstMS, "listing-p99-ms")
	b.ReportMetric(worstRatio, "listing-p99-ratio")
	b.ReportMetric(worstFirst(first), "first-listing-p99-ms")
	b.ReportMetric(first.writes, "first-writes/s")
	b.ReportMetric(last.writes, "last-writes/s")
	// The searches likewise: the worst p99 at the last size, the largest
	// ratio between the sizes, and the full build.
	var searchMS, searchRatio float64
	for _, l := range catalogSearches {
		p99 := ms(last.searches[l.name][1])
		searchMS = max(searchMS, p99)
		if f := ms(first.searches[l.name][1]); f > 0 {
			searchRatio = max(searchRatio, p99/f)
		}
	}
	b.ReportMetric(searchMS, "search-p99-ms")
	b.ReportMetric(searchRatio, "search-p99-ratio")
	b.ReportMetric(last.searchBuild.Seconds(), "search-build-s")
	b.ReportMetric(last.searchCatchUp.Seconds(), "search-restart-s")
}

// worstFirst is the largest p99 of the listings with a target.
func worstFirst(r catalogRun) float64 {
	var worst float64
	for _, l := range catalogListings {
		if l.target {
			worst = max(worst, ms(r.listings[l.name][1]))
		}
	}
	return worst
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
