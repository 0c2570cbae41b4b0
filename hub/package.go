package hub

import (
	"maps"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status is where a package stands in its lifecycle.
type Status string

// The lifecycle: a draft is edited freely; a scheduled package waits for its
// embargo; a released one is visible to the partners entitled to it (edits
// to it make a revision, released as a correction); a withdrawn one must
// be taken down by everyone who republished it; a purged one is gone but
// for a tombstone, because someone in it withdrew their consent.
const (
	StatusDraft     Status = "draft"
	StatusScheduled Status = "scheduled"
	StatusReleased  Status = "released"
	StatusWithdrawn Status = "withdrawn"
	StatusPurged    Status = "purged"
)

// Package is one campaign package in one language: headlines, texts,
// credits and usage terms, and the media assets that go with them. Its
// sibling packages in other languages are listed in Translations.
type Package struct {
	ID              string     `json:"id"`
	Campaign        string     `json:"campaign"`
	Language        string     `json:"language"`
	Version         int        `json:"version"`
	Status          Status     `json:"status"`
	FirstCreated    time.Time  `json:"firstcreated"`
	VersionCreated  time.Time  `json:"versioncreated"`
	Embargo         *time.Time `json:"embargo,omitempty"`
	Headlines       []Text     `json:"headlines,omitempty"`
	Descriptions    []Text     `json:"descriptions,omitempty"`
	Bodies          []Text     `json:"bodies,omitempty"`
	Subjects        []Subject  `json:"subjects,omitempty"`
	Places          []Place    `json:"places,omitempty"`
	By              string     `json:"by,omitempty"`
	CopyrightNotice string     `json:"copyrightnotice,omitempty"`
	UsageTerms      string     `json:"usageterms,omitempty"`
	ContentWarning  string     `json:"contentwarning,omitempty"`
	Anonymized      bool       `json:"anonymized,omitempty"`
	Translations    []string   `json:"translations,omitempty"`
	Assets          []Asset    `json:"assets,omitempty"`

	// Live is the version partners see: a copy of the package as it was
	// last released, kept in the same catalog entry as the working copy
	// so one revision check covers both. nil before the first release.
	Live *Package `json:"live,omitempty"`
	// Pending is an announcement recorded with the state change that
	// caused it and cleared once published: the outbox a reconciler
	// drains after a crash.
	Pending *Announcement `json:"pending,omitempty"`
	// Uploads are the uploads into this package still running, by upload
	// id, with the time each last said it was alive. Kept in the package
	// entry so a release sees them under the same revision check.
	Uploads map[string]time.Time `json:"uploads,omitempty"`
	// Withdrawn is when the kill notice went out; feeds order by it.
	Withdrawn *time.Time `json:"withdrawn,omitempty"`
	// WasReleased marks a purged package's tombstone when the package had
	// been released: only then may partners learn it existed.
	WasReleased bool `json:"wasreleased,omitempty"`
	// Blobs lists the content (by SHA-256) this package holds a reference
	// to, in any version, so a purge can let go of every byte.
	Blobs []string `json:"blobs,omitempty"`
}

// Text is a piece of text in the package's language, as ninjs carries
// headlines, descriptions and bodies.
type Text struct {
	Role        string `json:"role,omitempty"`
	ContentType string `json:"contenttype,omitempty"`
	Value       string `json:"value"`
}

// Subject is a hashtag or topic the package is about.
type Subject struct {
	Name string `json:"name,omitempty"`
	URI  string `json:"uri,omitempty"`
	Code string `json:"code,omitempty"`
	Rel  string `json:"rel,omitempty"`
}

// Place is a region the package concerns.
type Place struct {
	Name string `json:"name,omitempty"`
	URI  string `json:"uri,omitempty"`
	Code string `json:"code,omitempty"`
}

// Asset returns the asset called name, or nil.
func (p *Package) Asset(name string) *Asset {
	for i := range p.Assets {
		if p.Assets[i].Name == name {
			return &p.Assets[i]
		}
	}
	return nil
}

// HasAssetType reports whether any asset of p is of type t.
func (p *Package) HasAssetType(t AssetType) bool {
	for _, a := range p.Assets {
		if a.Type == t {
			return true
		}
	}
	return false
}

// Changed returns when the package last changed as partners see it: its
// withdrawal, or the release of its live version.
func (p *Package) Changed() time.Time {
	if p.Withdrawn != nil {
		return *p.Withdrawn
	}
	return p.VersionCreated
}

// Clone returns a deep copy, so a caller can change it without touching a
// value shared with an index.
func (p *Package) Clone() *Package {
	c := *p
	if p.Embargo != nil {
		e := *p.Embargo
		c.Embargo = &e
	}
	if p.Withdrawn != nil {
		w := *p.Withdrawn
		c.Withdrawn = &w
	}
	if p.Uploads != nil {
		c.Uploads = maps.Clone(p.Uploads)
	}
	c.Headlines = append([]Text(nil), p.Headlines...)
	c.Descriptions = append([]Text(nil), p.Descriptions...)
	c.Bodies = append([]Text(nil), p.Bodies...)
	c.Subjects = append([]Subject(nil), p.Subjects...)
	c.Places = append([]Place(nil), p.Places...)
	c.Translations = append([]string(nil), p.Translations...)
	c.Assets = append([]Asset(nil), p.Assets...)
	c.Blobs = append([]string(nil), p.Blobs...)
	if p.Live != nil {
		c.Live = p.Live.Clone()
	}
	if p.Pending != nil {
		a := *p.Pending
		c.Pending = &a
	}
	return &c
}

var (
	campaignPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	// A BCP 47 tag as newsrooms write them: "ru", "kk", "ky", "en-GB", "sr-Latn".
	languagePattern = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)
)

// ValidCampaign reports whether s is a campaign slug: lowercase letters,
// digits and dashes, starting with a letter or digit, at most 63 long.
func ValidCampaign(s string) bool { return campaignPattern.MatchString(s) }

// NormalizeLanguage returns the canonical form of a BCP 47 language tag
// (lowercase language, as ninjs examples write it) or EINVALID.
func NormalizeLanguage(s string) (string, error) {
	if !languagePattern.MatchString(s) {
		return "", Errorf(EINVALID, "language %q is not a BCP 47 language tag such as \"ru\", \"kk\", \"ky\" or \"en\"", s)
	}
	// Canonical case, as BCP 47 recommends: "kk-Cyrl-KZ", "en-GB".
	parts := strings.Split(s, "-")
	parts[0] = strings.ToLower(parts[0])
	for i := 1; i < len(parts); i++ {
		switch len(parts[i]) {
		case 4:
			parts[i] = strings.ToUpper(parts[i][:1]) + strings.ToLower(parts[i][1:])
		case 2:
			parts[i] = strings.ToUpper(parts[i])
		default:
			parts[i] = strings.ToLower(parts[i])
		}
	}
	return strings.Join(parts, "-"), nil
}

// Validate checks the fields a producer sets. It does not look at the
// fields the hub owns (id, status, version, timestamps).
func (p *Package) Validate() error {
	if p.Campaign == "" {
		return Errorf(EINVALID, "campaign is required: the slug of the campaign this package belongs to, such as \"korgau123\"")
	}
	if !ValidCampaign(p.Campaign) {
		return Errorf(EINVALID, "campaign %q is not a slug: use lowercase letters, digits and dashes", p.Campaign)
	}
	if p.Language == "" {
		return Errorf(EINVALID, "language is required: a package holds one language; link other languages through translations")
	}
	lang, err := NormalizeLanguage(p.Language)
	if err != nil {
		return err
	}
	p.Language = lang
	for field, texts := range map[string][]Text{"headlines": p.Headlines, "descriptions": p.Descriptions, "bodies": p.Bodies} {
		for i, t := range texts {
			if strings.TrimSpace(t.Value) == "" {
				return Errorf(EINVALID, "%s[%d].value is empty", field, i)
			}
			if !utf8.ValidString(t.Value) {
				return Errorf(EINVALID, "%s[%d].value is not valid UTF-8", field, i)
			}
		}
	}
	for i, id := range p.Translations {
		if !ValidID(id) {
			return Errorf(EINVALID, "translations[%d] %q is not a package id", i, id)
		}
		if id == p.ID {
			return Errorf(EINVALID, "translations[%d] names the package itself", i)
		}
	}
	for _, s := range []struct{ name, v string }{
		{"by", p.By}, {"copyrightnotice", p.CopyrightNotice}, {"usageterms", p.UsageTerms}, {"contentwarning", p.ContentWarning},
	} {
		if !utf8.ValidString(s.v) || strings.ContainsFunc(s.v, isControlNotSpace) {
			return Errorf(EINVALID, "%s contains control characters or invalid UTF-8", s.name)
		}
	}
	return nil
}

func isControlNotSpace(r rune) bool {
	return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r'
}
