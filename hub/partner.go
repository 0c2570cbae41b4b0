package hub

import (
	"slices"
	"strings"
	"time"
)

// Medium is how a partner outlet reaches its audience; reach reports
// break down by it.
type Medium string

// The media partner outlets work in.
const (
	MediumTV     Medium = "tv"
	MediumRadio  Medium = "radio"
	MediumPrint  Medium = "print"
	MediumOnline Medium = "online"
)

// Partner is an outlet that republishes packages: a regional TV station,
// a newspaper, an online medium. Campaigns lists the campaigns it is
// entitled to beyond the public ones. An inactive partner's keys stop
// working and its deliveries stop.
type Partner struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Region    string    `json:"region,omitempty"`
	Medium    Medium    `json:"medium"`
	Languages []string  `json:"languages,omitempty"`
	Campaigns []string  `json:"campaigns,omitempty"`
	Active    bool      `json:"active"`
	Created   time.Time `json:"created"`

	// FeedTokenHash is the SHA-256 (hex) of the partner's feed token, the
	// secret in its private feed URLs (see feedtoken.go); "" when none.
	FeedTokenHash string `json:"feedtokenhash,omitempty"`
	// FeedTokenKey is the id of the key that issued the feed token: the
	// token works only while that key stands (KeyAlive). "" on tokens
	// issued before this was recorded, which keep working.
	FeedTokenKey string `json:"feedtokenkey,omitempty"`
	// FeedTokenIssued is when the feed token was issued; nil when there is
	// none, and on tokens issued before this was recorded.
	FeedTokenIssued *time.Time `json:"feedtokenissued,omitempty"`
}

// Validate checks a partner's fields and normalizes its languages.
func (p *Partner) Validate() error {
	if strings.TrimSpace(p.Name) == "" || strings.ContainsFunc(p.Name, isControlNotSpace) {
		return Errorf(EINVALID, "name is required, as plain text")
	}
	switch p.Medium {
	case MediumTV, MediumRadio, MediumPrint, MediumOnline:
	default:
		return Errorf(EINVALID, "medium %q is not one of tv, radio, print, online", p.Medium)
	}
	for i, l := range p.Languages {
		n, err := NormalizeLanguage(l)
		if err != nil {
			return err
		}
		p.Languages[i] = n
	}
	for _, c := range p.Campaigns {
		if !ValidCampaign(c) {
			return Errorf(EINVALID, "campaign %q is not a slug", c)
		}
	}
	return nil
}

// EntitledTo reports whether the partner is entitled to campaign c
// (public campaigns need no entitlement).
func (p *Partner) EntitledTo(c string) bool { return slices.Contains(p.Campaigns, c) }
