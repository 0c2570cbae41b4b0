package partners_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/publisher/wire"
)

// hubState is what a reply-subject attack would change: the release
// stream, the packages and campaigns buckets, a package's and a
// campaign's entry, and another partner's consumer.
type hubState struct {
	streamMsgs, packageMsgs, campaignMsgs uint64
	packageRev, campaignRev               uint64
	otherConsumer                         time.Time
	otherDelivered, otherAckFloor         uint64
}

func (r *replica) state(t *testing.T, pkg, campaign, otherConsumer string) hubState {
	t.Helper()
	ctx := context.Background()
	var st hubState
	msgs := func(stream string) uint64 {
		s, err := r.js.Stream(ctx, stream)
		if err != nil {
			t.Fatalf("stream %s: %v", stream, err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	st.streamMsgs, st.packageMsgs, st.campaignMsgs = msgs(wire.Stream), msgs("KV_hub_packages"), msgs("KV_hub_campaigns")
	rev := func(bucket, key string) uint64 {
		kv, err := r.js.KeyValue(ctx, bucket)
		if err != nil {
			t.Fatal(err)
		}
		e, err := kv.Get(ctx, key)
		if err != nil {
			t.Fatalf("%s %s: %v", bucket, key, err)
		}
		return e.Revision()
	}
	st.packageRev, st.campaignRev = rev("hub_packages", pkg), rev("hub_campaigns", campaign)
	c, err := r.js.Consumer(ctx, wire.Stream, otherConsumer)
	if err != nil {
		t.Fatalf("consumer %s: %v", otherConsumer, err)
	}
	ci := c.CachedInfo()
	st.otherConsumer, st.otherDelivered, st.otherAckFloor = ci.Created, ci.Delivered.Stream, ci.AckFloor.Stream
	return st
}

// TestReplySubjectsReachNothingOfTheHub is the audit's critical finding:
// a partner may publish only to its consumer's INFO, MSG.NEXT and ack
// subjects, but it chooses the reply subject, and JetStream answered there
// with the hub's rights: the release stream and the packages bucket
// purged, another partner's consumer deleted, a package entry and a
// campaign overwritten. Partners now sit in accounts of their own, where
// a reply subject names nothing of the hub's; every injection must leave
// the hub's state as it was, while the partner's own reads still work.
func TestReplySubjectsReachNothingOfTheHub(t *testing.T) {
	modes(t, testReplySubjectsReachNothingOfTheHub)
}

func testReplySubjectsReachNothingOfTheHub(t *testing.T, r *replica) {
	ctx := context.Background()
	if _, err := r.svc.CreateCampaign(ctx, r.admin, &hub.Campaign{Slug: "survivors", Visibility: hub.VisibilityPartners}); err != nil {
		t.Fatal(err)
	}
	a, err := r.svc.CreatePartner(ctx, r.admin, &hub.Partner{Name: "Attacker", Medium: hub.MediumOnline, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.svc.CreatePartner(ctx, r.admin, &hub.Partner{Name: "Victim", Medium: hub.MediumTV, Campaigns: []string{"survivors"}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []*hub.Package
	for range 4 {
		p := r.readyPackage(t, "korgau123")
		if _, err := r.svc.Release(ctx, r.admin, p.ID, nil); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	accA, _, keyA := r.partnerKey(t, a, nil)
	accB, _, _ := r.partnerKey(t, b, nil)
	if err := r.access.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	info := "$JS.API.CONSUMER.INFO." + wire.Stream + "." + accA.Consumer
	next := "$JS.API.CONSUMER.MSG.NEXT." + wire.Stream + "." + accA.Consumer
	pkg := pkgs[0].ID
	// The most destructive last, so that each attack shows on its own
	// where the isolation is missing.
	targets := []struct{ name, reply string }{
		{"write into a package's entry", "$KV.hub_packages." + pkg},
		{"overwrite a campaign", "$KV.hub_campaigns.survivors"},
		// Partners share an account on the external config: a reply
		// into another partner's imported subjects must not work either.
		{"pull from another partner's consumer", "$JS.API.CONSUMER.MSG.NEXT." + wire.Stream + "." + accB.Consumer},
		{"ack another partner's message", "$JS.ACK." + wire.Stream + "." + accB.Consumer + ".1.1.1.0.0"},
		{"delete another partner's consumer", "$JS.API.CONSUMER.DELETE." + wire.Stream + "." + accB.Consumer},
		{"purge the campaigns bucket", "$JS.API.STREAM.PURGE.KV_hub_campaigns"},
		{"purge the packages bucket", "$JS.API.STREAM.PURGE.KV_hub_packages"},
		{"purge the release stream", "$JS.API.STREAM.PURGE." + wire.Stream},
		{"delete the release stream", "$JS.API.STREAM.DELETE." + wire.Stream},
	}
	out := connectOutlet(t, accA, keyA)
	for _, target := range targets {
		reply := target.reply
		t.Run(target.name, func(t *testing.T) {
			before := r.state(t, pkg, "survivors", accB.Consumer)
			// Consumer info answers with a JSON document, MSG.NEXT with
			// deliveries (one, or a no-messages status), an ack with an
			// empty confirmation: each was a way to write to reply.
			if err := out.nc.PublishRequest(info, reply, nil); err != nil {
				t.Fatal(err)
			}
			if err := out.nc.PublishRequest(next, reply, []byte(`{"batch":1,"no_wait":true}`)); err != nil {
				t.Fatal(err)
			}
			// A delivery taken and acked with the reply pointed at the hub.
			cons, err := out.js.Consumer(ctx, accA.Stream, accA.Consumer)
			if err != nil {
				t.Fatal(err)
			}
			batch, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			for m := range batch.Messages() {
				if err := out.nc.PublishMsg(&nats.Msg{Subject: m.Reply(), Reply: reply, Data: []byte("+ACK")}); err != nil {
					t.Fatal(err)
				}
			}
			if err := out.nc.Flush(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond) // what JetStream would do, it does within this
			if after := r.state(t, pkg, "survivors", accB.Consumer); after != before {
				t.Fatalf("the hub's state changed: before %+v, after %+v", before, after)
			}
		})
	}
	// The partner's own reading worked throughout, and the hub's package
	// still answers.
	if _, err := r.svc.Package(ctx, r.admin, pkg); err != nil {
		t.Errorf("the package no longer reads: %v", err)
	}
	cons, err := out.js.Consumer(ctx, accA.Stream, accA.Consumer)
	if err != nil {
		t.Fatalf("the partner's own consumer info after the attempts: %v", err)
	}
	if got := cons.CachedInfo().AckFloor.Stream; got == 0 {
		t.Errorf("the partner's acks did not arrive (ack floor %d)", got)
	}
}

// TestPartnersCannotReadEachOther: a partner's user reaches no other
// partner's consumer or inbox, by fetch, info, ack or subscription, and
// the direct JetStream operations the audit tried are refused as
// permission violations.
func TestPartnersCannotReadEachOther(t *testing.T) {
	modes(t, testPartnersCannotReadEachOther)
}

func testPartnersCannotReadEachOther(t *testing.T, r *replica) {
	ctx := context.Background()
	if _, err := r.svc.CreateCampaign(ctx, r.admin, &hub.Campaign{Slug: "survivors", Visibility: hub.VisibilityPartners}); err != nil {
		t.Fatal(err)
	}
	a, err := r.svc.CreatePartner(ctx, r.admin, &hub.Partner{Name: "Entitled", Medium: hub.MediumTV, Campaigns: []string{"survivors"}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.svc.CreatePartner(ctx, r.admin, &hub.Partner{Name: "Other", Medium: hub.MediumOnline, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	closed := r.readyPackage(t, "survivors")
	if _, err := r.svc.Release(ctx, r.admin, closed.ID, nil); err != nil {
		t.Fatal(err)
	}
	accA, _, keyA := r.partnerKey(t, a, nil)
	accB, _, keyB := r.partnerKey(t, b, nil)
	outA := connectOutlet(t, accA, keyA)
	short := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, time.Second) }
	attempts := map[string]func(o *outlet) error{
		"fetch from A's consumer": func(o *outlet) error {
			c, cancel := short()
			defer cancel()
			_, err := o.nc.RequestWithContext(c, "$JS.API.CONSUMER.MSG.NEXT."+wire.Stream+"."+accA.Consumer, []byte(`{"batch":1}`))
			return err
		},
		"subscribe to A's inbox": func(o *outlet) error {
			sub, err := o.nc.SubscribeSync(accA.InboxPrefix + ".>")
			if err != nil {
				return err
			}
			// A fetches meanwhile: B must see none of it.
			outA.fetch(t)
			_, err = sub.NextMsg(300 * time.Millisecond)
			if err == nil {
				return nil
			}
			return o.nc.LastError()
		},
		"purge the stream": func(o *outlet) error {
			c, cancel := short()
			defer cancel()
			_, err := o.nc.RequestWithContext(c, "$JS.API.STREAM.PURGE."+wire.Stream, nil)
			return err
		},
		"delete A's consumer": func(o *outlet) error {
			c, cancel := short()
			defer cancel()
			_, err := o.nc.RequestWithContext(c, "$JS.API.CONSUMER.DELETE."+wire.Stream+"."+accA.Consumer, nil)
			return err
		},
		"write a KV key": func(o *outlet) error {
			c, cancel := short()
			defer cancel()
			_, err := o.nc.RequestWithContext(c, "$KV.hub_packages."+closed.ID, []byte("{}"))
			return err
		},
		"ask for JetStream account info": func(o *outlet) error {
			c, cancel := short()
			defer cancel()
			_, err := o.nc.RequestWithContext(c, "$JS.API.INFO", nil)
			return err
		},
	}
	for name, try := range attempts {
		t.Run(name, func(t *testing.T) {
			o := connectOutlet(t, accB, keyB)
			if err := try(o); err == nil {
				t.Fatalf("partner B could %s", name)
			}
			if err := o.nc.LastError(); err == nil || !containsViolation(err) {
				t.Errorf("the server did not refuse it as a permissions violation: %v", err)
			}
		})
	}
	if _, err := r.js.Consumer(ctx, wire.Stream, accA.Consumer); err != nil {
		t.Errorf("A's consumer: %v", err)
	}
	// A's own fetches are A's alone: B's subscription above saw none.
	outA.fetch(t)
}

func containsViolation(err error) bool {
	return strings.Contains(err.Error(), "Permissions Violation")
}
