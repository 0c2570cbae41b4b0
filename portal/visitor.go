package portal

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/websession"
	"github.com/syndication-hub/hub/portal/i18n"
)

// Cookies of the portal besides the session's (websession.Cookie).
const (
	// langCookie remembers the language the visitor chose.
	langCookie = "hub_lang"
	// preCookie holds the CSRF token of a visitor not signed in yet: the
	// sign-in forms carry it back (a double-submit token). Another site
	// can neither read nor set it, so it cannot sign a browser in to an
	// account of the attacker's choosing.
	preCookie = "hub_presession"
)

// contentSecurityPolicy allows nothing inline and nothing from elsewhere:
// scripts and styles come from /static only, no page may frame ours, and
// forms post only to the hub.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"

// visitor is who is asking: their language and, when signed in, their
// session and the key it acts as.
type visitor struct {
	lang    i18n.Lang
	t       *i18n.Printer
	session *hub.Session
	key     *hub.Key
	// pre is the pre-session CSRF token (signed out).
	pre string
}

const visitorContextName = "portal.visitor"

func visitorOf(c echo.Context) *visitor { return c.Get(visitorContextName).(*visitor) }

// csrfToken is the token the visitor's forms and htmx requests carry.
func (v *visitor) csrfToken() string {
	if v.session != nil {
		return v.session.CSRF
	}
	return v.pre
}

// visit sets the security headers and resolves the visitor. A session
// that ended, or whose key no longer works, leaves a signed-out visitor
// (and its cookie is removed): the check is the domain's, the same the
// API makes of every request.
func (p *Portal) visit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		r := c.Request()
		v := &visitor{}
		lc, _ := r.Cookie(langCookie)
		var chosen string
		if lc != nil {
			chosen = lc.Value
		}
		v.lang = i18n.Match(chosen, r.Header.Get("Accept-Language"))
		v.t = i18n.For(v.lang)
		if websession.Has(r) {
			s, k, err := p.svc.Session(r.Context(), websession.Secret(r))
			switch {
			case err == nil:
				v.session, v.key = s, k
			case hub.ErrorCode(err) == hub.EUNAUTHORIZED:
				websession.Clear(c.Response(), p.secure)
			default:
				c.Set(visitorContextName, v)
				return p.fail(c, err)
			}
		}
		if v.session == nil {
			if pc, err := r.Cookie(preCookie); err == nil && len(pc.Value) >= 32 {
				v.pre = pc.Value
			} else if v.pre, err = randomToken(); err != nil {
				c.Set(visitorContextName, v)
				return p.fail(c, err)
			} else {
				http.SetCookie(c.Response(), &http.Cookie{Name: preCookie, Value: v.pre, Path: "/", HttpOnly: true,
					Secure: p.secure, SameSite: http.SameSiteLaxMode})
			}
		}
		c.Set(visitorContextName, v)
		return next(c)
	}
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// csrf refuses a POST that does not carry the visitor's token, in the
// form field or (htmx) the header, with a page saying so; the handler,
// and so any change, never runs.
func (p *Portal) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		v := visitorOf(c)
		got := c.Request().Header.Get(websession.CSRFHeader)
		if got == "" {
			got = c.FormValue(websession.CSRFField)
		}
		want := v.csrfToken()
		if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return p.message(c, http.StatusForbidden, "csrf.title", "csrf.text")
		}
		return next(c)
	}
}

// page is what every template gets: the printer, the visitor, the token,
// and the page's own data in Data.
type page struct {
	T        *i18n.Printer
	Lang     i18n.Lang
	Langs    []i18n.Lang
	SignedIn bool
	Name     string
	Role     string
	// Outlet says the visitor signs in for a partner outlet: the layout
	// offers the outlet's pages (which ask the domain again).
	Outlet bool
	CSRF   string
	// HXHeaders is the JSON of hx-headers on <body>: every htmx request
	// carries the CSRF header.
	HXHeaders string
	// Path is the page's own path, where the language switcher returns.
	Path string
	Data any
	loc  *time.Location
}

// When shows a time as the visitor's language writes a date and time.
func (pg page) When(t time.Time) string { return pg.T.DateTime(t.In(pg.loc)) }

// With is the page with data in place of its own, for a template that
// pages share (a webhook's dead letters) to be given its part.
func (pg page) With(data any) page {
	pg.Data = data
	return pg
}

// render writes page name with status.
func (p *Portal) render(c echo.Context, status int, name string, data any) error {
	v := visitorOf(c)
	hx, _ := json.Marshal(map[string]string{websession.CSRFHeader: v.csrfToken()})
	pg := page{T: v.t, Lang: v.lang, Langs: i18n.Langs(), CSRF: v.csrfToken(), HXHeaders: string(hx),
		Path: c.Request().URL.Path, Data: data, loc: p.opts.Location}
	if v.key != nil {
		pg.SignedIn, pg.Name, pg.Role = true, v.key.Name, v.t.T("role."+string(v.key.Role))
		pg.Outlet = hub.IsOutletKey(v.key)
	}
	var b bytes.Buffer
	if err := p.pages[name].ExecuteTemplate(&b, "layout", pg); err != nil {
		p.log.Error("render page", "page", name, "err", err)
		return c.String(http.StatusInternalServerError, "internal error")
	}
	// Pages carry the CSRF token and what the visitor may see: no cache
	// keeps them. The length is known, so a HEAD answers it as the GET
	// does (and neither is chunked).
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(b.Len()))
	return c.HTMLBlob(status, b.Bytes())
}

// messageData is the data of the message page: a heading and a text.
type messageData struct {
	Title, Text string
	Status      int
}

// message renders the message page with catalog keys for its heading and text.
func (p *Portal) message(c echo.Context, status int, title, text string) error {
	t := visitorOf(c).t
	return p.render(c, status, "message", messageData{Title: t.T(title), Text: t.T(text), Status: status})
}

// statusOf is the status of a page for a domain error code.
var statusOf = map[string]int{
	hub.EINVALID: http.StatusBadRequest, hub.EUNAUTHORIZED: http.StatusUnauthorized,
	hub.EFORBIDDEN: http.StatusForbidden, hub.ENOTFOUND: http.StatusNotFound, hub.ECONFLICT: http.StatusConflict,
	hub.ETOOLARGE: http.StatusRequestEntityTooLarge, hub.EUNSUPPORTED: http.StatusUnsupportedMediaType,
	hub.ELIMITED: http.StatusTooManyRequests, hub.EUNAVAILABLE: http.StatusServiceUnavailable,
	hub.EFULL: http.StatusInsufficientStorage, hub.ETIMEOUT: http.StatusRequestTimeout,
}

// fail renders the error page for a domain error, in the visitor's
// language: the domain's sentences are English, so the page shows the
// catalog's sentence for the error's code.
func (p *Portal) fail(c echo.Context, err error) error {
	code := hub.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
		p.log.Error("portal page failed", "route", c.Path(), "err", err)
	}
	t := visitorOf(c).t
	return p.render(c, status, "message", messageData{Title: t.T("error.title"), Text: t.T("error." + code), Status: status})
}

// signedIn returns the visitor's key, or renders the sign-in page (401)
// and nil: pages for signed-in visitors start with it. Signed in from
// the page of a GET, the visitor comes back to it.
func (p *Portal) signedIn(c echo.Context) (*hub.Key, error) {
	v := visitorOf(c)
	if v.key == nil {
		var d signinData
		if r := c.Request(); r.Method == http.MethodGet || r.Method == http.MethodHead {
			d.Next = nextOf(r.URL.RequestURI())
		}
		return nil, p.render(c, http.StatusUnauthorized, "signin", d)
	}
	return v.key, nil
}

// seeOther redirects after a POST, so reloading does not send it again.
// Its length (none) is said for a HEAD too, which net/http would leave
// without one.
func seeOther(c echo.Context, path string) error {
	c.Response().Header().Set(echo.HeaderContentLength, "0")
	return c.Redirect(http.StatusSeeOther, path)
}
