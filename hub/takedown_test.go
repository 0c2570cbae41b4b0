package hub_test

import (
	"slices"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// TestKillNoticeExpectsWhoCouldReadItLive: the outlets a kill notice is
// for are the active partners that could read the package while it was
// live, by the visibility rule, whatever the kind of notice; they
// confirm, nobody else does.
func TestKillNoticeExpectsWhoCouldReadItLive(t *testing.T) {
	tests := []struct {
		name       string
		visibility hub.Visibility
		purge      bool
		want       []string
	}{
		{"partners-only campaign, withdrawn", hub.VisibilityPartners, false, []string{"entitled"}},
		{"partners-only campaign, purged without a withdrawal", hub.VisibilityPartners, true, []string{"entitled"}},
		{"public campaign, withdrawn", hub.VisibilityPublic, false, []string{"entitled", "other campaign's"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDomain(t)
			ctx := t.Context()
			d.campaign("tk", tt.visibility)
			names := map[string]string{}
			keys := map[string]*hub.Key{}
			for _, p := range []struct {
				name     string
				active   bool
				campaign string
			}{{"entitled", true, "tk"}, {"other campaign's", true, "else"}, {"inactive", false, "tk"}} {
				partner := d.partner(p.name, p.active, p.campaign)
				names[partner.ID] = p.name
				keys[p.name] = d.key(hub.Key{Role: hub.RolePartner, Partner: partner.ID})
			}
			p := d.released(d.admin, "tk", "Заголовок", 1)
			if _, err := d.svc.ConfirmTakedown(ctx, keys["entitled"], p.ID, hub.TakedownViaAPI); hub.ErrorCode(err) != hub.ECONFLICT {
				t.Errorf("confirming a live package: %v, want a conflict", err)
			}
			var err error
			if tt.purge {
				_, err = d.svc.Purge(ctx, d.admin, p.ID)
			} else {
				_, err = d.svc.Withdraw(ctx, d.admin, p.ID)
			}
			if err != nil {
				t.Fatal(err)
			}
			r, err := d.svc.Takedowns(ctx, d.admin, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range r.Outlets {
				got = append(got, names[o.Partner])
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("expected outlets %v, want %v", got, tt.want)
			}
			for _, name := range []string{"entitled", "other campaign's"} {
				_, err := d.svc.ConfirmTakedown(ctx, keys[name], p.ID, hub.TakedownViaAPI)
				if want := slices.Contains(tt.want, name); (err == nil) != want {
					t.Errorf("%s confirming: %v, want it accepted: %v", name, err, want)
				}
			}
			if r, _ := d.svc.Takedowns(ctx, d.admin, p.ID); r.Unconfirmed() != 0 {
				t.Errorf("%d unconfirmed after every expected outlet confirmed", r.Unconfirmed())
			}
		})
	}
}

// TestOwnTakedown: an outlet reads its own entry of a package's takedowns,
// on every later look, and nothing of any other outlet's; keys of no
// outlet are refused, and an outlet never expected to take it down finds
// nothing.
func TestOwnTakedown(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	d.campaign("tk", hub.VisibilityPartners)
	mine := d.key(hub.Key{Role: hub.RolePartner, Partner: d.partner("Almaty TV", true, "tk").ID})
	peer := d.key(hub.Key{Role: hub.RolePartner, Partner: d.partner("Osh FM", true, "tk").ID})
	outsider := d.key(hub.Key{Role: hub.RolePartner, Partner: d.partner("Elsewhere", true, "else").ID})
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	keyless := d.key(hub.Key{Role: hub.RolePartner})
	p := d.released(d.admin, "tk", "Заголовок", 1)

	_, err := d.svc.OwnTakedown(ctx, mine, p.ID)
	wantCode(t, "a live package", err, hub.ECONFLICT)
	_, err = d.svc.OwnTakedown(ctx, outsider, p.ID)
	wantCode(t, "a live package another campaign's outlet cannot see", err, hub.ENOTFOUND)
	if _, err := d.svc.Withdraw(ctx, d.admin, p.ID); err != nil {
		t.Fatal(err)
	}
	o, err := d.svc.OwnTakedown(ctx, mine, p.ID)
	if err != nil || o.Confirmed != nil || o.Status() != hub.TakedownNotConfirmed {
		t.Fatalf("before confirming: %+v, %v", o, err)
	}
	// The peer confirms; that is not the outlet's confirmation.
	if _, err := d.svc.ConfirmTakedown(ctx, peer, p.ID, hub.TakedownViaPull); err != nil {
		t.Fatal(err)
	}
	if o, err := d.svc.OwnTakedown(ctx, mine, p.ID); err != nil || o.Confirmed != nil {
		t.Fatalf("after another outlet confirmed: %+v, %v", o, err)
	}
	d.clock.Set(start.Add(time.Hour))
	confirmed, err := d.svc.ConfirmTakedown(ctx, mine, p.ID, hub.TakedownViaAPI)
	if err != nil {
		t.Fatal(err)
	}
	// Later, and after a purge, the same entry.
	d.clock.Set(start.Add(48 * time.Hour))
	for _, purge := range []bool{false, true} {
		if purge {
			if _, err := d.svc.Purge(ctx, d.admin, p.ID); err != nil {
				t.Fatal(err)
			}
		}
		o, err := d.svc.OwnTakedown(ctx, mine, p.ID)
		if err != nil || o.Confirmed == nil || !o.Confirmed.Equal(*confirmed.Confirmed) || o.Via != hub.TakedownViaAPI ||
			o.Key != mine.ID || o.Partner != mine.Partner {
			t.Fatalf("purged %v: %+v, %v; confirmed %+v", purge, o, err, confirmed)
		}
	}
	_, err = d.svc.OwnTakedown(ctx, outsider, p.ID)
	wantCode(t, "an outlet never expected to take it down", err, hub.ENOTFOUND)
	for name, k := range map[string]*hub.Key{"admin": d.admin, "producer": producer, "partner key of no outlet": keyless} {
		_, err := d.svc.OwnTakedown(ctx, k, p.ID)
		wantCode(t, name, err, hub.EFORBIDDEN)
	}
	_, err = d.svc.OwnTakedown(ctx, mine, "01J0000000000000000000000Z")
	wantCode(t, "no such package", err, hub.ENOTFOUND)
}
