package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/syndication-hub/hub/hub"
)

// markerStream exists on a NATS account while a restore into it is under
// way; its metadata names the backup. The hub refuses to start while it
// exists (Pending), so a restore cut off half-way is never taken for a
// whole hub, and `hub restore` run again continues it.
const markerStream = "HUB_RESTORE"

const markerBackupKey = "backup"

// Pending returns an error when a restore into js's account has not
// finished: the hub must not start on half its state.
func Pending(ctx context.Context, js jetstream.JetStream) error {
	s, err := js.Stream(ctx, markerStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look for an unfinished restore: %w", err)
	}
	return fmt.Errorf("a restore of backup %s into this NATS has not finished: run the same `hub restore` (or `hub migrate`) again to complete it",
		s.CachedInfo().Config.Metadata[markerBackupKey])
}

// Target is where a backup is restored: a NATS account (the embedded
// server's, or the hub's account on a cluster) and a blob store.
type Target struct {
	NATS *nats.Conn
	// Replicas is how many copies the cluster keeps of each stream (its
	// consumers follow the stream); 1 on a single server.
	Replicas int
	Blobs    hub.BlobStore
}

// Restore restores the backup m, whose snapshots are in dir, into t,
// copying its blobs from blobs (the backup's own store, or for a
// migration the data dir's), each checked against its SHA-256 on the
// way and read back. A target that holds a hub's state already is
// refused unless Options.Force. A restore cut off half-way leaves the
// marker: run again, it keeps what it restored whole and restores the
// rest.
func Restore(ctx context.Context, m *Manifest, dir string, blobs hub.BlobStore, t Target, opts Options) error {
	log := opts.log()
	if t.Replicas < 1 {
		t.Replicas = 1
	}
	js, err := jetstream.New(t.NATS)
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	resuming, err := claim(ctx, js, t.Blobs, m, opts.Force)
	if errors.Is(err, errRestored) {
		log.Info("the target holds this backup already: nothing to do", "backup", m.ID)
		return nil
	}
	if err != nil {
		return err
	}
	if resuming {
		log.Info("continuing an unfinished restore of this backup", "backup", m.ID)
	}
	copied, kept, err := restoreBlobs(ctx, m.Blobs, blobs, t.Blobs)
	if err != nil {
		return err
	}
	log.Info("restored blobs", "copied", copied, "already_there", kept)
	for _, s := range m.Streams {
		if err := restoreStream(ctx, t.NATS, js, dir, s, t.Replicas, log); err != nil {
			return err
		}
	}
	if err := verifyStreams(ctx, js, m, t.Replicas); err != nil {
		return err
	}
	if err := js.DeleteStream(ctx, markerStream); err != nil {
		return fmt.Errorf("mark the restore finished: %w", err)
	}
	log.Info("restore finished", "backup", m.ID, "streams", len(m.Streams), "blobs", len(m.Blobs))
	return nil
}

// blobWorkers is how many blobs a restore copies at once: enough to
// keep S3 busy over a network, few enough for a small machine's disk.
const blobWorkers = 4

// restoreBlobs copies every blob of the backup into the target, except
// those there already with the right content, and returns how many it
// copied and kept. Each copy is checked (copyBlob).
func restoreBlobs(ctx context.Context, list []Blob, from, to hub.BlobStore) (copied, kept int, _ error) {
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(blobWorkers)
	for _, b := range list {
		g.Go(func() error {
			if _, err := to.Stat(gctx, b.Key); err == nil {
				if err := verifyBlob(gctx, to, b); err == nil {
					mu.Lock()
					kept++
					mu.Unlock()
					return nil
				} else if !errors.As(err, new(*mismatch)) {
					return err
				}
			} else if hub.ErrorCode(err) != hub.ENOTFOUND {
				return fmt.Errorf("blob %s: look for it in the target: %w", b.Key, err)
			}
			if err := copyBlob(gctx, from, to, b); err != nil {
				return err
			}
			mu.Lock()
			copied++
			mu.Unlock()
			return nil
		})
	}
	err := g.Wait()
	return copied, kept, err
}

// errRestored says the target holds the backup whole already: a restore
// (or migration) that finished, run again.
var errRestored = errors.New("the target holds this backup already")

// claim makes the target this restore's: it continues an unfinished
// restore of the same backup, and otherwise insists on an empty target
// (force: any), then sets the marker. It reports whether it continues.
func claim(ctx context.Context, js jetstream.JetStream, blobs hub.BlobStore, m *Manifest, force bool) (bool, error) {
	s, err := js.Stream(ctx, markerStream)
	switch {
	case err == nil:
		if id := s.CachedInfo().Config.Metadata[markerBackupKey]; id != m.ID && !force {
			return false, fmt.Errorf("the target holds an unfinished restore of another backup (%s, this is %s): finish that one, or --force to restore this one over it", id, m.ID)
		}
		if _, err := js.UpdateStream(ctx, markerConfig(m.ID)); err != nil {
			return false, fmt.Errorf("take over the unfinished restore: %w", err)
		}
		return true, nil
	case !errors.Is(err, jetstream.ErrStreamNotFound):
		return false, fmt.Errorf("look for an unfinished restore: %w", err)
	}
	if !force {
		names, err := streamNames(ctx, js)
		if err != nil {
			return false, err
		}
		if len(names) > 0 && holds(ctx, js, blobs, m, names) {
			return false, errRestored
		}
		if len(names) > 0 {
			return false, fmt.Errorf("the target NATS already holds streams (%s): it is not empty, so nothing was restored; --force restores over it, replacing the streams the backup has", strings.Join(names, ", "))
		}
		some := errors.New("found one")
		switch err := blobs.List(ctx, func(string, time.Time) error { return some }); {
		case errors.Is(err, some):
			return false, errors.New("the target blob store is not empty, so nothing was restored; --force restores over it, keeping its other objects")
		case err != nil:
			return false, fmt.Errorf("look into the target blob store: %w", err)
		}
	}
	if _, err := js.CreateStream(ctx, markerConfig(m.ID)); err != nil {
		return false, fmt.Errorf("mark the restore under way: %w", err)
	}
	return false, nil
}

// holds reports whether the target, whose streams are names, is exactly
// what restoring m makes: the same streams in the same states, and every
// blob of m present with its size.
func holds(ctx context.Context, js jetstream.JetStream, blobs hub.BlobStore, m *Manifest, names []string) bool {
	if len(names) != len(m.Streams) {
		return false
	}
	for _, s := range m.Streams {
		want, err := s.state()
		if err != nil {
			return false
		}
		st, err := js.Stream(ctx, s.Name)
		if err != nil {
			return false
		}
		if !want.matches(st.CachedInfo().State) {
			return false
		}
	}
	for _, b := range m.Blobs {
		if st, err := blobs.Stat(ctx, b.Key); err != nil || st.Size != b.Size {
			return false
		}
	}
	return true
}

func markerConfig(id string) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        markerStream,
		Description: "syndication hub: a restore is under way here; the hub starts once `hub restore` has finished",
		Subjects:    []string{"hub-restore.under-way"},
		Storage:     jetstream.FileStorage,
		Metadata:    map[string]string{markerBackupKey: id},
	}
}

// restoreStream restores s unless the target has it whole already (a
// restore is all or nothing per stream, so one there with the backup's
// state is this restore's); one with another state is replaced.
func restoreStream(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, dir string, s Stream, replicas int, log *slog.Logger) error {
	want, err := s.state()
	if err != nil {
		return err
	}
	if have, err := js.Stream(ctx, s.Name); err == nil {
		info, err := have.Info(ctx)
		if err != nil {
			return fmt.Errorf("stream %s: %w", s.Name, err)
		}
		if want.matches(info.State) {
			log.Info("stream already restored", "stream", s.Name)
			return nil
		}
		if err := js.DeleteStream(ctx, s.Name); err != nil {
			return fmt.Errorf("replace stream %s: %w", s.Name, err)
		}
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("stream %s: %w", s.Name, err)
	}
	config, err := withReplicas(s.Config, replicas)
	if err != nil {
		return fmt.Errorf("stream %s: %w", s.Name, err)
	}
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(s.File)))
	if err != nil {
		return fmt.Errorf("stream %s: open its snapshot: %w", s.Name, err)
	}
	defer f.Close()
	// A damaged snapshot is refused before anything of it is sent.
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("stream %s: read its snapshot: %w", s.Name, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != s.SHA256 {
		return fmt.Errorf("stream %s: its snapshot %s has sha256 %s, not the %s the manifest names: the backup is damaged", s.Name, s.File, got, s.SHA256)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("stream %s: read its snapshot: %w", s.Name, err)
	}
	if err := restore(ctx, nc, s.Name, config, s.State, f); err != nil {
		return err
	}
	log.Info("restored stream", "stream", s.Name, "messages", want.Messages, "last_seq", want.LastSeq, "consumers", want.Consumers, "replicas", replicas)
	return nil
}

// withReplicas returns config with num_replicas set, every other field
// as the snapshot recorded it.
func withReplicas(config json.RawMessage, replicas int) (json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(config, &fields); err != nil {
		return nil, fmt.Errorf("decode its configuration: %w", err)
	}
	fields["num_replicas"], _ = json.Marshal(replicas)
	return json.Marshal(fields)
}

// verifyStreams checks every restored stream against the backup: its
// messages, sequences, consumers and replicas.
func verifyStreams(ctx context.Context, js jetstream.JetStream, m *Manifest, replicas int) error {
	for _, s := range m.Streams {
		want, err := s.state()
		if err != nil {
			return err
		}
		st, err := js.Stream(ctx, s.Name)
		if err != nil {
			return fmt.Errorf("check stream %s: %w", s.Name, err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			return fmt.Errorf("check stream %s: %w", s.Name, err)
		}
		if got := info.State; !want.matches(got) {
			return fmt.Errorf("stream %s restored with %d messages (seq %d-%d) and %d consumers, the backup has %d (seq %d-%d) and %d",
				s.Name, got.Msgs, got.FirstSeq, got.LastSeq, got.Consumers, want.Messages, want.FirstSeq, want.LastSeq, want.Consumers)
		}
		if info.Config.Replicas != replicas {
			return fmt.Errorf("stream %s restored with %d replicas, not %d", s.Name, info.Config.Replicas, replicas)
		}
	}
	return nil
}

// matches reports whether a stream's state is the one the backup holds:
// its messages, sequences (an empty stream has no first one to compare)
// and consumers.
func (want streamState) matches(got jetstream.StreamState) bool {
	return got.Msgs == want.Messages && got.LastSeq == want.LastSeq && got.Consumers == want.Consumers &&
		(want.Messages == 0 || got.FirstSeq == want.FirstSeq)
}
