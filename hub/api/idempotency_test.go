package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/server"
)

func packageBody(headline string) map[string]any {
	return map[string]any{
		"campaign": "korgau123", "language": "ru",
		"headlines": []map[string]string{{"value": headline}},
	}
}

func countPackages(t *testing.T, h *testHub) int {
	t.Helper()
	ps, err := h.catalog.Packages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(ps)
}

// TestIdempotencyKeyReplaysTheFirstCreate: a retry with the same
// Idempotency-Key and body answers the first result (status, body,
// Location) and creates nothing; the same key with another body is a 409
// saying so; another caller's key with the same header is its own request.
func TestIdempotencyKeyReplaysTheFirstCreate(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	producer, other := h.key("producer"), h.key("producer")
	first := h.do("POST", "/v1/packages", producer, packageBody("one"), "Idempotency-Key", "push-abc").expect(t, http.StatusCreated)
	again := h.do("POST", "/v1/packages", producer, packageBody("one"), "Idempotency-Key", "push-abc").expect(t, http.StatusCreated)
	if string(again.body) != string(first.body) || again.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("the retry answered\n%s\nnot the first answer\n%s", again.body, first.body)
	}
	if again.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("a replayed answer does not say so in Idempotent-Replayed")
	}
	if n := countPackages(t, h); n != 1 {
		t.Fatalf("%d packages after a create and its retry; want 1", n)
	}
	p := h.do("POST", "/v1/packages", producer, packageBody("two"), "Idempotency-Key", "push-abc").expect(t, http.StatusConflict).problem(t)
	if p.Detail == "" || !strings.Contains(p.Detail, "another body") {
		t.Errorf("the same key with another body: %q; want a sentence saying so", p.Detail)
	}
	h.do("POST", "/v1/packages", other, packageBody("one"), "Idempotency-Key", "push-abc").expect(t, http.StatusCreated)
	if n := countPackages(t, h); n != 2 {
		t.Fatalf("%d packages; another caller's key with the same header should have made a second", n)
	}
	h.do("POST", "/v1/packages", producer, packageBody("one"), "Idempotency-Key", strings.Repeat("k", 300)).expect(t, http.StatusBadRequest)

	// A key's secret is shown once: a retry is told the key's id, and the
	// secret is kept nowhere.
	var made struct{ ID, Key string }
	h.do("POST", "/v1/keys", h.admin, map[string]any{"role": "producer", "name": "retried"}, "Idempotency-Key", "k1").
		expect(t, http.StatusCreated).json(t, &made)
	retry := h.do("POST", "/v1/keys", h.admin, map[string]any{"role": "producer", "name": "retried"}, "Idempotency-Key", "k1").
		expect(t, http.StatusConflict)
	if !strings.Contains(string(retry.body), made.ID) || strings.Contains(string(retry.body), made.Key) {
		t.Errorf("a retried key create answered %s; want the key's id, never its secret", retry.body)
	}
	if n := len(h.svcKeys(t)); n != 4 { // admin, two producers, the retried one
		t.Errorf("%d keys; want 4", n)
	}

	// Campaigns and partners replay their answer.
	for _, tc := range []struct {
		path, key string
		body      map[string]any
	}{
		{"/v1/campaigns", producer, map[string]any{"slug": "retried", "name": "Retried"}},
		{"/v1/partners", h.admin, map[string]any{"name": "Retried TV", "region": "Almaty", "medium": "tv"}},
	} {
		a := h.do("POST", tc.path, tc.key, tc.body, "Idempotency-Key", "k1").expect(t, http.StatusCreated)
		b := h.do("POST", tc.path, tc.key, tc.body, "Idempotency-Key", "k1").expect(t, http.StatusCreated)
		if string(a.body) != string(b.body) {
			t.Errorf("%s: the retry answered %s, the first %s", tc.path, b.body, a.body)
		}
	}
}

// TestIdempotencyKeyRaceCreatesOnce sends one create with one key from
// eight clients at once: one package is made, every 201 names it, and
// the others are told the request is being handled.
func TestIdempotencyKeyRaceCreatesOnce(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	producer := h.key("producer")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[string]bool{}
	for range 8 {
		wg.Go(func() {
			r := h.do("POST", "/v1/packages", producer, packageBody("raced"), "Idempotency-Key", "race")
			mu.Lock()
			defer mu.Unlock()
			switch r.StatusCode {
			case http.StatusCreated:
				var out struct{ ID string }
				r.json(t, &out)
				ids[out.ID] = true
			case http.StatusConflict:
			default:
				t.Errorf("a raced create answered %d: %s", r.StatusCode, r.body)
			}
		})
	}
	wg.Wait()
	if n := countPackages(t, h); n != 1 || len(ids) != 1 {
		t.Fatalf("%d packages, %d ids answered; want one of each", n, len(ids))
	}
}

// TestCreatesAcrossNATSOutage stops the hub's external nats-server while
// producers create packages, each retrying with its own Idempotency-Key
// until it gets a 201. Every other answer is a 5xx (503 from the writes
// and the idempotency record; reads on the way may still answer 500 until
// their mapping to 503 lands) or a 409 while the first try settles, and
// once NATS is back, past any reconnect, there is exactly one package per
// create: nothing answered failed appeared later, and no retry duplicated
// one.
func TestCreatesAcrossNATSOutage(t *testing.T) {
	ext := natstest.RunExternal(t)
	h := newTestHub(t, "disk", hubOptions{configure: func(c *server.Config) { c.NATSURL = ext.URL() }})
	producer := h.key("producer")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := map[string]string{} // Idempotency-Key -> package id
	failures := map[int]int{}      // status -> answers
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				for {
					r := h.do("POST", "/v1/packages", producer, packageBody(key), "Idempotency-Key", key)
					if r.StatusCode == http.StatusCreated {
						var out struct{ ID string }
						r.json(t, &out)
						mu.Lock()
						if prev, ok := created[key]; ok && prev != out.ID {
							t.Errorf("%s created %s and then %s", key, prev, out.ID)
						}
						created[key] = out.ID
						mu.Unlock()
						break
					}
					if r.StatusCode < 500 && r.StatusCode != http.StatusConflict {
						t.Errorf("%s: %d %s", key, r.StatusCode, r.body)
						return
					}
					mu.Lock()
					failures[r.StatusCode]++
					mu.Unlock()
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	ext.Stop()
	time.Sleep(2 * time.Second)
	ext.Start()
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	time.Sleep(2 * time.Second) // past any reconnect: a buffered write would land now

	if len(failures) == 0 {
		t.Fatal("no create met the outage")
	}
	ps, err := h.catalog.Packages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]bool{}
	for _, p := range ps {
		byID[p.ID] = true
	}
	for key, id := range created {
		if !byID[id] {
			t.Errorf("%s answered 201 with %s, which does not exist", key, id)
		}
	}
	if len(ps) != len(created) {
		t.Fatalf("%d packages for %d creates: a ghost or a duplicate", len(ps), len(created))
	}
	t.Logf("%d creates, one package each; answers on the way by status: %v", len(created), failures)
}

func (h *testHub) svcKeys(t *testing.T) []*hub.Key {
	t.Helper()
	keys, err := h.catalog.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
