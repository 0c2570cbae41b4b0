// Package ninjs renders packages as IPTC ninjs 2.2 items of type
// "composite", in two forms. The hub's package profile (Item) is the JSON
// that the API, NATS messages, webhooks, zips and hub pull share: ninjs
// with the hub's own fields (id, campaign, status, contentwarning,
// anonymized, translations; digests and flags on assets) unprefixed
// beside the ninjs ones, described by the JSON Schema ProfileSchema
// returns. The strict form (StrictItem) has ninjs's own fields only, for
// newsroom systems that validate what they ingest against IPTC's schema,
// which admits no other properties.
package ninjs

import (
	_ "embed"
	"net/url"
	"strconv"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// The package profile: its schema's $id, which every profile document
// names in standard.schema (and an announcement may name as its
// CloudEvents dataschema), and where every hub serves the schema. The $id
// is a name, the same on every hub, so that a reader can pin its copy;
// the path is the copy a running hub serves.
const (
	ProfileName       = "syndication-hub-package-profile"
	ProfileVersion    = "1"
	ProfileSchemaURL  = "https://syndication-hub.org/schemas/package-profile/1.json"
	ProfileSchemaPath = "/schemas/package-profile.json"
	// ProfileMediaType is what the schema is served as.
	ProfileMediaType = "application/schema+json"
)

//go:embed schema/profile.json
var profileSchema []byte

// ProfileSchema returns the package profile's JSON Schema (draft
// 2020-12). It is a copy: the caller may keep or change it.
func ProfileSchema() []byte { return append([]byte(nil), profileSchema...) }

// Standard is ninjs's note of which standard, version and schema a
// document follows.
type Standard struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Schema  string `json:"schema"`
}

// ProfileStandard is what every profile document says in standard.
func ProfileStandard() Standard {
	return Standard{Name: ProfileName, Version: ProfileVersion, Schema: ProfileSchemaURL}
}

// Item is a package in the hub's profile.
type Item struct {
	URI             string        `json:"uri"`
	Type            string        `json:"type"`
	Standard        Standard      `json:"standard"`
	Version         string        `json:"version"`
	VersionCreated  time.Time     `json:"versioncreated"`
	FirstCreated    time.Time     `json:"firstcreated"`
	PubStatus       string        `json:"pubstatus"`
	Embargoed       *time.Time    `json:"embargoed,omitempty"`
	Language        string        `json:"language"`
	Headlines       []hub.Text    `json:"headlines,omitempty"`
	Descriptions    []hub.Text    `json:"descriptions,omitempty"`
	Bodies          []hub.Text    `json:"bodies,omitempty"`
	Subjects        []hub.Subject `json:"subjects,omitempty"`
	Places          []hub.Place   `json:"places,omitempty"`
	By              string        `json:"by,omitempty"`
	CopyrightNotice string        `json:"copyrightnotice,omitempty"`
	UsageTerms      string        `json:"usageterms,omitempty"`
	Associations    []Association `json:"associations"`
	// Renditions holds the package's page, for people (HTMLRendition).
	Renditions []Rendition `json:"renditions,omitempty"`

	ID             string   `json:"id"`
	Campaign       string   `json:"campaign"`
	Status         string   `json:"status"`
	ContentWarning string   `json:"contentwarning,omitempty"`
	Anonymized     bool     `json:"anonymized"`
	Translations   []string `json:"translations,omitempty"`
}

// Association is one asset as a ninjs association. Besides the ninjs
// fields it repeats the original's content type, size and sha256 at the
// top, and the caption, credit and primary flag as producers set them:
// `hub pull` and `hub push` read them there (including copies already
// installed at outlets), and the asset calls answer with an Association.
// The strict form carries the same facts in ninjs's fields only.
type Association struct {
	Name         string      `json:"name"`
	URI          string      `json:"uri"`
	Type         string      `json:"type"`
	Language     string      `json:"language,omitempty"`
	Descriptions []hub.Text  `json:"descriptions,omitempty"`
	By           string      `json:"by,omitempty"`
	Renditions   []Rendition `json:"renditions"`

	ContentType string `json:"contenttype"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Caption     string `json:"caption,omitempty"`
	Credit      string `json:"credit,omitempty"`
	Primary     bool   `json:"primary"`
	// AltText describes a picture for people who cannot see it; Captions,
	// on a WebVTT or SRT file, names the video or audio it captions.
	AltText  string `json:"alttext,omitempty"`
	Captions string `json:"captions,omitempty"`
	// Scrub is how the stored bytes were scrubbed (hub.ScrubLevel).
	Scrub string `json:"scrub,omitempty"`
	// Received is what the client sent, when scrubbing changed it; only
	// producers' views carry it (released versions do not).
	Received *hub.Digest `json:"received,omitempty"`
	// Source, on a released version's picture, is the sha256 of the
	// stored bytes the release wrote its credit into (hub.Asset.Source).
	Source string `json:"source,omitempty"`
}

// Rendition is one stored form of an asset: the original, or one the hub
// made (a thumbnail, ...), which has a state; only a ready one has bytes.
type Rendition struct {
	Name        string  `json:"name"`
	Href        string  `json:"href,omitempty"`
	ContentType string  `json:"contenttype,omitempty"`
	Width       int     `json:"width,omitempty"`
	Height      int     `json:"height,omitempty"`
	Duration    float64 `json:"duration,omitempty"`
	SizeInBytes int64   `json:"sizeinbytes,omitempty"`
	SHA256      string  `json:"sha256,omitempty"`
	// State is pending, ready, failed or unavailable (the hub's); the
	// original has none.
	State  string `json:"state,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// RenditionURL is where rendition name of an asset is served.
func RenditionURL(base, id, asset, name string) string {
	return AssetURL(base, id, asset) + "?rendition=" + url.QueryEscape(name)
}

// WithRenditions adds to it the renditions the hub made of each asset,
// from sets by content sum; assets without a set keep their original
// only.
func WithRenditions(base string, it Item, id string, sets map[string]*hub.RenditionSet) Item {
	if len(sets) == 0 {
		return it
	}
	assocs := make([]Association, len(it.Associations))
	for i, a := range it.Associations {
		assocs[i] = a
		set := sets[a.SHA256]
		if set == nil {
			continue
		}
		assocs[i].Renditions = append([]Rendition(nil), a.Renditions...)
		for _, r := range set.Renditions {
			nr := Rendition{Name: r.Name, State: string(r.State), Reason: r.Reason}
			if r.State == hub.RenditionReady {
				nr.Href, nr.ContentType, nr.SizeInBytes, nr.SHA256 = RenditionURL(base, id, a.Name, r.Name), r.ContentType, r.Size, r.SHA256
				nr.Width, nr.Height, nr.Duration = r.Width, r.Height, r.Duration
			}
			assocs[i].Renditions = append(assocs[i].Renditions, nr)
		}
	}
	it.Associations = assocs
	return it
}

// PubStatus maps the hub's lifecycle onto ninjs pubstatus.
func PubStatus(s hub.Status) string {
	switch s {
	case hub.StatusReleased:
		return "usable"
	case hub.StatusWithdrawn, hub.StatusPurged:
		return "canceled"
	}
	return "withheld"
}

// PackageURL returns the absolute URL of a package under base.
func PackageURL(base string, id string) string {
	return base + "/v1/packages/" + id
}

// PageURL returns the absolute URL of package id's page in the portal
// under base: what a person opens, where PackageURL is for programs. It
// is stable: feeds link to it, and events carry it.
func PageURL(base, id string) string {
	return base + "/packages/" + id
}

// HTMLRendition is the name of the package-level rendition that is the
// package's page.
const HTMLRendition = "html"

// pageRenditions is the package's page as ninjs renditions; a purged
// package's page only says it is gone, and its document links nowhere.
func pageRenditions(base string, p *hub.Package) []Rendition {
	if p.Status == hub.StatusPurged {
		return nil
	}
	return []Rendition{{Name: HTMLRendition, Href: PageURL(base, p.ID), ContentType: "text/html"}}
}

// AssetURL returns the absolute download URL of an asset under base.
func AssetURL(base, id, name string) string {
	return PackageURL(base, id) + "/assets/" + url.PathEscape(name)
}

// FromPackage renders p with absolute links under base (HUB_PUBLIC_URL,
// without a trailing slash).
func FromPackage(base string, p *hub.Package) Item {
	it := Item{
		URI: PackageURL(base, p.ID), Type: "composite", Standard: ProfileStandard(), Version: strconv.Itoa(p.Version),
		VersionCreated: p.VersionCreated, FirstCreated: p.FirstCreated, PubStatus: PubStatus(p.Status),
		Language: p.Language, Headlines: p.Headlines, Descriptions: p.Descriptions, Bodies: p.Bodies,
		Subjects: p.Subjects, Places: p.Places, By: p.By, CopyrightNotice: p.CopyrightNotice,
		UsageTerms: p.UsageTerms, Associations: make([]Association, 0, len(p.Assets)),
		ID: p.ID, Campaign: p.Campaign, Status: string(p.Status), ContentWarning: p.ContentWarning,
		Anonymized: p.Anonymized, Translations: p.Translations, Renditions: pageRenditions(base, p),
	}
	if p.Status == hub.StatusScheduled {
		it.Embargoed = p.Embargo
	}
	for i := range p.Assets {
		it.Associations = append(it.Associations, FromAsset(base, p.ID, &p.Assets[i]))
	}
	return it
}

// FromAsset renders one asset of package id.
func FromAsset(base, id string, a *hub.Asset) Association {
	href := AssetURL(base, id, a.Name)
	as := Association{
		Name: a.Name, URI: href, Type: string(a.Type), Language: a.Language, By: a.Credit,
		Renditions:  []Rendition{{Name: "original", Href: href, ContentType: a.ContentType, SizeInBytes: a.Size, SHA256: a.SHA256}},
		ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256, Caption: a.Caption, Credit: a.Credit, Primary: a.Primary,
		Scrub: string(a.Scrub), Received: a.Received, AltText: a.AltText, Captions: a.Captions, Source: a.Source,
	}
	if a.Caption != "" {
		as.Descriptions = []hub.Text{{Role: "caption", Value: a.Caption}}
	}
	return as
}
