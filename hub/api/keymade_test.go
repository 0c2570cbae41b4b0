package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub/webhooktest"
	"github.com/syndication-hub/hub/publisher/webhooks"
	"github.com/syndication-hub/hub/publisher/wire"
)

// keyListing is GET /v1/keys as a test reads it.
type keyListing struct {
	Items []struct {
		ID    string
		Grace *time.Time
		Made  struct{ Webhooks, Feedtokens []string }
	}
}

// TestRevokedKeyDisablesWhatItMade: a partner key registers a webhook and
// issues a feed token; the admin's listing shows both under the key;
// once the key is revoked the webhook receives nothing more (a witness
// webhook the admin registered for the same partner still does) and the
// feed answers 404.
func TestRevokedKeyDisablesWhatItMade(t *testing.T) {
	h := newWebhookTestHub(t, webhooks.Options{SyncEvery: 100 * time.Millisecond})
	ctx := context.Background()
	made, witness := webhooktest.Start(t, webhooktest.OK), webhooktest.Start(t, webhooktest.OK)
	partnerID, partner := h.webhookPartner("Vesti", "korgau123")
	var keys keyListing
	h.do("GET", "/v1/keys", h.admin, nil).expect(t, http.StatusOK).json(t, &keys)
	keyID := keys.Items[len(keys.Items)-1].ID

	var mine, theirs webhookAnswer
	h.do("POST", "/v1/webhooks", partner, map[string]string{"url": made.URL + "/hub"}).expect(t, http.StatusCreated).json(t, &mine)
	h.do("POST", "/v1/webhooks", h.admin, map[string]string{"url": witness.URL + "/hub", "partner": partnerID}).
		expect(t, http.StatusCreated).json(t, &theirs)
	made.SetSecret(mine.Secret)
	witness.SetSecret(theirs.Secret)
	var token struct{ Token, RSS string }
	h.do("POST", "/v1/partners/"+partnerID+"/feedtoken", partner, nil).expect(t, http.StatusCreated).json(t, &token)
	feed := "/feeds/p/" + token.Token + "/releases.rss"
	h.do("GET", feed, "", nil).expect(t, http.StatusOK)

	h.do("GET", "/v1/keys", h.admin, nil).expect(t, http.StatusOK).json(t, &keys)
	for _, k := range keys.Items {
		switch k.ID {
		case keyID:
			if len(k.Made.Webhooks) != 1 || k.Made.Webhooks[0] != mine.ID || len(k.Made.Feedtokens) != 1 || k.Made.Feedtokens[0] != partnerID {
				t.Errorf("the partner key made %+v", k.Made)
			}
		default:
			if k.Made.Feedtokens == nil || k.Made.Webhooks == nil {
				t.Errorf("key %s: made lists are null, not []", k.ID)
			}
		}
	}

	producer := h.key("producer")
	first := h.readyPackage(producer, "korgau123")
	h.do("POST", "/v1/packages/"+first+"/release", producer, nil).expect(t, http.StatusOK)
	made.WaitFor(t, first+".1.released", 10*time.Second)
	witness.WaitFor(t, first+".1.released", 10*time.Second)

	h.do("DELETE", "/v1/keys/"+keyID, h.admin, nil).expect(t, http.StatusNoContent)
	h.do("GET", feed, "", nil).expect(t, http.StatusNotFound).problem(t)
	second := h.readyPackage(producer, "korgau123")
	h.do("POST", "/v1/packages/"+second+"/release", producer, nil).expect(t, http.StatusOK)
	witness.WaitFor(t, second+".1.released", 10*time.Second)
	// The revoked key's webhook has been handed the announcement too, and
	// let it go: its consumer's ack floor is past it.
	stream, err := h.js.Stream(ctx, wire.Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := stream.Consumer(ctx, webhooks.ConsumerName(mine.ID))
		if err != nil {
			t.Fatal(err)
		}
		ci, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ci.AckFloor.Stream >= info.State.LastSeq {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook's consumer never passed sequence %d (ack floor %d)", info.State.LastSeq, ci.AckFloor.Stream)
		}
	}
	if n := made.Attempts(second + ".1.released"); n != 0 {
		t.Errorf("the webhook of a revoked key was sent the release %d times", n)
	}
}

// TestRotateKeyOverHTTP: the answer carries the new secret and when the
// old one stops; a bad grace is a 400; grace 0s ends the old one at once.
func TestRotateKeyOverHTTP(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	var k struct{ ID, Key string }
	h.do("POST", "/v1/keys", h.admin, map[string]any{"role": "producer", "name": "team"}).expect(t, http.StatusCreated).json(t, &k)
	h.do("POST", "/v1/keys/"+k.ID+"/rotate", k.Key, map[string]string{"grace": "a day"}).expect(t, http.StatusBadRequest).problem(t)
	h.do("POST", "/v1/keys/"+k.ID+"/rotate", k.Key, map[string]string{"grace": "721h"}).expect(t, http.StatusBadRequest).problem(t)
	h.do("POST", "/v1/keys/"+k.ID+"/rotate", h.key("producer"), nil).expect(t, http.StatusNotFound).problem(t)

	var r struct {
		ID, Key string
		Grace   time.Time
		Rotated time.Time
	}
	h.do("POST", "/v1/keys/"+k.ID+"/rotate", k.Key, nil).expect(t, http.StatusOK).json(t, &r)
	if r.ID != k.ID || r.Key == "" || r.Key == k.Key || r.Grace.Sub(r.Rotated) != 24*time.Hour {
		t.Errorf("rotated %+v", r)
	}
	h.do("GET", "/v1/packages", k.Key, nil).expect(t, http.StatusOK)
	var keys keyListing
	h.do("GET", "/v1/keys", h.admin, nil).expect(t, http.StatusOK).json(t, &keys)
	n := 0
	for _, item := range keys.Items {
		if item.ID == k.ID {
			n++
			if item.Grace == nil || !item.Grace.Equal(r.Grace) {
				t.Errorf("listed grace %v, want %s", item.Grace, r.Grace)
			}
		}
	}
	if n != 1 {
		t.Errorf("the rotated key is listed %d times", n)
	}
	var again struct{ Key string }
	h.do("POST", "/v1/keys/"+k.ID+"/rotate", r.Key, map[string]string{"grace": "0s"}).expect(t, http.StatusOK).json(t, &again)
	h.do("GET", "/v1/packages", r.Key, nil).expect(t, http.StatusUnauthorized)
	h.do("GET", "/v1/packages", k.Key, nil).expect(t, http.StatusUnauthorized) // retired by the second rotation
	h.do("GET", "/v1/packages", again.Key, nil).expect(t, http.StatusOK)
}
