package feeds

import (
	"bytes"
	"encoding/json"
	"fmt"

	gorilla "github.com/gorilla/feeds"
)

// JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/), built directly
// on gorilla's JSONFeed and JSONItem. Two things are our own:
// attachments, because gorilla's JSONAttachment writes "size" (the spec
// says size_in_bytes) as an int32 (a broadcast master is larger), and the
// per-item language and _hub extension, which gorilla has no field for.

// jsonDocument is gorilla's feed with the items replaced (the shallower
// field wins in encoding/json).
type jsonDocument struct {
	*gorilla.JSONFeed
	Items []jsonItem `json:"items"`
}

type jsonItem struct {
	*gorilla.JSONItem
	Language    string           `json:"language,omitempty"`
	Attachments []jsonAttachment `json:"attachments,omitempty"`
	Hub         jsonHub          `json:"_hub"`
}

type jsonAttachment struct {
	URL         string `json:"url"`
	MIMEType    string `json:"mime_type"`
	Title       string `json:"title,omitempty"`
	SizeInBytes int64  `json:"size_in_bytes,omitempty"`
}

// jsonHub is the _hub extension of an item: what a newsroom tool needs
// beyond JSON Feed's fields, named as ninjs and the API name them.
type jsonHub struct {
	ID              string `json:"id"`
	Campaign        string `json:"campaign"`
	Status          string `json:"status"`
	ContentWarning  string `json:"contentwarning,omitempty"`
	CopyrightNotice string `json:"copyrightnotice,omitempty"`
	UsageTerms      string `json:"usageterms,omitempty"`
	// Primary is the attachment that stands for the package (its URL).
	Primary string `json:"primary,omitempty"`
}

const jsonFeedVersion = "https://jsonfeed.org/version/1.1"

func renderJSON(meta Meta, items []item) ([]byte, error) {
	doc := jsonDocument{
		JSONFeed: &gorilla.JSONFeed{
			Version: jsonFeedVersion, Title: meta.Title, Description: meta.Description, Language: meta.Language,
			HomePageUrl: meta.PublicURL + "/", FeedUrl: meta.SelfURL,
		},
		// An empty feed is "items": [], which the spec requires.
		Items: make([]jsonItem, 0, len(items)),
	}
	for _, it := range items {
		published := it.time
		ji := jsonItem{
			JSONItem: &gorilla.JSONItem{
				Id: it.guid, Url: it.link, Title: it.title, Summary: it.description(),
				// One of content_text and content_html is required,
				// also for a package with a headline and nothing else.
				ContentText:   it.content(),
				PublishedDate: &published,
				Tags:          it.tags,
			},
			Language: it.language,
			Hub: jsonHub{
				ID: it.id, Campaign: it.campaign, Status: string(it.status), ContentWarning: it.warning,
				CopyrightNotice: it.copyright, UsageTerms: it.usageTerms,
			},
		}
		if it.by != "" {
			ji.Authors = []*gorilla.JSONAuthor{{Name: it.by}}
		}
		if !it.kill {
			ji.Image = it.image
			for _, a := range it.assets {
				ji.Attachments = append(ji.Attachments, jsonAttachment{URL: a.url, MIMEType: a.contentType, Title: a.title, SizeInBytes: a.size})
			}
			if it.enclosure != nil {
				ji.Hub.Primary = it.enclosure.url
			}
		}
		doc.Items = append(doc.Items, ji)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	// Headlines keep their "<", ">" and "&" as written; JSON needs no
	// escaping of them outside a <script> element.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("write JSON Feed: %w", err)
	}
	return b.Bytes(), nil
}
