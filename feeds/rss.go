package feeds

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	gorilla "github.com/gorilla/feeds"
)

// RSS 2.0 (https://www.rssboard.org/rss-specification): gorilla builds the
// channel and its items; rssDocument wraps them to declare the namespaces
// once and to add per item what RSS itself lacks: Media RSS for every
// asset, and Dublin Core for the item's language and byline (RSS has a
// language per channel only, and its author element wants an e-mail).
const (
	atomNamespace = "http://www.w3.org/2005/Atom"
	dcNamespace   = "http://purl.org/dc/elements/1.1/"
)

// rssDocument is the <rss> root. It is gorilla's XmlFeed, so gorilla's
// WriteXML writes it.
type rssDocument struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	AtomNS  string     `xml:"xmlns:atom,attr"`
	DCNS    string     `xml:"xmlns:dc,attr"`
	MediaNS string     `xml:"xmlns:media,attr"`
	Channel rssChannel `xml:"channel"`
}

// FeedXml implements gorilla's XmlFeed.
func (d *rssDocument) FeedXml() any { return d }

// rssChannel is gorilla's channel with the items replaced by rssItems
// (the shallower field wins in encoding/xml, as in Go) and the
// atom:link rel="self" that validators ask of an RSS feed.
type rssChannel struct {
	*gorilla.RssFeed
	Self  atomSelfLink `xml:"atom:link"`
	Items []rssItem    `xml:"item"`
}

type atomSelfLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

// rssItem is gorilla's item with the extension elements after it.
type rssItem struct {
	*gorilla.RssItem
	// Categories replaces gorilla's single category: the campaign, then
	// the package's hashtags and topics.
	Categories []string       `xml:"category"`
	Language   string         `xml:"dc:language,omitempty"`
	Creator    string         `xml:"dc:creator,omitempty"`
	Media      []mediaContent `xml:"media:content"`
}

func renderRSS(meta Meta, items []item) ([]byte, error) {
	feed := &gorilla.Feed{
		Title:       meta.Title,
		Link:        &gorilla.Link{Href: meta.PublicURL + "/"},
		Description: meta.Description,
		Updated:     updated(items),
	}
	for _, it := range items {
		gi := &gorilla.Item{
			Title: it.title,
			Link:  &gorilla.Link{Href: it.link},
			// RSS descriptions are HTML; the summary is plain text, so it
			// is escaped to be shown as written.
			Description: rssDescription(it.description()),
			Id:          it.guid,
			IsPermaLink: "false",
			Created:     it.time,
		}
		if it.enclosure != nil {
			gi.Enclosure = &gorilla.Enclosure{Url: it.enclosure.url, Type: it.enclosure.contentType, Length: strconv.FormatInt(it.enclosure.size, 10)}
		}
		feed.Add(gi)
	}
	channel := (&gorilla.Rss{Feed: feed}).RssFeed()
	channel.Language = meta.Language
	channel.Generator = "syndication hub"
	doc := &rssDocument{
		Version: "2.0", AtomNS: atomNamespace, DCNS: dcNamespace, MediaNS: mediaNamespace,
		Channel: rssChannel{
			RssFeed: channel,
			Self:    atomSelfLink{Href: meta.SelfURL, Rel: "self", Type: "application/rss+xml"},
			Items:   make([]rssItem, 0, len(items)),
		},
	}
	for i, ri := range channel.Items {
		it := items[i]
		ri.PubDate = it.time.Format(time.RFC1123Z)
		doc.Channel.Items = append(doc.Channel.Items, rssItem{
			RssItem: ri, Categories: it.categories(), Language: it.language, Creator: it.by, Media: mediaContents(it),
		})
	}
	channel.Items = nil
	var b bytes.Buffer
	if err := gorilla.WriteXML(doc, &b); err != nil {
		return nil, fmt.Errorf("write RSS: %w", err)
	}
	return b.Bytes(), nil
}

// rssDescription turns plain text into the HTML an RSS description holds:
// escaped, with paragraphs kept.
func rssDescription(text string) string {
	if text == "" {
		return ""
	}
	paras := strings.Split(text, "\n\n")
	for i, p := range paras {
		paras[i] = "<p>" + html.EscapeString(p) + "</p>"
	}
	return strings.Join(paras, "")
}
