package portal

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/websession"
	"github.com/syndication-hub/hub/portal/i18n"
)

// root is the landing page signed out, the home page by role signed in.
func (p *Portal) root(c echo.Context) error {
	if c.Request().URL.Path != "/" {
		return p.NotFound(c)
	}
	v := visitorOf(c)
	if v.key == nil {
		return p.render(c, http.StatusOK, "landing", signinData{})
	}
	return p.render(c, http.StatusOK, "home", homeData{
		Admin: v.key.Role == hub.RoleAdmin, Producer: v.key.Role == hub.RoleProducer, Partner: v.key.Role == hub.RolePartner,
		Outlet: hub.IsOutletKey(v.key),
	})
}

// homeData says which role's links the home page shows; Outlet, a
// partner key of an outlet, gets its set-up. Which links a role gets
// mirrors the domain's rules (the pages behind them ask the domain
// again); it decides nothing.
type homeData struct{ Admin, Producer, Partner, Outlet bool }

// signinData is the sign-in form, with the error of a failed attempt and
// the page of this site to return to once signed in (Next, "" for home).
type signinData struct{ Error, Next string }

// nextOf returns the page a sign-in should return to: a path of this
// site only (safeBack), "" for the home page.
func nextOf(next string) string {
	if next = safeBack(next); next == "/" {
		return ""
	}
	return next
}

// afterSignin is where a sign-in sends the browser: next, else home.
func afterSignin(c echo.Context, next string) error { return seeOther(c, safeBack(next)) }

func (p *Portal) signinForm(c echo.Context) error {
	next := nextOf(c.QueryParam("next"))
	if visitorOf(c).key != nil {
		return afterSignin(c, next)
	}
	return p.render(c, http.StatusOK, "signin", signinData{Next: next})
}

func (p *Portal) signin(c echo.Context) error {
	v := visitorOf(c)
	_, secret, err := p.svc.SignIn(c.Request().Context(), c.FormValue("key"), hub.SessionMeta{UserAgent: c.Request().UserAgent()})
	if hub.ErrorCode(err) == hub.EUNAUTHORIZED {
		return p.render(c, http.StatusUnauthorized, "signin", signinData{Error: v.t.T("signin.bad_key"), Next: nextOf(c.FormValue("next"))})
	} else if err != nil {
		return p.fail(c, err)
	}
	websession.Set(c.Response(), secret, p.secure)
	return afterSignin(c, c.FormValue("next"))
}

// linkData is the confirmation page of a sign-in link.
type linkData struct {
	Person  string
	Expires time.Time
	Token   string
	Next    string
}

// linkPage shows what a sign-in link is good for, and changes nothing:
// previewers of chats and mail open links too, and must not use them up.
func (p *Portal) linkPage(c echo.Context) error {
	token := c.Param("token")
	l, st, err := p.svc.PeekSigninLink(c.Request().Context(), token)
	if err != nil {
		return p.fail(c, err)
	}
	if st != hub.LinkUsable {
		return p.linkState(c, st)
	}
	return p.render(c, http.StatusOK, "link", linkData{Person: l.Person, Expires: l.Expires, Token: token,
		Next: nextOf(c.QueryParam("next"))})
}

// useLink is the button's POST: it uses the link up and signs in.
func (p *Portal) useLink(c echo.Context) error {
	_, secret, st, err := p.svc.UseSigninLink(c.Request().Context(), c.Param("token"), hub.SessionMeta{UserAgent: c.Request().UserAgent()})
	if err != nil {
		return p.fail(c, err)
	}
	if st != hub.LinkUsable {
		return p.linkState(c, st)
	}
	if old := websession.Secret(c.Request()); old != "" {
		// Whoever was signed in on this browser before is signed out.
		if err := p.svc.SignOut(c.Request().Context(), old); err != nil {
			p.log.Warn("end the session a sign-in link replaced", "err", err)
		}
	}
	websession.Set(c.Response(), secret, p.secure)
	return afterSignin(c, c.FormValue("next"))
}

// linkStateData is the page of a link that signs nobody in.
type linkStateData struct{ State string }

func (p *Portal) linkState(c echo.Context, st hub.SigninLinkState) error {
	status := http.StatusGone
	if st == hub.LinkUnknown {
		status = http.StatusNotFound
	}
	return p.render(c, status, "linkstate", linkStateData{State: string(st)})
}

func (p *Portal) signout(c echo.Context) error {
	if err := p.svc.SignOut(c.Request().Context(), websession.Secret(c.Request())); err != nil {
		return p.fail(c, err)
	}
	websession.Clear(c.Response(), p.secure)
	return seeOther(c, "/")
}

func (p *Portal) signoutEverywhere(c echo.Context) error {
	k, err := p.signedIn(c)
	if k == nil {
		return err
	}
	if _, err := p.svc.SignOutEverywhere(c.Request().Context(), k); err != nil {
		return p.fail(c, err)
	}
	websession.Clear(c.Response(), p.secure)
	return seeOther(c, "/")
}

// setLang remembers the chosen language for a year and returns to the
// page the switcher was on.
func (p *Portal) setLang(c echo.Context) error {
	l := i18n.Lang(c.FormValue("lang"))
	if i18n.Valid(l) {
		http.SetCookie(c.Response(), &http.Cookie{Name: langCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
	}
	return seeOther(c, safeBack(c.FormValue("back")))
}

// safeBack returns back when it is a path of this site, else "/": a
// redirect target from a form must never lead elsewhere ("//evil.example"
// and "/\evil.example" are other sites to a browser).
func safeBack(back string) string {
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.ContainsAny(back, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(back)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return back
}
