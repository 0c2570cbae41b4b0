package portal

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
	"github.com/syndication-hub/hub/portal/i18n"
)

// releasesPageSize is how many cards one page of the grid shows: four
// rows of three at the page's width.
const releasesPageSize = 24

// releasesData is the releases grid.
type releasesData struct {
	Cards     []releaseCard
	Campaigns []*hub.Campaign
	Languages []i18n.Lang
	Kinds     []hub.AssetType
	Filter    struct{ Campaign, Language, Kind, Q string }
	// Searching is set when the visitor searched (q): Results replace
	// the grid, ranked, and Problem names the message of a search that
	// could not be answered ("" when it was).
	Searching bool
	Results   []searchCard
	Problem   string
	// Limit is the page size asked for with ?limit (1 to
	// hub.MaxPageSize, as the API takes), 0 for releasesPageSize.
	Limit int
	// Next is the address of the following page, First that of the first
	// when this is a later one.
	Next, First string
}

// releaseCard is one package in the grid.
type releaseCard struct {
	ID, Headline, Campaign, Lang, LangName, Status string
	Date                                           time.Time
	Kinds                                          []string
	// Thumb is the thumbnail's address; without one, Placeholder says
	// why: "pending" (being made), "none", or "takendown".
	Thumb, ThumbAlt, Placeholder string
}

// searchCard is one search result: the package, and the passages of its
// text that matched, as plain parts the template marks up (escaped).
type searchCard struct {
	ID, Headline, Campaign, Lang, LangName, Status string
	Snippets                                       []hub.Snippet
}

// releases is the grid of what the visitor may read, newest first: the
// listing the API's GET /v1/packages answers, with its filters and
// cursor, as a plain GET form; with words to search for (q), the ranked
// results GET /v1/search answers instead.
func (p *Portal) releases(c echo.Context) error {
	k, err := p.signedIn(c)
	if k == nil {
		return err
	}
	ctx := c.Request().Context()
	var d releasesData
	d.Filter.Campaign, d.Filter.Language, d.Filter.Kind = c.QueryParam("campaign"), c.QueryParam("language"), c.QueryParam("kind")
	// An empty search box is no search: the grid's filter form sends it
	// whenever a filter changes.
	if words := c.QueryParam("q"); strings.TrimSpace(words) != "" {
		d.Filter.Q, d.Searching = words, true
	}
	q := hub.PackageQuery{Campaign: d.Filter.Campaign, After: c.QueryParam("cursor"), Limit: releasesPageSize}
	if s := c.QueryParam("limit"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= hub.MaxPageSize {
			q.Limit, d.Limit = n, n
		}
	}
	if d.Filter.Language != "" {
		if q.Language, err = hub.NormalizeLanguage(d.Filter.Language); err != nil {
			return p.fail(c, err)
		}
	}
	if d.Filter.Kind != "" {
		if q.Type, err = hub.ParseAssetType(d.Filter.Kind); err != nil {
			return p.fail(c, err)
		}
	}
	if d.Searching {
		return p.searchResults(c, k, d, q)
	}
	page, err := p.svc.Packages(ctx, k, q)
	if err != nil {
		return p.fail(c, err)
	}
	if d.Campaigns, err = p.svc.Campaigns(ctx, k); err != nil {
		return p.fail(c, err)
	}
	names := map[string]string{}
	for _, camp := range d.Campaigns {
		names[camp.Slug] = camp.Name
	}
	d.Languages, d.Kinds = i18n.Langs(), hub.AssetTypes
	for _, pkg := range page.Items {
		d.Cards = append(d.Cards, p.card(c, pkg, names))
	}
	filters := url.Values{}
	if d.Limit != 0 {
		filters.Set("limit", strconv.Itoa(d.Limit))
	}
	for name, v := range map[string]string{"campaign": d.Filter.Campaign, "language": d.Filter.Language, "kind": d.Filter.Kind} {
		if v != "" {
			filters.Set(name, v)
		}
	}
	if q.After != "" {
		d.First = "/releases"
		if len(filters) > 0 {
			d.First += "?" + filters.Encode()
		}
	}
	if page.Next != "" {
		filters.Set("cursor", page.Next)
		d.Next = "/releases?" + filters.Encode()
	}
	return p.render(c, http.StatusOK, "packages_releases", d)
}

// searchResults is the releases page with the ranked results of d's
// words under its filters (q, without its cursor: a search pages by its
// own). Words the domain refuses are a 400 with the form to correct
// them; an index still building a 503 saying to try again in seconds.
func (p *Portal) searchResults(c echo.Context, k *hub.Key, d releasesData, q hub.PackageQuery) error {
	ctx := c.Request().Context()
	var err error
	if d.Campaigns, err = p.svc.Campaigns(ctx, k); err != nil {
		return p.fail(c, err)
	}
	d.Languages, d.Kinds = i18n.Langs(), hub.AssetTypes
	names := map[string]string{}
	for _, camp := range d.Campaigns {
		names[camp.Slug] = camp.Name
	}
	page, err := p.svc.Search(ctx, k, hub.SearchRequest{Text: d.Filter.Q, Cursor: c.QueryParam("cursor"), Limit: releasesPageSize,
		Filters: hub.PackageQuery{Campaign: q.Campaign, Language: q.Language, Type: q.Type}})
	switch {
	case errors.Is(err, hub.ErrIndexBuilding):
		d.Problem = "releases.search.building"
		c.Response().Header().Set("Retry-After", "5")
		return p.render(c, http.StatusServiceUnavailable, "packages_releases", d)
	case hub.ErrorCode(err) == hub.EINVALID:
		d.Problem = "releases.search.invalid"
		return p.render(c, http.StatusBadRequest, "packages_releases", d)
	case err != nil:
		return p.fail(c, err)
	}
	for _, h := range page.Hits {
		sc := searchCard{ID: h.ID, Headline: h.Headline, Campaign: names[h.Facts.Campaign], Lang: h.Language,
			LangName: languageName(h.Language), Status: string(h.Facts.Status), Snippets: h.Snippets}
		if sc.Campaign == "" {
			sc.Campaign = h.Facts.Campaign
		}
		d.Results = append(d.Results, sc)
	}
	filters := url.Values{"q": {d.Filter.Q}}
	for name, v := range map[string]string{"campaign": d.Filter.Campaign, "language": d.Filter.Language, "kind": d.Filter.Kind} {
		if v != "" {
			filters.Set(name, v)
		}
	}
	if c.QueryParam("cursor") != "" {
		d.First = "/releases?" + filters.Encode()
	}
	if page.Next != "" {
		filters.Set("cursor", page.Next)
		d.Next = "/releases?" + filters.Encode()
	}
	return p.render(c, http.StatusOK, "packages_releases", d)
}

// card is pkg, which the visitor may see, as the grid shows it.
func (p *Portal) card(c echo.Context, pkg *hub.Package, campaignNames map[string]string) releaseCard {
	rc := releaseCard{ID: pkg.ID, Headline: firstText(pkg.Headlines, ""), Campaign: campaignNames[pkg.Campaign],
		Lang: pkg.Language, LangName: languageName(pkg.Language), Status: string(pkg.Status),
		Date: pkg.Changed().In(p.opts.Location), Placeholder: "none"}
	if rc.Campaign == "" {
		rc.Campaign = pkg.Campaign
	}
	for _, a := range pkg.Assets {
		if !slices.Contains(rc.Kinds, string(a.Type)) {
			rc.Kinds = append(rc.Kinds, string(a.Type))
		}
	}
	if pkg.Status == hub.StatusWithdrawn || pkg.Status == hub.StatusPurged {
		// Its files are no longer served: nothing to show but the notice.
		rc.Placeholder = "takendown"
		return rc
	}
	// The primary asset's thumbnail, else the first that has one planned.
	assets := slices.Clone(pkg.Assets)
	slices.SortStableFunc(assets, func(a, b hub.Asset) int {
		switch {
		case a.Primary == b.Primary:
			return 0
		case a.Primary:
			return -1
		}
		return 1
	})
	sets := p.svc.RenditionSets(c.Request().Context(), pkg)
	for _, a := range assets {
		if a.Type != hub.AssetPicture && a.Type != hub.AssetGraphic && a.Type != hub.AssetVideo {
			continue
		}
		set := sets[a.SHA256]
		if ready(set, "thumbnail") != nil {
			rc.Thumb, rc.ThumbAlt, rc.Placeholder = ninjs.RenditionURL("", pkg.ID, a.Name, "thumbnail"), a.AltText, ""
			return rc
		}
		if pending(set, "thumbnail") && rc.Placeholder == "none" {
			rc.Placeholder = "pending"
		}
	}
	return rc
}
