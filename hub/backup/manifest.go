package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Format is the version of the backup layout this package writes and
// reads.
const Format = 1

// Layout of a backup directory. The manifest is written last, so a
// directory with one holds a whole backup; incompleteFile marks one a
// backup is being written into (or was, when it crashed).
const (
	manifestFile   = "manifest.json"
	incompleteFile = ".incomplete"
	streamsDir     = "nats"
	// BlobsDir is where a backup keeps the blobs, as the disk blob store
	// lays them out (the caller opens a store there).
	BlobsDir = "blobs"
)

// Manifest describes one backup: every stream of the hub's NATS account
// with its state, and every blob a record names, with its content sum.
type Manifest struct {
	Format int `json:"format"`
	// ID names the backup by what it holds (the streams' states and the
	// blobs), so backing up an unchanged hub again gives the same ID and
	// a restore cut off half-way knows the target is its own.
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Streams []Stream  `json:"streams"`
	Blobs   []Blob    `json:"blobs"`
}

// Stream is one stream's snapshot in a backup.
type Stream struct {
	Name string `json:"name"`
	// Config and State are the stream's as the snapshot recorded them.
	Config json.RawMessage `json:"config"`
	State  json.RawMessage `json:"state"`
	// File is the snapshot (JetStream's own format), relative to the
	// backup directory, with its size and SHA-256.
	File   string `json:"file"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Blob is one stored object a record names.
type Blob struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// streamState is what a restore checks of a stream's state.
type streamState struct {
	Messages  uint64 `json:"messages"`
	FirstSeq  uint64 `json:"first_seq"`
	LastSeq   uint64 `json:"last_seq"`
	Consumers int    `json:"consumer_count"`
}

func (s Stream) state() (streamState, error) {
	var st streamState
	if err := json.Unmarshal(s.State, &st); err != nil {
		return st, fmt.Errorf("stream %s: decode its state: %w", s.Name, err)
	}
	return st, nil
}

// identify sets m.ID from the streams' states and the blobs.
func (m *Manifest) identify() {
	h := sha256.New()
	for _, s := range m.Streams {
		// Compact: the manifest is written indented, and its id must be
		// the same read back as made.
		var state bytes.Buffer
		if json.Compact(&state, s.State) != nil {
			state.Write(s.State)
		}
		fmt.Fprintf(h, "stream %s %s\n", s.Name, state.Bytes())
	}
	for _, b := range m.Blobs {
		fmt.Fprintf(h, "blob %s %d %s\n", b.Key, b.Size, b.SHA256)
	}
	m.ID = hex.EncodeToString(h.Sum(nil))[:24]
}

// ReadManifest reads the manifest of the backup in dir. A directory
// without one holds no whole backup.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if os.IsNotExist(err) {
		if _, ierr := os.Stat(filepath.Join(dir, incompleteFile)); ierr == nil {
			return nil, fmt.Errorf("%s holds an unfinished backup (it was cut off): run `hub backup` again", dir)
		}
		return nil, fmt.Errorf("%s holds no backup (no %s)", dir, manifestFile)
	}
	if err != nil {
		return nil, fmt.Errorf("read the backup's manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode the backup's manifest %s: %w", filepath.Join(dir, manifestFile), err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("the backup in %s has format %d; this hub reads format %d", dir, m.Format, Format)
	}
	// The ID says which restore a half-restored target belongs to, so it
	// must be the one these contents make, not one copied from another.
	claimed := m.ID
	m.identify()
	if m.ID != claimed {
		return nil, fmt.Errorf("the backup in %s is damaged: its manifest's id %q is not the one its contents make", dir, claimed)
	}
	for _, st := range m.Streams {
		// A snapshot is a file of the backup's own nats/ directory, and
		// a stream's name a name (it becomes a subject token).
		if !filepath.IsLocal(filepath.FromSlash(st.File)) || !strings.HasPrefix(st.File, "nats/") {
			return nil, fmt.Errorf("the backup in %s is damaged: stream %q's snapshot %q is not a file of its nats/ directory", dir, st.Name, st.File)
		}
		if st.Name == "" || strings.ContainsAny(st.Name, ".*> \t\r\n/") {
			return nil, fmt.Errorf("the backup in %s is damaged: %q is not a stream name", dir, st.Name)
		}
	}
	return &m, nil
}

// writeManifest writes m into dir atomically and durably.
func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, manifestFile+".tmp")
	if err := writeFileSync(tmp, b); err != nil {
		return fmt.Errorf("write the manifest: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, manifestFile)); err != nil {
		return fmt.Errorf("write the manifest: %w", err)
	}
	return syncDir(dir)
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
