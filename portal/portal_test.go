package portal_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/syndication-hub/hub/hub/hubtest"
)

// visitor is a browser without a browser: a cookie jar that does not
// follow redirects, so tests see each answer.
type visitor struct {
	t   *testing.T
	h   *hubtest.Hub
	c   *http.Client
	url *url.URL
}

func newVisitor(t *testing.T, h *hubtest.Hub) *visitor {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(h.URL)
	return &visitor{t: t, h: h, url: u, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (v *visitor) do(method, path string, form url.Values, headers ...string) answer {
	v.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, v.h.URL+path, body)
	if err != nil {
		v.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := v.c.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func (v *visitor) get(path string) answer { return v.do("GET", path, nil) }

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the token a page at path hands its forms.
func (v *visitor) csrf(path string) string {
	v.t.Helper()
	m := csrfField.FindStringSubmatch(v.get(path).body)
	if m == nil {
		v.t.Fatalf("no CSRF field on %s", path)
	}
	return m[1]
}

// post sends a form from the page at from, with its token.
func (v *visitor) post(from, path string, form url.Values) answer {
	v.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", v.csrf(from))
	return v.do("POST", path, form)
}

func (v *visitor) signIn(key string) {
	v.t.Helper()
	if a := v.post("/signin", "/signin", url.Values{"key": {key}}); a.status != http.StatusSeeOther {
		v.t.Fatalf("sign in: %d %s", a.status, a.body)
	}
}

func (v *visitor) cookie(name string) string {
	for _, c := range v.c.Jar.Cookies(v.url) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (a answer) expect(t *testing.T, status int, contains ...string) {
	t.Helper()
	if a.status != status {
		t.Errorf("status %d, want %d\n%.800s", a.status, status, a.body)
	}
	for _, s := range contains {
		if !strings.Contains(a.body, s) {
			t.Errorf("the answer lacks %q\n%.800s", s, a.body)
		}
	}
}

// apiCall calls the API with a bearer key.
func apiCall(t *testing.T, h *hubtest.Hub, method, path, key string, body any) answer {
	t.Helper()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, h.URL+path, bytes.NewReader(j))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func TestSecurityHeaders(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	v := newVisitor(t, h)
	for _, path := range []string{"/", "/signin", "/no/such/page", "/signin/unknowntoken", "/static/portal.css", "/admin/sessions"} {
		a := v.get(path)
		csp := a.header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "style-src 'self'", "img-src 'self' data:", "media-src 'self'",
			"frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows inline code", path)
		}
		if got := a.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", path, got)
		}
		if got := a.header.Get("Referrer-Policy"); got != "same-origin" {
			t.Errorf("%s: Referrer-Policy %q", path, got)
		}
		if strings.Contains(a.body, "<script>") || strings.Contains(a.body, "style=") || strings.Contains(a.body, "hx-on") {
			t.Errorf("%s has inline script or style", path)
		}
	}
}

func TestPagesByVisitor(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	admin, producer, partner := newVisitor(t, h), newVisitor(t, h), newVisitor(t, h)
	admin.signIn(h.AdminKey)
	producer.signIn(h.ProducerKey(t))
	partner.signIn(h.PartnerKey(t, "Regional TV"))
	anon := newVisitor(t, h)
	tests := []struct {
		who    *visitor
		path   string
		status int
		want   string
	}{
		{anon, "/", 200, `action="/signin"`},
		{anon, "/admin/sessions", 401, `action="/signin"`},
		{anon, "/admin/signin-links", 401, `action="/signin"`},
		{anon, "/nothing-here", 404, `data-status="404"`},
		{admin, "/", 200, `href="/admin/signin-links"`},
		{admin, "/admin/sessions", 200, "producer"},
		{admin, "/admin/signin-links", 200, `action="/admin/signin-links"`},
		{producer, "/", 200, `id="greeting"`},
		{producer, "/admin/sessions", 403, `data-status="403"`},
		{producer, "/admin/signin-links", 403, `data-status="403"`},
		{partner, "/", 200, "Regional TV ingest"},
		{partner, "/admin/sessions", 403, `data-status="403"`},
		{partner, "/admin/signin-links", 403, `data-status="403"`},
	}
	for _, tt := range tests {
		a := tt.who.get(tt.path)
		if a.status != tt.status || !strings.Contains(a.body, tt.want) {
			t.Errorf("%s: %d, want %d with %q\n%.600s", tt.path, a.status, tt.status, tt.want, a.body)
		}
	}
	// The partner's home page offers no admin link; the API answers its
	// own unknown paths with a problem, not a page.
	if a := partner.get("/"); strings.Contains(a.body, "/admin/") {
		t.Error("a partner's home page links to admin pages")
	}
	if a := anon.get("/v1/nothing"); a.status != 401 && !strings.Contains(a.header.Get("Content-Type"), "problem") {
		t.Errorf("/v1/nothing: %d %s", a.status, a.header.Get("Content-Type"))
	}
}

func TestSignInAndCSRF(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	v := newVisitor(t, h)
	// A wrong key is refused with the form again.
	v.post("/signin", "/signin", url.Values{"key": {"hub_nope"}}).expect(t, 401, `id="signin-error"`)
	// No token: refused, in the visitor's language, and nobody signed in.
	v.do("POST", "/signin", url.Values{"key": {h.AdminKey}}, "Accept-Language", "kk").expect(t, 403, "Форма қабылданбады")
	if v.cookie("hub_session") != "" {
		t.Fatal("a sign-in without a CSRF token made a session")
	}
	v.signIn(h.AdminKey)
	if c := v.cookie("hub_session"); c == "" {
		t.Fatal("no session cookie")
	}
	// Signed in, an old pre-session token is no longer the token.
	v.do("POST", "/signout", url.Values{"csrf": {v.cookie("hub_presession")}}).expect(t, 403)
	v.get("/").expect(t, 200, `id="signed-in"`)

	// The API takes the session cookie, with its token on unsafe calls.
	token := v.csrf("/")
	v.do("GET", "/v1/keys", nil).expect(t, 200, `"items"`)
	v.do("POST", "/v1/partners", nil, "Content-Type", "application/json").expect(t, 403, "X-CSRF-Token")
	req := func(extra ...string) answer {
		r, _ := http.NewRequest("POST", h.URL+"/v1/keys", strings.NewReader(`{"role":"producer","name":"from the portal"}`))
		r.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(extra); i += 2 {
			r.Header.Set(extra[i], extra[i+1])
		}
		resp, err := v.c.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, string(b)}
	}
	req().expect(t, 403)
	req("X-CSRF-Token", "wrong").expect(t, 403)
	req("X-CSRF-Token", token).expect(t, 201, `"key"`)

	// Signing out ends the session: the old cookie no longer works.
	old := v.cookie("hub_session")
	v.post("/", "/signout", nil).expect(t, 303)
	r, _ := http.NewRequest("GET", h.URL+"/v1/keys", nil)
	r.AddCookie(&http.Cookie{Name: "hub_session", Value: old})
	if resp, err := http.DefaultClient.Do(r); err != nil || resp.StatusCode != 401 {
		t.Errorf("a signed-out session still works: %v %v", resp.StatusCode, err)
	}
}

func TestSignOutEverywhere(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	key := h.ProducerKey(t)
	a, b, other := newVisitor(t, h), newVisitor(t, h), newVisitor(t, h)
	a.signIn(key)
	b.signIn(key)
	other.signIn(h.AdminKey)
	a.post("/", "/signout/everywhere", nil).expect(t, 303)
	b.get("/").expect(t, 200, `action="/signin"`)
	other.get("/").expect(t, 200, `id="signed-in"`)
}

func TestSigninLinks(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	ans := apiCall(t, h, "POST", "/v1/signin-links", h.AdminKey, map[string]any{"name": "Нурлан Абенов", "role": "producer", "campaigns": []string{"korgau123"}})
	ans.expect(t, 201, `"url"`)
	var link struct{ URL, KeyID string }
	json.Unmarshal([]byte(ans.body), &link)
	path := strings.TrimPrefix(link.URL, h.URL)
	// A previewer opens the link: twice, nothing is used up.
	preview := newVisitor(t, h)
	preview.get(path).expect(t, 200, "Нурлан Абенов")
	preview.get(path).expect(t, 200, `id="use-link"`)
	// The listing shows the link and its key, no token.
	list := apiCall(t, h, "GET", "/v1/signin-links", h.AdminKey, nil)
	list.expect(t, 200, `"state":"usable"`, link.KeyID)
	if strings.Contains(list.body, strings.TrimPrefix(path, "/signin/")) {
		t.Error("the listing shows a token")
	}
	apiCall(t, h, "GET", "/v1/keys", h.AdminKey, nil).expect(t, 200, `"signinlink"`)

	person := newVisitor(t, h)
	person.do("POST", path, url.Values{}).expect(t, 403) // no token
	person.post(path, path, nil).expect(t, 303)
	person.get("/").expect(t, 200, "Нурлан Абенов")
	// Used: every later visit says so, and signs nobody in.
	late := newVisitor(t, h)
	late.get(path).expect(t, 410, `data-state="used"`)
	late.post("/", path, nil).expect(t, 410, `data-state="used"`)
	newVisitor(t, h).get("/signin/notatoken").expect(t, 404, `data-state="unknown"`)

	// Revoking the key ends the session at the next page load, and an
	// unused link of the same kind says it was revoked.
	apiCall(t, h, "DELETE", "/v1/keys/"+link.KeyID, h.AdminKey, nil).expect(t, 204)
	person.get("/").expect(t, 200, `action="/signin"`)
	ans = apiCall(t, h, "POST", "/v1/signin-links", h.AdminKey, map[string]any{"name": "Second", "role": "producer"})
	json.Unmarshal([]byte(ans.body), &link)
	apiCall(t, h, "DELETE", "/v1/keys/"+link.KeyID, h.AdminKey, nil).expect(t, 204)
	newVisitor(t, h).get(strings.TrimPrefix(link.URL, h.URL)).expect(t, 410, `data-state="revoked"`)

	// Only admins issue links.
	apiCall(t, h, "POST", "/v1/signin-links", h.ProducerKey(t), map[string]any{"name": "x", "role": "producer"}).expect(t, 403)
	apiCall(t, h, "POST", "/v1/signin-links", h.AdminKey, map[string]any{"name": "x", "role": "partner"}).expect(t, 400)
}

func TestLanguage(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	v := newVisitor(t, h)
	v.do("GET", "/", nil, "Accept-Language", "ky-KG").expect(t, 200, `lang="ky"`, "Кирүү")
	v.do("GET", "/", nil, "Accept-Language", "de").expect(t, 200, `lang="ru"`)
	tests := []struct{ back, want string }{
		{"/signin", "/signin"},
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"", "/"},
		{"/admin/sessions?x=1", "/admin/sessions?x=1"},
	}
	for _, tt := range tests {
		a := v.post("/", "/lang", url.Values{"lang": {"kk"}, "back": {tt.back}})
		if a.status != 303 || a.header.Get("Location") != tt.want {
			t.Errorf("back %q: %d to %q, want %q", tt.back, a.status, a.header.Get("Location"), tt.want)
		}
	}
	v.do("GET", "/", nil, "Accept-Language", "en").expect(t, 200, `lang="kk"`, "Кіру")
}

// TestStylesheetBlocks: every block of the stylesheet is closed, and no
// rule opens inside another but in an at-rule. A rule left open (a merge
// once cut one short) makes every later rule a nested one that matches
// nothing, and the pages lose their layout without an error anywhere.
func TestStylesheetBlocks(t *testing.T) {
	css, err := os.ReadFile("static/portal.css")
	if err != nil {
		t.Fatal(err)
	}
	s := regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(string(css), "")
	var open []bool // for each open block: is it an at-rule's
	prelude, line := "", 1
	for _, r := range s {
		switch r {
		case '{':
			sel := strings.TrimSpace(prelude)
			if len(open) > 0 && !open[len(open)-1] {
				t.Errorf("line %d: %q opens a rule inside a rule", line, sel)
			}
			open, prelude = append(open, strings.HasPrefix(sel, "@")), ""
		case '}':
			if len(open) == 0 {
				t.Fatalf("line %d closes a block that is not open", line)
			}
			open, prelude = open[:len(open)-1], ""
		case ';':
			prelude = ""
		case '\n':
			line++
			prelude += " "
		default:
			prelude += string(r)
		}
	}
	if len(open) != 0 {
		t.Errorf("the stylesheet ends with %d blocks open", len(open))
	}
}
