package main

import (
	"context"
	"crypto/rand"
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
	"github.com/spf13/cobra"

	"github.com/syndication-hub/hub/feeds"
	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/api"
	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/disk"
	"github.com/syndication-hub/hub/hub/natsserver"
	"github.com/syndication-hub/hub/hub/s3"
	"github.com/syndication-hub/hub/publisher"
)

func newServeCommand() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the hub: the HTTP API, with embedded NATS and local-disk blobs unless told otherwise",
		Long: "Run the hub. With no flags it needs nothing installed: NATS runs in-process and blobs are\n" +
			"kept on disk, both under --data-dir. Every flag is also an environment variable: HUB_ plus\n" +
			"the flag name in upper case (--s3-endpoint is HUB_S3_ENDPOINT).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), os.Getenv); err != nil {
				return err
			}
			if err := cfg.resolve(); err != nil {
				return err
			}
			log, err := cfg.logger()
			if err != nil {
				return err
			}
			srv, err := Start(cmd.Context(), cfg, log, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			<-cmd.Context().Done()
			log.Info("shutting down")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return srv.Close(ctx)
		},
	}
	cfg.registerFlags(cmd.Flags())
	return cmd
}

// Server is a running hub: its NATS connection (and embedded server), its
// catalog, blob store and HTTP listener.
type Server struct {
	cfg       Config
	log       *slog.Logger
	embedded  *natsserver.Server
	nc        *nats.Conn
	catalog   *catalog.Catalog
	blobs     hub.BlobStore
	service   *hub.Service
	http      *http.Server
	listener  net.Listener
	serveDone chan error
	stopLoops context.CancelFunc
	loops     sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Start brings the hub up from cfg (already resolved) and serves until
// Close. The first admin key, when one is generated, is written to out.
func Start(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) (_ *Server, err error) {
	s := &Server{cfg: cfg, log: log, serveDone: make(chan error, 1)}
	defer func() {
		if err != nil {
			s.closeBackends()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if err := s.connectNATS(); err != nil {
		return nil, err
	}
	js, err := jetstream.New(s.nc)
	if err != nil {
		return nil, fmt.Errorf("JetStream: %w", err)
	}
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s.catalog, err = catalog.Open(openCtx, js, catalog.Options{Replicas: cfg.NATSReplicas, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	if err := s.openBlobs(openCtx); err != nil {
		return nil, err
	}
	pub, err := publisher.Open(openCtx, js, publisher.Options{PublicURL: cfg.PublicURL, Replicas: cfg.NATSReplicas})
	if err != nil {
		return nil, err
	}
	access, err := s.partnerAccess(js)
	if err != nil {
		return nil, err
	}
	// Partners' downloads and republication reports, for campaign reach.
	pickups, err := publisher.OpenPickupLog(openCtx, js, publisher.PickupOptions{Replicas: cfg.NATSReplicas, Logger: log})
	if err != nil {
		return nil, err
	}
	s.service = hub.NewService(s.catalog, s.blobs, hub.ServiceOptions{
		MaxAssetBytes: cfg.MaxAssetBytes, Logger: log, Announcer: access.Guard(pub), ReleaseLog: pub,
		AllowPrivateWebhookTargets: cfg.WebhooksAllowPrivate, Pickups: pickups,
	})
	runCtx, stopLoops := context.WithCancel(context.WithoutCancel(ctx))
	s.stopLoops = stopLoops
	scheduler := publisher.NewScheduler(s.service, func(err error) { log.Warn("scheduler", "err", err) })
	s.loops.Go(func() { scheduler.Run(runCtx) })
	generated, err := s.service.EnsureAdminKey(openCtx, cfg.AdminKey)
	if err != nil {
		return nil, fmt.Errorf("admin key: %w", err)
	}
	if generated != "" {
		fmt.Fprintf(out, "\nA first admin key was generated. It is shown this once; keep it:\n\n    %s\n\n", generated)
	}

	s.loops.Go(func() {
		access.Run(runCtx, 2*time.Second, func(err error) { log.Warn("partner NATS access", "err", err) })
	})
	deliverer := publisher.NewDeliverer(js, s.catalog, publisher.DelivererOptions{
		AllowPrivateTargets: cfg.WebhooksAllowPrivate, Logger: log,
	})
	s.loops.Go(func() { deliverer.Run(runCtx) })
	// Rendered feeds are kept until an announcement reaches the release
	// stream; each replica empties its own cache from the stream.
	feedCache := feeds.NewCache(feeds.CacheOptions{})
	feedInvalidator := feeds.NewInvalidator(js, feedCache, feeds.InvalidatorOptions{IndexShows: s.service.IndexShows, Logger: log})
	s.loops.Go(func() { feedInvalidator.Run(runCtx) })

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	handler := api.New(s.service, api.Options{
		PublicURL: cfg.PublicURL, PresignDownloads: cfg.S3Presign, Registry: reg, Logger: log, NATSAccess: access,
		Webhooks: deliverer, FeedCache: feedCache,
	})
	s.listener, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	s.http = &http.Server{
		Handler: handler,
		// No ReadTimeout or WriteTimeout: they would cut off multi-gigabyte
		// uploads and downloads. Slow-header clients are still dropped.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() { s.serveDone <- s.http.Serve(s.listener) }()
	log.Info("hub serving", "addr", s.listener.Addr().String(), "public_url", cfg.PublicURL,
		"nats", s.natsDescription(), "blobs", s.blobsDescription(), "version", version)
	return s, nil
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
		s.nc, err = srv.Connect("hub")
		return err
	}
	opts := []nats.Option{
		nats.Name("hub"),
		nats.MaxReconnects(-1),
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

// partnerAccess sets up partners' consumers, and on the embedded server
// their NATS users, whose passwords derive from a secret kept in the data
// dir (replace the file to rotate them all).
func (s *Server) partnerAccess(js jetstream.JetStream) (*publisher.PartnerAccess, error) {
	if s.embedded == nil {
		return publisher.NewPartnerAccess(js, s.catalog, publisher.PartnerAccessOptions{URL: redactURLs(s.cfg.NATSURL)}), nil
	}
	secret, err := readOrCreateSecret(filepath.Join(s.cfg.DataDir, "nats-partners.secret"))
	if err != nil {
		return nil, err
	}
	return publisher.NewPartnerAccess(js, s.catalog, publisher.PartnerAccessOptions{
		URL: s.embedded.ClientURL(), Users: s.embedded, Secret: secret,
	}), nil
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

func readOrCreateSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return b, nil
}

func (s *Server) openBlobs(ctx context.Context) error {
	switch {
	case s.cfg.S3Endpoint != "":
		store, err := s3.Open(ctx, s3.Options{
			Endpoint: s.cfg.S3Endpoint, Bucket: s.cfg.S3Bucket, AccessKey: s.cfg.S3AccessKey,
			SecretKey: s.cfg.S3SecretKey, Secure: s.cfg.S3Secure, Region: s.cfg.S3Region,
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

// Close stops accepting requests, lets running ones finish until ctx ends,
// then closes the catalog and NATS. Calling it again returns the first
// call's result.
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
	s.closeBackends()
	return errors.Join(errs...)
}

func (s *Server) closeBackends() {
	if s.stopLoops != nil {
		s.stopLoops()
		s.loops.Wait()
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
