package feeds

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	gorilla "github.com/gorilla/feeds"
)

// Atom 1.0 (RFC 4287): gorilla builds the feed and its entries;
// atomDocument wraps them to declare the Media RSS namespace once, to
// give the feed both its alternate and its self link, and to add to each
// entry its language (xml:lang) and a media:content per asset.

// atomDocument is the <feed> root (its element name comes from gorilla's
// AtomFeed). It is gorilla's XmlFeed, so gorilla's WriteXML writes it.
type atomDocument struct {
	*gorilla.AtomFeed
	MediaNS string             `xml:"xmlns:media,attr"`
	Links   []gorilla.AtomLink `xml:"link"`
	Entries []atomEntry        `xml:"entry"`
}

// FeedXml implements gorilla's XmlFeed.
func (d *atomDocument) FeedXml() any { return d }

// atomEntry is gorilla's entry with the extensions after it.
type atomEntry struct {
	*gorilla.AtomEntry
	Lang string `xml:"xml:lang,attr,omitempty"`
	// Categories replaces gorilla's, which writes the name as text where
	// Atom wants it in a term attribute.
	Categories []atomCategory `xml:"category"`
	Media      []mediaContent `xml:"media:content"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

func renderAtom(meta Meta, items []item) ([]byte, error) {
	feed := &gorilla.Feed{
		Title:       meta.Title,
		Link:        &gorilla.Link{Href: meta.SelfURL},
		Description: meta.Description,
		// Atom wants an author for every entry; the feed's stands in for
		// a package without a byline.
		Author:  &gorilla.Author{Name: "Syndication hub"},
		Updated: updated(items),
	}
	for _, it := range items {
		gi := &gorilla.Item{
			Title:       it.title,
			Link:        &gorilla.Link{Href: it.link},
			Description: it.description(),
			Id:          it.guid,
			Updated:     it.time,
		}
		if it.by != "" {
			gi.Author = &gorilla.Author{Name: it.by}
		}
		if it.enclosure != nil {
			gi.Enclosure = &gorilla.Enclosure{Url: it.enclosure.url, Type: it.enclosure.contentType, Length: strconv.FormatInt(it.enclosure.size, 10)}
		}
		feed.Add(gi)
	}
	af := (&gorilla.Atom{Feed: feed}).AtomFeed()
	doc := &atomDocument{
		AtomFeed: af,
		MediaNS:  mediaNamespace,
		Links: []gorilla.AtomLink{
			{Href: meta.PublicURL + "/", Rel: "alternate", Type: "text/html"},
			{Href: meta.SelfURL, Rel: "self", Type: "application/atom+xml"},
		},
		Entries: make([]atomEntry, 0, len(items)),
	}
	// The feed's id is its own URL: stable for as long as the feed exists.
	af.Id = meta.SelfURL
	af.Link = nil
	for i, e := range af.Entries {
		it := items[i]
		// The summary is plain text; gorilla marks it html, which would
		// make readers interpret a "<" in a headline's text as markup.
		if e.Summary != nil {
			e.Summary.Type = "text"
		}
		e.Published = it.time.Format(time.RFC3339)
		entry := atomEntry{AtomEntry: e, Lang: it.language, Media: mediaContents(it)}
		for _, c := range it.categories() {
			entry.Categories = append(entry.Categories, atomCategory{Term: c})
		}
		doc.Entries = append(doc.Entries, entry)
	}
	af.Entries = nil
	var b bytes.Buffer
	if err := gorilla.WriteXML(doc, &b); err != nil {
		return nil, fmt.Errorf("write Atom: %w", err)
	}
	return b.Bytes(), nil
}
