package partners_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/publisher/wire"
)

// TestLostEntitlementIsNotRedelivered: messages a partner's consumer
// delivered but the partner had not acked when it lost the campaign came
// again afterwards (narrowing the filter keeps them pending). The consumer
// is now also reset to its ack floor: what the partner may still see comes
// again (a duplicate, deduped on ce-id), the lost campaign does not.
func TestLostEntitlementIsNotRedelivered(t *testing.T) {
	modes(t, testLostEntitlementIsNotRedelivered)
}

func testLostEntitlementIsNotRedelivered(t *testing.T, r *replica) {
	ctx := context.Background()
	if _, err := r.svc.CreateCampaign(ctx, r.admin, &hub.Campaign{Slug: "survivors", Visibility: hub.VisibilityPartners}); err != nil {
		t.Fatal(err)
	}
	p, err := r.svc.CreatePartner(ctx, r.admin, &hub.Partner{Name: "Naryn TV", Medium: hub.MediumTV, Campaigns: []string{"survivors"}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	closed, open := r.readyPackage(t, "survivors"), r.readyPackage(t, "korgau123")
	for _, pkg := range []*hub.Package{closed, open} {
		if _, err := r.svc.Release(ctx, r.admin, pkg.ID, nil); err != nil {
			t.Fatal(err)
		}
	}
	acc, _, key := r.partnerKey(t, p, nil)
	out := connectOutlet(t, acc, key)
	cons, err := out.js.Consumer(ctx, acc.Stream, acc.Consumer)
	if err != nil {
		t.Fatal(err)
	}
	// Delivered, not acked: the outlet is still working on both.
	batch, err := cons.Fetch(2, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var pending []jetstream.Msg
	for m := range batch.Messages() {
		pending = append(pending, m)
	}
	if len(pending) != 2 {
		t.Fatalf("fetched %d messages, want both releases", len(pending))
	}

	if _, err := r.svc.UpdatePartner(ctx, r.admin, p.ID, hub.PartnerPatch{Campaigns: &[]string{}}); err != nil {
		t.Fatal(err)
	}
	if err := r.access.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// The outlet gives both back (a failed download does this), which
	// redelivers at once whatever is still pending.
	for _, m := range pending {
		_ = m.Nak() // after the reset neither is pending: the server ignores it
	}
	var got []string
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		b, err := cons.Fetch(10, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			got = append(got, m.Headers().Get(wire.HeaderSubject))
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if slices.Contains(got, closed.ID) {
		t.Errorf("the campaign the partner lost was delivered again: %v", got)
	}
	if !slices.Contains(got, open.ID) {
		t.Errorf("the public release, delivered and not acked, did not come again: %v", got)
	}
}
