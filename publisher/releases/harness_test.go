package releases_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/publisher/wire"
)

// replica is one hub process (hubtest, the composition root as `hub
// serve` runs it) on a NATS server that replicas share. These tests act
// through its service, the way the API does.
type replica struct {
	hub     *hubtest.Hub
	js      jetstream.JetStream
	catalog *catalog.Catalog
	svc     *hub.Service
	admin   *hub.Key
}

// newReplica starts a replica on the NATS server at natsURL with its
// data (blobs) under dir, announcing through wrap(the release stream)
// when wrap is not nil. Its scheduler retries the outbox every 200 ms.
func newReplica(t testing.TB, natsURL, dir string, wrap func(hub.Announcer) hub.Announcer) *replica {
	t.Helper()
	h := hubtest.Start(t, hubtest.Options{PublicURL: "https://hub.example.org", NATSURL: natsURL, DataDir: dir, Announcer: wrap, ReconcileEvery: 200 * time.Millisecond})
	return &replica{hub: h, js: h.Server.JetStream(), catalog: h.Server.Catalog(), svc: h.Service, admin: h.Admin(t)}
}

// readyPackage creates a package with a headline and one asset.
func (r *replica) readyPackage(t testing.TB, campaign string) *hub.Package {
	t.Helper()
	return r.hub.ReadyPackage(t, campaign)
}

// announcements returns the ce-id of every message on the stream about id.
func announcements(t testing.TB, js jetstream.JetStream, id string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, wire.Stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{wire.PackageSubjects(id)}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for {
		batch, err := cons.FetchNoWait(100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			ids = append(ids, m.Headers().Get("ce-id"))
			n++
		}
		if n == 0 {
			return ids
		}
	}
}
