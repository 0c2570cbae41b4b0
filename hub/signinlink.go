package hub

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A sign-in link lets an admin bring one person into the portal without
// handing out an API key: the link stands for a key of its own (a partner
// key of a chosen partner record, or a producer key, limited to campaigns
// or not), made with it and marked with the link's id. The person never
// sees that key's secret. The link's token works once and expires;
// revoking the key revokes the link and every session opened with it.

// Sign-in link lifetimes: DefaultSigninLinkLifetime when the admin names
// none, at most MaxSigninLinkLifetime.
const (
	DefaultSigninLinkLifetime = 72 * time.Hour
	MaxSigninLinkLifetime     = 30 * 24 * time.Hour
)

// SigninLink is a link as the hub records it: under the SHA-256 of its
// token, which is never stored.
type SigninLink struct {
	ID   string `json:"id"`
	Hash string `json:"hash"`
	// Person is who the link is for, the name the portal greets.
	Person    string   `json:"person"`
	Role      Role     `json:"role"`
	Partner   string   `json:"partner,omitempty"`
	Campaigns []string `json:"campaigns,omitempty"`
	// KeyID and KeyHash are the key the link stands for.
	KeyID   string    `json:"key"`
	KeyHash string    `json:"keyhash"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Used is when the link was used to sign in; it works only once.
	Used *time.Time `json:"used,omitempty"`
	// CreatedBy is the id of the admin key that issued it.
	CreatedBy string `json:"createdby,omitempty"`
}

// SigninLinkState is what a link is good for now.
type SigninLinkState string

// Link states. Only LinkUsable signs anyone in.
const (
	LinkUsable  SigninLinkState = "usable"
	LinkUsed    SigninLinkState = "used"
	LinkExpired SigninLinkState = "expired"
	// LinkRevoked: its key was revoked or no longer authenticates.
	LinkRevoked SigninLinkState = "revoked"
	LinkUnknown SigninLinkState = "unknown"
)

// SigninLinkRequest is what an admin asks for.
type SigninLinkRequest struct {
	Person    string
	Role      Role
	Partner   string
	Campaigns []string
	// Expires is when the link stops working; nil: DefaultSigninLinkLifetime.
	Expires *time.Time
	// KeyExpires, when set, is when the link's key (and so every session
	// opened with it) stops working.
	KeyExpires *time.Time
}

// CreateSigninLink makes a link and its key; admins only. It returns the
// link and its token, shown this once (the hub sends nothing: the admin
// passes the link on).
func (s *Service) CreateSigninLink(ctx context.Context, caller *Key, req SigninLinkRequest) (*SigninLink, string, error) {
	if err := RequireAdmin(caller); err != nil {
		return nil, "", err
	}
	store, err := s.sessionStore()
	if err != nil {
		return nil, "", err
	}
	now := s.now().UTC()
	switch req.Role {
	case RolePartner:
		if req.Partner == "" {
			return nil, "", Errorf(EINVALID, "a partner's sign-in link needs the partner it belongs to")
		}
	case RoleProducer:
	default:
		return nil, "", Errorf(EINVALID, "a sign-in link is for a partner or a producer, not %q", req.Role)
	}
	expires := now.Add(DefaultSigninLinkLifetime)
	if req.Expires != nil {
		expires = req.Expires.UTC()
	}
	if !expires.After(now) || expires.Sub(now) > MaxSigninLinkLifetime {
		return nil, "", Errorf(EINVALID, "expires must be in the future and at most 30 days away")
	}
	token, err := newSessionSecret()
	if err != nil {
		return nil, "", fmt.Errorf("make link token: %w", err)
	}
	id := s.ids.New()
	k, _, err := s.CreateKey(ctx, caller, Key{
		Name: strings.TrimSpace(req.Person), Role: req.Role, Partner: req.Partner,
		Campaigns: req.Campaigns, Expires: req.KeyExpires, SigninLink: id,
	})
	if err != nil {
		return nil, "", err
	}
	l := &SigninLink{
		ID: id, Hash: HashKeySecret(token), Person: k.Name, Role: k.Role, Partner: k.Partner,
		Campaigns: slices.Clone(k.Campaigns), KeyID: k.ID, KeyHash: k.Hash, Created: now, Expires: expires,
		CreatedBy: caller.ID,
	}
	if err := store.CreateSigninLink(ctx, l); err != nil {
		// A key without its link signs nobody in; take it back.
		if rerr := s.catalog.DeleteKey(context.WithoutCancel(ctx), k.ID); rerr != nil {
			s.logger.Error("remove the key of a sign-in link not recorded", "key", k.ID, "err", rerr)
		}
		return nil, "", fmt.Errorf("record sign-in link: %w", err)
	}
	return l, token, nil
}

// SigninLinkInfo is a link with its state, for the admin's listing.
type SigninLinkInfo struct {
	Link  *SigninLink
	State SigninLinkState
}

// SigninLinks lists every link, newest first, with its state; admins only.
func (s *Service) SigninLinks(ctx context.Context, caller *Key) ([]SigninLinkInfo, error) {
	if err := RequireAdmin(caller); err != nil {
		return nil, err
	}
	store, err := s.sessionStore()
	if err != nil {
		return nil, err
	}
	links, err := store.SigninLinks(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sign-in links: %w", err)
	}
	out := make([]SigninLinkInfo, 0, len(links))
	for _, l := range links {
		st, err := s.linkState(ctx, l)
		if err != nil {
			return nil, err
		}
		out = append(out, SigninLinkInfo{Link: l, State: st})
	}
	slices.Reverse(out)
	return out, nil
}

func (s *Service) linkState(ctx context.Context, l *SigninLink) (SigninLinkState, error) {
	switch {
	case l.Used != nil:
		return LinkUsed, nil
	case !s.now().Before(l.Expires):
		return LinkExpired, nil
	}
	if _, err := s.authenticateHash(ctx, l.KeyHash); ErrorCode(err) == EUNAUTHORIZED {
		return LinkRevoked, nil
	} else if err != nil {
		return "", err
	}
	return LinkUsable, nil
}

// PeekSigninLink says what the link with token is good for, changing
// nothing: opening a link (a GET, which previewers of chats and mail make
// too) must never use it up. The link is nil when the state is LinkUnknown.
func (s *Service) PeekSigninLink(ctx context.Context, token string) (*SigninLink, SigninLinkState, error) {
	store, err := s.sessionStore()
	if err != nil {
		return nil, "", err
	}
	if token == "" {
		return nil, LinkUnknown, nil
	}
	l, err := store.SigninLinkByHash(ctx, HashKeySecret(token))
	if ErrorCode(err) == ENOTFOUND {
		return nil, LinkUnknown, nil
	} else if err != nil {
		return nil, "", fmt.Errorf("look up sign-in link: %w", err)
	}
	st, err := s.linkState(ctx, l)
	return l, st, err
}

// UseSigninLink uses up the link with token and opens a session as its
// key, returning the session and the cookie's secret. When the link is
// not usable nothing changes and the state says why. Of two uses at once,
// the revision check lets one win.
func (s *Service) UseSigninLink(ctx context.Context, token string, meta SessionMeta) (*Session, string, SigninLinkState, error) {
	l, st, err := s.PeekSigninLink(ctx, token)
	if err != nil || st != LinkUsable {
		return nil, "", st, err
	}
	k, err := s.authenticateHash(ctx, l.KeyHash)
	if ErrorCode(err) == EUNAUTHORIZED {
		return nil, "", LinkRevoked, nil
	} else if err != nil {
		return nil, "", "", err
	}
	now := s.now().UTC()
	_, err = s.sessions.UpdateSigninLink(ctx, l.Hash, func(x *SigninLink) error {
		if x.Used != nil {
			return Errorf(ECONFLICT, "the link was used")
		}
		x.Used = &now
		return nil
	})
	switch {
	case ErrorCode(err) == ECONFLICT:
		return nil, "", LinkUsed, nil
	case ErrorCode(err) == ENOTFOUND:
		return nil, "", LinkUnknown, nil
	case err != nil:
		return nil, "", "", fmt.Errorf("use sign-in link: %w", err)
	}
	sess, secret, err := s.openSession(ctx, k, l.ID, meta)
	if err != nil {
		return nil, "", "", err
	}
	return sess, secret, LinkUsable, nil
}
