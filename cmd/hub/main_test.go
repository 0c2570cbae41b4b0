package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/syndication-hub/hub/hub/miniotest"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/server"
)

var minioServer *miniotest.Server

func TestMain(m *testing.M) { os.Exit(miniotest.Main(m, &minioServer)) }

// testConfig is `hub serve` with no flags, on free ports and a temp dir.
func testConfig(t *testing.T) server.Config {
	var cfg server.Config
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	cfg.Addr, cfg.NATSListen, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	if err := cfg.Resolve(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startHub runs the whole program as `hub serve` does and returns it with
// what it printed.
func startHub(t *testing.T, cfg server.Config) (*server.Server, string) {
	t.Helper()
	var out bytes.Buffer
	s, err := server.Start(context.Background(), cfg, server.Options{Logger: testLogger(t), AdminKeyOut: &out})
	if err != nil {
		t.Fatalf("start hub: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s, out.String()
}

func stopHub(t *testing.T, s *server.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("close hub: %v", err)
	}
}

func call(t *testing.T, s *server.Server, method, path, key string, body []byte, want int) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL()+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	return b
}

func field(t *testing.T, b []byte, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	v, _ := m[name].(string)
	return v
}

// pngHead is enough of a PNG for sniffing; the rest is payload.
var pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")

func TestServeKeepsEverythingAcrossRestarts(t *testing.T) {
	for _, store := range []string{"disk", "s3"} {
		t.Run(store, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.AdminKey = "hub_test-admin-key-0123456789"
			if store == "s3" {
				o := minioServer.Options(t)
				cfg.S3Endpoint, cfg.S3Bucket, cfg.S3AccessKey, cfg.S3SecretKey = o.Endpoint, o.Bucket, o.AccessKey, o.SecretKey
			}
			hub1, _ := startHub(t, cfg)
			producer := field(t, call(t, hub1, "POST", "/v1/keys", cfg.AdminKey, []byte(`{"role":"producer","name":"KORGAU123 team"}`), 201), "key")
			id := field(t, call(t, hub1, "POST", "/v1/packages", producer,
				[]byte(`{"campaign":"korgau123","language":"ru","headlines":[{"value":"Домогательства на работе — это преступление"}]}`), 201), "id")
			poster := append(append([]byte{}, pngHead...), bytes.Repeat([]byte("poster"), 50000)...)
			call(t, hub1, "PUT", "/v1/packages/"+id+"/assets/poster.png", producer, poster, 201)
			stopHub(t, hub1)

			hub2, out := startHub(t, cfg)
			if strings.Contains(out, "hub_") {
				t.Errorf("a restart printed a key: %q", out)
			}
			if got := call(t, hub2, "GET", "/v1/packages/"+id+"/assets/poster.png", producer, nil, 200); !bytes.Equal(got, poster) {
				t.Fatal("the asset differs after a restart")
			}
			list := call(t, hub2, "GET", "/v1/packages?campaign=korgau123", producer, nil, 200)
			if !bytes.Contains(list, []byte(id)) || !bytes.Contains(list, []byte("Домогательства")) {
				t.Fatalf("the listing after a restart lacks the package: %s", list)
			}
			call(t, hub2, "DELETE", "/v1/packages/"+id, producer, nil, 204) // leaves the bucket clean
		})
	}
}

func TestFirstAdminKeyIsPrintedOnce(t *testing.T) {
	cfg := testConfig(t)
	hub1, out := startHub(t, cfg)
	var key string
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "hub_") {
			key = f
		}
	}
	if key == "" {
		t.Fatalf("no key printed on a fresh data dir: %q", out)
	}
	call(t, hub1, "GET", "/v1/keys", key, nil, 200)
	stopHub(t, hub1)
	hub2, out := startHub(t, cfg)
	if strings.Contains(out, "hub_") {
		t.Errorf("a second start printed a key: %q", out)
	}
	call(t, hub2, "GET", "/v1/keys", key, nil, 200)
}

func TestAdminKeyFromEnvironment(t *testing.T) {
	cfg := testConfig(t)
	cfg.AdminKey = "hub_operator-chosen-secret-42"
	hub1, out := startHub(t, cfg)
	if strings.Contains(out, "hub_") {
		t.Errorf("a key was printed although HUB_ADMIN_KEY was set: %q", out)
	}
	keys := call(t, hub1, "GET", "/v1/keys", cfg.AdminKey, nil, 200)
	stopHub(t, hub1)
	hub2, _ := startHub(t, cfg) // the same value again is fine
	if again := call(t, hub2, "GET", "/v1/keys", cfg.AdminKey, nil, 200); !bytes.Equal(again, keys) {
		t.Errorf("restarting with the same HUB_ADMIN_KEY changed the keys:\n%s\n%s", keys, again)
	}
	stopHub(t, hub2)
	cfg.AdminKey = "short"
	if _, err := server.Start(context.Background(), cfg, server.Options{Logger: testLogger(t)}); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("a short HUB_ADMIN_KEY: %v", err)
	}
}

// TestTwoReplicasShareExternalNATSAndS3 runs two hubs as an operator
// would on a cluster: both on one external NATS and one bucket.
func TestTwoReplicasShareExternalNATSAndS3(t *testing.T) {
	url := natstest.StartExternal(t)
	o := minioServer.Options(t)
	cfg := testConfig(t)
	cfg.NATSURL, cfg.AdminKey = url, "hub_cluster-admin-key-0123456"
	cfg.S3Endpoint, cfg.S3Bucket, cfg.S3AccessKey, cfg.S3SecretKey = o.Endpoint, o.Bucket, o.AccessKey, o.SecretKey
	a, _ := startHub(t, cfg)
	cfg.DataDir, cfg.IndexDir = t.TempDir(), "" // the second replica's own, indexes too
	b, _ := startHub(t, cfg)

	producer := field(t, call(t, a, "POST", "/v1/keys", cfg.AdminKey, []byte(`{"role":"producer","name":"team"}`), 201), "key")
	id := field(t, call(t, b, "POST", "/v1/packages", producer, []byte(`{"campaign":"korgau123","language":"kk"}`), 201), "id")
	poster := append(append([]byte{}, pngHead...), bytes.Repeat([]byte("x"), 1000)...)
	call(t, a, "PUT", "/v1/packages/"+id+"/assets/poster.png", producer, poster, 201)
	if got := call(t, b, "GET", "/v1/packages/"+id+"/assets/poster.png", producer, nil, 200); !bytes.Equal(got, poster) {
		t.Fatal("replica b serves other bytes")
	}
	// b's listing index follows a's writes through the KV watch.
	deadline := time.Now().Add(5 * time.Second)
	for !bytes.Contains(call(t, b, "GET", "/v1/packages", producer, nil, 200), []byte("poster.png")) {
		if time.Now().After(deadline) {
			t.Fatal("replica b's listing never showed a's upload")
		}
		time.Sleep(20 * time.Millisecond)
	}
	call(t, a, "DELETE", "/v1/packages/"+id, producer, nil, 204)
}
