package hub_test

import (
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// TestKeyRotationGracePeriod rotates a partner key on the domain's clock:
// both secrets are the same key during the grace period, the old one is
// refused after it, the expiry stays, and revoking ends every secret.
func TestKeyRotationGracePeriod(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	p := d.partner("Vesti", true, "korgau123")
	expires := start.Add(90 * 24 * time.Hour)
	k, oldSecret, err := d.svc.CreateKey(ctx, d.admin, hub.Key{Name: "ingest", Role: hub.RolePartner, Partner: p.ID, Expires: &expires})
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	rotated, newSecret, err := d.svc.RotateKey(ctx, k, k.ID, &day) // the holder rotates its own key
	if err != nil {
		t.Fatal(err)
	}
	if rotated.ID != k.ID || !rotated.Expires.Equal(expires) || rotated.Partner != p.ID || newSecret == oldSecret ||
		rotated.Prefix != hub.KeySecretPrefix(newSecret) || rotated.Hash != hub.HashKeySecret(newSecret) {
		t.Fatalf("rotated key %+v", rotated)
	}
	for _, s := range []string{oldSecret, newSecret} {
		got, err := d.svc.Authenticate(ctx, s)
		if err != nil || got.ID != k.ID || got.Role != hub.RolePartner || got.Partner != p.ID {
			t.Fatalf("during the grace period a secret authenticates as %+v, %v", got, err)
		}
	}
	old, _ := d.svc.Authenticate(ctx, oldSecret)
	if _, _, err := d.svc.RotateKey(ctx, old, k.ID, nil); hub.ErrorCode(err) != hub.EFORBIDDEN {
		t.Errorf("the replaced secret rotating again: %v, want %s", err, hub.EFORBIDDEN)
	}
	infos, err := d.svc.Keys(ctx, d.admin)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 || infos[1].Key.ID != k.ID || infos[1].Key.Hash != rotated.Hash ||
		infos[1].Grace == nil || !infos[1].Grace.Equal(start.Add(day)) {
		t.Errorf("listing during the grace period: %+v", infos)
	}

	d.clock.Set(start.Add(day - time.Second))
	if _, err := d.svc.Authenticate(ctx, oldSecret); err != nil {
		t.Errorf("a second before the grace period ends: %v", err)
	}
	d.clock.Set(start.Add(day))
	if _, err := d.svc.Authenticate(ctx, oldSecret); hub.ErrorCode(err) != hub.EUNAUTHORIZED {
		t.Errorf("after the grace period the old secret: %v, want %s", err, hub.EUNAUTHORIZED)
	}
	if _, err := d.svc.Authenticate(ctx, newSecret); err != nil {
		t.Errorf("after the grace period the new secret: %v", err)
	}
	if infos, _ := d.svc.Keys(ctx, d.admin); infos[1].Grace != nil {
		t.Errorf("grace still listed after it ended: %v", infos[1].Grace)
	}

	// At most two secrets at a time: a third rotation retires the secret
	// the second one left in its grace period.
	current, _ := d.svc.Authenticate(ctx, newSecret)
	_, second, err := d.svc.RotateKey(ctx, current, k.ID, nil) // the default grace
	if err != nil {
		t.Fatal(err)
	}
	_, third, err := d.svc.RotateKey(ctx, d.admin, k.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for secret, ok := range map[string]bool{newSecret: false, second: true, third: true} {
		if _, err := d.svc.Authenticate(ctx, secret); (err == nil) != ok {
			t.Errorf("after two more rotations, works %v, want %v", err == nil, ok)
		}
	}
	d.clock.Set(start.Add(day + hub.DefaultKeyGrace))
	if _, err := d.svc.Authenticate(ctx, second); err == nil {
		t.Error("the default grace period did not end")
	}

	if err := d.svc.RevokeKey(ctx, d.admin, k.ID); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{oldSecret, newSecret, second, third} {
		if _, err := d.svc.Authenticate(ctx, s); hub.ErrorCode(err) != hub.EUNAUTHORIZED {
			t.Errorf("a secret of a revoked key: %v", err)
		}
	}
}

// TestKeyRotationRules: who may rotate, the grace's bounds, expired keys,
// and an operator's HUB_ADMIN_KEY staying rotated away across restarts.
func TestKeyRotationRules(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	producer := d.key(hub.Key{Role: hub.RoleProducer})
	other := d.key(hub.Key{Role: hub.RoleProducer})
	if _, _, err := d.svc.RotateKey(ctx, other, producer.ID, nil); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("a producer rotating another's key: %v, want %s", err, hub.ENOTFOUND)
	}
	for _, g := range []time.Duration{-time.Second, hub.MaxKeyGrace + time.Second} {
		if _, _, err := d.svc.RotateKey(ctx, producer, producer.ID, &g); hub.ErrorCode(err) != hub.EINVALID {
			t.Errorf("grace %s: %v, want %s", g, err, hub.EINVALID)
		}
	}
	if _, _, err := d.svc.RotateKey(ctx, d.admin, "01JD3Z8Q4VJ5K6XW0M2N7P9RST", nil); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("an unknown key: %v", err)
	}
	soon := start.Add(time.Hour)
	brief := d.key(hub.Key{Role: hub.RoleProducer, Expires: &soon})
	d.clock.Set(soon)
	if _, _, err := d.svc.RotateKey(ctx, d.admin, brief.ID, nil); hub.ErrorCode(err) != hub.ECONFLICT {
		t.Errorf("an expired key: %v, want %s", err, hub.ECONFLICT)
	}

	const operator = "hub_operator-chosen-admin-secret-0123"
	if _, err := d.svc.EnsureAdminKey(ctx, operator); err != nil {
		t.Fatal(err)
	}
	op, err := d.svc.Authenticate(ctx, operator)
	if err != nil {
		t.Fatal(err)
	}
	zero := time.Duration(0)
	if _, _, err := d.svc.RotateKey(ctx, op, op.ID, &zero); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.EnsureAdminKey(ctx, operator); err != nil { // the next start, same environment
		t.Fatal(err)
	}
	if _, err := d.svc.Authenticate(ctx, operator); hub.ErrorCode(err) != hub.EUNAUTHORIZED {
		t.Errorf("HUB_ADMIN_KEY rotated away came back on restart: %v", err)
	}
}

// TestWhatAKeyMadeDiesWithIt: a feed token issued with a key stops working
// when the key is revoked or expires (the 404 of any wrong token), the
// admin's listing shows what each key made, and a token issued before
// creators were recorded keeps working.
func TestWhatAKeyMadeDiesWithIt(t *testing.T) {
	d := newDomain(t)
	ctx := t.Context()
	p := d.partner("Vesti", true, "korgau123")
	q := d.partner("Tynys", true, "korgau123")
	k := d.key(hub.Key{Role: hub.RolePartner, Partner: p.ID})
	soon := start.Add(time.Hour)
	brief := d.key(hub.Key{Role: hub.RolePartner, Partner: q.ID, Expires: &soon})

	token, err := d.svc.IssueFeedToken(ctx, k, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	briefToken, err := d.svc.IssueFeedToken(ctx, brief, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{token, briefToken} {
		if _, err := d.svc.PartnerByFeedToken(ctx, tok); err != nil {
			t.Fatalf("a fresh token: %v", err)
		}
	}
	infos, err := d.svc.Keys(ctx, d.admin)
	if err != nil {
		t.Fatal(err)
	}
	made := map[string][]string{}
	for _, info := range infos {
		made[info.Key.ID] = info.FeedTokens
	}
	if len(made[k.ID]) != 1 || made[k.ID][0] != p.ID || len(made[brief.ID]) != 1 || made[brief.ID][0] != q.ID || made[d.admin.ID] != nil {
		t.Errorf("what the keys made: %v", made)
	}

	d.clock.Set(soon) // brief expires
	if _, err := d.svc.PartnerByFeedToken(ctx, briefToken); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("the token of an expired key: %v, want %s", err, hub.ENOTFOUND)
	}
	if err := d.svc.RevokeKey(ctx, d.admin, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.PartnerByFeedToken(ctx, token); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("the token of a revoked key: %v, want %s", err, hub.ENOTFOUND)
	}
	// A token recorded without its creator (issued before the hub kept
	// one) keeps working.
	if _, err := d.catalog.UpdatePartner(ctx, p.ID, func(p *hub.Partner) error { p.FeedTokenKey = ""; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.PartnerByFeedToken(ctx, token); err != nil {
		t.Errorf("a token without a recorded creator: %v", err)
	}
	alive, err := hub.KeyAlive(ctx, d.catalog, "", d.clock.Now())
	if err != nil || !alive {
		t.Errorf("no recorded creator stands: %v, %v", alive, err)
	}
}
