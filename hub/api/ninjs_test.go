package api_test

import (
	"encoding/json"
	"mime"
	"net/http"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub/ninjs"
	"github.com/syndication-hub/hub/hub/ninjs/ninjstest"
	"github.com/syndication-hub/hub/hub/webhooktest"
	"github.com/syndication-hub/hub/publisher/webhooks"
	"github.com/syndication-hub/hub/publisher/wire"
)

// TestEveryPackageDocumentMatchesItsSchema follows one package with every
// field through its life and holds each document the hub sends about it
// to its schema: the profile (API answers, listings, asset answers, NATS
// messages, webhook events) to the hub's profile schema, the strict form
// (Accept: application/ninjs+json) to IPTC's ninjs 2.2 schema.
func TestEveryPackageDocumentMatchesItsSchema(t *testing.T) {
	h := newWebhookTestHub(t, webhooks.Options{
		FirstRetry: 20 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond, SyncEvery: 100 * time.Millisecond,
	})
	profile := ninjstest.Profile(t)
	association := ninjstest.ProfileDef(t, "association")
	rcv := webhooktest.Start(t, webhooktest.OK)
	_, partner := h.webhookPartner("Vesti", "korgau123")
	var w webhookAnswer
	h.do("POST", "/v1/webhooks", partner, map[string]string{"url": rcv.URL + "/hub"}).expect(t, http.StatusCreated).json(t, &w)
	rcv.SetSecret(w.Secret)
	sub := h.subscribe("hub.releases.>")
	producer := h.key("producer")

	sibling := h.createPackage(producer, "korgau123")
	var created struct{ ID string }
	h.do("POST", "/v1/packages", producer, map[string]any{
		"campaign": "korgau123", "language": "kk",
		"headlines":    []map[string]string{{"value": "Жұмыстағы қудалау — қылмыс"}},
		"descriptions": []map[string]string{{"role": "summary", "value": "Көмекке қайда жүгінуге болады"}},
		"bodies":       []map[string]string{{"contenttype": "text/plain", "value": "Мәтін."}},
		"subjects": []map[string]string{
			{"name": "#korgau123", "code": "korgau123", "rel": "about"},
			{"name": "harassment", "uri": "http://cv.iptc.org/newscodes/mediatopic/20000770"},
		},
		"places": []map[string]string{{"name": "Алматы", "code": "KZ-75"}},
		"by":     "Dobrye Vesti", "copyrightnotice": "© 2026 Dobrye Vesti", "usageterms": "Free to republish with credit",
		"contentwarning": "Describes harassment at work", "anonymized": true, "translations": []string{sibling},
	}).expect(t, http.StatusCreated).json(t, &created)
	id := created.ID
	put := h.do("PUT", "/v1/packages/"+id+"/assets/Плакат.png", producer, pngBytes(t, 16, 16, 1)).expect(t, http.StatusCreated)
	association.Assert(t, "the answer to an upload", put.body)
	patched := h.do("PATCH", "/v1/packages/"+id+"/assets/Плакат.png", producer,
		map[string]any{"caption": "Плакат", "credit": "Photo: A. Nurlanova", "language": "kk", "primary": true}).expect(t, http.StatusOK)
	association.Assert(t, "the answer to an asset change", patched.body)
	h.do("PUT", "/v1/packages/"+id+"/assets/сұхбат.txt", producer, "Сұхбат мәтіні.\n").expect(t, http.StatusCreated)

	// both reads path with key in both forms and checks each.
	both := func(t *testing.T, what, path, key string) {
		t.Helper()
		profile.Assert(t, what, h.do("GET", path, key, nil).expect(t, http.StatusOK).body)
		r := h.do("GET", path, key, nil, "Accept", ninjs.StrictMediaType).expect(t, http.StatusOK)
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != ninjs.StrictMediaType {
			t.Errorf("%s: asked for %s, answered %s", what, ninjs.StrictMediaType, r.Header.Get("Content-Type"))
		}
		ninjstest.AssertStrict(t, what+" (strict)", r.body)
	}
	// announced checks the NATS message and the webhook event of one
	// announcement.
	announced := func(t *testing.T, event string, version string) {
		t.Helper()
		m := sub.next(5 * time.Second)
		if got := m.Headers().Get(wire.HeaderID); got != id+"."+version+"."+event {
			t.Fatalf("announcement %s, want %s.%s.%s", got, id, version, event)
		}
		profile.Assert(t, "the NATS message of "+event, m.Data())
		ev := rcv.WaitFor(t, id+"."+version+"."+event, 5*time.Second)
		data, err := json.Marshal(ev.Data)
		if err != nil {
			t.Fatal(err)
		}
		profile.Assert(t, "the webhook event of "+event, data)
	}

	both(t, "the draft", "/v1/packages/"+id, producer)
	list := h.do("GET", "/v1/packages?campaign=korgau123", producer, nil).expect(t, http.StatusOK)
	var page struct{ Items []json.RawMessage }
	list.json(t, &page)
	if len(page.Items) != 2 {
		t.Fatalf("the listing has %d packages", len(page.Items))
	}
	for _, it := range page.Items {
		profile.Assert(t, "a listed package", it)
	}

	embargo := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	h.do("POST", "/v1/packages/"+id+"/release", producer, map[string]string{"embargo": embargo}).expect(t, http.StatusOK)
	both(t, "the scheduled package", "/v1/packages/"+id, producer)
	h.do("POST", "/v1/packages/"+id+"/unschedule", producer, nil).expect(t, http.StatusOK)

	h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
	announced(t, "released", "1")
	both(t, "the released package", "/v1/packages/"+id, partner)
	both(t, "version 1", "/v1/packages/"+id+"/versions/1", partner)

	h.do("PATCH", "/v1/packages/"+id, producer, map[string]any{"by": "Dobrye Vesti newsroom"}).expect(t, http.StatusOK)
	both(t, "the revision", "/v1/packages/"+id, producer)
	h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
	announced(t, "corrected", "2")
	both(t, "version 2", "/v1/packages/"+id+"/versions/2", partner)

	h.do("POST", "/v1/packages/"+id+"/withdraw", producer, nil).expect(t, http.StatusOK)
	announced(t, "withdrawn", "2")
	both(t, "the withdrawn package", "/v1/packages/"+id, partner)

	h.do("POST", "/v1/packages/"+id+"/purge", producer, nil).expect(t, http.StatusOK)
	announced(t, "purged", "2")
	both(t, "the tombstone", "/v1/packages/"+id, partner)
}
