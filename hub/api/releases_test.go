package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/publisher/wire"
)

// subscriber collects announcements from the release stream, as an
// outlet's NATS client would.
type subscriber struct {
	t    *testing.T
	msgs chan jetstream.Msg
}

func (h *testHub) subscribe(filter string) *subscriber {
	h.t.Helper()
	cons, err := h.js.OrderedConsumer(context.Background(), wire.Stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		h.t.Fatal(err)
	}
	s := &subscriber{t: h.t, msgs: make(chan jetstream.Msg, 100)}
	cc, err := cons.Consume(func(m jetstream.Msg) { s.msgs <- m })
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(cc.Stop)
	return s
}

// next waits for the next announcement, failing after d.
func (s *subscriber) next(d time.Duration) jetstream.Msg {
	s.t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case <-time.After(d):
		s.t.Fatalf("no announcement within %v", d)
		return nil
	}
}

// none checks that nothing arrives within d.
func (s *subscriber) none(d time.Duration) {
	s.t.Helper()
	select {
	case m := <-s.msgs:
		s.t.Fatalf("unexpected announcement %s on %s", m.Headers().Get("ce-type"), m.Subject())
	case <-time.After(d):
	}
}

func (h *testHub) readyPackage(key, campaign string) string {
	h.t.Helper()
	id := h.createPackage(key, campaign)
	h.do("PUT", "/v1/packages/"+id+"/assets/poster.png", key, pngBytes(h.t, 16, 16, 9)).expect(h.t, http.StatusCreated)
	return id
}

// partnerSees reports what a partner can get of package id on every path
// the API has: the package, the listing, an asset, a version, the change log.
func (h *testHub) partnerSees(key, id string) map[string]bool {
	h.t.Helper()
	seen := map[string]bool{}
	seen["get"] = h.do("GET", "/v1/packages/"+id, key, nil).StatusCode == http.StatusOK
	seen["list"] = bytes.Contains(h.do("GET", "/v1/packages", key, nil).expect(h.t, 200).body, []byte(id))
	seen["asset"] = h.do("GET", "/v1/packages/"+id+"/assets/poster.png", key, nil).StatusCode == http.StatusOK
	seen["version"] = h.do("GET", "/v1/packages/"+id+"/versions/1", key, nil).StatusCode == http.StatusOK
	seen["changelog"] = bytes.Contains(h.do("GET", "/v1/releases", key, nil).expect(h.t, 200).body, []byte(id))
	return seen
}

func TestEmbargoedPackageReachesNoPartnerBeforeItsTime(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	producer, partner := h.key("producer"), h.key("partner")
	id := h.readyPackage(producer, "korgau123")
	sub := h.subscribe("hub.releases.korgau123.>")

	embargo := time.Now().Add(1500 * time.Millisecond).Truncate(time.Second).Add(time.Second)
	var item map[string]any
	h.do("POST", "/v1/packages/"+id+"/release", producer, map[string]string{"embargo": embargo.Format(time.RFC3339)}).
		expect(t, http.StatusOK).json(t, &item)
	if item["status"] != "scheduled" || item["pubstatus"] != "withheld" || item["embargoed"] == nil {
		t.Fatalf("scheduled package answered %v", item)
	}
	for path, ok := range h.partnerSees(partner, id) {
		if ok {
			t.Errorf("before the embargo a partner gets the package through %s", path)
		}
	}
	sub.none(time.Until(embargo) - 300*time.Millisecond)

	m := sub.next(3 * time.Second)
	delay := time.Since(embargo)
	t.Logf("released %v after the embargo", delay)
	for header, want := range map[string]string{
		"ce-specversion": "1.0", "ce-type": "org.syndicationhub.package.released", "ce-subject": id,
		"ce-id": id + ".1.released", "Nats-Msg-Id": id + ".1.released", "ce-source": "https://hub.example.org",
		"ce-datacontenttype": "application/json", "ce-campaign": "korgau123", "ce-language": "ru",
	} {
		if got := m.Headers().Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
	if m.Subject() != "hub.releases.korgau123.ru."+id {
		t.Errorf("subject %s", m.Subject())
	}
	var body map[string]any
	if err := json.Unmarshal(m.Data(), &body); err != nil {
		t.Fatal(err)
	}
	assoc := body["associations"].([]any)[0].(map[string]any)
	if body["pubstatus"] != "usable" || body["version"] != "1" || !strings.HasPrefix(assoc["uri"].(string), "https://hub.example.org/v1/packages/"+id+"/assets/") {
		t.Errorf("announced body %s", m.Data())
	}
	for path, ok := range h.partnerSees(partner, id) {
		if !ok {
			t.Errorf("after the embargo a partner does not get the package through %s", path)
		}
	}
	sub.none(300 * time.Millisecond) // announced once
}

func TestCorrectionWithdrawalAndPurge(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	producer, partner := h.key("producer"), h.key("partner")
	id := h.readyPackage(producer, "korgau123")
	sub := h.subscribe("hub.releases.>")
	h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
	if m := sub.next(2 * time.Second); m.Headers().Get("ce-type") != "org.syndicationhub.package.released" {
		t.Fatalf("first announcement %s", m.Headers().Get("ce-type"))
	}

	// An edit makes a revision; partners keep seeing version 1 until it is released.
	h.do("PATCH", "/v1/packages/"+id, producer, map[string]any{"headlines": []map[string]string{{"value": "Исправленный заголовок"}}}).expect(t, http.StatusOK)
	newPoster := pngBytes(t, 16, 16, 77)
	h.do("PUT", "/v1/packages/"+id+"/assets/poster.png", producer, newPoster).expect(t, http.StatusOK)
	var seen struct {
		Version   string
		Headlines []struct{ Value string }
	}
	h.do("GET", "/v1/packages/"+id, partner, nil).expect(t, 200).json(t, &seen)
	if seen.Version != "1" || seen.Headlines[0].Value != "Домогательства на работе — это преступление" {
		t.Fatalf("a partner sees the unreleased revision: %+v", seen)
	}
	if r := h.do("GET", "/v1/packages/"+id+"/assets/poster.png", partner, nil).expect(t, 200); bytes.Equal(r.body, newPoster) {
		t.Fatal("a partner downloads the unreleased revision's bytes")
	}
	h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
	m := sub.next(2 * time.Second)
	if m.Headers().Get("ce-type") != "org.syndicationhub.package.corrected" || m.Headers().Get("ce-id") != id+".2.corrected" {
		t.Fatalf("correction announced as %s %s", m.Headers().Get("ce-type"), m.Headers().Get("ce-id"))
	}
	h.do("GET", "/v1/packages/"+id, partner, nil).expect(t, 200).json(t, &seen)
	if seen.Version != "2" || seen.Headlines[0].Value != "Исправленный заголовок" {
		t.Fatalf("after the correction a partner sees %+v", seen)
	}
	if r := h.do("GET", "/v1/packages/"+id+"/assets/poster.png", partner, nil).expect(t, 200); !bytes.Equal(r.body, creditedAs(t, "image/png", newPoster, harnessCredit)) {
		t.Fatal("after the correction a partner downloads old bytes")
	}
	h.do("GET", "/v1/packages/"+id+"/versions/1", partner, nil).expect(t, 200).json(t, &seen)
	if seen.Version != "1" || seen.Headlines[0].Value != "Домогательства на работе — это преступление" {
		t.Fatalf("version 1 reads %+v", seen)
	}
	h.do("GET", "/v1/packages/"+id+"/versions/3", partner, nil).expect(t, 404).problem(t)

	h.do("POST", "/v1/packages/"+id+"/withdraw", producer, nil).expect(t, http.StatusOK)
	if m := sub.next(2 * time.Second); m.Headers().Get("ce-type") != "org.syndicationhub.package.withdrawn" {
		t.Fatalf("withdrawal announced as %s", m.Headers().Get("ce-type"))
	}
	var status struct{ Status, PubStatus string }
	h.do("GET", "/v1/packages/"+id, partner, nil).expect(t, 200).json(t, &status)
	if status.Status != "withdrawn" || status.PubStatus != "canceled" {
		t.Errorf("a partner reads the withdrawn package as %+v", status)
	}
	h.do("GET", "/v1/packages/"+id+"/assets/poster.png", partner, nil).expect(t, 404)

	h.do("POST", "/v1/packages/"+id+"/purge", producer, nil).expect(t, http.StatusOK)
	m = sub.next(2 * time.Second)
	if m.Headers().Get("ce-type") != "org.syndicationhub.package.purged" || bytes.Contains(m.Data(), []byte("Домогательства")) {
		t.Fatalf("purge announced as %s: %s", m.Headers().Get("ce-type"), m.Data())
	}
	r := h.do("GET", "/v1/packages/"+id, producer, nil).expect(t, 200)
	if bytes.Contains(r.body, []byte("poster")) || bytes.Contains(r.body, []byte("Исправленный")) {
		t.Errorf("the tombstone keeps content: %s", r.body)
	}
	h.do("GET", "/v1/packages/"+id+"/versions/1", producer, nil).expect(t, 404)
	if left := h.listBlobs(); len(left) != 0 {
		t.Errorf("bytes left after a purge: %v", left)
	}
	var log struct {
		Items []struct{ Event, ID string }
		Next  string
	}
	h.do("GET", "/v1/releases", partner, nil).expect(t, 200).json(t, &log)
	var events []string
	for _, e := range log.Items {
		events = append(events, e.Event)
	}
	// A purge leaves only its tombstone on the stream: the earlier
	// announcements carried the content someone withdrew consent for.
	if strings.Join(events, ",") != "purged" {
		t.Errorf("change log events after the purge %v, want only the purge", events)
	}
	h.do("GET", "/v1/releases?after="+log.Next, partner, nil).expect(t, 200).json(t, &log)
	if len(log.Items) != 0 {
		t.Errorf("after the last cursor: %v", log.Items)
	}
	// A cursor past the end, up to the largest the parameter takes, is an
	// empty page that keeps the cursor, not a server error (issue 9).
	for _, after := range []string{"999999", "18446744073709551614", "18446744073709551615"} {
		h.do("GET", "/v1/releases?after="+after, partner, nil).expect(t, 200).json(t, &log)
		if len(log.Items) != 0 || log.Next != after {
			t.Errorf("after=%s: %d items, next %q", after, len(log.Items), log.Next)
		}
	}
	h.do("GET", "/v1/releases?after=18446744073709551616", partner, nil).expect(t, 400).problem(t)
}

func TestLifecycleRefusalsSayWhy(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	producer := h.key("producer")
	empty := h.createPackage(producer, "korgau123")
	var noHeadline struct{ ID string }
	h.do("POST", "/v1/packages", producer, map[string]any{"campaign": "korgau123", "language": "ru"}).expect(t, 201).json(t, &noHeadline)
	h.do("PUT", "/v1/packages/"+noHeadline.ID+"/assets/poster.png", producer, pngBytes(t, 4, 4, 1)).expect(t, 201)
	ready := h.readyPackage(producer, "korgau123")
	released := h.readyPackage(producer, "korgau123")
	h.do("POST", "/v1/packages/"+released+"/release", producer, nil).expect(t, 200)
	withdrawn := h.readyPackage(producer, "korgau123")
	h.do("POST", "/v1/packages/"+withdrawn+"/release", producer, nil).expect(t, 200)
	h.do("POST", "/v1/packages/"+withdrawn+"/withdraw", producer, nil).expect(t, 200)

	for _, tc := range []struct {
		name, path string
		body       any
		status     int
		detail     string
	}{
		{"no asset", "/v1/packages/" + empty + "/release", nil, 409, "without an asset"},
		{"no headline", "/v1/packages/" + noHeadline.ID + "/release", nil, 409, "without a headline"},
		{"embargo in the past", "/v1/packages/" + ready + "/release", map[string]string{"embargo": "2020-01-01T00:00:00Z"}, 400, "not in the future"},
		{"embargo unparseable", "/v1/packages/" + ready + "/release", map[string]string{"embargo": "tomorrow morning"}, 400, "RFC 3339"},
		{"embargo not a string", "/v1/packages/" + ready + "/release", map[string]int{"embargo": 5}, 400, "embargo must be a string"},
		{"unknown field", "/v1/packages/" + ready + "/release", map[string]string{"when": "now"}, 400, "unknown field"},
		{"withdraw a draft", "/v1/packages/" + ready + "/withdraw", nil, 409, "only a released package"},
		{"unschedule a draft", "/v1/packages/" + ready + "/unschedule", nil, 409, "not scheduled"},
		{"nothing to correct", "/v1/packages/" + released + "/release", nil, 409, "no changes"},
		{"embargo on a correction", "/v1/packages/" + released + "/release", map[string]string{"embargo": time.Now().Add(time.Hour).Format(time.RFC3339)}, 400, "takes no embargo"},
		{"correct a withdrawn package", "/v1/packages/" + withdrawn + "/release", nil, 409, "withdrawn"},
		{"delete a released package", "/v1/packages/" + released, nil, 409, "only drafts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.with(t)
			method := "POST"
			if tc.name == "delete a released package" {
				method = "DELETE"
			}
			before := h.state()
			r := h.do(method, tc.path, producer, tc.body).expect(t, tc.status)
			if p := r.problem(t); !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail %q does not say %q", p.Detail, tc.detail)
			}
			h.assertUnchanged(before)
		})
	}
	h.do("PATCH", "/v1/packages/"+withdrawn, producer, map[string]string{"by": "x"}).expect(t, 409)

	// Reschedule and unschedule.
	later := time.Now().Add(time.Hour).Truncate(time.Second)
	h.do("POST", "/v1/packages/"+ready+"/release", producer, map[string]string{"embargo": later.Format(time.RFC3339)}).expect(t, 200)
	var item struct{ Status, Embargoed string }
	h.do("POST", "/v1/packages/"+ready+"/release", producer, map[string]string{"embargo": later.Add(time.Hour).Format(time.RFC3339)}).expect(t, 200).json(t, &item)
	if item.Status != "scheduled" || !strings.HasPrefix(item.Embargoed, later.Add(time.Hour).UTC().Format("2006-01-02T15")) {
		t.Errorf("rescheduled: %+v", item)
	}
	item.Embargoed = ""
	h.do("POST", "/v1/packages/"+ready+"/unschedule", producer, nil).expect(t, 200).json(t, &item)
	if item.Status != "draft" || item.Embargoed != "" {
		t.Errorf("unscheduled: %+v", item)
	}
}

func TestVisibilityOfCampaignsToPartners(t *testing.T) {
	forEachStore(t, hubOptions{}, func(t *testing.T, h *testHub) {
		producer := h.key("producer")
		h.do("POST", "/v1/campaigns", producer, map[string]any{"slug": "survivors", "name": "Survivor stories", "visibility": "partners"}).expect(t, 201)
		var entitled, other struct{ ID string }
		h.do("POST", "/v1/partners", h.admin, map[string]any{"name": "Almaty TV", "region": "Almaty", "medium": "tv", "languages": []string{"kk", "ru"}, "campaigns": []string{"survivors"}}).
			expect(t, 201).json(t, &entitled)
		h.do("POST", "/v1/partners", h.admin, map[string]any{"name": "Bishkek Online", "medium": "online"}).expect(t, 201).json(t, &other)
		partnerKey := func(partner string) string {
			var out struct{ Key string }
			h.do("POST", "/v1/keys", h.admin, map[string]any{"role": "partner", "name": "ingest", "partner": partner}).expect(t, 201).json(t, &out)
			return out.Key
		}
		entitledKey, otherKey, looseKey := partnerKey(entitled.ID), partnerKey(other.ID), h.key("partner")

		closed := h.readyPackage(producer, "survivors")
		open := h.readyPackage(producer, "korgau123")
		for _, id := range []string{closed, open} {
			h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, 200)
		}
		for _, tc := range []struct {
			name     string
			key, id  string
			wantSeen bool
		}{
			{"entitled partner, partners-only campaign", entitledKey, closed, true},
			{"other partner, partners-only campaign", otherKey, closed, false},
			{"loose partner key, partners-only campaign", looseKey, closed, false},
			{"other partner, public campaign", otherKey, open, true},
			{"loose partner key, public campaign", looseKey, open, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h := h.with(t)
				for path, seen := range h.partnerSees(tc.key, tc.id) {
					if seen != tc.wantSeen {
						t.Errorf("%s: seen=%v, want %v", path, seen, tc.wantSeen)
					}
				}
			})
		}
		// Entitlements change what is seen at once; deactivation ends access.
		h.do("PATCH", "/v1/partners/"+other.ID, h.admin, map[string]any{"campaigns": []string{"survivors"}}).expect(t, 200)
		h.do("GET", "/v1/packages/"+closed, otherKey, nil).expect(t, 200)
		h.do("PATCH", "/v1/partners/"+other.ID, h.admin, map[string]any{"active": false}).expect(t, 200)
		h.do("GET", "/v1/packages/"+open, otherKey, nil).expect(t, 401)
		// A campaign turned partners-only disappears for the others.
		h.do("PATCH", "/v1/campaigns/korgau123", producer, map[string]any{"visibility": "partners"}).expect(t, 200)
		h.do("GET", "/v1/packages/"+open, looseKey, nil).expect(t, 404)
		h.do("GET", "/v1/campaigns/korgau123", looseKey, nil).expect(t, 404)
		// Partners cannot write, and learn nothing from trying.
		h.do("PATCH", "/v1/packages/"+open, entitledKey, map[string]any{"by": "x"}).expect(t, 404)
		h.do("POST", "/v1/packages/"+closed+"/withdraw", entitledKey, nil).expect(t, 404)
		h.do("POST", "/v1/partners", entitledKey, map[string]any{"name": "x", "medium": "tv"}).expect(t, 403)
	})
}

// TestReleaseWaitsForRunningUploads starts an upload that is still
// streaming when the producer releases: refused with the reason, then
// fine once the upload has finished.
func TestReleaseWaitsForRunningUploads(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	producer := h.key("producer")
	id := h.readyPackage(producer, "korgau123")
	body, feed := io.Pipe()
	done := make(chan response)
	go func() {
		done <- h.do("PUT", "/v1/packages/"+id+"/assets/interview.png", producer, body)
	}()
	feed.Write(pngBytes(t, 32, 32, 3)[:64]) // the start of the file: sniffed, streaming
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, err := h.catalog.Package(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Uploads) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the upload never showed as running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	r := h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusConflict)
	if p := r.problem(t); !strings.Contains(p.Detail, "still uploading") {
		t.Errorf("detail %q", p.Detail)
	}
	feed.Write(pngBytes(t, 32, 32, 3)[64:])
	feed.Close()
	(<-done).expect(t, http.StatusCreated)
	h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
}

// TestTranslationsRevealNoHiddenSibling links a released package to a
// sibling still in draft: partners must not learn the draft's id.
func TestTranslationsRevealNoHiddenSibling(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	producer, partner := h.key("producer"), h.key("partner")
	draft := h.createPackage(producer, "korgau123")
	id := h.readyPackage(producer, "korgau123")
	h.do("PATCH", "/v1/packages/"+id, producer, map[string]any{"translations": []string{draft}}).expect(t, 200)
	sub := h.subscribe("hub.releases.>")
	h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, 200)
	if m := sub.next(2 * time.Second); bytes.Contains(m.Data(), []byte(draft)) {
		t.Error("the announcement names the draft sibling")
	}
	if r := h.do("GET", "/v1/packages/"+id, partner, nil).expect(t, 200); bytes.Contains(r.body, []byte(draft)) {
		t.Error("a partner reads the draft sibling's id")
	}
	if r := h.do("GET", "/v1/packages/"+id, producer, nil).expect(t, 200); !bytes.Contains(r.body, []byte(draft)) {
		t.Error("the producer no longer sees its own link")
	}
	// The archived version too, in both forms (issue 9, finding 3).
	eventually(t, 5*time.Second, "version 1 archived", func() bool {
		return h.do("GET", "/v1/packages/"+id+"/versions/1", producer, nil).StatusCode == 200
	})
	for _, accept := range []string{"application/json", "application/ninjs+json"} {
		if r := h.do("GET", "/v1/packages/"+id+"/versions/1", partner, nil, "Accept", accept).expect(t, 200); bytes.Contains(r.body, []byte(draft)) {
			t.Errorf("a partner reads the draft sibling's id in version 1 (%s)", accept)
		}
	}
	// Once the sibling is released too, the link shows.
	h.do("PUT", "/v1/packages/"+draft+"/assets/poster.png", producer, pngBytes(t, 16, 16, 7)).expect(t, http.StatusCreated)
	h.do("POST", "/v1/packages/"+draft+"/release", producer, nil).expect(t, 200)
	if r := h.do("GET", "/v1/packages/"+id+"/versions/1", partner, nil).expect(t, 200); !bytes.Contains(r.body, []byte(draft)) {
		t.Error("a released sibling is not linked from version 1")
	}
}
