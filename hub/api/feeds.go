package api

import (
	"context"
	"maps"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/feeds"
	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/websession"
)

// This file serves the feeds (GET /feeds/...), the partners' feed tokens
// (POST and DELETE /v1/partners/{id}/feedtoken) and the keyless download
// of the assets the public feeds link to.

func (a *API) publicFeed(c echo.Context) error {
	return a.serveFeed(c, false, "", "/feeds")
}

// partnerFeed serves a partner's private feed. The token is the only
// credential a feed reader can carry; the domain answers a wrong, revoked
// or inactive one with the 404 of any address that holds no feed.
func (a *API) partnerFeed(c echo.Context) error {
	token := c.Param("token")
	return a.serveFeed(c, true, token, "/feeds/p/"+token)
}

// serveFeed answers one feed request from the cache, rendering the feed
// the domain decides (hub.Service.Feed) when the cache has no current
// copy. path is where the feed lives, below the public URL.
func (a *API) serveFeed(c echo.Context, private bool, token, path string) error {
	format, err := feeds.ParseFormat(c.Param("format"))
	if err != nil {
		return err
	}
	filter, err := feeds.ParseFilter(c.QueryParams())
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	feed, err := a.svc.Feed(ctx, hub.FeedRequest{
		Private: private, Token: token,
		Campaign: filter.Campaign, Language: filter.Language, Kind: filter.Kind, Text: filter.Q, Limit: filter.Limit,
	})
	if err != nil {
		return err
	}
	key := feeds.Key{Scope: feed.Scope, Format: format, Filter: filter.Query(), Fingerprint: feed.Fingerprint}
	entry, err := a.opts.FeedCache.Get(ctx, key, func(ctx context.Context) ([]byte, error) {
		items, err := feed.Items(ctx)
		if err != nil {
			return nil, err
		}
		meta := feeds.Meta{
			PublicURL: a.opts.PublicURL, SelfURL: a.feedURL(path, format, filter.Query()),
			Title: feed.Title, Description: feed.Description, Language: filter.Language,
			Renditions: map[string]*hub.RenditionSet{},
		}
		for _, p := range items {
			maps.Copy(meta.Renditions, a.svc.RenditionSets(ctx, p))
		}
		return feeds.Render(format, meta, items)
	})
	if err != nil {
		return searchAnswer(c, err)
	}
	h := c.Response().Header()
	if feed.Partner != nil {
		h.Set(echo.HeaderCacheControl, "private, no-cache")
		// The URL is a credential: keep it out of search engines.
		h.Set("X-Robots-Tag", "noindex")
	} else {
		h.Set(echo.HeaderCacheControl, "public, no-cache")
	}
	entry.Serve(c.Response(), c.Request())
	return nil
}

func (a *API) feedURL(path string, format feeds.Format, query string) string {
	u := a.opts.PublicURL + path + "/releases." + string(format)
	if query != "" {
		u += "?" + query
	}
	return u
}

// feedTokenView answers a new feed token: the token, shown this once,
// and the partner's three feed URLs with it.
type feedTokenView struct {
	Token string `json:"token"`
	RSS   string `json:"rss"`
	Atom  string `json:"atom"`
	JSON  string `json:"json"`
}

func (a *API) issueFeedToken(c echo.Context) error {
	token, err := a.svc.IssueFeedToken(c.Request().Context(), keyOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	path := "/feeds/p/" + token
	return c.JSON(http.StatusCreated, feedTokenView{
		Token: token,
		RSS:   a.feedURL(path, feeds.RSS, ""), Atom: a.feedURL(path, feeds.Atom, ""), JSON: a.feedURL(path, feeds.JSON, ""),
	})
}

func (a *API) revokeFeedToken(c echo.Context) error {
	if err := a.svc.RevokeFeedToken(c.Request().Context(), keyOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// keyOrPublic authenticates like every /v1 route when the request has an
// Authorization header. Without one it lets the request through as the
// public audience, so that the asset links of the public feeds work in
// any reader: the service then serves released assets of public
// campaigns and nothing else.
//
// Everything else a keyless caller asks for is a 401, not the 404 a keyed
// caller gets: "send a key" is the useful answer, and since it is the same
// for a hidden, an embargoed, a withdrawn and a nonexistent package, it
// tells no more than the 404 would.
func (a *API) keyOrPublic(next echo.HandlerFunc) echo.HandlerFunc {
	withKey := a.authenticate(a.limitKey(next))
	return func(c echo.Context) error {
		if c.Request().Header.Get(echo.HeaderAuthorization) != "" {
			return withKey(c)
		}
		// A portal session downloads as its key; one that ended is a
		// public reader, like a browser that never signed in.
		if websession.Has(c.Request()) {
			if _, _, err := a.svc.Session(c.Request().Context(), websession.Secret(c.Request())); hub.ErrorCode(err) != hub.EUNAUTHORIZED {
				return withKey(c)
			}
		}
		if err := a.chargeAddr(c); err != nil {
			return err
		}
		c.Set(keyContextName, hub.PublicReader().Key)
		err := next(c)
		if hub.ErrorCode(err) == hub.ENOTFOUND {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="hub"`)
			return hub.Errorf(hub.EUNAUTHORIZED,
				"this download needs a key: without one, only assets of released packages in public campaigns are served; send Authorization: Bearer <key>")
		}
		return err
	}
}
