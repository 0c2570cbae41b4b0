package portal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub/hubtest"
)

// newsroom is a test hub with content made through the API, as a
// producer makes it: a public and a partners-only campaign, and outlets.
type newsroom struct {
	t        *testing.T
	h        *hubtest.Hub
	producer string
	// entitled reads the private campaign; other does not.
	entitled, other string
}

func newNewsroom(t *testing.T) *newsroom {
	h := hubtest.Start(t, hubtest.Options{})
	n := &newsroom{t: t, h: h, producer: h.ProducerKey(t)}
	apiCall(t, h, "POST", "/v1/campaigns", n.producer, map[string]any{"slug": "open-doors", "name": "Open doors", "visibility": "public"}).expect(t, 201)
	apiCall(t, h, "POST", "/v1/campaigns", n.producer, map[string]any{"slug": "shelters", "name": "Shelters", "visibility": "partners"}).expect(t, 201)
	n.entitled = h.PartnerKey(t, "Regional TV", "shelters")
	n.other = h.PartnerKey(t, "Other outlet")
	return n
}

// picture is a JPEG of w×h: big enough that the hub makes a web
// rendition and a thumbnail of it.
func picture(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 120, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// put sends raw bytes to the API.
func put(t *testing.T, h *hubtest.Hub, path, key string, body []byte) answer {
	t.Helper()
	req, _ := http.NewRequest("PUT", h.URL+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// pkgSpec is a package to make; release is "now", "embargo" or "".
type pkgSpec struct {
	campaign, lang, headline, warning, release string
	withdraw                                   bool
	translations                               []string
}

// make creates the package with a poster and its alt text, waits for its
// renditions, and takes it through its lifecycle; it returns its id.
func (n *newsroom) make(s pkgSpec) string {
	t, h := n.t, n.h
	t.Helper()
	if s.lang == "" {
		s.lang = "ru"
	}
	body := map[string]any{
		"campaign": s.campaign, "language": s.lang,
		"headlines":    []map[string]string{{"value": s.headline}},
		"descriptions": []map[string]string{{"role": "summary", "value": "Где найти помощь: адреса и телефоны."}},
		"bodies": []map[string]string{{"contenttype": "text/html",
			"value": `<p>Первый абзац <a href="javascript:alert(1)" onclick="x()">ссылка</a>.</p><script>alert("body")</script><p onmouseover="y()">Второй <b>абзац</b>.</p>`}},
		"by": "Фонд «Коргау»", "usageterms": "Можно публиковать с указанием источника.", "contentwarning": s.warning,
	}
	if s.translations != nil {
		body["translations"] = s.translations
	}
	a := apiCall(t, h, "POST", "/v1/packages", n.producer, body)
	a.expect(t, 201)
	var pkg struct{ ID string }
	json.Unmarshal([]byte(a.body), &pkg)
	put(t, h, "/v1/packages/"+pkg.ID+"/assets/poster.jpg", n.producer, picture(t, 640, 360)).expect(t, 201)
	apiCall(t, h, "PATCH", "/v1/packages/"+pkg.ID+"/assets/poster.jpg", n.producer,
		map[string]any{"alttext": "Женщина у двери кризисного центра", "primary": true}).expect(t, 200)
	n.settled(pkg.ID)
	switch s.release {
	case "now":
		apiCall(t, h, "POST", "/v1/packages/"+pkg.ID+"/release", n.producer, nil).expect(t, 200)
	case "embargo":
		apiCall(t, h, "POST", "/v1/packages/"+pkg.ID+"/release", n.producer,
			map[string]any{"embargo": time.Now().Add(48 * time.Hour).Format(time.RFC3339)}).expect(t, 200)
	}
	if s.withdraw {
		apiCall(t, h, "POST", "/v1/packages/"+pkg.ID+"/withdraw", n.producer, nil).expect(t, 200)
	}
	return pkg.ID
}

// settled waits until the workers have made (or given up on) every
// rendition of package id, as the producer's API answer shows them.
func (n *newsroom) settled(id string) {
	n.t.Helper()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		a := apiCall(n.t, n.h, "GET", "/v1/packages/"+id, n.producer, nil)
		if a.status == 200 && strings.Contains(a.body, `"name":"web"`) && !strings.Contains(a.body, `"state":"pending"`) {
			return
		}
		if time.Since(start) > time.Minute {
			n.t.Fatalf("renditions of %s still pending after a minute: %.600s", id, a.body)
		}
	}
}

func TestPackagePageAccess(t *testing.T) {
	n := newNewsroom(t)
	h := n.h
	public := n.make(pkgSpec{campaign: "open-doors", headline: "Двери открыты", warning: "Рассказы о насилии", release: "now"})
	private := n.make(pkgSpec{campaign: "shelters", headline: "Убежища области", release: "now"})
	draft := n.make(pkgSpec{campaign: "open-doors", headline: "Черновик пакета"})
	embargoed := n.make(pkgSpec{campaign: "shelters", headline: "Под эмбарго", release: "embargo"})

	anon, entitled, other, producer := newVisitor(t, h), newVisitor(t, h), newVisitor(t, h), newVisitor(t, h)
	entitled.signIn(n.entitled)
	other.signIn(n.other)
	producer.signIn(n.producer)

	signin := func(id string) string { return "/signin?next=" + url.QueryEscape("/packages/"+id) }
	tests := []struct {
		name     string
		who      *visitor
		id       string
		status   int
		location string
		want     string
	}{
		{"public, signed out", anon, public, 200, "", "Двери открыты"},
		{"public, another campaign's partner", other, public, 200, "", "Двери открыты"},
		{"private, signed out", anon, private, 303, signin(private), ""},
		{"private, entitled partner", entitled, private, 200, "", "Убежища области"},
		{"private, another partner", other, private, 404, "", `data-status="404"`},
		{"draft, signed out", anon, draft, 303, signin(draft), ""},
		{"draft, partner", other, draft, 404, "", `data-status="404"`},
		{"draft, producer", producer, draft, 200, "", `id="status-note"`},
		{"embargoed, entitled partner", entitled, embargoed, 404, "", `data-status="404"`},
		{"embargoed, signed out", anon, embargoed, 303, signin(embargoed), ""},
		{"no such package, partner", entitled, "01J0000000000000000000000Z", 404, "", `data-status="404"`},
	}
	for _, tt := range tests {
		a := tt.who.get("/packages/" + tt.id)
		if a.status != tt.status || a.header.Get("Location") != tt.location || !strings.Contains(a.body, tt.want) {
			t.Errorf("%s: %d to %q, want %d to %q with %q\n%.400s", tt.name, a.status, a.header.Get("Location"),
				tt.status, tt.location, tt.want, a.body)
		}
	}
	// A draft's page does not tell a partner more than a missing one.
	missing := "01J0000000000000000000000Z"
	if a, b := other.get("/packages/"+draft), other.get("/packages/"+missing); strings.ReplaceAll(a.body, draft, missing) != b.body {
		t.Error("a hidden package's 404 differs from a missing one's")
	}

	// Signed out at a private package: the sign-in comes back to it.
	v := newVisitor(t, h)
	loc := v.get("/packages/" + private).header.Get("Location")
	v.get(loc).expect(t, 200, `name="next" value="/packages/`+private+`"`)
	a := v.post(loc, "/signin", url.Values{"key": {n.entitled}, "next": {"/packages/" + private}})
	if a.status != 303 || a.header.Get("Location") != "/packages/"+private {
		t.Fatalf("sign-in with next: %d to %q", a.status, a.header.Get("Location"))
	}
	v.get(a.header.Get("Location")).expect(t, 200, "Убежища области")
	// next is a path of this site, or home.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example"} {
		w := newVisitor(t, h)
		if a := w.post("/signin", "/signin", url.Values{"key": {n.entitled}, "next": {next}}); a.header.Get("Location") != "/" {
			t.Errorf("next %q: sent to %q", next, a.header.Get("Location"))
		}
	}
	// A sign-in link carries next through its button.
	ans := apiCall(t, h, "POST", "/v1/signin-links", h.AdminKey, map[string]any{"name": "Редактор", "role": "producer"})
	var link struct{ URL string }
	json.Unmarshal([]byte(ans.body), &link)
	path := strings.TrimPrefix(link.URL, h.URL)
	w := newVisitor(t, h)
	w.get(path+"?next=/packages/"+draft).expect(t, 200, `name="next" value="/packages/`+draft+`"`)
	if a := w.post(path, path, url.Values{"next": {"/packages/" + draft}}); a.header.Get("Location") != "/packages/"+draft {
		t.Errorf("sign-in link with next: %d to %q", a.status, a.header.Get("Location"))
	}
}

func TestPackagePageContent(t *testing.T) {
	n := newNewsroom(t)
	h := n.h
	kk := n.make(pkgSpec{campaign: "open-doors", lang: "kk", headline: "Есіктер ашық", release: "now"})
	id := n.make(pkgSpec{campaign: "open-doors", headline: "Двери открыты", warning: "Рассказы о насилии", release: "now",
		translations: []string{kk}})
	a := newVisitor(t, h).get("/packages/" + id)
	a.expect(t, 200,
		`<article class="package" lang="ru"`,
		`<meta property="og:type" content="article">`,
		`<meta property="og:url" content="`+h.URL+`/packages/`+id+`">`,
		`<meta property="og:title" content="Двери открыты">`,
		`<meta property="og:description" content="Где найти помощь: адреса и телефоны.">`,
		`<meta property="og:image" content="`+h.URL+`/v1/packages/`+id+`/assets/poster.jpg?rendition=web">`,
		`<meta property="og:image:alt" content="Женщина у двери кризисного центра">`,
		`<meta property="og:locale" content="ru_RU">`,
		`<meta name="twitter:card" content="summary_large_image">`,
		`<meta name="twitter:image:alt" content="Женщина у двери кризисного центра">`,
		`<img src="/v1/packages/`+id+`/assets/poster.jpg?rendition=web" alt="Женщина у двери кризисного центра"`,
		`href="/v1/packages/`+id+`/archive.zip"`,
		`<textarea id="credit-line" readonly`, `<textarea id="usage-terms" readonly`, `<textarea id="snippet" readonly`,
		`<a href="/packages/`+kk+`" hreflang="kk">`,
		"<p>Второй <strong>абзац</strong>.</p>",
	)
	// The warning comes before the previews, which start closed.
	warn, details := strings.Index(a.body, `id="content-warning"`), strings.Index(a.body, `<details class="previews" id="previews">`)
	if warn < 0 || details < 0 || warn > details {
		t.Errorf("content warning at %d, closed previews at %d", warn, details)
	}
	// Nothing of the producer's markup runs.
	body := a.body[strings.Index(a.body, `id="body"`):]
	body = body[:strings.Index(body, "</div>")]
	for _, bad := range []string{"<script", "javascript:", "onclick", "onmouseover", "alert"} {
		if strings.Contains(body, bad) {
			t.Errorf("the body keeps %q: %s", bad, body)
		}
	}
	// The snippet carries the credit, terms, warning, alt text and the
	// canonical link, escaped inside its textarea.
	for _, want := range []string{`&lt;link rel=&#34;canonical&#34; href=&#34;` + h.URL + `/packages/` + id, "Рассказы о насилии",
		"alt=&#34;Женщина у двери кризисного центра&#34;", "Фонд «Коргау»", "Можно публиковать с указанием источника."} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the snippet lacks %q", want)
		}
	}
	// Its downloads work signed out: the zip, the web rendition.
	for _, path := range []string{"/archive.zip", "/assets/poster.jpg?rendition=web"} {
		resp, err := http.Get(h.URL + "/v1/packages/" + id + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s signed out: %d", path, resp.StatusCode)
		}
	}
	// Without a warning the previews are open.
	newVisitor(t, h).get("/packages/"+kk).expect(t, 200, `<details class="previews" id="previews" open>`, `lang="kk"`)
}

func TestTakedownPage(t *testing.T) {
	n := newNewsroom(t)
	h := n.h
	id := n.make(pkgSpec{campaign: "shelters", headline: "Отозванный пакет", release: "now", withdraw: true})
	partner := newVisitor(t, h)
	partner.signIn(n.entitled)
	page := "/packages/" + id
	a := partner.get(page)
	a.expect(t, 200, `id="takendown"`, "Отозванный пакет", `action="/packages/`+id+`/takedown"`, `id="confirm-takedown"`)
	if strings.Contains(a.body, "poster.jpg") || strings.Contains(a.body, "og:image") {
		t.Error("a withdrawn package's page still offers its files")
	}
	// Without the token: refused, nothing recorded.
	partner.do("POST", page+"/takedown", url.Values{}).expect(t, 403)
	report := apiCall(t, h, "GET", "/v1/packages/"+id+"/takedowns", n.producer, nil)
	report.expect(t, 200, `"unconfirmed":1`)
	partner.post(page, page+"/takedown", nil).expect(t, 200, `id="takedown-confirmed"`)
	apiCall(t, h, "GET", "/v1/packages/"+id+"/takedowns", n.producer, nil).expect(t, 200, `"unconfirmed":0`, `"status":"confirmed"`)
	// Every later load says when the outlet confirmed, with no button;
	// confirming again says the first time; a partner that was never
	// expected to confirm gets the 404.
	first := regexp.MustCompile(`id="takedown-confirmed">[^<]*`).FindString(partner.get(page).body)
	if first == "" {
		t.Fatal("a reload does not say the outlet confirmed")
	}
	if a := partner.get(page); strings.Contains(a.body, `id="confirm-takedown"`) {
		t.Error("a confirmed takedown still offers the button")
	}
	partner.post(page, page+"/takedown", nil).expect(t, 200, first)
	other := newVisitor(t, h)
	other.signIn(n.other)
	other.post("/", page+"/takedown", nil).expect(t, 404)

	// Purged: nothing of it but the notice, and still the outlet's own
	// confirmation, on a load as on a confirmation sent again.
	apiCall(t, h, "POST", "/v1/packages/"+id+"/purge", n.producer, nil).expect(t, 200)
	a = partner.get(page)
	a.expect(t, 200, `id="takendown"`, first)
	if strings.Contains(a.body, "Отозванный пакет") || strings.Contains(a.body, `id="confirm-takedown"`) {
		t.Error("a purged package's page shows its headline, or the button again")
	}
	partner.post(page, page+"/takedown", nil).expect(t, 200, first)
	// In Kazakh, the same sentence of the outlet's own confirmation.
	partner.do("GET", page, nil, "Accept-Language", "kk").expect(t, 200, "Басылымыңыз алып тастағанын")

	// An outlet expected to confirm that has not: the button, no
	// confirmation; a producer sees neither.
	second := n.make(pkgSpec{campaign: "shelters", headline: "Второй пакет", release: "now", withdraw: true})
	if a := partner.get("/packages/" + second); !strings.Contains(a.body, `id="confirm-takedown"`) || strings.Contains(a.body, `id="takedown-confirmed"`) {
		t.Errorf("an unconfirmed takedown's page:\n%.800s", a.body)
	}
	producer := newVisitor(t, h)
	producer.signIn(n.producer)
	if a := producer.get("/packages/" + second); strings.Contains(a.body, `id="confirm-takedown"`) || strings.Contains(a.body, `id="takedown-confirmed"`) {
		t.Error("a producer is offered the outlet's takedown confirmation")
	}
}

func TestReleasesGrid(t *testing.T) {
	n := newNewsroom(t)
	h := n.h
	public := n.make(pkgSpec{campaign: "open-doors", headline: "Двери открыты", release: "now"})
	private := n.make(pkgSpec{campaign: "shelters", lang: "kk", headline: "Баспаналар", release: "now"})
	n.make(pkgSpec{campaign: "open-doors", headline: "Черновик пакета"})

	newVisitor(t, h).get("/releases").expect(t, 401, `action="/signin"`)
	partner, other := newVisitor(t, h), newVisitor(t, h)
	partner.signIn(n.entitled)
	other.signIn(n.other)
	a := partner.get("/releases")
	a.expect(t, 200, `id="grid"`, "Двери открыты", "Баспаналар",
		`src="/v1/packages/`+public+`/assets/poster.jpg?rendition=thumbnail" alt="Женщина у двери кризисного центра"`,
		`<option value="shelters">Shelters</option>`)
	if strings.Contains(a.body, "Черновик пакета") {
		t.Error("a partner's grid shows a draft")
	}
	if a := other.get("/releases"); strings.Contains(a.body, private) || !strings.Contains(a.body, public) {
		t.Error("another partner's grid shows a private package, or lacks the public one")
	}
	// Filters: by language, campaign, kind.
	a = partner.get("/releases?language=kk")
	if !strings.Contains(a.body, private) || strings.Contains(a.body, "/packages/"+public) {
		t.Error("the language filter does not filter")
	}
	a = partner.get("/releases?campaign=open-doors&kind=picture")
	if strings.Contains(a.body, "/packages/"+private) || !strings.Contains(a.body, public) {
		t.Error("the campaign filter does not filter")
	}
	partner.get("/releases?kind=video").expect(t, 200, `id="no-releases"`)
	// A page size of the visitor's, kept on the next page.
	a = partner.get("/releases?limit=1")
	a.expect(t, 200, `name="limit" value="1"`, "&amp;limit=1\"")
	if n := strings.Count(a.body, `class="release-card"`); n != 1 {
		t.Errorf("a page of 1 shows %d cards", n)
	}
	partner.get("/releases?kind=nonsense").expect(t, 400)

	// The thumbnail the grid shows is served to the partner's session.
	thumb := partner.get("/v1/packages/" + public + "/assets/poster.jpg?rendition=thumbnail")
	if thumb.status != 200 || thumb.header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("thumbnail: %d %s", thumb.status, thumb.header.Get("Content-Type"))
	}
}

// TestReleasesSearch: the search box on the releases page finds what the
// visitor may read by its words, ranked, with the matched words marked
// and the package's own markup escaped; bad words are a 400 that says so.
func TestReleasesSearch(t *testing.T) {
	n := newNewsroom(t)
	h := n.h
	public := n.make(pkgSpec{campaign: "open-doors", headline: "Домогательства на работе <b>жирный</b>", release: "now"})
	private := n.make(pkgSpec{campaign: "shelters", lang: "kk", headline: "Зорлық-зомбылыққа қарсы баспаналар", release: "now"})
	draft := n.make(pkgSpec{campaign: "open-doors", headline: "Черновик о домогательствах"})
	syncCtx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := h.Server.Search().Sync(syncCtx); err != nil {
		t.Fatal(err)
	}
	partner, other := newVisitor(t, h), newVisitor(t, h)
	partner.signIn(n.entitled)
	other.signIn(n.other)
	a := partner.get("/releases?q=" + url.QueryEscape("домогательство"))
	a.expect(t, 200, `id="search-results"`, `href="/packages/`+public+`"`, "<mark>Домогательства</mark>", "&lt;b&gt;жирный&lt;/b&gt;", `name="q" type="search" value="домогательство"`)
	if strings.Contains(a.body, draft) || strings.Contains(a.body, "<b>жирный") {
		t.Error("the search shows a draft, or the package's markup unescaped")
	}
	partner.get("/releases?q="+url.QueryEscape("зорлық")).expect(t, 200, `href="/packages/`+private+`"`, "<mark>Зорлық</mark>")
	if a := other.get("/releases?q=" + url.QueryEscape("зорлық")); strings.Contains(a.body, private) {
		t.Error("another partner finds a private package")
	} else {
		a.expect(t, 200, `id="no-results"`)
	}
	// An empty box (the filter form sends one with every change) is the
	// grid, filtered as asked.
	empty := partner.get("/releases?q=&language=kk")
	empty.expect(t, 200)
	if strings.Contains(empty.body, `id="search-problem"`) {
		t.Error("an empty search box was answered as a bad search")
	}
	partner.get("/releases?q="+strings.Repeat("я", 201)).expect(t, 400, `id="search-problem"`)
}
