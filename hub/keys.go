package hub

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Authenticate returns the key whose secret the caller presented.
// Returns EUNAUTHORIZED for an unknown, revoked or expired secret.
func (s *Service) Authenticate(ctx context.Context, secret string) (*Key, error) {
	if secret == "" {
		return nil, Errorf(EUNAUTHORIZED, "this call needs a key: send Authorization: Bearer <key>")
	}
	return s.authenticateHash(ctx, HashKeySecret(secret))
}

// authenticateHash is Authenticate by the stored form of the secret: a
// portal session holds that, never the secret, and is checked by the very
// same rules on every request, so it ends the moment its key does.
func (s *Service) authenticateHash(ctx context.Context, hash string) (*Key, error) {
	k, err := s.catalog.KeyByHash(ctx, hash)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return nil, Errorf(EUNAUTHORIZED, "the key is not known to this hub, or it was revoked")
	case err != nil:
		return nil, fmt.Errorf("look up key: %w", err)
	case k.Expired(s.now()):
		return nil, Errorf(EUNAUTHORIZED, "the key expired at %s", k.Expires.Format("2006-01-02 15:04 MST"))
	case k.Retired(s.now()):
		return nil, Errorf(EUNAUTHORIZED, "this secret was replaced by a rotation and its grace period has ended; use the new secret")
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
	k, secret, err := s.createKey(ctx, req)
	if err != nil {
		return nil, "", err
	}
	s.audit(ctx, caller, AuditEntry{Action: AuditKeyCreate, Target: k.ID, Partner: k.Partner})
	return k, secret, nil
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
		Hash: HashKeySecret(secret), Prefix: prefix, SigninLink: req.SigninLink,
	}
	if err := s.catalog.CreateKey(ctx, k); err != nil {
		return nil, fmt.Errorf("record key: %w", err)
	}
	return k, nil
}

// KeyInfo is a key as the admin's listing shows it: the current record
// (never a secret), until when a secret a rotation replaced still works,
// and what was made with the key, which stops working with it.
type KeyInfo struct {
	Key *Key
	// Grace is when the previous secret stops working, while it works.
	Grace *time.Time
	// Webhooks are the ids of the webhooks made with the key.
	Webhooks []string
	// FeedTokens are the ids of the partners whose current feed token
	// was issued with the key.
	FeedTokens []string
}

// Keys lists every key (never their secrets), one entry per key however
// many secrets a rotation left it, with what each key made.
func (s *Service) Keys(ctx context.Context, caller *Key) ([]KeyInfo, error) {
	if err := RequireAdmin(caller); err != nil {
		return nil, err
	}
	records, err := s.catalog.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	now := s.now()
	var out []KeyInfo
	byID := map[string]int{}
	for _, k := range records {
		i, seen := byID[k.ID]
		if !seen {
			i = len(out)
			byID[k.ID] = i
			out = append(out, KeyInfo{})
		}
		switch {
		case k.Retires == nil:
			out[i].Key = k
		case !k.Retired(now) && (out[i].Grace == nil || k.Retires.After(*out[i].Grace)):
			out[i].Grace = k.Retires
		}
	}
	// A key whose every secret was replaced cannot happen through the
	// service; should a crash mid-rotation leave one, it is shown by its
	// newest record rather than hidden from the admin who can revoke it.
	for _, k := range records {
		if i := byID[k.ID]; out[i].Key == nil || out[i].Key.Retires != nil && k.Retires != nil && k.Retires.After(*out[i].Key.Retires) {
			out[i].Key = k
		}
	}
	hooks, err := s.catalog.Webhooks(ctx)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	for _, w := range hooks {
		if i, ok := byID[w.CreatedBy]; ok && w.CreatedBy != "" {
			out[i].Webhooks = append(out[i].Webhooks, w.ID)
		}
	}
	partners, err := s.catalog.Partners(ctx)
	if err != nil {
		return nil, fmt.Errorf("list partners: %w", err)
	}
	for _, p := range partners {
		if i, ok := byID[p.FeedTokenKey]; ok && p.FeedTokenKey != "" && p.FeedTokenHash != "" {
			out[i].FeedTokens = append(out[i].FeedTokens, p.ID)
		}
	}
	return out, nil
}

// RevokeKey deletes a key, every secret of it; requests with it fail from
// then on, and what was made with it (webhooks, a feed token) stops
// working, since each is checked against its creator's key on use.
func (s *Service) RevokeKey(ctx context.Context, caller *Key, id string) error {
	if err := RequireAdmin(caller); err != nil {
		return err
	}
	if err := s.catalog.DeleteKey(ctx, id); ErrorCode(err) == ENOTFOUND {
		return Errorf(ENOTFOUND, "there is no key %q", id)
	} else if err != nil {
		return fmt.Errorf("revoke key %s: %w", id, err)
	}
	s.audit(ctx, caller, AuditEntry{Action: AuditKeyRevoke, Target: id})
	return nil
}

// RotateKey gives key id a new secret and returns it (shown this once).
// The secret it replaces keeps authenticating as the same key for grace
// (nil: DefaultKeyGrace; 0 ends it at once; at most MaxKeyGrace), and is
// refused after that; the key's id, role, limits, expiry and what was made
// with it stay as they are. At most two secrets work at a time: a secret
// an earlier rotation left in its grace period is retired now. Who may
// rotate is MayRotateKey's question. Returns ENOTFOUND for an unknown
// key, ECONFLICT for an expired one or when another rotation wins.
func (s *Service) RotateKey(ctx context.Context, caller *Key, id string, grace *time.Duration) (*Key, string, error) {
	if err := MayRotateKey(caller, id); err != nil {
		return nil, "", err
	}
	g := DefaultKeyGrace
	if grace != nil {
		g = *grace
	}
	if g < 0 || g > MaxKeyGrace {
		return nil, "", Errorf(EINVALID, "grace must be between 0s and %s (30 days)", MaxKeyGrace)
	}
	records, err := s.catalog.Keys(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("list keys: %w", err)
	}
	now := s.now().UTC()
	var current *Key
	var graced []*Key
	for _, k := range records {
		switch {
		case k.ID != id:
		case k.Retires == nil:
			current = k
		case !k.Retired(now):
			graced = append(graced, k)
		}
	}
	if current == nil {
		return nil, "", Errorf(ENOTFOUND, "there is no key %q", id)
	}
	if current.Expired(now) {
		return nil, "", Errorf(ECONFLICT, "key %s has expired; make a new key instead", id)
	}
	secret, err := NewKeySecret()
	if err != nil {
		return nil, "", fmt.Errorf("make key secret: %w", err)
	}
	// Retire the current secret first, under a revision check: of two
	// rotations at once only one gets past it, and a crash before the new
	// secret is stored leaves the old one working for its grace period.
	retires := now.Add(g)
	if _, err := s.catalog.UpdateKey(ctx, current.Hash, func(k *Key) error {
		if k.Retires != nil {
			return Errorf(ECONFLICT, "key %s is being rotated by another request; try again", id)
		}
		k.Retires = &retires
		return nil
	}); ErrorCode(err) == ENOTFOUND {
		return nil, "", Errorf(ENOTFOUND, "there is no key %q", id)
	} else if err != nil {
		return nil, "", fmt.Errorf("retire the old secret of key %s: %w", id, err)
	}
	next := *current
	next.Campaigns = slices.Clone(current.Campaigns)
	next.Hash, next.Prefix, next.Rotated, next.Retires = HashKeySecret(secret), KeySecretPrefix(secret), &now, nil
	if err := s.catalog.CreateKey(ctx, &next); err != nil {
		// Give the old secret its place back, so the key is not left
		// without a current secret.
		if _, uerr := s.catalog.UpdateKey(context.WithoutCancel(ctx), current.Hash, func(k *Key) error {
			k.Retires = nil
			return nil
		}); uerr != nil {
			s.logger.Error("restore a key's secret after a failed rotation", "key", id, "err", uerr)
		}
		return nil, "", fmt.Errorf("record the new secret of key %s: %w", id, err)
	}
	for _, k := range graced {
		if _, err := s.catalog.UpdateKey(ctx, k.Hash, func(k *Key) error {
			k.Retires = &now
			return nil
		}); err != nil && ErrorCode(err) != ENOTFOUND {
			s.logger.Error("retire a secret of an earlier rotation", "key", id, "err", err)
		}
	}
	s.audit(ctx, caller, AuditEntry{Action: AuditKeyRotate, Target: id, Partner: current.Partner})
	return &next, secret, nil
}

// KeyAlive reports whether key id still stands: it has a current secret
// that has not expired. What a key made (webhooks, a feed token) works
// only while it does; "" (made before creators were recorded) always
// stands. The deliverer asks it of every webhook delivery.
func KeyAlive(ctx context.Context, keys KeyStore, id string, now time.Time) (bool, error) {
	if id == "" {
		return true, nil
	}
	records, err := keys.Keys(ctx)
	if err != nil {
		return false, fmt.Errorf("list keys: %w", err)
	}
	for _, k := range records {
		if k.ID == id && k.Alive(now) {
			return true, nil
		}
	}
	return false, nil
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
		k, err := s.recordKey(ctx, Key{Name: "HUB_ADMIN_KEY", Role: RoleAdmin}, secret, "")
		if ErrorCode(err) == ECONFLICT { // another replica recorded it first
			return "", nil
		} else if err != nil {
			return "", err
		}
		s.audit(ctx, nil, AuditEntry{Action: AuditKeyCreate, Target: k.ID}) // the hub's act, from its configuration
		return "", nil
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
	k, generated, err := s.createKey(ctx, Key{Name: "first admin", Role: RoleAdmin})
	if err != nil {
		return "", err
	}
	s.audit(ctx, nil, AuditEntry{Action: AuditKeyCreate, Target: k.ID})
	return generated, nil
}
