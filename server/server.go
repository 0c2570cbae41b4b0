// Package server is the composition root: it builds the whole hub from one
// Config (NATS, embedded or external; the catalog; the blob store; the
// release stream with its scheduler; partners' NATS access; webhook
// delivery; the pickup log; the feed cache and its invalidator; the HTTP
// API) and owns every background loop, stopping them on Close. `hub
// serve`, hub/hubtest and every test that needs a whole hub start one
// here; nothing else wires the parts.
package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/syndication-hub/hub/feeds"
	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/api"
	"github.com/syndication-hub/hub/hub/backup"
	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/disk"
	"github.com/syndication-hub/hub/hub/natsserver"
	"github.com/syndication-hub/hub/hub/renditionqueue"
	"github.com/syndication-hub/hub/hub/s3"
	"github.com/syndication-hub/hub/hub/scratch"
	"github.com/syndication-hub/hub/hub/search"
	"github.com/syndication-hub/hub/hub/staging"
	"github.com/syndication-hub/hub/media/credit"
	"github.com/syndication-hub/hub/media/scrub"
	"github.com/syndication-hub/hub/media/tools"
	"github.com/syndication-hub/hub/portal"
	"github.com/syndication-hub/hub/publisher/audit"
	"github.com/syndication-hub/hub/publisher/partners"
	"github.com/syndication-hub/hub/publisher/pickups"
	"github.com/syndication-hub/hub/publisher/releases"
	"github.com/syndication-hub/hub/publisher/webhooks"
)

// Options are what a caller changes beyond Config: tests their clock,
// timings and the URLs partners are told; embedders the logger. The zero
// value is what `hub serve` runs with.
type Options struct {
	// Logger receives the hub's log; nil discards it.
	Logger *slog.Logger
	// AdminKeyOut is where a generated first admin key is printed (once,
	// on a fresh data dir); nil discards it.
	AdminKeyOut io.Writer
	// Version is reported in the start-up log line.
	Version string
	// Now is the clock of the domain (embargoes, timestamps); nil is
	// time.Now.
	Now func() time.Time
	// AdvertisedNATSURL replaces the NATS URL partners are told to connect
	// to, so a test can hand out an address nobody listens on.
	AdvertisedNATSURL string
	// PartnerSyncEvery is how often partners' consumers and users are
	// brought in line with the catalog; 0 means 2 s. Consumers are also
	// widened before every announcement (the guard), so a release never
	// misses a new entitlement; a removed one takes effect within this.
	PartnerSyncEvery time.Duration
	// ReconcileEvery is how often the scheduler retries announcements left
	// pending; 0 means 10 s.
	ReconcileEvery time.Duration
	// Webhooks tunes webhook delivery (attempts, retry delays, timeouts);
	// AllowPrivateTargets and Logger come from Config and Logger (and
	// RefusePrivateDials).
	Webhooks webhooks.Options
	// RefusePrivateDials makes delivery refuse loopback and private
	// addresses at dial time even when Config.WebhooksAllowPrivate lets
	// the service register them: tests of the dial-time check, standing
	// for a name that resolves to such an address only later.
	RefusePrivateDials bool
	// Announcer, when set, wraps the release stream the domain announces
	// through: fault tests make it fail or crash at chosen points.
	Announcer func(next hub.Announcer) hub.Announcer
	// StoreRecoverEvery is how often the embedded NATS server's file store
	// is checked for a write error to recover from; 0 means 2 s.
	StoreRecoverEvery time.Duration
	// Middleware, when set, wraps the HTTP handler (tests record requests).
	Middleware func(http.Handler) http.Handler
	// SettleFor bounds how long a catalog write whose outcome is unknown
	// is retried before it is answered so (catalog.Options.SettleFor); 0
	// means 10 s. Tests of that answer shorten it.
	SettleFor time.Duration
}

// Server is a running hub.
type Server struct {
	cfg      Config
	opts     Options
	log      *slog.Logger
	embedded *natsserver.Server
	nc       *nats.Conn
	js       jetstream.JetStream
	catalog  *catalog.Catalog
	search   *search.Index
	blobs    hub.BlobStore
	releases *releases.Stream
	access   *partners.Access
	callout  *natsserver.Callout
	pickups  *pickups.Log
	audit    *audit.Log
	webhooks *webhooks.Deliverer
	feeds    *feeds.Cache
	invalid  *feeds.Invalidator
	service  *hub.Service
	handler  *api.API
	sweeper  *sweeper
	staged   *staging.Store
	tools    tools.Tools

	renditionJobs *renditionqueue.Queue
	renditionRuns *prometheus.CounterVec
	// takedowns counts outlets' first confirmations of a takedown.
	takedowns *prometheus.CounterVec

	http     *http.Server
	listener net.Listener
	// metrics is the operator listener (Config.MetricsAddr), nil without.
	metrics     *http.Server
	metricsAddr string
	metricsDone chan error
	serveDone   chan error
	stopLoops   context.CancelFunc
	loops       sync.WaitGroup
	closeOnce   sync.Once
	closeErr    error
}

// Start brings the hub up from cfg (resolved with Config.Resolve) and
// serves until Close. On an error, whatever it had started is stopped.
func Start(ctx context.Context, cfg Config, opts Options) (_ *Server, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.AdminKeyOut == nil {
		opts.AdminKeyOut = io.Discard
	}
	if opts.PartnerSyncEvery <= 0 {
		opts.PartnerSyncEvery = 2 * time.Second
	}
	s := &Server{cfg: cfg, opts: opts, log: opts.Logger, serveDone: make(chan error, 1)}
	defer func() {
		if err != nil {
			if s.listener != nil && s.http == nil {
				s.listener.Close()
			}
			if s.metrics != nil {
				s.metrics.Close()
			}
			s.closeBackends()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if s.listener, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if s.cfg.PublicURL == "" { // Addr had port 0: the URL follows the port picked
		host, port, _ := net.SplitHostPort(s.listener.Addr().String())
		if err := s.cfg.derivePublicURL(host, port); err != nil {
			return nil, err
		}
	}
	if err := s.connectNATS(); err != nil {
		return nil, err
	}
	if s.js, err = jetstream.New(s.nc); err != nil {
		return nil, fmt.Errorf("JetStream: %w", err)
	}
	// The catalog's index takes as long as the catalog is large (a
	// replica without its snapshot reads every package): its load is
	// bounded by its progress, the rest of the start by a fixed time.
	if err := s.openCatalog(ctx); err != nil {
		return nil, err
	}
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// Half a restored hub must not serve, nor create the buckets the
	// restore has yet to bring.
	if err := backup.Pending(openCtx, s.js); err != nil {
		return nil, err
	}
	if err := s.openState(openCtx); err != nil {
		return nil, err
	}
	var announcer hub.Announcer = s.access.Guard(s.releases)
	if opts.Announcer != nil {
		announcer = opts.Announcer(announcer)
	}
	scratchDir := s.cfg.ScratchDir
	if scratchDir == "" {
		scratchDir = filepath.Join(s.cfg.DataDir, "scratch")
	}
	scratchSpace, err := scratch.Open(scratchDir)
	if err != nil {
		return nil, err
	}
	// Beside the scratch files, one directory per replica: replicas may
	// share the scratch volume, and each stages only its own uploads.
	staged, finished, err := staging.Open(filepath.Join(scratchSpace.Path(), "tus", s.cfg.Replica))
	if err != nil {
		return nil, err
	}
	if finished > 0 {
		s.log.Warn("removed resumable uploads received whole before a crash but never stored; their clients send them again", "uploads", finished)
	}
	s.staged = staged
	s.tools = tools.Find()
	s.service = hub.NewService(s.catalog, s.blobs, hub.ServiceOptions{
		MaxAssetBytes: s.cfg.MaxAssetBytes, Logger: s.log, Now: opts.Now, Announcer: announcer, ReleaseLog: s.releases,
		AllowPrivateWebhookTargets: s.cfg.WebhooksAllowPrivate, Pickups: s.pickups, AuditLog: s.audit,
		Scrubber: scrub.New(scrub.Options{FFmpeg: s.tools.FFmpeg, Logger: s.log}), Scratch: scratchSpace, Staged: staged,
		CreditWriter:   credit.New(),
		RenditionMaker: newRenditionMaker(s.tools, s.cfg.RenditionThreads, s.log), RenditionQueue: s.renditionJobs,
		Sessions: s.catalog, Search: s.search,
		TakedownConfirmed: func(via hub.TakedownVia) { s.takedowns.WithLabelValues(string(via)).Inc() },
	})
	if err := s.admitPartners(); err != nil {
		return nil, err
	}
	generated, err := s.service.EnsureAdminKey(openCtx, s.cfg.AdminKey)
	if err != nil {
		return nil, fmt.Errorf("admin key: %w", err)
	}
	if generated != "" {
		fmt.Fprintf(opts.AdminKeyOut, "\nA first admin key was generated. It is shown this once; keep it:\n\n    %s\n\n", generated)
	}
	s.startLoops(ctx)
	if err := s.serveHTTP(); err != nil {
		return nil, err
	}
	s.log.Info("hub serving", "addr", s.listener.Addr().String(), "public_url", s.cfg.PublicURL,
		"nats", s.natsDescription(), "blobs", s.blobsDescription(), "version", opts.Version)
	return s, nil
}

// openState opens what holds or carries state: the catalog, the blob
// store, the release stream, partners' access and the pickup log.
// openCatalog opens the catalog, and the feed cache its watch empties.
func (s *Server) openCatalog(ctx context.Context) error {
	// Rendered feeds are kept until an announcement reaches the release
	// stream or a rendition set changes; each replica empties its own
	// cache, from the stream and from the catalog's watch.
	s.feeds = feeds.NewCache(feeds.CacheOptions{})
	copts := catalog.Options{Replicas: s.cfg.NATSReplicas, Logger: s.log, StoreFailed: s.storeFailed(), SettleFor: s.opts.SettleFor,
		RenditionsChanged: func(string) { s.feeds.Invalidate() },
		// The listing index between starts: a cache of this replica's,
		// so it is on the replica's own disk whichever NATS holds the
		// truth.
		SnapshotPath: filepath.Join(s.cfg.indexDir(), "listings.snapshot")}
	var err error
	if s.catalog, err = catalog.Open(ctx, s.js, copts); err != nil {
		return fmt.Errorf("open catalog: %w", err)
	}
	return nil
}

// storeFailed returns the embedded NATS server's file store write error
// ("" for none), so a write it never answers is EFULL on every stream and
// bucket; nil on an external NATS.
func (s *Server) storeFailed() func() string {
	if s.embedded == nil {
		return nil
	}
	return s.embedded.StoreFailed
}

func (s *Server) openState(ctx context.Context) error {
	var err error
	storeFailed := s.storeFailed()
	// The full-text index is this replica's own, on its disk: it opens
	// at once and catches up in the background (searches answer 503
	// until it has; /readyz does not wait for it).
	packages, err := s.js.KeyValue(ctx, catalog.PackagesBucket)
	if err != nil {
		return fmt.Errorf("open bucket %s for the search index: %w", catalog.PackagesBucket, err)
	}
	s.search, err = search.Open(ctx, packages, filepath.Join(s.cfg.indexDir(), "search"), search.Options{Logger: s.log})
	if err != nil {
		return fmt.Errorf("open search index: %w", err)
	}
	if err := s.openBlobs(ctx); err != nil {
		return err
	}
	s.renditionRuns = newRenditionRuns()
	s.takedowns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hub_takedown_confirmations_total",
		Help: "Outlets' first confirmations that they took a withdrawn or purged package down, by how: api (a call, the portal) or pull (hub pull, once it removed the files).",
	}, []string{"via"})
	if s.renditionJobs, err = renditionqueue.Open(ctx, s.js, renditionqueue.Options{Replicas: s.cfg.NATSReplicas, Logger: s.log}); err != nil {
		return fmt.Errorf("open rendition jobs: %w", err)
	}
	s.releases, err = releases.Open(ctx, s.js, releases.Options{PublicURL: s.cfg.PublicURL, Replicas: s.cfg.NATSReplicas, StoreFailed: storeFailed})
	if err != nil {
		return err
	}
	if s.access, err = s.partnerAccess(); err != nil {
		return err
	}
	// Partners' downloads and republication reports, for campaign reach.
	s.pickups, err = pickups.Open(ctx, s.js, pickups.Options{Replicas: s.cfg.NATSReplicas, Logger: s.log, StoreFailed: storeFailed})
	if err != nil {
		return err
	}
	// Who did what, ids only, on a stream of its own (HUB_AUDIT).
	s.audit, err = audit.Open(ctx, s.js, audit.Options{
		Replicas: s.cfg.NATSReplicas, Retention: s.cfg.AuditRetention, Logger: s.log, StoreFailed: storeFailed,
	})
	return err
}

// startLoops starts every background loop; Close stops them.
func (s *Server) startLoops(ctx context.Context) {
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopLoops = stop
	scheduler := releases.NewScheduler(s.service, func(err error) { s.log.Warn("scheduler", "err", err) })
	if s.opts.ReconcileEvery > 0 {
		scheduler.ReconcileEvery = s.opts.ReconcileEvery
	}
	s.loops.Go(func() { scheduler.Run(runCtx) })
	s.loops.Go(func() {
		s.access.Run(runCtx, s.opts.PartnerSyncEvery, func(err error) { s.log.Warn("partner NATS access", "err", err) })
	})
	wopts := s.opts.Webhooks
	wopts.AllowPrivateTargets, wopts.Logger = s.cfg.WebhooksAllowPrivate && !s.opts.RefusePrivateDials, s.log
	s.webhooks = webhooks.New(s.js, s.catalog, wopts)
	s.loops.Go(func() { s.webhooks.Run(runCtx) })
	s.invalid = feeds.NewInvalidator(s.js, s.feeds, feeds.InvalidatorOptions{IndexShows: s.service.IndexShows, Logger: s.log})
	s.loops.Go(func() { s.invalid.Run(runCtx) })
	if s.embedded != nil {
		s.loops.Go(func() { s.recoverStore(runCtx) })
	}
	s.sweeper = newSweeper(s.service, s.cfg.SweepEvery, s.cfg.SweepGrace, s.log)
	s.loops.Go(func() { s.sweeper.run(runCtx) })
	if n := s.renditionWorkers(); s.renditionJobs != nil && n > 0 {
		s.loops.Go(func() { s.renditionJobs.Work(runCtx, n, s.makeRenditions) })
	}
}

// recoverStore restarts the embedded NATS server in-process once its file
// store failed a write (a full disk) and the disk has room again: the
// server keeps failing that stream's writes until it restarts. Until then
// writes answer 507 and /readyz 503.
func (s *Server) recoverStore(ctx context.Context) {
	every := s.opts.StoreRecoverEvery
	if every <= 0 {
		every = 2 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		failed := s.embedded.StoreFailed()
		restarted, err := s.embedded.Recover()
		switch {
		case err != nil:
			s.log.Error("embedded NATS store", "err", err)
		case restarted:
			s.log.Warn("embedded NATS restarted on its store after a write error, now that the disk has room", "error", failed)
		}
	}
}

func (s *Server) serveHTTP() error {
	limits, err := s.cfg.limits()
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(s.sweeper.removed, s.sweeper.runs, s.renditionRuns, s.takedowns)
	// The web portal shares the API's server and port, at the root.
	pages, err := portal.New(s.service, portal.Options{PublicURL: s.cfg.PublicURL, Consumers: s.access, Webhooks: s.webhooks,
		NATSAccess: s.access, Logger: s.log})
	if err != nil {
		return fmt.Errorf("portal: %w", err)
	}
	s.handler = api.New(s.service, api.Options{
		Portal:            pages,
		UploadIdleTimeout: s.cfg.UploadIdleTimeout,
		PublicURL:         s.cfg.PublicURL, PresignDownloads: s.cfg.S3Presign, Registry: reg, Logger: s.log,
		NATSAccess: s.access, Webhooks: s.webhooks, FeedCache: s.feeds, Limits: limits, Idempotency: s.catalog,
		Tools: s.tools.Report(), Staging: s.staged, Replica: s.cfg.Replica,
	})
	if s.cfg.MetricsAddr != "" {
		if err := s.serveMetrics(reg); err != nil {
			return err
		}
	}
	var handler http.Handler = s.handler
	if s.opts.Middleware != nil {
		handler = s.opts.Middleware(handler)
	}
	s.http = &http.Server{
		Handler: handler,
		// No ReadTimeout or WriteTimeout: they would cut off multi-gigabyte
		// uploads and downloads. Slow-header clients are still dropped.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	// A shutdown ends the uploads' running PATCHes at once, keeping what
	// they brought: their clients continue on the next start, and the
	// shutdown need not wait for every file in flight to arrive whole.
	s.http.RegisterOnShutdown(s.handler.StopUploads)
	go func() { s.serveDone <- s.http.Serve(s.listener) }()
	return nil
}

// serveMetrics starts the operator listener: /metrics and /healthz only,
// without a key, for a scraper on an address the public never reaches.
func (s *Server) serveMetrics(reg *prometheus.Registry) error {
	ln, err := net.Listen("tcp", s.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen for metrics on %s: %w", s.cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	s.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.metricsDone = make(chan error, 1)
	s.metricsAddr = ln.Addr().String()
	go func() { s.metricsDone <- s.metrics.Serve(ln) }()
	return nil
}

// MetricsURL is the operator listener's base URL, "" without one.
func (s *Server) MetricsURL() string {
	if s.metrics == nil {
		return ""
	}
	return "http://" + s.metricsAddr
}

func (s *Server) connectNATS() error {
	if s.cfg.NATSURL == "" {
		srv, err := natsserver.Start(natsserver.Options{
			StoreDir: filepath.Join(s.cfg.DataDir, "nats"), Listen: s.cfg.NATSListen, Logger: s.log,
		})
		if err != nil {
			return err
		}
		s.embedded = srv
		s.nc, err = srv.Connect("hub", nats.ReconnectBufSize(-1))
		return err
	}
	opts := []nats.Option{
		nats.Name("hub"),
		nats.MaxReconnects(-1),
		// No write waits in a buffer for NATS to come back: one the hub
		// answered as failed must never be replayed later (a ghost write,
		// a duplicate package after the producer's retry). While
		// reconnecting, a write fails at once, unsent; the catalog tells
		// that from a write whose outcome is unknown (hub/catalog/settle.go).
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: our own close at shutdown
				s.log.Warn("NATS disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { s.log.Info("NATS reconnected", "url", nc.ConnectedUrlRedacted()) }),
	}
	if s.cfg.NATSCreds != "" {
		opts = append(opts, nats.UserCredentials(s.cfg.NATSCreds))
	}
	nc, err := nats.Connect(s.cfg.NATSURL, opts...)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", redactURLs(s.cfg.NATSURL), err)
	}
	s.nc = nc
	return nil
}

// partnerAccess sets up partners' consumers and who decides on their
// NATS connections: the hub itself on the embedded server, and on an
// external cluster when the hub answers its auth callout; otherwise the
// operator issues partners' credentials.
func (s *Server) partnerAccess() (*partners.Access, error) {
	if s.embedded == nil {
		return partners.New(s.js, s.catalog, partners.Options{
			URL: s.advertised(redactURLs(s.cfg.NATSURL)), SharedAccount: s.cfg.NATSPartnersAccount,
			Credentials: s.cfg.NATSCalloutSeed != "",
		}), nil
	}
	return partners.New(s.js, s.catalog, partners.Options{
		URL: s.advertised(s.embedded.ClientURL()), Connections: s.embedded, Credentials: true,
	}), nil
}

// admitPartners lets partners' NATS connections in from now on, each
// decided by the domain exactly as an HTTP request with the same key.
func (s *Server) admitPartners() error {
	if s.embedded != nil {
		s.access.UseGranter(s.service, nil)
		s.embedded.SetAuthorizer(s.access)
		return nil
	}
	if s.cfg.NATSCalloutSeed == "" {
		return nil
	}
	seed, err := os.ReadFile(s.cfg.NATSCalloutSeed)
	if err != nil {
		return fmt.Errorf("read HUB_NATS_CALLOUT_SEED: %w", err)
	}
	s.callout, err = natsserver.ServeCallout(s.nc, s.access, natsserver.CalloutOptions{
		IssuerSeed: bytes.TrimSpace(seed), MaxLifetime: s.cfg.NATSGrantLifetime, Logger: s.log,
	})
	if err != nil {
		return err
	}
	s.access.UseGranter(s.service, s.callout)
	return nil
}

func (s *Server) advertised(url string) string {
	if s.opts.AdvertisedNATSURL != "" {
		return s.opts.AdvertisedNATSURL
	}
	return url
}

// redactURLs drops credentials from a comma-separated list of NATS URLs,
// so the list can be shown to partners.
func redactURLs(list string) string {
	var out []string
	for _, raw := range strings.Split(list, ",") {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil {
			continue
		}
		u.User = nil
		out = append(out, u.String())
	}
	return strings.Join(out, ",")
}

func (s *Server) openBlobs(ctx context.Context) error {
	switch {
	case s.cfg.S3Endpoint != "":
		store, err := s3.Open(ctx, s3.Options{
			Endpoint: s.cfg.S3Endpoint, Bucket: s.cfg.S3Bucket, AccessKey: s.cfg.S3AccessKey,
			SecretKey: s.cfg.S3SecretKey, Secure: s.cfg.S3Secure, Region: s.cfg.S3Region,
			StallTimeout: s.cfg.S3StallTimeout, Logger: s.log,
		})
		if err != nil {
			return fmt.Errorf("open S3 bucket %s at %s: %w", s.cfg.S3Bucket, s.cfg.S3Endpoint, err)
		}
		s.blobs = store
	default:
		store, err := disk.Open(filepath.Join(s.cfg.DataDir, "blobs"))
		if err != nil {
			return fmt.Errorf("open blob directory: %w", err)
		}
		s.blobs = store
	}
	return nil
}

func (s *Server) natsDescription() string {
	if s.embedded != nil {
		return "embedded, clients at " + s.embedded.ClientURL()
	}
	return s.nc.ConnectedUrlRedacted()
}

func (s *Server) blobsDescription() string {
	if s.cfg.S3Endpoint != "" {
		return "s3://" + s.cfg.S3Endpoint + "/" + s.cfg.S3Bucket
	}
	return filepath.Join(s.cfg.DataDir, "blobs")
}

// URL is the base URL the server listens on.
func (s *Server) URL() string { return "http://" + s.listener.Addr().String() }

// PublicURL is the absolute base of links in feeds, events and ninjs.
func (s *Server) PublicURL() string { return s.cfg.PublicURL }

// Service is the domain service the API acts through.
func (s *Server) Service() *hub.Service { return s.service }

// Catalog is the JetStream catalog, for tests that look at stored state.
func (s *Server) Catalog() *catalog.Catalog { return s.catalog }

// Staging is the replica's staging of resumable uploads.
func (s *Server) Staging() *staging.Store { return s.staged }

// Blobs is the blob store.
func (s *Server) Blobs() hub.BlobStore { return s.blobs }

// JetStream is the hub's own JetStream context.
func (s *Server) JetStream() jetstream.JetStream { return s.js }

// NATSConn is the hub's own NATS connection.
func (s *Server) NATSConn() *nats.Conn { return s.nc }

// EmbeddedNATS is the embedded NATS server, nil on an external NATS.
func (s *Server) EmbeddedNATS() *natsserver.Server { return s.embedded }

// PartnerAccess keeps partners' consumers and NATS users.
func (s *Server) PartnerAccess() *partners.Access { return s.access }

// Releases is the release stream.
func (s *Server) Releases() *releases.Stream { return s.releases }

// Audit is the audit log.
func (s *Server) Audit() *audit.Log { return s.audit }

// Webhooks is the webhook deliverer.
func (s *Server) Webhooks() *webhooks.Deliverer { return s.webhooks }

// FeedCache is the rendered-feed cache of this replica.
func (s *Server) FeedCache() *feeds.Cache { return s.feeds }

// FeedsReady is closed once the feed invalidator watches the release
// stream, from when on rendered feeds are cached.
func (s *Server) FeedsReady() <-chan struct{} { return s.invalid.Ready() }

// Search is this replica's full-text index, for tests and benchmarks
// that wait for it (Index.Sync) before they search.
func (s *Server) Search() *search.Index { return s.search }

// Handler is the HTTP API, without Options.Middleware.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops accepting requests, lets running ones finish until ctx ends,
// then stops the loops and closes the catalog and NATS. Calling it again
// returns the first call's result.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { s.closeErr = s.close(ctx) })
	return s.closeErr
}

func (s *Server) close(ctx context.Context) error {
	var errs []error
	if s.http != nil {
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("HTTP shutdown: %w", err))
			s.http.Close()
		}
		if err := <-s.serveDone; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if s.metrics != nil {
		if err := s.metrics.Shutdown(ctx); err != nil {
			s.metrics.Close()
		}
		<-s.metricsDone
	}
	s.closeBackends()
	return errors.Join(errs...)
}

func (s *Server) closeBackends() {
	if s.stopLoops != nil {
		s.stopLoops()
		s.loops.Wait()
	}
	if s.callout != nil {
		if err := s.callout.Stop(); err != nil {
			s.log.Warn("stop answering NATS auth callouts", "err", err)
		}
	}
	if s.search != nil {
		if err := s.search.Close(); err != nil {
			s.log.Warn("close search index", "err", err)
		}
	}
	if s.catalog != nil {
		s.catalog.Close()
	}
	if s.nc != nil {
		if err := s.nc.Drain(); err != nil && !strings.Contains(err.Error(), "closed") {
			s.log.Warn("drain NATS connection", "err", err)
		}
		for !s.nc.IsClosed() {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if s.embedded != nil {
		s.embedded.Shutdown()
	}
}
