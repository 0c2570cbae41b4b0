// Package hubtest runs a whole hub in-process for the tests of the tools
// that talk to it over HTTP and NATS (hubclient, push, pull): the
// embedded NATS server with its client listener and partner users, the
// catalog, blobs on disk, the publisher with its scheduler, partners'
// durable consumers, the pickup log, and the API on a loopback port. It
// wires the same parts as `hub serve` (cmd/hub/serve.go), which tests
// outside package main cannot call.
package hubtest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/api"
	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/disk"
	"github.com/syndication-hub/hub/hub/natsserver"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/publisher"
)

// Options configures a test hub.
type Options struct {
	// AdvertisedNATSURL replaces the NATS URL partners are told to
	// connect to, so a test can hand out an address nobody listens on.
	AdvertisedNATSURL string
}

// Hub is a running test hub.
type Hub struct {
	// URL is the hub's base URL, also its public URL.
	URL string
	// AdminKey is an admin key.
	AdminKey string
	Service  *hub.Service
	NATS     *natsserver.Server

	access *publisher.PartnerAccess

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
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := natstest.Start(tb, "")
	_, js := natstest.Connect(tb, srv)
	cat, err := catalog.Open(ctx, js, catalog.Options{Logger: log})
	if err != nil {
		tb.Fatalf("hubtest: open catalog: %v", err)
	}
	tb.Cleanup(func() { cat.Close() })
	blobs, err := disk.Open(tb.TempDir())
	if err != nil {
		tb.Fatalf("hubtest: open blobs: %v", err)
	}
	pub, err := publisher.Open(ctx, js, publisher.Options{})
	if err != nil {
		tb.Fatalf("hubtest: open publisher: %v", err)
	}
	natsURL := srv.ClientURL()
	if opts.AdvertisedNATSURL != "" {
		natsURL = opts.AdvertisedNATSURL
	}
	access := publisher.NewPartnerAccess(js, cat, publisher.PartnerAccessOptions{
		URL: natsURL, Users: srv, Secret: []byte("hubtest-partner-secret-0123456789abcdef"),
	})
	pickups, err := publisher.OpenPickupLog(ctx, js, publisher.PickupOptions{Logger: log})
	if err != nil {
		tb.Fatalf("hubtest: open pickup log: %v", err)
	}
	svc := hub.NewService(cat, blobs, hub.ServiceOptions{
		Announcer: access.Guard(pub), ReleaseLog: pub, Pickups: pickups, Logger: log,
	})
	h := &Hub{Service: svc, NATS: srv, access: access}

	loops, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	tb.Cleanup(func() { stop(); wg.Wait() })
	sched := publisher.NewScheduler(svc, func(err error) { log.Warn("scheduler", "err", err) })
	wg.Go(func() { sched.Run(loops) })
	// PartnerKey brings users and consumers up to date itself; the
	// periodic sync is only a backstop here (see PartnerKey).
	wg.Go(func() { access.Run(loops, time.Minute, func(err error) { log.Warn("partner access", "err", err) }) })

	if h.AdminKey, err = svc.EnsureAdminKey(ctx, ""); err != nil {
		tb.Fatalf("hubtest: admin key: %v", err)
	}
	ts := httptest.NewUnstartedServer(nil)
	h.URL = "http://" + ts.Listener.Addr().String()
	handler := api.New(svc, api.Options{PublicURL: h.URL, NATSAccess: access, Logger: log})
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.requests = append(h.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()})
		h.mu.Unlock()
		handler.ServeHTTP(w, r)
	})
	ts.Start()
	tb.Cleanup(ts.Close)
	return h
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
