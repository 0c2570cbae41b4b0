package pull_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/hub/ninjs"
	"github.com/syndication-hub/hub/hub/ninjs/ninjstest"
	"github.com/syndication-hub/hub/hubclient"
	"github.com/syndication-hub/hub/pull"
)

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func readState(t *testing.T, dest string) pull.State {
	t.Helper()
	var s pull.State
	b, err := os.ReadFile(filepath.Join(dest, pull.StateDir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPullMirrorsReleaseCorrectionWithdrawalAndPurge runs `hub pull`
// without --follow after each change, as a cron job would.
func TestPullMirrorsReleaseCorrectionWithdrawalAndPurge(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, hubtest.Options{})
	poster, article := png("poster", 5000), []byte("Текст статьи.\n")
	id := e.publish(t, "korgau123", "ru", "Домогательства на работе — это преступление", map[string][]byte{
		"Плакат кампании.png": poster, "статья.txt": article, "package.json": []byte("an asset named like the sidecar\n"),
		"ninjs.json": []byte("an asset named like the ninjs sidecar\n"),
	})
	e.pull(t, nil, pull.Options{})
	dir := e.dir("korgau123", "ru", id)
	got := files(t, dir)
	if !bytes.Equal(got["Плакат кампании.png"], poster) || !bytes.Equal(got["статья.txt"], article) || string(got["_package.json"]) != "an asset named like the sidecar\n" ||
		string(got["_ninjs.json"]) != "an asset named like the ninjs sidecar\n" {
		t.Fatalf("first pull mirrored %v", keys(got))
	}
	var side map[string]any
	if err := json.Unmarshal(got["package.json"], &side); err != nil || side["id"] != id || side["version"] != "1" {
		t.Fatalf("sidecar %s: %v", got["package.json"], err)
	}
	ninjstest.Profile(t).Assert(t, "package.json", got["package.json"])
	var strict ninjs.StrictItem
	if err := json.Unmarshal(got["ninjs.json"], &strict); err != nil || strict.URI != side["uri"] || strict.Version != "1" ||
		strict.PubStatus != "usable" || len(strict.Associations) != 4 {
		t.Fatalf("ninjs sidecar %s: %v", got["ninjs.json"], err)
	}
	ninjstest.AssertStrict(t, "ninjs.json", got["ninjs.json"])
	if left := files(t, filepath.Join(e.dest, pull.StateDir, "partial")); len(left) != 0 {
		t.Errorf("partial files left: %v", keys(left))
	}
	st := readState(t, e.dest)
	if st.Cursor == "" || st.Packages[id].Version != 1 || st.Packages[id].Status != "released" {
		t.Errorf("state %+v", st)
	}

	// A run with nothing new downloads nothing.
	before := len(e.hub.Requests("GET", "/assets/"))
	e.pull(t, nil, pull.Options{})
	if n := len(e.hub.Requests("GET", "/assets/")) - before; n != 0 {
		t.Errorf("an idle run downloaded %d assets", n)
	}

	// A correction: one asset changes, the headline too.
	poster2 := png("poster, corrected", 5000)
	e.upload(t, id, map[string][]byte{"Плакат кампании.png": poster2})
	headline := "Домогательства на работе — преступление (исправлено)"
	if _, err := e.producer.UpdatePackage(ctx, id, hubclient.PackageFields{Headlines: &[]hub.Text{{Value: headline}}}); err != nil {
		t.Fatal(err)
	}
	e.release(t, id)
	before = len(e.hub.Requests("GET", "/assets/"))
	e.pull(t, nil, pull.Options{})
	got = files(t, dir)
	if !bytes.Equal(got["Плакат кампании.png"], poster2) || !bytes.Equal(got["статья.txt"], article) ||
		!bytes.Contains(got["package.json"], []byte("исправлено")) {
		t.Errorf("after the correction: %v", keys(got))
	}
	if !bytes.Equal(got[".versions/1/Плакат кампании.png"], poster) || !bytes.Equal(got[".versions/1/статья.txt"], article) ||
		!bytes.Contains(got[".versions/1/package.json"], []byte(`"version": "1"`)) ||
		!bytes.Contains(got[".versions/1/ninjs.json"], []byte(`"version": "1"`)) {
		t.Errorf("the first version was not kept aside: %v", keys(got))
	}
	if !bytes.Contains(got["ninjs.json"], []byte(`"version": "2"`)) || !bytes.Contains(got["ninjs.json"], []byte("исправлено")) {
		t.Errorf("ninjs.json after the correction: %s", got["ninjs.json"])
	}
	ninjstest.Profile(t).Assert(t, "package.json of the correction", got["package.json"])
	ninjstest.AssertStrict(t, "ninjs.json of the correction", got["ninjs.json"])
	if downloads := e.hub.Requests("GET", "/assets/")[before:]; len(downloads) != 1 {
		t.Errorf("the correction downloaded %d assets, want only the changed one: %v", len(downloads), downloads)
	}

	// Withdrawal: the files go, the notice stays.
	if _, err := e.producer.Withdraw(ctx, id); err != nil {
		t.Fatal(err)
	}
	e.pull(t, nil, pull.Options{})
	got = files(t, dir)
	if !slices.Equal(keys(got), []string{"WITHDRAWN.txt", "ninjs.json", "package.json"}) {
		t.Fatalf("after the withdrawal the folder holds %v", keys(got))
	}
	if !bytes.Contains(got["ninjs.json"], []byte(`"pubstatus": "canceled"`)) {
		t.Errorf("ninjs.json after the withdrawal: %s", got["ninjs.json"])
	}
	ninjstest.Profile(t).Assert(t, "package.json of the withdrawal", got["package.json"])
	ninjstest.AssertStrict(t, "ninjs.json of the withdrawal", got["ninjs.json"])
	if n := string(got["WITHDRAWN.txt"]); !strings.Contains(n, "WITHDRAWN - DO NOT USE") || !strings.Contains(n, headline) || !strings.Contains(n, id) {
		t.Errorf("notice:\n%s", n)
	}
	if !bytes.Contains(got["package.json"], []byte(`"status": "withdrawn"`)) {
		t.Errorf("sidecar after the withdrawal: %s", got["package.json"])
	}

	// Purge: the notice says so and names nobody.
	if _, err := e.producer.Purge(ctx, id); err != nil {
		t.Fatal(err)
	}
	e.pull(t, nil, pull.Options{})
	got = files(t, dir)
	if n := string(got["WITHDRAWN.txt"]); !strings.Contains(n, "PURGED") || strings.Contains(n, "Домогательства") {
		t.Errorf("purge notice:\n%s", n)
	}
	if bytes.Contains(got["package.json"], []byte("Домогательства")) || bytes.Contains(got["ninjs.json"], []byte("Домогательства")) {
		t.Errorf("the sidecars keep the purged headline: %s\n%s", got["package.json"], got["ninjs.json"])
	}
	ninjstest.Profile(t).Assert(t, "package.json of the purge", got["package.json"])
	ninjstest.AssertStrict(t, "ninjs.json of the purge", got["ninjs.json"])
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestPullCatchesUpToTheLatestVersionOnly: an outlet away during a
// release, a correction and another package's withdrawal mirrors version
// 2 once and never the withdrawn package.
func TestPullCatchesUpToTheLatestVersionOnly(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, hubtest.Options{})
	id := e.publish(t, "korgau123", "kk", "Жұмыстағы қудалау — қылмыс", map[string][]byte{"poster.png": png("v1", 100)})
	e.upload(t, id, map[string][]byte{"poster.png": png("v2", 100)})
	e.release(t, id)
	gone := e.publish(t, "korgau123", "kk", "Withdrawn soon", map[string][]byte{"x.png": png("x", 100)})
	if _, err := e.producer.Withdraw(ctx, gone); err != nil {
		t.Fatal(err)
	}
	e.pull(t, nil, pull.Options{})
	if got := files(t, e.dir("korgau123", "kk", id)); !bytes.Equal(got["poster.png"], png("v2", 100)) ||
		!slices.Equal(keys(got), []string{"ninjs.json", "package.json", "poster.png"}) {
		t.Errorf("mirrored %v", keys(got))
	}
	if _, err := os.Stat(e.dir("korgau123", "kk", gone)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a package withdrawn before it was mirrored got a folder: %v", err)
	}
	if n := len(e.hub.Requests("GET", "/assets/")); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
}

func TestPullFiltersByCampaignAndLanguage(t *testing.T) {
	e := newEnv(t, hubtest.Options{})
	want := e.publish(t, "korgau123", "ky", "Кыргызча", map[string][]byte{"a.png": png("a", 10)})
	otherLang := e.publish(t, "korgau123", "ru", "По-русски", map[string][]byte{"b.png": png("b", 10)})
	otherCampaign := e.publish(t, "other", "ky", "Башка", map[string][]byte{"c.png": png("c", 10)})
	e.pull(t, nil, pull.Options{Campaigns: []string{"korgau123"}, Languages: []string{"KY"}})
	if _, err := os.Stat(e.dir("korgau123", "ky", want)); err != nil {
		t.Error(err)
	}
	for _, d := range []string{e.dir("korgau123", "ru", otherLang), e.dir("other", "ky", otherCampaign)} {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s mirrored despite the filter", d)
		}
	}
}

// TestPullResumesAfterBeingKilledMidDownload stops a pull in the middle
// of an asset, then runs a new one: it asks only for the rest, with
// If-Range naming the bytes it holds, and nothing partial ever shows in
// the package folder.
func TestPullResumesAfterBeingKilledMidDownload(t *testing.T) {
	e := newEnv(t, hubtest.Options{})
	video := png("interview ", 300_000) // 3 MB
	id := e.publish(t, "korgau123", "ru", "Интервью", map[string][]byte{"интервью.png": video})

	ctx, kill := context.WithCancel(context.Background())
	const cut = 1 << 20
	tr := &transport{body: func(_ int, r io.ReadCloser) io.ReadCloser {
		var n int
		return funcReader{read: func(p []byte) (int, error) {
			if n >= cut {
				kill()
				<-ctx.Done()
				return 0, ctx.Err()
			}
			p = p[:min(len(p), cut-n)]
			m, err := r.Read(p)
			n += m
			return m, err
		}, close: r.Close}
	}}
	if err := e.puller(t, tr, pull.Options{}).Run(ctx); err != nil {
		t.Fatalf("a stopped pull: %v", err)
	}
	partials := files(t, filepath.Join(e.dest, pull.StateDir, "partial"))
	if len(partials) != 1 {
		t.Fatalf("partial folder after the kill: %v", keys(partials))
	}
	for _, b := range partials {
		if len(b) < cut/2 || len(b) >= len(video) {
			t.Fatalf("partial download of %d bytes", len(b))
		}
	}
	if got := files(t, e.dir("korgau123", "ru", id)); len(got) != 0 {
		t.Fatalf("the package folder shows %v before the download finished", keys(got))
	}

	before := len(e.hub.Requests("GET", "/assets/"))
	e.pull(t, nil, pull.Options{})
	resumed := e.hub.Requests("GET", "/assets/")[before:]
	if len(resumed) != 1 {
		t.Fatalf("the second run downloaded %d times", len(resumed))
	}
	h := resumed[0].Header
	sum := assetSHA(t, e, id, "интервью.png")
	if !strings.HasPrefix(h.Get("Range"), "bytes=") || h.Get("Range") == "bytes=0-" || h.Get("If-Range") != `"`+sum+`"` {
		t.Errorf("resumed with Range %q and If-Range %q", h.Get("Range"), h.Get("If-Range"))
	}
	if !fileIs(filepath.Join(e.dir("korgau123", "ru", id), "интервью.png"), video) {
		t.Error("the resumed file differs from the asset")
	}
	if left := files(t, filepath.Join(e.dest, pull.StateDir, "partial")); len(left) != 0 {
		t.Errorf("partial files left: %v", keys(left))
	}
}

func assetSHA(t *testing.T, e *env, id, name string) string {
	t.Helper()
	p, err := e.producer.Package(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range p.Associations {
		if a.Name == name {
			return a.SHA256
		}
	}
	t.Fatalf("no asset %s", name)
	return ""
}

// corrupt flips one byte of a download body.
func corrupt(r io.ReadCloser) io.ReadCloser {
	first := true
	return funcReader{read: func(p []byte) (int, error) {
		n, err := r.Read(p)
		if n > 0 && first {
			p[n/2] ^= 0xff
			first = false
		}
		return n, err
	}, close: r.Close}
}

func TestPullRetriesACorruptedDownloadAndNeverInstallsIt(t *testing.T) {
	e := newEnv(t, hubtest.Options{})
	poster := png("poster", 20_000)
	id := e.publish(t, "korgau123", "ru", "Плакат", map[string][]byte{"poster.png": poster})

	// Corrupted every time: the pull fails, and nothing is in place.
	always := &transport{body: func(_ int, r io.ReadCloser) io.ReadCloser { return corrupt(r) }}
	err := e.puller(t, always, pull.Options{}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "do not match") {
		t.Fatalf("pull of a corrupted asset: %v", err)
	}
	if always.n != 3 {
		t.Errorf("%d attempts, want 3", always.n)
	}
	if _, err := os.Stat(e.dir("korgau123", "ru", id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the package folder exists after a failed verification: %v", err)
	}
	if left := files(t, filepath.Join(e.dest, pull.StateDir, "partial")); len(left) != 0 {
		t.Errorf("corrupted bytes kept: %v", keys(left))
	}
	// The package is recorded as not mirrored, so the next run (or the
	// next poll) tries it again; the cursor may move on past it, to the
	// packages after it (issue 9: one bad package never stops an agent).
	if f := readState(t, e.dest).Failed[id]; f == nil || !strings.Contains(f.Reason, "do not match") || f.Attempts != 1 {
		t.Errorf("the package that was not mirrored is not recorded as failed: %+v", f)
	}

	// Corrupted once: the retry succeeds.
	once := &transport{body: func(n int, r io.ReadCloser) io.ReadCloser {
		if n == 1 {
			return corrupt(r)
		}
		return r
	}}
	e.pull(t, once, pull.Options{})
	if once.n != 2 || !fileIs(filepath.Join(e.dir("korgau123", "ru", id), "poster.png"), poster) {
		t.Errorf("after %d downloads the file is not the asset", once.n)
	}
}

func TestUnsafeNamesNeverLeaveTheDestination(t *testing.T) {
	unsafe := []string{"..", ".", "a/b", `a\b`, "x\x00y", "x\ny", "", "CON.png", "a:b.png", "poster.", "dup.png", "DUP.png"}
	seen := map[string]bool{}
	for i, got := range pull.LocalNames(unsafe) {
		if !filepath.IsLocal(got) || strings.ContainsAny(got, `/\`) || strings.ContainsFunc(got, unicode.IsControl) || strings.HasPrefix(got, ".") {
			t.Errorf("asset name %q became %q, which is not a plain name in the package folder", unsafe[i], got)
		}
		if seen[strings.ToLower(got)] {
			t.Errorf("asset name %q became %q, which another asset's file has", unsafe[i], got)
		}
		seen[strings.ToLower(got)] = true
	}
	for _, name := range []string{"..", ".", "a/b", `a\b`, "x\x00y", "x\ny", "", ".hub-pull", ".versions"} {
		if _, err := pull.PackageDir("korgau123", name, "01K"); err == nil {
			t.Errorf("language %q accepted", name)
		}
		if _, err := pull.PackageDir(name, "ru", "01K"); err == nil {
			t.Errorf("campaign %q accepted", name)
		}
	}
	for in, want := range map[string]string{
		"poster.png": "poster.png", "Плакат кампании.png": "Плакат кампании.png", "package.json": "_package.json",
		"ninjs.json": "_ninjs.json", "NINJS.JSON": "_NINJS.JSON",
		"WITHDRAWN.txt": "_WITHDRAWN.txt", ".versions": "_.versions", "_x": "__x",
	} {
		if got := pull.LocalNames([]string{in})[0]; got != want {
			t.Errorf("LocalNames(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestOnePullPerDestination(t *testing.T) {
	e := newEnv(t, hubtest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	p := e.puller(t, nil, pull.Options{Follow: true, NoNATS: true})
	go func() { done <- p.Run(ctx) }()
	waitFor(t, "the first pull to take the lock", 5*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(e.dest, pull.StateDir, "state.json"))
		return err == nil
	})
	err := e.puller(t, nil, pull.Options{}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "another hub pull") {
		t.Errorf("a second pull on the same folder: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("the first pull: %v", err)
	}
}

// TestOneBadPackageNeverStopsThePull: a package whose bytes never verify
// is recorded, reported in the exit status and tried again later, while
// the packages after it, a later release and a kill notice are all
// mirrored; a package made before the name rules, holding "poster.png"
// and "POSTER.png", is mirrored with a file for each (issue 9, finding 4).
func TestOneBadPackageNeverStopsThePull(t *testing.T) {
	e := newEnv(t, hubtest.Options{})
	poster := png("poster", 2_000)
	legacy := e.publish(t, "korgau123", "ru", "Старый пакет", map[string][]byte{"poster.png": poster})
	if _, err := e.hub.Server.Catalog().UpdatePackage(context.Background(), legacy, func(p *hub.Package) error {
		for _, v := range []*hub.Package{p, p.Live} {
			a := v.Assets[0]
			a.Name = "POSTER.png"
			v.Assets = append(v.Assets, a)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	bad := e.publish(t, "korgau123", "ru", "Плохой пакет", map[string][]byte{"poster.png": png("bad", 2_000)})
	after := e.publish(t, "korgau123", "ru", "Следующий", map[string][]byte{"poster.png": png("after", 2_000)})

	corrupting := &transport{only: bad, body: func(_ int, r io.ReadCloser) io.ReadCloser { return corrupt(r) }}
	// A poll interval longer than the run, so the bad package is tried
	// once however slow a loaded machine mirrors the others.
	err := e.puller(t, corrupting, pull.Options{PollInterval: time.Minute}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), after) {
		t.Fatalf("a one-shot pull with one bad package: %v", err)
	}
	if !fileIs(filepath.Join(e.dir("korgau123", "ru", after), "poster.png"), png("after", 2_000)) {
		t.Error("the package after the bad one was not mirrored")
	}
	for _, name := range []string{"poster.png", "POSTER (2).png"} {
		if !fileIs(filepath.Join(e.dir("korgau123", "ru", legacy), name), poster) {
			t.Errorf("the legacy package's %s is not its asset", name)
		}
	}
	if f := readState(t, e.dest).Failed[bad]; f == nil || f.Attempts != 1 {
		t.Fatalf("the bad package is not recorded as failed: %+v", f)
	}

	// Later: a kill notice for one package and a new release; the hub's
	// bytes are whole again. Everything is mirrored, the bad one too.
	if _, err := e.producer.Withdraw(context.Background(), after); err != nil {
		t.Fatal(err)
	}
	later := e.publish(t, "korgau123", "ru", "Позже", map[string][]byte{"poster.png": png("later", 2_000)})
	e.pull(t, nil, pull.Options{})
	if !fileIs(filepath.Join(e.dir("korgau123", "ru", bad), "poster.png"), png("bad", 2_000)) {
		t.Error("the bad package was not tried again")
	}
	if !fileIs(filepath.Join(e.dir("korgau123", "ru", later), "poster.png"), png("later", 2_000)) {
		t.Error("a later release was not mirrored")
	}
	if _, err := os.Stat(filepath.Join(e.dir("korgau123", "ru", after), "poster.png")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a withdrawn package's file is still there: %v", err)
	}
	if f := readState(t, e.dest).Failed; len(f) != 0 {
		t.Errorf("failures left after everything mirrored: %v", f)
	}
}
