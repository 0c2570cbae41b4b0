package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// newPickupTestHub is newTestHub: the server records pickups on the
// HUB_PICKUPS stream, as serve does.
func newPickupTestHub(t *testing.T, store string, opts hubOptions) *testHub {
	t.Helper()
	return newTestHub(t, store, opts)
}

// forEachPickupStore is forEachStore on pickup test hubs.
func forEachPickupStore(t *testing.T, opts hubOptions, f func(t *testing.T, h *testHub)) {
	for _, store := range stores {
		t.Run(store, func(t *testing.T) { f(t, newPickupTestHub(t, store, opts)) })
	}
}

// outlet makes a partner record and a key of it.
func (h *testHub) outlet(name, region, medium string, campaigns ...string) (id, key string) {
	h.t.Helper()
	var p struct{ ID string }
	h.do("POST", "/v1/partners", h.admin, map[string]any{"name": name, "region": region, "medium": medium, "campaigns": campaigns}).
		expect(h.t, http.StatusCreated).json(h.t, &p)
	var k struct{ Key string }
	h.do("POST", "/v1/keys", h.admin, map[string]any{"role": "partner", "name": name, "partner": p.ID}).
		expect(h.t, http.StatusCreated).json(h.t, &k)
	return p.ID, k.Key
}

// reachAnswer is GET /v1/campaigns/{slug}/reach.
type reachAnswer struct {
	Campaign  string
	Outlets   int
	Downloads struct {
		Total, Distinct, Anonymous int
		Assets                     []struct {
			Package, Asset               string
			Downloads, Requests, Outlets int
		}
	}
	Republications int
	Audience       int64
	Regions        []reachGroup
	Media          []reachGroup
}

type reachGroup struct {
	Region, Medium                                         string
	Outlets, Downloads, Requests, Republications, Audience int64
}

func (h *testHub) reach(key, campaign string) reachAnswer {
	h.t.Helper()
	var r reachAnswer
	h.do("GET", "/v1/campaigns/"+campaign+"/reach", key, nil).expect(h.t, http.StatusOK).json(h.t, &r)
	return r
}

func TestPickupsAndReach(t *testing.T) {
	h := newPickupTestHub(t, "disk", hubOptions{})
	producer := h.key("producer")
	almatyID, almaty := h.outlet("Almaty TV", "Almaty", "tv")
	bishkekID, bishkek := h.outlet("Bishkek Online", "Bishkek", "online")
	loose := h.key("partner")
	id := h.readyPackage(producer, "korgau123")
	transcript := "Сұхбат мәтіні.txt"
	h.do("PUT", "/v1/packages/"+id+"/assets/"+url.PathEscape(transcript), producer, "Транскрипт интервью\n").expect(t, http.StatusCreated)

	// Before the release nothing is served to partners, nor recorded.
	h.do("GET", "/v1/packages/"+id+"/assets/poster.png", almaty, nil).expect(t, http.StatusNotFound)
	h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
	if r := h.reach(producer, "korgau123"); r.Downloads.Total != 0 || r.Outlets != 0 {
		t.Fatalf("reach before any download: %+v", r)
	}

	poster := "/v1/packages/" + id + "/assets/poster.png"
	// Almaty downloads the poster, then "resumes" it twice: three
	// requests, one pickup.
	full := h.do("GET", poster, almaty, nil).expect(t, http.StatusOK)
	h.do("GET", poster, almaty, nil, "Range", "bytes=0-9").expect(t, http.StatusPartialContent)
	h.do("GET", poster, almaty, nil, "Range", "bytes=10-").expect(t, http.StatusPartialContent)
	// Answers without the bytes are no pickup: HEAD, 304, 416.
	h.do("HEAD", poster, almaty, nil).expect(t, http.StatusOK)
	h.do("GET", poster, almaty, nil, "If-None-Match", full.Header.Get("ETag")).expect(t, http.StatusNotModified)
	h.do("GET", poster, almaty, nil, "Range", "bytes=999999-").expect(t, http.StatusRequestedRangeNotSatisfiable)
	// Bishkek takes the whole package as a zip: both assets.
	h.do("GET", "/v1/packages/"+id+"/archive.zip", bishkek, nil).expect(t, http.StatusOK)
	// Someone without a key, from a public feed's link.
	h.do("GET", poster, "", nil).expect(t, http.StatusOK)
	// A partner key without a partner record.
	h.do("GET", poster, loose, nil).expect(t, http.StatusOK)
	// The producer checking its own work is no pickup.
	h.do("GET", poster, producer, nil).expect(t, http.StatusOK)
	h.do("GET", "/v1/packages/"+id+"/archive.zip", producer, nil).expect(t, http.StatusOK)

	published := time.Now().Add(-time.Hour).Format(time.RFC3339)
	var rep struct {
		ID, Package, Campaign, Partner, URL, Medium string
		Version                                     int
		Audience                                    int64
		Published, Reported                         time.Time
	}
	h.do("POST", "/v1/packages/"+id+"/republications", almaty, map[string]any{
		"url": "https://almaty.tv/news/1", "published": published, "audience": 120000,
	}).expect(t, http.StatusCreated).json(t, &rep)
	if rep.ID == "" || rep.Package != id || rep.Campaign != "korgau123" || rep.Partner != almatyID || rep.Medium != "tv" ||
		rep.Version != 1 || rep.Audience != 120000 || rep.URL != "https://almaty.tv/news/1" || rep.Published.IsZero() || rep.Reported.IsZero() {
		t.Errorf("republication answered %+v", rep)
	}
	h.do("POST", "/v1/packages/"+id+"/republications", bishkek, map[string]any{
		"url": "https://bishkek.kg/a", "medium": "print", "published": published, "audience": 5000,
	}).expect(t, http.StatusCreated)
	// The same URL again: a correction of the figure, counted once.
	h.do("POST", "/v1/packages/"+id+"/republications", bishkek, map[string]any{
		"url": "https://bishkek.kg/a", "medium": "print", "published": published, "audience": 6000,
	}).expect(t, http.StatusCreated)

	r := h.reach(producer, "korgau123")
	if r.Campaign != "korgau123" || r.Outlets != 2 || r.Republications != 2 || r.Audience != 126000 {
		t.Errorf("reach: outlets %d, republications %d, audience %d", r.Outlets, r.Republications, r.Audience)
	}
	// Requests: Almaty 3, Bishkek's zip 1, keyless 1, loose key 1.
	// Distinct: Almaty's poster; Bishkek's poster and transcript; the
	// public's poster; the loose key's poster.
	if d := r.Downloads; d.Total != 6 || d.Distinct != 5 || d.Anonymous != 1 {
		t.Errorf("downloads: %+v", d)
	}
	wantAssets := map[string][3]int{"poster.png": {4, 6, 2}, transcript: {1, 1, 1}}
	if len(r.Downloads.Assets) != len(wantAssets) {
		t.Errorf("assets: %+v", r.Downloads.Assets)
	}
	for _, a := range r.Downloads.Assets {
		if want := wantAssets[a.Asset]; a.Package != id || [3]int{a.Downloads, a.Requests, a.Outlets} != want {
			t.Errorf("asset %s: downloads, requests, outlets %d %d %d, want %v", a.Asset, a.Downloads, a.Requests, a.Outlets, want)
		}
	}
	wantRegions := []reachGroup{
		{Region: "", Downloads: 2, Requests: 2},
		{Region: "Almaty", Outlets: 1, Downloads: 1, Requests: 3, Republications: 1, Audience: 120000},
		{Region: "Bishkek", Outlets: 1, Downloads: 2, Requests: 1, Republications: 1, Audience: 6000},
	}
	wantMedia := []reachGroup{
		{Medium: "", Downloads: 2, Requests: 2},
		{Medium: "online", Outlets: 1, Downloads: 2, Requests: 1},
		{Medium: "print", Outlets: 1, Republications: 1, Audience: 6000},
		{Medium: "tv", Outlets: 1, Downloads: 1, Requests: 3, Republications: 1, Audience: 120000},
	}
	for _, c := range []struct {
		name      string
		got, want []reachGroup
	}{{"regions", r.Regions, wantRegions}, {"media", r.Media, wantMedia}} {
		if len(c.got) != len(c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, c.got, c.want)
			continue
		}
		for i := range c.want {
			if c.got[i] != c.want[i] {
				t.Errorf("%s[%d]: %+v, want %+v", c.name, i, c.got[i], c.want[i])
			}
		}
	}

	// Who may see reach: admins, producers of the campaign. Everyone else
	// finds no such campaign.
	h.reach(h.admin, "korgau123")
	h.do("GET", "/v1/campaigns/korgau123/reach", almaty, nil).expect(t, http.StatusNotFound)
	h.do("GET", "/v1/campaigns/korgau123/reach", loose, nil).expect(t, http.StatusNotFound)
	h.do("GET", "/v1/campaigns/korgau123/reach", h.key("producer", "other-campaign"), nil).expect(t, http.StatusNotFound)
	h.do("GET", "/v1/campaigns/no-such-campaign/reach", h.admin, nil).expect(t, http.StatusNotFound).problem(t)
	h.do("GET", "/v1/campaigns/korgau123/reach", "", nil).expect(t, http.StatusUnauthorized)
	if r := h.reach(h.key("producer", "korgau123"), "korgau123"); r.Downloads.Total != 6 {
		t.Errorf("a producer of the campaign sees %d downloads", r.Downloads.Total)
	}

	// The package's pickups, newest first, with the outlets' names.
	var list struct {
		Items []struct {
			Kind, Partner, PartnerName, Asset, URL string
			Assets                                 []string
			Ranged                                 bool
			Bytes                                  int64
		}
	}
	h.do("GET", "/v1/packages/"+id+"/pickups", producer, nil).expect(t, http.StatusOK).json(t, &list)
	if len(list.Items) != 9 {
		t.Fatalf("%d pickups listed, want 9: %+v", len(list.Items), list.Items)
	}
	if first := list.Items[0]; first.Kind != "republication" || first.PartnerName != "Bishkek Online" || first.Partner != bishkekID {
		t.Errorf("newest pickup %+v", first)
	}
	if last := list.Items[8]; last.Kind != "download" || last.PartnerName != "Almaty TV" || last.Ranged || last.Bytes != int64(len(full.body)) {
		t.Errorf("oldest pickup %+v", last)
	}
	if zip := list.Items[5]; zip.Kind != "archive" || len(zip.Assets) != 2 || zip.Bytes == 0 {
		t.Errorf("zip pickup %+v", zip)
	}
	h.do("GET", "/v1/packages/"+id+"/pickups", almaty, nil).expect(t, http.StatusNotFound)
	h.do("GET", "/v1/packages/"+id+"/pickups", h.key("producer", "other-campaign"), nil).expect(t, http.StatusNotFound)
}

func TestPresignedDownloadIsAPickup(t *testing.T) {
	h := newPickupTestHub(t, "s3", hubOptions{presign: true})
	producer := h.key("producer")
	_, partner := h.outlet("Vesti", "Astana", "online")
	id := h.readyPackage(producer, "korgau123")
	h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", h.URL+"/v1/packages/"+id+"/assets/poster.png", nil)
	req.Header.Set("Authorization", "Bearer "+partner)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("answered %d, want a redirect", resp.StatusCode)
	}
	if r := h.reach(producer, "korgau123"); r.Downloads.Total != 1 || r.Downloads.Distinct != 1 || r.Outlets != 1 {
		t.Errorf("a presigned download counted as %+v with %d outlets", r.Downloads, r.Outlets)
	}
}

func TestRepublicationReportsRefusedWithAReason(t *testing.T) {
	h := newPickupTestHub(t, "disk", hubOptions{})
	producer := h.key("producer")
	h.do("POST", "/v1/campaigns", producer, map[string]any{"slug": "survivors", "visibility": "partners"}).expect(t, http.StatusCreated)
	_, partner := h.outlet("Almaty TV", "Almaty", "tv")
	_, entitled := h.outlet("Closed Circle", "Osh", "radio", "survivors")
	id := h.readyPackage(producer, "korgau123")
	closed := h.readyPackage(producer, "survivors")
	draft := h.readyPackage(producer, "korgau123")
	for _, p := range []string{id, closed} {
		h.do("POST", "/v1/packages/"+p+"/release", producer, nil).expect(t, http.StatusOK)
	}
	now := time.Now()
	valid := func() map[string]any {
		return map[string]any{"url": "https://almaty.tv/news/1", "published": now.Add(-time.Minute).Format(time.RFC3339), "audience": 10}
	}
	with := func(k string, v any) map[string]any {
		b := valid()
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	path := "/v1/packages/" + id + "/republications"
	for _, tc := range []struct {
		name   string
		body   any
		status int
		detail string
	}{
		{"no url", with("url", nil), 400, "url is required"},
		{"relative url", with("url", "/news/1"), 400, "absolute http or https"},
		{"ftp url", with("url", "ftp://almaty.tv/1"), 400, "absolute http or https"},
		{"url with spaces", with("url", "https://almaty.tv/a b"), 400, "spaces"},
		{"url too long", with("url", "https://almaty.tv/"+strings.Repeat("a", 2100)), 400, "longer than"},
		{"unknown medium", with("medium", "carrier pigeon"), 400, "not one of tv, radio, print, online"},
		{"no time", with("published", nil), 400, "published is required"},
		{"time not RFC 3339", with("published", "yesterday"), 400, "not an RFC 3339 time"},
		{"time in the future", with("published", now.Add(time.Hour).Format(time.RFC3339)), 400, "in the future"},
		{"negative audience", with("audience", -1), 400, "zero or more"},
		{"fractional audience", with("audience", 1.5), 400, "whole number"},
		{"huge audience", with("audience", int64(1e11)), 400, "more people than there are"},
		{"audience as words", with("audience", "many"), 400, ""},
		{"unknown field", with("reach", 5), 400, "unknown field"},
		{"not JSON", "url=https://x", 400, "not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.with(t)
			r := h.do("POST", path, partner, tc.body).expect(t, tc.status)
			if p := r.problem(t); !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail %q does not say %q", p.Detail, tc.detail)
			}
		})
	}
	// Who may report: a partner record's key, on a package it sees.
	h.do("POST", path, producer, valid()).expect(t, http.StatusForbidden)
	h.do("POST", path, h.admin, valid()).expect(t, http.StatusForbidden)
	h.do("POST", path, h.key("partner"), valid()).expect(t, http.StatusForbidden)
	h.do("POST", path, "", valid()).expect(t, http.StatusUnauthorized)
	h.do("POST", "/v1/packages/"+closed+"/republications", partner, valid()).expect(t, http.StatusNotFound)
	h.do("POST", "/v1/packages/"+closed+"/republications", entitled, valid()).expect(t, http.StatusCreated)
	h.do("POST", "/v1/packages/"+draft+"/republications", partner, valid()).expect(t, http.StatusNotFound)
	h.do("POST", "/v1/packages/not-an-id/republications", partner, valid()).expect(t, http.StatusNotFound)
	// Medium defaults to the outlet's; a withdrawn package's earlier
	// republication may still be reported.
	var rep struct{ Medium string }
	h.do("POST", path, partner, with("medium", nil)).expect(t, http.StatusCreated).json(t, &rep)
	if rep.Medium != "tv" {
		t.Errorf("medium defaulted to %q, want the outlet's tv", rep.Medium)
	}
	h.do("POST", "/v1/packages/"+id+"/withdraw", producer, nil).expect(t, http.StatusOK)
	h.do("POST", path, partner, valid()).expect(t, http.StatusCreated)
	if r := h.reach(producer, "korgau123"); r.Republications != 1 || r.Audience != 10 {
		t.Errorf("two reports of one URL counted as %d republications, audience %d", r.Republications, r.Audience)
	}
}
