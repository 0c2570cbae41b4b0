package catalog

import "github.com/syndication-hub/hub/hub"

// PutRevised is putRevised, for the lost-ack test.
var PutRevised = putRevised

// ReadFromLeader is readFromLeader, for its test on one server.
var ReadFromLeader = readFromLeader

// Replayed is how many package entries c's watch delivered before it was
// current.
func Replayed(c *Catalog) int64 { return c.replayed.Load() }

// Listings is what c's listing index holds: each package's facts with
// their revision, deleted ones as nil facts.
func Listings(c *Catalog) map[string]ListedEntry {
	out := map[string]ListedEntry{}
	for _, e := range c.listings.snapshotEntries() {
		out[e.ID] = ListedEntry{Rev: e.Rev, Gone: e.Gone, Facts: e.Facts}
	}
	return out
}

// ListedEntry is one package as a listing index holds it.
type ListedEntry struct {
	Rev   uint64
	Gone  bool
	Facts hub.ListingFacts
}
