package pickups_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/publisher/pickups"
)

func TestPickupLogRecordsAndScans(t *testing.T) {
	srv := natstest.Start(t, "")
	_, js := natstest.Connect(t, srv)
	ctx := context.Background()
	l, err := pickups.Open(ctx, js, pickups.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Opening again (another replica, a restart) finds the stream.
	if _, err := pickups.Open(ctx, js, pickups.Options{}); err != nil {
		t.Fatal(err)
	}

	scan := func(campaign, pkg string) []hub.Pickup {
		t.Helper()
		var out []hub.Pickup
		if err := l.Scan(ctx, campaign, pkg, func(p hub.Pickup) error { out = append(out, p); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := scan("korgau123", ""); len(got) != 0 {
		t.Fatalf("an empty log scanned %d pickups", len(got))
	}

	const n = 1200 // more than one pull batch
	for i := range n {
		l.Record(hub.Pickup{Kind: hub.PickupDownload, Campaign: "korgau123", Package: fmt.Sprintf("P%d", i%3),
			Asset: fmt.Sprintf("a%d.png", i), Time: time.Now()})
	}
	l.Record(hub.Pickup{Kind: hub.PickupDownload, Campaign: "other", Package: "P0", Asset: "x.png"})
	if err := l.Append(ctx, hub.Pickup{Kind: hub.PickupRepublication, Campaign: "korgau123", Package: "P1", ID: "R1", URL: "https://example.kz/1"}); err != nil {
		t.Fatal(err)
	}
	// A retried report is stored once.
	if err := l.Append(ctx, hub.Pickup{Kind: hub.PickupRepublication, Campaign: "korgau123", Package: "P1", ID: "R1", URL: "https://example.kz/1"}); err != nil {
		t.Fatal(err)
	}

	// Scan waits for this replica's records in flight: no polling needed.
	all := scan("korgau123", "")
	if len(all) != n+1 {
		t.Fatalf("scanned %d pickups of the campaign, want %d", len(all), n+1)
	}
	for i := range n {
		if all[i].Asset != fmt.Sprintf("a%d.png", i) {
			t.Fatalf("pickup %d is %+v: not in the order recorded", i, all[i])
		}
	}
	if all[n].Kind != hub.PickupRepublication || all[n].URL != "https://example.kz/1" {
		t.Errorf("last pickup %+v", all[n])
	}
	if got := scan("korgau123", "P1"); len(got) != n/3+1 {
		t.Errorf("scanned %d pickups of one package, want %d", len(got), n/3+1)
	}
	if got := scan("other", ""); len(got) != 1 || got[0].Asset != "x.png" {
		t.Errorf("other campaign: %+v", got)
	}
	if got := scan("none", ""); len(got) != 0 {
		t.Errorf("a campaign without pickups scanned %d", len(got))
	}

	// A purged package's pickups are forgotten; the others stay.
	if err := l.Forget(ctx, "korgau123", "P1"); err != nil {
		t.Fatal(err)
	}
	if got := scan("korgau123", "P1"); len(got) != 0 {
		t.Errorf("%d pickups of a forgotten package remain", len(got))
	}
	if got := scan("korgau123", ""); len(got) != n-n/3 {
		t.Errorf("%d pickups of the campaign after forgetting one package, want %d", len(got), n-n/3)
	}

	// fn's error ends the scan.
	stop := errors.New("stop")
	seen := 0
	err = l.Scan(ctx, "korgau123", "", func(hub.Pickup) error { seen++; return stop })
	if !errors.Is(err, stop) || seen != 1 {
		t.Errorf("scan after fn's error: %v after %d pickups", err, seen)
	}
}
