package hub_test

import (
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/publisher/pickups"
)

// TestOwnRepublications: an outlet reads back the republications it
// reported of a package, one per URL (the last report of a URL stands),
// newest first, and never another outlet's reports or anyone's downloads;
// keys of no outlet are refused, and a package it may not see is not
// found. The pickup log is the real one, on an embedded NATS.
func TestOwnRepublications(t *testing.T) {
	d := newDomainWithPickups(t)
	ctx := t.Context()
	d.campaign("closed", hub.VisibilityPartners)
	mine := d.key(hub.Key{Role: hub.RolePartner, Partner: d.partner("Almaty TV", true, "closed").ID})
	peer := d.key(hub.Key{Role: hub.RolePartner, Partner: d.partner("Osh FM", true, "closed").ID})
	outsider := d.key(hub.Key{Role: hub.RolePartner, Partner: d.partner("Elsewhere", true).ID})
	p := d.released(d.admin, "closed", "Заголовок", 1)
	other := d.released(d.admin, "closed", "Другой", 2)

	report := func(k *hub.Key, id, url string, at time.Time, audience int64) {
		t.Helper()
		d.clock.Set(at)
		published := at.Add(-time.Hour)
		if _, err := d.svc.ReportRepublication(ctx, k, id, hub.Republication{URL: url, Published: &published, Audience: audience}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := d.svc.OwnRepublications(ctx, mine, p.ID); err != nil || len(got) != 0 {
		t.Fatalf("before any report: %v, %v", got, err)
	}
	report(mine, p.ID, "https://almaty.tv/news/1", start.Add(time.Hour), 100)
	report(peer, p.ID, "https://osh.fm/1", start.Add(2*time.Hour), 5)
	report(mine, p.ID, "https://almaty.tv/news/2", start.Add(3*time.Hour), 7)
	report(mine, other.ID, "https://almaty.tv/news/other", start.Add(4*time.Hour), 1)
	// The first URL reported again, later, with a new audience.
	report(mine, p.ID, "https://almaty.tv/news/1", start.Add(5*time.Hour), 250)
	asset := p.Assets[0]
	d.svc.RecordDownload(ctx, mine, p, hub.Pickup{Kind: hub.PickupDownload, Asset: asset.Name, Bytes: asset.Size})

	got, err := d.svc.OwnRepublications(ctx, mine, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].URL != "https://almaty.tv/news/1" || got[0].Audience != 250 ||
		got[1].URL != "https://almaty.tv/news/2" || got[1].Audience != 7 {
		t.Fatalf("own republications %+v", got)
	}
	for _, pk := range got {
		if pk.Kind != hub.PickupRepublication || pk.Partner != mine.Partner || pk.Package != p.ID {
			t.Errorf("a pickup not of the outlet's own reports of the package: %+v", pk)
		}
	}
	if got, err := d.svc.OwnRepublications(ctx, peer, p.ID); err != nil || len(got) != 1 || got[0].URL != "https://osh.fm/1" {
		t.Errorf("the peer's own: %+v, %v", got, err)
	}

	_, err = d.svc.OwnRepublications(ctx, outsider, p.ID)
	wantCode(t, "an outlet that may not see the package", err, hub.ENOTFOUND)
	_, err = d.svc.OwnRepublications(ctx, mine, "01J0000000000000000000000Z")
	wantCode(t, "no such package", err, hub.ENOTFOUND)
	keyless := d.key(hub.Key{Role: hub.RolePartner})
	for name, k := range map[string]*hub.Key{"admin": d.admin, "producer": d.key(hub.Key{Role: hub.RoleProducer}), "partner key of no outlet": keyless} {
		_, err := d.svc.OwnRepublications(ctx, k, p.ID)
		wantCode(t, name, err, hub.EFORBIDDEN)
	}
	// Without a pickup log there is nothing to read.
	bare := newDomain(t)
	bare.campaign("open", hub.VisibilityPublic)
	_, err = bare.svc.OwnRepublications(ctx, bare.key(hub.Key{Role: hub.RolePartner, Partner: bare.partner("Almaty TV", true).ID}),
		bare.released(bare.admin, "open", "Заголовок", 1).ID)
	wantCode(t, "a hub that records no pickups", err, hub.EUNAVAILABLE)
}

// TestRepublicationFields: a report the domain refuses says which of its
// fields to fix, so a form can point at the input; nothing is stored.
func TestRepublicationFields(t *testing.T) {
	d := newDomainWithPickups(t)
	ctx := t.Context()
	d.campaign("open", hub.VisibilityPublic)
	k := d.key(hub.Key{Role: hub.RolePartner, Partner: d.partner("Almaty TV", true).ID})
	p := d.released(d.admin, "open", "Заголовок", 1)
	d.clock.Set(start.Add(time.Hour))
	past, future := start, start.Add(48*time.Hour)
	for _, tt := range []struct {
		name  string
		r     hub.Republication
		field string
	}{
		{"no url", hub.Republication{Published: &past}, "url"},
		{"javascript:", hub.Republication{URL: "javascript:alert(1)", Published: &past}, "url"},
		{"not a URL", hub.Republication{URL: "example.kz/news/1", Published: &past}, "url"},
		{"too long", hub.Republication{URL: "https://example.kz/" + strings.Repeat("a", hub.MaxRepublicationURL), Published: &past}, "url"},
		{"no time", hub.Republication{URL: "https://example.kz/1"}, "published"},
		{"in the future", hub.Republication{URL: "https://example.kz/1", Published: &future}, "published"},
		{"a medium of none", hub.Republication{URL: "https://example.kz/1", Published: &past, Medium: "billboard"}, "medium"},
		{"fewer than none", hub.Republication{URL: "https://example.kz/1", Published: &past, Audience: -1}, "audience"},
		{"more than everyone", hub.Republication{URL: "https://example.kz/1", Published: &past, Audience: hub.MaxAudience + 1}, "audience"},
	} {
		_, err := d.svc.ReportRepublication(ctx, k, p.ID, tt.r)
		wantCode(t, tt.name, err, hub.EINVALID)
		if got := hub.ErrorField(err); got != tt.field {
			t.Errorf("%s: field %q, want %q", tt.name, got, tt.field)
		}
	}
	if got, err := d.svc.OwnRepublications(ctx, k, p.ID); err != nil || len(got) != 0 {
		t.Errorf("refused reports stored: %+v, %v", got, err)
	}
	if f := hub.ErrorField(hub.Errorf(hub.EINVALID, "no field")); f != "" {
		t.Errorf("an error of no field names %q", f)
	}
}

// newDomainWithPickups is the domain over the in-memory catalog with the
// real pickup log, on an embedded NATS: reports of republications are
// read back from it.
func newDomainWithPickups(t *testing.T) *domain {
	t.Helper()
	_, js := natstest.Connect(t, natstest.Start(t, ""))
	log, err := pickups.Open(t.Context(), js, pickups.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return newDomainWith(t, hub.ServiceOptions{Pickups: log}, nil)
}
