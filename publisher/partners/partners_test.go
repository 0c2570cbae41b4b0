package partners_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/publisher/partners"
	"github.com/syndication-hub/hub/publisher/wire"
)

// outlet is a partner's own NATS client, connected over TCP with the
// credentials GET /v1/me/nats hands out.
type outlet struct {
	nc  *nats.Conn
	js  jetstream.JetStream
	acc hub.NATSAccess
}

func connectOutlet(t *testing.T, acc hub.NATSAccess, key string) *outlet {
	t.Helper()
	if acc.Credential != hub.NATSCredentialKey {
		t.Fatalf("the hub names credential %q, want the key", acc.Credential)
	}
	nc, err := nats.Connect(acc.URL, nats.UserInfo(acc.User, key), nats.CustomInboxPrefix(acc.InboxPrefix),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatalf("outlet connect: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return &outlet{nc: nc, js: js, acc: acc}
}

// fetch takes what the outlet's consumer has, acking each, and returns the
// package ids (ce-subject) in order.
func (o *outlet) fetch(t *testing.T) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cons, err := o.js.Consumer(ctx, o.acc.Stream, o.acc.Consumer)
	if err != nil {
		t.Fatalf("outlet consumer: %v", err)
	}
	var ids []string
	batch, err := cons.FetchNoWait(100)
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		ids = append(ids, m.Headers().Get(wire.HeaderSubject))
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// replica is one hub (hubtest: the composition root as `hub serve` runs
// it) with its NATS server and partners' access.
type replica struct {
	hub    *hubtest.Hub
	js     jetstream.JetStream
	svc    *hub.Service
	admin  *hub.Key
	access *partners.Access
	// shipped is the external NATS started from deploy/nats (nil on the
	// embedded server).
	shipped *natstest.Shipped
}

// newReplica starts a hub on its embedded NATS server.
func newReplica(t *testing.T) *replica {
	t.Helper()
	h := hubtest.Start(t, hubtest.Options{})
	return &replica{hub: h, js: h.Server.JetStream(), svc: h.Service, admin: h.Admin(t), access: h.Server.PartnerAccess()}
}

// newShippedReplica starts a hub on an external NATS run from the config
// the project ships, answering its auth callout.
func newShippedReplica(t *testing.T, lifetime time.Duration) *replica {
	t.Helper()
	n := natstest.RunShipped(t, "../../deploy/nats/hub-single.conf")
	h := hubtest.Start(t, hubtest.Options{NATSURL: n.HubURL, NATSCalloutSeed: n.CalloutSeedFile, NATSGrantLifetime: lifetime})
	return &replica{hub: h, js: h.Server.JetStream(), svc: h.Service, admin: h.Admin(t), access: h.Server.PartnerAccess(), shipped: n}
}

// modes runs test on the embedded server and on the shipped external
// config.
func modes(t *testing.T, test func(t *testing.T, r *replica)) {
	t.Run("embedded", func(t *testing.T) { test(t, newReplica(t)) })
	t.Run("external", func(t *testing.T) { test(t, newShippedReplica(t, 0)) })
}

// partnerKey makes a key of partner p and returns its NATS access and
// secret, as GET /v1/me/nats answers the key.
func (r *replica) partnerKey(t *testing.T, p *hub.Partner, expires *time.Time) (hub.NATSAccess, *hub.Key, string) {
	t.Helper()
	ctx := context.Background()
	k, secret, err := r.svc.CreateKey(ctx, r.admin, hub.Key{Name: p.Name, Role: hub.RolePartner, Partner: p.ID, Expires: expires})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := r.svc.PartnerNATS(ctx, k, r.access)
	if err != nil {
		t.Fatal(err)
	}
	if acc.User != k.ID {
		t.Fatalf("NATS user %q, want the key's id %q", acc.User, k.ID)
	}
	return acc, k, secret
}

func (r *replica) readyPackage(t *testing.T, campaign string) *hub.Package {
	t.Helper()
	return r.hub.ReadyPackage(t, campaign)
}

func TestPartnerNATSAccessIsLimitedToItsConsumer(t *testing.T) {
	modes(t, testPartnerNATSAccessIsLimitedToItsConsumer)
}

func testPartnerNATSAccessIsLimitedToItsConsumer(t *testing.T, r *replica) {
	ctx := context.Background()
	access := r.access
	if _, err := r.svc.CreateCampaign(ctx, r.admin, &hub.Campaign{Slug: "survivors", Visibility: hub.VisibilityPartners}); err != nil {
		t.Fatal(err)
	}
	a, err := r.svc.CreatePartner(ctx, r.admin, &hub.Partner{Name: "Almaty TV", Medium: hub.MediumTV, Campaigns: []string{"survivors"}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.svc.CreatePartner(ctx, r.admin, &hub.Partner{Name: "Bishkek Online", Medium: hub.MediumOnline, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	closed, open := r.readyPackage(t, "survivors"), r.readyPackage(t, "korgau123")
	for _, p := range []*hub.Package{closed, open} {
		if _, err := r.svc.Release(ctx, r.admin, p.ID, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := access.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	accA, _, keyA := r.partnerKey(t, a, nil)
	accB, _, keyB := r.partnerKey(t, b, nil)
	outA, outB := connectOutlet(t, accA, keyA), connectOutlet(t, accB, keyB)
	if got := outA.fetch(t); !slices.Equal(got, []string{closed.ID, open.ID}) {
		t.Errorf("entitled partner received %v, want both packages", got)
	}
	if got := outB.fetch(t); !slices.Equal(got, []string{open.ID}) {
		t.Errorf("partner B received %v, want only the public package", got)
	}

	// B tries every other JetStream way to campaign "survivors".
	short := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, time.Second) }
	attempts := map[string]func(outB *outlet) error{
		"use A's consumer": func(outB *outlet) error {
			c, cancel := short()
			defer cancel()
			_, err := outB.js.Consumer(c, wire.Stream, accA.Consumer)
			return err
		},
		"create a consumer of its own": func(outB *outlet) error {
			c, cancel := short()
			defer cancel()
			_, err := outB.js.CreateOrUpdateConsumer(c, wire.Stream, jetstream.ConsumerConfig{Durable: "mine", FilterSubject: "hub.releases.survivors.>"})
			return err
		},
		"read the stream by sequence": func(outB *outlet) error {
			c, cancel := short()
			defer cancel()
			_, err := outB.nc.RequestWithContext(c, "$JS.API.STREAM.MSG.GET."+wire.Stream, []byte(`{"seq":1}`))
			return err
		},
		"direct get": func(outB *outlet) error {
			c, cancel := short()
			defer cancel()
			_, err := outB.nc.RequestWithContext(c, "$JS.API.DIRECT.GET."+wire.Stream, []byte(`{"last_by_subj":"hub.releases.survivors.ru.`+closed.ID+`"}`))
			return err
		},
		"read the packages bucket": func(outB *outlet) error {
			c, cancel := short()
			defer cancel()
			_, err := outB.nc.RequestWithContext(c, "$JS.API.DIRECT.GET.KV_hub_packages", []byte(`{"last_by_subj":"$KV.hub_packages.`+closed.ID+`"}`))
			return err
		},
		"subscribe to the subjects": func(outB *outlet) error {
			sub, err := outB.nc.SubscribeSync("hub.releases.>")
			if err != nil {
				return err
			}
			outB.nc.Flush()
			_, err = sub.NextMsg(300 * time.Millisecond)
			if err == nil {
				return nil
			}
			return outB.nc.LastError()
		},
		"publish an announcement": func(outB *outlet) error {
			c, cancel := short()
			defer cancel()
			_, err := outB.js.Publish(c, "hub.releases.survivors.ru.X", []byte("{}"))
			return err
		},
	}
	t.Run("denied", func(t *testing.T) {
		for name, try := range attempts {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				o := connectOutlet(t, accB, keyB) // its own connection, so its errors are its own
				if err := try(o); err == nil {
					t.Fatalf("partner B could %s", name)
				}
				if err := o.nc.LastError(); err == nil || !strings.Contains(err.Error(), "Permissions Violation") {
					t.Errorf("the server did not refuse it as a permissions violation: %v", err)
				}
			})
		}
	})
	if _, err := nats.Connect(accB.URL, nats.Timeout(time.Second)); err == nil {
		t.Error("the client listener admitted a connection without credentials")
	}
	if _, err := nats.Connect(accB.URL, nats.UserInfo(accB.User, "wrong"), nats.Timeout(time.Second)); err == nil {
		t.Error("the client listener admitted a wrong password")
	}
	if _, err := nats.Connect(accB.URL, nats.UserInfo(accA.User, keyB), nats.Timeout(time.Second)); err == nil {
		t.Error("the client listener admitted a key under another key's user")
	}

	// An outlet offline for a while replays what it missed, from where it stopped.
	outB.nc.Close()
	later := r.readyPackage(t, "korgau123")
	if _, err := r.svc.Release(ctx, r.admin, later.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got := connectOutlet(t, accB, keyB).fetch(t); !slices.Equal(got, []string{later.ID}) {
		t.Errorf("after reconnecting partner B received %v, want only the release it missed", got)
	}

	// Entitlements narrow at once on the next sync: A loses "survivors".
	if _, err := r.svc.UpdatePartner(ctx, r.admin, a.ID, hub.PartnerPatch{Campaigns: &[]string{}}); err != nil {
		t.Fatal(err)
	}
	if err := access.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	another := r.readyPackage(t, "survivors")
	if _, err := r.svc.Release(ctx, r.admin, another.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got := outA.fetch(t); slices.Contains(got, another.ID) {
		t.Errorf("partner A still receives a campaign it lost: %v", got)
	}
	// A deactivated partner's user and consumer are gone.
	active := false
	if _, err := r.svc.UpdatePartner(ctx, r.admin, b.ID, hub.PartnerPatch{Active: &active}); err != nil {
		t.Fatal(err)
	}
	if err := access.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := nats.Connect(accB.URL, nats.UserInfo(accB.User, keyB), nats.Timeout(time.Second)); err == nil {
		t.Error("a deactivated partner can still connect")
	}
	if _, err := r.js.Consumer(ctx, wire.Stream, accB.Consumer); err == nil {
		t.Error("a deactivated partner's consumer remains")
	}
}

// TestNewCampaignsAndEntitlementsReachConsumersAtOnce releases the first
// package of a brand-new campaign, and one right after an entitlement is
// granted, with no periodic sync in between: a consumer moves past what
// its filter excludes, so the guard must widen filters before publishing.
func TestNewCampaignsAndEntitlementsReachConsumersAtOnce(t *testing.T) {
	ctx := context.Background()
	r := newReplica(t)
	access := r.access
	p, err := r.svc.CreatePartner(ctx, r.admin, &hub.Partner{Name: "Osh TV", Medium: hub.MediumTV, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := access.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	acc, _, key := r.partnerKey(t, p, nil)
	out := connectOutlet(t, acc, key)

	fresh := r.readyPackage(t, "brand-new-campaign") // creates the public campaign
	if _, err := r.svc.Release(ctx, r.admin, fresh.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.CreateCampaign(ctx, r.admin, &hub.Campaign{Slug: "closed", Visibility: hub.VisibilityPartners}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.UpdatePartner(ctx, r.admin, p.ID, hub.PartnerPatch{Campaigns: &[]string{"closed"}}); err != nil {
		t.Fatal(err)
	}
	granted := r.readyPackage(t, "closed")
	if _, err := r.svc.Release(ctx, r.admin, granted.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got := out.fetch(t); !slices.Equal(got, []string{fresh.ID, granted.ID}) {
		t.Errorf("the partner's consumer delivered %v, want both releases", got)
	}
}
