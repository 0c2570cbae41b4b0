package api_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/syndication-hub/hub/publisher/audit"
	"github.com/syndication-hub/hub/publisher/webhooks"
)

// auditAnswer is GET /v1/audit as a test reads it.
type auditAnswer struct {
	Items []struct {
		Cursor string
		Actor  struct {
			Key, Name, Role string
		}
		Action, Target, Package, Campaign, Partner string
		Version                                    int
	}
	Next string
}

// auditAll reads the whole audit log, page by page, as the admin.
func (h *testHub) auditAll(limit int) auditAnswer {
	h.t.Helper()
	var all auditAnswer
	after := ""
	for {
		var page auditAnswer
		path := "/v1/audit?limit=" + strconv.Itoa(limit)
		if after != "" {
			path += "&after=" + after
		}
		h.do("GET", path, h.admin, nil).expect(h.t, http.StatusOK).json(h.t, &page)
		all.Items = append(all.Items, page.Items...)
		all.Next = page.Next
		if len(page.Items) == 0 {
			return all
		}
		after = page.Next
	}
}

// TestAuditLogRecordsActsByIDsOnly walks a package through its life, with
// keys, a partner, a campaign, a webhook and a feed token on the way, and
// reads the audit log back: every act with its actor, in order, paged;
// not a byte of content in it, also after the purge; admins only.
func TestAuditLogRecordsActsByIDsOnly(t *testing.T) {
	h := newWebhookTestHub(t, webhooks.Options{})
	ctx := context.Background()
	admin, err := h.svc.Authenticate(ctx, h.admin)
	if err != nil {
		t.Fatal(err)
	}
	var producerKey struct{ ID, Key string }
	h.do("POST", "/v1/keys", h.admin, map[string]any{"role": "producer", "name": "KORGAU123 team"}).
		expect(t, http.StatusCreated).json(t, &producerKey)
	producer := producerKey.Key
	// The partner's name is content; its key's name is what the actor is
	// called in the log.
	var rec struct{ ID string }
	h.do("POST", "/v1/partners", h.admin, map[string]any{"name": "Secret Newsroom Name", "medium": "online", "campaigns": []string{"korgau123"}}).
		expect(t, http.StatusCreated).json(t, &rec)
	var pk struct{ Key string }
	h.do("POST", "/v1/keys", h.admin, map[string]any{"role": "partner", "name": "outlet 7 ingest", "partner": rec.ID}).
		expect(t, http.StatusCreated).json(t, &pk)
	partnerID, partner := rec.ID, pk.Key

	id := h.readyPackage(producer, "korgau123")
	h.do("PATCH", "/v1/packages/"+id, producer, map[string]any{"usageterms": "Credit the survivor's own words"}).expect(t, http.StatusOK)
	h.do("PATCH", "/v1/packages/"+id+"/assets/poster.png", producer, map[string]any{"caption": "Айгуль at the shelter"}).expect(t, http.StatusOK)
	h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
	h.do("POST", "/v1/packages/"+id+"/withdraw", producer, nil).expect(t, http.StatusOK)
	var hook struct{ ID, Secret string }
	h.do("POST", "/v1/webhooks", partner, map[string]string{"url": "http://127.0.0.1:9/hooks/secret-path"}).
		expect(t, http.StatusCreated).json(t, &hook)
	var token struct{ Token string }
	h.do("POST", "/v1/partners/"+partnerID+"/feedtoken", partner, nil).expect(t, http.StatusCreated).json(t, &token)
	h.do("POST", "/v1/packages/"+id+"/purge", producer, nil).expect(t, http.StatusOK)
	h.do("PATCH", "/v1/campaigns/korgau123", h.admin, map[string]any{"visibility": "partners"}).expect(t, http.StatusOK)
	h.do("PATCH", "/v1/campaigns/korgau123", h.admin, map[string]any{"name": "KORGAU 123"}).expect(t, http.StatusOK)
	h.do("PATCH", "/v1/campaigns/korgau123", h.admin, map[string]any{"visibility": "public"}).expect(t, http.StatusOK)

	got := h.auditAll(2) // small pages, to page through
	var acts []string
	for _, e := range got.Items {
		acts = append(acts, e.Action)
	}
	want := []string{
		"key.create", // the hub recording HUB_ADMIN_KEY on its fresh data dir
		"key.create", "partner.create", "key.create", "campaign.create", "package.create", "asset.put",
		"package.update", "asset.update", "package.release", "package.withdraw", "webhook.create",
		"feedtoken.issue", "package.purge",
		"campaign.made-partners-only", "campaign.update", "campaign.made-public",
	}
	if !slices.Equal(acts, want) {
		t.Fatalf("acts %v\nwant %v", acts, want)
	}
	purge := got.Items[13]
	if purge.Actor.Key != producerKey.ID || purge.Actor.Role != "producer" || purge.Actor.Name != "KORGAU123 team" ||
		purge.Target != id || purge.Package != id || purge.Campaign != "korgau123" || purge.Version != 1 {
		t.Errorf("the purge's entry %+v", purge)
	}
	if e := got.Items[0]; e.Actor.Key != "" || e.Actor.Role != "hub" || e.Target != admin.ID {
		t.Errorf("the admin key's entry %+v", e)
	}
	if e := got.Items[1]; e.Actor.Key != admin.ID || e.Actor.Role != "admin" || e.Target != producerKey.ID {
		t.Errorf("the first key's entry %+v", e)
	}
	if e := got.Items[12]; e.Target != partnerID || e.Partner != partnerID {
		t.Errorf("the feed token's entry %+v", e)
	}
	if last, _ := strconv.ParseUint(got.Next, 10, 64); last == 0 || got.Items[len(got.Items)-1].Cursor != got.Next {
		t.Errorf("next %q after the last entry %q", got.Next, got.Items[len(got.Items)-1].Cursor)
	}

	// No content, no secret, no name but the actor's key name: read the
	// stream itself, not only the API's view of it.
	raw := h.auditAll(500)
	body := h.do("GET", "/v1/audit?limit=500", h.admin, nil).expect(t, http.StatusOK).body
	stream, err := h.js.Stream(ctx, audit.Stream)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= uint64(len(raw.Items)); seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		body = append(body, m.Data...)
	}
	for _, secret := range []string{
		"Домогательства", "poster.png", "Айгуль", "survivor", "Secret Newsroom Name", "secret-path", "127.0.0.1",
		hook.Secret, token.Token, producer, partner, h.admin, "Dobrye Vesti",
	} {
		if bytes.Contains(body, []byte(secret)) {
			t.Errorf("the audit log holds %q", secret)
		}
	}

	for _, key := range []string{producer, partner} {
		if p := h.do("GET", "/v1/audit", key, nil).expect(t, http.StatusForbidden).problem(t); p.Code != "forbidden" {
			t.Errorf("code %s", p.Code)
		}
	}
	h.do("GET", "/v1/audit", "", nil).expect(t, http.StatusUnauthorized)
	for _, q := range []string{"after=x", "limit=0", "limit=501", "after=-1"} {
		h.do("GET", "/v1/audit?"+q, h.admin, nil).expect(t, http.StatusBadRequest).problem(t)
	}
	var end auditAnswer
	h.do("GET", "/v1/audit?after=18446744073709551615", h.admin, nil).expect(t, http.StatusOK).json(t, &end)
	if len(end.Items) != 0 || end.Next != "18446744073709551615" {
		t.Errorf("after the last possible cursor: %+v", end)
	}
}

// TestAuditFailureDoesNotFailTheWrite removes the audit stream under the
// hub: writes still succeed (the failure is logged), and nothing is
// recorded for them.
func TestAuditFailureDoesNotFailTheWrite(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	if err := h.js.DeleteStream(context.Background(), audit.Stream); err != nil {
		t.Fatal(err)
	}
	producer := h.key("producer")
	id := h.readyPackage(producer, "korgau123")
	h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
	h.do("GET", "/v1/audit", h.admin, nil).expect(t, http.StatusInternalServerError)
}
