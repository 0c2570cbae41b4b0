package catalog

import (
	"slices"
	"strings"
	"sync"

	"github.com/syndication-hub/hub/hub"
)

// listIndex answers listings from what it keeps of every package
// (hub.ListingFacts), never from documents. Its postings are packages
// sorted by id (newest last, as ids are made in time order): every
// package, by status, by campaign × status, and the packages owing an
// announcement. A listing walks the postings its filter names, merged
// newest first from the cursor, so a page costs about the page divided by
// how selective the request's own filters (language, asset type) are, not
// the size of the catalog.
//
// It is laid out for the garbage collector, which marks every pointer of
// the heap on each cycle: a package is a slot number, its facts a
// pointer-free entry (names as numbers in a table), the postings slot
// numbers. What is left to mark is two pointers per package (the id in
// the map and in the slot table), where a struct of strings per package
// and lists of strings made about a dozen, and the marking at 250,000
// packages slowed every write.
type listIndex struct {
	mu      sync.RWMutex
	slots   map[string]int32
	ids     []string    // by slot
	entries []listEntry // by slot
	all     idList
	pending idList
	// byStatus serves audiences that see every campaign (admins,
	// producers without campaign limits); byCampaign every other. Keyed
	// by name number.
	byStatus   map[uint16]*idList
	byCampaign map[uint16]map[uint16]*idList
	// names numbers campaign, language and status strings: a catalog of
	// 250,000 packages has a handful of each.
	names   []string
	numbers map[string]uint16
}

// listEntry is a package as the index knows it, with the KV revision it
// came from so a late watch event never replaces a newer local write. A
// deleted package keeps its entry (gone set) for the same reason. It
// holds no pointer (see listIndex).
type listEntry struct {
	rev                        uint64
	liveVersion                int32
	campaign, language, status uint16
	liveCampaign, liveLanguage uint16
	types, liveTypes           hub.AssetTypeSet
	gone, live, wasReleased    bool
	pending                    bool
}

// candidate is a package a listing may include: its facts and the
// revision they are from (a cached document of that revision is current).
type candidate struct {
	facts hub.ListingFacts
	rev   uint64
}

func newListIndex() *listIndex {
	return &listIndex{slots: map[string]int32{}, byStatus: map[uint16]*idList{},
		byCampaign: map[uint16]map[uint16]*idList{}, numbers: map[string]uint16{}}
}

// put records what revision rev says of package id (nil facts: it was
// deleted) unless the index already holds that revision or a later one.
// It reports whether it changed anything.
func (x *listIndex) put(id string, rev uint64, f *hub.ListingFacts) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	slot, known := x.slots[id]
	if known {
		old := x.entries[slot]
		if old.rev >= rev {
			return false
		}
		if !old.gone {
			x.unpost(slot, old)
		}
	} else {
		slot = x.newSlot(id)
	}
	if f == nil {
		x.entries[slot] = listEntry{rev: rev, gone: true}
		return true
	}
	e := x.entryOf(rev, f)
	x.entries[slot] = e
	x.post(slot, e)
	return true
}

func (x *listIndex) newSlot(id string) int32 {
	slot := int32(len(x.ids))
	x.slots[id] = slot
	x.ids = append(x.ids, id)
	x.entries = append(x.entries, listEntry{})
	return slot
}

// entryOf is facts f of revision rev as the index keeps them.
func (x *listIndex) entryOf(rev uint64, f *hub.ListingFacts) listEntry {
	return listEntry{rev: rev, liveVersion: int32(f.LiveVersion),
		campaign: x.number(f.Campaign), language: x.number(f.Language), status: x.number(string(f.Status)),
		liveCampaign: x.number(f.LiveCampaign), liveLanguage: x.number(f.LiveLanguage),
		types: f.Types, liveTypes: f.LiveTypes, live: f.Live, wasReleased: f.WasReleased, pending: f.Pending}
}

// factsOf is the facts of the package in slot.
func (x *listIndex) factsOf(slot int32) hub.ListingFacts {
	e := &x.entries[slot]
	return hub.ListingFacts{ID: x.ids[slot], Campaign: x.names[e.campaign], Status: hub.Status(x.names[e.status]),
		Language: x.names[e.language], Types: e.types, Live: e.live, LiveCampaign: x.names[e.liveCampaign],
		LiveLanguage: x.names[e.liveLanguage], LiveTypes: e.liveTypes, LiveVersion: int(e.liveVersion),
		WasReleased: e.wasReleased, Pending: e.pending}
}

// number is name's number, given it one if it has none.
func (x *listIndex) number(name string) uint16 {
	if n, ok := x.numbers[name]; ok {
		return n
	}
	if len(x.names) == 0 && name != "" {
		x.number("") // "" is 0, what an empty entry says
	}
	n := uint16(len(x.names))
	x.names = append(x.names, name)
	x.numbers[name] = n
	return n
}

func (x *listIndex) post(slot int32, e listEntry) {
	x.all.insert(x.ids, slot)
	x.statusList(e.status).insert(x.ids, slot)
	x.campaignList(e.campaign, e.status).insert(x.ids, slot)
	if e.pending {
		x.pending.insert(x.ids, slot)
	}
}

func (x *listIndex) unpost(slot int32, e listEntry) {
	x.all.remove(x.ids, slot)
	x.statusList(e.status).remove(x.ids, slot)
	x.campaignList(e.campaign, e.status).remove(x.ids, slot)
	if e.pending {
		x.pending.remove(x.ids, slot)
	}
}

func (x *listIndex) statusList(s uint16) *idList {
	l := x.byStatus[s]
	if l == nil {
		l = &idList{}
		x.byStatus[s] = l
	}
	return l
}

func (x *listIndex) campaignList(campaign, s uint16) *idList {
	byStatus := x.byCampaign[campaign]
	if byStatus == nil {
		byStatus = map[uint16]*idList{}
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
	slot, ok := x.slots[id]
	if !ok || x.entries[slot].gone {
		return hub.ListingFacts{}, false
	}
	return x.factsOf(slot), true
}

// match returns up to n packages that f and q match by their facts,
// newest id first, older than after ("" for the newest).
func (x *listIndex) match(f hub.Filter, q hub.PackageQuery, after string, n int) []candidate {
	x.mu.RLock()
	defer x.mu.RUnlock()
	m := merge{ids: x.ids, after: after}
	for _, l := range x.postings(f, q) {
		m.add(*l)
	}
	var out []candidate
	for len(out) < n {
		slot, ok := m.next()
		if !ok {
			break
		}
		if facts := x.factsOf(slot); f.MatchesFacts(facts, q) {
			out = append(out, candidate{facts, x.entries[slot].rev})
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
			if l := x.byStatus[x.numbers[string(s)]]; l != nil && x.known(string(s)) {
				out = append(out, l)
			}
		}
		return out
	}
	var out []*idList
	for _, c := range campaigns {
		if !x.known(c) {
			continue
		}
		byStatus := x.byCampaign[x.numbers[c]]
		if statuses == nil {
			for _, l := range byStatus {
				out = append(out, l)
			}
			continue
		}
		for _, s := range statuses {
			if !x.known(string(s)) {
				continue
			}
			if l := byStatus[x.numbers[string(s)]]; l != nil {
				out = append(out, l)
			}
		}
	}
	return out
}

// known reports whether a name has a number: one that has none is in no
// package, so no list of it exists.
func (x *listIndex) known(name string) bool {
	_, ok := x.numbers[name]
	return ok
}

// idList is a set of packages by slot, sorted by their ids. New ids are
// the newest, so inserting one is an append.
type idList []int32

func (l *idList) search(ids []string, id string) (int, bool) {
	return slices.BinarySearchFunc(*l, id, func(slot int32, id string) int { return strings.Compare(ids[slot], id) })
}

func (l *idList) insert(ids []string, slot int32) {
	if i, found := l.search(ids, ids[slot]); !found {
		*l = slices.Insert(*l, i, slot)
	}
}

func (l *idList) remove(ids []string, slot int32) {
	if i, found := l.search(ids, ids[slot]); found {
		*l = slices.Delete(*l, i, i+1)
	}
}

// merge walks several idLists at once, newest id first, from below its
// cursor. The lists are disjoint (a package is in one status and one
// campaign), and few (campaigns × states), so the newest head is found by
// looking at each.
type merge struct {
	ids   []string
	after string
	lists []idList
	heads []int // index of each list's next slot, -1 when done
}

func (m *merge) add(l idList) {
	i := len(l) - 1
	if m.after != "" {
		i, _ = l.search(m.ids, m.after)
		i-- // the newest id below the cursor
	}
	m.lists = append(m.lists, l)
	m.heads = append(m.heads, i)
}

func (m *merge) next() (int32, bool) {
	best := -1
	for j, i := range m.heads {
		if i >= 0 && (best < 0 || m.ids[m.lists[j][i]] > m.ids[m.lists[best][m.heads[best]]]) {
			best = j
		}
	}
	if best < 0 {
		return 0, false
	}
	slot := m.lists[best][m.heads[best]]
	m.heads[best]--
	return slot, true
}
