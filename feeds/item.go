package feeds

import (
	"mime"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
)

// item is one package as every format shows it; the format files only
// decide where each field goes.
type item struct {
	id       string
	guid     string
	title    string
	summary  string
	link     string
	language string
	time     time.Time // when this version was released (or the package purged)
	status   hub.Status
	kill     bool
	campaign string
	warning  string
	by       string
	// copyright and usage terms are the package's, and apply to every asset.
	copyright  string
	usageTerms string
	tags       []string
	assets     []asset
	// enclosure is the primary asset, nil for a kill notice.
	enclosure *asset
	// image is the primary picture, for JSON Feed's image and for the
	// thumbnail of assets that are no picture themselves.
	image string
}

// asset is one asset with its absolute URL and its Media RSS medium.
type asset struct {
	url         string
	name        string
	contentType string
	size        int64
	medium      string
	language    string
	caption     string
	credit      string
	primary     bool
	thumbnail   string
	// title is the alt text of a picture when its producers wrote one (a
	// reader shows it to people who cannot see the picture), else its
	// file name.
	title string
}

// killPrefix starts the title of every kill notice: the word newsrooms'
// wire software has long used for "take this down", the same in every
// language so that a desk or a filter can rely on it.
const killPrefix = "KILL: "

// Kill notice texts. A withdrawn package keeps its headline; a purged one
// keeps nothing but its id, because someone in it withdrew their consent.
const (
	withdrawnSummary = "WITHDRAWN. Outlets that republished this package must take it down now; its assets are no longer served."
	purgedSummary    = "PURGED at the request of a person in it. Outlets that republished this package must take it down and delete every copy, including the assets."
)

// summaryRunes bounds a summary taken from a body, since feed readers
// show a summary in a list.
const summaryRunes = 400

// newItem builds the item for package p, as its audience sees it.
func newItem(base string, p *hub.Package, renditions map[string]*hub.RenditionSet) item {
	uri := ninjs.PackageURL(base, p.ID)
	version := strconv.Itoa(p.Version)
	it := item{
		// The link is the package's page, which a person can read (a
		// feed reader opens it); the guid stays the package URI's.
		id: p.ID, link: ninjs.PageURL(base, p.ID), language: p.Language, time: p.Changed().UTC(), status: p.Status,
		campaign: p.Campaign, warning: p.ContentWarning, by: p.By,
		copyright: p.CopyrightNotice, usageTerms: p.UsageTerms,
		// The package URI holds the id; the version makes a correction a
		// new item that readers show as an update.
		guid: uri + "/versions/" + version,
	}
	for _, s := range p.Subjects {
		if s.Name != "" {
			it.tags = append(it.tags, s.Name)
		}
	}
	switch p.Status {
	case hub.StatusPurged:
		it.kill = true
		it.guid = uri + "#kill"
		it.title = killPrefix + "package " + p.ID
		it.summary = purgedSummary
		it.warning, it.by, it.copyright, it.usageTerms, it.tags = "", "", "", "", nil
		return it
	case hub.StatusWithdrawn:
		// A kill notice has its own guid, so readers that showed the
		// release show the notice as a new item instead of ignoring it.
		it.kill = true
		it.guid += "#kill"
		it.title = killPrefix + headline(p)
		it.summary = withdrawnSummary
		return it
	}
	it.title = headline(p)
	it.summary = summary(p)
	for i := range p.Assets {
		it.assets = append(it.assets, newAsset(base, p, &p.Assets[i], renditions[p.Assets[i].SHA256]))
	}
	primary := -1
	for i, a := range it.assets {
		if a.primary {
			primary = i
			break
		}
	}
	if primary < 0 && len(it.assets) > 0 {
		primary = 0 // no asset marked primary: the first one stands for the package
	}
	if primary >= 0 {
		it.enclosure = &it.assets[primary]
	}
	it.image = pictureURL(it.assets, primary)
	for i := range it.assets {
		if it.assets[i].thumbnail == "" {
			it.assets[i].thumbnail = it.image
		}
	}
	return it
}

// description is the summary as readers show it: led by the content
// warning when there is one, so a person sees the warning before the text.
func (it item) description() string {
	if it.warning == "" {
		return it.summary
	}
	if it.summary == "" {
		return "⚠ " + it.warning
	}
	return "⚠ " + it.warning + "\n\n" + it.summary
}

// content is the item's text for a format that requires one (JSON Feed
// requires content_text or content_html): the description, else the
// headline, as a released package always has one even without a summary.
func (it item) content() string {
	if d := it.description(); d != "" {
		return d
	}
	return it.title
}

// categories are the campaign and the package's hashtags and topics.
func (it item) categories() []string {
	return append([]string{it.campaign}, it.tags...)
}

// headline is the package's first headline, or its id when it has none
// (a released package always has one; this keeps the title non-empty).
func headline(p *hub.Package) string {
	if len(p.Headlines) > 0 {
		return p.Headlines[0].Value
	}
	return "package " + p.ID
}

// summary is the package's first description, else the start of its
// first plain-text body.
func summary(p *hub.Package) string {
	if len(p.Descriptions) > 0 {
		return p.Descriptions[0].Value
	}
	for _, b := range p.Bodies {
		if b.ContentType == "" || strings.HasPrefix(b.ContentType, "text/plain") {
			return truncate(b.Value, summaryRunes)
		}
	}
	return ""
}

// truncate shortens s to at most n runes, at a space when there is one
// near the end, with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	cut := n
	for i := n; i > n*3/4; i-- {
		if unicode.IsSpace(r[i]) {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(r[:cut]), unicode.IsSpace) + "…"
}

// newAsset describes asset a of package p. Its thumbnail is the one the
// hub made of it (a video's from its poster frame) once ready; until
// then a picture is its own, and other assets get the package's picture
// later, in newItem.
func newAsset(base string, p *hub.Package, a *hub.Asset, set *hub.RenditionSet) asset {
	out := asset{
		url: ninjs.AssetURL(base, p.ID, a.Name), name: a.Name, contentType: a.ContentType, size: a.Size,
		medium: medium(a), language: a.Language, caption: a.Caption, credit: a.Credit, primary: a.Primary,
	}
	if out.credit == "" {
		out.credit = p.By
	}
	out.title = a.Name
	if a.AltText != "" {
		out.title = a.AltText
	}
	if out.medium == "image" {
		out.thumbnail = out.url
	}
	if set != nil {
		if r := set.Rendition("thumbnail"); r != nil && r.State == hub.RenditionReady {
			out.thumbnail = ninjs.RenditionURL(base, p.ID, a.Name, r.Name)
		}
	}
	return out
}

// medium maps an asset type onto Media RSS's medium attribute.
func medium(a *hub.Asset) string {
	switch a.Type {
	case hub.AssetPicture:
		return "image"
	case hub.AssetGraphic:
		if mt, _, _ := mime.ParseMediaType(a.ContentType); strings.HasPrefix(mt, "image/") {
			return "image"
		}
		return "document"
	case hub.AssetVideo:
		return "video"
	case hub.AssetAudio:
		return "audio"
	}
	return "document"
}

// pictureURL returns the URL of the primary asset when it is an image,
// else of the first image, else "".
func pictureURL(assets []asset, primary int) string {
	if primary >= 0 && assets[primary].medium == "image" {
		return assets[primary].url
	}
	for _, a := range assets {
		if a.medium == "image" {
			return a.url
		}
	}
	return ""
}
