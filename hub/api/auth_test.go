package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAuthentication(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	producer := h.key("producer")
	var expiring struct{ Key, ID string }
	h.do("POST", "/v1/keys", h.admin, map[string]any{
		"role": "producer", "name": "short-lived", "expires": time.Now().Add(time.Second).Format(time.RFC3339Nano),
	}).expect(t, http.StatusCreated).json(t, &expiring)
	var revoked struct{ Key, ID string }
	h.do("POST", "/v1/keys", h.admin, map[string]any{"role": "producer", "name": "to revoke"}).
		expect(t, http.StatusCreated).json(t, &revoked)
	h.do("DELETE", "/v1/keys/"+revoked.ID, h.admin, nil).expect(t, http.StatusNoContent)
	time.Sleep(time.Until(time.Now().Add(1100 * time.Millisecond)))

	for _, tc := range []struct {
		name   string
		header string
	}{
		{"no header", ""},
		{"empty bearer", "Bearer "},
		{"wrong scheme", "Basic dXNlcjpwYXNz"},
		{"unknown key", "Bearer hub_not-a-real-key-at-all"},
		{"revoked key", "Bearer " + revoked.Key},
		{"expired key", "Bearer " + expiring.Key},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.with(t)
			r := h.do("GET", "/v1/packages", "", nil, "Authorization", tc.header)
			r.expect(t, http.StatusUnauthorized)
			if p := r.problem(t); p.Code != "unauthorized" {
				t.Errorf("code %q", p.Code)
			}
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate challenge")
			}
		})
	}
	h.do("GET", "/v1/packages", producer, nil).expect(t, http.StatusOK)
	// Endpoints for probes and tooling need no key.
	for _, path := range []string{"/healthz", "/readyz", "/openapi.json"} {
		h.do("GET", path, "", nil).expect(t, http.StatusOK)
	}
}

// TestMetricsNeedAnAdminKeyOrTheOperatorListener: metrics tell when purges
// (consent withdrawals), releases and withdrawals happen, hidden campaigns'
// too, so the API serves them to admin keys only; an operator's scraper
// reads them without a key on HUB_METRICS_ADDR (issue 9).
func TestMetricsNeedAnAdminKeyOrTheOperatorListener(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{metricsAddr: "127.0.0.1:0"})
	h.do("GET", "/metrics", "", nil).expect(t, http.StatusUnauthorized).problem(t)
	h.do("GET", "/metrics", h.key("producer"), nil).expect(t, http.StatusForbidden).problem(t)
	h.do("GET", "/metrics", h.key("partner"), nil).expect(t, http.StatusForbidden).problem(t)
	if r := h.do("GET", "/metrics", h.admin, nil).expect(t, http.StatusOK); !strings.Contains(string(r.body), "hub_http_requests_total") {
		t.Errorf("an admin's /metrics: %.200s", r.body)
	}
	resp, err := http.Get(h.server.MetricsURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "hub_http_requests_total") {
		t.Errorf("the operator listener answered %d: %.200s", resp.StatusCode, body)
	}
	// The operator listener serves metrics and liveness, nothing of the API.
	resp, err = http.Get(h.server.MetricsURL() + "/v1/packages")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the operator listener answered the API: %d", resp.StatusCode)
	}
}

func TestRolesAreCheckedBeforeTheBody(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	producer, partner := h.key("producer"), h.key("partner")
	for _, tc := range []struct {
		name, method, path, key string
		body                    any
	}{
		{"producer creates a key", "POST", "/v1/keys", producer, map[string]any{"role": "admin", "name": "x"}},
		{"producer sends garbage for a key", "POST", "/v1/keys", producer, "{not json"},
		{"producer lists keys", "GET", "/v1/keys", producer, nil},
		{"producer revokes a key", "DELETE", "/v1/keys/whatever", producer, nil},
		{"partner creates a key", "POST", "/v1/keys", partner, map[string]any{"role": "admin", "name": "x"}},
		{"partner creates a package", "POST", "/v1/packages", partner, map[string]any{"campaign": "korgau123", "language": "ru"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.with(t)
			before := h.state()
			r := h.do(tc.method, tc.path, tc.key, tc.body)
			r.expect(t, http.StatusForbidden)
			if p := r.problem(t); p.Code != "forbidden" {
				t.Errorf("code %q", p.Code)
			}
			h.assertUnchanged(before)
		})
	}
}

func TestKeys(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	var created struct {
		ID, Key, Prefix, Role string
		Campaigns             []string
	}
	h.do("POST", "/v1/keys", h.admin, map[string]any{"role": "producer", "name": "KORGAU123 team", "campaigns": []string{"korgau123"}}).
		expect(t, http.StatusCreated).json(t, &created)
	if created.Key == "" || created.Prefix == "" || created.Key[:len(created.Prefix)] != created.Prefix {
		t.Fatalf("created key %+v", created)
	}
	var list struct {
		Items []map[string]any
	}
	r := h.do("GET", "/v1/keys", h.admin, nil).expect(t, http.StatusOK)
	r.json(t, &list)
	if len(list.Items) != 2 {
		t.Fatalf("want the admin key and the new one, got %d", len(list.Items))
	}
	for _, k := range list.Items {
		if _, leaked := k["key"]; leaked {
			t.Error("a listing shows a secret")
		}
		if _, leaked := k["hash"]; leaked {
			t.Error("a listing shows a hash")
		}
	}
	for _, tc := range []struct {
		name string
		body any
	}{
		{"no role", map[string]any{"name": "x"}},
		{"unknown role", map[string]any{"role": "editor", "name": "x"}},
		{"no name", map[string]any{"role": "producer"}},
		{"bad campaign", map[string]any{"role": "producer", "name": "x", "campaigns": []string{"Not A Slug"}}},
		{"campaigns on a partner key", map[string]any{"role": "partner", "name": "x", "campaigns": []string{"korgau123"}}},
		{"expired already", map[string]any{"role": "producer", "name": "x", "expires": "2020-01-01T00:00:00Z"}},
		{"unknown field", map[string]any{"role": "producer", "name": "x", "scopes": "all"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.with(t)
			h.do("POST", "/v1/keys", h.admin, tc.body).expect(t, http.StatusBadRequest).problem(t)
		})
	}
	h.do("DELETE", "/v1/keys/01ARZ3NDEKTSV4RRFFQ69G5FAV", h.admin, nil).expect(t, http.StatusNotFound).problem(t)
	h.do("DELETE", "/v1/keys/"+created.ID, h.admin, nil).expect(t, http.StatusNoContent)
	h.do("GET", "/v1/packages", created.Key, nil).expect(t, http.StatusUnauthorized)
}
