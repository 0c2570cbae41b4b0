package hub_test

import (
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// TestFeedTokenState: whoever may manage a partner's feed token can tell
// whether it has one, since when, and whether its URLs work (they stop
// with the key that issued it); another outlet and producers learn
// nothing, and the token itself is never read back.
func TestFeedTokenState(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	outlet := d.partner("Almaty TV", true)
	own := d.key(hub.Key{Role: hub.RolePartner, Partner: outlet.ID})
	issuer := d.key(hub.Key{Role: hub.RolePartner, Partner: outlet.ID, Name: "issuer"})
	peer := d.key(hub.Key{Role: hub.RolePartner, Partner: d.partner("Osh FM", true).ID})

	if st, err := d.svc.FeedToken(ctx, own, outlet.ID); err != nil || st.Issued || st.Works {
		t.Fatalf("before any token: %+v, %v", st, err)
	}
	d.clock.Set(start.Add(time.Hour))
	if _, err := d.svc.IssueFeedToken(ctx, issuer, outlet.ID); err != nil {
		t.Fatal(err)
	}
	st, err := d.svc.FeedToken(ctx, own, outlet.ID)
	if err != nil || !st.Issued || !st.Works || st.At == nil || !st.At.Equal(start.Add(time.Hour)) || st.Key != issuer.ID {
		t.Fatalf("after issuing: %+v, %v", st, err)
	}
	if st, err := d.svc.FeedToken(ctx, d.admin, outlet.ID); err != nil || !st.Issued {
		t.Errorf("an admin reads %+v, %v", st, err)
	}
	_, err = d.svc.FeedToken(ctx, peer, outlet.ID)
	wantCode(t, "another outlet", err, hub.ENOTFOUND)
	_, err = d.svc.FeedToken(ctx, d.key(hub.Key{Role: hub.RoleProducer}), outlet.ID)
	wantCode(t, "a producer", err, hub.EFORBIDDEN)

	// The issuing key revoked: the token is there but answers nothing.
	if err := d.svc.RevokeKey(ctx, d.admin, issuer.ID); err != nil {
		t.Fatal(err)
	}
	if st, err := d.svc.FeedToken(ctx, own, outlet.ID); err != nil || !st.Issued || st.Works {
		t.Errorf("after the issuer's revocation: %+v, %v", st, err)
	}
	if err := d.svc.RevokeFeedToken(ctx, own, outlet.ID); err != nil {
		t.Fatal(err)
	}
	if st, err := d.svc.FeedToken(ctx, own, outlet.ID); err != nil || st.Issued || st.At != nil {
		t.Errorf("after revoking the token: %+v, %v", st, err)
	}
}
