package api_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
)

// The query strings of listings and the change log, fuzzed against a
// whole hub (hubtest: real NATS, blobs on disk): any query is a 200 or a
// 400 problem, never a 5xx, and a 200 is a page the query describes.

// fuzzHub starts a hub with packages in two campaigns and three
// languages, some released (so the change log has entries).
func fuzzHub(f *testing.F) (*hubtest.Hub, []string) {
	// The hub logs to stderr: a fuzz target may not log through f.
	h := hubtest.Start(f, hubtest.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	ctx := context.Background()
	admin := h.Admin(f)
	for _, slug := range []string{"korgau123", "survivors"} {
		if _, err := h.Service.CreateCampaign(ctx, admin, hub.NewCampaign(slug, time.Now())); err != nil {
			f.Fatal(err)
		}
	}
	var ids []string
	for i := range 12 {
		campaign := []string{"korgau123", "survivors"}[i%2]
		p := h.ReadyPackage(f, campaign)
		lang := []string{"ru", "kk", "en-GB"}[i%3]
		if _, err := h.Service.UpdatePackage(ctx, admin, p.ID, hub.PackagePatch{Language: &lang}); err != nil {
			f.Fatal(err)
		}
		if i%3 != 0 {
			if _, err := h.Service.Release(ctx, admin, p.ID, nil); err != nil {
				f.Fatal(err)
			}
		}
		ids = append(ids, p.ID)
	}
	return h, ids
}

func fuzzGet(t *testing.T, h *hubtest.Hub, path string) (int, []byte) {
	// Only what a client can put in a request line: anything else is
	// refused by net/http before the hub sees it.
	for i := 0; i < len(path); i++ {
		if path[i] <= ' ' || path[i] >= 0x7f || path[i] == '#' {
			return 0, nil
		}
	}
	req, err := http.NewRequest(http.MethodGet, h.URL+path, nil)
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Authorization", "Bearer "+h.AdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var body json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: %d, the body is not JSON: %v", path, resp.StatusCode, err)
	}
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("GET %s: %d as %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, body
}

// FuzzPackageListQuery: GET /v1/packages with any query. A 200 lists at
// most limit packages, newest first, each matching the campaign, language
// and status asked for, and its next cursor leads to older packages only.
func FuzzPackageListQuery(f *testing.F) {
	for _, q := range []string{
		"", "limit=5", "campaign=korgau123&language=KK", "status=draft", "status=released&type=picture", "cursor=01JD3Z8Q4VJ5K6XW0M2N7P9RST",
		"cursor=%00", "limit=0", "limit=501", "limit=-1", "limit=99999999999999999999", "language=x", "type=hologram", "bogus=1",
		"campaign=%2e%2e%2f", "cursor=ZZZZZZZZZZZZZZZZZZZZZZZZZZ&limit=1", "limit=3&limit=4", "%zz",
	} {
		f.Add(q)
	}
	h, _ := fuzzHub(f)
	f.Fuzz(func(t *testing.T, query string) {
		status, body := fuzzGet(t, h, "/v1/packages?"+query)
		switch status {
		case 0, http.StatusBadRequest:
			return
		case http.StatusOK:
		default:
			t.Fatalf("GET /v1/packages?%s: %d %s", query, status, body)
		}
		var page struct {
			Items []struct{ ID, Campaign, Language, Status string }
			Next  string
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		q, _ := url.ParseQuery(query)
		limit := hub.DefaultPageSize
		if n, err := strconv.Atoi(q.Get("limit")); err == nil {
			limit = n
		}
		if len(page.Items) > limit {
			t.Fatalf("%d items for limit %d", len(page.Items), limit)
		}
		lang, _ := hub.NormalizeLanguage(q.Get("language"))
		for i, it := range page.Items {
			switch {
			case i > 0 && it.ID >= page.Items[i-1].ID:
				t.Fatalf("not newest first: %s after %s", it.ID, page.Items[i-1].ID)
			case q.Get("cursor") != "" && it.ID >= q.Get("cursor"):
				t.Fatalf("item %s is not after the cursor %q", it.ID, q.Get("cursor"))
			case q.Get("campaign") != "" && it.Campaign != q.Get("campaign"),
				q.Get("language") != "" && it.Language != lang,
				q.Get("status") != "" && it.Status != q.Get("status"):
				t.Fatalf("item %+v does not match %q", it, query)
			}
		}
		if page.Next == "" {
			return
		}
		if len(page.Items) == 0 || page.Next != page.Items[len(page.Items)-1].ID {
			t.Fatalf("next %q is not the page's last id", page.Next)
		}
		q.Set("cursor", page.Next)
		status, body = fuzzGet(t, h, "/v1/packages?"+q.Encode())
		if status != http.StatusOK {
			t.Fatalf("the next page: %d %s", status, body)
		}
		var more struct{ Items []struct{ ID string } }
		json.Unmarshal(body, &more)
		for _, it := range more.Items {
			if it.ID >= page.Next {
				t.Fatalf("the next page repeats or goes back: %s, cursor %s", it.ID, page.Next)
			}
		}
	})
}

// FuzzReleasesCursor: GET /v1/releases?after=&limit= with any values
// (issue 9: after=2^64-1 answered 500). A 200 holds at most limit
// entries, each after the cursor, in order, and a next cursor not before
// the one asked for.
func FuzzReleasesCursor(f *testing.F) {
	for _, a := range []string{"", "0", "1", "3", "18446744073709551615", "18446744073709551614", "18446744073709551616", "-1", "x", "1e3", " 1", "00"} {
		f.Add(a, "")
		f.Add(a, "2")
	}
	f.Add("0", "501")
	f.Add("0", "0")
	h, _ := fuzzHub(f)
	f.Fuzz(func(t *testing.T, after, limit string) {
		q := url.Values{}
		if after != "" {
			q.Set("after", after)
		}
		if limit != "" {
			q.Set("limit", limit)
		}
		status, body := fuzzGet(t, h, "/v1/releases?"+q.Encode())
		switch status {
		case 0, http.StatusBadRequest:
			return
		case http.StatusOK:
		default:
			t.Fatalf("GET /v1/releases?%s: %d %s", q.Encode(), status, body)
		}
		var log struct {
			Items []struct{ Cursor, ID string }
			Next  string
		}
		if err := json.Unmarshal(body, &log); err != nil {
			t.Fatal(err)
		}
		from, _ := strconv.ParseUint(after, 10, 64)
		n := hub.DefaultPageSize
		if l, err := strconv.Atoi(limit); err == nil {
			n = l
		}
		if len(log.Items) > n {
			t.Fatalf("%d entries for limit %d", len(log.Items), n)
		}
		prev := from
		for _, it := range log.Items {
			c, err := strconv.ParseUint(it.Cursor, 10, 64)
			if err != nil || c <= prev {
				t.Fatalf("entry cursor %q after %d", it.Cursor, prev)
			}
			if _, err := hub.ParseAnnouncementID(it.ID); err != nil {
				t.Fatalf("entry id %q: %v", it.ID, err)
			}
			prev = c
		}
		next, err := strconv.ParseUint(log.Next, 10, 64)
		if err != nil || next < prev {
			t.Fatalf("next %q before %d", log.Next, prev)
		}
	})
}
