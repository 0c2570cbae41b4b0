package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// takedownsAnswer is GET /v1/packages/{id}/takedowns.
type takedownsAnswer struct {
	Package, Campaign, Event string
	Version                  int
	Withdrawn, Purged        *time.Time
	Expected, Unconfirmed    int
	Outlets                  []takedownAnswer
}

// takedownAnswer is one outlet's takedown, and POST's answer.
type takedownAnswer struct {
	Partner, Name, Status, Via, Key string
	Confirmed                       *time.Time
	PickedUp                        bool
}

func (a takedownsAnswer) outlet(t *testing.T, partner string) takedownAnswer {
	t.Helper()
	for _, o := range a.Outlets {
		if o.Partner == partner {
			return o
		}
	}
	t.Fatalf("partner %s is not among the outlets expected to take %s down: %+v", partner, a.Package, a.Outlets)
	return takedownAnswer{}
}

func (h *testHub) takedowns(key, id string) takedownsAnswer {
	h.t.Helper()
	var a takedownsAnswer
	h.do("GET", "/v1/packages/"+id+"/takedowns", key, nil).expect(h.t, http.StatusOK).json(h.t, &a)
	return a
}

// releasedIn makes a package with a poster in campaign and releases it.
func (h *testHub) releasedIn(campaign, headline, asset string) string {
	h.t.Helper()
	var out struct{ ID string }
	h.do("POST", "/v1/packages", h.admin, map[string]any{"campaign": campaign, "language": "ru",
		"headlines": []map[string]string{{"value": headline}}}).expect(h.t, http.StatusCreated).json(h.t, &out)
	h.do("PUT", "/v1/packages/"+out.ID+"/assets/"+asset, h.admin, pngBytes(h.t, 4, 4, 3)).expect(h.t, http.StatusCreated)
	h.do("POST", "/v1/packages/"+out.ID+"/release", h.admin, nil).expect(h.t, http.StatusOK)
	return out.ID
}

// TestTakedownAcknowledgement follows one package from its release to its
// purge: who may confirm, what the producer sees, that a confirmation
// keeps its first time, and that the record outlives the purge without a
// word of the package's content.
func TestTakedownAcknowledgement(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	for _, slug := range []string{"tkhidden", "tkelse"} {
		h.do("POST", "/v1/campaigns", h.admin, map[string]any{"slug": slug, "name": slug, "visibility": "partners"}).
			expect(t, http.StatusCreated)
	}
	almaty, almatyKey := h.outlet("Almaty TV", "Almaty", "tv", "tkhidden")
	osh, oshKey := h.outlet("Osh FM", "Osh", "radio", "tkhidden")
	_, elseKey := h.outlet("Other campaign's outlet", "Aktobe", "print", "tkelse")
	revoked, revokedKey := h.outlet("Revoked key's outlet", "Taraz", "online", "tkhidden")
	inactive, _ := h.outlet("Inactive outlet", "Shymkent", "online", "tkhidden")
	h.do("PATCH", "/v1/partners/"+inactive, h.admin, map[string]any{"active": false}).expect(t, http.StatusOK)
	var recordless struct{ Key string }
	h.do("POST", "/v1/keys", h.admin, map[string]any{"role": "partner", "name": "no record"}).expect(t, http.StatusCreated).json(t, &recordless)
	producer, otherProducer := h.key("producer", "tkhidden"), h.key("producer", "tkelse")

	headline, asset := "Заголовок, который не переживёт удаление", "survivor-portrait.png"
	id := h.releasedIn("tkhidden", headline, asset)
	confirm := func(key string, body any) response { return h.do("POST", "/v1/packages/"+id+"/takedown", key, body) }

	// Almaty picks it up; the record of the download lands a moment later.
	h.do("GET", "/v1/packages/"+id+"/assets/"+asset, almatyKey, nil).expect(t, http.StatusOK)
	eventually(t, 5*time.Second, "Almaty's download in the pickups", func() bool {
		r := h.do("GET", "/v1/packages/"+id+"/pickups", producer, nil)
		return strings.Contains(string(r.body), almaty)
	})

	t.Run("live", func(t *testing.T) {
		h := h.with(t)
		if p := confirm(almatyKey, nil).expect(t, http.StatusConflict).problem(t); !strings.Contains(p.Detail, "nothing to take down") {
			t.Errorf("409 says %q", p.Detail)
		}
		confirm(elseKey, nil).expect(t, http.StatusNotFound) // it cannot even see it
		h.do("GET", "/v1/packages/"+id+"/takedowns", producer, nil).expect(t, http.StatusConflict)
	})

	h.do("DELETE", "/v1/keys/"+h.keyID(revokedKey), h.admin, nil).expect(t, http.StatusNoContent)
	h.do("POST", "/v1/packages/"+id+"/withdraw", producer, nil).expect(t, http.StatusOK)

	var first takedownAnswer
	t.Run("withdrawn", func(t *testing.T) {
		h := h.with(t)
		a := h.takedowns(producer, id)
		if a.Event != "withdrawn" || a.Withdrawn == nil || a.Purged != nil || a.Version != 1 || a.Campaign != "tkhidden" {
			t.Errorf("takedowns %+v", a)
		}
		// The inactive outlet could read nothing; the one whose key was
		// revoked could, and still must take it down.
		if a.Expected != 3 || a.Unconfirmed != 3 || len(a.Outlets) != 3 {
			t.Fatalf("expected %d, unconfirmed %d: %+v", a.Expected, a.Unconfirmed, a.Outlets)
		}
		if o := a.outlet(t, almaty); !o.PickedUp || o.Status != "not-confirmed" || o.Name != "Almaty TV" || o.Confirmed != nil {
			t.Errorf("Almaty before confirming: %+v", o)
		}
		if o := a.outlet(t, osh); o.PickedUp {
			t.Errorf("Osh shows a pickup it never made: %+v", o)
		}
		a.outlet(t, revoked)

		for _, tt := range []struct {
			who    string
			key    string
			status int
		}{
			{"a revoked key", revokedKey, http.StatusUnauthorized},
			{"a partner of another campaign", elseKey, http.StatusNotFound},
			{"a partner key without a record", recordless.Key, http.StatusForbidden},
			{"the producer", producer, http.StatusForbidden},
			{"the admin", h.admin, http.StatusForbidden},
		} {
			t.Run(tt.who, func(t *testing.T) { confirm(tt.key, nil).expect(t, tt.status).problem(t) })
		}
		confirm(almatyKey, map[string]string{"via": "email"}).expect(t, http.StatusBadRequest)
		confirm(almatyKey, map[string]string{"partner": osh}).expect(t, http.StatusBadRequest)

		confirm(almatyKey, nil).expect(t, http.StatusOK).json(t, &first)
		if first.Status != "confirmed" || first.Via != "api" || first.Confirmed == nil || first.Partner != almaty || first.Key != h.keyID(almatyKey) {
			t.Fatalf("confirmation %+v", first)
		}
		var again takedownAnswer
		confirm(almatyKey, map[string]string{"via": "pull"}).expect(t, http.StatusOK).json(t, &again)
		if !again.Confirmed.Equal(*first.Confirmed) || again.Via != "api" {
			t.Errorf("a second confirmation %+v replaced the first %+v", again, first)
		}
		a = h.takedowns(producer, id)
		if o := a.outlet(t, almaty); o.Status != "confirmed" || !o.Confirmed.Equal(*first.Confirmed) {
			t.Errorf("Almaty after confirming: %+v", o)
		}
		if a.Unconfirmed != 2 || a.Outlets[len(a.Outlets)-1].Partner != almaty {
			t.Errorf("the unconfirmed first, then the confirmed: %+v", a)
		}

		// Who may read them: the package's editors only.
		for _, tt := range []struct {
			who, key string
			status   int
		}{
			{"admin", h.admin, http.StatusOK},
			{"a producer of another campaign", otherProducer, http.StatusNotFound},
			{"the confirming outlet", almatyKey, http.StatusNotFound},
			{"no key", "", http.StatusUnauthorized},
		} {
			t.Run("list by "+tt.who, func(t *testing.T) {
				h.do("GET", "/v1/packages/"+id+"/takedowns", tt.key, nil).expect(t, tt.status)
			})
		}
	})

	t.Run("audit and metrics", func(t *testing.T) {
		h := h.with(t)
		var log struct {
			Items []struct {
				Action, Target, Partner string
				Actor                   struct{ Key string }
			}
		}
		h.do("GET", "/v1/audit?limit=500", h.admin, nil).expect(t, http.StatusOK).json(t, &log)
		n := 0
		for _, e := range log.Items {
			if e.Action == "takedown.confirm" {
				n++
				if e.Target != id || e.Partner != almaty || e.Actor.Key != h.keyID(almatyKey) {
					t.Errorf("audit entry %+v", e)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d takedown.confirm entries, want 1 (the second confirmation changed nothing)", n)
		}
		m := h.do("GET", "/metrics", h.admin, nil).expect(t, http.StatusOK)
		if !strings.Contains(string(m.body), `hub_takedown_confirmations_total{via="api"} 1`) {
			t.Errorf("metrics lack one api confirmation:\n%s", grepLines(string(m.body), "takedown"))
		}
	})

	t.Run("a withdrawn package is not released again", func(t *testing.T) {
		h := h.with(t)
		// The lifecycle refuses it (a correction after a withdrawal would
		// be a new package), so the record never has to be reset.
		h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusConflict)
		h.do("PATCH", "/v1/packages/"+id, producer, map[string]any{"usageterms": "again"}).expect(t, http.StatusConflict)
		if a := h.takedowns(producer, id); a.Unconfirmed != 2 || a.outlet(t, almaty).Status != "confirmed" {
			t.Errorf("after a refused re-release: %+v", a)
		}
	})

	h.do("POST", "/v1/packages/"+id+"/purge", producer, nil).expect(t, http.StatusOK)

	t.Run("purged", func(t *testing.T) {
		h := h.with(t)
		r := h.do("GET", "/v1/packages/"+id+"/takedowns", producer, nil).expect(t, http.StatusOK)
		for _, mark := range []string{headline, asset} {
			if strings.Contains(string(r.body), mark) {
				t.Errorf("the takedowns of a purged package show %q: %s", mark, r.body)
			}
		}
		var a takedownsAnswer
		r.json(t, &a)
		if a.Event != "purged" || a.Purged == nil || a.Withdrawn == nil || a.Expected != 3 {
			t.Errorf("after the purge: %+v", a)
		}
		// The pickups are gone; the record kept who picked it up.
		if o := a.outlet(t, almaty); !o.PickedUp || !o.Confirmed.Equal(*first.Confirmed) {
			t.Errorf("Almaty after the purge: %+v", o)
		}
		var osh1 takedownAnswer
		confirm(oshKey, map[string]string{"via": "pull"}).expect(t, http.StatusOK).json(t, &osh1)
		if osh1.Via != "pull" || osh1.Status != "confirmed" {
			t.Errorf("Osh confirming after the purge: %+v", osh1)
		}
		if a := h.takedowns(producer, id); a.Unconfirmed != 1 || a.Outlets[0].Partner != revoked {
			t.Errorf("after Osh confirmed, only the revoked key's outlet is left: %+v", a)
		}
		confirm(elseKey, nil).expect(t, http.StatusNotFound)
	})

	t.Run("purged before its release", func(t *testing.T) {
		h := h.with(t)
		draft := h.createPackage(producer, "tkhidden")
		h.do("POST", "/v1/packages/"+draft+"/purge", producer, nil).expect(t, http.StatusOK)
		h.do("GET", "/v1/packages/"+draft+"/takedowns", producer, nil).expect(t, http.StatusConflict)
		h.do("POST", "/v1/packages/"+draft+"/takedown", almatyKey, nil).expect(t, http.StatusNotFound)
		h.do("POST", "/v1/packages/nonexistent/takedown", almatyKey, nil).expect(t, http.StatusNotFound)
	})
}

// keyID returns the id of the key with secret.
func (h *testHub) keyID(secret string) string {
	h.t.Helper()
	var keys struct{ Items []struct{ ID, Prefix string } }
	h.do("GET", "/v1/keys", h.admin, nil).expect(h.t, http.StatusOK).json(h.t, &keys)
	for _, k := range keys.Items {
		if k.Prefix != "" && strings.HasPrefix(secret, k.Prefix) {
			return k.ID
		}
	}
	h.t.Fatalf("no key has the prefix of %.10s…", secret)
	return ""
}

// TestTakedownExpectsWhoPickedItUp: an outlet that downloaded a package
// and lost its entitlement before the withdrawal must still take it
// down, and may confirm.
func TestTakedownExpectsWhoPickedItUp(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	h.do("POST", "/v1/campaigns", h.admin, map[string]any{"slug": "tkgone", "name": "tkgone", "visibility": "partners"}).
		expect(t, http.StatusCreated)
	former, formerKey := h.outlet("Former partner", "Osh", "tv", "tkgone")
	id := h.releasedIn("tkgone", "Заголовок", "poster.png")
	h.do("GET", "/v1/packages/"+id+"/archive.zip", formerKey, nil).expect(t, http.StatusOK)
	eventually(t, 5*time.Second, "the zip in the pickups", func() bool {
		return strings.Contains(string(h.do("GET", "/v1/packages/"+id+"/pickups", h.admin, nil).body), former)
	})
	h.do("PATCH", "/v1/partners/"+former, h.admin, map[string]any{"campaigns": []string{}}).expect(t, http.StatusOK)
	h.do("POST", "/v1/packages/"+id+"/withdraw", h.admin, nil).expect(t, http.StatusOK)
	a := h.takedowns(h.admin, id)
	if o := a.outlet(t, former); !o.PickedUp || o.Status != "not-confirmed" || a.Expected != 1 {
		t.Errorf("takedowns %+v", a)
	}
	h.do("POST", "/v1/packages/"+id+"/takedown", formerKey, nil).expect(t, http.StatusOK)
	if a := h.takedowns(h.admin, id); a.Unconfirmed != 0 {
		t.Errorf("after its confirmation: %+v", a)
	}
}
