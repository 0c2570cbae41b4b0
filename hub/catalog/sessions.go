package catalog

import (
	"cmp"
	"context"
	"slices"

	"github.com/syndication-hub/hub/hub"
)

// Portal buckets. Both are indexed like keys: a session is read on every
// page load and API call a browser makes, so the check costs no round
// trip. Entries are keyed by the SHA-256 of the browser's (or the link's)
// secret, so reading the bucket gives no one a way in.
const (
	SessionsBucket    = "hub_sessions"
	SigninLinksBucket = "hub_signin_links"
)

var _ hub.SessionStore = (*Catalog)(nil)

// CreateSession records a session under its hash.
func (c *Catalog) CreateSession(ctx context.Context, s *hub.Session) error {
	return c.sessions.create(ctx, s.Hash, s)
}

// SessionByHash returns a session from the index, or from the bucket when
// another replica made it a moment ago.
func (c *Catalog) SessionByHash(ctx context.Context, hash string) (*hub.Session, error) {
	return c.sessions.get(ctx, hash)
}

// Sessions returns every session, oldest (lowest id) first.
func (c *Catalog) Sessions(ctx context.Context) ([]*hub.Session, error) {
	all := c.sessions.list()
	slices.SortFunc(all, func(a, b *hub.Session) int { return cmp.Compare(a.ID, b.ID) })
	return all, nil
}

// UpdateSession changes a session under a revision check.
func (c *Catalog) UpdateSession(ctx context.Context, hash string, fn func(s *hub.Session) error) (*hub.Session, error) {
	return c.sessions.update(ctx, hash, fn)
}

// DeleteSession removes a session; one already gone (signed out on
// another replica, or ended by the bucket's TTL) is no failure.
func (c *Catalog) DeleteSession(ctx context.Context, hash string) error {
	if err := c.sessions.delete(ctx, hash); err != nil && hub.ErrorCode(err) != hub.ENOTFOUND {
		return err
	}
	return nil
}

// CreateSigninLink records a link under the hash of its token.
func (c *Catalog) CreateSigninLink(ctx context.Context, l *hub.SigninLink) error {
	return c.signinLinks.create(ctx, l.Hash, l)
}

// SigninLinkByHash returns a link.
func (c *Catalog) SigninLinkByHash(ctx context.Context, hash string) (*hub.SigninLink, error) {
	return c.signinLinks.get(ctx, hash)
}

// SigninLinks returns every link, oldest first.
func (c *Catalog) SigninLinks(ctx context.Context) ([]*hub.SigninLink, error) {
	all := c.signinLinks.list()
	slices.SortFunc(all, func(a, b *hub.SigninLink) int { return cmp.Compare(a.ID, b.ID) })
	return all, nil
}

// UpdateSigninLink changes a link under a revision check: of two uses of
// one link at once, one wins.
func (c *Catalog) UpdateSigninLink(ctx context.Context, hash string, fn func(l *hub.SigninLink) error) (*hub.SigninLink, error) {
	return c.signinLinks.update(ctx, hash, fn)
}
