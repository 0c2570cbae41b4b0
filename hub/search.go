package hub

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file is the search use case: full-text queries over what an
// audience may read, ranked, under the one visibility rule. The index
// itself (hub/search) is a replica's own, kept from the packages bucket;
// the domain asks it for candidates by their facts and then asks the
// catalog whether each is still what the rule lets the caller see.

// SearchIndex finds packages by their text. Search returns the documents
// that match q.Text and, by the facts the index holds (which may lag the
// catalog), the filter f and q.Filters, in the order q asks: by score, or
// with Newest by id newest first from q.Filters.After. A partner audience
// (f.Released) is matched against the live version's text only, others
// against the working copy's. More says whether hits beyond these exist.
// Returns ErrIndexBuilding until the index has caught up with the
// packages bucket as it was when the index opened.
type SearchIndex interface {
	Search(ctx context.Context, f Filter, q SearchQuery) (hits []SearchHit, more bool, err error)
	// Listed returns the facts the index holds package id's documents
	// by, for IndexShows. Returns ENOTFOUND for a package it has no
	// document of, ErrIndexBuilding while it catches up.
	Listed(ctx context.Context, id string) (ListingFacts, error)
}

// ErrIndexBuilding is the answer of a search while this replica's index
// catches up with the catalog (after a start, or while it rebuilds).
var ErrIndexBuilding = Errorf(EUNAVAILABLE, "index building: this replica's search index is catching up with the catalog; try again in a few seconds")

// SearchQuery is what Service asks a SearchIndex.
type SearchQuery struct {
	Text string
	// Filters are the request's own filters (campaign, language, status,
	// asset type); After is the cursor of a Newest query.
	Filters PackageQuery
	// Newest orders by id, newest first (a listing's q filter), rather
	// than by score.
	Newest bool
	// Offset skips that many hits of a ranked query; Limit bounds the hits.
	Offset int
	Limit  int
}

// SearchHit is one package a search found, with the facts its indexed
// text is of (the caller compares them with the catalog's current ones).
type SearchHit struct {
	ID       string
	Headline string
	Language string
	Score    float64
	Snippets []Snippet
	Facts    ListingFacts
}

// Snippet is a piece of a matched text with the matched words marked,
// kept as plain parts so that no caller ever has to trust markup made
// from a package's text: HTML escapes it.
type Snippet struct {
	// Field is the text it comes from: headline, description or text
	// (the body, captions, alt text, subjects and credits).
	Field string
	Parts []SnippetPart
}

// SnippetPart is a run of a snippet's text, marked when it matched.
type SnippetPart struct {
	Text string
	Mark bool
}

// HTML returns the snippet as HTML: its text escaped, the matched words
// in <mark>.
func (s Snippet) HTML() string {
	var b strings.Builder
	for _, p := range s.Parts {
		if p.Mark {
			b.WriteString("<mark>" + html.EscapeString(p.Text) + "</mark>")
		} else {
			b.WriteString(html.EscapeString(p.Text))
		}
	}
	return b.String()
}

// Search limits.
const (
	// MaxSearchText is the longest query, in characters.
	MaxSearchText = 200
	// MaxSearchWords bounds the words of a query: each is looked up in
	// every text field of every analyzer.
	MaxSearchWords    = 16
	DefaultSearchPage = 20
	MaxSearchPage     = 100
	// MaxSearchDepth is how far ranked results page: nobody reads the
	// thousandth result of a search, and each page costs the ones before.
	MaxSearchDepth = 1000
)

// ParseSearchText checks a query as a person typed it and returns it
// trimmed. Returns EINVALID for an empty, over-long or malformed one. The
// query is words, not a query language: nothing in it is an operator.
func ParseSearchText(q string) (string, error) {
	q = strings.TrimSpace(q)
	switch {
	case q == "":
		return "", Errorf(EINVALID, "q is required: the words to search for, such as \"домогательство\"")
	case !utf8.ValidString(q):
		return "", Errorf(EINVALID, "q is not valid UTF-8 text")
	case utf8.RuneCountInString(q) > MaxSearchText:
		return "", Errorf(EINVALID, "q is longer than %d characters; search for fewer words", MaxSearchText)
	}
	words, letters := 0, false
	inWord := false
	for _, r := range q {
		if unicode.IsControl(r) && r != '\t' {
			return "", Errorf(EINVALID, "q holds a control character; search for words")
		}
		isWord := unicode.IsLetter(r) || unicode.IsDigit(r)
		// A character of a script written without spaces is a term of its
		// own to the engine's tokenizer: it counts as a word, or 200 of
		// them would pass as one and cost 200 terms in every field.
		if isWord && (!inWord || unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)) {
			words++
		}
		inWord, letters = isWord, letters || isWord
	}
	switch {
	case !letters:
		return "", Errorf(EINVALID, "q has no word to search for: give letters or digits")
	case words > MaxSearchWords:
		return "", Errorf(EINVALID, "q has more than %d words; search for fewer", MaxSearchWords)
	}
	return q, nil
}

// SearchRequest is a search as a caller asks it: the words, its own
// filters (campaign, language, status, type), the cursor Next gave and a
// page size (0: DefaultSearchPage).
type SearchRequest struct {
	Text    string
	Filters PackageQuery
	Cursor  string
	Limit   int
}

// SearchPage is one page of ranked results; Next is the cursor of the
// following page, "" on the last.
type SearchPage struct {
	Hits []SearchHit
	Next string
}

// Search finds what k may read that matches req, best match first. Every
// hit the index offers is checked against the catalog's current facts by
// the same rule as listings (Filter.MatchesFacts) and dropped unless they
// are those its text was indexed from, so a package the index has not
// yet seen change (withdrawn, purged, moved out of reach) is never shown
// by what it said before. Returns EINVALID for a bad query, cursor or
// limit, ErrIndexBuilding while the index catches up, EUNAVAILABLE when
// the hub has no index.
func (s *Service) Search(ctx context.Context, k *Key, req SearchRequest) (SearchPage, error) {
	text, err := ParseSearchText(req.Text)
	if err != nil {
		return SearchPage{}, err
	}
	limit := req.Limit
	if limit == 0 {
		limit = DefaultSearchPage
	}
	if limit < 1 || limit > MaxSearchPage {
		return SearchPage{}, Errorf(EINVALID, "limit must be between 1 and %d", MaxSearchPage)
	}
	offset := 0
	if req.Cursor != "" {
		n, err := strconv.Atoi(req.Cursor)
		if err != nil || n < 1 || n >= MaxSearchDepth || strconv.Itoa(n) != req.Cursor {
			return SearchPage{}, Errorf(EINVALID, "the cursor %q is not one this hub gave out", req.Cursor)
		}
		offset = n
	}
	if s.search == nil {
		return SearchPage{}, Errorf(EUNAVAILABLE, "this hub has no search index")
	}
	a, err := s.Audience(ctx, k)
	if err != nil {
		return SearchPage{}, err
	}
	return s.searchAs(ctx, a, text, offset, limit, req.Filters)
}

// searchAs is Search for audience a, its request checked.
func (s *Service) searchAs(ctx context.Context, a Audience, text string, offset, limit int, filters PackageQuery) (SearchPage, error) {
	campaigns, err := s.catalog.Campaigns(ctx)
	if err != nil {
		return SearchPage{}, fmt.Errorf("list campaigns: %w", err)
	}
	f := a.ListingFilter(campaigns)
	filters.After, filters.Limit = "", 0
	var page SearchPage
	for offset < MaxSearchDepth {
		want := min(limit-len(page.Hits)+1, MaxSearchDepth-offset)
		hits, more, err := s.search.Search(ctx, f, SearchQuery{Text: text, Filters: filters, Offset: offset, Limit: want})
		if err != nil {
			return SearchPage{}, searchError(err)
		}
		for i, h := range hits {
			if len(page.Hits) == limit {
				// A hit beyond the page: the next page starts at it.
				page.Next = strconv.Itoa(offset + i)
				return page, nil
			}
			ok, err := s.stillShows(ctx, f, filters, h)
			if err != nil {
				return SearchPage{}, err
			}
			if ok {
				page.Hits = append(page.Hits, h)
			}
		}
		offset += len(hits)
		if !more || len(hits) == 0 {
			break
		}
	}
	return page, nil
}

// stillShows reports whether hit h may be shown under filter f and the
// request's filters q: the catalog's facts of it now are those its text
// was indexed from, and the rule matches them.
func (s *Service) stillShows(ctx context.Context, f Filter, q PackageQuery, h SearchHit) (bool, error) {
	facts, err := s.catalog.Listed(ctx, h.ID)
	if ErrorCode(err) == ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("check search hit %s: %w", h.ID, err)
	}
	if !f.MatchesFacts(facts, q) {
		return false, nil
	}
	facts.Pending = false
	return facts == h.Facts, nil
}

// searchListing is listPackages for a listing with a q filter: the
// packages whose text matches, newest first, each read from the catalog
// and checked by the rule once more.
func (s *Service) searchListing(ctx context.Context, a Audience, f Filter, bySlug map[string]*Campaign, q PackageQuery) (PackagePage, error) {
	text, err := ParseSearchText(q.Text)
	if err != nil {
		return PackagePage{}, err
	}
	if s.search == nil {
		return PackagePage{}, Errorf(EUNAVAILABLE, "this hub has no search index")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	filters := q
	filters.Text, filters.Limit = "", 0
	var page PackagePage
	// Hits the index shows but the catalog no longer does (an index
	// behind it) are skipped; at most MaxSearchDepth are looked at, so a
	// lagging index cannot make one request walk every match.
	for examined := 0; ; {
		if examined >= MaxSearchDepth {
			page.Next = filters.After // the last hit looked at: go on from there
			return page, nil
		}
		hits, more, err := s.search.Search(ctx, f, SearchQuery{Text: text, Filters: filters, Newest: true, Limit: limit - len(page.Items) + 1})
		examined += len(hits)
		if err != nil {
			return PackagePage{}, searchError(err)
		}
		for _, h := range hits {
			if len(page.Items) == limit {
				page.Next = page.Items[limit-1].ID
				return page, nil
			}
			filters.After = h.ID
			ok, err := s.stillShows(ctx, f, filters, h)
			if err != nil {
				return PackagePage{}, err
			}
			if !ok {
				continue
			}
			p, err := s.catalog.Package(ctx, h.ID)
			if ErrorCode(err) == ENOTFOUND {
				continue
			} else if err != nil {
				return PackagePage{}, fmt.Errorf("read search hit %s: %w", h.ID, err)
			}
			if !f.Matches(p, q) || !CanRead(a, bySlug[p.Campaign], p) {
				continue
			}
			page.Items = append(page.Items, s.viewOf(ctx, a, p))
		}
		if !more || len(hits) == 0 {
			return page, nil
		}
	}
}

// searchError passes ErrIndexBuilding and domain errors on and wraps the rest.
func searchError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("search: %w", err)
}
