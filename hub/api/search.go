package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// searchRetry is the Retry-After, in seconds, of a search refused while
// the index builds: a catch-up after a restart takes seconds.
const searchRetry = 5

// searchResults is one page of ranked search results.
type searchResults struct {
	Items []searchResult `json:"items"`
	Next  string         `json:"next,omitempty"`
}

// searchResult is one package a search found: enough to show it in a
// list; GET /v1/packages/{id} has the rest.
type searchResult struct {
	ID       string          `json:"id"`
	Headline string          `json:"headline,omitempty"`
	Language string          `json:"language"`
	Campaign string          `json:"campaign"`
	Status   hub.Status      `json:"status"`
	Score    float64         `json:"score"`
	Snippets []searchSnippet `json:"snippets"`
}

// searchSnippet is a matched passage: HTML with the package's text
// escaped and the matched words in <mark>, safe to put in a page as is.
type searchSnippet struct {
	Field string `json:"field"`
	HTML  string `json:"html"`
}

func (a *API) search(c echo.Context) error {
	q, err := packageFilters(c, "search with q, filter with campaign, language, status and type, and page with cursor and limit", "q", "cursor", "limit")
	if err != nil {
		return err
	}
	req := hub.SearchRequest{Text: c.QueryParam("q"), Filters: q, Cursor: c.QueryParam("cursor")}
	if req.Limit, err = limitParam(c, hub.MaxSearchPage); err != nil {
		return err
	}
	page, err := a.svc.Search(c.Request().Context(), keyOf(c), req)
	if err != nil {
		return searchAnswer(c, err)
	}
	out := searchResults{Items: make([]searchResult, 0, len(page.Hits)), Next: page.Next}
	for _, h := range page.Hits {
		r := searchResult{ID: h.ID, Headline: h.Headline, Language: h.Language, Score: h.Score,
			Snippets: make([]searchSnippet, 0, len(h.Snippets))}
		r.Campaign, r.Status = h.Facts.Campaign, h.Facts.Status
		for _, s := range h.Snippets {
			r.Snippets = append(r.Snippets, searchSnippet{Field: s.Field, HTML: s.HTML()})
		}
		out.Items = append(out.Items, r)
	}
	if page.Next != "" {
		next := *c.Request().URL
		qs := next.Query()
		qs.Set("cursor", page.Next)
		next.RawQuery = qs.Encode()
		c.Response().Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, a.opts.PublicURL, next.RequestURI()))
	}
	return c.JSON(http.StatusOK, out)
}

// searchAnswer gives a search refused while the index builds its own
// Retry-After (a few seconds, not the minute of a dependency down).
func searchAnswer(c echo.Context, err error) error {
	if errors.Is(err, hub.ErrIndexBuilding) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(searchRetry))
	}
	return err
}

// limitParam is the request's limit query parameter, from 1 to most; 0
// when it is absent (the default page).
func limitParam(c echo.Context, most int) (int, error) {
	l := c.QueryParam("limit")
	if l == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > most {
		return 0, hub.Errorf(hub.EINVALID, "limit must be a number from 1 to %d", most)
	}
	return n, nil
}
