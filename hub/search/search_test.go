package search_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/natsserver"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/hub/search"
)

// env is a catalog on real embedded NATS, a search index beside it in a
// directory of its own, and a service over both.
type env struct {
	t   *testing.T
	js  jetstream.JetStream
	cat *catalog.Catalog
	idx *search.Index
	svc *hub.Service
	dir string
	ids *hub.IDSource
}

func newEnv(t *testing.T, srv *natsserver.Server, dir string) *env {
	t.Helper()
	_, js := natstest.Connect(t, srv)
	cat, err := catalog.Open(t.Context(), js, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	e := &env{t: t, js: js, cat: cat, dir: dir, ids: hub.NewIDSource(time.Now)}
	e.open()
	return e
}

// open opens the index (again) and waits for it to catch up.
func (e *env) open() {
	e.t.Helper()
	idx, err := search.Open(e.t.Context(), e.packages(), e.dir, search.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { idx.Close() })
	e.idx = idx
	e.svc = hub.NewService(e.cat, nil, hub.ServiceOptions{Search: idx})
	e.sync()
}

func (e *env) closeIndex() {
	e.t.Helper()
	if err := e.idx.Close(); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) sync() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), time.Minute)
	defer cancel()
	if err := e.idx.Sync(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// pkg describes a package to store.
type pkg struct {
	campaign, language, headline, body string
	state                              string // draft, scheduled, released, revised, withdrawn, purged
	draftBody                          string // for revised: the unreleased working copy's body
}

func (e *env) put(p pkg) string {
	e.t.Helper()
	now := time.Now().UTC()
	doc := &hub.Package{ID: e.ids.New(), Campaign: p.campaign, Language: p.language, Version: 1, Status: hub.StatusDraft,
		FirstCreated: now, VersionCreated: now, Headlines: []hub.Text{{Value: p.headline}}}
	if p.body != "" {
		doc.Bodies = []hub.Text{{Value: p.body}}
	}
	release := func() {
		doc.Status = hub.StatusReleased
		live := doc.Clone()
		live.Live, live.Pending, live.Blobs, live.Uploads = nil, nil, nil, nil
		doc.Live = live
	}
	switch p.state {
	case "", "draft":
	case "scheduled":
		em := now.Add(time.Hour)
		doc.Status, doc.Embargo = hub.StatusScheduled, &em
	case "released":
		release()
	case "revised":
		release()
		doc.Version++
		doc.Bodies = []hub.Text{{Value: p.draftBody}}
	case "withdrawn":
		release()
		doc.Status, doc.Withdrawn = hub.StatusWithdrawn, &now
	case "purged":
		release()
		doc = doc.Tombstone()
	default:
		e.t.Fatalf("no state %q", p.state)
	}
	if err := e.cat.CreatePackage(e.t.Context(), doc); err != nil {
		e.t.Fatal(err)
	}
	return doc.ID
}

func (e *env) campaign(slug string, public bool) {
	e.t.Helper()
	c := hub.NewCampaign(slug, time.Now())
	if !public {
		c.Visibility = hub.VisibilityPartners
	}
	if err := e.cat.CreateCampaign(e.t.Context(), c); err != nil {
		e.t.Fatal(err)
	}
}

var admin = &hub.Key{Name: "admin", Role: hub.RoleAdmin}

func (e *env) search(k *hub.Key, q string) []hub.SearchHit {
	e.t.Helper()
	page, err := e.svc.Search(e.t.Context(), k, hub.SearchRequest{Text: q, Limit: hub.MaxSearchPage})
	if err != nil {
		e.t.Fatalf("search %q: %v", q, err)
	}
	return page.Hits
}

func ids(hits []hub.SearchHit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.ID)
	}
	return out
}

func found(hits []hub.SearchHit, id string) bool { return slices.Contains(ids(hits), id) }

// TestLanguages: an inflected Russian form finds the word's other forms,
// a Kazakh and a Kyrgyz stem find the words built on them, an English
// word is found by the other forms of its stem, and a query in another
// language than the package's still finds the words it shares with it.
func TestLanguages(t *testing.T) {
	e := newEnv(t, natstest.Start(t, ""), t.TempDir())
	ruA := e.put(pkg{campaign: "c", language: "ru", headline: "Горячая линия", body: "Что делать при домогательствах на работе: советы юриста."})
	ruB := e.put(pkg{campaign: "c", language: "ru", headline: "Домогательство — это преступление", body: "Статья 123."})
	kk := e.put(pkg{campaign: "c", language: "kk", headline: "Көмек желісі", body: "Әйелдерге қарсы зорлық-зомбылыққа жол жоқ. Зорлықтың барлық түрі заңмен жазаланады."})
	ky := e.put(pkg{campaign: "c", language: "ky", headline: "Жардам", body: "Үй-бүлөлүк зомбулуктан жапа чеккен аялдар үчүн ишеним телефону."})
	en := e.put(pkg{campaign: "c", language: "en", headline: "Workplace harassment", body: "Know your rights."})
	enB := e.put(pkg{campaign: "c", language: "en", headline: "Hotline", body: "She was harassed at work and reported it."})
	kkRu := e.put(pkg{campaign: "c", language: "kk", headline: "Мақала", body: "Домогательство туралы заң жобасы талқыланды."})
	e.sync()
	for _, c := range []struct {
		q    string
		want []string
		not  []string
	}{
		{"домогательствах", []string{ruA, ruB}, []string{kk, ky, en}},
		{"домогательство", []string{ruA, ruB}, nil},
		{"зорлық", []string{kk}, []string{ky, ruA}},
		{"зомбылыққа", []string{kk}, nil},
		{"зомбулук", []string{ky}, []string{kk}},
		{"harassment", []string{en, enB}, []string{ruA}},
		{"harassed", []string{en, enB}, nil},
		// A Russian word in a Kazakh text, asked in an inflected form.
		{"домогательствах", []string{kkRu}, nil},
	} {
		hits := e.search(admin, c.q)
		for _, id := range c.want {
			if !found(hits, id) {
				t.Errorf("%q did not find %s; found %v", c.q, id, ids(hits))
			}
		}
		for _, id := range c.not {
			if found(hits, id) {
				t.Errorf("%q found %s", c.q, id)
			}
		}
	}
}

// TestHeadlineRanksAboveBody: the package with the word in its headline
// comes first, though the other has it in its body twice.
func TestHeadlineRanksAboveBody(t *testing.T) {
	e := newEnv(t, natstest.Start(t, ""), t.TempDir())
	body := e.put(pkg{campaign: "c", language: "ru", headline: "Новости недели",
		body: "Кампания против насилия продолжается. Насилие в семье — не частное дело: о насилии нужно говорить."})
	head := e.put(pkg{campaign: "c", language: "ru", headline: "Насилие в семье", body: "Где искать помощь и как поддержать близких."})
	e.sync()
	hits := e.search(admin, "насилие")
	if len(hits) != 2 || hits[0].ID != head || hits[1].ID != body {
		t.Fatalf("want %s (headline) before %s (body); got %v", head, body, ids(hits))
	}
	if hits[0].Score <= hits[1].Score {
		t.Fatalf("scores %v, %v", hits[0].Score, hits[1].Score)
	}
	var marked bool
	for _, s := range hits[0].Snippets {
		marked = marked || s.Field == "headline" && strings.Contains(s.HTML(), "<mark>Насилие</mark>")
	}
	if !marked {
		t.Fatalf("no headline snippet marking the word: %+v", hits[0].Snippets)
	}
}

// TestSnippetsAreHTMLSafe: markup in a package's text comes out escaped,
// in the parts and in HTML; only <mark> is markup.
func TestSnippetsAreHTMLSafe(t *testing.T) {
	e := newEnv(t, natstest.Start(t, ""), t.TempDir())
	e.put(pkg{campaign: "c", language: "en", headline: `<script>alert(1)</script> harassment <img src=x onerror=alert(2)>`,
		body: `"quoted" & <b>harassment</b> </mark><mark>`})
	e.sync()
	hits := e.search(admin, "harassment")
	if len(hits) != 1 || len(hits[0].Snippets) == 0 {
		t.Fatalf("hits %+v", hits)
	}
	for _, s := range hits[0].Snippets {
		h := s.HTML()
		stripped := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(h)
		if strings.ContainsAny(stripped, "<>") {
			t.Fatalf("snippet %q carries markup", h)
		}
		var plain strings.Builder
		for _, p := range s.Parts {
			plain.WriteString(p.Text)
		}
		if s.Field == "headline" && !strings.Contains(plain.String(), "<script>") {
			t.Fatalf("parts lost the text: %q", plain.String())
		}
	}
}

// TestSearchHidesWhatTheRuleHides: a partner finds the live text of what
// it may read and nothing else: not another campaign's releases, nothing
// scheduled, no draft, not the words of an unreleased revision, nothing
// of a purged package; a withdrawn package it may read is found as the
// kill notice listings show it as, one of another campaign is not.
func TestSearchHidesWhatTheRuleHides(t *testing.T) {
	e := newEnv(t, natstest.Start(t, ""), t.TempDir())
	e.campaign("ours", false)
	e.campaign("theirs", false)
	partner := &hub.Partner{ID: e.ids.New(), Name: "Outlet", Medium: hub.MediumTV, Campaigns: []string{"ours"}, Active: true}
	if err := e.cat.CreatePartner(t.Context(), partner); err != nil {
		t.Fatal(err)
	}
	key := &hub.Key{ID: e.ids.New(), Name: "outlet", Role: hub.RolePartner, Partner: partner.ID}
	const w = "кампания"
	visible := e.put(pkg{campaign: "ours", language: "ru", headline: "Кампания", state: "released"})
	withdrawn := e.put(pkg{campaign: "ours", language: "ru", headline: "Кампания отозвана", state: "withdrawn"})
	revised := e.put(pkg{campaign: "ours", language: "ru", headline: "Кампания", body: "Текст", state: "revised", draftBody: "Черновикслово"})
	hidden := map[string]string{
		e.put(pkg{campaign: "theirs", language: "ru", headline: "Кампания", state: "released"}):  "another campaign's release",
		e.put(pkg{campaign: "theirs", language: "ru", headline: "Кампания", state: "withdrawn"}): "another campaign's withdrawal",
		e.put(pkg{campaign: "ours", language: "ru", headline: "Кампания", state: "scheduled"}):   "a package under embargo",
		e.put(pkg{campaign: "ours", language: "ru", headline: "Кампания", state: "draft"}):       "a draft",
		e.put(pkg{campaign: "ours", language: "ru", headline: "Кампания", state: "purged"}):      "a purged package",
	}
	e.sync()
	hits := e.search(key, w)
	for id, what := range hidden {
		if found(hits, id) {
			t.Errorf("the partner found %s (%s)", id, what)
		}
	}
	for _, id := range []string{visible, withdrawn, revised} {
		if !found(hits, id) {
			t.Errorf("the partner did not find %s; found %v", id, ids(hits))
		}
	}
	if hits := e.search(key, "черновикслово"); len(hits) != 0 {
		t.Errorf("the partner found the unreleased revision's words: %v", ids(hits))
	}
	if hits := e.search(admin, "черновикслово"); !found(hits, revised) {
		t.Errorf("the admin did not find the working copy's words: %v", ids(hits))
	}
	// Public readers see no partners-only campaign.
	if hits := e.search(&hub.Key{Name: "public", Role: hub.RolePartner}, w); len(hits) != 0 {
		t.Errorf("a keyless partner found %v", ids(hits))
	}
	// A package purged after it was indexed: its words are gone at once.
	if _, err := e.cat.UpdatePackage(t.Context(), visible, func(p *hub.Package) error { *p = *p.Tombstone(); return nil }); err != nil {
		t.Fatal(err)
	}
	e.sync()
	if found(e.search(key, w), visible) {
		t.Errorf("a purged package is still found")
	}
}

// TestCatchesUpFromItsRevision: reopened on the same directory, the index
// applies only what changed while it was closed, and finds it.
func TestCatchesUpFromItsRevision(t *testing.T) {
	e := newEnv(t, natstest.Start(t, ""), t.TempDir())
	if !e.idx.Stats().Rebuilt {
		t.Fatal("a first open did not build the index")
	}
	for i := range 20 {
		e.put(pkg{campaign: "c", language: "ru", headline: fmt.Sprintf("Пакет %d", i)})
	}
	e.sync()
	e.closeIndex()
	later := e.put(pkg{campaign: "c", language: "kk", headline: "Жаңалық"})
	gone := e.put(pkg{campaign: "c", language: "ru", headline: "Удалённый"})
	if _, err := e.cat.DeletePackage(t.Context(), gone, func(*hub.Package) error { return nil }); err != nil {
		t.Fatal(err)
	}
	e.open()
	st := e.idx.Stats()
	// Two entries: the new package, and the deleted one's delete marker
	// (which replaced its put: the bucket keeps one entry per key).
	if st.Rebuilt || st.Applied != 2 {
		t.Fatalf("second open: rebuilt %t, applied %d entries; want 2 applied without a rebuild", st.Rebuilt, st.Applied)
	}
	if !found(e.search(admin, "жаңалық"), later) {
		t.Fatal("the package written while the index was closed is not found")
	}
	if found(e.search(admin, "удалённый"), gone) {
		t.Fatal("the package deleted while the index was closed is found")
	}
	if n, err := e.idx.DocCount(); err != nil || n != 21 {
		t.Fatalf("documents %d, %v; want 21", n, err)
	}
}

// TestRebuildsForARecreatedBucket: an index of a bucket that was deleted
// and created again is built anew, and holds nothing of the old one.
func TestRebuildsForARecreatedBucket(t *testing.T) {
	srv := natstest.Start(t, "")
	dir := t.TempDir()
	e := newEnv(t, srv, dir)
	old := e.put(pkg{campaign: "c", language: "ru", headline: "Старый пакет"})
	for range 5 {
		e.put(pkg{campaign: "c", language: "ru", headline: "Пакет"})
	}
	e.sync()
	e.closeIndex()
	e.cat.Close()
	if err := e.js.DeleteKeyValue(t.Context(), catalog.PackagesBucket); err != nil {
		t.Fatal(err)
	}
	f := newEnv(t, srv, dir)
	st := f.idx.Stats()
	if !st.Rebuilt {
		t.Fatal("the index of the deleted bucket was kept")
	}
	if found(f.search(admin, "старый"), old) {
		t.Fatal("the recreated bucket's index finds the old bucket's package")
	}
	fresh := f.put(pkg{campaign: "c", language: "ru", headline: "Новый пакет"})
	f.sync()
	if !found(f.search(admin, "новый"), fresh) {
		t.Fatal("the new package is not found")
	}
}

// TestFindsAnotherReplicasChange: a package written through another
// catalog on the same NATS is found by this replica's index.
func TestFindsAnotherReplicasChange(t *testing.T) {
	srv := natstest.Start(t, "")
	e := newEnv(t, srv, t.TempDir())
	_, js := natstest.Connect(t, srv)
	other, err := catalog.Open(t.Context(), js, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	now := time.Now().UTC()
	p := &hub.Package{ID: e.ids.New(), Campaign: "c", Language: "ky", Version: 1, Status: hub.StatusDraft,
		FirstCreated: now, VersionCreated: now, Headlines: []hub.Text{{Value: "Зомбулукка каршы кампания"}}}
	if err := other.CreatePackage(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	e.sync()
	// This replica's listings learn of it through their own watch.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for {
		if _, err := e.cat.Listed(ctx, p.ID); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("this replica's listings never learned of the package")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if !found(e.search(admin, "зомбулук"), p.ID) {
		t.Fatal("the other replica's package is not found")
	}
}

func (e *env) packages() jetstream.KeyValue {
	e.t.Helper()
	kv, err := e.js.KeyValue(e.t.Context(), catalog.PackagesBucket)
	if err != nil {
		e.t.Fatal(err)
	}
	return kv
}

// TestIndexBuildingAnswers: until the index has caught up, a search, a q
// listing and the feeds' question answer ErrIndexBuilding (or, for the
// feeds, do not wait on it).
func TestIndexBuildingAnswers(t *testing.T) {
	e := newEnv(t, natstest.Start(t, ""), t.TempDir())
	id := e.put(pkg{campaign: "c", language: "ru", headline: "Кампания", state: "released"})
	e.sync()
	e.idx.UnreadyForTest()
	if _, err := e.svc.Search(t.Context(), admin, hub.SearchRequest{Text: "кампания"}); !errors.Is(err, hub.ErrIndexBuilding) {
		t.Fatalf("search: %v", err)
	}
	if _, err := e.svc.Packages(t.Context(), admin, hub.PackageQuery{Text: "кампания"}); !errors.Is(err, hub.ErrIndexBuilding) {
		t.Fatalf("q listing: %v", err)
	}
	if !e.svc.IndexShows(t.Context(), id, hub.EventReleased, 1) {
		t.Fatal("the feeds wait on an index that is building")
	}
	if _, err := e.svc.Packages(t.Context(), admin, hub.PackageQuery{}); err != nil {
		t.Fatalf("a listing without q needs no search index: %v", err)
	}
}

// TestBadQueries: empty, over-long and malformed words are EINVALID with
// a sentence saying why; hostile words are only words.
func TestBadQueries(t *testing.T) {
	e := newEnv(t, natstest.Start(t, ""), t.TempDir())
	e.put(pkg{campaign: "c", language: "en", headline: "Harassment"})
	e.sync()
	for _, q := range []string{"", "   ", strings.Repeat("я", hub.MaxSearchText+1), "a\x00b", "\xff\xfe", "!!! ???", strings.Repeat("w ", hub.MaxSearchWords+1),
		// Written without spaces, each character is a term of its own.
		strings.Repeat("性骚扰", 6)} {
		_, err := e.svc.Search(t.Context(), admin, hub.SearchRequest{Text: q})
		if hub.ErrorCode(err) != hub.EINVALID || hub.ErrorMessage(err) == "" {
			t.Errorf("search %q: %v", q, err)
		}
	}
	for _, q := range []string{"harass*", "title:harassment", "harassment~2", "/harass.*/", "+harassment -x", `"harassment"`, "harassment AND"} {
		if _, err := e.svc.Search(t.Context(), admin, hub.SearchRequest{Text: q}); err != nil {
			t.Errorf("search %q: %v", q, err)
		}
	}
	for _, c := range []string{"0", "-1", "01", "x", "1000", "99999999999999999999"} {
		_, err := e.svc.Search(t.Context(), admin, hub.SearchRequest{Text: "harassment", Cursor: c})
		if hub.ErrorCode(err) != hub.EINVALID {
			t.Errorf("cursor %q: %v", c, err)
		}
	}
}

// TestPagesOfResults: a search pages by its cursor through every hit
// once, best first.
func TestPagesOfResults(t *testing.T) {
	e := newEnv(t, natstest.Start(t, ""), t.TempDir())
	var want []string
	for i := range 7 {
		want = append(want, e.put(pkg{campaign: "c", language: "ru", headline: fmt.Sprintf("Кампания %d", i)}))
	}
	e.sync()
	var got []string
	req := hub.SearchRequest{Text: "кампания", Limit: 3}
	for pages := 0; ; pages++ {
		page, err := e.svc.Search(t.Context(), admin, req)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(page.Hits)...)
		if page.Next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("the pages do not end")
		}
		req.Cursor = page.Next
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("pages held %v, want %v", got, want)
	}
	// The q filter of a listing: newest first, by id cursor.
	page, err := e.svc.Packages(t.Context(), admin, hub.PackageQuery{Text: "кампания", Limit: 4})
	if err != nil || len(page.Items) != 4 || page.Items[0].ID != want[6] || page.Next != page.Items[3].ID {
		t.Fatalf("q listing: %v, %+v", err, page)
	}
	page, err = e.svc.Packages(t.Context(), admin, hub.PackageQuery{Text: "кампания", Limit: 4, After: page.Next})
	if err != nil || len(page.Items) != 3 || page.Items[0].ID != want[2] || page.Next != "" {
		t.Fatalf("q listing, second page: %v, %+v", err, page)
	}
}
