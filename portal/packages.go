package portal

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// packageRoutes are the pages partners and the public read: the releases
// grid, a package's page, its downloads and takedown confirmation.
func (p *Portal) packageRoutes(g routes) {
	g.GET("/releases", p.releases)
	g.GET("/packages/:id", p.packagePage)
	g.POST("/packages/:id/takedown", p.confirmTakedown, p.csrf)
}

// readerKey is the key a page reads with: the visitor's, or signed out
// the public reader's, the audience of keyless downloads and the public
// feeds (released packages of public campaigns, nothing else).
func readerKey(v *visitor) *hub.Key {
	if v.key != nil {
		return v.key
	}
	return hub.PublicReader().Key
}

// packagePage is a package's page at its stable address, as the domain
// lets the visitor see it. What the public reader may not see sends a
// signed-out visitor to sign in and back (the API's keyless downloads
// answer "send a key" alike); what a signed-in visitor may not see is
// the same 404 as what does not exist.
func (p *Portal) packagePage(c echo.Context) error {
	v := visitorOf(c)
	id := c.Param("id")
	pkg, err := p.svc.Package(c.Request().Context(), readerKey(v), id)
	switch code := hub.ErrorCode(err); {
	case code == hub.ENOTFOUND && v.key == nil:
		return seeOther(c, "/signin?next="+url.QueryEscape("/packages/"+url.PathEscape(id)))
	case code == hub.ENOTFOUND:
		return p.message(c, http.StatusNotFound, "notfound.title", "notfound.text")
	case err != nil:
		return p.fail(c, err)
	}
	return p.render(c, http.StatusOK, "packages_package", p.packageView(c, pkg))
}

// confirmTakedown is a partner's confirmation that it took a withdrawn or
// purged package down. The domain decides who may (an outlet expected
// to) and keeps the first confirmation's time, which the page shows on
// every later load (OwnTakedown).
func (p *Portal) confirmTakedown(c echo.Context) error {
	k, err := p.signedIn(c)
	if k == nil {
		return err
	}
	ctx := c.Request().Context()
	_, err = p.svc.ConfirmTakedown(ctx, k, c.Param("id"), hub.TakedownViaAPI)
	if hub.ErrorCode(err) == hub.ENOTFOUND {
		return p.message(c, http.StatusNotFound, "notfound.title", "notfound.text")
	} else if err != nil {
		return p.fail(c, err)
	}
	pkg, err := p.svc.Package(ctx, k, c.Param("id"))
	if err != nil {
		return p.fail(c, err)
	}
	return p.render(c, http.StatusOK, "packages_package", p.packageView(c, pkg))
}
