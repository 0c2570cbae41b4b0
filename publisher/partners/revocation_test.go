package partners_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/syndication-hub/hub/hub"
)

// watched is a partner's connection that does not reconnect, so the test
// sees when the server ends it.
type watched struct {
	nc     *nats.Conn
	closed chan struct{}
}

func connectWatched(t *testing.T, acc hub.NATSAccess, key string) *watched {
	t.Helper()
	w := &watched{closed: make(chan struct{})}
	nc, err := nats.Connect(acc.URL, nats.UserInfo(acc.User, key), nats.CustomInboxPrefix(acc.InboxPrefix), nats.NoReconnect(),
		nats.ClosedHandler(func(*nats.Conn) { close(w.closed) }), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatalf("connect with the key: %v", err)
	}
	t.Cleanup(nc.Close)
	w.nc = nc
	return w
}

// endsWithin fails the test unless the server ends w within d.
func (w *watched) endsWithin(t *testing.T, d time.Duration, why string) {
	t.Helper()
	select {
	case <-w.closed:
	case <-time.After(d):
		t.Fatalf("%s: the connection is still open after %s", why, d)
	}
}

func refused(t *testing.T, acc hub.NATSAccess, key, why string) {
	t.Helper()
	nc, err := nats.Connect(acc.URL, nats.UserInfo(acc.User, key), nats.Timeout(2*time.Second), nats.NoReconnect())
	if err == nil {
		nc.Close()
		t.Errorf("%s: a new connection was admitted", why)
	}
}

// TestNATSCredentialsDieWithTheKey is the audit's second finding: a
// revoked or expired key's NATS access went on. The credential is now the
// key: revoking it, its expiry, or deactivating its partner refuses new
// connections at once and ends live ones (the embedded server closes
// them on the next sync; an external cluster at the callout's JWT
// lifetime, 2 s here), while the partner's other keys keep working.
func TestNATSCredentialsDieWithTheKey(t *testing.T) {
	const lifetime = 2 * time.Second
	t.Run("embedded", func(t *testing.T) { testNATSCredentialsDieWithTheKey(t, newReplica(t)) })
	t.Run("external", func(t *testing.T) { testNATSCredentialsDieWithTheKey(t, newShippedReplica(t, lifetime)) })
}

func testNATSCredentialsDieWithTheKey(t *testing.T, r *replica) {
	ctx := context.Background()
	// Live connections end by the next sync on the embedded server (run
	// here by hand, standing for the loop), or at the JWT's end outside.
	bound := 5 * time.Second
	p, err := r.svc.CreatePartner(ctx, r.admin, &hub.Partner{Name: "Karakol FM", Medium: hub.MediumRadio, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	expiry := time.Now().Add(4 * time.Second)
	accRevoked, revokedKey, secretRevoked := r.partnerKey(t, p, nil)
	accExpiring, _, secretExpiring := r.partnerKey(t, p, &expiry)
	accKept, _, secretKept := r.partnerKey(t, p, nil)
	if accExpiring.Expires == nil || !accExpiring.Expires.Equal(expiry) {
		t.Errorf("GET /v1/me/nats says the credential expires %v, want the key's %v", accExpiring.Expires, expiry)
	}
	live := connectWatched(t, accRevoked, secretRevoked)
	expiring := connectWatched(t, accExpiring, secretExpiring)
	kept := connectOutlet(t, accKept, secretKept)

	if err := r.svc.RevokeKey(ctx, r.admin, revokedKey.ID); err != nil {
		t.Fatal(err)
	}
	refused(t, accRevoked, secretRevoked, "revoked key")
	if err := r.access.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	live.endsWithin(t, bound, "revoked key")

	expiring.endsWithin(t, time.Until(expiry)+bound, "expired key")
	// Outside, every connection ends at its JWT's end and reconnects; the
	// embedded server ends it exactly at the key's expiry.
	if r.shipped == nil && time.Now().Before(expiry) {
		t.Errorf("the expiring key's connection ended %s before the key expired", time.Until(expiry))
	}
	time.Sleep(time.Until(expiry))
	refused(t, accExpiring, secretExpiring, "expired key")

	// The partner's other key was untouched by both (outside it
	// reconnected at each JWT's end, unnoticed).
	kept.fetch(t)
	if kept.nc.IsClosed() {
		t.Fatal("the partner's other key lost its connection")
	}
	// Deactivating the partner ends its every connection.
	active := false
	if _, err := r.svc.UpdatePartner(ctx, r.admin, p.ID, hub.PartnerPatch{Active: &active}); err != nil {
		t.Fatal(err)
	}
	refused(t, accKept, secretKept, "deactivated partner")
	if err := r.access.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// The client tries to reconnect with the key and gives up once the
	// server refuses it twice.
	deadline := time.Now().Add(3 * bound)
	for !kept.nc.IsClosed() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !kept.nc.IsClosed() {
		t.Errorf("a deactivated partner's connection is still %v", kept.nc.Status())
	}
}
