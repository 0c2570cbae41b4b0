package catalog

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// A listing snapshot is the listing index as a file on the replica's own
// disk, with the packages bucket's revision it reflects: a replica that
// starts on it asks the watch only for what changed since, instead of
// decoding every package the bucket holds (at 250,000 packages that is
// the difference between well under a second and ten).
//
// It is a cache, never the truth. Any doubt (another format, another
// bucket, a revision the bucket has not reached, a file cut short) and it
// is ignored: the index is rebuilt from the bucket as without it.

// snapshotFormat changes whenever what a snapshot holds changes meaning.
const snapshotFormat = 1

// snapshotHeader says what a snapshot reflects. Bucket identifies the
// packages stream by name and creation time: a bucket deleted and made
// again (a restore, a new cluster) starts its revisions over.
type snapshotHeader struct {
	Format   int
	Bucket   string
	Created  time.Time
	Revision uint64
	Entries  int
}

// snapshotEntry is a listEntry with its id.
type snapshotEntry struct {
	ID    string
	Rev   uint64
	Gone  bool
	Facts hub.ListingFacts
}

// bucketIdentity is what a snapshot must match of the bucket it is
// loaded for, and the bucket's last revision.
type bucketIdentity struct {
	Bucket  string
	Created time.Time
	LastRev uint64
}

// writeSnapshot writes the index to path as reflecting revision rev of
// the bucket: a temporary file in the same directory, synced, then
// renamed over the old one, so a crash leaves the old snapshot or the new
// one, never half of one.
func (x *listIndex) writeSnapshot(path string, b bucketIdentity, rev uint64) (err error) {
	entries := x.snapshotEntries()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("write listing snapshot: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".listings-*.tmp")
	if err != nil {
		return fmt.Errorf("write listing snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	enc := gob.NewEncoder(w)
	h := snapshotHeader{Format: snapshotFormat, Bucket: b.Bucket, Created: b.Created, Revision: rev, Entries: len(entries)}
	if err := enc.Encode(h); err != nil {
		return fmt.Errorf("write listing snapshot header: %w", err)
	}
	// In chunks: one gob value of 250,000 entries would be held whole
	// in the decoder's buffer on the way back in.
	for chunk := range slices.Chunk(entries, 4096) {
		if err := enc.Encode(chunk); err != nil {
			return fmt.Errorf("write listing snapshot: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write listing snapshot: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync listing snapshot: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write listing snapshot: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("replace listing snapshot: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // the rename's durability; the snapshot is a cache either way
		d.Close()
	}
	return nil
}

// snapshotEntries copies the entries out under the read lock, so the
// encoding holds up no write.
func (x *listIndex) snapshotEntries() []snapshotEntry {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]snapshotEntry, len(x.ids))
	for slot, id := range x.ids {
		e := x.entries[slot]
		out[slot] = snapshotEntry{ID: id, Rev: e.rev, Gone: e.gone}
		if !e.gone {
			out[slot].Facts = x.factsOf(int32(slot))
		}
	}
	return out
}

// errSnapshotStale is a snapshot that exists but does not fit the bucket.
var errSnapshotStale = errors.New("listing snapshot does not fit the bucket")

// readSnapshot loads the snapshot at path into an empty index and returns
// the revision it reflects. A missing file is fs.ErrNotExist; one that
// does not fit b is errSnapshotStale; the index is left empty on any
// error.
func (x *listIndex) readSnapshot(path string, b bucketIdentity) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read listing snapshot: %w", err)
	}
	defer f.Close()
	dec := gob.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	var h snapshotHeader
	if err := dec.Decode(&h); err != nil {
		return 0, fmt.Errorf("read listing snapshot header: %w", err)
	}
	switch {
	case h.Format != snapshotFormat:
		return 0, fmt.Errorf("%w: format %d, this hub writes %d", errSnapshotStale, h.Format, snapshotFormat)
	case h.Bucket != b.Bucket || !h.Created.Equal(b.Created):
		return 0, fmt.Errorf("%w: made for bucket %s of %s, this is %s of %s", errSnapshotStale,
			h.Bucket, h.Created.Format(time.RFC3339), b.Bucket, b.Created.Format(time.RFC3339))
	case h.Revision > b.LastRev:
		return 0, fmt.Errorf("%w: reflects revision %d, the bucket is at %d", errSnapshotStale, h.Revision, b.LastRev)
	case h.Entries < 0 || uint64(h.Entries) > b.LastRev:
		// Every entry is a key written at least once: more than the
		// bucket's revisions is a damaged header, not a catalog to
		// make room for.
		return 0, fmt.Errorf("%w: %d entries, more than the bucket's %d revisions", errSnapshotStale, h.Entries, b.LastRev)
	}
	entries := make([]snapshotEntry, 0, h.Entries)
	for len(entries) < h.Entries {
		var chunk []snapshotEntry
		if err := dec.Decode(&chunk); err != nil {
			return 0, fmt.Errorf("read listing snapshot after %d of %d entries: %w", len(entries), h.Entries, err)
		}
		entries = append(entries, chunk...)
	}
	if len(entries) != h.Entries {
		return 0, fmt.Errorf("%w: %d entries, the header says %d", errSnapshotStale, len(entries), h.Entries)
	}
	x.load(entries)
	return h.Revision, nil
}

// load fills an empty index with entries at once: the postings are
// appended to and sorted once each, where a put per entry would insert
// into the middle of sorted lists.
func (x *listIndex) load(entries []snapshotEntry) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.slots = make(map[string]int32, len(entries))
	x.ids = make([]string, 0, len(entries))
	x.entries = make([]listEntry, 0, len(entries))
	for _, s := range entries {
		if _, twice := x.slots[s.ID]; twice {
			continue
		}
		slot := x.newSlot(s.ID)
		if s.Gone {
			x.entries[slot] = listEntry{rev: s.Rev, gone: true}
			continue
		}
		e := x.entryOf(s.Rev, &s.Facts)
		x.entries[slot] = e
		x.all = append(x.all, slot)
		*x.statusList(e.status) = append(*x.statusList(e.status), slot)
		l := x.campaignList(e.campaign, e.status)
		*l = append(*l, slot)
		if e.pending {
			x.pending = append(x.pending, slot)
		}
	}
	byID := func(a, b int32) int { return strings.Compare(x.ids[a], x.ids[b]) }
	slices.SortFunc(x.all, byID)
	slices.SortFunc(x.pending, byID)
	for _, l := range x.byStatus {
		slices.SortFunc(*l, byID)
	}
	for _, byStatus := range x.byCampaign {
		for _, l := range byStatus {
			slices.SortFunc(*l, byID)
		}
	}
}

// isMissing reports whether err is a snapshot that is not there at all
// (a first start), which is no news for the log.
func isMissing(err error) bool { return errors.Is(err, fs.ErrNotExist) }
