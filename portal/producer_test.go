package portal_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
)

// producerFor makes a producer key limited to campaigns.
func producerFor(t *testing.T, h *hubtest.Hub, name string, campaigns ...string) string {
	t.Helper()
	_, secret, err := h.Service.CreateKey(context.Background(), h.Admin(t), hub.Key{Role: hub.RoleProducer, Name: name, Campaigns: campaigns})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// campaign creates a campaign, as an admin does before its producers work in it.
func campaign(t *testing.T, h *hubtest.Hub, slug string) {
	t.Helper()
	if _, err := h.Service.CreateCampaign(context.Background(), h.Admin(t), hub.NewCampaign(slug, time.Now())); err != nil {
		t.Fatal(err)
	}
}

func stored(t *testing.T, h *hubtest.Hub, id string) *hub.Package {
	t.Helper()
	p, err := h.Service.Package(context.Background(), h.Admin(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStudioAccess(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	pkg := h.ReadyPackage(t, "korgau")
	own, other, partner, admin, anon := newVisitor(t, h), newVisitor(t, h), newVisitor(t, h), newVisitor(t, h), newVisitor(t, h)
	own.signIn(producerFor(t, h, "Korgau team", "korgau"))
	other.signIn(producerFor(t, h, "Other team", "other"))
	partner.signIn(h.PartnerKey(t, "Regional TV", "korgau"))
	admin.signIn(h.AdminKey)
	page := "/studio/" + pkg.ID
	tests := []struct {
		who    *visitor
		path   string
		status int
		want   string
	}{
		{anon, "/studio", 401, `action="/signin"`},
		{anon, page, 401, `action="/signin"`},
		{partner, "/studio", 403, `data-status="403"`},
		{partner, "/studio/new", 403, `data-status="403"`},
		{partner, page, 403, `data-status="403"`},
		{partner, page + "/purge", 403, `data-status="403"`},
		{own, "/studio", 200, `href="/studio/` + pkg.ID + `"`},
		{own, page, 200, `id="package-form"`},
		{own, page + "/purge", 200, "poster.png"},
		{own, "/studio/new", 200, `value="korgau"`},
		{other, page, 404, `data-status="404"`},
		{other, page + "/purge", 404, `data-status="404"`},
		{admin, "/studio", 200, pkg.ID},
		{admin, page, 200, "poster.png"},
		{own, "/studio/not-an-id", 404, `data-status="404"`},
	}
	for _, tt := range tests {
		a := tt.who.get(tt.path)
		if a.status != tt.status || !strings.Contains(a.body, tt.want) {
			t.Errorf("%s: %d, want %d with %q\n%.600s", tt.path, a.status, tt.status, tt.want, a.body)
		}
	}
	// The studio's pages carry no inline script or style: the uploader's
	// strings are a JSON data block, which the CSP lets be.
	for _, path := range []string{"/studio", "/studio/new", page, page + "/purge"} {
		a := own.get(path)
		if strings.Contains(a.body, "<script>") || strings.Contains(a.body, "style=") || strings.Contains(a.body, "hx-on") ||
			!strings.Contains(a.header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s has inline script or style, or no CSP", path)
		}
	}
	if a := own.get(page); !strings.Contains(a.body, `<script type="application/json" id="uppy-strings">{"note":`) {
		t.Errorf("the package page lacks the uploader's strings")
	}
	if a := other.get("/studio"); strings.Contains(a.body, pkg.ID) {
		t.Error("a producer of another campaign sees the package in the studio")
	}
	// The other campaign's producer cannot change it, nor release it; a
	// partner's POST is refused by its role.
	other.post("/studio", page, url.Values{"campaign": {"korgau"}, "language": {"ru"}, "headline": {"Changed"}}).expect(t, 404)
	other.post("/studio", page+"/release", nil).expect(t, 404)
	partner.post("/", page+"/withdraw", nil).expect(t, 403)
	if p := stored(t, h, pkg.ID); p.Status != hub.StatusDraft || p.Headlines[0].Value == "Changed" {
		t.Errorf("the package changed: %s %q", p.Status, p.Headlines[0].Value)
	}
	// Its own producer edits it: only what the form changed.
	own.post(page, page, url.Values{"campaign": {"korgau"}, "language": {"ru"}, "headline": {"Новый заголовок"},
		"by": {"Korgau"}, "anonymized": {"on"}}).expect(t, 303)
	if p := stored(t, h, pkg.ID); p.Headlines[0].Value != "Новый заголовок" || p.By != "Korgau" || !p.Anonymized {
		t.Errorf("the edit was not saved: %+v", p)
	}
}

func TestStudioCSRFAndValidation(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	campaign(t, h, "korgau")
	v := newVisitor(t, h)
	v.signIn(producerFor(t, h, "Korgau team", "korgau"))
	form := url.Values{"campaign": {"korgau"}, "language": {"kk"}, "headline": {"Тақырып"}}
	// Without the token: refused, nothing stored.
	v.do("POST", "/studio/new", form).expect(t, 403, "csrf")
	list := func() int {
		page, err := h.Service.Packages(context.Background(), h.Admin(t), hub.PackageQuery{})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Items)
	}
	if n := list(); n != 0 {
		t.Fatalf("%d packages after a refused form", n)
	}
	// A form the domain refuses, in Kazakh: shown beside the form as
	// typed, nothing stored.
	bad := url.Values{"campaign": {"Not A Slug"}, "language": {"kk"}, "headline": {"Тақырыбы сақталады"}, "csrf": {v.csrf("/studio/new")}}
	v.do("POST", "/studio/new", bad, "Accept-Language", "kk").expect(t, 400,
		`id="form-problem"`, "Сұрау дұрыс емес. Өрістерді тексеріп, қайталап көріңіз.", `value="Тақырыбы сақталады"`, `lang="kk"`)
	// A producer of korgau may not create in another campaign: the domain's 403, beside the form.
	other := url.Values{"campaign": {"elsewhere"}, "language": {"kk"}, "csrf": {v.csrf("/studio/new")}}
	v.do("POST", "/studio/new", other, "Accept-Language", "kk").expect(t, 403, `id="form-problem"`)
	if n := list(); n != 0 {
		t.Fatalf("%d packages after refused forms", n)
	}
	form.Set("csrf", v.csrf("/studio/new"))
	a := v.do("POST", "/studio/new", form)
	a.expect(t, 303)
	if loc := a.header.Get("Location"); !strings.HasPrefix(loc, "/studio/") || !strings.HasSuffix(loc, "?done=created") {
		t.Errorf("created: Location %q", loc)
	}
	if n := list(); n != 1 {
		t.Fatalf("%d packages after a create", n)
	}
}

// upload posts the plain upload form with one file.
func (v *visitor) upload(path, name string, body []byte) answer {
	v.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	w.WriteField("csrf", v.csrf(strings.TrimSuffix(path, "/assets")))
	w.WriteField("type", "picture")
	f, _ := w.CreateFormFile("file", name)
	f.Write(body)
	w.Close()
	req, _ := http.NewRequest("POST", v.h.URL+path, &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := v.c.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(out)}
}

// posterPNG is a small PNG poster with a text chunk the scrub removes.
func posterPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 120, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	// A tEXt chunk naming the author, before IEND.
	raw := b.Bytes()
	iend := raw[len(raw)-12:]
	chunk := pngChunk("tEXt", []byte("Author\x00Aigerim Bekova"))
	return append(append(append([]byte{}, raw[:len(raw)-12]...), chunk...), iend...)
}

func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	return b.Bytes()
}

func TestStudioLifecycle(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	ctx := context.Background()
	v := newVisitor(t, h)
	v.signIn(producerFor(t, h, "Korgau team", "korgau"))
	p, err := h.Service.CreatePackage(ctx, h.Admin(t), &hub.Package{Campaign: "korgau", Language: "ru", Headlines: []hub.Text{{Value: "Плакат"}}})
	if err != nil {
		t.Fatal(err)
	}
	page := "/studio/" + p.ID

	// Releasing without a file: the domain's refusal, on the page.
	v.post(page, page+"/release", nil).expect(t, 409, `id="problem"`, "without")
	// The plain form's upload, then its scrub report on the page.
	v.upload(page+"/assets", "плакат.png", posterPNG(t)).expect(t, 303)
	v.get(page+"?done=uploaded").expect(t, 200, `data-name="плакат.png"`, `data-scrub="standard"`, "scrub-report", `data-done="uploaded"`)
	// Alt text, through the asset PATCH's service call.
	v.post(page, page+"/asset", url.Values{"name": {"плакат.png"}, "alttext": {"Плакат кампании"}, "caption": {"Подпись"}}).expect(t, 303)
	if a := stored(t, h, p.ID).Asset("плакат.png"); a == nil || a.AltText != "Плакат кампании" || a.Caption != "Подпись" {
		t.Errorf("asset after the edit: %+v", a)
	}

	// An embargo typed in UTC+05:00 is stored in UTC, and shown in both.
	v.post(page, page+"/release", url.Values{"schedule": {"1"}, "embargo": {"2031-05-01T10:00"}, "tz": {"300"}}).expect(t, 303)
	got := stored(t, h, p.ID)
	if want := time.Date(2031, 5, 1, 5, 0, 0, 0, time.UTC); got.Status != hub.StatusScheduled || got.Embargo == nil || !got.Embargo.Equal(want) {
		t.Fatalf("scheduled %s at %v, want %v", got.Status, got.Embargo, want)
	}
	v.get(page+"?tz=300").expect(t, 200, `id="embargo-local"`, "UTC&#43;05:00", `id="embargo-utc"`, "10:00", "05:00")
	// Without a zone (no JavaScript) the time is UTC; seconds are taken.
	v.post(page, page+"/release", url.Values{"schedule": {"1"}, "embargo": {"2031-05-01T10:00:30"}}).expect(t, 303)
	if got := stored(t, h, p.ID); !got.Embargo.Equal(time.Date(2031, 5, 1, 10, 0, 30, 0, time.UTC)) {
		t.Errorf("embargo without a zone: %v", got.Embargo)
	}
	v.post(page, page+"/release", url.Values{"schedule": {"1"}, "embargo": {"soon"}}).expect(t, 400, `id="problem"`)
	v.post(page, page+"/unschedule", nil).expect(t, 303)
	if got := stored(t, h, p.ID); got.Status != hub.StatusDraft || got.Embargo != nil {
		t.Errorf("after unschedule: %s %v", got.Status, got.Embargo)
	}

	// Release, change, correct.
	v.post(page, page+"/release", nil).expect(t, 303)
	v.get(page).expect(t, 200, `data-status="released"`)
	v.post(page, page, url.Values{"campaign": {"korgau"}, "language": {"ru"}, "headline": {"Плакат, исправлено"}}).expect(t, 303)
	v.get(page).expect(t, 200, `id="correct"`)
	if a := v.post(page, page+"/release", nil); a.status != 303 || !strings.Contains(a.header.Get("Location"), "done=corrected") {
		t.Errorf("correction: %d %s", a.status, a.header.Get("Location"))
	}
	if got := stored(t, h, p.ID); got.Live == nil || got.Live.Version != 2 {
		t.Errorf("after the correction: %+v", got.Live)
	}

	// Withdraw: the takedowns show, an outlet that downloaded it is
	// expected to confirm.
	partnerKey := h.PartnerKey(t, "Almaty TV", "korgau")
	apiCall(t, h, "GET", "/v1/packages/"+p.ID+"/assets/"+url.PathEscape("плакат.png"), partnerKey, nil).expect(t, 200)
	v.post(page, page+"/withdraw", nil).expect(t, 303)
	v.get(page).expect(t, 200, `id="takedowns"`, "Almaty TV", `class="state-wait"`, `id="unconfirmed"`)
	// The purge's confirmation names what goes; the purge leaves the
	// takedowns showing.
	v.get(page+"/purge").expect(t, 200, "плакат.png", `id="confirm-purge"`)
	v.do("POST", page+"/purge", url.Values{}).expect(t, 403)
	v.post(page+"/purge", page+"/purge", nil).expect(t, 303)
	v.get(page).expect(t, 200, `data-status="purged"`, `id="takedowns"`, "Almaty TV")
	if got := stored(t, h, p.ID); got.Status != hub.StatusPurged {
		t.Errorf("after the purge: %s", got.Status)
	}
}
