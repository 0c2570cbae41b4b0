package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestPackageLifecycleAsADraft(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	producer := h.key("producer")
	r := h.do("POST", "/v1/packages", producer, `{"campaign": "korgau123", "language": "ru",
		"headlines": [{"value": "Домогательства на работе — это преступление"}],
		"by": "Dobrye Vesti", "usageterms": "Free to republish with credit"}`).expect(t, http.StatusCreated)
	var item map[string]any
	r.json(t, &item)
	id, _ := item["id"].(string)
	for field, want := range map[string]any{
		"version": "1", "status": "draft", "pubstatus": "withheld", "type": "composite", "campaign": "korgau123",
		"language": "ru", "uri": "https://hub.example.org/v1/packages/" + id, "by": "Dobrye Vesti",
	} {
		if item[field] != want {
			t.Errorf("%s = %v, want %v", field, item[field], want)
		}
	}
	if r.Header.Get("Location") != item["uri"] {
		t.Errorf("Location %q", r.Header.Get("Location"))
	}

	h.do("PATCH", "/v1/packages/"+id, producer, map[string]any{"contentwarning": "Describes harassment", "anonymized": true}).
		expect(t, http.StatusOK).json(t, &item)
	if item["contentwarning"] != "Describes harassment" || item["anonymized"] != true || item["by"] != "Dobrye Vesti" {
		t.Errorf("after PATCH: %v", item)
	}
	h.do("GET", "/v1/packages/"+id, producer, nil).expect(t, http.StatusOK).json(t, &item)
	if item["contentwarning"] != "Describes harassment" {
		t.Errorf("GET after PATCH: %v", item)
	}
	h.do("DELETE", "/v1/packages/"+id, producer, nil).expect(t, http.StatusNoContent)
	h.do("GET", "/v1/packages/"+id, producer, nil).expect(t, http.StatusNotFound).problem(t)
}

func TestPackageRequestsRefusedWithAReason(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	producer := h.key("producer")
	id := h.createPackage(producer, "korgau123")
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		detail             string
	}{
		{"malformed JSON", "POST", "/v1/packages", `{"campaign": "korgau123",`, 400, "not valid JSON"},
		{"not an object", "POST", "/v1/packages", `[1, 2]`, 400, "JSON object"},
		{"empty body", "POST", "/v1/packages", ``, 400, "empty"},
		{"unknown field", "POST", "/v1/packages", `{"campaign": "korgau123", "language": "ru", "colour": "red"}`, 400, `unknown field "colour"`},
		{"hub-owned field", "POST", "/v1/packages", `{"campaign": "korgau123", "language": "ru", "status": "released"}`, 400, `unknown field "status"`},
		{"wrong type", "POST", "/v1/packages", `{"campaign": "korgau123", "language": "ru", "headlines": "title"}`, 400, "headlines must be a list"},
		{"two values", "POST", "/v1/packages", `{"campaign": "korgau123", "language": "ru"} {}`, 400, "more than one"},
		{"no campaign", "POST", "/v1/packages", `{"language": "ru"}`, 400, "campaign is required"},
		{"campaign not a slug", "POST", "/v1/packages", `{"campaign": "../etc", "language": "ru"}`, 400, "not a slug"},
		{"no language", "POST", "/v1/packages", `{"campaign": "korgau123"}`, 400, "language is required"},
		{"bad language", "POST", "/v1/packages", `{"campaign": "korgau123", "language": "russian!"}`, 400, "BCP 47"},
		{"empty headline", "POST", "/v1/packages", `{"campaign": "korgau123", "language": "ru", "headlines": [{"value": " "}]}`, 400, "headlines[0].value is empty"},
		{"bad translation id", "POST", "/v1/packages", `{"campaign": "korgau123", "language": "ru", "translations": ["nope"]}`, 400, "not a package id"},
		{"form instead of JSON", "POST", "/v1/packages", strings.NewReader("--x--"), 415, "JSON"},
		{"unknown field in PATCH", "PATCH", "/v1/packages/" + id, `{"version": "7"}`, 400, `unknown field "version"`},
		{"bad PATCH value", "PATCH", "/v1/packages/" + id, `{"language": ""}`, 400, "language is required"},
		{"unknown package", "GET", "/v1/packages/01ARZ3NDEKTSV4RRFFQ69G5FAV", nil, 404, "no package"},
		{"malformed id", "GET", "/v1/packages/..%2F..%2Fetc", nil, 404, "no package"},
		{"lowercase id", "GET", "/v1/packages/" + strings.ToLower(id), nil, 404, "no package"},
		{"PATCH unknown package", "PATCH", "/v1/packages/01ARZ3NDEKTSV4RRFFQ69G5FAV", `{"by": "x"}`, 404, "no package"},
		{"DELETE unknown package", "DELETE", "/v1/packages/01ARZ3NDEKTSV4RRFFQ69G5FAV", nil, 404, "no package"},
		{"unknown route", "GET", "/v1/nothing-here", nil, 404, "nothing at"},
		{"bad list filter", "GET", "/v1/packages?status=published", nil, 400, "status"},
		{"bad list type", "GET", "/v1/packages?type=podcast", nil, 400, "asset type"},
		{"bad limit", "GET", "/v1/packages?limit=100000", nil, 400, "limit"},
		{"bad cursor", "GET", "/v1/packages?cursor=xyz", nil, 400, "cursor"},
		{"unknown list parameter", "GET", "/v1/packages?campain=korgau123", nil, 400, "unknown query parameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.with(t)
			before := h.state()
			var headers []string
			if _, isReader := tc.body.(*strings.Reader); isReader {
				headers = []string{"Content-Type", "multipart/form-data; boundary=x"}
			}
			r := h.do(tc.method, tc.path, producer, tc.body, headers...)
			r.expect(t, tc.status)
			if p := r.problem(t); !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail %q does not say %q", p.Detail, tc.detail)
			}
			h.assertUnchanged(before)
		})
	}
}

func TestProducerLimitedToACampaign(t *testing.T) {
	forEachStore(t, hubOptions{}, func(t *testing.T, h *testHub) {
		// Campaigns are an admin's (or an unlimited producer's) to create.
		for _, slug := range []string{"other-campaign", "korgau123"} {
			h.do("POST", "/v1/campaigns", h.admin, map[string]any{"slug": slug}).expect(t, http.StatusCreated)
		}
		other := h.key("producer", "other-campaign")
		korgau := h.key("producer", "korgau123")
		theirs := h.createPackage(other, "other-campaign")
		h.do("PUT", "/v1/packages/"+theirs+"/assets/poster.png", other, pngBytes(t, 8, 8, 1)).expect(t, http.StatusCreated)
		mine := h.createPackage(korgau, "korgau123")

		before := h.state()
		for _, tc := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/v1/packages/" + theirs, nil},
			{"PATCH", "/v1/packages/" + theirs, map[string]any{"by": "me"}},
			{"DELETE", "/v1/packages/" + theirs, nil},
			{"PUT", "/v1/packages/" + theirs + "/assets/new.png", pngBytes(t, 8, 8, 2)},
			{"GET", "/v1/packages/" + theirs + "/assets/poster.png", nil},
			{"PATCH", "/v1/packages/" + theirs + "/assets/poster.png", map[string]any{"caption": "x"}},
			{"DELETE", "/v1/packages/" + theirs + "/assets/poster.png", nil},
		} {
			t.Run(tc.method+" "+tc.path, func(t *testing.T) {
				h := h.with(t)
				r := h.do(tc.method, tc.path, korgau, tc.body).expect(t, http.StatusNotFound)
				if p := r.problem(t); strings.Contains(p.Detail, "other-campaign") {
					t.Errorf("the answer names the other campaign: %q", p.Detail)
				}
			})
		}
		h.assertUnchanged(before)
		// Moving one's own package into a campaign one may not use is refused too.
		h.do("PATCH", "/v1/packages/"+mine, korgau, map[string]any{"campaign": "other-campaign"}).expect(t, http.StatusForbidden)
		h.do("POST", "/v1/packages", korgau, map[string]any{"campaign": "other-campaign", "language": "ru"}).expect(t, http.StatusForbidden)
		h.assertUnchanged(before)

		var list struct{ Items []struct{ ID string } }
		h.do("GET", "/v1/packages", korgau, nil).expect(t, http.StatusOK).json(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != mine {
			t.Errorf("the limited producer lists %v, want only %s", list.Items, mine)
		}
		// Partners see no drafts at all.
		partner := h.key("partner")
		h.do("GET", "/v1/packages/"+mine, partner, nil).expect(t, http.StatusNotFound)
		h.do("GET", "/v1/packages", partner, nil).expect(t, http.StatusOK).json(t, &list)
		if len(list.Items) != 0 {
			t.Errorf("a partner lists drafts: %v", list.Items)
		}
	})
}

func TestListFiltersAndCursor(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	producer := h.key("producer")
	var ids []string
	for i := range 7 {
		campaign, lang := "korgau123", "ru"
		if i%2 == 1 {
			campaign, lang = "tynys", "kk"
		}
		var out struct{ ID string }
		h.do("POST", "/v1/packages", producer, map[string]any{"campaign": campaign, "language": lang}).
			expect(t, http.StatusCreated).json(t, &out)
		ids = append(ids, out.ID)
	}
	h.do("PUT", "/v1/packages/"+ids[2]+"/assets/leaflet.pdf", producer, pdfBytes).expect(t, http.StatusCreated)

	list := func(query string) (got []string, next string) {
		var out struct {
			Items []struct{ ID string }
			Next  string
		}
		h.do("GET", "/v1/packages"+query, producer, nil).expect(t, http.StatusOK).json(t, &out)
		for _, it := range out.Items {
			got = append(got, it.ID)
		}
		return got, out.Next
	}
	same := func(t *testing.T, got []string, want ...string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	got, _ := list("")
	same(t, got, ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0])
	got, _ = list("?campaign=tynys")
	same(t, got, ids[5], ids[3], ids[1])
	got, _ = list("?language=kk&campaign=korgau123")
	same(t, got)
	got, _ = list("?type=graphic")
	same(t, got, ids[2])
	got, _ = list("?status=draft&language=ru")
	same(t, got, ids[6], ids[4], ids[2], ids[0])

	var all []string
	next := ""
	for page := 0; ; page++ {
		q := "?limit=3"
		if next != "" {
			q += "&cursor=" + next
		}
		got, next = list(q)
		all = append(all, got...)
		if next == "" {
			break
		}
		if page > 5 {
			t.Fatal("the cursor never ends")
		}
	}
	same(t, all, ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0])
}

// TestLimitedProducerCannotCreateOrOpenCampaigns: creating a campaign, or
// making one public, is an admin's act or an unlimited producer's
// (issue 9). A limited producer naming an unknown campaign is told so and
// nothing is stored; it may still rename its campaign or close it.
func TestLimitedProducerCannotCreateOrOpenCampaigns(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	h.do("POST", "/v1/campaigns", h.admin, map[string]any{"slug": "survivors", "visibility": "partners"}).expect(t, http.StatusCreated)
	limited := h.key("producer", "survivors", "brand-new")
	unlimited := h.key("producer")
	mine := h.createPackage(limited, "survivors")
	before := h.state()

	r := h.do("POST", "/v1/packages", limited, map[string]any{"campaign": "brand-new", "language": "ru"}).expect(t, http.StatusBadRequest)
	if p := r.problem(t); !strings.Contains(p.Detail, "admin creates it first") {
		t.Errorf("detail %q", p.Detail)
	}
	h.do("PATCH", "/v1/packages/"+mine, limited, map[string]any{"campaign": "brand-new"}).expect(t, http.StatusBadRequest)
	h.do("POST", "/v1/campaigns", limited, map[string]any{"slug": "brand-new"}).expect(t, http.StatusForbidden).problem(t)
	h.do("PATCH", "/v1/campaigns/survivors", limited, map[string]any{"visibility": "public"}).expect(t, http.StatusForbidden).problem(t)
	h.assertUnchanged(before)
	var c struct{ Visibility string }
	h.do("GET", "/v1/campaigns/survivors", h.admin, nil).expect(t, http.StatusOK).json(t, &c)
	if c.Visibility != "partners" {
		t.Fatalf("a limited producer opened the campaign: %q", c.Visibility)
	}
	h.do("PATCH", "/v1/campaigns/survivors", limited, map[string]any{"name": "Survivors' stories"}).expect(t, http.StatusOK)

	// An unlimited producer's first package in a campaign creates it
	// (public, the default), and it may open a closed one.
	h.createPackage(unlimited, "brand-new")
	h.do("GET", "/v1/campaigns/brand-new", h.admin, nil).expect(t, http.StatusOK).json(t, &c)
	if c.Visibility != "public" {
		t.Errorf("a campaign made by its first package is %q", c.Visibility)
	}
	h.do("PATCH", "/v1/campaigns/survivors", unlimited, map[string]any{"visibility": "public"}).expect(t, http.StatusOK)
	h.do("PATCH", "/v1/campaigns/survivors", limited, map[string]any{"visibility": "partners"}).expect(t, http.StatusOK)
}
