// Package hubtest runs a whole hub in-process for the tests of the tools
// that talk to it over HTTP and NATS (hubclient, push, pull): the server
// package's composition root, exactly as `hub serve` runs it, with the
// embedded NATS server's client listener on a free loopback port, blobs
// on disk, and the API on a free loopback port.
package hubtest

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsserver"
	"github.com/syndication-hub/hub/publisher/partners"
	"github.com/syndication-hub/hub/publisher/webhooks"
	"github.com/syndication-hub/hub/server"
)

// Options configures a test hub. The zero value is `hub serve` with no
// flags, on free loopback ports and a temporary data dir.
type Options struct {
	// AdvertisedNATSURL replaces the NATS URL partners are told to
	// connect to, so a test can hand out an address nobody listens on.
	AdvertisedNATSURL string
	// NATSURL runs the hub on an external NATS (natstest.RunExternal)
	// instead of its embedded server: several hubs on one NATS are
	// replicas.
	NATSURL string
	// NATSCalloutSeed is a file with the auth callout issuer's seed, for
	// an external NATS whose auth callout the hub answers.
	NATSCalloutSeed string
	// NATSGrantLifetime caps the callout's user JWTs (see
	// server.Config.NATSGrantLifetime); 0 is the default.
	NATSGrantLifetime time.Duration
	// DataDir is the data dir; "" is a temporary one. Replicas that share
	// it share their blobs on disk; a hub started again on it restarts.
	DataDir string
	// Announcer wraps the release stream the hub announces through (see
	// server.Options.Announcer): fault tests make it fail.
	Announcer func(next hub.Announcer) hub.Announcer
	// Webhooks, when set, lets webhooks reach loopback (receivers are
	// httptest servers) and tunes their delivery.
	Webhooks *webhooks.Options
	// ReconcileEvery is how often the outbox is retried; 0: 10 s.
	ReconcileEvery time.Duration
	// PublicURL is the base of links and the CloudEvents source; "" is the
	// hub's own address.
	PublicURL string
	// Logger receives the hub's log; nil sends warnings to the test log.
	Logger *slog.Logger
	// Configure, when set, changes the hub's Config before it starts
	// (rate limits, upload caps).
	Configure func(*server.Config)
}

// Hub is a running test hub.
type Hub struct {
	// URL is the hub's base URL, also its public URL.
	URL string
	// AdminKey is an admin key.
	AdminKey string
	Service  *hub.Service
	// NATS is the embedded NATS server (nil with Options.NATSURL).
	NATS *natsserver.Server
	// Server is the whole hub, for tests that look at its parts.
	Server *server.Server

	access *partners.Access
	// cfg and serverOpts started the hub; Restart starts it again with
	// them.
	cfg        server.Config
	serverOpts server.Options

	mu       sync.Mutex
	requests []Request
}

// Request is one request the hub received, as tests look at it.
type Request struct {
	Method string
	Path   string
	Header http.Header
}

// Start runs a hub until the test ends.
func Start(tb testing.TB, opts Options) *Hub {
	tb.Helper()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cfg := server.Config{Addr: "127.0.0.1:0", NATSListen: "127.0.0.1:0", DataDir: opts.DataDir, NATSURL: opts.NATSURL, PublicURL: opts.PublicURL,
		NATSReplicas: 1, MaxAssetBytes: hub.DefaultMaxAssetBytes, AdminKey: "hub_hubtest-admin-key-0123456789",
		NATSCalloutSeed: opts.NATSCalloutSeed, NATSPartnersAccount: "PARTNERS", NATSGrantLifetime: opts.NATSGrantLifetime}
	if cfg.DataDir == "" {
		cfg.DataDir = tb.TempDir()
	}
	if cfg.NATSURL != "" {
		// Replicas of one test may share a data dir (its disk blobs),
		// but each has indexes of its own, as in production: a second
		// hub on one search index is refused.
		cfg.IndexDir = tb.TempDir()
	}
	serverOpts := server.Options{
		Logger: log, AdvertisedNATSURL: opts.AdvertisedNATSURL, Announcer: opts.Announcer, ReconcileEvery: opts.ReconcileEvery,
		// PartnerKey brings users and consumers up to date itself; the
		// periodic sync is only a backstop here (see PartnerKey).
		PartnerSyncEvery: time.Minute,
	}
	if opts.Webhooks != nil {
		// The service registers loopback receivers; delivery dials them
		// unless the options say otherwise.
		cfg.WebhooksAllowPrivate, serverOpts.Webhooks = true, *opts.Webhooks
		serverOpts.RefusePrivateDials = !opts.Webhooks.AllowPrivateTargets
	}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	if err := cfg.Resolve(); err != nil {
		tb.Fatalf("hubtest: %v", err)
	}
	h := &Hub{cfg: cfg, serverOpts: serverOpts}
	h.serverOpts.Middleware = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.mu.Lock()
			h.requests = append(h.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()})
			h.mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}
	h.start(tb)
	tb.Cleanup(func() { h.Stop(tb) })
	// A restart listens where this hub does, so clients that hold its
	// URL (a browser mid-upload) find the next one there.
	h.cfg.Addr = strings.TrimPrefix(h.URL, "http://")
	return h
}

func (h *Hub) start(tb testing.TB) {
	tb.Helper()
	srv, err := server.Start(context.Background(), h.cfg, h.serverOpts)
	if err != nil {
		tb.Fatalf("hubtest: start the hub: %v", err)
	}
	h.URL, h.AdminKey, h.Service, h.NATS, h.Server = srv.URL(), h.cfg.AdminKey, srv.Service(), srv.EmbeddedNATS(), srv
	h.access = srv.PartnerAccess()
}

// Restart stops the hub, unless Stop did, and starts it again on the
// same data dir, address and options, as an operator's restart does:
// what the hub keeps (packages, keys, sessions, staged uploads) is there
// again, and URL stays the same. Service, NATS and Server are the new
// hub's; Requests goes on recording.
func (h *Hub) Restart(tb testing.TB) {
	tb.Helper()
	h.Stop(tb)
	h.start(tb)
}

// Stop stops the hub (as a shutdown does; the test's end does it too).
// It may be called again: a hub stopped stays stopped.
func (h *Hub) Stop(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Server.Close(ctx); err != nil {
		tb.Errorf("hubtest: stop the hub: %v", err)
	}
}

// Admin is the hub's admin key, resolved.
func (h *Hub) Admin(tb testing.TB) *hub.Key {
	tb.Helper()
	return h.admin(tb)
}

// ReadyPackage creates, through the service, a draft in campaign with a
// headline and one small PNG asset: ready to release.
func (h *Hub) ReadyPackage(tb testing.TB, campaign string) *hub.Package {
	tb.Helper()
	ctx := context.Background()
	admin := h.admin(tb)
	p, err := h.Service.CreatePackage(ctx, admin, &hub.Package{
		Campaign: campaign, Language: "ru", Headlines: []hub.Text{{Value: "Домогательства на работе — это преступление"}},
	})
	if err != nil {
		tb.Fatalf("hubtest: create package: %v", err)
	}
	body := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + p.ID)
	if _, _, err := h.Service.PutAsset(ctx, admin, p.ID, hub.AssetUpload{Name: "poster.png", Body: bytes.NewReader(body), Size: int64(len(body))}); err != nil {
		tb.Fatalf("hubtest: upload poster.png: %v", err)
	}
	return p
}

// Requests returns the requests received so far whose method is method
// (any when "") and whose path contains part.
func (h *Hub) Requests(method, part string) []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(h.requests), func(r Request) bool {
		return (method != "" && r.Method != method) || !strings.Contains(r.Path, part)
	})
}

// ProducerKey creates a producer key.
func (h *Hub) ProducerKey(tb testing.TB) string {
	tb.Helper()
	return h.key(tb, hub.Key{Role: hub.RoleProducer, Name: "producer"})
}

// PartnerKey creates an active partner entitled to campaigns and returns
// a key of it.
func (h *Hub) PartnerKey(tb testing.TB, name string, campaigns ...string) string {
	tb.Helper()
	ctx := context.Background()
	p, err := h.Service.CreatePartner(ctx, h.admin(tb), &hub.Partner{
		Name: name, Region: "Almaty", Medium: hub.MediumTV, Campaigns: campaigns, Active: true,
	})
	if err != nil {
		tb.Fatalf("hubtest: create partner: %v", err)
	}
	// Load the partner's NATS user now rather than on its first GET
	// /v1/me/nats: nats-server v2.15.2's ReloadOptions writes the server's
	// options unguarded while JetStream direct gets read them, which the
	// race detector reports when it happens amid a test's traffic.
	if err := h.access.Sync(ctx); err != nil {
		tb.Fatalf("hubtest: sync partner access: %v", err)
	}
	return h.key(tb, hub.Key{Role: hub.RolePartner, Name: name + " ingest", Partner: p.ID})
}

// PublicPartnerKey creates a partner key without a partner record: it
// sees public campaigns and has no NATS access.
func (h *Hub) PublicPartnerKey(tb testing.TB) string {
	tb.Helper()
	return h.key(tb, hub.Key{Role: hub.RolePartner, Name: "public reader"})
}

func (h *Hub) admin(tb testing.TB) *hub.Key {
	k, err := h.Service.Authenticate(context.Background(), h.AdminKey)
	if err != nil {
		tb.Fatalf("hubtest: admin key: %v", err)
	}
	return k
}

func (h *Hub) key(tb testing.TB, req hub.Key) string {
	_, secret, err := h.Service.CreateKey(context.Background(), h.admin(tb), req)
	if err != nil {
		tb.Fatalf("hubtest: create key: %v", err)
	}
	return secret
}

// testWriter sends the hub's warnings to the test log, shown on failure.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
