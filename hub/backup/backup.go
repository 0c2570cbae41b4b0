// Package backup backs up a hub's state and restores it, onto the same
// kind of hub or another: every JetStream stream of the hub's account as
// a JetStream snapshot (messages with their sequence numbers, consumers
// with their positions), and every blob a record names, checked against
// its SHA-256. A single-machine hub moves onto a NATS cluster and S3 by
// a backup of its data dir restored there (hub migrate).
//
// Both ends are idempotent: a backup cut off half-way is written anew, a
// restore cut off half-way continues where it stopped, and a hub refuses
// to start on a NATS a restore has not finished (Pending).
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog"
)

// Options tunes Backup and Restore.
type Options struct {
	// Force lets a backup replace a whole backup in its directory, and a
	// restore write into a target that already holds a hub's state
	// (streams it has too are replaced, its other streams and blobs kept).
	Force  bool
	Logger *slog.Logger
	// Now is the clock of the manifest's Created; nil is time.Now.
	Now func() time.Time
}

func (o Options) log() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// Source is a stopped hub's state: its NATS account (reached in-process
// on the embedded server) and its blob store.
type Source struct {
	NATS *nats.Conn
	// Blobs is read into the backup; nil leaves the blobs out (they are
	// only listed), for a restore that reads them from the hub's store.
	Blobs hub.BlobStore
}

// Backup writes a backup of src into dir, which must be empty, absent or
// hold an unfinished backup (Options.Force: or a whole one). openBlobs
// opens the blob store the backup keeps its blobs in, at the path given
// (the disk store's layout). The manifest goes last: until it is
// written, ReadManifest calls the directory unfinished.
func Backup(ctx context.Context, src Source, dir string, openBlobs func(path string) (hub.BlobStore, error), opts Options) (*Manifest, error) {
	log := opts.log()
	if err := prepareDir(dir, opts.Force); err != nil {
		return nil, err
	}
	js, err := jetstream.New(src.NATS)
	if err != nil {
		return nil, fmt.Errorf("JetStream: %w", err)
	}
	if err := Pending(ctx, js); err != nil {
		return nil, err
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	m := &Manifest{Format: Format, Created: now().UTC()}
	names, err := streamNames(ctx, js)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, streamsDir), 0o750); err != nil {
		return nil, fmt.Errorf("create %s: %w", streamsDir, err)
	}
	for _, name := range names {
		s, err := snapshotToFile(ctx, src.NATS, name, dir)
		if err != nil {
			return nil, err
		}
		st, _ := s.state()
		log.Info("backed up stream", "stream", name, "messages", st.Messages, "last_seq", st.LastSeq, "consumers", st.Consumers, "bytes", s.Size)
		m.Streams = append(m.Streams, s)
	}
	if m.Blobs, err = blobRefs(ctx, js); err != nil {
		return nil, err
	}
	if src.Blobs != nil {
		to, err := openBlobs(filepath.Join(dir, BlobsDir))
		if err != nil {
			return nil, fmt.Errorf("open the backup's blob store: %w", err)
		}
		var bytes int64
		for _, b := range m.Blobs {
			if err := copyBlob(ctx, src.Blobs, to, b); err != nil {
				return nil, err
			}
			bytes += b.Size
		}
		log.Info("backed up blobs", "blobs", len(m.Blobs), "bytes", bytes)
	}
	m.identify()
	if err := writeManifest(dir, m); err != nil {
		return nil, err
	}
	if err := os.Remove(filepath.Join(dir, incompleteFile)); err != nil {
		return nil, fmt.Errorf("mark the backup whole: %w", err)
	}
	return m, syncDir(dir)
}

// HasBlobs reports whether the backup in dir holds its blobs (a backup
// made for a migration lists them only).
func HasBlobs(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, BlobsDir))
	return err == nil
}

// prepareDir makes dir ready for a new backup: created when absent, an
// unfinished backup cleared, a whole one cleared only when forced, and
// anything else refused (the directory is not ours to empty).
func prepareDir(dir string, force bool) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create the backup directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read the backup directory: %w", err)
	}
	ours := []string{manifestFile, manifestFile + ".tmp", incompleteFile, streamsDir, BlobsDir}
	var whole, unfinished bool
	for _, e := range entries {
		switch {
		case !slices.Contains(ours, e.Name()):
			return fmt.Errorf("%s is not empty and holds no backup (%s): choose an empty directory", dir, e.Name())
		case e.Name() == manifestFile:
			whole = true
		case e.Name() == incompleteFile:
			unfinished = true
		}
	}
	if whole && !unfinished && !force {
		return fmt.Errorf("%s already holds a backup: choose another directory, or --force to replace it", dir)
	}
	if len(entries) > 0 && !whole && !unfinished {
		return fmt.Errorf("%s holds parts of something that is not a backup being written: choose an empty directory", dir)
	}
	// The marker first: from here on the directory reads as unfinished.
	if err := writeFileSync(filepath.Join(dir, incompleteFile), nil); err != nil {
		return fmt.Errorf("mark the backup unfinished: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	for _, name := range ours {
		if name == incompleteFile {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("clear the earlier backup: %w", err)
		}
	}
	return nil
}

// streamNames lists the account's streams but the restore marker, in
// order.
func streamNames(ctx context.Context, js jetstream.JetStream) ([]string, error) {
	var names []string
	list := js.StreamNames(ctx)
	for name := range list.Name() {
		if name != markerStream {
			names = append(names, name)
		}
	}
	if err := list.Err(); err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	slices.Sort(names)
	return names, nil
}

func snapshotToFile(ctx context.Context, nc *nats.Conn, name, dir string) (Stream, error) {
	rel := filepath.ToSlash(filepath.Join(streamsDir, name+".snapshot"))
	f, err := os.OpenFile(filepath.Join(dir, rel), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return Stream{}, fmt.Errorf("create the snapshot file of %s: %w", name, err)
	}
	defer f.Close()
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(f, h)}
	config, state, err := snapshot(ctx, nc, name, cw)
	if err != nil {
		return Stream{}, err
	}
	if err := f.Sync(); err != nil {
		return Stream{}, fmt.Errorf("write the snapshot of %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return Stream{}, fmt.Errorf("write the snapshot of %s: %w", name, err)
	}
	return Stream{Name: name, Config: config, State: state, File: rel, Size: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// blobRefs lists every blob a record names, with the content sum the
// record gives: assets' blobs (hub_blobs, by sum) and renditions'
// (hub_renditions). Objects no record names are debris the sweeper
// removes, and are left out.
func blobRefs(ctx context.Context, js jetstream.JetStream) ([]Blob, error) {
	seen := map[string]Blob{}
	add := func(key, sum string, size int64) error {
		if old, ok := seen[key]; ok && old.SHA256 != sum {
			return fmt.Errorf("blob %s is recorded with two contents, %s and %s", key, old.SHA256, sum)
		}
		seen[key] = Blob{Key: key, Size: size, SHA256: sum}
		return nil
	}
	err := readBucket(ctx, js, catalog.BlobsBucket, func(sum string, rec hub.BlobRecord) error {
		return add(rec.Key, sum, rec.Size)
	})
	if err != nil {
		return nil, err
	}
	err = readBucket(ctx, js, catalog.RenditionsBucket, func(_ string, set hub.RenditionSet) error {
		for _, r := range set.Renditions {
			if r.BlobKey != "" && r.SHA256 != "" {
				if err := add(r.BlobKey, r.SHA256, r.Size); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Blob, 0, len(seen))
	for _, b := range seen {
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b Blob) int {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	return out, nil
}

// readBucket calls fn with every current entry of bucket, decoded as T;
// a bucket that does not exist has none.
func readBucket[T any](ctx context.Context, js jetstream.JetStream, bucket string, fn func(key string, v T) error) error {
	kv, err := js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open bucket %s: %w", bucket, err)
	}
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("read bucket %s: %w", bucket, err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("read bucket %s: %w", bucket, ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("read bucket %s: the watch ended early", bucket)
			}
			if e == nil {
				return nil // every current entry has been seen
			}
			var v T
			if err := json.Unmarshal(e.Value(), &v); err != nil {
				return fmt.Errorf("decode %s in bucket %s: %w", e.Key(), bucket, err)
			}
			if err := fn(e.Key(), v); err != nil {
				return err
			}
		}
	}
}

// copyBlob copies b from one store to another and checks what arrived:
// the bytes read must have b's SHA-256 (else the source is damaged, and
// nothing is written), and the bytes read back from the target too.
func copyBlob(ctx context.Context, from, to hub.BlobStore, b Blob) error {
	r, err := from.Open(ctx, b.Key)
	if err != nil {
		return fmt.Errorf("blob %s (sha256 %s): open: %w", b.Key, b.SHA256, err)
	}
	defer r.Close()
	hr := &sumReader{r: r, h: sha256.New(), want: b.SHA256}
	if _, err := to.Put(ctx, b.Key, hr, b.Size); err != nil {
		return fmt.Errorf("blob %s (sha256 %s): copy: %w", b.Key, b.SHA256, err)
	}
	return verifyBlob(ctx, to, b)
}

// verifyBlob reads b back from store and checks its size and SHA-256.
func verifyBlob(ctx context.Context, store hub.BlobStore, b Blob) error {
	r, err := store.Open(ctx, b.Key)
	if err != nil {
		return fmt.Errorf("blob %s: read it back: %w", b.Key, err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return fmt.Errorf("blob %s: read it back: %w", b.Key, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != b.Size || got != b.SHA256 {
		return &mismatch{key: b.Key, want: b.SHA256, got: got, size: n, wantSize: b.Size}
	}
	return nil
}

type mismatch struct {
	key, want, got string
	size, wantSize int64
}

func (m *mismatch) Error() string {
	return fmt.Sprintf("blob %s holds %d bytes with sha256 %s, not the %d bytes with sha256 %s its record names", m.key, m.size, m.got, m.wantSize, m.want)
}

// sumReader hashes what it reads and fails the last read when the sum is
// not the one wanted, so a Put of a damaged source fails and stores
// nothing.
type sumReader struct {
	r    io.Reader
	h    hash.Hash
	want string
}

func (s *sumReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	if errors.Is(err, io.EOF) {
		if got := hex.EncodeToString(s.h.Sum(nil)); got != s.want {
			return n, fmt.Errorf("the source's bytes have sha256 %s, not %s: the source is damaged", got, s.want)
		}
	}
	return n, err
}
