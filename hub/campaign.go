package hub

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Visibility says who may see a campaign's released packages.
type Visibility string

// A public campaign's released packages are open to every partner and to
// anyone reading the public feeds: awareness campaigns want the widest
// reach. A partners campaign is for the partners entitled to it.
const (
	VisibilityPublic   Visibility = "public"
	VisibilityPartners Visibility = "partners"
)

// Campaign groups the packages of one campaign, in all its languages.
type Campaign struct {
	Slug       string     `json:"slug"`
	Name       string     `json:"name"`
	Visibility Visibility `json:"visibility"`
	Hashtags   []string   `json:"hashtags,omitempty"`
	Created    time.Time  `json:"created"`
}

// NewCampaign returns a campaign with the defaults a first package gets
// when it names a slug the hub does not know yet: public, named after
// its slug.
func NewCampaign(slug string, now time.Time) *Campaign {
	return &Campaign{Slug: slug, Name: slug, Visibility: VisibilityPublic, Created: now.UTC()}
}

// Validate checks a campaign's fields.
func (c *Campaign) Validate() error {
	if !ValidCampaign(c.Slug) {
		return Errorf(EINVALID, "slug %q is not a slug: use lowercase letters, digits and dashes", c.Slug)
	}
	if strings.TrimSpace(c.Name) == "" || !utf8.ValidString(c.Name) || strings.ContainsFunc(c.Name, isControlNotSpace) {
		return Errorf(EINVALID, "name is required, as plain text")
	}
	switch c.Visibility {
	case VisibilityPublic, VisibilityPartners:
	default:
		return Errorf(EINVALID, "visibility %q is not one of public, partners", c.Visibility)
	}
	for i, h := range c.Hashtags {
		if strings.TrimSpace(h) == "" || strings.ContainsAny(h, " \t\n") {
			return Errorf(EINVALID, "hashtags[%d] %q is not one hashtag", i, h)
		}
	}
	return nil
}
