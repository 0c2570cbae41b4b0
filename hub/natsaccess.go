package hub

import (
	"context"
	"fmt"
	"time"
)

// NATSCredentialKey is the one NATS credential the hub hands out: connect
// with User (the key's id) and the API key itself as the password. The
// credential is the key, so it expires, is revoked and rotates with it;
// the hub never sends a secret in GET /v1/me/nats.
const NATSCredentialKey = "key"

// NATSAccess tells a partner how to receive its releases over NATS: where
// to connect, as whom, and which durable consumer on which stream the hub
// keeps for it (filtered to the campaigns it may see).
type NATSAccess struct {
	URL string
	// User is the NATS user to connect as, and Credential what to give as
	// its password (NATSCredentialKey: the caller's own API key). Both are
	// empty when the operator issues partners' NATS credentials.
	User       string
	Credential string
	// Expires is when the credential stops working (the key's expiry);
	// nil when the key does not expire.
	Expires     *time.Time
	Stream      string
	Consumer    string
	InboxPrefix string
	Subjects    []string
}

// NATSAccessProvider hands out partners' NATS access; its implementation
// is publisher/partners.Access, which also keeps the consumers current.
type NATSAccessProvider interface {
	// PartnerAccess returns the access of key k of partner p. User and
	// Credential are empty when the operator manages NATS users.
	PartnerAccess(ctx context.Context, k *Key, p *Partner, a Audience) (NATSAccess, error)
}

// PartnerNATS returns the caller's NATS access. Only keys that belong to
// a partner record have a consumer; other keys get ENOTFOUND.
func (s *Service) PartnerNATS(ctx context.Context, k *Key, provider NATSAccessProvider) (NATSAccess, error) {
	if !belongsToPartnerRecord(k) || provider == nil {
		return NATSAccess{}, Errorf(ENOTFOUND, "NATS access belongs to partner keys of a partner record")
	}
	a, err := s.Audience(ctx, k)
	if err != nil {
		return NATSAccess{}, err
	}
	if a.Partner == nil || !a.Partner.Active {
		return NATSAccess{}, Errorf(ENOTFOUND, "NATS access belongs to active partners")
	}
	acc, err := provider.PartnerAccess(ctx, k, a.Partner, a)
	if err != nil {
		return NATSAccess{}, fmt.Errorf("partner NATS access: %w", err)
	}
	return acc, nil
}

// NATSGrant is the hub's decision on a NATS connection: which partner's
// key it was made with, and until when it may stay. The NATS side (the
// embedded server's authenticator, the external cluster's auth callout)
// turns it into an account and permissions.
type NATSGrant struct {
	Partner string
	Key     string
	// KeyHash identifies the key for later checks (CheckNATSGrant) without
	// keeping its secret.
	KeyHash string
	// Expires is the key's expiry, or the end of a rotated secret's grace
	// period; nil for never.
	Expires *time.Time
}

// NATSGrant decides whether a NATS connection as user with password
// secret may receive releases: exactly as an HTTP request with that key
// (known, not revoked, not expired, its partner active), and only a
// partner key of a partner record, connecting as the key's own id.
// Returns EUNAUTHORIZED otherwise.
func (s *Service) NATSGrant(ctx context.Context, user, secret string) (NATSGrant, error) {
	k, err := s.Authenticate(ctx, secret)
	if err != nil {
		return NATSGrant{}, err
	}
	// The user name must match too: a key presented under another key's
	// name is a mistake or a probe, and a log line would blame the wrong key.
	if k.ID != user {
		return NATSGrant{}, Errorf(EUNAUTHORIZED, "connect as user %q, the id of this key", k.ID)
	}
	if k.Role != RolePartner || k.Partner == "" {
		return NATSGrant{}, Errorf(EUNAUTHORIZED, "NATS access belongs to partner keys of a partner record")
	}
	return NATSGrant{Partner: k.Partner, Key: k.ID, KeyHash: k.Hash, Expires: credentialEnd(k)}, nil
}

// credentialEnd is when a connection made with k's secret must end: the
// key's expiry, or sooner the end of the grace period of a secret a
// rotation replaced. nil for never.
func credentialEnd(k *Key) *time.Time {
	end := k.Expires
	if k.Retires != nil && (end == nil || k.Retires.Before(*end)) {
		end = k.Retires
	}
	return end
}

// CheckNATSGrant tells whether g still holds: its key not revoked or
// expired, its partner active. Live connections are checked with it, so a
// revoked key's connections end. Returns EUNAUTHORIZED when g lapsed.
func (s *Service) CheckNATSGrant(ctx context.Context, g NATSGrant) error {
	k, err := s.catalog.KeyByHash(ctx, g.KeyHash)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return Errorf(EUNAUTHORIZED, "key %s was revoked", g.Key)
	case err != nil:
		return fmt.Errorf("look up key %s: %w", g.Key, err)
	case k.ID != g.Key || k.Partner != g.Partner:
		return Errorf(EUNAUTHORIZED, "key %s changed", g.Key)
	case k.Expired(s.now()):
		return Errorf(EUNAUTHORIZED, "key %s expired", g.Key)
	case k.Retired(s.now()):
		return Errorf(EUNAUTHORIZED, "this secret of key %s was rotated away", g.Key)
	}
	p, err := s.catalog.Partner(ctx, g.Partner)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return fmt.Errorf("look up partner %s: %w", g.Partner, err)
	}
	if p == nil || !p.Active {
		return Errorf(EUNAUTHORIZED, "partner %s is not active", g.Partner)
	}
	return nil
}
