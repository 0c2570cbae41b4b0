// Package portal is the hub's web portal: server-rendered pages
// (html/template, embedded with their CSS and the vendored htmx), mounted
// on the API's server at the root. It asks hub.Service what a visitor may
// see and do, exactly as the API does, and never decides that itself.
//
// Adding a page: write templates/<name>.html defining "title" and
// "content" (the layout gives header, language switcher and footer; every
// template is a page named for its file), a handler that gathers what the
// domain answers into a struct and calls p.render, and a route in its
// area's routes (packageRoutes in packages.go, producerRoutes in
// producer.go, partnerRoutes in partner.go, adminRoutes in admin.go). Handlers that need a signed-in
// visitor start with p.signedIn; forms POST through p.csrf (every POST
// route is registered with it) and carry {{template "csrf" .}}. Messages
// go into the area's catalogs in portal/i18n, all four languages. Every
// route needs a row in the authorization matrix (matrix_test.go), which
// fails without one: who may ask it, and what each visitor gets.
package portal

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Options configures the portal.
type Options struct {
	// PublicURL is the hub's absolute base (HUB_PUBLIC_URL): sign-in links
	// are built on it, and cookies are Secure when it is https.
	PublicURL string
	// Location is the time zone dates are shown in; nil means UTC.
	Location *time.Location
	// Consumers reads partners' NATS consumers for the admin's ingest
	// health page; nil leaves them out of it.
	Consumers hub.ConsumerStates
	// Webhooks sends a dead letter again when an admin or its partner
	// replays it; nil answers a replay with EUNAVAILABLE, as the API does.
	Webhooks hub.WebhookSender
	// NATSAccess tells an outlet's set-up page how to receive releases
	// over NATS (what GET /v1/me/nats answers); nil: the page says NATS
	// access is not offered here.
	NATSAccess hub.NATSAccessProvider
	Logger     *slog.Logger
}

// Portal is the web portal.
type Portal struct {
	svc    *hub.Service
	opts   Options
	log    *slog.Logger
	pages  map[string]*template.Template
	static http.Handler
	secure bool
}

// New parses the templates and returns the portal over svc.
func New(svc *hub.Service, opts Options) (*Portal, error) {
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	p := &Portal{svc: svc, opts: opts, log: opts.Logger, pages: map[string]*template.Template{},
		secure: strings.HasPrefix(opts.PublicURL, "https://")}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	// Every template but the layout is a page on the layout, named for
	// its file.
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.ParseFS(templateFiles, "templates/layout.html", f)
		if err != nil {
			return nil, fmt.Errorf("portal: parse %s: %w", f, err)
		}
		p.pages[name] = t
	}
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	p.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	return p, nil
}

// Register adds the portal's routes to e, beside the API's. Every route
// goes through visit (security headers, language, session); every POST
// through csrf as well; every GET answers HEAD too (see routes).
func (p *Portal) Register(e *echo.Echo) {
	g := routes{e.Group("", p.visit)}
	g.GET("/static/*", p.serveStatic)
	g.GET("/", p.root)
	g.GET("/signin", p.signinForm)
	g.POST("/signin", p.signin, p.csrf)
	g.GET("/signin/:token", p.linkPage)
	g.POST("/signin/:token", p.useLink, p.csrf)
	g.POST("/signout", p.signout, p.csrf)
	g.POST("/signout/everywhere", p.signoutEverywhere, p.csrf)
	g.POST("/lang", p.setLang, p.csrf)

	p.packageRoutes(g)
	p.producerRoutes(g)
	p.partnerRoutes(g)
	p.adminRoutes(g)
}

// routes is the portal's group of routes, as the areas add theirs. Its
// GET registers HEAD beside every GET: Echo routes a HEAD only where one
// is registered (else 404 or 405), and a HEAD of a page must answer as
// its GET does, status and headers, without the body; net/http drops the
// body the GET handler writes for a HEAD.
type routes struct{ *echo.Group }

// GET adds a page, for GET and HEAD.
func (g routes) GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	g.Group.GET(path, h, m...)
	g.Group.HEAD(path, h, m...)
}

// NotFound answers a path nobody serves with the 404 page; the API calls
// it for paths outside its own.
func (p *Portal) NotFound(c echo.Context) error {
	return p.visit(func(c echo.Context) error {
		return p.message(c, http.StatusNotFound, "notfound.title", "notfound.text")
	})(c)
}

func (p *Portal) serveStatic(c echo.Context) error {
	// The files change only with the binary; an hour keeps a page load
	// to one request without pinning an old stylesheet for long.
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	p.static.ServeHTTP(c.Response(), c.Request())
	return nil
}
