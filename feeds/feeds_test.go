package feeds_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"

	"github.com/syndication-hub/hub/feeds"
	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs/ninjstest"
)

// update rewrites the golden files: go test ./feeds -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const base = "https://hub.example.org"

var released = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

// Fixture ids, sortable like the hub's own.
const (
	kkID     = "01JD3Z8Q4VJ5K6XW0M2N7P9RS1"
	ruID     = "01JD3Z8Q4VJ5K6XW0M2N7P9RS2"
	kyID     = "01JD3Z8Q4VJ5K6XW0M2N7P9RS3"
	purgedID = "01JD3Z8Q4VJ5K6XW0M2N7P9RS4"
	enID     = "01JD3Z8Q4VJ5K6XW0M2N7P9RS5"
)

// bigVideo is larger than an int32, which gorilla's JSONAttachment holds.
const bigVideo = 5 << 30

// fixture is one of each kind of item, as partners see them (partner
// views): a corrected Kazakh package with three assets, a content warning
// and a primary poster; a Russian one whose summary comes from its body;
// a withdrawn Kyrgyz one; a purged one; an English one whose headline has
// markup characters in its text.
func fixture() []*hub.Package {
	kk := &hub.Package{
		ID: kkID, Campaign: "korgau123", Language: "kk", Version: 2, Status: hub.StatusReleased,
		FirstCreated: released.Add(-48 * time.Hour), VersionCreated: released.Add(3 * time.Hour),
		Headlines:       []hub.Text{{Value: "Жұмыстағы қудалау — қылмыс"}},
		Descriptions:    []hub.Text{{Value: "Көмекке қайда жүгінуге болады: сенім телефондары мен заң кеңесі."}},
		Subjects:        []hub.Subject{{Name: "#korgau123"}},
		By:              "Dobrye Vesti",
		CopyrightNotice: "© Dobrye Vesti 2026",
		UsageTerms:      "Free to republish with credit",
		ContentWarning:  "Қудалау сипатталады.",
		Assets: []hub.Asset{
			{Name: "interview.mp4", Type: hub.AssetVideo, ContentType: "video/mp4", Size: bigVideo, Language: "kk"},
			{Name: "Плакат.png", Type: hub.AssetPicture, ContentType: "image/png", Size: 482113, Primary: true,
				Caption: "Кампания плакаты", Credit: "Айгерім Н.", Language: "kk"},
			{Name: "infographic.pdf", Type: hub.AssetGraphic, ContentType: "application/pdf", Size: 90211},
		},
	}
	ru := &hub.Package{
		ID: ruID, Campaign: "korgau123", Language: "ru", Version: 1, Status: hub.StatusReleased,
		FirstCreated: released.Add(-time.Hour), VersionCreated: released.Add(2 * time.Hour),
		Headlines: []hub.Text{{Value: "Домогательства на работе — это преступление"}},
		Bodies:    []hub.Text{{ContentType: "text/plain", Value: strings.Repeat("Куда обратиться, если это случилось с вами или с коллегой. ", 12)}},
		By:        "Добрые вести",
		Assets:    []hub.Asset{{Name: "подкаст.mp3", Type: hub.AssetAudio, ContentType: "audio/mpeg", Size: 12000000}},
	}
	ky := &hub.Package{
		ID: kyID, Campaign: "korgau123", Language: "ky", Version: 1, Status: hub.StatusWithdrawn,
		FirstCreated: released.Add(-time.Hour), VersionCreated: released.Add(time.Hour),
		Headlines: []hub.Text{{Value: "Жумушта куугунтуктоо — кылмыш"}},
		By:        "Dobrye Vesti",
		Assets:    []hub.Asset{{Name: "poster.png", Type: hub.AssetPicture, ContentType: "image/png", Size: 1000, Primary: true}},
	}
	purged := &hub.Package{
		ID: purgedID, Campaign: "survivors", Language: "ru", Version: 1, Status: hub.StatusPurged,
		FirstCreated: released.Add(-time.Hour), VersionCreated: released.Add(4 * time.Hour),
	}
	en := &hub.Package{
		ID: enID, Campaign: "korgau123", Language: "en", Version: 1, Status: hub.StatusReleased,
		FirstCreated: released.Add(-time.Hour), VersionCreated: released,
		Headlines:    []hub.Text{{Value: "Harassment & <b>you</b>"}},
		Descriptions: []hub.Text{{Value: "Where to get help: 1 < 2 & \"quotes\""}},
		Assets:       []hub.Asset{{Name: "leaflet.txt", Type: hub.AssetText, ContentType: "text/plain; charset=utf-8", Size: 2048}},
	}
	return []*hub.Package{en, ky, ru, kk, purged}
}

func meta(format feeds.Format) feeds.Meta {
	return feeds.Meta{
		PublicURL: base, SelfURL: base + "/feeds/releases." + string(format),
		Title: "Syndication hub: releases", Description: "Campaign media packages as they are released.",
	}
}

func render(t *testing.T, format feeds.Format) []byte {
	t.Helper()
	b, err := feeds.Render(format, meta(format), feeds.Select(fixture(), feeds.Filter{Limit: feeds.DefaultLimit}))
	if err != nil {
		t.Fatalf("render %s: %v", format, err)
	}
	return b
}

// TestRenderGolden pins the bytes of each format, so a change to what
// the feeds say shows up as a diff to review.
func TestRenderGolden(t *testing.T) {
	for _, format := range feeds.Formats {
		t.Run(string(format), func(t *testing.T) {
			got := render(t, format)
			path := filepath.Join("testdata", "releases."+string(format)+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run with -update after checking the change):\n%s", format, path, got)
			}
			if again := render(t, format); !bytes.Equal(again, got) {
				t.Error("rendering twice gives different bytes: replicas would disagree on the ETag")
			}
		})
	}
}

// TestRenderedXMLIsWellFormedUTF8 reads every token of the XML formats
// with a strict decoder, and checks the namespaces are declared once.
func TestRenderedXMLIsWellFormedUTF8(t *testing.T) {
	for _, format := range []feeds.Format{feeds.RSS, feeds.Atom} {
		t.Run(string(format), func(t *testing.T) {
			b := render(t, format)
			if !utf8.Valid(b) {
				t.Fatal("not valid UTF-8")
			}
			if !bytes.HasPrefix(b, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
				t.Errorf("no XML declaration with UTF-8: %.60s", b)
			}
			d := xml.NewDecoder(bytes.NewReader(b))
			d.Strict = true
			langs := map[string]bool{}
			for {
				tok, err := d.Token()
				if err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("not well-formed: %v", err)
				}
				if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "entry" {
					for _, a := range se.Attr {
						if a.Name.Space == "http://www.w3.org/XML/1998/namespace" && a.Name.Local == "lang" {
							langs[a.Value] = true
						}
					}
				}
			}
			if n := bytes.Count(b, []byte(`xmlns:media="http://search.yahoo.com/mrss/"`)); n != 1 {
				t.Errorf("the media namespace is declared %d times, want once", n)
			}
			if format == feeds.Atom && !(langs["kk"] && langs["ru"] && langs["ky"] && langs["en"]) {
				t.Errorf("entries' xml:lang: %v", langs)
			}
		})
	}
}

func parse(t *testing.T, b []byte) *gofeed.Feed {
	t.Helper()
	f, err := gofeed.NewParser().ParseString(string(b))
	if err != nil {
		t.Fatalf("gofeed cannot parse the feed: %v\n%s", err, b)
	}
	return f
}

// TestEveryFormatParses reads each format back with an independent
// parser and checks what a newsroom tool relies on.
func TestEveryFormatParses(t *testing.T) {
	wantTitles := []string{
		"KILL: package " + purgedID,
		"Жұмыстағы қудалау — қылмыс",
		"Домогательства на работе — это преступление",
		"KILL: Жумушта куугунтуктоо — кылмыш",
		"Harassment & <b>you</b>",
	}
	wantType := map[feeds.Format]string{feeds.RSS: "rss", feeds.Atom: "atom", feeds.JSON: "json"}
	for _, format := range feeds.Formats {
		t.Run(string(format), func(t *testing.T) {
			f := parse(t, render(t, format))
			if f.FeedType != wantType[format] {
				t.Errorf("parsed as %q", f.FeedType)
			}
			if f.Title != "Syndication hub: releases" {
				t.Errorf("feed title %q", f.Title)
			}
			var titles []string
			for _, it := range f.Items {
				titles = append(titles, it.Title)
			}
			if !slices.Equal(titles, wantTitles) {
				t.Fatalf("titles, newest first:\n got %q\nwant %q", titles, wantTitles)
			}
			purged, kk, ru, ky, en := f.Items[0], f.Items[1], f.Items[2], f.Items[3], f.Items[4]

			// guid: the package URI (with the id) and the version.
			if kk.GUID != base+"/v1/packages/"+kkID+"/versions/2" {
				t.Errorf("guid %q", kk.GUID)
			}
			if ky.GUID != base+"/v1/packages/"+kyID+"/versions/1#kill" || purged.GUID != base+"/v1/packages/"+purgedID+"#kill" {
				t.Errorf("kill notice guids %q, %q", ky.GUID, purged.GUID)
			}
			if kk.Link != base+"/packages/"+kkID { // the page a person reads
				t.Errorf("link %q", kk.Link)
			}
			if !strings.Contains(kk.Description, "Көмекке қайда жүгінуге болады") || !strings.Contains(kk.Description, "⚠ Қудалау сипатталады.") {
				t.Errorf("summary %q lacks the description or the warning", kk.Description)
			}
			if !strings.Contains(ru.Description, "Куда обратиться") || !strings.HasSuffix(strings.TrimSuffix(ru.Description, "</p>"), "…") {
				t.Errorf("summary from the body %q", ru.Description)
			}
			if !strings.Contains(en.Description, "1 &lt; 2") && !strings.Contains(en.Description, "1 < 2") {
				t.Errorf("summary with markup characters %q", en.Description)
			}
			if ru.PublishedParsed == nil || !ru.PublishedParsed.Equal(released.Add(2*time.Hour)) {
				t.Errorf("published %v", ru.PublishedParsed)
			}

			// The enclosure is the primary asset (all assets in JSON Feed,
			// whose attachments gofeed reads as enclosures).
			poster := base + "/v1/packages/" + kkID + "/assets/" + url.PathEscape("Плакат.png")
			if len(kk.Enclosures) == 0 {
				t.Fatal("no enclosure")
			}
			i := slices.IndexFunc(kk.Enclosures, func(e *gofeed.Enclosure) bool { return e.URL == poster })
			if i < 0 || kk.Enclosures[i].Length != "482113" || kk.Enclosures[i].Type != "image/png" {
				t.Errorf("enclosures %+v, want the poster with length and type", kk.Enclosures[0])
			}
			if format == feeds.JSON && len(kk.Enclosures) != 3 {
				t.Errorf("JSON attachments: %d, want one per asset", len(kk.Enclosures))
			}
			if format != feeds.JSON && len(kk.Enclosures) != 1 {
				t.Errorf("%d enclosures, want the primary asset only", len(kk.Enclosures))
			}
			for _, kill := range []*gofeed.Item{ky, purged} {
				if len(kill.Enclosures) != 0 || len(kill.Extensions["media"]) != 0 {
					t.Errorf("kill notice %q links assets: %v %v", kill.Title, kill.Enclosures, kill.Extensions["media"])
				}
				if !strings.Contains(kill.Description, "take it down") {
					t.Errorf("kill notice summary %q", kill.Description)
				}
			}
			if format == feeds.JSON {
				return
			}
			if !slices.Equal(kk.Categories, []string{"korgau123", "#korgau123"}) {
				t.Errorf("categories %q, want the campaign and the hashtag", kk.Categories)
			}
			checkMedia(t, kk)
			if len(ru.Extensions["media"]["content"]) != 1 || len(en.Extensions["media"]["content"]) != 1 {
				t.Error("every asset has a media:content")
			}
			if format == feeds.RSS {
				if kk.DublinCoreExt == nil || !slices.Equal(kk.DublinCoreExt.Language, []string{"kk"}) || !slices.Equal(kk.DublinCoreExt.Creator, []string{"Dobrye Vesti"}) {
					t.Errorf("dc extension %+v", kk.DublinCoreExt)
				}
			} else if kk.Author == nil || kk.Author.Name != "Dobrye Vesti" || ru.Author.Name != "Добрые вести" {
				t.Errorf("authors %+v %+v", kk.Author, ru.Author)
			}
		})
	}
}

// checkMedia checks the Media RSS of the Kazakh item, as gofeed reads it.
func checkMedia(t *testing.T, it *gofeed.Item) {
	t.Helper()
	contents := it.Extensions["media"]["content"]
	if len(contents) != 3 {
		t.Fatalf("%d media:content, want one per asset", len(contents))
	}
	byURL := map[string]map[string]string{}
	children := map[string]map[string][]string{}
	for _, c := range contents {
		byURL[c.Attrs["url"]] = c.Attrs
		kids := map[string][]string{}
		for name, exts := range c.Children {
			for _, e := range exts {
				v := e.Value
				if name == "thumbnail" {
					v = e.Attrs["url"]
				}
				if name == "rating" {
					v = e.Attrs["scheme"] + " " + e.Value
				}
				kids[name] = append(kids[name], v)
			}
		}
		children[c.Attrs["url"]] = kids
	}
	assetURL := func(name string) string { return base + "/v1/packages/" + kkID + "/assets/" + url.PathEscape(name) }
	poster, video, pdf := assetURL("Плакат.png"), assetURL("interview.mp4"), assetURL("infographic.pdf")
	for u, want := range map[string]map[string]string{
		poster: {"type": "image/png", "fileSize": "482113", "medium": "image", "lang": "kk", "isDefault": "true"},
		video:  {"type": "video/mp4", "fileSize": "5368709120", "medium": "video", "lang": "kk"},
		pdf:    {"type": "application/pdf", "fileSize": "90211", "medium": "document"},
	} {
		for k, v := range want {
			if byURL[u][k] != v {
				t.Errorf("%s: %s=%q, want %q", u, k, byURL[u][k], v)
			}
		}
	}
	for u, want := range map[string]map[string][]string{
		poster: {
			"title": {"Плакат.png"}, "description": {"Кампания плакаты"}, "thumbnail": {poster}, "credit": {"Айгерім Н."},
			"copyright": {"© Dobrye Vesti 2026"}, "license": {"Free to republish with credit"},
			"rating": {"urn:hub:contentwarning Қудалау сипатталады."},
		},
		// Without its own caption or credit: the package's byline, and the
		// poster as thumbnail.
		video: {"title": {"interview.mp4"}, "thumbnail": {poster}, "credit": {"Dobrye Vesti"},
			"copyright": {"© Dobrye Vesti 2026"}, "license": {"Free to republish with credit"},
			"rating": {"urn:hub:contentwarning Қудалау сипатталады."}},
	} {
		for k, v := range want {
			if !slices.Equal(children[u][k], v) {
				t.Errorf("%s: media:%s %q, want %q", u, k, children[u][k], v)
			}
		}
	}
	if _, ok := children[video]["description"]; ok {
		t.Error("an asset without a caption has a media:description")
	}
}

// TestJSONFeedExtension reads what gofeed does not: the _hub extension,
// the item language and attachment sizes beyond an int32.
func TestJSONFeedExtension(t *testing.T) {
	var doc struct {
		Version string
		Items   []struct {
			ID          string
			Language    string
			Attachments []struct {
				URL         string
				MIMEType    string `json:"mime_type"`
				SizeInBytes int64  `json:"size_in_bytes"`
			}
			Hub map[string]string `json:"_hub"`
		}
	}
	if err := json.Unmarshal(render(t, feeds.JSON), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "https://jsonfeed.org/version/1.1" {
		t.Errorf("version %q", doc.Version)
	}
	kk := doc.Items[1]
	if kk.Language != "kk" || kk.Hub["campaign"] != "korgau123" || kk.Hub["status"] != "released" ||
		kk.Hub["contentwarning"] != "Қудалау сипатталады." || kk.Hub["id"] != kkID {
		t.Errorf("item %+v", kk)
	}
	if kk.Attachments[0].SizeInBytes != bigVideo || kk.Attachments[0].MIMEType != "video/mp4" {
		t.Errorf("attachment %+v", kk.Attachments[0])
	}
	if ky := doc.Items[3]; ky.Hub["status"] != "withdrawn" || len(ky.Attachments) != 0 {
		t.Errorf("kill notice %+v", ky)
	}
	if p := doc.Items[0]; p.Hub["status"] != "purged" || p.Hub["id"] != purgedID {
		t.Errorf("purged %+v", p)
	}
}

func TestEmptyFeedsAreValid(t *testing.T) {
	for _, format := range feeds.Formats {
		b, err := feeds.Render(format, meta(format), nil)
		if err != nil {
			t.Fatal(err)
		}
		if f := parse(t, b); len(f.Items) != 0 {
			t.Errorf("%s: %d items", format, len(f.Items))
		}
		if format == feeds.JSON && !bytes.Contains(b, []byte(`"items": []`)) {
			t.Errorf("JSON Feed requires an items array: %s", b)
		}
	}
}

func TestSelect(t *testing.T) {
	ids := func(ps []*hub.Package) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	all := fixture()
	if got := ids(feeds.Select(all, feeds.Filter{Limit: 50})); !slices.Equal(got, []string{purgedID, kkID, ruID, kyID, enID}) {
		t.Errorf("newest first: %v", got)
	}
	if got := ids(feeds.Select(all, feeds.Filter{Limit: 2})); !slices.Equal(got, []string{purgedID, kkID}) {
		t.Errorf("limit 2: %v", got)
	}
	// A kind keeps the packages with such an asset, and purged ones.
	if got := ids(feeds.Select(all, feeds.Filter{Kind: hub.AssetVideo, Limit: 50})); !slices.Equal(got, []string{purgedID, kkID}) {
		t.Errorf("video: %v", got)
	}
	if got := ids(feeds.Select(all, feeds.Filter{Kind: hub.AssetPicture, Limit: 50})); !slices.Equal(got, []string{purgedID, kkID, kyID}) {
		t.Errorf("picture: %v", got)
	}
}

func TestParseFilter(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  feeds.Filter
		err   string
	}{
		{"", feeds.Filter{Limit: 50}, ""},
		{"campaign=korgau123&lang=KK&kind=video&limit=200&utm_source=x", feeds.Filter{Campaign: "korgau123", Language: "kk", Kind: hub.AssetVideo, Limit: 200}, ""},
		{"limit=1", feeds.Filter{Limit: 1}, ""},
		{"limit=0", feeds.Filter{}, "limit"},
		{"limit=201", feeds.Filter{}, "limit"},
		{"limit=-3", feeds.Filter{}, "limit"},
		{"limit=ten", feeds.Filter{}, "limit"},
		{"limit=", feeds.Filter{}, "limit"},
		{"kind=poster", feeds.Filter{}, "kind"},
		{"lang=not+a+tag", feeds.Filter{}, "language"},
	} {
		q, _ := url.ParseQuery(tc.query)
		got, err := feeds.ParseFilter(q)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.query, err)
		case tc.err != "" && (hub.ErrorCode(err) != hub.EINVALID || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want EINVALID about %s", tc.query, err, tc.err)
		case got != tc.want:
			t.Errorf("%q: %+v, want %+v", tc.query, got, tc.want)
		}
	}
	f := feeds.Filter{Campaign: "korgau123", Language: "kk", Kind: hub.AssetVideo, Limit: 50}
	if q := f.Query(); q != "campaign=korgau123&kind=video&lang=kk" {
		t.Errorf("canonical query %q", q)
	}
}

func TestParseFormat(t *testing.T) {
	for _, ext := range []string{"rss", "atom", "json"} {
		if _, err := feeds.ParseFormat(ext); err != nil {
			t.Error(err)
		}
	}
	for _, ext := range []string{"xml", "RSS", "", "rss2"} {
		if _, err := feeds.ParseFormat(ext); hub.ErrorCode(err) != hub.ENOTFOUND {
			t.Errorf("%q: %v, want ENOTFOUND", ext, err)
		}
	}
}

// TestJSONFeedItemsAlwaysHaveContent checks what JSON Feed 1.1 requires
// of every item, content_text or content_html, also for a package with a
// headline and no description or body.
func TestJSONFeedItemsAlwaysHaveContent(t *testing.T) {
	bare := &hub.Package{
		ID: "01JD3Z8Q4VJ5K6XW0M2N7P9RS6", Campaign: "korgau123", Language: "ru", Version: 1, Status: hub.StatusReleased,
		FirstCreated: released, VersionCreated: released.Add(5 * time.Hour),
		Headlines: []hub.Text{{Value: "Только заголовок"}},
		Assets:    []hub.Asset{{Name: "poster.png", Type: hub.AssetPicture, ContentType: "image/png", Size: 1000}},
	}
	b, err := feeds.Render(feeds.JSON, meta(feeds.JSON), append(fixture(), bare))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Items []struct {
			ID          string `json:"id"`
			ContentText string `json:"content_text"`
			ContentHTML string `json:"content_html"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Items) != len(fixture())+1 {
		t.Fatalf("%d items", len(doc.Items))
	}
	for _, it := range doc.Items {
		if it.ContentText == "" && it.ContentHTML == "" {
			t.Errorf("item %s has neither content_text nor content_html", it.ID)
		}
		if strings.Contains(it.ID, bare.ID) && it.ContentText != "Только заголовок" {
			t.Errorf("the headline-only item's content_text is %q, want its headline", it.ContentText)
		}
	}
	if bytes.Contains(b, []byte(`"summary": ""`)) {
		t.Error("an empty summary is written")
	}
}

// TestJSONFeedHubExtensionMatchesProfileSchema holds every item's _hub
// extension to its definition in the hub's package profile schema.
func TestJSONFeedHubExtensionMatchesProfileSchema(t *testing.T) {
	schema := ninjstest.ProfileDef(t, "jsonfeed-hub")
	var doc struct {
		Items []struct {
			ID  string          `json:"id"`
			Hub json.RawMessage `json:"_hub"`
		} `json:"items"`
	}
	if err := json.Unmarshal(render(t, feeds.JSON), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Items) != len(fixture()) {
		t.Fatalf("%d items", len(doc.Items))
	}
	for _, it := range doc.Items {
		schema.Assert(t, "the _hub extension of "+it.ID, it.Hub)
	}
	if schema.Check([]byte(`{"id": "01JD3Z8Q4VJ5K6XW0M2N7P9RS1", "campaign": "korgau123", "status": "released", "sha256": "x"}`)) == nil {
		t.Error("the schema accepts a field the extension does not have")
	}
}
