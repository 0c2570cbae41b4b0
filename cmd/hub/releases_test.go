package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/hub/webhooktest"
	"github.com/syndication-hub/hub/publisher/wire"
	"github.com/syndication-hub/hub/server"
)

// TestEmbargoCorrectionWithdrawalAcrossTwoHubs is the releases work end
// to end: two hub processes on one NATS and one bucket; a package in a
// partners-only campaign, scheduled on one hub, invisible to an entitled
// partner on every path of both hubs until its embargo, then announced
// once to a NATS subscriber, the partner's durable consumer and its
// webhook (signature verified); a correction and a withdrawal likewise.
func TestEmbargoCorrectionWithdrawalAcrossTwoHubs(t *testing.T) {
	ctx := context.Background()
	natsURL := natstest.StartExternal(t)
	o := minioServer.Options(t)
	cfg := testConfig(t)
	cfg.NATSURL, cfg.AdminKey, cfg.WebhooksAllowPrivate = natsURL, "hub_e2e-admin-key-0123456789", true
	cfg.S3Endpoint, cfg.S3Bucket, cfg.S3AccessKey, cfg.S3SecretKey = o.Endpoint, o.Bucket, o.AccessKey, o.SecretKey
	a, _ := startHub(t, cfg)
	cfg.DataDir, cfg.IndexDir = t.TempDir(), "" // the second replica's own, indexes too
	b, _ := startHub(t, cfg)
	admin := cfg.AdminKey

	producer := field(t, call(t, a, "POST", "/v1/keys", admin, []byte(`{"role":"producer","name":"KORGAU123 team"}`), 201), "key")
	call(t, a, "POST", "/v1/campaigns", producer, []byte(`{"slug":"survivors","name":"Survivor stories","visibility":"partners"}`), 201)
	partnerID := field(t, call(t, b, "POST", "/v1/partners", admin, []byte(`{"name":"Almaty TV","region":"Almaty","medium":"tv","campaigns":["survivors"]}`), 201), "id")
	partner := field(t, call(t, a, "POST", "/v1/keys", admin, []byte(`{"role":"partner","name":"Almaty TV ingest","partner":"`+partnerID+`"}`), 201), "key")

	// The partner's three ways to hear of releases.
	hook := webhooktest.Start(t, webhooktest.OK)
	reg := call(t, b, "POST", "/v1/webhooks", partner, []byte(`{"url":"`+hook.URL+`/hub"}`), 201)
	hook.SetSecret(field(t, reg, "secret"))
	var access struct{ Stream, Consumer string }
	if err := json.Unmarshal(call(t, a, "GET", "/v1/me/nats", partner, nil, 200), &access); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	var subMu sync.Mutex
	var subscribed []string
	if _, err := nc.Subscribe("hub.releases.survivors.>", func(m *nats.Msg) {
		subMu.Lock()
		subscribed = append(subscribed, m.Header.Get("ce-id"))
		subMu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	consumer, err := js.Consumer(ctx, wire.Stream, access.Consumer)
	if err != nil {
		t.Fatal(err)
	}
	fetchConsumer := func() []string {
		batch, err := consumer.FetchNoWait(50)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for m := range batch.Messages() {
			ids = append(ids, m.Headers().Get("ce-id"))
			m.Ack()
		}
		return ids
	}

	id := field(t, call(t, a, "POST", "/v1/packages", producer,
		[]byte(`{"campaign":"survivors","language":"kk","headlines":[{"value":"Жұмыстағы қудалау — қылмыс"}]}`), 201), "id")
	call(t, b, "PUT", "/v1/packages/"+id+"/assets/poster.png", producer, append(append([]byte{}, pngHead...), []byte("poster")...), 201)
	embargo := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
	call(t, b, "POST", "/v1/packages/"+id+"/release", producer, []byte(`{"embargo":"`+embargo.Format(time.RFC3339)+`"}`), 200)

	sees := func(s *server.Server) map[string]bool {
		get := func(path string) (int, []byte) {
			req, _ := http.NewRequest("GET", s.URL()+path, nil)
			req.Header.Set("Authorization", "Bearer "+partner)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			return resp.StatusCode, buf.Bytes()
		}
		seen := map[string]bool{}
		code, _ := get("/v1/packages/" + id)
		seen["get"] = code == 200
		_, list := get("/v1/packages")
		seen["list"] = bytes.Contains(list, []byte(id))
		code, _ = get("/v1/packages/" + id + "/assets/poster.png")
		seen["asset"] = code == 200
		code, _ = get("/v1/packages/" + id + "/versions/1")
		seen["version"] = code == 200
		_, log := get("/v1/releases")
		seen["changelog"] = bytes.Contains(log, []byte(id))
		return seen
	}
	for time.Until(embargo) > 300*time.Millisecond {
		for name, s := range map[string]*server.Server{"a": a, "b": b} {
			for path, ok := range sees(s) {
				if ok {
					t.Fatalf("before the embargo the partner gets the package from hub %s through %s", name, path)
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := fetchConsumer(); len(got) != 0 || len(hook.Events()) != 0 {
		t.Fatalf("before the embargo: consumer %v, webhook %v", got, hook.Events())
	}

	released := id + ".1.released"
	hook.WaitFor(t, released, 5*time.Second)
	t.Logf("webhook delivered %v after the embargo", time.Since(embargo))
	for name, s := range map[string]*server.Server{"a": a, "b": b} {
		for path, ok := range sees(s) {
			if !ok {
				t.Errorf("after the embargo the partner does not get the package from hub %s through %s", name, path)
			}
		}
	}

	call(t, a, "PATCH", "/v1/packages/"+id, producer, []byte(`{"headlines":[{"value":"Жұмыстағы қудалау — қылмыс (түзетілген)"}]}`), 200)
	call(t, a, "POST", "/v1/packages/"+id+"/release", producer, nil, 200)
	hook.WaitFor(t, id+".2.corrected", 5*time.Second)
	call(t, b, "POST", "/v1/packages/"+id+"/withdraw", producer, nil, 200)
	hook.WaitFor(t, id+".2.withdrawn", 5*time.Second)

	want := []string{released, id + ".2.corrected", id + ".2.withdrawn"}
	time.Sleep(300 * time.Millisecond) // room for any duplicate to show up
	subMu.Lock()
	gotSub := slices.Clone(subscribed)
	subMu.Unlock()
	if !slices.Equal(gotSub, want) {
		t.Errorf("NATS subscriber got %v, want %v", gotSub, want)
	}
	if got := fetchConsumer(); !slices.Equal(got, want) {
		t.Errorf("durable consumer got %v, want %v", got, want)
	}
	for _, w := range want {
		if n := hook.Accepted(w); n != 1 {
			t.Errorf("webhook accepted %s %d times", w, n)
		}
	}
	call(t, a, "POST", "/v1/packages/"+id+"/purge", producer, nil, 200) // leaves the bucket clean
}
