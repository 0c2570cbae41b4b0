package ninjs

import (
	"net/url"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// The strict form: plain ninjs 2.2, which IPTC's schema for it accepts as
// it is. It is offered as StrictMediaType on the package and version
// calls, as StrictFileName in zips and in hub pull's package folders.
const (
	StrictMediaType = "application/ninjs+json"
	StrictFileName  = "ninjs.json"
	StrictName      = "ninjs"
	StrictVersion   = "2.2"
	StrictSchemaURL = "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json"
)

// StrictStandard is what every strict document says in standard.
func StrictStandard() Standard {
	return Standard{Name: StrictName, Version: StrictVersion, Schema: StrictSchemaURL}
}

// contentWarningNote leads the editorial note that carries a package's
// content warning in the strict form: ninjs has no field for a warning,
// and ednote is its note to the receiving newsroom, which is who has to
// show the warning to readers.
const contentWarningNote = "Content warning: "

// StrictItem is a package in ninjs's own fields only. What ninjs has no
// field for (the hub's id, campaign and status, anonymized, translations,
// digests, the primary flag) is left out: the id is the last segment of
// uri, and pubstatus says what status means to an outlet.
type StrictItem struct {
	URI             string              `json:"uri"`
	Type            string              `json:"type"`
	Standard        Standard            `json:"standard"`
	Version         string              `json:"version"`
	VersionCreated  time.Time           `json:"versioncreated"`
	FirstCreated    time.Time           `json:"firstcreated"`
	PubStatus       string              `json:"pubstatus"`
	Embargoed       *time.Time          `json:"embargoed,omitempty"`
	Language        string              `json:"language"`
	Headlines       []hub.Text          `json:"headlines,omitempty"`
	Descriptions    []hub.Text          `json:"descriptions,omitempty"`
	Bodies          []hub.Text          `json:"bodies,omitempty"`
	Subjects        []StrictConcept     `json:"subjects,omitempty"`
	Places          []StrictConcept     `json:"places,omitempty"`
	By              string              `json:"by,omitempty"`
	CopyrightNotice string              `json:"copyrightnotice,omitempty"`
	UsageTerms      string              `json:"usageterms,omitempty"`
	EdNote          string              `json:"ednote,omitempty"`
	Associations    []StrictAssociation `json:"associations,omitempty"`
	// Renditions holds the package's page, for people.
	Renditions []StrictRendition `json:"renditions,omitempty"`
}

// StrictConcept is a subject or a place as ninjs has them. The hub's code
// goes in literal, ninjs's "identifier as a free-text string".
type StrictConcept struct {
	Name    string `json:"name,omitempty"`
	Rel     string `json:"rel,omitempty"`
	URI     string `json:"uri,omitempty"`
	Literal string `json:"literal,omitempty"`
}

// StrictAssociation is one asset: its caption is the description with
// role caption, its credit is by.
type StrictAssociation struct {
	Name         string            `json:"name"`
	URI          string            `json:"uri"`
	Type         string            `json:"type"`
	Language     string            `json:"language,omitempty"`
	Descriptions []hub.Text        `json:"descriptions,omitempty"`
	By           string            `json:"by,omitempty"`
	Renditions   []StrictRendition `json:"renditions,omitempty"`
}

// StrictRendition is one stored form of an asset. ninjs 2.2 has no field
// for a digest, so the SHA-256 stays in the profile.
type StrictRendition struct {
	Name        string  `json:"name"`
	Href        string  `json:"href"`
	ContentType string  `json:"contenttype,omitempty"`
	Width       int     `json:"width,omitempty"`
	Height      int     `json:"height,omitempty"`
	Duration    float64 `json:"duration,omitempty"`
	SizeInBytes int64   `json:"sizeinbytes,omitempty"`
}

// Strict turns a profile document into the strict form. It works from the
// profile, not from the package, so that hub pull makes the same document
// from what the hub sent as the hub makes itself.
func Strict(it Item) StrictItem {
	s := StrictItem{
		URI: it.URI, Type: it.Type, Standard: StrictStandard(), Version: it.Version,
		VersionCreated: it.VersionCreated, FirstCreated: it.FirstCreated, PubStatus: it.PubStatus,
		Embargoed: it.Embargoed, Language: it.Language, Headlines: it.Headlines, Descriptions: it.Descriptions,
		Bodies: it.Bodies, By: it.By, CopyrightNotice: it.CopyrightNotice, UsageTerms: it.UsageTerms,
	}
	if it.ContentWarning != "" {
		s.EdNote = contentWarningNote + it.ContentWarning
	}
	for _, sub := range it.Subjects {
		s.Subjects = append(s.Subjects, concept(sub.Name, sub.Rel, sub.URI, sub.Code))
	}
	for _, pl := range it.Places {
		s.Places = append(s.Places, concept(pl.Name, "", pl.URI, pl.Code))
	}
	for _, r := range it.Renditions {
		s.Renditions = append(s.Renditions, StrictRendition{Name: r.Name, Href: r.Href, ContentType: r.ContentType})
	}
	for _, a := range it.Associations {
		sa := StrictAssociation{Name: a.Name, URI: a.URI, Type: a.Type, Language: a.Language, Descriptions: a.Descriptions, By: a.By}
		for _, r := range a.Renditions {
			if r.State != "" && r.State != string(hub.RenditionReady) {
				continue // ninjs has no word for a rendition still to come
			}
			sa.Renditions = append(sa.Renditions, StrictRendition{Name: r.Name, Href: r.Href, ContentType: r.ContentType,
				Width: r.Width, Height: r.Height, Duration: r.Duration, SizeInBytes: r.SizeInBytes})
		}
		s.Associations = append(s.Associations, sa)
	}
	captionLinks(&s, it)
	return s
}

// captionLinks adds each caption file to the renditions of the video or
// audio it captions. ninjs 2.2 has no link between two associations (the
// profile's captions field is one; ninjs 2.3 adds renditions' resources),
// and a timed-text form of a video's words is one of its renditions.
func captionLinks(s *StrictItem, it Item) {
	for _, c := range it.Associations {
		if c.Captions == "" {
			continue
		}
		var orig *Rendition
		for i := range c.Renditions {
			if c.Renditions[i].Name == "original" {
				orig = &c.Renditions[i]
			}
		}
		for i := range s.Associations {
			a := &s.Associations[i]
			if a.Name != c.Captions || orig == nil {
				continue
			}
			// The caption file's own association says its language.
			a.Renditions = append(a.Renditions, StrictRendition{Name: "captions-" + c.Name, Href: orig.Href,
				ContentType: orig.ContentType, SizeInBytes: orig.SizeInBytes})
		}
	}
}

// StrictFromPackage renders p in the strict form, with absolute links
// under base.
func StrictFromPackage(base string, p *hub.Package) StrictItem {
	return Strict(FromPackage(base, p))
}

// concept maps a subject or place. ninjs wants uri to be an absolute URI;
// the hub takes whatever producers write there, so anything else moves to
// literal (when code has not taken it) rather than make the document
// invalid.
func concept(name, rel, uri, code string) StrictConcept {
	c := StrictConcept{Name: name, Rel: rel, Literal: code}
	if u, err := url.Parse(uri); uri != "" && err == nil && u.IsAbs() {
		c.URI = uri
	} else if uri != "" && c.Literal == "" {
		c.Literal = uri
	}
	return c
}
