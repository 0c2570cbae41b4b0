package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// FuzzSearchQuery: GET /v1/search with any query, against a whole hub
// whose packages hold markup in their texts. Any query is a 200 or a 400
// problem (never a 5xx); a 200 holds at most limit results, each a
// package of the hub once, whose snippets carry no markup but <mark>.
func FuzzSearchQuery(f *testing.F) {
	for _, q := range []string{
		"q=домогательства", "q=harassment&limit=1", "q=зорлық&language=kk", "q=", "q=%20%20", "q=a", "q=*", "q=%22quoted%22",
		"q=title:x", "q=a~2", "q=/re.*gex/", "q=%00", "q=%E2%80%8B", "q=" + strings.Repeat("слово+", 20), "q=" + strings.Repeat("x", 201),
		"q=работе&cursor=1", "q=работе&cursor=0", "q=работе&cursor=999", "q=работе&cursor=01", "q=работе&cursor=-1",
		"q=работе&limit=0", "q=работе&limit=101", "q=работе&status=released&type=picture", "q=работе&bogus=1",
		"q=%3Cscript%3E", "q=%3Cmark%3E", "q=работе&q=две", "campaign=korgau123", "%zz",
	} {
		f.Add(q)
	}
	h, ids := fuzzHub(f)
	ctx := context.Background()
	admin := h.Admin(f)
	for i, id := range ids[:4] {
		body := []hub.Text{{Value: `<script>alert(1)</script> <mark>работе</mark> &amp; "` + strconv.Itoa(i) + `" harassment зорлық-зомбылыққа`}}
		if _, err := h.Service.UpdatePackage(ctx, admin, id, hub.PackagePatch{Bodies: &body}); err != nil {
			f.Fatal(err)
		}
	}
	syncCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := h.Server.Search().Sync(syncCtx); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query string) {
		status, body := fuzzGet(t, h, "/v1/search?"+query)
		switch status {
		case 0, http.StatusBadRequest:
			return
		case http.StatusOK:
		default:
			t.Fatalf("GET /v1/search?%s: %d %s", query, status, body)
		}
		var page struct {
			Items []struct {
				ID       string
				Snippets []struct{ Field, HTML string }
			}
			Next string
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		q, _ := url.ParseQuery(query)
		limit := hub.DefaultSearchPage
		if n, err := strconv.Atoi(q.Get("limit")); err == nil {
			limit = n
		}
		if len(page.Items) > limit {
			t.Fatalf("%d results for limit %d", len(page.Items), limit)
		}
		seen := map[string]bool{}
		for _, it := range page.Items {
			if seen[it.ID] || !slices.Contains(ids, it.ID) {
				t.Fatalf("result %s: repeated, or no package of the hub", it.ID)
			}
			seen[it.ID] = true
			for _, s := range it.Snippets {
				if rest := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(s.HTML); strings.ContainsAny(rest, "<>") {
					t.Fatalf("snippet %q carries markup", s.HTML)
				}
			}
		}
		if page.Next != "" {
			if n, err := strconv.Atoi(page.Next); err != nil || n < 1 || n >= hub.MaxSearchDepth {
				t.Fatalf("next cursor %q", page.Next)
			}
		}
	})
}
