package search

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
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
	tq := textQuery(x.idx.Mapping(), q.Text)
	bq.AddMust(tq)
	bq.AddFilter(factsQuery(f, q.Filters))
	req := bleve.NewSearchRequestOptions(bq, q.Limit, q.Offset, false)
	req.Fields = []string{fieldPackage, fieldFacts, fieldHeadline, fieldLanguage}
	if q.Newest {
		req.SortBy([]string{"-" + fieldPackage})
		if q.Filters.After != "" {
			req.SearchAfter = []string{q.Filters.After}
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
	docs := make([]string, 0, len(res.Hits)) // the document of each hit
	for _, m := range res.Hits {
		h := hub.SearchHit{ID: packageOf(m.ID), Score: m.Score}
		h.Headline, _ = m.Fields[fieldHeadline].(string)
		h.Language, _ = m.Fields[fieldLanguage].(string)
		raw, _ := m.Fields[fieldFacts].(string)
		if err := json.Unmarshal([]byte(raw), &h.Facts); err != nil {
			x.log.Error("search index: document without readable facts; left out", "doc", m.ID, "err", err)
			continue
		}
		hits, docs = append(hits, h), append(docs, m.ID)
	}
	if !q.Newest && len(hits) > 0 {
		if err := x.snippets(ctx, tq, docs, hits); err != nil {
			return nil, false, err
		}
	}
	return hits, len(res.Hits) == q.Limit, nil
}

// snippets fills the snippets of hits (documents docs, in order) by
// asking the text query tq again of these documents only, with the locations of
// the matched words and the stored texts: locations asked with the
// ranking query would be gathered for every match, not only the page's
// (a common word's thousands), and bleve's highlighter costs some 10 ms
// a hit on a body that has a common word fifty times.
func (x *Index) snippets(ctx context.Context, tq query.Query, docs []string, hits []hub.SearchHit) error {
	at := map[string]int{}
	for i, d := range docs {
		at[d] = i
	}
	// A conjunction led by the ids: the text's searchers skip to each of
	// them rather than decode locations of every match.
	cq := query.NewConjunctionQuery([]query.Query{query.NewDocIDQuery(docs), tq})
	req := bleve.NewSearchRequestOptions(cq, len(docs), 0, false)
	req.IncludeLocations = true
	for _, fam := range families {
		for _, g := range []string{groupHeadline, groupDescription, groupText} {
			req.Fields = append(req.Fields, fam+"."+g)
		}
	}
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return hub.Errorf(hub.ECANCELED, "the search was canceled")
		}
		return fmt.Errorf("search index: snippets: %w", err)
	}
	for _, m := range res.Hits {
		i, ok := at[m.ID]
		if !ok {
			continue
		}
		for _, g := range []string{groupHeadline, groupDescription, groupText} {
			for _, fam := range families {
				text, _ := m.Fields[fam+"."+g].(string)
				if sn, ok := snippet(groupName[g], text, m.Locations[fam+"."+g], g == groupHeadline); ok {
					hits[i].Snippets = append(hits[i].Snippets, sn)
				}
			}
		}
	}
	return nil
}

var groupName = map[string]string{groupHeadline: "headline", groupDescription: "description", groupText: "text"}

// textQuery matches the words in every text field, each analyzed as the
// field's family asks, a headline match weighing most. A family's second
// analyzer is asked only when it makes other terms of the words than the
// first: the Russian stemmer leaves a Kazakh or a Latin word as the
// prefix analyzer does, and the same terms asked twice would score a
// Kazakh or Kyrgyz text's match double a Russian one's. (A query mixing
// words the stemmer changes with words it leaves is still asked both
// ways: the comparison is of the whole query's terms.)
func textQuery(m mapping.IndexMapping, text string) query.Query {
	var qs []query.Query
	for _, fam := range families {
		var asked []string
		for _, an := range queryAnalyzers[fam] {
			terms := analyze(m, an, text)
			if terms != "" && slices.Contains(asked, terms) {
				continue
			}
			asked = append(asked, terms)
			for _, g := range []string{groupHeadline, groupDescription, groupText} {
				mq := query.NewMatchQuery(text)
				mq.SetField(fam + "." + g)
				mq.Analyzer = an
				mq.SetBoost(groupBoost[g])
				qs = append(qs, mq)
			}
		}
	}
	return query.NewDisjunctionQuery(qs)
}

// analyze returns the terms analyzer an makes of text, joined; "" when
// the mapping has no such analyzer (then nothing is compared, and the
// clause is kept).
func analyze(m mapping.IndexMapping, an, text string) string {
	a := m.AnalyzerNamed(an)
	if a == nil {
		return ""
	}
	var terms []string
	for _, t := range a.Analyze([]byte(text)) {
		terms = append(terms, string(t.Term))
	}
	return strings.Join(terms, "\x00")
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

// Snippet sizes, in bytes of text around the first matched word.
const (
	snippetBefore = 60
	snippetAfter  = 160
)

// snippet is the passage of text (a stored field's) around the first of
// the matched words at locs, with every matched word in it marked; whole
// keeps all of it (a headline). The parts are plain text: hub.Snippet
// escapes them when it makes HTML, and the portal's template does.
func snippet(field, text string, locs search.TermLocationMap, whole bool) (hub.Snippet, bool) {
	type span struct{ start, end int }
	var spans []span
	for _, ls := range locs {
		for _, l := range ls {
			if int(l.End) <= len(text) && l.Start < l.End {
				spans = append(spans, span{int(l.Start), int(l.End)})
			}
		}
	}
	if len(spans) == 0 || text == "" {
		return hub.Snippet{}, false
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(b.end, a.end)) })
	from, to := 0, len(text)
	if !whole {
		from, to = max(0, spans[0].start-snippetBefore), min(len(text), spans[0].start+snippetAfter)
		for from > 0 && !utf8.RuneStart(text[from]) {
			from--
		}
		for to < len(text) && !utf8.RuneStart(text[to]) {
			to++
		}
	}
	s := hub.Snippet{Field: field}
	add := func(t string, mark bool) {
		if t != "" {
			s.Parts = append(s.Parts, hub.SnippetPart{Text: t, Mark: mark})
		}
	}
	if from > 0 {
		add("…", false)
	}
	at := from
	for _, sp := range spans {
		if sp.start < at || sp.end > to {
			continue // overlapping another mark, or outside the passage
		}
		add(text[at:sp.start], false)
		add(text[sp.start:sp.end], true)
		at = sp.end
	}
	add(text[at:to], false)
	if to < len(text) {
		add("…", false)
	}
	return s, true
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
