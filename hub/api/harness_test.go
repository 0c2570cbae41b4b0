package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/api"
	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/miniotest"
	"github.com/syndication-hub/hub/hub/websession"
	"github.com/syndication-hub/hub/publisher/webhooks"
	"github.com/syndication-hub/hub/server"
)

// minioServer is the one MinIO this package's tests share (nil when the
// binary is missing outside CI: the S3 variants then skip).
var minioServer *miniotest.Server

func TestMain(m *testing.M) { os.Exit(miniotest.Main(m, &minioServer)) }

// testHub is a whole hub (the server package's composition root, as `hub
// serve` runs it) on real NATS and a real blob store, with an admin key.
type testHub struct {
	t       *testing.T
	URL     string
	admin   string
	server  *server.Server
	svc     *hub.Service
	catalog *catalog.Catalog
	blobs   hub.BlobStore
	js      jetstream.JetStream
	// listBlobs returns every object key in the store, to prove that a
	// rejected request left nothing behind.
	listBlobs func() []string
	// renditions says whether the hub makes renditions (hubOptions).
	renditions bool
	// cfg and serverOpts started the hub; restart starts it again with
	// them, on the same data dir.
	cfg        server.Config
	serverOpts server.Options
}

type hubOptions struct {
	maxAssetBytes int64
	presign       bool
	// metricsAddr, when set, starts the operator listener there.
	metricsAddr string
	// uploadIdle, when set, is the upload idle timeout.
	uploadIdle time.Duration
	// webhooks, when set, lets webhooks reach loopback (the receivers are
	// httptest servers) and tunes their delivery.
	webhooks *webhooks.Options
	// configure, when set, changes the hub's Config before it starts (rate
	// limits, upload caps).
	configure func(*server.Config)
	// now, when set, is the hub's clock (server.Options.Now).
	now func() time.Time
	// renditions runs the rendition workers. Off, the hub records every
	// rendition as pending and makes none: most tests look at other
	// things, and decoding pictures under the race detector is slow.
	renditions bool
	// settleFor, when set, bounds the settling of a write whose outcome
	// is unknown (server.Options.SettleFor), so tests meet that answer
	// fast.
	settleFor time.Duration
	// logger, when set, receives the hub's log instead of testLogger.
	logger *slog.Logger
}

// sessionKey marks a "key" that is a portal session's secret: do sends
// it as the session cookie instead of a bearer key.
const sessionKey = "session:"

// testPublicURL is the public URL of every test hub.
const testPublicURL = "https://hub.example.org"

// stores are the blob store drivers every API test runs on.
var stores = []string{"disk", "s3"}

// forEachStore runs f once per blob store driver.
func forEachStore(t *testing.T, opts hubOptions, f func(t *testing.T, h *testHub)) {
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			f(t, newTestHub(t, store, opts))
		})
	}
}

func newTestHub(t *testing.T, store string, opts hubOptions) *testHub {
	t.Helper()
	ctx := context.Background()
	cfg := server.Config{
		Addr: "127.0.0.1:0", NATSListen: "127.0.0.1:0", DataDir: t.TempDir(), PublicURL: testPublicURL,
		NATSReplicas: 1, MaxAssetBytes: hub.DefaultMaxAssetBytes, S3Presign: opts.presign,
		AdminKey: "hub_api-test-admin-key-0123456789", MetricsAddr: opts.metricsAddr,
		UploadIdleTimeout: opts.uploadIdle,
	}
	if opts.maxAssetBytes > 0 {
		cfg.MaxAssetBytes = opts.maxAssetBytes
	}
	if !opts.renditions {
		cfg.RenditionWorkers = -1
	}
	serverOpts := server.Options{Now: opts.now, SettleFor: opts.settleFor}
	if opts.webhooks != nil {
		cfg.WebhooksAllowPrivate, serverOpts.Webhooks = true, *opts.webhooks
	}
	h := &testHub{t: t, admin: cfg.AdminKey, renditions: opts.renditions}
	switch store {
	case "disk":
		dir := filepath.Join(cfg.DataDir, "blobs")
		h.listBlobs = func() []string {
			var keys []string
			filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
				if err == nil && !e.IsDir() {
					keys = append(keys, strings.TrimPrefix(path, dir))
				}
				return nil
			})
			return keys
		}
	case "s3":
		o := minioServer.Options(t)
		cfg.S3Endpoint, cfg.S3Bucket, cfg.S3AccessKey, cfg.S3SecretKey = o.Endpoint, o.Bucket, o.AccessKey, o.SecretKey
		client := minioServer.Client(t)
		h.listBlobs = func() []string {
			var keys []string
			for obj := range client.ListObjects(ctx, o.Bucket, minio.ListObjectsOptions{Recursive: true}) {
				keys = append(keys, obj.Key)
			}
			for u := range client.ListIncompleteUploads(ctx, o.Bucket, "", true) {
				keys = append(keys, "incomplete:"+u.Key)
			}
			return keys
		}
	}
	if opts.configure != nil {
		opts.configure(&cfg)
	}
	if err := cfg.Resolve(); err != nil {
		t.Fatal(err)
	}
	serverOpts.Logger = testLogger(t)
	if opts.logger != nil {
		serverOpts.Logger = opts.logger
	}
	h.cfg, h.serverOpts = cfg, serverOpts
	h.start()
	// Delete every draft when the test ends, before the blob store's own
	// teardown: a blob still there afterwards is one the hub leaked.
	t.Cleanup(func() {
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := h.server.Close(ctx); err != nil {
				t.Errorf("teardown: stop the hub: %v", err)
			}
		}()
		k, err := h.svc.Authenticate(ctx, h.admin)
		if err != nil {
			t.Fatal(err)
		}
		ps, _ := h.catalog.Packages(ctx)
		for _, p := range ps {
			switch p.Status {
			case hub.StatusDraft:
				err = h.svc.DeletePackage(ctx, k, p.ID)
			case hub.StatusPurged:
				err = nil
			default:
				_, err = h.svc.Purge(ctx, k, p.ID)
			}
			if err != nil {
				t.Errorf("teardown: remove package %s: %v", p.ID, err)
			}
		}
		if left := h.listBlobs(); store == "disk" && len(left) > 0 {
			t.Errorf("teardown: blobs left behind: %v", left)
		}
	})
	return h
}

// start starts the hub with h's configuration.
func (h *testHub) start() {
	h.t.Helper()
	srv, err := server.Start(context.Background(), h.cfg, h.serverOpts)
	if err != nil {
		h.t.Fatalf("start the hub: %v", err)
	}
	h.server, h.URL, h.svc, h.catalog, h.blobs, h.js = srv, srv.URL(), srv.Service(), srv.Catalog(), srv.Blobs(), srv.JetStream()
}

// restart stops the hub and starts it again on the same data dir (and a
// new port), as an operator's restart does.
func (h *testHub) restart() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.server.Close(ctx); err != nil {
		h.t.Fatalf("stop the hub: %v", err)
	}
	h.start()
}

// with returns h reporting to t, for use inside subtests.
func (h *testHub) with(t *testing.T) *testHub {
	c := *h
	c.t = t
	return &c
}

// response is a finished HTTP exchange with its body read.
type response struct {
	*http.Response
	body []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problem decodes an error answer and checks it is problem JSON.
func (r response) problem(t *testing.T) api.Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("error answered as %q, not problem JSON: %s", ct, r.body)
	}
	var p api.Problem
	r.json(t, &p)
	if p.Status != r.StatusCode || p.Detail == "" {
		t.Fatalf("problem %+v does not match status %d or has no detail", p, r.StatusCode)
	}
	return p
}

// do sends a request; body may be nil, a string, []byte, an io.Reader or
// anything else (sent as JSON). Extra headers come as name, value pairs.
func (h *testHub) do(method, path, key string, body any, headers ...string) response {
	h.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	case io.Reader:
		r = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, h.URL+path, r)
	if err != nil {
		h.t.Fatal(err)
	}
	if secret, ok := strings.CutPrefix(key, sessionKey); ok {
		req.AddCookie(&http.Cookie{Name: websession.Cookie, Value: secret})
	} else if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{resp, b}
}

// expect fails the test unless the answer has the given status.
func (r response) expect(t *testing.T, status int) response {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: got %d, want %d: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.body)
	}
	return r
}

// key makes a key with the given role, limited to campaigns if any.
func (h *testHub) key(role string, campaigns ...string) string {
	h.t.Helper()
	var out struct{ Key string }
	body := map[string]any{"role": role, "name": role + " for " + h.t.Name()}
	if len(campaigns) > 0 {
		body["campaigns"] = campaigns
	}
	h.do("POST", "/v1/keys", h.admin, body).expect(h.t, http.StatusCreated).json(h.t, &out)
	return out.Key
}

// createPackage makes a draft in campaign and returns its id.
func (h *testHub) createPackage(key, campaign string) string {
	h.t.Helper()
	var out struct{ ID string }
	h.do("POST", "/v1/packages", key, map[string]any{
		"campaign": campaign, "language": "ru",
		"headlines": []map[string]string{{"value": "Домогательства на работе — это преступление"}},
		"by":        "Dobrye Vesti", "usageterms": "Free to republish with credit",
	}).expect(h.t, http.StatusCreated).json(h.t, &out)
	return out.ID
}

// state is what a rejected request must leave unchanged.
type state struct {
	packages string
	blobs    []string
}

func (h *testHub) state() state {
	h.t.Helper()
	h.settled()
	ps, err := h.catalog.Packages(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	var fresh []*hub.Package
	for _, p := range ps {
		q, err := h.catalog.Package(context.Background(), p.ID)
		if err != nil {
			h.t.Fatal(err)
		}
		fresh = append(fresh, q)
	}
	j, _ := json.Marshal(fresh)
	blobs := h.listBlobs()
	slices.Sort(blobs)
	return state{packages: string(j), blobs: blobs}
}

// settled waits until every rendition the hub is making has ended, so
// that blobs stored by the workers after an earlier upload are not taken
// for what a request under test did.
func (h *testHub) settled() {
	h.t.Helper()
	if !h.renditions {
		return // none is made: pending is where they stay
	}
	ctx := context.Background()
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		ps, err := h.catalog.Packages(ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		var sums []string
		for _, p := range ps {
			for _, a := range p.Assets {
				sums = append(sums, a.SHA256)
			}
		}
		pending := 0
		for _, set := range h.catalog.RenditionSets(ctx, sums) {
			if !set.Done() {
				pending++
			}
		}
		if pending == 0 {
			return
		}
		if time.Since(start) > 60*time.Second {
			h.t.Fatalf("%d assets' renditions still pending after a minute", pending)
		}
	}
}

// renditionBlobs counts the blobs that hold renditions.
func (h *testHub) renditionBlobs() int {
	h.t.Helper()
	keys, err := h.catalog.RenditionBlobKeys(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return len(keys)
}

func (h *testHub) assertUnchanged(before state) {
	h.t.Helper()
	after := h.state()
	if after.packages != before.packages {
		h.t.Errorf("catalog changed:\nbefore %s\nafter  %s", before.packages, after.packages)
	}
	if !slices.Equal(after.blobs, before.blobs) {
		h.t.Errorf("blob store changed: before %v, after %v", before.blobs, after.blobs)
	}
}

// pngBytes returns a real PNG of w×h pixels; seed varies its content.
func pngBytes(t testing.TB, w, h int, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x) + seed, uint8(y), seed, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pdfBytes is a minimal PDF, enough for content sniffing.
var pdfBytes = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// testLogger sends the hub's warnings to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
