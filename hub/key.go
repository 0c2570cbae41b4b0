package hub

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Role is what a key's holder is to the hub.
type Role string

// Roles: an admin runs the hub, a producer makes packages, a partner is an
// outlet that republishes them.
const (
	RoleAdmin    Role = "admin"
	RoleProducer Role = "producer"
	RolePartner  Role = "partner"
)

// ParseRole returns the Role named s, or EINVALID.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAdmin, RoleProducer, RolePartner:
		return r, nil
	}
	return "", Errorf(EINVALID, "role %q is not one of admin, producer, partner", s)
}

// Key is an API key as the hub records it. The secret itself is never
// stored, only its SHA-256: secrets are 256 random bits, so a fast hash is
// as safe as a slow one and keeps every request's check cheap.
type Key struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	Campaigns []string   `json:"campaigns,omitempty"`
	Partner   string     `json:"partner,omitempty"`
	Expires   *time.Time `json:"expires,omitempty"`
	Created   time.Time  `json:"created"`
	Hash      string     `json:"hash"`
	Prefix    string     `json:"prefix"`
	// SigninLink is the id of the sign-in link the key was made for: the
	// key stands for one person who signs in to the portal through it and
	// never sees the secret (see signinlink.go). Revoking the key ends the
	// link and every session made with it.
	SigninLink string `json:"signinlink,omitempty"`

	// Rotated is when the secret of this record replaced an earlier one.
	Rotated *time.Time `json:"rotated,omitempty"`
	// Retires is set on the record of a secret a rotation replaced: from
	// then on the secret is refused. Until then it authenticates as the
	// same key (the same id, role and limits) as the new one, so callers
	// can switch without downtime. Retired records stay, so an operator's
	// HUB_ADMIN_KEY that was rotated away is not recorded afresh on the
	// next start.
	Retires *time.Time `json:"retires,omitempty"`
}

// Key rotation's grace period: how long a replaced secret keeps working.
const (
	DefaultKeyGrace = 24 * time.Hour
	MaxKeyGrace     = 30 * 24 * time.Hour
)

// Retired reports whether k is the record of a replaced secret whose
// grace period has ended at now.
func (k *Key) Retired(now time.Time) bool { return k.Retires != nil && !now.Before(*k.Retires) }

// Alive reports whether k is a current secret (not one a rotation
// replaced) that has not expired at now.
func (k *Key) Alive(now time.Time) bool { return k.Retires == nil && !k.Expired(now) }

// keySecretPrefix marks hub keys, so secret scanners and people can tell
// one when they see it.
const keySecretPrefix = "hub_"

// NewKeySecret returns a fresh random key secret.
func NewKeySecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return keySecretPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashKeySecret returns the stored form of a key secret.
func HashKeySecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// KeySecretPrefix returns the start of a secret that listings show, so an
// admin can tell keys apart without seeing them.
func KeySecretPrefix(secret string) string {
	if len(secret) > len(keySecretPrefix)+6 {
		return secret[:len(keySecretPrefix)+6]
	}
	return ""
}

// Expired reports whether k has expired at now.
func (k *Key) Expired(now time.Time) bool { return k.Expires != nil && !now.Before(*k.Expires) }

// Validate checks a key request.
func (k *Key) Validate(now time.Time) error {
	if strings.TrimSpace(k.Name) == "" {
		return Errorf(EINVALID, "name is required: say who holds the key, such as \"KORGAU123 team\"")
	}
	if _, err := ParseRole(string(k.Role)); err != nil {
		return err
	}
	for _, c := range k.Campaigns {
		if !ValidCampaign(c) {
			return Errorf(EINVALID, "campaign %q is not a slug: use lowercase letters, digits and dashes", c)
		}
	}
	if len(k.Campaigns) > 0 && k.Role != RoleProducer {
		return Errorf(EINVALID, "campaigns limit producer keys only; a partner's campaigns come from its partner record")
	}
	if k.Partner != "" && k.Role != RolePartner {
		return Errorf(EINVALID, "partner is set only on partner keys")
	}
	if k.Expires != nil && !k.Expires.After(now) {
		return Errorf(EINVALID, "expires must be in the future")
	}
	return nil
}

// mayUseCampaign reports whether a producer key may work on campaign c.
func (k *Key) mayUseCampaign(c string) bool {
	return len(k.Campaigns) == 0 || slices.Contains(k.Campaigns, c)
}
