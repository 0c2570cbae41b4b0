package search

import (
	"testing"

	"github.com/blevesearch/bleve/v2/search/query"
)

// TestTextQueryAsksEachTermsOnce: the prefix family is asked a second
// time (stemmed as Russian) only for a word the stemmer changes; a
// Kazakh, Kyrgyz or Latin word it leaves alone is asked once, or its
// matches would score double another language's.
func TestTextQueryAsksEachTermsOnce(t *testing.T) {
	m, err := newMapping()
	if err != nil {
		t.Fatal(err)
	}
	// 4 families × 3 groups, and 3 more when the prefix family's
	// Russian stemming gives other terms.
	for _, c := range []struct {
		text string
		want int
	}{
		{"зорлық", 12},
		{"зомбулук", 12},
		{"harassment", 12},
		{"домогательствах", 15},
	} {
		q, ok := textQuery(m, c.text).(*query.DisjunctionQuery)
		if !ok {
			t.Fatalf("%q: not a disjunction", c.text)
		}
		if got := len(q.Disjuncts); got != c.want {
			t.Errorf("%q: %d clauses, want %d", c.text, got, c.want)
		}
	}
}
