package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/feeds"
	"github.com/syndication-hub/hub/hub"
)

// This file serves the feeds (GET /feeds/...), the partners' feed tokens
// (POST and DELETE /v1/partners/{id}/feedtoken) and the keyless download
// of the assets the public feeds link to.

// publicAudienceKey is the caller of a public feed or of a keyless
// download: a partner key without a partner record, which by the one
// visibility rule (hub.Audience) sees released packages of public
// campaigns and nothing else.
func publicAudienceKey() *hub.Key { return &hub.Key{Name: "public", Role: hub.RolePartner} }

// feedScope is one audience's feeds: who reads them and where they live.
type feedScope struct {
	// cacheScope keeps its renderings apart from other audiences'.
	cacheScope string
	key        *hub.Key
	// partner is the partner of a private feed, nil for the public one.
	partner *hub.Partner
	// path is where its feeds live, below the public URL.
	path string
}

func (a *API) publicFeed(c echo.Context) error {
	return a.serveFeed(c, feedScope{cacheScope: "public", key: publicAudienceKey(), path: "/feeds"})
}

// partnerFeed serves a partner's private feed. The token is the only
// credential a feed reader can carry; a wrong, revoked or inactive one is
// a 404 like any address that holds no feed.
func (a *API) partnerFeed(c echo.Context) error {
	token := c.Param("token")
	p, err := a.svc.PartnerByFeedToken(c.Request().Context(), token)
	if err != nil {
		return err
	}
	return a.serveFeed(c, feedScope{
		// The token hash, not the partner id: a new token makes new URLs,
		// and the renderings with the old ones in them must not be served.
		cacheScope: "partner:" + p.FeedTokenHash,
		key:        &hub.Key{Name: "feed of " + p.Name, Role: hub.RolePartner, Partner: p.ID},
		partner:    p,
		path:       "/feeds/p/" + token,
	})
}

// serveFeed answers one feed request from the cache, rendering the feed
// when the cache has no current copy.
func (a *API) serveFeed(c echo.Context, scope feedScope) error {
	format, err := feeds.ParseFormat(c.Param("format"))
	if err != nil {
		return err
	}
	filter, err := feeds.ParseFilter(c.QueryParams())
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	campaigns, err := a.svc.Campaigns(ctx, scope.key)
	if err != nil {
		return err
	}
	var campaign *hub.Campaign
	if filter.Campaign != "" {
		i := slices.IndexFunc(campaigns, func(camp *hub.Campaign) bool { return camp.Slug == filter.Campaign })
		if i < 0 {
			// Unknown and hidden look the same.
			return hub.Errorf(hub.ENOTFOUND, "there is no campaign %q", filter.Campaign)
		}
		campaign = campaigns[i]
	}
	key := feeds.Key{Scope: scope.cacheScope, Format: format, Filter: filter.Query(), Fingerprint: feedFingerprint(campaigns, scope.partner)}
	entry, err := a.opts.FeedCache.Get(ctx, key, func(ctx context.Context) ([]byte, error) {
		packages, err := a.feedPackages(ctx, scope.key, filter)
		if err != nil {
			return nil, err
		}
		return feeds.Render(format, a.feedMeta(scope, format, filter, campaign), packages)
	})
	if err != nil {
		return err
	}
	h := c.Response().Header()
	if scope.partner != nil {
		h.Set(echo.HeaderCacheControl, "private, no-cache")
		// The URL is a credential: keep it out of search engines.
		h.Set("X-Robots-Tag", "noindex")
	} else {
		h.Set(echo.HeaderCacheControl, "public, no-cache")
	}
	entry.Serve(c.Response(), c.Request())
	return nil
}

// feedPackages lists every package the feed's audience may see that
// matches the filter's campaign and language, as that audience sees it,
// and leaves ordering, kind and limit to feeds.Select.
func (a *API) feedPackages(ctx context.Context, k *hub.Key, f feeds.Filter) ([]*hub.Package, error) {
	q := hub.PackageQuery{Campaign: f.Campaign, Language: f.Language, Limit: hub.MaxPageSize}
	var all []*hub.Package
	for {
		page, err := a.svc.Packages(ctx, k, q)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return feeds.Select(all, f), nil
		}
		q.After = page.Next
	}
}

// feedMeta is what a feed says about itself.
func (a *API) feedMeta(scope feedScope, format feeds.Format, f feeds.Filter, campaign *hub.Campaign) feeds.Meta {
	title := "Syndication hub: releases"
	if scope.partner != nil {
		title += " for " + scope.partner.Name
	}
	var narrowed []string
	if campaign != nil {
		narrowed = append(narrowed, campaign.Name)
	}
	if f.Language != "" {
		narrowed = append(narrowed, f.Language)
	}
	if f.Kind != "" {
		narrowed = append(narrowed, string(f.Kind))
	}
	if len(narrowed) > 0 {
		title += " (" + strings.Join(narrowed, ", ") + ")"
	}
	description := "Campaign media packages as they are released, newest first, with a kill notice for each one withdrawn."
	if scope.partner == nil {
		description += " Public campaigns only; assets download without a key."
	}
	return feeds.Meta{
		PublicURL: a.opts.PublicURL, SelfURL: a.feedURL(scope.path, format, f.Query()),
		Title: title, Description: description, Language: f.Language,
	}
}

func (a *API) feedURL(path string, format feeds.Format, query string) string {
	u := a.opts.PublicURL + path + "/releases." + string(format)
	if query != "" {
		u += "?" + query
	}
	return u
}

// feedFingerprint sums up what a feed's bytes depend on besides the
// packages: the campaigns its audience may see (visibility and
// entitlements change that without any announcement) with the names a
// title shows, and the partner's name.
func feedFingerprint(campaigns []*hub.Campaign, p *hub.Partner) string {
	h := sha256.New()
	for _, c := range campaigns {
		h.Write([]byte(c.Slug + "\x00" + c.Name + "\x00"))
	}
	if p != nil {
		h.Write([]byte("\x01" + p.Name))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
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
	withKey := a.authenticate(next)
	return func(c echo.Context) error {
		if c.Request().Header.Get(echo.HeaderAuthorization) != "" {
			return withKey(c)
		}
		c.Set(keyContextName, publicAudienceKey())
		err := next(c)
		if hub.ErrorCode(err) == hub.ENOTFOUND {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="hub"`)
			return hub.Errorf(hub.EUNAUTHORIZED,
				"this download needs a key: without one, only assets of released packages in public campaigns are served; send Authorization: Bearer <key>")
		}
		return err
	}
}
