package hub

import (
	"context"
	"fmt"
	"slices"
)

// Authenticate returns the key whose secret the caller presented.
// Returns EUNAUTHORIZED for an unknown, revoked or expired secret.
func (s *Service) Authenticate(ctx context.Context, secret string) (*Key, error) {
	if secret == "" {
		return nil, Errorf(EUNAUTHORIZED, "this call needs a key: send Authorization: Bearer <key>")
	}
	k, err := s.catalog.KeyByHash(ctx, HashKeySecret(secret))
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return nil, Errorf(EUNAUTHORIZED, "the key is not known to this hub, or it was revoked")
	case err != nil:
		return nil, fmt.Errorf("look up key: %w", err)
	case k.Expired(s.now()):
		return nil, Errorf(EUNAUTHORIZED, "the key expired at %s", k.Expires.Format("2006-01-02 15:04 MST"))
	}
	if k.Partner != "" {
		p, err := s.catalog.Partner(ctx, k.Partner)
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return nil, fmt.Errorf("look up partner: %w", err)
		}
		if p == nil || !p.Active {
			return nil, Errorf(EUNAUTHORIZED, "the partner this key belongs to is not active")
		}
	}
	return k, nil
}

// CreateKey makes a new key from req (name, role, campaigns, partner,
// expires) and returns it with its secret, which is shown this once.
func (s *Service) CreateKey(ctx context.Context, caller *Key, req Key) (*Key, string, error) {
	if err := RequireAdmin(caller); err != nil {
		return nil, "", err
	}
	if err := req.Validate(s.now()); err != nil {
		return nil, "", err
	}
	if req.Partner != "" {
		if _, err := s.catalog.Partner(ctx, req.Partner); ErrorCode(err) == ENOTFOUND {
			return nil, "", Errorf(EINVALID, "there is no partner %q; create the partner first", req.Partner)
		} else if err != nil {
			return nil, "", fmt.Errorf("look up partner: %w", err)
		}
	}
	return s.createKey(ctx, req)
}

func (s *Service) createKey(ctx context.Context, req Key) (*Key, string, error) {
	secret, err := NewKeySecret()
	if err != nil {
		return nil, "", fmt.Errorf("make key secret: %w", err)
	}
	k, err := s.recordKey(ctx, req, secret, KeySecretPrefix(secret))
	return k, secret, err
}

// recordKey stores a key. prefix is what listings show of the secret: a
// few characters of a generated one, nothing of one an operator chose.
func (s *Service) recordKey(ctx context.Context, req Key, secret, prefix string) (*Key, error) {
	k := &Key{
		ID: s.ids.New(), Name: req.Name, Role: req.Role, Campaigns: slices.Clone(req.Campaigns),
		Partner: req.Partner, Expires: req.Expires, Created: s.now().UTC(),
		Hash: HashKeySecret(secret), Prefix: prefix,
	}
	if err := s.catalog.CreateKey(ctx, k); err != nil {
		return nil, fmt.Errorf("record key: %w", err)
	}
	return k, nil
}

// Keys lists every key (never their secrets).
func (s *Service) Keys(ctx context.Context, caller *Key) ([]*Key, error) {
	if err := RequireAdmin(caller); err != nil {
		return nil, err
	}
	return s.catalog.Keys(ctx)
}

// RevokeKey deletes a key; requests with it fail from then on.
func (s *Service) RevokeKey(ctx context.Context, caller *Key, id string) error {
	if err := RequireAdmin(caller); err != nil {
		return err
	}
	if err := s.catalog.DeleteKey(ctx, id); ErrorCode(err) == ENOTFOUND {
		return Errorf(ENOTFOUND, "there is no key %q", id)
	} else if err != nil {
		return fmt.Errorf("revoke key %s: %w", id, err)
	}
	return nil
}

// EnsureAdminKey makes sure the hub has an admin key. With a secret (from
// HUB_ADMIN_KEY) it records that secret unless it is known already, so
// the same value on every start is fine. Without one it creates a key
// only when no admin key exists, and returns its secret to be printed
// once; otherwise it returns "".
func (s *Service) EnsureAdminKey(ctx context.Context, secret string) (string, error) {
	if secret != "" {
		if len(secret) < 16 {
			return "", Errorf(EINVALID, "HUB_ADMIN_KEY is too short to be a secret; use at least 16 characters")
		}
		_, err := s.catalog.KeyByHash(ctx, HashKeySecret(secret))
		if err == nil {
			return "", nil
		} else if ErrorCode(err) != ENOTFOUND {
			return "", fmt.Errorf("look up admin key: %w", err)
		}
		_, err = s.recordKey(ctx, Key{Name: "HUB_ADMIN_KEY", Role: RoleAdmin}, secret, "")
		if ErrorCode(err) == ECONFLICT { // another replica recorded it first
			return "", nil
		}
		return "", err
	}
	keys, err := s.catalog.Keys(ctx)
	if err != nil {
		return "", fmt.Errorf("list keys: %w", err)
	}
	for _, k := range keys {
		if k.Role == RoleAdmin {
			return "", nil
		}
	}
	_, generated, err := s.createKey(ctx, Key{Name: "first admin", Role: RoleAdmin})
	return generated, err
}
