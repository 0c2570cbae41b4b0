package feeds_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/syndication-hub/hub/feeds"
	"github.com/syndication-hub/hub/hub"
)

// FuzzRender: headlines, descriptions, bodies, credits, captions, asset
// names and a partner's name are text producers and admins typed, any
// bytes. Every format renders as a document its parser reads (strict XML
// and gofeed for RSS and Atom, JSON for JSON Feed) with the one item,
// whose title is the headline as the format can carry it (characters XML
// or JSON cannot hold replaced by U+FFFD), and a purged package's
// rendering shows none of its texts.
func FuzzRender(f *testing.F) {
	f.Add("Домогательства на работе — это преступление", "Описание", "Текст\r\nстатьи", "Dobrye Vesti", "Плакат кампании.png", "Подпись", "Almaty TV", uint8(0))
	f.Add("<script>alert(1)</script> & ]]> \"'", "<![CDATA[x]]>", "\x00\x01\x1f\ufffe\uffff", "\xff\xfe", "a\"b.png", "&amp;", "]]>", uint8(1))
	f.Add("\u202eevil\u200b", "", "", "", "poster.png", "", "", uint8(2))
	f.Add(" spaced headline with tab\t", "\r", "\n\n", "", "x.pdf", "", "", uint8(0))
	base := hub.Package{ID: "01JD3Z8Q4VJ5K6XW0M2N7P9RST", Campaign: "korgau123", Language: "ru", Version: 1,
		VersionCreated: time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)}
	f.Fuzz(func(t *testing.T, headline, description, body, by, assetName, caption, partner string, status uint8) {
		p := base
		p.Status = []hub.Status{hub.StatusReleased, hub.StatusWithdrawn, hub.StatusPurged}[status%3]
		p.Headlines = []hub.Text{{Value: headline}}
		p.Descriptions = []hub.Text{{Value: description}}
		p.Bodies = []hub.Text{{Value: body}}
		p.By, p.ContentWarning, p.UsageTerms = by, caption, description
		p.Subjects = []hub.Subject{{Name: caption}}
		p.Assets = []hub.Asset{{Name: assetName, Type: hub.AssetPicture, ContentType: "image/png", Size: 10, Caption: caption, Credit: by}}
		meta := feeds.Meta{PublicURL: "https://hub.example.org", SelfURL: "https://hub.example.org/feeds/releases.rss",
			Title: "Syndication hub: releases for " + partner, Description: description}
		for _, format := range []feeds.Format{feeds.RSS, feeds.Atom, feeds.JSON} {
			out, err := feeds.Render(format, meta, []*hub.Package{&p})
			if err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			want := headline
			switch p.Status {
			case hub.StatusWithdrawn:
				want = "KILL: " + headline
			case hub.StatusPurged:
				want = ""
			}
			var title string
			if format == feeds.JSON {
				var doc struct {
					Items []struct {
						ID, Title string
						Hub       struct{ ID string } `json:"_hub"`
					}
				}
				if err := json.Unmarshal(out, &doc); err != nil {
					t.Fatalf("JSON Feed does not parse: %v\n%s", err, out)
				}
				if len(doc.Items) != 1 || doc.Items[0].Hub.ID != p.ID {
					t.Fatalf("JSON Feed items %+v", doc.Items)
				}
				title, want = doc.Items[0].Title, asJSON(want)
			} else {
				title = xmlItemTitle(t, format, out)
				want = asXML(want)
				parsed, err := gofeed.NewParser().ParseString(string(out))
				if err != nil {
					t.Fatalf("gofeed cannot parse the %s: %v\n%s", format, err, out)
				}
				if len(parsed.Items) != 1 {
					t.Fatalf("gofeed reads %d items in the %s", len(parsed.Items), format)
				}
			}
			switch {
			case p.Status == hub.StatusPurged:
				if !strings.Contains(title, p.ID) {
					t.Fatalf("%s: the purge notice's title %q does not name the package", format, title)
				}
				leaks(t, format, meta, out, p, headline, description, body, by, assetName, caption)
			case title != want:
				t.Fatalf("%s: title %q, want %q", format, title, want)
			}
		}
	})
}

// leaks fails when a purged package's rendering shows one of its texts
// that an empty package's purge notice, in the same feed, does not show
// anyway (the feed's own title and description are not the package's).
func leaks(t *testing.T, format feeds.Format, meta feeds.Meta, out []byte, p hub.Package, texts ...string) {
	t.Helper()
	empty := hub.Package{ID: p.ID, Campaign: p.Campaign, Language: p.Language, Version: p.Version, Status: hub.StatusPurged, VersionCreated: p.VersionCreated}
	baseline, _ := feeds.Render(format, meta, []*hub.Package{&empty})
	for _, s := range texts {
		for _, form := range []string{s, asXML(s), asJSON(s)} {
			if len(form) >= 12 && !bytes.Contains(baseline, []byte(form)) && bytes.Contains(out, []byte(form)) {
				t.Fatalf("%s: the purge notice shows %q", format, form)
			}
		}
	}
}

// xmlItemTitle reads the document strictly and returns the title of its
// one item (RSS) or entry (Atom).
func xmlItemTitle(t *testing.T, format feeds.Format, out []byte) string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(out))
	var path []string
	var title strings.Builder
	items := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("the %s is not well-formed XML: %v\n%s", format, err, out)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			path = append(path, tok.Name.Local)
			if tok.Name.Local == "item" || tok.Name.Local == "entry" {
				items++
			}
		case xml.EndElement:
			path = path[:len(path)-1]
		case xml.CharData:
			if len(path) >= 2 && path[len(path)-1] == "title" && (path[len(path)-2] == "item" || path[len(path)-2] == "entry") {
				title.Write(tok)
			}
		}
	}
	if items != 1 {
		t.Fatalf("the %s has %d items", format, items)
	}
	return title.String()
}

// asXML is s as XML can carry it: invalid UTF-8 and characters outside
// XML's Char production become U+FFFD, as encoding/xml writes them.
func asXML(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF {
			b.WriteRune(r)
		} else {
			b.WriteRune('\uFFFD')
		}
	}
	return b.String()
}

// asJSON is s as encoding/json writes it: invalid UTF-8 becomes U+FFFD.
func asJSON(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}
