package search

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"strings"

	"github.com/blevesearch/bleve/v2"
	htmlhl "github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/syndication-hub/hub/hub"
)

// Search answers hub.SearchIndex: the documents of the kind f's audience
// reads (the live version for partners, the working copy for others)
// whose text matches q.Text, pre-filtered by the facts they were indexed
// with. The caller checks each hit against the catalog's current facts.
func (x *Index) Search(ctx context.Context, f hub.Filter, q hub.SearchQuery) (_ []hub.SearchHit, _ bool, err error) {
	if err := x.usable(); err != nil {
		return nil, false, err
	}
	defer x.recoverSearch(&err)
	if q.Limit <= 0 || !f.AllCampaigns && len(f.Campaigns) == 0 {
		return nil, false, nil
	}
	bq := query.NewBooleanQuery(nil, nil, nil)
	bq.AddMust(textQuery(q.Text))
	bq.AddFilter(factsQuery(f, q.Filters))
	req := bleve.NewSearchRequestOptions(bq, q.Limit, q.Offset, false)
	req.Fields = []string{fieldPackage, fieldFacts, fieldHeadline, fieldLanguage}
	if q.Newest {
		req.SortBy([]string{"-" + fieldPackage})
		if q.Filters.After != "" {
			req.SearchAfter = []string{q.Filters.After}
		}
	} else {
		req.Highlight = bleve.NewHighlightWithStyle(htmlhl.Name)
		for _, fam := range families {
			for _, g := range []string{groupHeadline, groupDescription, groupText} {
				req.Highlight.AddField(fam + "." + g)
			}
		}
	}
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, hub.Errorf(hub.ECANCELED, "the search was canceled")
		}
		return nil, false, fmt.Errorf("search index: %w", err)
	}
	hits := make([]hub.SearchHit, 0, len(res.Hits))
	for _, m := range res.Hits {
		h := hub.SearchHit{ID: packageOf(m.ID), Score: m.Score}
		h.Headline, _ = m.Fields[fieldHeadline].(string)
		h.Language, _ = m.Fields[fieldLanguage].(string)
		raw, _ := m.Fields[fieldFacts].(string)
		if err := json.Unmarshal([]byte(raw), &h.Facts); err != nil {
			x.log.Error("search index: document without readable facts; left out", "doc", m.ID, "err", err)
			continue
		}
		for _, g := range []string{groupHeadline, groupDescription, groupText} {
			for _, fam := range families {
				for _, frag := range m.Fragments[fam+"."+g] {
					h.Snippets = append(h.Snippets, snippet(groupName[g], frag))
				}
			}
		}
		hits = append(hits, h)
	}
	return hits, len(res.Hits) == q.Limit, nil
}

var groupName = map[string]string{groupHeadline: "headline", groupDescription: "description", groupText: "text"}

// textQuery matches the words in every text field, each analyzed as the
// field's family asks, a headline match weighing most.
func textQuery(text string) query.Query {
	var qs []query.Query
	for _, fam := range families {
		for _, g := range []string{groupHeadline, groupDescription, groupText} {
			for _, an := range queryAnalyzers[fam] {
				m := query.NewMatchQuery(text)
				m.SetField(fam + "." + g)
				m.Analyzer = an
				m.SetBoost(groupBoost[g])
				qs = append(qs, m)
			}
		}
	}
	return query.NewDisjunctionQuery(qs)
}

// factsQuery is the filter's and the request's filters' query form on
// the facts the documents were indexed with: the pre-filter, never the
// rule (the caller asks the rule of every hit).
func factsQuery(f hub.Filter, q hub.PackageQuery) query.Query {
	kind := kindWorking
	if f.Released {
		kind = kindLive
	}
	must := []query.Query{term(fieldKind, kind)}
	if !f.AllCampaigns {
		must = append(must, anyTerm(fieldCampaign, f.Campaigns))
	}
	if f.Statuses != nil {
		var ss []string
		for _, s := range f.Statuses {
			ss = append(ss, string(s))
		}
		must = append(must, anyTerm(fieldStatus, ss))
	}
	if q.Status != "" {
		must = append(must, term(fieldStatus, string(q.Status)))
	}
	if q.Campaign != "" {
		must = append(must, term(fieldCampaign, q.Campaign))
	}
	if q.Language != "" {
		must = append(must, term(fieldLanguage, q.Language))
	}
	if q.Type != "" {
		must = append(must, term(fieldTypes, string(q.Type)))
	}
	return query.NewConjunctionQuery(must)
}

func term(field, value string) query.Query {
	t := query.NewTermQuery(value)
	t.SetField(field)
	return t
}

func anyTerm(field string, values []string) query.Query {
	var qs []query.Query
	for _, v := range values {
		qs = append(qs, term(field, v))
	}
	return query.NewDisjunctionQuery(qs)
}

// snippet turns a fragment of bleve's HTML highlighter into parts. That
// highlighter escapes the text it quotes (html.EscapeString on both the
// text around and the matched words) and adds nothing but <mark> and
// </mark>, so those are the only markup in a fragment; the parts are
// unescaped to plain text, for hub.Snippet.HTML to escape again.
func snippet(field, frag string) hub.Snippet {
	s := hub.Snippet{Field: field}
	for frag != "" {
		before, rest, found := strings.Cut(frag, "<mark>")
		if before != "" {
			s.Parts = append(s.Parts, hub.SnippetPart{Text: html.UnescapeString(before)})
		}
		if !found {
			break
		}
		marked, after, _ := strings.Cut(rest, "</mark>")
		if marked != "" {
			s.Parts = append(s.Parts, hub.SnippetPart{Text: html.UnescapeString(marked), Mark: true})
		}
		frag = after
	}
	return s
}

// Listed answers hub.SearchIndex: the facts package id's working copy
// was indexed with.
func (x *Index) Listed(ctx context.Context, id string) (_ hub.ListingFacts, err error) {
	if err := x.usable(); err != nil {
		return hub.ListingFacts{}, err
	}
	defer x.recoverSearch(&err)
	doc, err := x.idx.Document(docID(kindWorking, id))
	if err != nil {
		return hub.ListingFacts{}, fmt.Errorf("search index: read %s: %w", id, err)
	}
	if doc == nil {
		return hub.ListingFacts{}, hub.Errorf(hub.ENOTFOUND, "the search index has no package %s", id)
	}
	var f hub.ListingFacts
	var ferr error
	doc.VisitFields(func(fl index.Field) {
		if fl.Name() == fieldFacts {
			ferr = json.Unmarshal(fl.Value(), &f)
		}
	})
	if ferr != nil {
		return hub.ListingFacts{}, fmt.Errorf("search index: facts of %s: %w", id, ferr)
	}
	return f, nil
}

// usable returns why the index cannot answer now, or nil.
func (x *Index) usable() error {
	if why := x.failed.Load(); why != nil {
		return hub.Errorf(hub.EUNAVAILABLE, "this replica's search index failed (%s); it resumes when the replica restarts", *why)
	}
	if !x.ready.Load() {
		return hub.ErrIndexBuilding
	}
	return nil
}

// recoverSearch turns a panic of the engine while it reads into an
// EUNAVAILABLE answer, so one broken search never takes the hub down.
func (x *Index) recoverSearch(err *error) {
	if r := recover(); r != nil {
		x.log.Error("search index: a read panicked", "panic", r)
		*err = hub.Errorf(hub.EUNAVAILABLE, "this replica's search index could not answer; try again in a minute")
	}
}
