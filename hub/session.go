package hub

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A portal session is a person signed in to the web portal: a browser
// holds a random secret (in a cookie; the transport's business), the hub
// holds the session under the secret's hash, tied to the key the person
// signed in with. Every request checks that key by the same rules as a
// bearer key (authenticateHash), so revoking or expiring the key ends its
// sessions at once, on every replica.

// Session lifetimes. A session unused for SessionIdleLifetime ends (a
// working day: a shared office computer left signed in overnight is signed
// out by morning); none outlives SessionAbsoluteLifetime, however busy.
const (
	SessionIdleLifetime     = 8 * time.Hour
	SessionAbsoluteLifetime = 7 * 24 * time.Hour
	// sessionTouchEvery is how stale LastSeen may get before a request
	// writes it again: a write per page load would cost a KV round trip
	// each, and the idle limit is hours, not minutes.
	sessionTouchEvery = 5 * time.Minute
)

// Session is a signed-in browser. ID names it in listings and is no
// secret; Hash is the SHA-256 of the cookie's secret.
type Session struct {
	ID   string `json:"id"`
	Hash string `json:"hash"`
	// KeyID and KeyHash are the key the person signed in with (the
	// record of its current secret): the session acts as that key.
	KeyID   string `json:"key"`
	KeyHash string `json:"keyhash"`
	// KeyName and Role are copied for the admin's listing.
	KeyName string `json:"keyname"`
	Role    Role   `json:"role"`
	// SigninLink is the link the session was opened with, if any.
	SigninLink string    `json:"signinlink,omitempty"`
	Created    time.Time `json:"created"`
	LastSeen   time.Time `json:"lastseen"`
	// CSRF is the token every state-changing request of the session must
	// carry (a form field or a header): a random value stored here, so
	// another site, which can make the browser send the cookie but cannot
	// read the page, cannot forge it.
	CSRF string `json:"csrf"`
	// UserAgent is what the browser said it was, for the listing.
	UserAgent string `json:"useragent,omitempty"`
}

// Expired reports whether the session has ended at now by either limit.
func (s *Session) Expired(now time.Time) bool {
	return !now.Before(s.LastSeen.Add(SessionIdleLifetime)) || !now.Before(s.Created.Add(SessionAbsoluteLifetime))
}

// Ends returns when the session ends if it is not used again.
func (s *Session) Ends() time.Time {
	idle, abs := s.LastSeen.Add(SessionIdleLifetime), s.Created.Add(SessionAbsoluteLifetime)
	if idle.Before(abs) {
		return idle
	}
	return abs
}

// SessionStore keeps portal sessions and sign-in links. hub/catalog keeps
// them in NATS KV buckets of their own.
type SessionStore interface {
	// CreateSession records a session under its hash. ECONFLICT if taken.
	CreateSession(ctx context.Context, s *Session) error
	// SessionByHash returns the session, or ENOTFOUND.
	SessionByHash(ctx context.Context, hash string) (*Session, error)
	// Sessions returns every session, oldest first.
	Sessions(ctx context.Context) ([]*Session, error)
	// UpdateSession changes a session under a revision check. ENOTFOUND,
	// or fn's error as is.
	UpdateSession(ctx context.Context, hash string, fn func(s *Session) error) (*Session, error)
	// DeleteSession removes a session; one already gone is no error.
	DeleteSession(ctx context.Context, hash string) error

	// CreateSigninLink records a link under the hash of its token.
	CreateSigninLink(ctx context.Context, l *SigninLink) error
	// SigninLinkByHash returns the link, or ENOTFOUND.
	SigninLinkByHash(ctx context.Context, hash string) (*SigninLink, error)
	// SigninLinks returns every link, oldest first.
	SigninLinks(ctx context.Context) ([]*SigninLink, error)
	// UpdateSigninLink changes a link under a revision check. ENOTFOUND,
	// or fn's error as is.
	UpdateSigninLink(ctx context.Context, hash string, fn func(l *SigninLink) error) (*SigninLink, error)
}

// SessionMeta is what the transport knows of the browser opening a session.
type SessionMeta struct {
	UserAgent string
}

// sessionStore returns the store, or EUNAVAILABLE on a hub built without.
func (s *Service) sessionStore() (SessionStore, error) {
	if s.sessions == nil {
		return nil, Errorf(EUNAVAILABLE, "this hub keeps no portal sessions")
	}
	return s.sessions, nil
}

// newSessionSecret returns 256 random bits, URL-safe.
func newSessionSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// SignIn opens a session for the holder of an API key secret. It returns
// the session and the secret for the cookie, shown this once.
func (s *Service) SignIn(ctx context.Context, keySecret string, meta SessionMeta) (*Session, string, error) {
	k, err := s.Authenticate(ctx, strings.TrimSpace(keySecret))
	if err != nil {
		return nil, "", err
	}
	return s.openSession(ctx, k, "", meta)
}

func (s *Service) openSession(ctx context.Context, k *Key, link string, meta SessionMeta) (*Session, string, error) {
	store, err := s.sessionStore()
	if err != nil {
		return nil, "", err
	}
	secret, err := newSessionSecret()
	if err != nil {
		return nil, "", fmt.Errorf("make session secret: %w", err)
	}
	csrf, err := newSessionSecret()
	if err != nil {
		return nil, "", fmt.Errorf("make CSRF token: %w", err)
	}
	now := s.now().UTC()
	ua := meta.UserAgent
	if len(ua) > 200 {
		ua = ua[:200]
	}
	sess := &Session{
		ID: s.ids.New(), Hash: HashKeySecret(secret), KeyID: k.ID, KeyHash: k.Hash, KeyName: k.Name, Role: k.Role,
		SigninLink: link, Created: now, LastSeen: now, CSRF: csrf, UserAgent: ua,
	}
	if err := store.CreateSession(ctx, sess); err != nil {
		return nil, "", fmt.Errorf("record session: %w", err)
	}
	return sess, secret, nil
}

// Session returns the session whose cookie secret the browser sent and
// the key it acts as. EUNAUTHORIZED when there is none, it ended, or its
// key no longer authenticates (revoked, expired, rotated past its grace,
// its partner deactivated); an ended session is removed.
func (s *Service) Session(ctx context.Context, secret string) (*Session, *Key, error) {
	store, err := s.sessionStore()
	if err != nil {
		return nil, nil, err
	}
	if secret == "" {
		return nil, nil, Errorf(EUNAUTHORIZED, "not signed in")
	}
	hash := HashKeySecret(secret)
	sess, err := store.SessionByHash(ctx, hash)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil, Errorf(EUNAUTHORIZED, "the session ended; sign in again")
	} else if err != nil {
		return nil, nil, fmt.Errorf("look up session: %w", err)
	}
	now := s.now()
	if sess.Expired(now) {
		s.dropSession(ctx, store, hash)
		return nil, nil, Errorf(EUNAUTHORIZED, "the session ended; sign in again")
	}
	k, err := s.authenticateHash(ctx, sess.KeyHash)
	if ErrorCode(err) == EUNAUTHORIZED {
		s.dropSession(ctx, store, hash)
		return nil, nil, Errorf(EUNAUTHORIZED, "the key of this session no longer works; sign in again")
	} else if err != nil {
		return nil, nil, err
	}
	if now.Sub(sess.LastSeen) >= sessionTouchEvery {
		touched, err := store.UpdateSession(ctx, hash, func(x *Session) error {
			x.LastSeen = now.UTC()
			return nil
		})
		if err != nil {
			// The session works all the same; it may end an idle period early.
			s.logger.Warn("touch session", "session", sess.ID, "err", err)
		} else {
			sess = touched
		}
	}
	return sess, k, nil
}

func (s *Service) dropSession(ctx context.Context, store SessionStore, hash string) {
	if err := store.DeleteSession(context.WithoutCancel(ctx), hash); err != nil {
		s.logger.Warn("remove ended session", "err", err)
	}
}

// SignOut ends the session whose cookie secret the browser sent.
func (s *Service) SignOut(ctx context.Context, secret string) error {
	store, err := s.sessionStore()
	if err != nil {
		return err
	}
	if secret == "" {
		return nil
	}
	if err := store.DeleteSession(ctx, HashKeySecret(secret)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// SignOutEverywhere ends every session of the caller's key, on every
// browser, and says how many it ended.
func (s *Service) SignOutEverywhere(ctx context.Context, caller *Key) (int, error) {
	store, err := s.sessionStore()
	if err != nil {
		return 0, err
	}
	all, err := store.Sessions(ctx)
	if err != nil {
		return 0, fmt.Errorf("list sessions: %w", err)
	}
	n := 0
	for _, x := range all {
		if x.KeyID != caller.ID {
			continue
		}
		if err := store.DeleteSession(ctx, x.Hash); err != nil {
			return n, fmt.Errorf("end session %s: %w", x.ID, err)
		}
		n++
	}
	return n, nil
}

// Sessions lists the sessions that have not ended, newest first; admins
// only. Hashes and CSRF tokens are left out.
func (s *Service) Sessions(ctx context.Context, caller *Key) ([]Session, error) {
	if err := RequireAdmin(caller); err != nil {
		return nil, err
	}
	store, err := s.sessionStore()
	if err != nil {
		return nil, err
	}
	all, err := store.Sessions(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	now := s.now()
	var out []Session
	for _, x := range all {
		if x.Expired(now) {
			continue
		}
		v := *x
		v.Hash, v.CSRF, v.KeyHash = "", "", ""
		out = append(out, v)
	}
	slices.Reverse(out)
	return out, nil
}

// RevokeSession ends session id; admins only. ENOTFOUND for an unknown id.
func (s *Service) RevokeSession(ctx context.Context, caller *Key, id string) error {
	if err := RequireAdmin(caller); err != nil {
		return err
	}
	store, err := s.sessionStore()
	if err != nil {
		return err
	}
	all, err := store.Sessions(ctx)
	if err != nil {
		return fmt.Errorf("list sessions: %w", err)
	}
	for _, x := range all {
		if x.ID == id {
			if err := store.DeleteSession(ctx, x.Hash); err != nil {
				return fmt.Errorf("end session %s: %w", id, err)
			}
			return nil
		}
	}
	return Errorf(ENOTFOUND, "there is no session %q", id)
}
