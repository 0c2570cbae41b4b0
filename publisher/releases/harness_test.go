package releases_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/disk"
	"github.com/syndication-hub/hub/hub/natsserver"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/publisher/wire"
)

// replica is one hub process's state-side parts on a shared NATS: its
// catalog, publisher and service (no HTTP: these tests act through the
// service, the way the API does).
type replica struct {
	js      jetstream.JetStream
	catalog *catalog.Catalog
	pub     *publisher.Publisher
	svc     *hub.Service
	blobs   hub.BlobStore
	admin   *hub.Key
}

// guard makes the replica announce through access's guard, as serve does.
func (r *replica) guard(access *publisher.PartnerAccess) {
	r.svc = hub.NewService(r.catalog, r.blobs, hub.ServiceOptions{Announcer: access.Guard(r.pub), ReleaseLog: r.pub})
}

// newReplica starts a replica on srv with blobs under dir. announcer, if
// not nil, replaces the publisher as the service's announcer.
func newReplica(t testing.TB, srv *natsserver.Server, dir string, announcer hub.Announcer) *replica {
	t.Helper()
	_, js := natstest.Connect(t, srv)
	return newReplicaOn(t, js, dir, announcer)
}

// newReplicaOn starts a replica on an existing JetStream connection.
func newReplicaOn(t testing.TB, js jetstream.JetStream, dir string, announcer hub.Announcer) *replica {
	t.Helper()
	ctx := context.Background()
	cat, err := catalog.Open(ctx, js, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	pub, err := publisher.Open(ctx, js, publisher.Options{PublicURL: "https://hub.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := disk.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if announcer == nil {
		announcer = pub
	}
	svc := hub.NewService(cat, blobs, hub.ServiceOptions{Announcer: announcer, ReleaseLog: pub})
	return &replica{js: js, catalog: cat, pub: pub, svc: svc, blobs: blobs, admin: &hub.Key{Role: hub.RoleAdmin, Name: "test"}}
}

// runScheduler runs the replica's embargo and outbox loop until the test ends.
func (r *replica) runScheduler(t testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s := publisher.NewScheduler(r.svc, func(err error) { t.Logf("scheduler: %v", err) })
	s.ReconcileEvery = 200 * time.Millisecond
	go func() { defer close(done); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// readyPackage creates a package with a headline and one asset.
func (r *replica) readyPackage(t testing.TB, campaign string) *hub.Package {
	t.Helper()
	ctx := context.Background()
	p, err := r.svc.CreatePackage(ctx, r.admin, &hub.Package{
		Campaign: campaign, Language: "ru", Headlines: []hub.Text{{Value: "Домогательства на работе — это преступление"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + p.ID)
	if _, _, err := r.svc.PutAsset(ctx, r.admin, p.ID, hub.AssetUpload{Name: "poster.png", Body: bytes.NewReader(body), Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	return p
}

// announcements returns the ce-id of every message on the stream about id.
func announcements(t testing.TB, js jetstream.JetStream, id string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, wire.Stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"hub.releases.*.*." + id}})
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
