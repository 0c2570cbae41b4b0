// Package portal is the hub's web portal: server-rendered pages
// (html/template, embedded with their CSS and the vendored htmx), mounted
// on the API's server at the root. It asks hub.Service what a visitor may
// see and do, exactly as the API does, and never decides that itself.
//
// Adding a page: write templates/<name>.html defining "title" and
// "content" (the layout gives header, language switcher and footer), add
// its name to pageNames, a handler that gathers what the domain answers
// into a struct and calls p.render, and a route in Register. Handlers
// that need a signed-in visitor start with p.signedIn; forms POST through
// p.csrf (every POST route is registered with it) and carry
// {{template "csrf" .}}. Messages go into all four catalogs in
// portal/i18n.
package portal

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
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
	Logger   *slog.Logger
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

// pageNames are the templates in templates/, each a page on the layout.
var pageNames = []string{"landing", "home", "signin", "link", "linkstate", "message", "admin_links", "admin_sessions"}

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
	for _, name := range pageNames {
		t, err := template.ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
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
// through csrf as well.
func (p *Portal) Register(e *echo.Echo) {
	g := e.Group("", p.visit)
	g.GET("/static/*", p.serveStatic)
	g.GET("/", p.root)
	g.GET("/signin", p.signinForm)
	g.POST("/signin", p.signin, p.csrf)
	g.GET("/signin/:token", p.linkPage)
	g.POST("/signin/:token", p.useLink, p.csrf)
	g.POST("/signout", p.signout, p.csrf)
	g.POST("/signout/everywhere", p.signoutEverywhere, p.csrf)
	g.POST("/lang", p.setLang, p.csrf)

	g.GET("/admin/signin-links", p.adminLinks)
	g.POST("/admin/signin-links", p.adminCreateLink, p.csrf)
	g.POST("/admin/signin-links/:key/revoke", p.adminRevokeLink, p.csrf)
	g.GET("/admin/sessions", p.adminSessions)
	g.POST("/admin/sessions/:id/revoke", p.adminRevokeSession, p.csrf)
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
