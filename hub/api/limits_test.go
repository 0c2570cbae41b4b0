package api_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/server"
)

// A rate this small gives back no token during a test: whatever is
// refused stays refused, so the tests need no timing.
const trickle = 0.001

// expectLimited checks a 429: problem JSON with its code, and a
// Retry-After in whole seconds that says how long the trickle takes.
func expectLimited(t *testing.T, r response) {
	t.Helper()
	r.expect(t, http.StatusTooManyRequests)
	if p := r.problem(t); p.Code != hub.ELIMITED {
		t.Errorf("code %s, want %s", p.Code, hub.ELIMITED)
	}
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 900 || secs > 1000 {
		t.Errorf("Retry-After %q, want the ~1000 s one token takes at %v/s", r.Header.Get("Retry-After"), trickle)
	}
}

// TestRateLimitPerKey: a key gets its burst and then 429s; another key
// has its own bucket; a rotated key's two secrets share one.
func TestRateLimitPerKey(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{configure: func(c *server.Config) {
		c.RateLimitPerKey, c.RateLimitPerKeyBurst = trickle, 3
	}})
	var k struct{ ID, Key string }
	// The admin's own calls count too: one for this key.
	h.do("POST", "/v1/keys", h.admin, map[string]any{"role": "producer", "name": "fast"}).expect(t, http.StatusCreated).json(t, &k)
	var rotated struct{ Key string }
	h.do("POST", "/v1/keys/"+k.ID+"/rotate", k.Key, map[string]string{"grace": "1h"}).expect(t, http.StatusOK).json(t, &rotated)
	h.do("GET", "/v1/packages", k.Key, nil).expect(t, http.StatusOK)       // the old secret, in its grace period
	h.do("GET", "/v1/packages", rotated.Key, nil).expect(t, http.StatusOK) // the new one: the burst of 3 is spent
	expectLimited(t, h.do("GET", "/v1/packages", rotated.Key, nil))
	expectLimited(t, h.do("GET", "/v1/packages", k.Key, nil))
	// Keyed downloads count against the key too.
	expectLimited(t, h.do("GET", "/v1/packages/01JD3Z8Q4VJ5K6XW0M2N7P9RST/archive.zip", k.Key, nil))

	h.do("POST", "/v1/keys", h.admin, map[string]any{"role": "producer", "name": "other"}).expect(t, http.StatusCreated)
	other := h.key("producer") // the admin's third call
	h.do("GET", "/v1/packages", other, nil).expect(t, http.StatusOK)
	expectLimited(t, h.do("GET", "/v1/keys", h.admin, nil))
	// Health and the API description are never limited.
	for range 5 {
		h.do("GET", "/healthz", "", nil).expect(t, http.StatusOK)
		h.do("GET", "/openapi.json", "", nil).expect(t, http.StatusOK)
	}
}

// TestRateLimitPerAddress: keyless calls (feeds, public downloads and
// failed key checks) share the client address's bucket; a forged
// X-Forwarded-For changes nothing unless the peer is a trusted proxy.
func TestRateLimitPerAddress(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{configure: func(c *server.Config) {
		c.RateLimitPerAddr, c.RateLimitPerAddrBurst = trickle, 3
	}})
	h.do("GET", "/feeds/releases.rss", "", nil).expect(t, http.StatusOK)
	h.do("GET", "/v1/packages/01JD3Z8Q4VJ5K6XW0M2N7P9RST/archive.zip", "", nil).expect(t, http.StatusUnauthorized)
	h.do("GET", "/v1/packages", "hub_not-a-key-at-all-0123456789", nil).expect(t, http.StatusUnauthorized)
	expectLimited(t, h.do("GET", "/feeds/releases.json", "", nil, "X-Forwarded-For", "203.0.113.9"))
	expectLimited(t, h.do("GET", "/feeds/p/hubfeed_x/releases.rss", "", nil))
	expectLimited(t, h.do("GET", "/v1/packages", "", nil))
	// A valid key is counted by the key, not the address.
	h.do("GET", "/v1/packages", h.admin, nil).expect(t, http.StatusOK)

	// Behind a trusted proxy (here: loopback, where the test client is),
	// each forwarded client has its own bucket, and the nearest address
	// not of a proxy is the client, whatever the client prepended.
	p := newTestHub(t, "disk", hubOptions{configure: func(c *server.Config) {
		c.RateLimitPerAddr, c.RateLimitPerAddrBurst, c.TrustedProxies = trickle, 1, []string{"127.0.0.0/8"}
	}})
	p.do("GET", "/feeds/releases.rss", "", nil, "X-Forwarded-For", "198.51.100.1").expect(t, http.StatusOK)
	expectLimited(t, p.do("GET", "/feeds/releases.rss", "", nil, "X-Forwarded-For", "6.6.6.6, 198.51.100.1"))
	p.do("GET", "/feeds/releases.rss", "", nil, "X-Forwarded-For", "198.51.100.2").expect(t, http.StatusOK)
	p.do("GET", "/feeds/releases.rss", "", nil, "X-Forwarded-For", "2001:db8:1:2::1").expect(t, http.StatusOK)
	// The same /64 is the same client.
	expectLimited(t, p.do("GET", "/feeds/releases.rss", "", nil, "X-Forwarded-For", "2001:db8:1:2::ffff"))
}

// TestUploadCaps holds one upload open and checks the caps: a second
// upload of the same key is a 429, one of another key is a 503 once the
// replica's total is reached, each with Retry-After; when the first one
// ends, the slot is free again.
func TestUploadCaps(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{configure: func(c *server.Config) {
		c.MaxUploadsPerKey, c.MaxUploads = 1, 1
	}})
	producer := h.key("producer")
	other := h.key("producer")
	id := h.createPackage(producer, "korgau123")
	path := "/v1/packages/" + id + "/assets/"

	body, feed := io.Pipe()
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("PUT", h.URL+path+"slow.png", body)
		req.Header.Set("Authorization", "Bearer "+producer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	png := pngBytes(t, 16, 16, 3)
	if _, err := feed.Write(png[:64]); err != nil {
		t.Fatal(err)
	}
	// The handler marks the package while it reads the body: from then
	// on the upload holds its slot.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		p, err := h.catalog.Package(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Uploads) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow upload never started")
		}
	}
	r := h.do("PUT", path+"second.png", producer, pngBytes(t, 16, 16, 4)).expect(t, http.StatusTooManyRequests)
	if p := r.problem(t); p.Code != hub.ELIMITED || r.Header.Get("Retry-After") == "" {
		t.Errorf("per key: code %s, Retry-After %q", p.Code, r.Header.Get("Retry-After"))
	}
	other2 := h.createPackage(other, "korgau123")
	r = h.do("PUT", "/v1/packages/"+other2+"/assets/x.png", other, pngBytes(t, 16, 16, 5)).expect(t, http.StatusServiceUnavailable)
	if p := r.problem(t); p.Code != hub.EUNAVAILABLE || r.Header.Get("Retry-After") == "" {
		t.Errorf("in total: code %s, Retry-After %q", p.Code, r.Header.Get("Retry-After"))
	}
	if _, err := feed.Write(png[64:]); err != nil {
		t.Fatal(err)
	}
	feed.Close()
	if status := <-done; status != http.StatusCreated {
		t.Fatalf("the slow upload answered %d", status)
	}
	h.do("PUT", "/v1/packages/"+other2+"/assets/x.png", other, pngBytes(t, 16, 16, 5)).expect(t, http.StatusCreated)
}
