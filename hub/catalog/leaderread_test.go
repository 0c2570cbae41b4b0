package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/natstest"
)

// TestReadFromLeaderAnswersAsTheBucket checks that a leader read answers
// what the bucket's own Get answers, for every state a key can be in. (That
// it reads past a follower behind the leader needs a cluster: the cluster
// proof, bench/cluster, is where that shows.)
func TestReadFromLeaderAnswersAsTheBucket(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t, "")
	_, js := natstest.Connect(t, srv)
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "leader_read", History: 1})
	if err != nil {
		t.Fatal(err)
	}
	leader := catalog.ReadFromLeader(js, kv)
	for _, step := range []struct {
		name  string
		write func() error
		key   string
	}{
		{"never written", func() error { return nil }, "absent"},
		{"put", func() error { _, err := kv.Put(ctx, "k", []byte("one")); return err }, "k"},
		{"put again", func() error { _, err := kv.Put(ctx, "k", []byte("two")); return err }, "k"},
		{"deleted", func() error { return kv.Delete(ctx, "k") }, "k"},
		{"put after a delete", func() error { _, err := kv.Put(ctx, "k", []byte("three")); return err }, "k"},
		{"purged", func() error { return kv.Purge(ctx, "k") }, "k"},
		{"a key with dots", func() error { _, err := kv.Put(ctx, "a.b.c", []byte("dotted")); return err }, "a.b.c"},
	} {
		t.Run(step.name, func(t *testing.T) {
			if err := step.write(); err != nil {
				t.Fatal(err)
			}
			want, wantErr := kv.Get(ctx, step.key)
			got, gotErr := leader.Get(ctx, step.key)
			switch {
			case wantErr != nil || gotErr != nil:
				if !errors.Is(gotErr, jetstream.ErrKeyNotFound) || !errors.Is(wantErr, jetstream.ErrKeyNotFound) {
					t.Fatalf("leader read: %v; the bucket's Get: %v", gotErr, wantErr)
				}
			case !bytes.Equal(got.Value(), want.Value()) || got.Revision() != want.Revision() || got.Key() != want.Key() ||
				got.Bucket() != want.Bucket() || !got.Created().Equal(want.Created()) || got.Operation() != want.Operation():
				t.Fatalf("leader read %s %q rev %d at %v, the bucket's Get %s %q rev %d at %v",
					got.Key(), got.Value(), got.Revision(), got.Created(), want.Key(), want.Value(), want.Revision(), want.Created())
			}
		})
	}
	// A key that is no literal subject token is refused as the bucket
	// refuses it: last_by_subj would take "a.>" or "*" as a wildcard and
	// answer with another key's value.
	for _, key := range []string{"a.>", "*", "a.*.c", ">", "", "a..b", ".a", "a b"} {
		if _, err := leader.Get(ctx, key); !errors.Is(err, jetstream.ErrInvalidKey) {
			t.Errorf("leader read of %q: %v, want ErrInvalidKey", key, err)
		}
	}
}
