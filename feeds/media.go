package feeds

import "encoding/xml"

// Media RSS (https://www.rssboard.org/media-rss), the namespace newsroom
// tools read assets from. gorilla/feeds knows nothing of it, so the RSS and
// Atom documents wrap gorilla's item types and add these elements; the
// namespace is declared once, on the root, and the elements are written
// with its conventional prefix.
const (
	mediaNamespace = "http://search.yahoo.com/mrss/"
	// contentWarningScheme names the scheme of the media:rating that
	// carries a package's content warning. Media RSS ratings take any
	// scheme URI; the standard ones (urn:simple, urn:mpaa, urn:v-chip)
	// rate an audience, which a warning such as "describes violence" is
	// not, so it gets a scheme of its own and readers that know only the
	// standard ones skip it rather than misread it. media:description
	// stays the caption, and the item's summary leads with the warning
	// for people.
	contentWarningScheme = "urn:hub:contentwarning"
)

// mediaContent is one asset. Each asset has its own media:content
// directly in the item: media:group is for several renditions of one
// piece of media, and a package's poster and interview are different ones.
// The optional elements sit inside media:content because they differ per
// asset (caption, credit, language) or, when the package sets them for
// all (copyright, usage terms, warning), because a tool that takes one
// asset should find its terms with it.
type mediaContent struct {
	XMLName     xml.Name        `xml:"media:content"`
	URL         string          `xml:"url,attr"`
	Type        string          `xml:"type,attr,omitempty"`
	FileSize    int64           `xml:"fileSize,attr,omitempty"`
	Medium      string          `xml:"medium,attr,omitempty"`
	IsDefault   string          `xml:"isDefault,attr,omitempty"`
	Lang        string          `xml:"lang,attr,omitempty"`
	Title       *mediaText      `xml:"media:title"`
	Description *mediaText      `xml:"media:description"`
	Thumbnail   *mediaThumbnail `xml:"media:thumbnail"`
	Credit      string          `xml:"media:credit,omitempty"`
	Copyright   string          `xml:"media:copyright,omitempty"`
	License     string          `xml:"media:license,omitempty"`
	Rating      *mediaRating    `xml:"media:rating"`
}

// mediaText is a media:title or media:description in plain text.
type mediaText struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

type mediaThumbnail struct {
	URL string `xml:"url,attr"`
}

type mediaRating struct {
	Scheme string `xml:"scheme,attr"`
	Value  string `xml:",chardata"`
}

// mediaContents returns the media:content elements of an item: one per
// asset, none for a kill notice (its assets are no longer served).
func mediaContents(it item) []mediaContent {
	if it.kill {
		return nil
	}
	out := make([]mediaContent, 0, len(it.assets))
	for i := range it.assets {
		a := &it.assets[i]
		mc := mediaContent{
			URL: a.url, Type: a.contentType, FileSize: a.size, Medium: a.medium, Lang: a.language,
			Title: &mediaText{Type: "plain", Value: a.title}, Credit: a.credit,
			Copyright: it.copyright, License: it.usageTerms,
		}
		if a == it.enclosure {
			mc.IsDefault = "true"
		}
		if a.caption != "" {
			mc.Description = &mediaText{Type: "plain", Value: a.caption}
		}
		if a.thumbnail != "" {
			mc.Thumbnail = &mediaThumbnail{URL: a.thumbnail}
		}
		if it.warning != "" {
			mc.Rating = &mediaRating{Scheme: contentWarningScheme, Value: it.warning}
		}
		out = append(out, mc)
	}
	return out
}
