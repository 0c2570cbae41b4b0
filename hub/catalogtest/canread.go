package catalogtest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// This file is the differential test of the visibility rule's two forms:
// for random catalogs it compares each audience's listing, answered by the
// catalog from Audience.ListingFilter, with what CanRead says of every
// package one by one, page by page and cursor by cursor, the way the
// Service listed packages before the filter existed. An index added later
// must pass it too, so it cannot become a second rule.

// packageState is one way a package can stand, as the Service leaves it.
type packageState int

const (
	stateDraft packageState = iota
	stateScheduledFuture
	stateScheduledPast // its embargo passed, and the scheduler has not fired yet
	stateReleased
	stateRevised   // released, with an unreleased revision (other assets, texts)
	stateCorrected // released twice: version 2 is live
	stateWithdrawn
	statePurgedReleased
	statePurgedRevised
	statePurgedDraft // purged before it was ever released
	stateCount
)

var (
	languages  = []string{"ru", "kk", "ky", "en"}
	assetTypes = []hub.AssetType{hub.AssetPicture, hub.AssetGraphic, hub.AssetVideo, hub.AssetAudio, hub.AssetText}
)

// world is one random catalog's contents and the audiences that look at it.
type world struct {
	now       time.Time
	campaigns map[string]*hub.Campaign // records, by slug
	slugs     []string                 // every campaign a package may name, one without a record among them
	audiences []namedAudience
	packages  []*hub.Package // oldest id first
}

type namedAudience struct {
	name string
	hub.Audience
}

// randomWorld makes a catalog from seed: campaigns public or for partners,
// partners with random entitlements, active or not, keys of every role
// (producers limited to random campaigns among them), and packages in
// every state.
func randomWorld(seed uint64) *world {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w := &world{now: time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC), campaigns: map[string]*hub.Campaign{}}
	clock := w.now.Add(-24 * time.Hour)
	gen := hub.NewIDSource(func() time.Time { clock = clock.Add(time.Duration(1+r.IntN(3)) * time.Millisecond); return clock })

	for i := range 2 + r.IntN(4) {
		slug := fmt.Sprintf("campaign-%d", i)
		c := hub.NewCampaign(slug, w.now)
		if r.IntN(2) == 0 {
			c.Visibility = hub.VisibilityPartners
		}
		w.campaigns[slug] = c
		w.slugs = append(w.slugs, slug)
	}
	w.slugs = append(w.slugs, "no-record") // named by packages and keys, never recorded
	some := func() []string {
		var out []string
		for _, s := range w.slugs {
			if r.IntN(3) == 0 {
				out = append(out, s)
			}
		}
		return out
	}

	w.audiences = []namedAudience{
		{"admin", hub.AdminAudience()},
		{"producer", hub.ProducerAudience()},
		{"public", hub.PublicReader()},
		{"partner key without a record", hub.KeyAudience(&hub.Key{Role: hub.RolePartner}, nil)},
		{"partner key whose record is gone", hub.KeyAudience(&hub.Key{Role: hub.RolePartner, Partner: gen.New()}, nil)},
		{"unknown role", hub.KeyAudience(&hub.Key{Role: "nobody"}, nil)},
	}
	for range 1 + r.IntN(3) {
		limited := some()
		if len(limited) == 0 {
			limited = []string{w.slugs[r.IntN(len(w.slugs))]}
		}
		w.audiences = append(w.audiences, namedAudience{"producer of " + strings.Join(limited, ","), hub.ProducerAudience(limited...)})
	}
	for i := range 1 + r.IntN(4) {
		p := &hub.Partner{ID: gen.New(), Name: fmt.Sprintf("outlet %d", i), Medium: hub.MediumTV,
			Campaigns: some(), Active: r.IntN(4) != 0}
		name := fmt.Sprintf("partner %d (active %t, entitled to %v)", i, p.Active, p.Campaigns)
		w.audiences = append(w.audiences, namedAudience{name, hub.PartnerAudience(p)})
		// The same partner reading through a key of its own.
		k := &hub.Key{ID: gen.New(), Role: hub.RolePartner, Partner: p.ID}
		w.audiences = append(w.audiences, namedAudience{name + " by key", hub.KeyAudience(k, p)})
	}

	for range 10 + r.IntN(30) {
		w.packages = append(w.packages, w.randomPackage(r, gen.New()))
	}
	return w
}

func randomAssets(r *rand.Rand) []hub.Asset {
	var out []hub.Asset
	for i := range r.IntN(4) {
		out = append(out, hub.Asset{Name: fmt.Sprintf("asset-%d", i), Type: assetTypes[r.IntN(len(assetTypes))], SHA256: fmt.Sprint(r.Uint64())})
	}
	return out
}

// randomPackage makes a package in a random state, as the lifecycle in
// hub/lifecycle.go leaves it (release: the working copy becomes Live; a
// purge: the tombstone).
func (w *world) randomPackage(r *rand.Rand, id string) *hub.Package {
	p := &hub.Package{ID: id, Campaign: w.slugs[r.IntN(len(w.slugs))], Language: languages[r.IntN(len(languages))],
		Version: 1, Status: hub.StatusDraft, FirstCreated: w.now, VersionCreated: w.now,
		Headlines: []hub.Text{{Value: "Заголовок " + id}}, Assets: randomAssets(r)}
	release := func() {
		p.Status, p.Embargo = hub.StatusReleased, nil
		live := p.Clone()
		live.Live, live.Pending, live.Blobs, live.Uploads = nil, nil, nil, nil
		p.Live = live
	}
	revise := func() {
		p.Version++
		p.Assets = randomAssets(r)
		p.Headlines = []hub.Text{{Value: "Исправленный заголовок " + id}}
	}
	switch packageState(r.IntN(int(stateCount))) {
	case stateDraft:
	case stateScheduledFuture:
		e := w.now.Add(time.Hour)
		p.Status, p.Embargo = hub.StatusScheduled, &e
	case stateScheduledPast:
		e := w.now.Add(-time.Minute)
		p.Status, p.Embargo = hub.StatusScheduled, &e
	case stateReleased:
		release()
	case stateRevised:
		release()
		revise()
	case stateCorrected:
		release()
		revise()
		release()
	case stateWithdrawn:
		release()
		t := w.now
		p.Status, p.Withdrawn = hub.StatusWithdrawn, &t
	case statePurgedReleased:
		release()
		*p = *p.Tombstone()
	case statePurgedRevised:
		release()
		revise()
		*p = *p.Tombstone()
	case statePurgedDraft:
		*p = *p.Tombstone()
	}
	return p
}

// wantPage is one page of a's listing as CanRead decides it, package by
// package: exactly the Service's listing before the filter existed.
func (w *world) wantPage(a hub.Audience, q hub.PackageQuery) (ids []string, next string) {
	limit := cmpOr(q.Limit, hub.DefaultPageSize)
	for i := len(w.packages) - 1; i >= 0; i-- {
		p := w.packages[i]
		if q.After != "" && p.ID >= q.After {
			continue
		}
		if _, ok := w.shown(a, p, q); !ok {
			continue
		}
		if len(ids) == limit {
			return ids, ids[len(ids)-1]
		}
		ids = append(ids, p.ID)
	}
	return ids, ""
}

// shown is p as a reads it (a partner its released view), when CanRead
// lets a read it and it has what q's own filters ask for.
func (w *world) shown(a hub.Audience, p *hub.Package, q hub.PackageQuery) (*hub.Package, bool) {
	if !hub.CanRead(a, w.campaigns[p.Campaign], p) {
		return nil, false
	}
	v := p
	if a.Key.Role == hub.RolePartner {
		v = hub.PartnerView(p)
	}
	switch {
	case q.Campaign != "" && v.Campaign != q.Campaign,
		q.Language != "" && v.Language != q.Language,
		q.Status != "" && v.Status != q.Status,
		q.Type != "" && !v.HasAssetType(q.Type):
		return nil, false
	}
	return v, true
}

// randomQuery is a request's own filters, cursor and page size.
func (w *world) randomQuery(r *rand.Rand) hub.PackageQuery {
	var q hub.PackageQuery
	if r.IntN(3) == 0 {
		q.Campaign = w.slugs[r.IntN(len(w.slugs))]
	}
	if r.IntN(3) == 0 {
		q.Language = languages[r.IntN(len(languages))]
	}
	if r.IntN(3) == 0 {
		q.Status = []hub.Status{hub.StatusDraft, hub.StatusScheduled, hub.StatusReleased, hub.StatusWithdrawn, hub.StatusPurged}[r.IntN(5)]
	}
	if r.IntN(3) == 0 {
		q.Type = assetTypes[r.IntN(len(assetTypes))]
	}
	q.Limit = []int{0, 1, 2, 3, 7, hub.MaxPageSize}[r.IntN(6)]
	if r.IntN(4) == 0 && len(w.packages) > 0 {
		// Start in the middle, as a client holding a cursor does.
		q.After = w.packages[r.IntN(len(w.packages))].ID
	}
	return q
}

// CompareWithCanRead fills c (which must be empty) with the random catalog
// of seed and checks, for every audience and a few random requests each,
// that paging through the listing its filter answers gives exactly the
// pages CanRead gives. It returns the number of pages compared.
func CompareWithCanRead(t *testing.T, c hub.Catalog, seed uint64) int {
	t.Helper()
	ctx := t.Context()
	w := randomWorld(seed)
	for _, slug := range slices.Sorted(maps.Keys(w.campaigns)) {
		must(t, c.CreateCampaign(ctx, w.campaigns[slug]))
	}
	for _, p := range w.packages {
		must(t, c.CreatePackage(ctx, p))
	}
	records, err := c.Campaigns(ctx)
	must(t, err)
	r := rand.New(rand.NewPCG(seed, 1))
	pages := 0
	for _, a := range w.audiences {
		f := a.ListingFilter(records)
		queries := []hub.PackageQuery{{}, {Limit: 1}}
		for range 6 {
			queries = append(queries, w.randomQuery(r))
		}
		for _, q := range queries {
			for step := 0; ; step++ {
				wantIDs, wantNext := w.wantPage(a.Audience, q)
				page, err := c.ListPackages(ctx, f, q)
				must(t, err)
				pages++
				if got := idsOf(page.Items); !slices.Equal(got, wantIDs) || page.Next != wantNext {
					t.Fatalf("seed %d, %s, query %+v (page %d):\nfilter %+v\n got %v next %q\nwant %v next %q (by CanRead)\n%s",
						seed, a.name, q, step, f, got, page.Next, wantIDs, wantNext, w.describe(got, wantIDs))
				}
				if page.Next == "" {
					break
				}
				q.After = page.Next
			}
		}
	}
	return pages
}

// describe shows the packages two listings disagree on.
func (w *world) describe(got, want []string) string {
	var b strings.Builder
	for _, p := range w.packages {
		if slices.Contains(got, p.ID) != slices.Contains(want, p.ID) {
			fmt.Fprintf(&b, "  %s: campaign %s (record %v) status %s live %t wasreleased %t language %s\n",
				p.ID, p.Campaign, w.campaigns[p.Campaign] != nil, p.Status, p.Live != nil, p.WasReleased, p.Language)
		}
	}
	return b.String()
}
