package push_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/hubclient"
	"github.com/syndication-hub/hub/media/mediatest"
	"github.com/syndication-hub/hub/push"
)

// pngHead is enough of a PNG for the hub's sniffing; the rest is payload.
var pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")

func png(payload string) []byte {
	return append(append([]byte{}, pngHead...), bytes.Repeat([]byte(payload), 1000)...)
}

// folder writes files (path -> content) into a new folder.
func folder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const manifest = `campaign: korgau123
by: Dobrye Vesti
usageterms: Free to republish with credit
subjects: ["#korgau123"]
assets:
  - file: Плакат кампании.png
    caption: Плакат
    credit: Dobrye Vesti
    primary: true
languages:
  ru:
    headline: Домогательства на работе — это преступление
    assets:
      - file: ru/статья.txt
        name: Статья.txt
  kk:
    headline: Жұмыстағы қудалау — қылмыс
    description: Қысқаша
    assets:
      - file: kk/мақала.txt
        language: kk
`

type env struct {
	hub      *hubtest.Hub
	producer *hubclient.Client
	pusher   *push.Pusher
}

func newEnv(t *testing.T) *env {
	h := hubtest.Start(t, hubtest.Options{})
	c, err := hubclient.New(h.URL, h.ProducerKey(t), hubclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &env{hub: h, producer: c, pusher: push.New(c, push.Options{})}
}

func (e *env) push(t *testing.T, req push.Request) *push.Result {
	t.Helper()
	res, err := e.pusher.Push(context.Background(), req)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	return res
}

func byLanguage(res *push.Result) map[string]push.PackageResult {
	out := map[string]push.PackageResult{}
	for _, p := range res.Packages {
		out[p.Language] = p
	}
	return out
}

func TestPushCreatesThenUpdatesUploadingOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	dir := folder(t, map[string]string{
		"hub.yaml":            manifest,
		"Плакат кампании.png": string(png("poster")),
		"ru/статья.txt":       "Текст статьи на русском языке.\n",
		"kk/мақала.txt":       "Мақаланың мәтіні.\n",
		"notes.txt":           "not in the manifest",
	})
	first := byLanguage(e.push(t, push.Request{Dir: dir}))
	ru, kk := first["ru"], first["kk"]
	if !ru.Created || !kk.Created || len(ru.Uploaded) != 2 || len(kk.Uploaded) != 2 {
		t.Fatalf("first push: %+v", first)
	}
	if n := len(e.hub.Requests("PUT", "/assets/")); n != 4 {
		t.Errorf("first push uploaded %d times, want 4", n)
	}
	pkg, err := e.producer.Package(ctx, kk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pkg.Translations, []string{ru.ID}) || pkg.Headlines[0].Value != "Жұмыстағы қудалау — қылмыс" ||
		pkg.Descriptions[0].Value != "Қысқаша" || pkg.By != "Dobrye Vesti" || pkg.Status != "draft" {
		t.Errorf("kk package: %s", pkg.Raw)
	}
	assets := map[string]bool{}
	for _, a := range pkg.Associations {
		assets[a.Name] = true
		if a.Name == "Плакат кампании.png" && (!a.Primary || a.Caption != "Плакат" || a.Credit != "Dobrye Vesti" || a.Type != "picture") {
			t.Errorf("poster: %+v", a)
		}
		if a.Name == "мақала.txt" && a.Language != "kk" {
			t.Errorf("article language: %+v", a)
		}
	}
	if !assets["Плакат кампании.png"] || !assets["мақала.txt"] || len(assets) != 2 {
		t.Errorf("kk assets: %v", assets)
	}

	// Nothing changed: nothing is sent but reads.
	before := len(e.hub.Requests("", ""))
	again := byLanguage(e.push(t, push.Request{Dir: dir}))
	for _, r := range e.hub.Requests("", "")[before:] {
		if r.Method != "GET" {
			t.Errorf("an unchanged push sent %s %s", r.Method, r.Path)
		}
	}
	if again["ru"].ID != ru.ID || again["ru"].Created || len(again["ru"].Unchanged) != 2 {
		t.Errorf("second push: %+v", again)
	}

	// One file changes, one asset leaves the manifest.
	os.WriteFile(filepath.Join(dir, "kk", "мақала.txt"), []byte("Мақаланың жаңа мәтіні.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "hub.yaml"), []byte(strings.Replace(manifest, "      - file: ru/статья.txt\n        name: Статья.txt\n", "", 1)), 0o644)
	before = len(e.hub.Requests("PUT", "/assets/"))
	third := byLanguage(e.push(t, push.Request{Dir: dir}))
	puts := e.hub.Requests("PUT", "/assets/")[before:]
	if len(puts) != 1 || !strings.Contains(puts[0].Path, kk.ID) {
		t.Errorf("changing one file uploaded %v", puts)
	}
	if !slices.Equal(third["ru"].Deleted, []string{"Статья.txt"}) || !slices.Equal(third["kk"].Uploaded, []string{"мақала.txt"}) {
		t.Errorf("third push: %+v", third)
	}

	// Release, then a changed poster is a correction of both.
	rel := byLanguage(e.push(t, push.Request{Dir: dir, Release: true}))
	if rel["ru"].Released != "released" || rel["kk"].Status != "released" || rel["kk"].Version != "1" {
		t.Errorf("release: %+v", rel)
	}
	if same := byLanguage(e.push(t, push.Request{Dir: dir, Release: true})); same["ru"].Released != "unchanged" {
		t.Errorf("releasing again without changes: %+v", same)
	}
	os.WriteFile(filepath.Join(dir, "Плакат кампании.png"), png("poster, corrected"), 0o644)
	corr := byLanguage(e.push(t, push.Request{Dir: dir, Release: true}))
	for _, lang := range []string{"ru", "kk"} {
		if c := corr[lang]; c.Released != "corrected" || c.Version != "2" || !slices.Equal(c.Uploaded, []string{"Плакат кампании.png"}) {
			t.Errorf("%s correction: %+v", lang, c)
		}
	}
	embargo := time.Now().Add(time.Hour)
	if _, err := e.pusher.Push(ctx, push.Request{Dir: dir, Embargo: &embargo}); err == nil || !strings.Contains(err.Error(), "released already") {
		t.Errorf("an embargo on released packages: %v", err)
	}
}

func TestPushSchedulesForAnEmbargo(t *testing.T) {
	e := newEnv(t)
	dir := folder(t, map[string]string{
		"hub.json": `{"campaign": "korgau123", "assets": [{"file": "poster.png"}],
			"languages": {"ky": {"headline": "Жумуштагы асылуу — кылмыш"}}}`,
		"poster.png": string(png("poster")),
	})
	embargo := time.Now().Add(time.Hour).Truncate(time.Second)
	res := e.push(t, push.Request{Dir: dir, Embargo: &embargo})
	if p := res.Packages[0]; p.Status != "scheduled" || p.Released != "scheduled" {
		t.Fatalf("embargoed push: %+v", p)
	}
	pkg, err := e.producer.Package(context.Background(), res.Packages[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if pkg.Embargoed == nil || !pkg.Embargoed.Equal(embargo) {
		t.Errorf("embargo %v, want %v", pkg.Embargoed, embargo)
	}
}

// TestBadManifestsSendNothing: every mistake is found before the first
// request, all of them at once, with line numbers for unknown fields.
func TestBadManifestsSendNothing(t *testing.T) {
	e := newEnv(t)
	poster := string(png("poster"))
	for _, tc := range []struct {
		name  string
		files map[string]string
		req   push.Request
		want  []string
	}{
		{"missing files", map[string]string{"hub.yaml": manifest, "Плакат кампании.png": poster},
			push.Request{}, []string{`file "ru/статья.txt" does not exist`, `file "kk/мақала.txt" does not exist`}},
		{"unknown field in YAML", map[string]string{"hub.yaml": "campaign: korgau123\nlanguages:\n  ru:\n    headline: x\n    colour: red\n", "poster.png": poster},
			push.Request{}, []string{`line 5: unknown field "colour" in a language`}},
		{"unknown field in an asset", map[string]string{"hub.yaml": "campaign: korgau123\nassets:\n  - file: poster.png\n    caption: x\n    tilte: y\nlanguages: {ru: {headline: x}}\n", "poster.png": poster},
			push.Request{}, []string{`line 5: unknown field "tilte" in an asset`}},
		{"unknown field in JSON", map[string]string{"hub.json": "{\n  \"campaign\": \"korgau123\",\n  \"headline\": \"x\"\n}\n"},
			push.Request{}, []string{`line 3: unknown field "headline"`}},
		{"file outside the folder", map[string]string{"hub.yaml": "campaign: korgau123\nassets: [{file: ../secret.png}]\nlanguages: {ru: {headline: x}}\n"},
			push.Request{}, []string{`must be a path inside the folder`}},
		{"bad values", map[string]string{"hub.yaml": "campaign: Korgau 123\nassets: [{file: a.png, primary: true}, {file: b.png, primary: true}, {file: a.png, name: c.png, type: poster}]\nlanguages: {russian: {}, ru: {}}\n", "a.png": poster, "b.png": poster},
			push.Request{Release: true}, []string{`campaign "Korgau 123" is not a slug`, `asset type "poster"`, `"russian" is not a BCP 47`, `2 assets are marked primary`, `languages.ru: a headline is required to release`}},
		{"no manifest", map[string]string{"poster.png": poster}, push.Request{}, []string{"has no manifest"}},
		{"two manifests", map[string]string{"hub.yaml": manifest, "hub.json": "{}"}, push.Request{}, []string{"2 manifests"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Dir = folder(t, tc.files)
			before := len(e.hub.Requests("", ""))
			_, err := e.pusher.Push(context.Background(), tc.req)
			if err == nil {
				t.Fatal("pushed")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q:\n%v", w, err)
				}
			}
			var me *push.ManifestError
			// Finding the manifest fails with a plain error; reading it, with
			// the list of problems.
			if wantList := !strings.Contains(tc.name, "manifest"); wantList != errors.As(err, &me) {
				t.Errorf("error type %T", err)
			}
			if sent := e.hub.Requests("", "")[before:]; len(sent) > 0 {
				t.Errorf("a bad manifest sent %d requests, the first %s %s", len(sent), sent[0].Method, sent[0].Path)
			}
			if _, err := os.Stat(filepath.Join(tc.req.Dir, push.StateFile)); err == nil {
				t.Error("a bad manifest left a state file")
			}
		})
	}
	list, err := e.producer.Releases(context.Background(), "", 0)
	if err != nil || len(list.Items) != 0 {
		t.Errorf("the hub has releases: %v %v", list, err)
	}
}

// TestPushOfAPhotoWithEXIF: the hub stores a phone photo scrubbed of its
// GPS position, so its stored digest is not the file's; push compares the
// file with what the hub received, so it checks the transfer and, run
// again, uploads nothing.
func TestPushOfAPhotoWithEXIF(t *testing.T) {
	e := newEnv(t)
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	dir := folder(t, map[string]string{
		"hub.yaml": "campaign: korgau123\nassets:\n  - file: photo.jpg\nlanguages:\n  ru:\n    headline: Фото\n",
	})
	photo := filepath.Join(dir, "photo.jpg")
	if err := os.WriteFile(photo, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	mediatest.Plant(t, photo, "-GPSLatitude=43.24", "-GPSLatitudeRef=N", "-GPSLongitude=76.88", "-GPSLongitudeRef=E", "-Model=SurvivorPhone-9")

	first := byLanguage(e.push(t, push.Request{Dir: dir}))["ru"]
	if !slices.Equal(first.Uploaded, []string{"photo.jpg"}) {
		t.Fatalf("first push: %+v", first)
	}
	pkg, err := e.producer.Package(context.Background(), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a := pkg.Associations[0]; a.Received == nil || a.Received.SHA256 == a.SHA256 {
		t.Fatalf("the hub stored the photo as sent, GPS and all: %+v", a)
	}
	before := len(e.hub.Requests("PUT", "/assets/"))
	again := byLanguage(e.push(t, push.Request{Dir: dir}))["ru"]
	if puts := e.hub.Requests("PUT", "/assets/")[before:]; len(puts) != 0 || !slices.Equal(again.Unchanged, []string{"photo.jpg"}) {
		t.Errorf("pushing the same photo again uploaded %v: %+v", puts, again)
	}
}

// breakOnce is the network between push and the hub, breaking the first
// PATCH of a resumable upload after its first bytes.
type breakOnce struct {
	after  int
	broken bool
}

func (b *breakOnce) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPatch && strings.HasPrefix(req.URL.Path, "/v1/uploads/") && !b.broken {
		b.broken = true
		req.Body = &brokenBody{r: req.Body, left: b.after}
	}
	return http.DefaultTransport.RoundTrip(req)
}

type brokenBody struct {
	r    io.ReadCloser
	left int
}

func (b *brokenBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("the link went down")
	}
	n, err := b.r.Read(p[:min(len(p), b.left)])
	b.left -= n
	return n, err
}

func (b *brokenBody) Close() error { return b.r.Close() }

// A file over the threshold goes as a resumable upload in chunks; a
// connection that breaks mid-chunk is resumed from where the hub stands,
// and the hub's received digest is checked as for a PUT.
func TestPushSendsLargeFilesResumably(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	c, err := hubclient.New(h.URL, h.ProducerKey(t), hubclient.Options{HTTPClient: &http.Client{Transport: &breakOnce{after: 300 << 10}}})
	if err != nil {
		t.Fatal(err)
	}
	pusher := push.New(c, push.Options{ResumableThreshold: 256 << 10, ChunkSize: 512 << 10})
	var transcript strings.Builder
	for i := 0; transcript.Len() < 1500<<10; i++ {
		fmt.Fprintf(&transcript, "Line %06d of the interview. Домогательства на работе — это преступление.\n", i)
	}
	dir := folder(t, map[string]string{
		"hub.yaml": `campaign: korgau123
by: Dobrye Vesti
usageterms: Free to republish with credit
assets:
  - file: poster.png
languages:
  ru:
    headline: Домогательства на работе — это преступление
    assets:
      - file: interview.txt
`,
		"poster.png":    string(png("poster")),
		"interview.txt": transcript.String(),
	})
	res, err := pusher.Push(context.Background(), push.Request{Dir: dir})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if got := res.Packages[0].Uploaded; len(got) != 2 {
		t.Fatalf("uploaded %v, want the poster and the interview", got)
	}
	if n := len(h.Requests("PUT", "/assets/interview.txt")); n != 0 {
		t.Errorf("the interview went by PUT %d times", n)
	}
	if n := len(h.Requests("PUT", "/assets/poster.png")); n != 1 {
		t.Errorf("the poster, under the threshold, went by PUT %d times, want 1", n)
	}
	patches, heads := len(h.Requests("PATCH", "/v1/uploads/")), len(h.Requests("HEAD", "/v1/uploads/"))
	if patches < 4 || heads != 1 {
		t.Errorf("%d PATCHes and %d HEADs, want at least 4 chunks with one resumed after one HEAD", patches, heads)
	}
	again, err := pusher.Push(context.Background(), push.Request{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Packages[0].Unchanged) != 2 {
		t.Errorf("a second push found %+v, want both assets unchanged", again.Packages[0])
	}
}
