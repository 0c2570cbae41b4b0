package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub/ninjs/ninjstest"
)

// runCLI runs the hub binary's command line in-process.
func runCLI(ctx context.Context, args ...string) (string, error) {
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

// startPull runs `hub pull --follow` with args until the test ends.
func startPull(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := runCLI(ctx, append([]string{"pull", "--follow"}, args...)...)
		done <- err
	}()
	t.Cleanup(func() {
		cancel() // as Ctrl-C does
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("hub pull after Ctrl-C: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("hub pull did not stop within 10 s of Ctrl-C")
		}
	})
}

func waitUntil(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 15*time.Second {
			t.Fatalf("%s: not within 15 s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

func sameFile(a, b string) bool {
	x, err1 := os.ReadFile(a)
	y, err2 := os.ReadFile(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// TestPushReleasePullCorrectWithdraw is the "done when": the real
// hub in-process; `hub push` of a folder in two languages; two `hub pull
// --follow` agents started before the release (one on the partner's NATS
// consumer, one polling the change log); the release mirrored and
// verified in both destinations; a correction pushed and mirrored with
// the old version kept aside; a withdrawal mirrored as a notice; and the
// campaign's reach showing the partner's pickup.
func TestPushReleasePullCorrectWithdraw(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	cfg.AdminKey = "hub_e2e-push-pull-admin-key-01"
	s, _ := startHub(t, cfg)
	producer := field(t, call(t, s, "POST", "/v1/keys", cfg.AdminKey, []byte(`{"role":"producer","name":"KORGAU123 team"}`), 201), "key")
	partnerID := field(t, call(t, s, "POST", "/v1/partners", cfg.AdminKey, []byte(`{"name":"Almaty TV","region":"Almaty","medium":"tv"}`), 201), "id")
	partner := field(t, call(t, s, "POST", "/v1/keys", cfg.AdminKey, []byte(`{"role":"partner","name":"Almaty TV ingest","partner":"`+partnerID+`"}`), 201), "key")
	// Loads the partner's NATS user now, while nothing else runs (see hubtest.PartnerKey).
	call(t, s, "GET", "/v1/me/nats", partner, nil, 200)

	dir := t.TempDir()
	files := map[string][]byte{
		"hub.yaml": []byte(`campaign: korgau123
by: Dobrye Vesti
usageterms: Free to republish with credit
assets:
  - file: Плакат.png
    caption: Плакат кампании
    primary: true
languages:
  ru:
    headline: Домогательства на работе — это преступление
    assets: [{file: ru/интервью.txt}]
  kk:
    headline: Жұмыстағы қудалау — қылмыс
    assets: [{file: kk/сұхбат.txt}]
`),
		"Плакат.png":      append(append([]byte{}, pngHead...), bytes.Repeat([]byte("poster"), 200_000)...),
		"ru/интервью.txt": []byte("Расшифровка интервью.\n"),
		"kk/сұхбат.txt":   []byte("Сұхбаттың мәтіні.\n"),
	}
	for name, b := range files {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HUB_URL", s.URL()) // the tools read the hub from the environment
	if out, err := runCLI(ctx, "push", dir, "--key", producer); err != nil {
		t.Fatalf("hub push: %v\n%s", err, out)
	}
	var pushed struct {
		Hubs map[string]struct{ Packages map[string]string }
	}
	b, _ := os.ReadFile(filepath.Join(dir, ".hub-push.json"))
	if err := json.Unmarshal(b, &pushed); err != nil {
		t.Fatal(err)
	}
	ids := pushed.Hubs[s.URL()].Packages
	if len(ids) != 2 {
		t.Fatalf("push state %s", b)
	}

	natsDest, pollDest := t.TempDir(), t.TempDir()
	// Polling an hour apart, after the catch-up at the start: what this
	// agent mirrors after the release came over NATS, with the partner's
	// key as its NATS credential.
	startPull(t, "--key", partner, "--dest", natsDest, "--poll-interval", "1h")
	startPull(t, "--key", partner, "--dest", pollDest, "--no-nats", "--poll-interval", "250ms")
	time.Sleep(200 * time.Millisecond) // both past their catch-up

	expect := func(dest, lang, rel string) string {
		return filepath.Join(dest, "korgau123", lang, ids[lang], filepath.FromSlash(rel))
	}
	mirrored := func(dest string) bool {
		for lang, own := range map[string]string{"ru": "ru/интервью.txt", "kk": "kk/сұхбат.txt"} {
			for _, src := range []string{"Плакат.png", own} {
				if !sameFile(expect(dest, lang, filepath.Base(src)), filepath.Join(dir, src)) {
					return false
				}
			}
			for _, sidecar := range []string{"ninjs.json", "package.json"} {
				if _, err := os.Stat(expect(dest, lang, sidecar)); err != nil {
					return false
				}
			}
		}
		return true
	}
	start := time.Now()
	for _, lang := range []string{"ru", "kk"} {
		call(t, s, "POST", "/v1/packages/"+ids[lang]+"/release", producer, nil, 200)
	}
	released := time.Since(start)
	natsTook := waitUntil(t, "the release mirrored over NATS", func() bool { return mirrored(natsDest) }) + released
	pollTook := time.Since(start)
	if !mirrored(pollDest) {
		pollTook = waitUntil(t, "the release mirrored by polling", func() bool { return mirrored(pollDest) }) + pollTook
	}
	t.Logf("release of 2 packages (1.2 MB poster each) to every file verified in DEST: NATS %v, polling every 250 ms %v",
		natsTook.Round(time.Millisecond), pollTook.Round(time.Millisecond))
	// package.json is what the hub sent (over NATS, or from the API when
	// polling): the package profile; ninjs.json is plain ninjs.
	sidecars := func(t *testing.T, what string) {
		for via, dest := range map[string]string{"NATS": natsDest, "polling": pollDest} {
			for _, lang := range []string{"ru", "kk"} {
				doc := what + " " + lang + " by " + via
				profile, err := os.ReadFile(expect(dest, lang, "package.json"))
				if err != nil {
					t.Fatal(err)
				}
				ninjstest.Profile(t).Assert(t, doc+": package.json", profile)
				strict, err := os.ReadFile(expect(dest, lang, "ninjs.json"))
				if err != nil {
					t.Fatal(err)
				}
				ninjstest.AssertStrict(t, doc+": ninjs.json", strict)
			}
		}
	}
	sidecars(t, "released")

	// The outlet reports that it aired the Russian package.
	out, err := runCLI(ctx, "report", "--key", partner, "--package", ids["ru"], "--url", "https://almaty.tv/news/1",
		"--audience", "120000", "--published", time.Now().UTC().Format(time.RFC3339))
	reported := err == nil
	if err != nil && !strings.Contains(err.Error(), "answered 404") {
		t.Errorf("hub report: %v\n%s", err, out)
	}

	// A correction of the poster, pushed and released in one go.
	corrected := append(append([]byte{}, pngHead...), bytes.Repeat([]byte("poster, corrected"), 50_000)...)
	os.WriteFile(filepath.Join(dir, "Плакат.png"), corrected, 0o644)
	if out, err := runCLI(ctx, "push", dir, "--key", producer, "--release"); err != nil || strings.Count(out, "(corrected)") != 2 {
		t.Fatalf("hub push --release of a correction: %v\n%s", err, out)
	}
	for _, dest := range []string{natsDest, pollDest} {
		waitUntil(t, "the correction mirrored", func() bool {
			old, _ := os.ReadFile(expect(dest, "kk", ".versions/1/Плакат.png"))
			return mirrored(dest) && bytes.Equal(old, files["Плакат.png"])
		})
	}
	sidecars(t, "corrected")

	// The Kazakh package is withdrawn.
	call(t, s, "POST", "/v1/packages/"+ids["kk"]+"/withdraw", producer, nil, 200)
	for _, dest := range []string{natsDest, pollDest} {
		kk := filepath.Join(dest, "korgau123", "kk", ids["kk"])
		waitUntil(t, "the withdrawal mirrored", func() bool {
			entries, _ := os.ReadDir(kk)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			return strings.Join(names, ",") == "WITHDRAWN.txt,ninjs.json,package.json"
		})
		if !sameFile(expect(dest, "ru", "Плакат.png"), filepath.Join(dir, "Плакат.png")) {
			t.Error("the withdrawal of kk touched ru")
		}
	}

	t.Run("reach", func(t *testing.T) {
		req, _ := http.NewRequest("GET", s.URL()+"/v1/campaigns/korgau123/reach", nil)
		req.Header.Set("Authorization", "Bearer "+producer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		if resp.StatusCode == 404 && strings.Contains(body.String(), "there is nothing at") {
			t.Skip("GET /v1/campaigns/{campaign}/reach is not served yet; the pickup cannot be checked")
		}
		if resp.StatusCode != 200 {
			t.Fatalf("reach: %d %s", resp.StatusCode, body.Bytes())
		}
		t.Logf("reach: %s", body.Bytes())
		var reach struct {
			Outlets   int `json:"outlets"`
			Downloads struct {
				Total    int `json:"total"`
				Distinct int `json:"distinct"`
			} `json:"downloads"`
			Republications int   `json:"republications"`
			Audience       int64 `json:"audience"`
		}
		if err := json.Unmarshal(body.Bytes(), &reach); err != nil {
			t.Fatal(err)
		}
		// Two agents of one partner downloaded 2 assets of 2 packages,
		// then the corrected poster of both.
		if reach.Outlets < 1 || reach.Downloads.Total < 8 || reach.Downloads.Distinct < 1 {
			t.Errorf("the reach does not show the pickup: %s", body.Bytes())
		}
		if !reported {
			t.Skip("POST /v1/packages/{id}/republications is not served yet; the republication cannot be checked")
		}
		if reach.Republications != 1 || reach.Audience != 120000 {
			t.Errorf("the reach does not show the republication: %s", body.Bytes())
		}
	})
}

// TestPullThroughPresignedDownloads: with HUB_S3_PRESIGN the hub answers
// downloads with a redirect to MinIO, whose entity tags are not the
// hub's; hub pull still verifies every file by its SHA-256.
func TestPullThroughPresignedDownloads(t *testing.T) {
	ctx := context.Background()
	o := minioServer.Options(t)
	cfg := testConfig(t)
	cfg.AdminKey = "hub_e2e-presign-admin-key-012"
	cfg.S3Endpoint, cfg.S3Bucket, cfg.S3AccessKey, cfg.S3SecretKey = o.Endpoint, o.Bucket, o.AccessKey, o.SecretKey
	cfg.S3Presign = true
	s, _ := startHub(t, cfg)
	producer := field(t, call(t, s, "POST", "/v1/keys", cfg.AdminKey, []byte(`{"role":"producer","name":"team"}`), 201), "key")
	partner := field(t, call(t, s, "POST", "/v1/keys", cfg.AdminKey, []byte(`{"role":"partner","name":"public reader"}`), 201), "key")

	dir := t.TempDir()
	poster := append(append([]byte{}, pngHead...), bytes.Repeat([]byte("poster"), 100_000)...)
	os.WriteFile(filepath.Join(dir, "poster.png"), poster, 0o644)
	os.WriteFile(filepath.Join(dir, "hub.json"), []byte(`{"campaign": "korgau123", "assets": [{"file": "poster.png"}],
		"languages": {"ru": {"headline": "Плакат"}}}`), 0o644)
	if out, err := runCLI(ctx, "push", dir, "--hub", s.URL(), "--key", producer, "--release"); err != nil {
		t.Fatalf("hub push: %v\n%s", err, out)
	}
	dest := t.TempDir()
	if out, err := runCLI(ctx, "pull", "--hub", s.URL(), "--key", partner, "--dest", dest); err != nil {
		t.Fatalf("hub pull: %v\n%s", err, out)
	}
	matches, _ := filepath.Glob(filepath.Join(dest, "korgau123", "ru", "*", "poster.png"))
	if len(matches) != 1 || !sameFile(matches[0], filepath.Join(dir, "poster.png")) {
		t.Fatalf("mirrored %v", matches)
	}
	call(t, s, "POST", "/v1/packages/"+filepath.Base(filepath.Dir(matches[0]))+"/purge", producer, nil, 200) // leaves the bucket clean
}
