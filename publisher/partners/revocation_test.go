package partners_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
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
// connections at once and ends live ones on the next sync (the embedded
// server closes them itself; on the external config the replica that
// answered the callout asks the server to, through the system account's
// kick service), while the partner's other keys keep working. The user
// JWTs live 15 minutes here, so nothing below ends by their expiry but
// the expiring key's, whose JWT ends with the key.
func TestNATSCredentialsDieWithTheKey(t *testing.T) {
	modes(t, testNATSCredentialsDieWithTheKey)
}

// TestCalloutJWTLifetimeBoundsAConnection: where the hub cannot close a
// connection (the replica that admitted it is gone, or the cluster lends
// no kick service), the user JWT's end does, and a client whose key is
// still good reconnects unnoticed.
func TestCalloutJWTLifetimeBoundsAConnection(t *testing.T) {
	ctx := context.Background()
	r := newShippedReplica(t, 2*time.Second)
	p, err := r.svc.CreatePartner(ctx, r.admin, &hub.Partner{Name: "Talas TV", Medium: hub.MediumTV, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	acc, _, key := r.partnerKey(t, p, nil)
	w := connectWatched(t, acc, key)
	start := time.Now()
	w.endsWithin(t, 4*time.Second, "the JWT's end")
	if took := time.Since(start); took < time.Second {
		t.Errorf("the connection ended after %v, before its JWT", took)
	}
	out := connectOutlet(t, acc, key)
	time.Sleep(3 * time.Second) // past one JWT: the client reconnected
	out.fetch(t)
	if out.nc.IsClosed() {
		t.Error("a client with a good key did not outlive its JWT")
	}
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
	// The embedded server ends it at the key's expiry; outside, the JWT
	// ends then, to the second (JWT times are whole seconds).
	if time.Now().Before(expiry.Truncate(time.Second)) {
		t.Errorf("the expiring key's connection ended %s before the key expired", time.Until(expiry))
	}
	time.Sleep(time.Until(expiry))
	refused(t, accExpiring, secretExpiring, "expired key")

	// The partner's other key was untouched by both.
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

// TestRotationRotatesTheNATSCredential: the NATS credential is the key,
// so a rotation rotates it with the same grace period: the new secret
// connects at once, the old one keeps its connection until the grace
// ends (then it is closed on the next sync and refused), and a rotation
// with no grace ends the old secret's connection on the next sync.
func TestRotationRotatesTheNATSCredential(t *testing.T) {
	modes(t, testRotationRotatesTheNATSCredential)
}

func testRotationRotatesTheNATSCredential(t *testing.T, r *replica) {
	ctx := context.Background()
	p, err := r.svc.CreatePartner(ctx, r.admin, &hub.Partner{Name: "Jalal-Abad TV", Medium: hub.MediumTV, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, grace := range []time.Duration{2 * time.Second, 0} {
		acc, k, oldSecret := r.partnerKey(t, p, nil)
		old := connectWatched(t, acc, oldSecret)
		_, newSecret, err := r.svc.RotateKey(ctx, r.admin, k.ID, &grace)
		if err != nil {
			t.Fatal(err)
		}
		connectOutlet(t, acc, newSecret).fetch(t)
		if grace > 0 {
			if err := r.access.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case <-old.closed:
				t.Fatalf("grace %s: the old secret's connection ended before its grace period", grace)
			case <-time.After(200 * time.Millisecond):
			}
			time.Sleep(grace)
		}
		refused(t, acc, oldSecret, "a rotated-away secret")
		if err := r.access.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		old.endsWithin(t, 5*time.Second, "a rotated-away secret")
	}
}

// TestMyNATSNamesTheKeyAndNoSecret: GET /v1/me/nats tells the caller to
// connect as its key's id with its key, and carries no secret at all (the
// earlier answer had a password of its own).
func TestMyNATSNamesTheKeyAndNoSecret(t *testing.T) {
	r := newReplica(t)
	p, err := r.svc.CreatePartner(context.Background(), r.admin, &hub.Partner{Name: "Batken TV", Medium: hub.MediumTV, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	_, k, secret := r.partnerKey(t, p, nil)
	req, _ := http.NewRequest(http.MethodGet, r.hub.URL+"/v1/me/nats", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if got["user"] != k.ID || got["credential"] != hub.NATSCredentialKey {
		t.Errorf("answer %s: want user %s and credential %q", body, k.ID, hub.NATSCredentialKey)
	}
	if _, ok := got["password"]; ok || strings.Contains(string(body), secret) || strings.Contains(string(body), k.Hash) {
		t.Errorf("the answer carries a secret: %s", body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	// Only partner keys open NATS: an admin key, good as it is, does not.
	acc := hub.NATSAccess{URL: got["url"].(string)}
	acc.User = r.admin.ID
	refused(t, acc, r.hub.AdminKey, "an admin key")
}
