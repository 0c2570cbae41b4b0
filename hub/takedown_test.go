package hub_test

import (
	"slices"
	"testing"

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
