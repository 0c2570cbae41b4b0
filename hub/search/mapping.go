package search

import (
	"strings"

	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/ru"
	"github.com/blevesearch/bleve/v2/analysis/token/edgengram"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/truncate"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
)

// Analyzers. Russian and English have well-kept stemmers in bleve (Snowball
// and Porter); Kazakh and Kyrgyz have none, and both build words by
// stacking suffixes on a stem (зорлық → зорлыққа, зорлықтың), so their
// texts are indexed by every prefix of every word: a stem finds each form
// built on it. Any other language gets the standard analyzer.
const (
	analyzerPrefix      = "hub_prefix"
	analyzerPrefixQuery = "hub_prefix_query"
	filterEdge          = "hub_edge"
	filterTruncate      = "hub_truncate"
	// minPrefix is the shortest prefix indexed: shorter ones would match
	// nearly every Kazakh and Kyrgyz text and cost a posting in each.
	minPrefix = 3
	// maxPrefix is the longest: a query word longer than it is cut to it
	// (the query analyzer truncates likewise), so it still finds its word.
	maxPrefix = 24
)

// Groups of text fields: each is indexed once per analyzer family, under
// "<family>.<group>", and a package's text fills only its language's.
const (
	groupHeadline    = "h"
	groupDescription = "d"
	groupText        = "t"
)

// families are the analyzer families, by field prefix; queryAnalyzers
// say how a query is analyzed against each. A query is run against every
// family, so a word in another language than the package's (a Russian
// term in a Kyrgyz text) is still found; against the prefix family it is
// also tried stemmed by the Russian and English stemmers, so an inflected
// form of a loanword finds the word's other forms by their common prefix.
var families = []string{"ru", "en", "pre", "std"}

var queryAnalyzers = map[string][]string{
	"ru":  {ru.AnalyzerName},
	"en":  {en.AnalyzerName},
	"pre": {analyzerPrefixQuery, ru.AnalyzerName},
	"std": {standard.Name},
}

var indexAnalyzer = map[string]string{
	"ru": ru.AnalyzerName, "en": en.AnalyzerName, "pre": analyzerPrefix, "std": standard.Name,
}

// groupBoost ranks a match in a headline above one in a description, and
// that above one in the body, captions, alt text, subjects and credits.
var groupBoost = map[string]float64{groupHeadline: 4, groupDescription: 2, groupText: 1}

// familyOf returns the analyzer family of a BCP 47 language tag.
func familyOf(language string) string {
	base, _, _ := strings.Cut(strings.ToLower(language), "-")
	switch base {
	case "ru", "en":
		return base
	case "kk", "ky":
		return "pre"
	}
	return "std"
}

// Fields holding facts, for filters (keyword: indexed as they are).
const (
	fieldPackage  = "pkg"
	fieldKind     = "kind"
	fieldCampaign = "campaign"
	fieldStatus   = "status"
	fieldLanguage = "language"
	fieldTypes    = "types"
	// fieldFacts and fieldHeadline are stored only: the facts the document
	// was made from, for the caller to compare with the current ones, and
	// the headline a result shows.
	fieldFacts    = "facts"
	fieldHeadline = "headline"
)

// newMapping returns the index mapping: one document type, its facts as
// keywords, its texts under each family.
func newMapping() (*mapping.IndexMappingImpl, error) {
	im := mapping.NewIndexMapping()
	if err := im.AddCustomTokenFilter(filterEdge, map[string]any{
		"type": edgengram.Name, "min": float64(minPrefix), "max": float64(maxPrefix),
	}); err != nil {
		return nil, err
	}
	if err := im.AddCustomTokenFilter(filterTruncate, map[string]any{
		"type": truncate.Name, "length": float64(maxPrefix),
	}); err != nil {
		return nil, err
	}
	if err := im.AddCustomAnalyzer(analyzerPrefix, map[string]any{
		"type": custom.Name, "tokenizer": unicode.Name, "token_filters": []any{lowercase.Name, filterEdge},
	}); err != nil {
		return nil, err
	}
	if err := im.AddCustomAnalyzer(analyzerPrefixQuery, map[string]any{
		"type": custom.Name, "tokenizer": unicode.Name, "token_filters": []any{lowercase.Name, filterTruncate},
	}); err != nil {
		return nil, err
	}
	doc := mapping.NewDocumentStaticMapping()
	for _, f := range []string{fieldPackage, fieldKind, fieldCampaign, fieldStatus, fieldLanguage, fieldTypes} {
		m := mapping.NewKeywordFieldMapping()
		m.Analyzer = keyword.Name
		m.Store = f == fieldPackage || f == fieldLanguage
		m.DocValues = f == fieldPackage // sorted on for newest-first
		m.IncludeInAll = false
		m.IncludeTermVectors = false
		doc.AddFieldMappingsAt(f, m)
	}
	for _, f := range []string{fieldFacts, fieldHeadline} {
		m := mapping.NewTextFieldMapping()
		m.Index = false
		m.Store = true
		m.IncludeInAll = false
		m.IncludeTermVectors = false
		m.DocValues = false
		doc.AddFieldMappingsAt(f, m)
	}
	for _, fam := range families {
		sub := mapping.NewDocumentStaticMapping()
		for _, g := range []string{groupHeadline, groupDescription, groupText} {
			m := mapping.NewTextFieldMapping()
			m.Analyzer = indexAnalyzer[fam]
			m.Store = true // for the snippets
			m.IncludeTermVectors = true
			m.IncludeInAll = false
			m.DocValues = false
			sub.AddFieldMappingsAt(g, m)
		}
		doc.AddSubDocumentMapping(fam, sub)
	}
	im.DefaultMapping = doc
	im.DefaultAnalyzer = standard.Name
	return im, nil
}
