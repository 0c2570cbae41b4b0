package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/webhooktest"
	"github.com/syndication-hub/hub/publisher/webhooks"
)

// newWebhookTestHub is newTestHub with webhooks reaching loopback (the
// receivers are httptest servers) and delivered with opts' timings.
func newWebhookTestHub(t *testing.T, opts webhooks.Options) *testHub {
	t.Helper()
	return newTestHub(t, "disk", hubOptions{webhooks: &opts})
}

// webhookPartner makes a partner record entitled to campaigns and a key
// of it, and returns both.
func (h *testHub) webhookPartner(name string, campaigns ...string) (id, key string) {
	h.t.Helper()
	var p struct{ ID string }
	h.do("POST", "/v1/partners", h.admin, map[string]any{"name": name, "medium": "online", "campaigns": campaigns}).
		expect(h.t, http.StatusCreated).json(h.t, &p)
	var k struct{ Key string }
	h.do("POST", "/v1/keys", h.admin, map[string]any{"role": "partner", "name": name, "partner": p.ID}).
		expect(h.t, http.StatusCreated).json(h.t, &k)
	return p.ID, k.Key
}

// webhookAnswer is a webhook as the API shows it.
type webhookAnswer struct {
	ID      string
	Partner string
	URL     string
	Active  bool
	Created time.Time
	Secret  string
}

type webhookList struct{ Items []webhookAnswer }

type deadLetterList struct {
	Items []struct {
		Webhook, MessageID, Campaign, LastError string
		Sequence                                uint64
		Attempts, LastStatus                    int
		Failed                                  time.Time
	}
}

func TestWebhookRegistrationRefusesNonPublicTargets(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{}) // private targets not allowed
	partnerID, partner := h.webhookPartner("Vesti")
	for _, target := range []string{
		"http://127.0.0.1/hook", "http://10.0.0.1/", "file:///etc/passwd", "http://[::1]:8080/",
		"http://169.254.169.254/latest/meta-data/", "http://192.168.1.20/", "http://100.100.100.200/",
		"http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://localhost:4222/", "ftp://93.184.215.14/",
		"https://user:pass@93.184.215.14/", "http:///nohost", "",
	} {
		t.Run(target, func(t *testing.T) {
			p := h.do("POST", "/v1/webhooks", partner, map[string]string{"url": target}).expect(t, http.StatusBadRequest).problem(t)
			if p.Code != hub.EINVALID {
				t.Errorf("code %s", p.Code)
			}
		})
	}
	var w webhookAnswer
	h.do("POST", "/v1/webhooks", partner, map[string]string{"url": "https://93.184.215.14/hooks/hub"}).
		expect(t, http.StatusCreated).json(t, &w)
	if w.Partner != partnerID || !w.Active || w.URL != "https://93.184.215.14/hooks/hub" || !strings.HasPrefix(w.Secret, "whsec_") || len(w.Secret) != len("whsec_")+44 {
		t.Errorf("created %+v", w)
	}
	var list webhookList
	h.do("GET", "/v1/webhooks", partner, nil).expect(t, http.StatusOK).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != w.ID || list.Items[0].Secret != "" {
		t.Errorf("listing %+v: one webhook, without its secret", list.Items)
	}
}

// TestWebhookAccess: partners manage their own webhooks, admins any;
// everything else is a 404 to a partner and a 403 to a producer.
func TestWebhookAccess(t *testing.T) {
	h := newWebhookTestHub(t, webhooks.Options{})
	rcv := webhooktest.Start(t, webhooktest.OK)
	aID, a := h.webhookPartner("A")
	bID, b := h.webhookPartner("B")
	producer, loose := h.key("producer"), h.key("partner")

	h.do("POST", "/v1/webhooks", producer, "not even JSON").expect(t, http.StatusForbidden).problem(t)
	h.do("GET", "/v1/webhooks", producer, nil).expect(t, http.StatusForbidden).problem(t)
	h.do("POST", "/v1/webhooks", loose, map[string]string{"url": rcv.URL}).expect(t, http.StatusForbidden).problem(t)
	h.do("POST", "/v1/webhooks", a, map[string]string{"url": rcv.URL, "partner": bID}).expect(t, http.StatusNotFound).problem(t)
	h.do("POST", "/v1/webhooks", h.admin, map[string]string{"url": rcv.URL}).expect(t, http.StatusBadRequest).problem(t)
	h.do("POST", "/v1/webhooks", h.admin, map[string]string{"url": rcv.URL, "partner": "01JD3Z8Q4VJ5K6XW0M2N7P9RST"}).expect(t, http.StatusBadRequest).problem(t)
	h.do("POST", "/v1/webhooks", a, map[string]string{"url": rcv.URL, "secret": "mine"}).expect(t, http.StatusBadRequest).problem(t)

	var ofA, ofB webhookAnswer
	h.do("POST", "/v1/webhooks", a, map[string]string{"url": rcv.URL + "/a"}).expect(t, http.StatusCreated).json(t, &ofA)
	h.do("POST", "/v1/webhooks", h.admin, map[string]string{"url": rcv.URL + "/b", "partner": bID}).expect(t, http.StatusCreated).json(t, &ofB)
	if ofA.Partner != aID || ofB.Partner != bID {
		t.Fatalf("owners %s and %s", ofA.Partner, ofB.Partner)
	}
	for key, want := range map[string]int{a: 1, b: 1, h.admin: 2, loose: 0} {
		var list webhookList
		h.do("GET", "/v1/webhooks", key, nil).expect(t, http.StatusOK).json(t, &list)
		if len(list.Items) != want {
			t.Errorf("a key lists %d webhooks, want %d", len(list.Items), want)
		}
	}
	msg := "01JD3Z8Q4VJ5K6XW0M2N7P9RSZ.1.released"
	for _, path := range []string{"/v1/webhooks/" + ofA.ID + "/deadletters", "/v1/webhooks/nonsense/deadletters"} {
		h.do("GET", path, b, nil).expect(t, http.StatusNotFound).problem(t)
	}
	h.do("POST", "/v1/webhooks/"+ofA.ID+"/deadletters/"+msg+"/replay", b, nil).expect(t, http.StatusNotFound).problem(t)
	h.do("POST", "/v1/webhooks/"+ofA.ID+"/deadletters/"+msg+"/replay", a, nil).expect(t, http.StatusNotFound).problem(t)
	h.do("POST", "/v1/webhooks/"+ofA.ID+"/deadletters/..%2F..%2Fx/replay", a, nil).expect(t, http.StatusNotFound).problem(t)
	h.do("DELETE", "/v1/webhooks/"+ofA.ID, b, nil).expect(t, http.StatusNotFound).problem(t)
	h.do("DELETE", "/v1/webhooks/"+ofA.ID, a, nil).expect(t, http.StatusNoContent)
	h.do("DELETE", "/v1/webhooks/"+ofA.ID, a, nil).expect(t, http.StatusNotFound).problem(t)
	h.do("DELETE", "/v1/webhooks/"+ofB.ID, h.admin, nil).expect(t, http.StatusNoContent)
}

// TestWebhookDeadLetterReplay: an endpoint that stays down past the
// attempt cap gets a dead letter, visible to its partner; a replay while
// it is still down keeps it, and one after it recovers delivers it once.
func TestWebhookDeadLetterReplay(t *testing.T) {
	h := newWebhookTestHub(t, webhooks.Options{
		MaxAttempts: 3, FirstRetry: 20 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond,
		Timeout: 500 * time.Millisecond, SyncEvery: 100 * time.Millisecond,
	})
	rcv := webhooktest.Start(t, webhooktest.Dead)
	_, partner := h.webhookPartner("Vesti")
	_, other := h.webhookPartner("Other")
	var w webhookAnswer
	h.do("POST", "/v1/webhooks", partner, map[string]string{"url": rcv.URL + "/hub"}).expect(t, http.StatusCreated).json(t, &w)
	rcv.SetSecret(w.Secret)

	producer := h.key("producer")
	id := h.readyPackage(producer, "korgau123")
	h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
	msg := id + ".1.released"
	path := "/v1/webhooks/" + w.ID + "/deadletters"

	var dead deadLetterList
	for deadline := time.Now().Add(10 * time.Second); len(dead.Items) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no dead letter after %d attempts", rcv.Attempts(msg))
		}
		h.do("GET", path, partner, nil).expect(t, http.StatusOK).json(t, &dead)
	}
	d := dead.Items[0]
	if len(dead.Items) != 1 || d.MessageID != msg || d.Webhook != w.ID || d.Campaign != "korgau123" || d.Attempts != 3 ||
		d.LastStatus != 500 || d.LastError == "" || d.Sequence == 0 || d.Failed.IsZero() {
		t.Fatalf("dead letters %+v", dead.Items)
	}
	h.do("GET", path, other, nil).expect(t, http.StatusNotFound).problem(t)

	replay := path + "/" + msg + "/replay"
	h.do("POST", replay, partner, nil).expect(t, http.StatusServiceUnavailable).problem(t)
	h.do("GET", path, partner, nil).expect(t, http.StatusOK).json(t, &dead)
	if len(dead.Items) != 1 || dead.Items[0].Attempts != 4 {
		t.Fatalf("after a failed replay: %+v", dead.Items)
	}

	rcv.SetBehaviour(webhooktest.OK)
	var ok struct {
		MessageID string
		Status    int
	}
	h.do("POST", replay, partner, nil).expect(t, http.StatusOK).json(t, &ok)
	if ok.MessageID != msg || ok.Status != http.StatusNoContent {
		t.Errorf("replay answered %+v", ok)
	}
	if ev := rcv.WaitFor(t, msg, time.Second); ev.Type != "org.syndicationhub.package.released" || rcv.Accepted(msg) != 1 {
		t.Errorf("replayed %+v, accepted %d times", ev, rcv.Accepted(msg))
	}
	h.do("GET", path, partner, nil).expect(t, http.StatusOK).json(t, &dead)
	if len(dead.Items) != 0 {
		t.Errorf("dead letters left after the replay: %+v", dead.Items)
	}
	h.do("POST", replay, partner, nil).expect(t, http.StatusNotFound).problem(t)
}
