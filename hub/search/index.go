// Package search is a replica's full-text index of the packages bucket,
// on its own disk (bleve, scorch segments). It watches the bucket itself
// and stores, in the same batch as the documents, the bucket revision
// they reflect, so a start resumes from there instead of reading every
// package again; it rebuilds from nothing when what it holds cannot be
// of this bucket (none yet, the bucket was recreated, or it claims a
// revision the bucket never reached). Until it has caught up with the
// bucket as it was on open, every search answers hub.ErrIndexBuilding.
//
// It answers candidates by the facts it indexed; hub.Service checks
// each against the catalog's current facts by the one rule before
// anyone sees it (see hub/search.go).
package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/nats-io/nats.go/jetstream"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/syndication-hub/hub/hub"
)

// formatVersion changes with the mapping or the documents: an index of
// another format is rebuilt.
const formatVersion = 1

// stateKey is the internal key holding the index's state.
var stateKey = []byte("hub_state")

// state is what the index stores of the bucket it reflects.
type state struct {
	Format int `json:"format"`
	// Stream and Created identify the bucket's stream: a bucket deleted
	// and created again has another creation time.
	Stream  string    `json:"stream"`
	Created time.Time `json:"created"`
	// Revision is the bucket revision every document reflects.
	Revision uint64 `json:"revision"`
}

// maxBatch bounds how many bucket entries go into one index batch.
const maxBatch = 512

// batchDelay is how long a change waits for others to share its batch:
// a write makes several revisions of one package within milliseconds
// (create, upload, release, announcement), which one batch indexes once,
// and each batch costs a segment. Search lags the catalog by about this.
const batchDelay = 50 * time.Millisecond

// Options configures an Index.
type Options struct {
	Logger *slog.Logger
}

// Stats says what the index did since it opened, for tests and logs.
type Stats struct {
	// Rebuilt is set when the index was built from nothing on open.
	Rebuilt bool
	// Applied counts the bucket entries indexed since open.
	Applied int64
	// CatchUp is how long catching up took (a full build's time when
	// Rebuilt); 0 until caught up.
	CatchUp time.Duration
	// Revision is the bucket revision the index reflects.
	Revision uint64
}

// Index is the full-text index of one replica.
type Index struct {
	dir string
	kv  jetstream.KeyValue
	log *slog.Logger
	idx bleve.Index
	st  state

	ready   atomic.Bool
	caught  chan struct{}
	applied atomic.Int64
	rev     atomic.Uint64
	rebuilt bool
	catchUp atomic.Int64 // nanoseconds

	// failed holds why the index stopped for good (a panic in the
	// engine, as bleve gives on a full disk): searches answer
	// EUNAVAILABLE until the replica restarts and the index resumes from
	// what it last stored.
	failed atomic.Pointer[string]

	stop      context.CancelFunc
	stopped   sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

var _ hub.SearchIndex = (*Index)(nil)

// Open opens (or builds) the index under dir for the packages bucket
// (catalog.PackagesBucket, as the catalog created it), and starts keeping
// it current. It returns before the index has caught up: Ready, Caught
// and Search say when it has. Close stops it.
func Open(ctx context.Context, packages jetstream.KeyValue, dir string, opts Options) (*Index, error) {
	x := &Index{dir: dir, kv: packages, log: opts.Logger, caught: make(chan struct{})}
	if x.log == nil {
		x.log = slog.New(slog.DiscardHandler)
	}
	status, err := packages.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("search index: bucket %s status: %w", packages.Bucket(), err)
	}
	bs, ok := status.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return nil, fmt.Errorf("search index: bucket %s status of unexpected type %T", packages.Bucket(), status)
	}
	info := bs.StreamInfo()
	want := state{Format: formatVersion, Stream: info.Config.Name, Created: info.Created.UTC()}
	if err := x.openIndex(want, info.State.LastSeq); err != nil {
		return nil, err
	}
	watchCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	x.stop = stop
	x.stopped.Add(1)
	go x.run(watchCtx, time.Now())
	return x, nil
}

// path is where bleve keeps its files.
func (x *Index) path() string { return filepath.Join(x.dir, "bleve") }

// openIndex opens the index on disk when its state fits the bucket (want,
// whose last revision is lastSeq), else builds a new one.
func (x *Index) openIndex(want state, lastSeq uint64) error {
	idx, err := bleve.OpenUsing(x.path(), runtimeConfig())
	switch {
	case err == nil:
		st, why := readState(idx)
		if why == "" {
			switch {
			case st.Format != want.Format:
				why = fmt.Sprintf("it is of format %d, this hub writes %d", st.Format, want.Format)
			case st.Stream != want.Stream || !st.Created.Equal(want.Created):
				why = fmt.Sprintf("the bucket was created again (at %s; the index is of the one created at %s)", want.Created.Format(time.RFC3339), st.Created.Format(time.RFC3339))
			case st.Revision > lastSeq:
				why = fmt.Sprintf("it reflects revision %d, and the bucket has only reached %d", st.Revision, lastSeq)
			}
		}
		if why == "" {
			x.idx, x.st = idx, st
			x.rev.Store(st.Revision)
			x.log.Info("search index opened", "dir", x.dir, "revision", st.Revision, "bucket_revision", lastSeq)
			return nil
		}
		x.log.Warn("search index does not fit the bucket; rebuilding it", "dir", x.dir, "reason", why)
		if err := idx.Close(); err != nil {
			return fmt.Errorf("search index: close %s: %w", x.path(), err)
		}
	case errors.Is(err, bolterrors.ErrTimeout):
		return fmt.Errorf("search index: %s is in use by another process (do two replicas share one HUB_INDEX_DIR? each needs its own): %w", x.path(), err)
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist):
		x.log.Info("search index: none on disk; building it", "dir", x.dir)
	default:
		x.log.Warn("search index unreadable; rebuilding it", "dir", x.dir, "err", err)
	}
	if err := os.RemoveAll(x.path()); err != nil {
		return fmt.Errorf("search index: remove %s: %w", x.path(), err)
	}
	if err := os.MkdirAll(x.dir, 0o750); err != nil {
		return fmt.Errorf("search index: create %s: %w", x.dir, err)
	}
	m, err := newMapping()
	if err != nil {
		return fmt.Errorf("search index: mapping: %w", err)
	}
	idx, err = bleve.NewUsing(x.path(), m, bleve.Config.DefaultIndexType, bleve.Config.DefaultKVStore, runtimeConfig())
	if err != nil {
		return fmt.Errorf("search index: create %s: %w", x.path(), err)
	}
	x.idx, x.st, x.rebuilt = idx, want, true
	b := idx.NewBatch()
	if err := x.setState(b, 0); err != nil {
		return err
	}
	if err := idx.Batch(b); err != nil {
		return fmt.Errorf("search index: write state: %w", err)
	}
	return nil
}

// runtimeConfig bounds the wait for the index's lock: another process
// holding it is a configuration error to report, not to wait out. Each
// batch waits until it is on disk (bleve's unsafe_batch would lose the
// unpersisted ones, and the stored revision with them, at every Close);
// batchDelay keeps batches few.
func runtimeConfig() map[string]any { return map[string]any{"bolt_timeout": "5s"} }

func readState(idx bleve.Index) (state, string) {
	raw, err := idx.GetInternal(stateKey)
	if err != nil {
		return state{}, fmt.Sprintf("its state is unreadable: %v", err)
	}
	if raw == nil {
		return state{}, "it holds no state (a build that never wrote one)"
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return state{}, fmt.Sprintf("its state is unreadable: %v", err)
	}
	return st, ""
}

func (x *Index) setState(b *bleve.Batch, rev uint64) error {
	st := x.st
	st.Revision = rev
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("search index: encode state: %w", err)
	}
	b.SetInternal(stateKey, raw)
	return nil
}

// Close stops keeping the index current and closes it; closing again
// does nothing.
func (x *Index) Close() error {
	x.closeOnce.Do(func() {
		x.stop()
		x.stopped.Wait()
		if err := x.idx.Close(); err != nil {
			x.closeErr = fmt.Errorf("search index: close: %w", err)
		}
	})
	return x.closeErr
}

// Ready reports whether the index has caught up with the bucket as it
// was on open: searches are answered from then on.
func (x *Index) Ready() bool { return x.ready.Load() }

// Caught is closed once the index has caught up.
func (x *Index) Caught() <-chan struct{} { return x.caught }

// Stats says what the index did since it opened.
func (x *Index) Stats() Stats {
	return Stats{Rebuilt: x.rebuilt, Applied: x.applied.Load(), CatchUp: time.Duration(x.catchUp.Load()), Revision: x.rev.Load()}
}

// DocCount returns how many documents (working copies and live versions)
// the index holds.
func (x *Index) DocCount() (uint64, error) { return x.idx.DocCount() }

// run keeps the index current until ctx ends: it watches the bucket
// from the revision after the stored one, and starts the watch again
// from the revision reached when the watch breaks off.
func (x *Index) run(ctx context.Context, opened time.Time) {
	defer x.stopped.Done()
	wait := time.Second
	for ctx.Err() == nil {
		err := x.follow(ctx, opened)
		if ctx.Err() != nil {
			return
		}
		if x.failed.Load() != nil {
			return
		}
		x.log.Error("search index: following the packages bucket stopped; starting again", "revision", x.rev.Load(), "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// follow applies the bucket's changes after the index's revision, batched
// while there is a backlog.
func (x *Index) follow(ctx context.Context, opened time.Time) error {
	var opts []jetstream.WatchOpt
	if rev := x.rev.Load(); rev > 0 {
		opts = append(opts, jetstream.ResumeFromRevision(rev+1))
	}
	w, err := x.kv.WatchAll(ctx, opts...)
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	defer func() { _ = w.Stop() }()
	var pending []jetstream.KeyValueEntry
	var flush <-chan time.Time
	for {
		var e jetstream.KeyValueEntry
		var ok bool
		if len(pending) == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case e, ok = <-w.Updates():
			}
		} else {
			// Take what arrives for a moment, then write the batch.
			select {
			case e, ok = <-w.Updates():
			case <-flush:
				if err := x.apply(pending); err != nil {
					return err
				}
				pending = pending[:0]
				continue
			}
		}
		if !ok {
			if err := x.apply(pending); err != nil {
				return err
			}
			return errors.New("the watch closed")
		}
		if e == nil { // caught up with the bucket as it was when the watch began
			if err := x.apply(pending); err != nil {
				return err
			}
			pending = pending[:0]
			x.caughtUp(opened)
			continue
		}
		if e.Revision() <= x.rev.Load() {
			continue
		}
		if len(pending) == 0 {
			flush = time.After(batchDelay)
		}
		pending = append(pending, e)
		if len(pending) >= maxBatch {
			if err := x.apply(pending); err != nil {
				return err
			}
			pending = pending[:0]
		}
	}
}

func (x *Index) caughtUp(opened time.Time) {
	if x.ready.Swap(true) {
		return
	}
	d := time.Since(opened)
	x.catchUp.Store(int64(d))
	close(x.caught)
	n, _ := x.idx.DocCount()
	msg := "search index caught up"
	if x.rebuilt {
		msg = "search index built"
	}
	x.log.Info(msg, "took", d.Round(time.Millisecond), "entries_applied", x.applied.Load(), "documents", n, "revision", x.rev.Load())
}

// apply writes entries, oldest first, and the revision of the last, in one batch.
// A panic of the engine (bleve's answer to some write failures, such as
// a full disk) stops the index for good instead of the hub.
func (x *Index) apply(entries []jetstream.KeyValueEntry) (err error) {
	if len(entries) == 0 {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			why := fmt.Sprint(r)
			x.failed.Store(&why)
			x.log.Error("search index failed; searches answer 503 until this replica restarts", "revision", x.rev.Load(), "panic", why)
			err = fmt.Errorf("search index failed: %s", why)
		}
	}()
	b := x.idx.NewBatch()
	// The last entry of each key is what the package is now.
	last := map[string]int{}
	for i, e := range entries {
		last[e.Key()] = i
	}
	for i, e := range entries {
		id := e.Key()
		if last[id] != i {
			continue
		}
		var docs map[string]map[string]any
		if e.Operation() == jetstream.KeyValuePut {
			var p hub.Package
			if err := json.Unmarshal(e.Value(), &p); err != nil {
				x.log.Error("search index: skip unreadable package entry", "key", id, "err", err)
			} else {
				docs = documents(id, &p)
			}
		}
		for _, kind := range []string{kindWorking, kindLive} {
			did := docID(kind, id)
			if d, ok := docs[did]; ok {
				if err := b.Index(did, d); err != nil {
					return fmt.Errorf("search index: index %s: %w", did, err)
				}
			} else {
				b.Delete(did)
			}
		}
	}
	rev := entries[len(entries)-1].Revision()
	if err := x.setState(b, rev); err != nil {
		return err
	}
	if err := x.idx.Batch(b); err != nil {
		return fmt.Errorf("search index: write batch up to revision %d: %w", rev, err)
	}
	x.rev.Store(rev)
	x.applied.Add(int64(len(entries)))
	return nil
}

// Sync waits until the index reflects the bucket as it is now (its last
// revision when Sync is called), for tests and tools that write and then
// search; requests never wait for it.
func (x *Index) Sync(ctx context.Context) error {
	status, err := x.kv.Status(ctx)
	if err != nil {
		return fmt.Errorf("search index: bucket status: %w", err)
	}
	bs, ok := status.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return fmt.Errorf("search index: bucket status of unexpected type %T", status)
	}
	last := bs.StreamInfo().State.LastSeq
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for x.rev.Load() < last || !x.ready.Load() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("search index: at revision %d, waiting for %d: %w", x.rev.Load(), last, ctx.Err())
		case <-t.C:
		}
	}
	return nil
}
