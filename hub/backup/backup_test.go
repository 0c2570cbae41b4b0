package backup_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/backup"
	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/disk"
	"github.com/syndication-hub/hub/hub/natstest"
)

// state is a small hub-shaped state on a real embedded server: a blob
// record with its blob, and a stream with a durable consumer that has
// taken part of it.
type state struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	blobs hub.BlobStore
}

func newState(t *testing.T) *state {
	t.Helper()
	nc, js := natstest.Connect(t, natstest.Start(t, ""))
	blobs, err := disk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &state{nc: nc, js: js, blobs: blobs}
}

const blobKey = "01JBACKUPTESTBLOB0000000000"

func (s *state) fill(t *testing.T, content []byte) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.blobs.Put(ctx, blobKey, bytes.NewReader(content), int64(len(content))); err != nil {
		t.Fatal(err)
	}
	kv, err := s.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: catalog.BlobsBucket})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	rec, _ := json.Marshal(hub.BlobRecord{Key: blobKey, Size: int64(len(content)), Refs: 1})
	if _, err := kv.Put(ctx, hex.EncodeToString(sum[:]), rec); err != nil {
		t.Fatal(err)
	}
	if _, err := s.js.CreateStream(ctx, jetstream.StreamConfig{Name: "HUB_RELEASES", Subjects: []string{"hub.releases.>"}}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := s.js.Publish(ctx, "hub.releases.x.ru.p", []byte("release")); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := s.js.CreateOrUpdateConsumer(ctx, "HUB_RELEASES", jetstream.ConsumerConfig{Durable: "partner-a", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.FetchNoWait(2)
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *state) ackFloor(t *testing.T) uint64 {
	t.Helper()
	c, err := s.js.Consumer(context.Background(), "HUB_RELEASES", "partner-a")
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.AckFloor.Stream
}

func openDisk(path string) (hub.BlobStore, error) { return disk.Open(path) }

func TestBackupRestoreRefusalsAndDamage(t *testing.T) {
	ctx := context.Background()
	content := []byte("the poster's bytes")
	src := newState(t)
	src.fill(t, content)
	dir := filepath.Join(t.TempDir(), "b")
	m, err := backup.Backup(ctx, backup.Source{NATS: src.nc, Blobs: src.blobs}, dir, openDisk, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Blobs) != 1 || len(m.Streams) != 2 {
		t.Fatalf("manifest: %d blobs, %d streams", len(m.Blobs), len(m.Streams))
	}
	read, err := backup.ReadManifest(dir)
	if err != nil || read.ID != m.ID {
		t.Fatalf("read the manifest: %v", err)
	}
	from, err := disk.Open(filepath.Join(dir, backup.BlobsDir))
	if err != nil {
		t.Fatal(err)
	}

	dst := newState(t)
	target := backup.Target{NATS: dst.nc, Blobs: dst.blobs}
	if err := backup.Restore(ctx, m, dir, from, target, backup.Options{}); err != nil {
		t.Fatal(err)
	}
	if got := dst.ackFloor(t); got != 2 {
		t.Errorf("the restored consumer's ack floor is %d, want 2", got)
	}
	if err := backup.Pending(ctx, dst.js); err != nil {
		t.Errorf("after a whole restore: %v", err)
	}

	t.Run("run again, a finished restore does nothing", func(t *testing.T) {
		if err := backup.Restore(ctx, m, dir, from, target, backup.Options{}); err != nil {
			t.Fatalf("the same restore again: %v", err)
		}
	})
	t.Run("a target with another hub is refused unless forced", func(t *testing.T) {
		if _, err := dst.js.Publish(ctx, "hub.releases.x.ru.q", []byte("a release of the target's own")); err != nil {
			t.Fatal(err)
		}
		if err := backup.Restore(ctx, m, dir, from, target, backup.Options{}); err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("a restore over another hub: %v", err)
		}
		if err := backup.Restore(ctx, m, dir, from, target, backup.Options{Force: true}); err != nil {
			t.Fatalf("a forced restore: %v", err)
		}
		if got := dst.ackFloor(t); got != 2 {
			t.Errorf("after the forced restore the consumer's ack floor is %d, want 2", got)
		}
	})
	t.Run("a second backup into a whole one is refused unless forced", func(t *testing.T) {
		if _, err := backup.Backup(ctx, backup.Source{NATS: src.nc, Blobs: src.blobs}, dir, openDisk, backup.Options{}); err == nil {
			t.Fatal("went ahead")
		}
		again, err := backup.Backup(ctx, backup.Source{NATS: src.nc, Blobs: src.blobs}, dir, openDisk, backup.Options{Force: true})
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != m.ID {
			t.Errorf("an unchanged hub backed up again has id %s, first %s", again.ID, m.ID)
		}
	})
	t.Run("a directory that is not a backup is left alone", func(t *testing.T) {
		other := t.TempDir()
		os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o600)
		if _, err := backup.Backup(ctx, backup.Source{NATS: src.nc, Blobs: src.blobs}, other, openDisk, backup.Options{Force: true}); err == nil {
			t.Fatal("a backup went into a directory holding other files")
		}
	})
	t.Run("a damaged snapshot is refused before it is sent", func(t *testing.T) {
		broken := filepath.Join(t.TempDir(), "b")
		copyDir(t, dir, broken)
		file := filepath.Join(broken, filepath.FromSlash(m.Streams[0].File))
		b, _ := os.ReadFile(file)
		b[len(b)/2] ^= 0xff
		os.WriteFile(file, b, 0o600)
		fresh := newState(t)
		err := backup.Restore(ctx, m, broken, from, backup.Target{NATS: fresh.nc, Blobs: fresh.blobs}, backup.Options{})
		if err == nil || !strings.Contains(err.Error(), "damaged") {
			t.Fatalf("restore of a damaged snapshot: %v", err)
		}
		if err := backup.Pending(ctx, fresh.js); err == nil {
			t.Error("the cut-off restore left no marker: a hub would start on half its state")
		}
	})
	t.Run("a manifest whose id, snapshot path or stream name was changed is refused", func(t *testing.T) {
		for name, spoil := range map[string]func(m map[string]any){
			"another restore's id":          func(m map[string]any) { m["id"] = "0123456789abcdef01234567" },
			"a snapshot outside the backup": func(m map[string]any) { stream(m)["file"] = "../../etc/passwd" },
			"a stream name with a wildcard": func(m map[string]any) { stream(m)["name"] = "KV_hub_keys.>" },
		} {
			broken := filepath.Join(t.TempDir(), "b")
			copyDir(t, dir, broken)
			path := filepath.Join(broken, "manifest.json")
			var raw map[string]any
			b, _ := os.ReadFile(path)
			if err := json.Unmarshal(b, &raw); err != nil {
				t.Fatal(err)
			}
			spoil(raw)
			b, _ = json.Marshal(raw)
			os.WriteFile(path, b, 0o600)
			if _, err := backup.ReadManifest(broken); err == nil || !strings.Contains(err.Error(), "damaged") {
				t.Errorf("%s: read the manifest: %v", name, err)
			}
		}
	})
	t.Run("a damaged source blob fails the backup, which stays unfinished", func(t *testing.T) {
		damaged := bytes.ToUpper(content) // same length, other sum
		if _, err := src.blobs.Put(ctx, blobKey, bytes.NewReader(damaged), int64(len(damaged))); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "b")
		_, err := backup.Backup(ctx, backup.Source{NATS: src.nc, Blobs: src.blobs}, out, openDisk, backup.Options{})
		if err == nil || !strings.Contains(err.Error(), "damaged") {
			t.Fatalf("a backup of a damaged blob: %v", err)
		}
		if _, err := backup.ReadManifest(out); err == nil || !strings.Contains(err.Error(), "unfinished") {
			t.Errorf("the failed backup's directory reads as %v, want unfinished", err)
		}
	})
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o750)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// stream is the first stream of a manifest decoded as a map.
func stream(m map[string]any) map[string]any {
	return m["streams"].([]any)[0].(map[string]any)
}
