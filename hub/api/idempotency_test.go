package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog"
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

// TestIdempotencyKeyAfterUnknownOutcome: a create whose package write
// NATS never confirmed (the hub's connection went dead mid-write, NATS
// stopped for longer than the hub settles a write: the 503 "did not
// confirm") keeps its Idempotency-Key record, which holds the package id
// reserved before the create was tried. The retry with the same key, once
// NATS is back, answers the package the first try stored, as the first
// answer would have (201, Idempotent-Replayed), or, when that try was
// lost on its way, creates it under the reserved id: one package either
// way, never a second.
func TestIdempotencyKeyAfterUnknownOutcome(t *testing.T) {
	for _, tc := range []struct {
		name   string
		landed bool
	}{{"stored, its ack lost", true}, {"lost on its way", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			unknownOutcome(t, tc.landed)
		})
	}
}

func unknownOutcome(t *testing.T, landed bool) {
	ext := natstest.RunExternal(t)
	relay := natstest.NewRelay(t, ext.URL())
	unknown := make(chan struct{})
	watch := &logWatch{Handler: testLogger(t).Handler(), want: "did not confirm", seen: unknown, once: &sync.Once{}}
	h := newTestHub(t, "disk", hubOptions{
		settleFor: 300 * time.Millisecond, logger: slog.New(watch),
		configure: func(c *server.Config) { c.NATSURL = relay.URL() },
	})
	producer := h.key("producer")
	direct := directKV(t, ext.URL())
	body, _ := json.Marshal(packageBody("unknown"))

	sprung := relay.LoseNext("$KV."+catalog.PackagesBucket+".", landed)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan struct{})
	go func() {
		defer close(first)
		req, _ := http.NewRequestWithContext(ctx, "POST", h.URL+"/v1/packages", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+producer)
		req.Header.Set("Idempotency-Key", "unknown")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-sprung:
	case <-time.After(10 * time.Second):
		t.Fatal("the create never wrote its package")
	}
	time.Sleep(100 * time.Millisecond) // the server stores what reached it
	ext.Stop()
	cancel() // the client gives up, as one timing out does; the hub settles on
	<-first
	select {
	case <-unknown:
	case <-time.After(10 * time.Second):
		t.Fatal("the hub never answered that NATS did not confirm the create")
	}
	ext.Start()

	stored := direct.keys(t, catalog.PackagesBucket)
	if landed != (len(stored) == 1) || len(stored) > 1 {
		t.Fatalf("packages stored by the first try: %v; the relay was to let it land: %v", stored, landed)
	}

	var retry response
	for deadline := time.Now().Add(15 * time.Second); ; {
		retry = h.do("POST", "/v1/packages", producer, body, "Idempotency-Key", "unknown")
		if retry.StatusCode == http.StatusCreated {
			break
		}
		if retry.StatusCode < 500 && retry.StatusCode != http.StatusConflict {
			t.Fatalf("the retry answered %d: %s", retry.StatusCode, retry.body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the retry still answers %d: %s", retry.StatusCode, retry.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var out struct{ ID string }
	retry.json(t, &out)
	if landed {
		if out.ID != stored[0] {
			t.Errorf("the retry answered package %s; the first try stored %s", out.ID, stored[0])
		}
		if retry.Header.Get("Idempotent-Replayed") != "true" {
			t.Error("the retry answered the first try's package without Idempotent-Replayed")
		}
	}
	if after := direct.keys(t, catalog.PackagesBucket); len(after) != 1 || after[0] != out.ID {
		t.Fatalf("packages after the retry: %v; want only %s, the one answered", after, out.ID)
	}
	var rec struct {
		ID   string
		Done bool
	}
	records := direct.keys(t, catalog.IdempotencyBucket)
	if len(records) != 1 {
		t.Fatalf("Idempotency-Key records: %v; want one", records)
	}
	if err := json.Unmarshal(direct.get(t, catalog.IdempotencyBucket, records[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.ID != out.ID || !rec.Done {
		t.Errorf("the record holds id %q (done %v); want %s, reserved before the first try, done", rec.ID, rec.Done, out.ID)
	}
	again := h.do("POST", "/v1/packages", producer, body, "Idempotency-Key", "unknown").expect(t, http.StatusCreated)
	if string(again.body) != string(retry.body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("a further retry answered %s; want the replay of %s", again.body, retry.body)
	}
}

// kvReader reads the hub's buckets on its NATS directly, past the hub.
type kvReader struct{ js jetstream.JetStream }

func directKV(t *testing.T, url string) kvReader {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return kvReader{js}
}

// keys lists bucket's keys, waiting (up to 10 s) for NATS to answer.
func (r kvReader) keys(t *testing.T, bucket string) []string {
	t.Helper()
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var kv jetstream.KeyValue
		var l jetstream.KeyLister
		if kv, err = r.js.KeyValue(ctx, bucket); err == nil {
			if l, err = kv.ListKeys(ctx); err == nil {
				var keys []string
				for k := range l.Keys() {
					keys = append(keys, k)
				}
				_ = l.Stop() // done already once every key came
				cancel()
				slices.Sort(keys)
				return keys
			}
		}
		cancel()
	}
	t.Fatalf("list %s: %v", bucket, err)
	return nil
}

func (r kvReader) get(t *testing.T, bucket, key string) []byte {
	t.Helper()
	ctx := context.Background()
	kv, err := r.js.KeyValue(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, key)
	if err != nil {
		t.Fatalf("get %s %s: %v", bucket, key, err)
	}
	return e.Value()
}

// logWatch passes the log on to Handler and closes seen once a record's
// err attribute contains want.
type logWatch struct {
	slog.Handler
	want string
	seen chan struct{}
	once *sync.Once
}

func (w *logWatch) Handle(ctx context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" && strings.Contains(a.Value.String(), w.want) {
			w.once.Do(func() { close(w.seen) })
		}
		return true
	})
	return w.Handler.Handle(ctx, r)
}

func (w *logWatch) WithAttrs(as []slog.Attr) slog.Handler {
	c := *w
	c.Handler = w.Handler.WithAttrs(as)
	return &c
}

func (w *logWatch) WithGroup(name string) slog.Handler {
	c := *w
	c.Handler = w.Handler.WithGroup(name)
	return &c
}
