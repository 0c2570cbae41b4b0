package hub_test

import (
	"testing"

	"github.com/syndication-hub/hub/hub/catalog/memory"
	"github.com/syndication-hub/hub/hub/catalogtest"
)

// TestListingFilterMatchesCanRead is the differential test of the rule's
// two forms: over many random catalogs (campaigns public or for partners,
// partners entitled or not, active or not, keys of every role, packages in
// every state), every audience's listing answered from its ListingFilter
// pages exactly as CanRead, asked of each package, says it should. The
// JetStream catalog runs one seed of it in its conformance suite.
func TestListingFilterMatchesCanRead(t *testing.T) {
	seeds := 400
	if testing.Short() {
		seeds = 40
	}
	pages := 0
	for seed := range uint64(seeds) {
		pages += catalogtest.CompareWithCanRead(t, memory.New(), seed)
	}
	t.Logf("%d random catalogs, %d pages compared", seeds, pages)
}
