package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub/natstest"
)

// TestPickupsAreSharedByReplicas: `hub serve` records partners' downloads
// and reports on the JetStream stream, not in its memory, so another
// replica (or the same one after a restart) counts them.
//
// Two replicas on an external NATS rather than one restarted on the
// embedded server: there, partner users are synced by reloading the
// server's options, which nats-server 2.15.2 does without a lock that its
// direct gets (KV reads) take, and the race detector reports that when
// requests meet the first sync after a start.
func TestPickupsAreSharedByReplicas(t *testing.T) {
	cfg := testConfig(t)
	cfg.NATSURL, cfg.AdminKey = natstest.StartExternal(t), "hub_test-admin-key-0123456789"
	hub1, _ := startHub(t, cfg)
	admin := cfg.AdminKey
	producer := field(t, call(t, hub1, "POST", "/v1/keys", admin, []byte(`{"role":"producer","name":"team"}`), 201), "key")
	partnerID := field(t, call(t, hub1, "POST", "/v1/partners", admin, []byte(`{"name":"Almaty TV","region":"Almaty","medium":"tv"}`), 201), "id")
	partner := field(t, call(t, hub1, "POST", "/v1/keys", admin, []byte(`{"role":"partner","name":"ingest","partner":"`+partnerID+`"}`), 201), "key")
	id := field(t, call(t, hub1, "POST", "/v1/packages", producer,
		[]byte(`{"campaign":"korgau123","language":"ru","headlines":[{"value":"Домогательства на работе — это преступление"}]}`), 201), "id")
	poster := append(append([]byte{}, pngHead...), bytes.Repeat([]byte("poster"), 1000)...)
	call(t, hub1, "PUT", "/v1/packages/"+id+"/assets/poster.png", producer, poster, 201)
	call(t, hub1, "POST", "/v1/packages/"+id+"/release", producer, nil, 200)
	call(t, hub1, "GET", "/v1/packages/"+id+"/archive.zip", partner, nil, 200)
	call(t, hub1, "POST", "/v1/packages/"+id+"/republications", partner,
		[]byte(`{"url":"https://almaty.tv/news/1","published":"`+time.Now().Add(-time.Hour).Format(time.RFC3339)+`","audience":5000}`), 201)
	stopHub(t, hub1)

	cfg.DataDir = t.TempDir()
	hub2, _ := startHub(t, cfg)
	var r struct {
		Outlets        int
		Republications int
		Audience       int64
		Downloads      struct{ Total, Distinct int }
	}
	if err := json.Unmarshal(call(t, hub2, "GET", "/v1/campaigns/korgau123/reach", producer, nil, 200), &r); err != nil {
		t.Fatal(err)
	}
	if r.Outlets != 1 || r.Downloads.Total != 1 || r.Downloads.Distinct != 1 || r.Republications != 1 || r.Audience != 5000 {
		t.Errorf("reach on the other replica: %+v", r)
	}
}
