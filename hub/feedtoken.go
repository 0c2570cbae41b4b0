package hub

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// This file is the feed token that stands for a partner in its private
// feed URLs: feed readers cannot send an Authorization header, so the
// secret has to be in the address. Who may manage one is in access.go;
// the feed itself in feed.go.

// feedTokenPrefix marks feed tokens, so secret scanners and people can
// tell one in a URL, and so a malformed token is refused without a lookup.
const feedTokenPrefix = "hubfeed_"

// newFeedToken returns a fresh token: 256 random bits, URL-safe.
func newFeedToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make feed token: %w", err)
	}
	return feedTokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// IssueFeedToken gives partner partnerID a new feed token and returns it;
// it is shown this once, and only its SHA-256 is kept. Issuing again
// replaces the token, which revokes the old one and every URL holding it.
// Returns ENOTFOUND for an unknown partner (or another partner's key) and
// EFORBIDDEN for producers.
func (s *Service) IssueFeedToken(ctx context.Context, k *Key, partnerID string) (string, error) {
	if err := mayManageFeedToken(k, partnerID); err != nil {
		return "", err
	}
	token, err := newFeedToken()
	if err != nil {
		return "", err
	}
	now := s.now().UTC()
	if err := s.setFeedToken(ctx, partnerID, HashKeySecret(token), k.ID, &now); err != nil {
		return "", err
	}
	s.audit(ctx, k, AuditEntry{Action: AuditFeedTokenIssue, Target: partnerID, Partner: partnerID})
	return token, nil
}

// RevokeFeedToken ends partner partnerID's feed token, if it has one:
// its private feed URLs answer 404 from then on. Errors as IssueFeedToken.
func (s *Service) RevokeFeedToken(ctx context.Context, k *Key, partnerID string) error {
	if err := mayManageFeedToken(k, partnerID); err != nil {
		return err
	}
	if err := s.setFeedToken(ctx, partnerID, "", "", nil); err != nil {
		return err
	}
	s.audit(ctx, k, AuditEntry{Action: AuditFeedTokenRevoke, Target: partnerID, Partner: partnerID})
	return nil
}

// setFeedToken records partnerID's feed token hash, the key that issued
// it and when ("", "" and nil for none).
func (s *Service) setFeedToken(ctx context.Context, partnerID, hash, keyID string, issued *time.Time) error {
	_, err := s.catalog.UpdatePartner(ctx, partnerID, func(p *Partner) error {
		p.FeedTokenHash, p.FeedTokenKey, p.FeedTokenIssued = hash, keyID, issued
		return nil
	})
	if ErrorCode(err) == ENOTFOUND {
		return Errorf(ENOTFOUND, "there is no partner %q", partnerID)
	} else if err != nil {
		return fmt.Errorf("record feed token of partner %s: %w", partnerID, err)
	}
	return nil
}

// FeedTokenState is where a partner's feed token stands. The token itself
// is not kept, so it is not here: only whether there is one.
type FeedTokenState struct {
	// Issued says a token was issued and not revoked or replaced since.
	Issued bool
	// Works says its URLs answer now: the partner is active and the key
	// that issued the token stands (see PartnerByFeedToken).
	Works bool
	// At is when it was issued; nil for tokens issued before that was
	// recorded. Key is the id of the key that issued it.
	At  *time.Time
	Key string
}

// FeedToken tells whether partner partnerID has a feed token and whether
// it works, for whoever may manage it. Errors as IssueFeedToken.
func (s *Service) FeedToken(ctx context.Context, k *Key, partnerID string) (FeedTokenState, error) {
	if err := mayManageFeedToken(k, partnerID); err != nil {
		return FeedTokenState{}, err
	}
	p, err := s.catalog.Partner(ctx, partnerID)
	if ErrorCode(err) == ENOTFOUND {
		return FeedTokenState{}, Errorf(ENOTFOUND, "there is no partner %q", partnerID)
	} else if err != nil {
		return FeedTokenState{}, fmt.Errorf("read partner %s: %w", partnerID, err)
	}
	if p.FeedTokenHash == "" {
		return FeedTokenState{}, nil
	}
	st := FeedTokenState{Issued: true, At: p.FeedTokenIssued, Key: p.FeedTokenKey}
	alive, err := KeyAlive(ctx, s.catalog, p.FeedTokenKey, s.now())
	if err != nil {
		return FeedTokenState{}, err
	}
	st.Works = alive && p.Active
	return st, nil
}

// noFeed is the one answer for a token that is malformed, unknown,
// revoked or belongs to an inactive partner: a 404, never a 401, so that
// tokens cannot be probed and a revoked URL looks like any wrong one.
func noFeed() error { return Errorf(ENOTFOUND, "there is no feed at this address") }

// PartnerByFeedToken returns the active partner whose feed token is
// token, while the key that issued it stands. Returns ENOTFOUND otherwise
// (see noFeed).
func (s *Service) PartnerByFeedToken(ctx context.Context, token string) (*Partner, error) {
	if !strings.HasPrefix(token, feedTokenPrefix) || len(token) > 128 {
		return nil, noFeed()
	}
	partners, err := s.catalog.Partners(ctx)
	if err != nil {
		return nil, fmt.Errorf("list partners: %w", err)
	}
	want := []byte(HashKeySecret(token))
	var found *Partner
	// Every partner is compared, in constant time, so how long the answer
	// takes says nothing about how close a guess came.
	for _, p := range partners {
		if p.FeedTokenHash != "" && subtle.ConstantTimeCompare([]byte(p.FeedTokenHash), want) == 1 {
			found = p
		}
	}
	if found == nil || !found.Active {
		return nil, noFeed()
	}
	// A token dies with the key that issued it: after that key is revoked
	// or expires, the URL answers like any wrong one.
	if alive, err := KeyAlive(ctx, s.catalog, found.FeedTokenKey, s.now()); err != nil {
		return nil, err
	} else if !alive {
		return nil, noFeed()
	}
	return found, nil
}
