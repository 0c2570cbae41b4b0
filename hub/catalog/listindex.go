package catalog

import (
	"slices"
	"sync"

	"github.com/syndication-hub/hub/hub"
)

// listIndex answers listings from what it keeps of every package
// (hub.ListingFacts, a few dozen bytes each), never from documents. Its
// postings are ids sorted by id (newest last, as ids are made in time
// order): every id, by status, by campaign × status, and the packages
// owing an announcement. A listing walks the postings its filter names,
// merged newest first from the cursor, so a page costs about the page
// divided by how selective the request's own filters (language, asset
// type) are, not the size of the catalog.
type listIndex struct {
	mu      sync.RWMutex
	entries map[string]listEntry
	all     idList
	pending idList
	// byStatus serves audiences that see every campaign (admins,
	// producers without campaign limits); byCampaign every other.
	byStatus   map[hub.Status]*idList
	byCampaign map[string]map[hub.Status]*idList
	// names interns campaign, language and status strings: a catalog of
	// 250,000 packages has a handful of each, and each decoded document
	// brings its own copies.
	names map[string]string
}

// listEntry is a package as the index knows it, with the KV revision it
// came from so a late watch event never replaces a newer local write. A
// deleted package keeps its entry (gone set) for the same reason.
type listEntry struct {
	rev   uint64
	gone  bool
	facts hub.ListingFacts
}

// candidate is a package a listing may include: its facts and the
// revision they are from (a cached document of that revision is current).
type candidate struct {
	facts hub.ListingFacts
	rev   uint64
}

func newListIndex() *listIndex {
	return &listIndex{entries: map[string]listEntry{}, byStatus: map[hub.Status]*idList{},
		byCampaign: map[string]map[hub.Status]*idList{}, names: map[string]string{}}
}

// put records what revision rev says of package id (nil facts: it was
// deleted) unless the index already holds that revision or a later one.
// It reports whether it changed anything.
func (x *listIndex) put(id string, rev uint64, f *hub.ListingFacts) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	old, known := x.entries[id]
	if known && old.rev >= rev {
		return false
	}
	if known && !old.gone {
		x.unpost(old.facts)
	}
	if f == nil {
		x.entries[id] = listEntry{rev: rev, gone: true}
		return true
	}
	facts := *f
	facts.ID = id
	facts.Campaign, facts.Language, facts.Status = x.intern(facts.Campaign), x.intern(facts.Language), hub.Status(x.intern(string(facts.Status)))
	facts.LiveCampaign, facts.LiveLanguage = x.intern(facts.LiveCampaign), x.intern(facts.LiveLanguage)
	x.entries[id] = listEntry{rev: rev, facts: facts}
	x.post(facts)
	return true
}

func (x *listIndex) intern(s string) string {
	if v, ok := x.names[s]; ok {
		return v
	}
	x.names[s] = s
	return s
}

func (x *listIndex) post(f hub.ListingFacts) {
	x.all.insert(f.ID)
	x.statusList(f.Status).insert(f.ID)
	x.campaignList(f.Campaign, f.Status).insert(f.ID)
	if f.Pending {
		x.pending.insert(f.ID)
	}
}

func (x *listIndex) unpost(f hub.ListingFacts) {
	x.all.remove(f.ID)
	x.statusList(f.Status).remove(f.ID)
	x.campaignList(f.Campaign, f.Status).remove(f.ID)
	if f.Pending {
		x.pending.remove(f.ID)
	}
}

func (x *listIndex) statusList(s hub.Status) *idList {
	l := x.byStatus[s]
	if l == nil {
		l = &idList{}
		x.byStatus[s] = l
	}
	return l
}

func (x *listIndex) campaignList(campaign string, s hub.Status) *idList {
	byStatus := x.byCampaign[campaign]
	if byStatus == nil {
		byStatus = map[hub.Status]*idList{}
		x.byCampaign[campaign] = byStatus
	}
	l := byStatus[s]
	if l == nil {
		l = &idList{}
		byStatus[s] = l
	}
	return l
}

// size is how many packages the index holds (deleted ones not counted).
func (x *listIndex) size() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.all)
}

// facts returns what the index knows of package id.
func (x *listIndex) facts(id string) (hub.ListingFacts, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	e, ok := x.entries[id]
	return e.facts, ok && !e.gone
}

// match returns up to n packages that f and q match by their facts,
// newest id first, older than after ("" for the newest).
func (x *listIndex) match(f hub.Filter, q hub.PackageQuery, after string, n int) []candidate {
	x.mu.RLock()
	defer x.mu.RUnlock()
	m := merge{after: after}
	for _, l := range x.postings(f, q) {
		m.add(*l)
	}
	var out []candidate
	for len(out) < n {
		id, ok := m.next()
		if !ok {
			break
		}
		e := x.entries[id]
		if f.MatchesFacts(e.facts, q) {
			out = append(out, candidate{e.facts, e.rev})
		}
	}
	return out
}

// postings are the lists that hold every package f and q can match: the
// narrowest the request names. A released package cannot move to another
// campaign, so a package's working campaign is also the one its released
// version is listed under.
func (x *listIndex) postings(f hub.Filter, q hub.PackageQuery) []*idList {
	if q.Pending {
		return []*idList{&x.pending}
	}
	statuses := f.Statuses
	if q.Status != "" {
		statuses = []hub.Status{q.Status}
	}
	var campaigns []string
	switch {
	case q.Campaign != "":
		campaigns = []string{q.Campaign}
	case !f.AllCampaigns:
		campaigns = f.Campaigns
	default:
		if statuses == nil {
			return []*idList{&x.all}
		}
		var out []*idList
		for _, s := range statuses {
			if l := x.byStatus[s]; l != nil {
				out = append(out, l)
			}
		}
		return out
	}
	var out []*idList
	for _, c := range campaigns {
		byStatus := x.byCampaign[c]
		if statuses == nil {
			for _, l := range byStatus {
				out = append(out, l)
			}
			continue
		}
		for _, s := range statuses {
			if l := byStatus[s]; l != nil {
				out = append(out, l)
			}
		}
	}
	return out
}

// idList is a set of ids, sorted. New ids are the newest, so inserting
// one is an append.
type idList []string

func (l *idList) insert(id string) {
	if i, found := slices.BinarySearch(*l, id); !found {
		*l = slices.Insert(*l, i, id)
	}
}

func (l *idList) remove(id string) {
	if i, found := slices.BinarySearch(*l, id); found {
		*l = slices.Delete(*l, i, i+1)
	}
}

// merge walks several idLists at once, newest id first, from below its
// cursor. The lists are disjoint (a package is in one status and one
// campaign), and few (campaigns × states), so the newest head is found by
// looking at each.
type merge struct {
	after string
	lists []idList
	heads []int // index of each list's next id, -1 when done
}

func (m *merge) add(l idList) {
	i := len(l) - 1
	if m.after != "" {
		i, _ = slices.BinarySearch(l, m.after)
		i-- // the newest id below the cursor
	}
	m.lists = append(m.lists, l)
	m.heads = append(m.heads, i)
}

func (m *merge) next() (string, bool) {
	best := -1
	for j, i := range m.heads {
		if i >= 0 && (best < 0 || m.lists[j][i] > m.lists[best][m.heads[best]]) {
			best = j
		}
	}
	if best < 0 {
		return "", false
	}
	id := m.lists[best][m.heads[best]]
	m.heads[best]--
	return id, true
}
