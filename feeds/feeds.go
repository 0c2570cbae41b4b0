// Package feeds renders released packages as RSS 2.0, Atom 1.0 and JSON
// Feed 1.1, built on gorilla/feeds, with Media RSS (the media: namespace)
// for every asset, and keeps the rendered bytes with a strong ETag until
// the release stream says they changed.
//
// One file per format (rss.go, atom.go, json.go) turns the same items
// (item.go) into its document; Render is the dispatcher. The HTTP side is
// Entry.Serve (304s and gzip), the cache is Cache, and Invalidator empties
// the cache on every replica when an announcement reaches the stream.
package feeds

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// Format is a feed format, named as the feed URLs' extensions name it.
type Format string

// The three formats every feed comes in.
const (
	RSS  Format = "rss"
	Atom Format = "atom"
	JSON Format = "json"
)

// Formats lists every format, in the order documentation shows them.
var Formats = []Format{RSS, Atom, JSON}

// ParseFormat returns the format named by a feed URL's extension.
// Returns ENOTFOUND for any other: /feeds/releases.xml is no feed.
func ParseFormat(ext string) (Format, error) {
	switch f := Format(ext); f {
	case RSS, Atom, JSON:
		return f, nil
	}
	return "", hub.Errorf(hub.ENOTFOUND, "there is no feed format %q; the feeds are releases.rss, releases.atom and releases.json", ext)
}

// ContentType returns the media type a feed of format f is served as.
func (f Format) ContentType() string {
	switch f {
	case Atom:
		return "application/atom+xml; charset=utf-8"
	case JSON:
		return "application/feed+json; charset=utf-8"
	}
	return "application/rss+xml; charset=utf-8"
}

// Item limits: a feed shows DefaultLimit items unless asked, and never
// more than MaxLimit, which keeps one rendering cheap and one response
// small enough for a reader that polls every few minutes.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Filter narrows a feed: to one campaign, one language, packages with an
// asset of one kind, packages whose text has the words of Q, and at most
// Limit items. Zero values mean "any".
type Filter struct {
	Campaign string
	Language string
	Kind     hub.AssetType
	Q        string
	Limit    int
}

// ParseFilter reads a filter from a feed URL's query parameters campaign,
// lang, kind, q and limit; other parameters (a reader's tracking tags) are
// ignored. Returns EINVALID for a malformed value or a limit out of range.
// Whether the campaign exists for the caller is the caller's question.
func ParseFilter(q url.Values) (Filter, error) {
	f := Filter{Campaign: q.Get("campaign"), Limit: DefaultLimit}
	if v := q.Get("lang"); v != "" {
		lang, err := hub.NormalizeLanguage(v)
		if err != nil {
			return Filter{}, err
		}
		f.Language = lang
	}
	if v := q.Get("kind"); v != "" {
		kind, err := hub.ParseAssetType(v)
		if err != nil {
			return Filter{}, hub.Errorf(hub.EINVALID, "kind %q is not one of picture, graphic, video, audio, text", v)
		}
		f.Kind = kind
	}
	if v, ok := q["q"]; ok {
		text, err := hub.ParseSearchText(v[0])
		if err != nil {
			return Filter{}, err
		}
		f.Q = text
	}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > MaxLimit {
			return Filter{}, hub.Errorf(hub.EINVALID, "limit %q is not a number from 1 to %d", v[0], MaxLimit)
		}
		f.Limit = n
	}
	return f, nil
}

// Query returns the filter as query parameters in one canonical form:
// the cache key, and the query of the feed's own URL.
func (f Filter) Query() string {
	q := url.Values{}
	if f.Campaign != "" {
		q.Set("campaign", f.Campaign)
	}
	if f.Kind != "" {
		q.Set("kind", string(f.Kind))
	}
	if f.Language != "" {
		q.Set("lang", f.Language)
	}
	if f.Q != "" {
		q.Set("q", f.Q)
	}
	if f.Limit != 0 && f.Limit != DefaultLimit {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q.Encode()
}

// Select picks a feed's items from the packages its audience may see, as
// it may see them (partner views: hub.PartnerView), in the feed order the
// domain decides (hub.FeedItems): newest change first, filtered by kind,
// at most f.Limit. The campaign and language filters are applied by the
// listing already.
func Select(packages []*hub.Package, f Filter) []*hub.Package {
	return hub.FeedItems(packages, f.Kind, f.Limit)
}

// Meta is what a feed says about itself.
type Meta struct {
	// PublicURL is the absolute base of every link (HUB_PUBLIC_URL),
	// without a trailing slash.
	PublicURL string
	// SelfURL is the feed's own absolute URL.
	SelfURL     string
	Title       string
	Description string
	// Language is set when every item is in it (a feed filtered by lang).
	Language string
	// Renditions are the items' assets' renditions by content sum: a
	// ready thumbnail (or a video's poster) is an asset's media:thumbnail.
	Renditions map[string]*hub.RenditionSet
}

// Render writes packages (as Select returns them) as a feed of format f.
// The output depends on nothing but its inputs (no clock), so every
// replica renders the same bytes and so the same ETag.
func Render(format Format, meta Meta, packages []*hub.Package) ([]byte, error) {
	meta.PublicURL = strings.TrimRight(meta.PublicURL, "/")
	items := make([]item, 0, len(packages))
	for _, p := range packages {
		items = append(items, newItem(meta.PublicURL, p, meta.Renditions))
	}
	switch format {
	case Atom:
		return renderAtom(meta, items)
	case JSON:
		return renderJSON(meta, items)
	case RSS:
		return renderRSS(meta, items)
	}
	_, err := ParseFormat(string(format))
	return nil, err
}

// updated is when a feed last changed as far as its items tell: the
// newest item's time, or the Unix epoch for an empty feed (Atom requires
// a time, and a clock reading would make the bytes differ per replica).
func updated(items []item) time.Time {
	var t time.Time
	for _, it := range items {
		if it.time.After(t) {
			t = it.time
		}
	}
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return t.UTC()
}
