package portal

import (
	"html"
	"html/template"
	"mime"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
	"github.com/syndication-hub/hub/portal/i18n"
)

// smallPicture is the largest original a page shows in place of a web
// rendition that is not ready (yet, or at all): a poster of a few hundred
// kilobytes loads fine, a 40 MB TIFF scan does not.
const smallPicture = 2 << 20

// packageData is a package's page: what the domain let the visitor see,
// put in the shape the template shows.
type packageData struct {
	ID, Lang, Status   string
	Headline, Summary  string
	Body               template.HTML
	ContentWarning     string
	Credit, UsageTerms string
	Anonymized         bool
	Released           time.Time
	Draft, Scheduled   bool
	Embargo            *time.Time
	Withdrawn, Purged  bool
	WithdrawnAt        *time.Time
	Assets             []assetView
	Kinds              []string
	Zip                string
	Translations       []siblingView
	Snippet            string
	OG                 *openGraph
	// CanConfirm says the visitor's outlet is one expected to take the
	// package down, and Confirmed when it did (nil while it has not).
	CanConfirm bool
	Confirmed  *time.Time
	// Republish is the outlet's republication reports and form; nil for
	// visitors the domain takes no report from.
	Republish                 *republishView
	PageURL                   string
	HasPreviews, Downloadable bool
}

// assetView is one asset on the page: how to preview it and where to
// download it.
type assetView struct {
	Name, Type, Caption, Credit, AltText string
	SizeText                             string
	Download                             string
	// Image is a picture to show (the web rendition, a small original, or
	// a video's poster); Video and Audio are players' sources.
	Image, Video, VideoType, Poster, Audio, AudioType string
	Tracks                                            []trackView
	// Pending says a preview is still being made.
	Pending bool
}

// trackView is a WebVTT captions file of a video or audio.
type trackView struct{ Src, Lang, Label string }

// siblingView is a translation of the package.
type siblingView struct{ ID, Lang, LangName, Headline string }

// openGraph are the card tags a link to the page unfolds into on social
// networks and chats; every URL is absolute.
type openGraph struct {
	URL, Title, Description, Image, ImageAlt, Locale, SiteName string
}

// firstText is the first of texts with role (any role when none has it).
func firstText(texts []hub.Text, role string) string {
	for _, t := range texts {
		if t.Role == role {
			return t.Value
		}
	}
	if len(texts) > 0 {
		return texts[0].Value
	}
	return ""
}

// ready returns the rendition called name of set when it is ready.
func ready(set *hub.RenditionSet, name string) *hub.Rendition {
	if set == nil {
		return nil
	}
	if r := set.Rendition(name); r != nil && r.State == hub.RenditionReady {
		return r
	}
	return nil
}

// pending reports whether set's rendition name is still being made.
func pending(set *hub.RenditionSet, name string) bool {
	if set == nil {
		return true // planned, not recorded yet
	}
	r := set.Rendition(name)
	return r != nil && r.State == hub.RenditionPending
}

func baseType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	return mt
}

// browserShows lists the originals a browser shows or plays in place.
func browserShows(ct string) bool {
	switch baseType(ct) {
	case "image/jpeg", "image/png", "image/gif", "image/webp", "image/avif",
		"video/mp4", "video/webm", "video/ogg", "audio/mpeg", "audio/ogg", "audio/wav", "audio/mp4", "audio/x-m4a", "audio/aac",
		"audio/flac", "audio/webm":
		return true
	}
	return false
}

// packageView gathers the page of pkg, which the visitor may see, with
// the visitor's outlet's own part of it.
func (p *Portal) packageView(c echo.Context, pkg *hub.Package) packageData {
	v := visitorOf(c)
	ctx := c.Request().Context()
	d := packageData{
		ID: pkg.ID, Lang: pkg.Language, Status: string(pkg.Status),
		Headline: firstText(pkg.Headlines, ""), Summary: firstText(pkg.Descriptions, "summary"),
		ContentWarning: pkg.ContentWarning, UsageTerms: pkg.UsageTerms, Anonymized: pkg.Anonymized,
		Released: pkg.VersionCreated, Draft: pkg.Status == hub.StatusDraft, Scheduled: pkg.Status == hub.StatusScheduled,
		Withdrawn: pkg.Status == hub.StatusWithdrawn, Purged: pkg.Status == hub.StatusPurged, WithdrawnAt: pkg.Withdrawn,
		Zip: ninjs.PackageURL("", pkg.ID) + "/archive.zip", PageURL: ninjs.PageURL(p.opts.PublicURL, pkg.ID),
	}
	if d.Scheduled {
		d.Embargo = pkg.Embargo
	}
	d.Credit = strings.TrimSpace(strings.Join(slices.DeleteFunc([]string{pkg.By, pkg.CopyrightNotice},
		func(s string) bool { return strings.TrimSpace(s) == "" }), "\n"))
	if d.Withdrawn || d.Purged {
		// A kill notice: outlets must take it down, and one the domain
		// expected to confirms (outletParts).
		if d.Purged {
			d.Headline = ""
		}
		p.outletParts(c, pkg, &d)
		return d
	}
	for _, t := range pkg.Bodies {
		if isHTML(t.ContentType) {
			d.Body += sanitizeBody(t.Value)
		} else {
			d.Body += plainBody(t.Value)
		}
	}
	sets := p.svc.RenditionSets(ctx, pkg)
	tracks := map[string][]trackView{}
	for _, a := range pkg.Assets {
		if a.Captions != "" && baseType(a.ContentType) == "text/vtt" {
			lang := a.Language
			if lang == "" {
				lang = pkg.Language
			}
			tracks[a.Captions] = append(tracks[a.Captions], trackView{Src: ninjs.AssetURL("", pkg.ID, a.Name), Lang: lang, Label: a.Name})
		}
	}
	// The card's picture: the primary picture's web rendition, else the
	// first picture's, else a video's poster.
	var ogImage, ogAlt, ogPoster, ogPosterAlt string
	var ogPrimary bool
	for _, a := range pkg.Assets {
		set := sets[a.SHA256]
		orig := ninjs.AssetURL("", pkg.ID, a.Name)
		av := assetView{Name: a.Name, Type: string(a.Type), Caption: a.Caption, Credit: a.Credit, AltText: a.AltText,
			SizeText: sizeText(v.t, a.Size), Download: orig + "?download", Tracks: tracks[a.Name]}
		if !slices.Contains(d.Kinds, av.Type) {
			d.Kinds = append(d.Kinds, av.Type)
		}
		switch a.Type {
		case hub.AssetPicture, hub.AssetGraphic:
			switch web := ready(set, "web"); {
			case web != nil:
				av.Image = ninjs.RenditionURL("", pkg.ID, a.Name, "web")
			case a.Type == hub.AssetPicture && a.Size <= smallPicture && browserShows(a.ContentType):
				av.Image = orig
			default:
				av.Pending = pending(set, "web")
			}
			if ready(set, "web") != nil && (ogImage == "" || a.Primary && !ogPrimary) {
				ogImage, ogAlt, ogPrimary = av.Image, a.AltText, a.Primary
			}
		case hub.AssetVideo:
			if r := ready(set, "poster"); r != nil {
				av.Poster = ninjs.RenditionURL("", pkg.ID, a.Name, "poster")
				if ogPoster == "" {
					ogPoster, ogPosterAlt = av.Poster, a.AltText
				}
			}
			switch r := ready(set, "preview"); {
			case r != nil:
				av.Video, av.VideoType = ninjs.RenditionURL("", pkg.ID, a.Name, "preview"), r.ContentType
			case browserShows(a.ContentType):
				av.Video, av.VideoType = orig, baseType(a.ContentType)
			default:
				av.Pending = pending(set, "preview")
			}
		case hub.AssetAudio:
			if browserShows(a.ContentType) {
				av.Audio, av.AudioType = orig, baseType(a.ContentType)
			}
		}
		d.HasPreviews = d.HasPreviews || av.Image != "" || av.Video != "" || av.Audio != "" || av.Pending
		d.Assets = append(d.Assets, av)
	}
	d.Downloadable = len(d.Assets) > 0
	for _, id := range pkg.Translations {
		sib, err := p.svc.Package(ctx, readerKey(v), id)
		if err != nil {
			continue // the domain filtered the list; one gone since is left out
		}
		d.Translations = append(d.Translations, siblingView{ID: sib.ID, Lang: sib.Language, LangName: languageName(sib.Language),
			Headline: firstText(sib.Headlines, "")})
	}
	d.Snippet = republishSnippet(d, pkg)
	og := &openGraph{URL: d.PageURL, Title: d.Headline, Description: clip(d.Summary, 300), Locale: ogLocale(pkg.Language),
		SiteName: v.t.T("site.name")}
	if ogImage == "" {
		ogImage, ogAlt = ogPoster, ogPosterAlt
	}
	if ogImage != "" {
		og.Image, og.ImageAlt = p.opts.PublicURL+ogImage, ogAlt
	}
	d.OG = og
	p.outletParts(c, pkg, &d)
	return d
}

// sizeText is a file size as a person reads it: kilobytes under a
// megabyte, megabytes above, whole numbers in the visitor's grouping.
func sizeText(t *i18n.Printer, n int64) string {
	if n < 1<<20 {
		return t.T("pkg.size_kb", "n", t.Number(int(max(1, (n+512)>>10))))
	}
	return t.T("pkg.size_mb", "n", t.Number(int((n+1<<19)>>20)))
}

// clip shortens s to at most n runes, at a word when it can.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

// ogLocale is a package language as OpenGraph writes locales.
func ogLocale(lang string) string {
	switch lang {
	case "kk":
		return "kk_KZ"
	case "ky":
		return "ky_KG"
	case "ru":
		return "ru_RU"
	case "en":
		return "en_GB"
	}
	return strings.ReplaceAll(lang, "-", "_")
}

// languageName is a package language's name in itself, when it is one
// of the portal's; else its code.
func languageName(lang string) string {
	base, _, _ := strings.Cut(lang, "-")
	switch base {
	case "kk":
		return "Қазақша"
	case "ky":
		return "Кыргызча"
	case "ru":
		return "Русский"
	case "en":
		return "English"
	}
	return lang
}

// republishSnippet is HTML an outlet pastes into its article: the
// pictures with their alt text (src the file names, for the outlet to
// point at its own copies: the hub is no image host), the content warning
// first, the credit and usage terms, and the canonical link to the page.
func republishSnippet(d packageData, pkg *hub.Package) string {
	var b strings.Builder
	e := html.EscapeString
	b.WriteString(`<link rel="canonical" href="` + e(d.PageURL) + `">` + "\n")
	if d.ContentWarning != "" {
		b.WriteString(`<p class="content-warning"><strong>` + e(d.ContentWarning) + "</strong></p>\n")
	}
	for _, a := range pkg.Assets {
		if a.Type != hub.AssetPicture && a.Type != hub.AssetGraphic {
			continue
		}
		b.WriteString(`<figure>` + "\n" + `  <img src="` + e(a.Name) + `" alt="` + e(a.AltText) + `">` + "\n")
		if caption := strings.TrimSpace(strings.Join([]string{a.Caption, a.Credit}, " ")); caption != "" {
			b.WriteString("  <figcaption>" + e(caption) + "</figcaption>\n")
		}
		b.WriteString("</figure>\n")
	}
	if d.Credit != "" {
		b.WriteString("<p>" + strings.ReplaceAll(e(d.Credit), "\n", "<br>") + "</p>\n")
	}
	if d.UsageTerms != "" {
		b.WriteString("<p><small>" + e(d.UsageTerms) + "</small></p>\n")
	}
	b.WriteString(`<p><a href="` + e(d.PageURL) + `">` + e(d.Headline) + "</a></p>\n")
	return b.String()
}
