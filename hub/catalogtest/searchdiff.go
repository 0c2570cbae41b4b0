package catalogtest

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/syndication-hub/hub/hub"
)

// This file is the differential test of search against the visibility
// rule, like CompareWithCanRead for listings: for random catalogs, every
// audience's search results are compared with what CanRead and
// PartnerView let it read, package by package. Every package's headline
// holds "Заголовок"; a revision's (released or not) holds "Исправленный",
// so a partner finding a package by a word only its unreleased draft has
// is caught.

// SearchFunc searches as audience a for text with the request's own
// filters q, and returns the ids of every hit, in any order.
type SearchFunc func(a hub.Audience, text string, q hub.PackageQuery) []string

// CompareSearchWithCanRead fills c (which must be empty) with the random
// catalog of seed, calls open (which opens the search index on the filled
// catalog and waits for it to catch up), and checks for every audience
// and a few random filters that the search finds exactly the packages
// the audience may read whose readable headline has the word. It returns
// the number of searches compared.
func CompareSearchWithCanRead(t *testing.T, c hub.Catalog, seed uint64, open func() SearchFunc) int {
	t.Helper()
	ctx := t.Context()
	w := randomWorld(seed)
	for _, slug := range slices.Sorted(maps.Keys(w.campaigns)) {
		must(t, c.CreateCampaign(ctx, w.campaigns[slug]))
	}
	for _, p := range w.packages {
		must(t, c.CreatePackage(ctx, p))
	}
	search := open()
	r := rand.New(rand.NewPCG(seed, 2))
	compared, nonEmpty := 0, 0
	for _, a := range w.audiences {
		queries := []hub.PackageQuery{{}}
		for range 4 {
			q := w.randomQuery(r)
			q.After, q.Limit = "", 0
			queries = append(queries, q)
		}
		for _, q := range queries {
			for _, word := range []string{"заголовок", "исправленный"} {
				want := w.wantSearch(a.Audience, word, q)
				got := search(a.Audience, word, q)
				slices.Sort(got)
				compared++
				if len(want) > 0 {
					nonEmpty++
				}
				if !slices.Equal(got, want) {
					t.Fatalf("seed %d, %s, %q, filters %+v:\n got %v\nwant %v (by CanRead)\n%s",
						seed, a.name, word, q, got, want, w.describe(got, want))
				}
			}
		}
	}
	if nonEmpty == 0 {
		t.Fatalf("seed %d: no search was to find anything", seed)
	}
	return compared
}

// wantSearch is what a search for word may find for a: the packages it may
// read, by the request's filters, whose headline as a reads it has word.
func (w *world) wantSearch(a hub.Audience, word string, q hub.PackageQuery) []string {
	var ids []string
	for _, p := range w.packages {
		v, ok := w.shown(a, p, q)
		if !ok {
			continue
		}
		for _, h := range v.Headlines {
			if strings.Contains(strings.ToLower(h.Value), word) {
				ids = append(ids, p.ID)
				break
			}
		}
	}
	slices.Sort(ids)
	return ids
}
