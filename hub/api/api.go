// Package api is the hub's HTTP API on Echo: JSON in ninjs shape, RFC 9457
// problem details on error, keys as bearer tokens. Handlers translate
// between HTTP and hub.Service; every rule lives in the service.
package api

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/syndication-hub/hub/feeds"
	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
	"github.com/syndication-hub/hub/hub/staging"
)

// Options configures the API.
type Options struct {
	// PublicURL is the absolute base of every link the API writes
	// (HUB_PUBLIC_URL), without a trailing slash.
	PublicURL string
	// PresignDownloads answers downloads of released assets with a redirect
	// to a short-lived URL of the blob store, when it can make one.
	PresignDownloads bool
	// NATSAccess hands partners their NATS consumer and credentials.
	NATSAccess hub.NATSAccessProvider
	// Webhooks sends dead letters again when a caller replays one.
	Webhooks hub.WebhookSender
	// FeedCache keeps rendered feeds until a feeds.Invalidator, reading the
	// release stream, empties it; nil renders every feed request.
	FeedCache *feeds.Cache
	// UploadIdleTimeout aborts an upload when no byte of its body arrived
	// for this long; 0 means DefaultUploadIdleTimeout.
	UploadIdleTimeout time.Duration
	// Registry receives the API's metrics and is served at /metrics, to
	// admin keys.
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// Limits are the rate limits and upload caps; the zero value limits
	// nothing.
	Limits Limits
	// Idempotency keeps the outcomes of creates sent with an
	// Idempotency-Key; nil ignores the header.
	Idempotency hub.IdempotencyStore
	// Staging holds resumable uploads until they are complete (the tus
	// endpoint at /v1/uploads); nil answers that endpoint with 503.
	Staging *staging.Store
	// Replica is this replica's name (HUB_REPLICA, ReplicaPattern): it
	// begins the id of every upload staged here, so that a proxy routes
	// the upload's requests back to it.
	Replica string
	// Tools names the media programs found at start (name -> path, or
	// "missing"), reported by /readyz: without them the hub still serves,
	// with fewer renditions.
	Tools map[string]string
	// Portal is the web portal sharing the API's server and port; nil
	// serves the API alone.
	Portal Portal
}

// Portal is the web portal mounted beside the API: Register adds its
// routes to the API's server (after the API's own, under the same
// observing and recovering middleware), and NotFound answers a path that
// is neither the API's nor the portal's, with a page instead of a
// problem document.
type Portal interface {
	Register(e *echo.Echo)
	NotFound(c echo.Context) error
}

// API is the hub's HTTP interface.
type API struct {
	svc     *hub.Service
	opts    Options
	log     *slog.Logger
	echo    *echo.Echo
	metrics *metrics
	limits  *limiters
	// tus serves resumable uploads (uploads.go); nil without Staging.
	tus http.Handler
	// uploadsOpen ends when StopUploads is called, and with it every
	// upload's PATCH still running.
	uploadsOpen context.Context
	stopUploads context.CancelFunc
	// copyBuffers hold the 1 MiB buffers downloads are copied through.
	copyBuffers sync.Pool
}

// New builds the API over svc with all its routes.
func New(svc *hub.Service, opts Options) *API {
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	if opts.UploadIdleTimeout <= 0 {
		opts.UploadIdleTimeout = DefaultUploadIdleTimeout
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	a := &API{svc: svc, opts: opts, log: opts.Logger, echo: echo.New()}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.metrics = newMetrics(opts.Registry)
	a.limits = newLimiters(opts.Limits)
	a.echo.IPExtractor = ipExtractor(opts.Limits.TrustedProxies)
	a.copyBuffers.New = func() any { b := make([]byte, 1<<20); return &b }
	a.echo.HideBanner, a.echo.HidePort = true, true
	a.echo.HTTPErrorHandler = a.errorHandler
	a.uploadsOpen, a.stopUploads = context.WithCancel(context.Background())
	a.tus = a.newTus()
	a.routes()
	return a
}

// ServeHTTP makes the API an http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.echo.ServeHTTP(w, r) }

// Routes returns method and path of every route, for the test that checks
// the OpenAPI document covers them all.
func (a *API) Routes() []*echo.Route { return a.echo.Routes() }

// routes is the whole API surface in one table.
func (a *API) routes() {
	e := a.echo
	e.Use(a.observe, a.recover, a.securityHeaders)

	e.GET("/healthz", a.healthz)
	e.GET("/readyz", a.readyz)
	// Metrics say when releases, withdrawals and purges happen, hidden
	// campaigns' too: an admin's key reads them here, and an operator's
	// scraper reads them keyless on HUB_METRICS_ADDR (see server).
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(a.opts.Registry, promhttp.HandlerOpts{})), a.authenticate, adminOnly)
	e.GET("/openapi.json", a.openapi)
	e.GET(ninjs.ProfileSchemaPath, a.profileSchema)

	// Feeds take no key (readers cannot send one): the public feeds show
	// public campaigns, a partner's feed is found by the token in its URL.
	// Keyless routes are rate-limited per client address, keyed ones per
	// key (see limits.go); health, metrics and documents are not, so load
	// balancers' probes never meet a 429.
	e.GET("/feeds/releases.:format", a.publicFeed, a.limitAddr)
	e.HEAD("/feeds/releases.:format", a.publicFeed, a.limitAddr)
	e.GET("/feeds/p/:token/releases.:format", a.partnerFeed, a.limitAddr)
	e.HEAD("/feeds/p/:token/releases.:format", a.partnerFeed, a.limitAddr)

	v1 := e.Group("/v1", a.authenticate, a.limitKey)
	v1.POST("/keys", a.createKey, adminOnly, a.idempotentSecret)
	v1.GET("/keys", a.listKeys, adminOnly)
	v1.DELETE("/keys/:id", a.revokeKey, adminOnly)
	// Admins rotate any key, a key's holder its own (hub.MayRotateKey).
	v1.POST("/keys/:id/rotate", a.rotateKey)
	v1.GET("/audit", a.listAudit, auditReaders)
	v1.POST("/signin-links", a.createSigninLink, adminOnly)
	v1.GET("/signin-links", a.listSigninLinks, adminOnly)

	v1.POST("/packages", a.createPackage, allowed(hub.MayCreatePackages), a.idempotentAs(a.svc.NewPackageID))
	v1.GET("/packages", a.listPackages)
	v1.GET("/search", a.search)
	v1.GET("/packages/:id", a.getPackage)
	v1.PATCH("/packages/:id", a.patchPackage)
	v1.DELETE("/packages/:id", a.deletePackage)
	v1.POST("/packages/:id/release", a.release)
	v1.POST("/packages/:id/unschedule", a.unschedule)
	v1.POST("/packages/:id/withdraw", a.withdraw)
	v1.POST("/packages/:id/purge", a.purge)
	v1.GET("/packages/:id/versions/:n", a.getVersion)
	v1.GET("/releases", a.listReleases)
	v1.GET("/me/nats", a.myNATS)

	v1.POST("/campaigns", a.createCampaign, a.idempotent)
	v1.GET("/campaigns", a.listCampaigns)
	v1.GET("/campaigns/:slug", a.getCampaign)
	v1.PATCH("/campaigns/:slug", a.patchCampaign)

	v1.POST("/partners", a.createPartner, adminOnly, a.idempotent)
	v1.GET("/partners", a.listPartners, adminOnly)
	v1.GET("/partners/:id", a.getPartner)
	v1.PATCH("/partners/:id", a.patchPartner, adminOnly)
	v1.POST("/partners/:id/feedtoken", a.issueFeedToken)
	v1.DELETE("/partners/:id/feedtoken", a.revokeFeedToken)

	v1.POST("/packages/:id/assets", a.postAssetsForm, a.uploadSlot, a.idleUploads)
	v1.PUT("/packages/:id/assets/:name", a.putAsset, a.uploadSlot, a.idleUploads)
	// Outside the group, so that the feeds' asset links work without a
	// key for released packages of public campaigns (see keyOrPublic).
	e.GET("/v1/packages/:id/assets/:name", a.getAsset, a.keyOrPublic)
	e.HEAD("/v1/packages/:id/assets/:name", a.getAsset, a.keyOrPublic)
	v1.PATCH("/packages/:id/assets/:name", a.patchAsset)
	v1.DELETE("/packages/:id/assets/:name", a.deleteAsset)
	v1.GET("/packages/:id/assets/:name/scrub-report", a.getScrubReport)
	// Resumable uploads (tus, see uploads.go): authenticated here like
	// every /v1 call, and each upload answers only the key that made it.
	// GET is not routed: staged bytes are served to no one.
	v1.POST("/uploads", a.tusRequest)
	v1.HEAD("/uploads/:upload", a.tusRequest)
	v1.PATCH("/uploads/:upload", a.tusRequest, a.uploadSlot)
	v1.DELETE("/uploads/:upload", a.tusRequest)
	// The whole package as a zip, keyless for public packages like its
	// assets (see archive.go).
	e.GET("/v1/packages/:id/archive.zip", a.getArchive, a.keyOrPublic)
	e.HEAD("/v1/packages/:id/archive.zip", a.getArchive, a.keyOrPublic)

	// Pickups and reach (see reach.go).
	v1.POST("/packages/:id/republications", a.postRepublication)
	v1.GET("/packages/:id/pickups", a.listPackagePickups)
	v1.GET("/campaigns/:slug/reach", a.getReach)

	// Takedown acknowledgements after a kill notice (see takedowns.go).
	v1.POST("/packages/:id/takedown", a.confirmTakedown)
	v1.GET("/packages/:id/takedowns", a.listTakedowns)

	v1.POST("/webhooks", a.createWebhook, webhookCallers, a.idempotentSecret)
	v1.GET("/webhooks", a.listWebhooks, webhookCallers)
	v1.DELETE("/webhooks/:id", a.deleteWebhook, webhookCallers)
	v1.GET("/webhooks/:id/deadletters", a.listDeadLetters, webhookCallers)
	v1.POST("/webhooks/:id/deadletters/:msgid/replay", a.replayDeadLetter, webhookCallers)

	if a.opts.Portal != nil {
		a.opts.Portal.Register(e)
	}
}

// apiPaths are the prefixes the API owns: an unknown path under them is
// answered with a problem document even when a portal is mounted.
var apiPaths = []string{"/v1/", "/feeds/", "/schemas/", "/healthz", "/readyz", "/metrics", "/openapi.json"}

// isAPIPath reports whether path belongs to the API.
func isAPIPath(path string) bool {
	for _, p := range apiPaths {
		if strings.HasPrefix(path, p) || path == strings.TrimSuffix(p, "/") {
			return true
		}
	}
	return false
}

//go:embed openapi.json
var openapiDocument []byte

// OpenAPIDocument returns the OpenAPI document the API serves.
func OpenAPIDocument() []byte { return openapiDocument }

func (a *API) openapi(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", openapiDocument)
}

// profileSchema serves the package profile's JSON Schema, which every
// package document names in standard.schema.
func (a *API) profileSchema(c echo.Context) error {
	return c.Blob(http.StatusOK, ninjs.ProfileMediaType, ninjs.ProfileSchema())
}

func (a *API) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) readyz(c echo.Context) error {
	ctx, cancel := contextWithTimeout(c, 5*time.Second)
	defer cancel()
	if err := a.svc.Ready(ctx); err != nil {
		a.log.Warn("not ready", "err", err)
		return hub.Errorf(hub.EUNAVAILABLE, "not ready: %v", err)
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ready", "tools": a.opts.Tools})
}
