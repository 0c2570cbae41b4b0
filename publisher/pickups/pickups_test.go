package pickups_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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

// openOn opens the pickup log on an external NATS through a connection of
// the test's own, made with opts.
func openOn(t *testing.T, ext *natstest.External, opts ...nats.Option) *pickups.Log {
	t.Helper()
	nc, err := nats.Connect(ext.URL(), append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(50 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	l, err := pickups.Open(t.Context(), js, pickups.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestAppendWhileNATSIsDown: on a connection that buffers nothing while
// it reconnects (the hub's), a report NATS never got is EUNAVAILABLE at
// once, saying it was not saved.
func TestAppendWhileNATSIsDown(t *testing.T) {
	ext := natstest.RunExternal(t)
	down := make(chan struct{})
	var once sync.Once
	l := openOn(t, ext, nats.ReconnectBufSize(-1), nats.DisconnectErrHandler(func(*nats.Conn, error) { once.Do(func() { close(down) }) }))
	ext.Stop()
	// A report sent before the client noticed is "did not confirm" after
	// the settle bound (TestAppendUnconfirmedSettles); this is the answer
	// of a client that knows.
	select {
	case <-down:
	case <-time.After(10 * time.Second):
		t.Fatal("the client did not notice NATS stopped within 10 s")
	}
	start := time.Now()
	err := l.Append(t.Context(), hub.Pickup{Kind: hub.PickupRepublication, Campaign: "korgau123", Package: "P1", ID: "R1", URL: "https://example.kz/1"})
	if hub.ErrorCode(err) != hub.EUNAVAILABLE || !strings.Contains(hub.ErrorMessage(err), "NATS is not answering, so the republication report was not saved") {
		t.Fatalf("append while NATS is down: %v (%s)", err, hub.ErrorCode(err))
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("append while NATS is down took %v", took)
	}
	if err := l.Scan(t.Context(), "korgau123", "", func(hub.Pickup) error { return nil }); hub.ErrorCode(err) != hub.EUNAVAILABLE {
		t.Errorf("scan while NATS is down: %v (%s)", err, hub.ErrorCode(err))
	}
}

// TestAppendUnconfirmedSettles: a report whose first publish got no
// answer (NATS went away with it in the connection's buffer) is not
// reported as failed: it is sent again under its message id until NATS
// is back, and stored once.
func TestAppendUnconfirmedSettles(t *testing.T) {
	ext := natstest.RunExternal(t)
	l := openOn(t, ext) // buffers while reconnecting, so the first attempt's outcome is unknown
	ext.Stop()
	report := hub.Pickup{Kind: hub.PickupRepublication, Campaign: "korgau123", Package: "P1", ID: "R1", URL: "https://example.kz/1"}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		done <- l.Append(ctx, report)
	}()
	time.Sleep(time.Second) // past the first attempt's deadline: settling
	ext.Start()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("a report NATS stored once it was back: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("append did not settle")
	}
	var got []hub.Pickup
	if err := l.Scan(t.Context(), "korgau123", "", func(p hub.Pickup) error { got = append(got, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "R1" {
		t.Errorf("stored %+v, want the report once", got)
	}
}
