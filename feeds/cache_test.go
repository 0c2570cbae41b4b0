package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable clock for Last-Modified.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func watchedCache(t *testing.T) (*Cache, *clock) {
	clk := &clock{t: time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)}
	c := NewCache(CacheOptions{Now: clk.now})
	c.watch(true)
	return c, clk
}

func TestCacheKeepsUntilInvalidated(t *testing.T) {
	c, clk := watchedCache(t)
	key := Key{Scope: "public", Format: RSS}
	var renders atomic.Int32
	body := []byte("one")
	render := func(context.Context) ([]byte, error) { renders.Add(1); return bytes.Clone(body), nil }
	get := func() *Entry {
		t.Helper()
		e, err := c.Get(context.Background(), key, render)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	first := get()
	get()
	if renders.Load() != 1 {
		t.Fatalf("%d renders for two requests, want 1", renders.Load())
	}
	if first.ETag != `"7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed"` {
		t.Errorf("ETag %s is not the SHA-256 of the bytes", first.ETag)
	}

	// Invalidated, rendering the same bytes: same ETag, same Last-Modified.
	clk.add(time.Minute)
	c.Invalidate()
	same := get()
	if renders.Load() != 2 || same.ETag != first.ETag || !same.Modified.Equal(first.Modified) {
		t.Errorf("re-rendered identical bytes: renders %d, modified %v (was %v)", renders.Load(), same.Modified, first.Modified)
	}

	// Different bytes within the same second still get a later
	// Last-Modified, so an If-Modified-Since cannot hide the change.
	body = []byte("two")
	c.Invalidate()
	changed := get()
	if changed.ETag == first.ETag || !changed.Modified.After(same.Modified) {
		t.Errorf("changed bytes: ETag %s, modified %v after %v", changed.ETag, changed.Modified, same.Modified)
	}

	// Another key is another entry.
	if e, _ := c.Get(context.Background(), Key{Scope: "public", Format: Atom}, render); e == changed {
		t.Error("two keys share an entry")
	}
}

func TestCacheRendersOnceForConcurrentRequests(t *testing.T) {
	c, _ := watchedCache(t)
	release := make(chan struct{})
	var renders atomic.Int32
	render := func(context.Context) ([]byte, error) {
		renders.Add(1)
		<-release
		return []byte("feed"), nil
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.Get(context.Background(), Key{Format: JSON}, render); err != nil {
				t.Error(err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if renders.Load() != 1 {
		t.Errorf("%d renders for 20 concurrent requests, want 1", renders.Load())
	}
}

// TestCacheInvalidatedDuringRender: a rendering that began before an
// invalidation may be served to those who asked before it, but not kept.
func TestCacheInvalidatedDuringRender(t *testing.T) {
	c, _ := watchedCache(t)
	started, release := make(chan struct{}), make(chan struct{})
	var renders atomic.Int32
	render := func(context.Context) ([]byte, error) {
		if renders.Add(1) == 1 {
			close(started)
			<-release
			return []byte("old"), nil
		}
		return []byte("new"), nil
	}
	done := make(chan *Entry)
	go func() {
		e, _ := c.Get(context.Background(), Key{}, render)
		done <- e
	}()
	<-started
	c.Invalidate()
	close(release)
	if e := <-done; string(e.Body) != "old" {
		t.Fatalf("first request got %q", e.Body)
	}
	if e, _ := c.Get(context.Background(), Key{}, render); string(e.Body) != "new" {
		t.Errorf("after an invalidation during rendering: %q", e.Body)
	}
}

func TestCacheKeepsNothingUnwatched(t *testing.T) {
	var renders atomic.Int32
	render := func(context.Context) ([]byte, error) { renders.Add(1); return []byte("x"), nil }
	for name, c := range map[string]*Cache{"nil": nil, "no invalidator": NewCache(CacheOptions{})} {
		renders.Store(0)
		for range 3 {
			if _, err := c.Get(context.Background(), Key{}, render); err != nil {
				t.Fatal(err)
			}
		}
		if renders.Load() != 3 {
			t.Errorf("%s: %d renders for 3 requests, want 3", name, renders.Load())
		}
	}
	c, _ := watchedCache(t)
	c.Get(context.Background(), Key{}, render)
	c.watch(false) // the invalidator stopped
	renders.Store(0)
	c.Get(context.Background(), Key{}, render)
	if renders.Load() != 1 {
		t.Error("an entry was served after the invalidator stopped")
	}
}

func TestCacheEvictsToItsBound(t *testing.T) {
	clk := &clock{t: time.Now()}
	c := NewCache(CacheOptions{MaxBytes: 10_000, Now: clk.now})
	c.watch(true)
	for i := range 100 {
		body := bytes.Repeat([]byte{byte(i)}, 500)
		c.Get(context.Background(), Key{Filter: string(rune('a' + i))}, func(context.Context) ([]byte, error) { return body, nil })
	}
	if c.bytes > 10_000 || len(c.entries) == 0 {
		t.Errorf("%d bytes in %d entries, bound 10000", c.bytes, len(c.entries))
	}
}

func TestServe(t *testing.T) {
	c, _ := watchedCache(t)
	body := bytes.Repeat([]byte("<item>Жұмыстағы қудалау — қылмыс</item>\n"), 50)
	e, err := c.Get(context.Background(), Key{Format: RSS}, func(context.Context) ([]byte, error) { return body, nil })
	if err != nil {
		t.Fatal(err)
	}
	serve := func(method string, headers ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/feeds/releases.rss", nil)
		for i := 0; i < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		w := httptest.NewRecorder()
		e.Serve(w, r)
		return w
	}
	lastModified := e.Modified.Format(http.TimeFormat)

	w := serve("GET")
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), body) || w.Header().Get("ETag") != e.ETag ||
		w.Header().Get("Content-Type") != "application/rss+xml; charset=utf-8" || w.Header().Get("Last-Modified") != lastModified ||
		w.Header().Get("Vary") != "Accept-Encoding" || w.Header().Get("Content-Encoding") != "" {
		t.Errorf("plain GET: %d %v", w.Code, w.Header())
	}

	w = serve("GET", "Accept-Encoding", "br, gzip;q=0.8")
	if w.Header().Get("Content-Encoding") != "gzip" || w.Header().Get("ETag") != e.GzipETag {
		t.Fatalf("gzip GET: %v", w.Header())
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := io.ReadAll(zr); !bytes.Equal(plain, body) {
		t.Error("the gzip body does not decompress to the feed")
	}
	if w.Body.Len() != 0 && len(e.Gzip) >= len(body) {
		t.Error("gzip does not make the feed smaller")
	}
	for _, ae := range []string{"gzip;q=0", "identity", "br", "*;q=0"} {
		if w := serve("GET", "Accept-Encoding", ae); w.Header().Get("Content-Encoding") != "" {
			t.Errorf("Accept-Encoding %q answered with gzip", ae)
		}
	}
	if w := serve("GET", "Accept-Encoding", "*"); w.Header().Get("Content-Encoding") != "gzip" {
		t.Error(`Accept-Encoding "*" not answered with gzip`)
	}

	for _, tc := range []struct {
		name    string
		headers []string
		status  int
	}{
		{"matching ETag", []string{"If-None-Match", e.ETag}, 304},
		{"gzip ETag", []string{"If-None-Match", e.GzipETag}, 304},
		{"ETag in a list, weak", []string{"If-None-Match", `"x", W/` + e.ETag}, 304},
		{"star", []string{"If-None-Match", "*"}, 304},
		{"other ETag", []string{"If-None-Match", `"x"`}, 200},
		{"other ETag wins over a matching date", []string{"If-None-Match", `"x"`, "If-Modified-Since", lastModified}, 200},
		{"same date", []string{"If-Modified-Since", lastModified}, 304},
		{"later date", []string{"If-Modified-Since", e.Modified.Add(time.Hour).Format(http.TimeFormat)}, 304},
		{"earlier date", []string{"If-Modified-Since", e.Modified.Add(-time.Second).Format(http.TimeFormat)}, 200},
		{"unreadable date", []string{"If-Modified-Since", "yesterday"}, 200},
	} {
		w := serve("GET", tc.headers...)
		if w.Code != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, w.Code, tc.status)
		}
		if w.Code == 304 && (w.Body.Len() != 0 || w.Header().Get("ETag") == "") {
			t.Errorf("%s: 304 with a body or without an ETag", tc.name)
		}
	}
	if w := serve("HEAD"); w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("HEAD: %d, %d bytes, %v", w.Code, w.Body.Len(), w.Header())
	}
}
