package portal

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/websession"
)

// The admin's pages. Each asks the domain, with the visitor's key, for
// what it shows; a key that may not is answered by the domain
// (EFORBIDDEN), and the page shows that answer.

// linksData is the sign-in links page.
type linksData struct {
	Links    []hub.SigninLinkInfo
	Partners []*hub.Partner
	// Created is the link just issued, shown once; Error a refusal.
	Created       string
	CreatedPerson string
	Error         string
	// Form is what the admin typed, kept after a refusal.
	Form struct{ Person, Role, Partner, Campaigns, Hours string }
}

// adminRoutes are the pages admins run the hub with.
func (p *Portal) adminRoutes(g routes) {
	g.GET("/admin/signin-links", p.adminLinks)
	g.POST("/admin/signin-links", p.adminCreateLink, p.csrf)
	g.POST("/admin/signin-links/:key/revoke", p.adminRevokeLink, p.csrf)
	g.GET("/admin/sessions", p.adminSessions)
	g.POST("/admin/sessions/:id/revoke", p.adminRevokeSession, p.csrf)
	p.adminPageRoutes(g)
	g.GET("/campaigns/:campaign/reach", p.reachPage)
}

func (p *Portal) linksPage(c echo.Context, k *hub.Key, d linksData, status int) error {
	ctx := c.Request().Context()
	links, err := p.svc.SigninLinks(ctx, k)
	if err != nil {
		return p.fail(c, err)
	}
	partners, err := p.svc.Partners(ctx, k)
	if err != nil {
		return p.fail(c, err)
	}
	d.Links, d.Partners = links, partners
	if d.Form.Hours == "" {
		d.Form.Hours = strconv.Itoa(int(hub.DefaultSigninLinkLifetime / time.Hour))
	}
	return p.render(c, status, "admin_links", d)
}

func (p *Portal) adminLinks(c echo.Context) error {
	k, err := p.signedIn(c)
	if k == nil {
		return err
	}
	return p.linksPage(c, k, linksData{}, http.StatusOK)
}

func (p *Portal) adminCreateLink(c echo.Context) error {
	k, err := p.signedIn(c)
	if k == nil {
		return err
	}
	var d linksData
	d.Form.Person, d.Form.Role, d.Form.Partner = c.FormValue("person"), c.FormValue("role"), c.FormValue("partner")
	d.Form.Campaigns, d.Form.Hours = c.FormValue("campaigns"), c.FormValue("hours")
	req := hub.SigninLinkRequest{Person: d.Form.Person, Role: hub.Role(d.Form.Role)}
	if req.Role == hub.RolePartner {
		req.Partner = d.Form.Partner
	}
	for _, s := range strings.Split(d.Form.Campaigns, ",") {
		if s = strings.TrimSpace(s); s != "" && req.Role == hub.RoleProducer {
			req.Campaigns = append(req.Campaigns, s)
		}
	}
	if h, err := strconv.Atoi(strings.TrimSpace(d.Form.Hours)); err == nil && h > 0 {
		exp := p.svc.Now().Add(time.Duration(h) * time.Hour)
		req.Expires = &exp
	}
	l, token, err := p.svc.CreateSigninLink(c.Request().Context(), k, req)
	switch code := hub.ErrorCode(err); {
	case code == hub.EINVALID:
		d.Error = visitorOf(c).t.T("error.invalid") + " " + hub.ErrorMessage(err)
		return p.linksPage(c, k, d, http.StatusBadRequest)
	case err != nil:
		return p.fail(c, err)
	}
	return p.linksPage(c, k, linksData{Created: websession.LinkURL(p.opts.PublicURL, token), CreatedPerson: l.Person}, http.StatusCreated)
}

// adminRevokeLink revokes the link's key, which ends the link and every
// session opened with it.
func (p *Portal) adminRevokeLink(c echo.Context) error {
	k, err := p.signedIn(c)
	if k == nil {
		return err
	}
	if err := p.svc.RevokeKey(c.Request().Context(), k, c.Param("key")); err != nil {
		return p.fail(c, err)
	}
	return seeOther(c, "/admin/signin-links")
}

// sessionsData is the sessions page.
type sessionsData struct{ Sessions []hub.Session }

func (p *Portal) adminSessions(c echo.Context) error {
	k, err := p.signedIn(c)
	if k == nil {
		return err
	}
	sessions, err := p.svc.Sessions(c.Request().Context(), k)
	if err != nil {
		return p.fail(c, err)
	}
	return p.render(c, http.StatusOK, "admin_sessions", sessionsData{Sessions: sessions})
}

// adminRevokeSession ends one session. From htmx it answers an empty
// row, which replaces the session's; from a plain form, the page again.
func (p *Portal) adminRevokeSession(c echo.Context) error {
	k, err := p.signedIn(c)
	if k == nil {
		return err
	}
	if err := p.svc.RevokeSession(c.Request().Context(), k, c.Param("id")); err != nil {
		return p.fail(c, err)
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		return c.HTML(http.StatusOK, "")
	}
	return seeOther(c, "/admin/sessions")
}
