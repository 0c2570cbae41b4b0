// Package staging keeps resumable (tus) uploads on the hub's scratch disk
// until their last byte arrives: tusd's file store in a directory of the
// scratch space, one per replica, with the sweeps and deletions the hub
// needs around it. The bytes are not scrubbed yet, so they never go to
// the blob store from here; the HTTP layer hands a complete upload to
// hub.Service.PutAsset, which scrubs and stores it, and then removes it.
package staging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tus/tusd/v2/pkg/filestore"
	tusd "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"

	"github.com/syndication-hub/hub/hub"
)

// MetaPackage and the other Meta keys are the upload's metadata the hub
// keeps in its info file: where the asset goes, and which key made it.
const (
	MetaPackage = "package"
	MetaName    = "name"
	MetaType    = "type"
	MetaKey     = "key"
)

// infoSuffix is tusd's file store's name for an upload's description.
const infoSuffix = ".info"

// reserve is room the scratch disk keeps beyond an upload: the same as
// the scratch spool's, for the scrubbers' own files and other uploads.
const reserve = 64 << 20

// FirstBytes checks the first bytes of an upload (up to hub.SniffLength,
// fewer when the first request carried fewer) before any is staged; an
// error refuses the request and removes the upload.
type FirstBytes func(ctx context.Context, info tusd.FileInfo, head []byte) error

// Store is one replica's staging directory.
type Store struct {
	dir   string
	files filestore.FileStore
}

var _ hub.StagedUploads = (*Store)(nil)

// Open returns the staging directory at dir, creating it. An upload found
// complete there was received whole by a process that died before it
// stored the asset: nobody learnt an outcome, so it is removed, and the
// client's next HEAD is a 404 that tells it to send the file again (a
// client that compares digests, as `hub push` does, first finds whether
// the asset was recorded after all). removed counts those.
func Open(dir string) (s *Store, removed int, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("staging: resolve %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, 0, fmt.Errorf("staging: create %s: %w", abs, err)
	}
	files := filestore.New(abs)
	files.DirModePerm, files.FileModePerm = 0o700, 0o600
	s = &Store{dir: abs, files: files}
	err = s.each(func(info tusd.FileInfo, _ time.Time) error {
		if info.SizeIsDeferred || info.Offset < info.Size {
			return nil
		}
		removed++
		return s.Remove(info.ID)
	})
	return s, removed, err
}

// Path is the directory's absolute path.
func (s *Store) Path() string { return s.dir }

// UseIn makes s the composer's store, checking each upload's first
// bytes with check (nil checks nothing), with an in-process lock: all of
// an upload's requests reach the replica that staged it (see the README's
// cluster rule), so no other process writes its files.
func (s *Store) UseIn(c *tusd.StoreComposer, check FirstBytes) {
	cs := &checkedStore{store: s, check: check}
	c.UseCore(cs)
	c.UseTerminater(cs)
	memorylocker.New().UseIn(c)
}

// checkedStore is the store tusd writes through.
type checkedStore struct {
	store *Store
	check FirstBytes
}

// NewUpload stages a new upload (tusd's DataStore).
func (cs *checkedStore) NewUpload(ctx context.Context, info tusd.FileInfo) (tusd.Upload, error) {
	u, err := cs.store.files.NewUpload(ctx, info)
	if err != nil {
		return nil, full(err)
	}
	return &upload{Upload: u, store: cs}, nil
}

// GetUpload opens a staged upload (tusd's DataStore); an id that names
// none is tusd.ErrNotFound.
func (cs *checkedStore) GetUpload(ctx context.Context, id string) (tusd.Upload, error) {
	u, err := cs.store.files.GetUpload(ctx, id)
	if err != nil {
		return nil, err
	}
	return &upload{Upload: u, store: cs}, nil
}

// AsTerminatableUpload lets tusd delete an upload (DELETE).
func (cs *checkedStore) AsTerminatableUpload(u tusd.Upload) tusd.TerminatableUpload {
	return u.(*upload)
}

// Info reads a staged upload's description; an id that names none is
// ENOTFOUND.
func (s *Store) Info(ctx context.Context, id string) (tusd.FileInfo, error) {
	u, err := s.files.GetUpload(ctx, id)
	if errors.Is(err, tusd.ErrNotFound) {
		return tusd.FileInfo{}, hub.Errorf(hub.ENOTFOUND, "there is no upload %q", id)
	} else if err != nil {
		return tusd.FileInfo{}, fmt.Errorf("staging: read upload %s: %w", id, err)
	}
	return u.GetInfo(ctx)
}

// Remove deletes a staged upload's files; one already gone is no error.
func (s *Store) Remove(id string) error {
	for _, name := range []string{id, id + infoSuffix} {
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("staging: remove %s: %w", name, err)
		}
	}
	return nil
}

// Keep marks a complete upload as in use until stop is called, so a
// sweep does not take it while its asset is stored (an 8 GiB file may be
// scrubbed and stored for longer than the sweep's grace).
func (s *Store) Keep(id string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	touch := func() {
		now := time.Now()
		_ = os.Chtimes(filepath.Join(s.dir, id+infoSuffix), now, now)
	}
	touch()
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				touch()
			}
		}
	}()
	return func() { close(done); <-finished }
}

// Room refuses, with EFULL, an upload of size bytes the scratch disk has
// no room for: need times size (the staged copy and the scrub's) and the
// reserve.
func (s *Store) Room(size int64, need int64) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.dir, &st); err != nil {
		return fmt.Errorf("staging: free space of %s: %w", s.dir, err)
	}
	want := need*size + min(reserve, int64(st.Blocks)*int64(st.Bsize)/8)
	if free := int64(st.Bavail) * int64(st.Bsize); free < want {
		return hub.Errorf(hub.EFULL, "the hub's scratch disk is full: %d MiB free, and this upload needs %d MiB there while it is received and scrubbed; nothing was stored; try again later or ask the operator to give HUB_SCRATCH_DIR more room", free>>20, (want+(1<<20)-1)>>20)
	}
	return nil
}

// Sweep removes the uploads whose files were last written before cutoff,
// and those into a package gone says is gone.
func (s *Store) Sweep(ctx context.Context, cutoff time.Time, gone func(pkg string) bool) (int, error) {
	n := 0
	err := s.each(func(info tusd.FileInfo, mod time.Time) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !mod.Before(cutoff) && (gone == nil || !gone(info.MetaData[MetaPackage])) {
			return nil
		}
		n++
		return s.Remove(info.ID)
	})
	return n, err
}

// DeletePackage removes every upload into package id.
func (s *Store) DeletePackage(ctx context.Context, id string) (int, error) {
	return s.Sweep(ctx, time.Time{}, func(pkg string) bool { return pkg == id })
}

// each calls f with every staged upload and the last time any of its
// files was written.
func (s *Store) each(f func(info tusd.FileInfo, mod time.Time) error) error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("staging: read %s: %w", s.dir, err)
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), infoSuffix)
		if !ok {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		} else if err != nil {
			return fmt.Errorf("staging: read %s: %w", e.Name(), err)
		}
		var info tusd.FileInfo
		if err := json.Unmarshal(b, &info); err != nil || info.ID != id {
			info = tusd.FileInfo{ID: id} // damaged: only its age counts
		}
		var mod time.Time
		for _, name := range []string{id, id + infoSuffix} {
			if st, err := os.Stat(filepath.Join(s.dir, name)); err == nil && st.ModTime().After(mod) {
				mod = st.ModTime()
			}
		}
		if err := f(info, mod); err != nil {
			return err
		}
	}
	return nil
}

// upload is a staged upload whose first bytes are checked.
type upload struct {
	tusd.Upload
	store *checkedStore
}

// WriteChunk stages bytes. The first ones (the sniff window) are checked
// before they are kept; a request that brings fewer (its body ended or
// broke off early) stages them, and the request that completes the
// window is checked with them.
func (u *upload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	if u.store.check == nil {
		return u.write(ctx, offset, src)
	}
	info, err := u.GetInfo(ctx)
	if err != nil {
		return 0, err
	}
	window := min(int64(hub.SniffLength), info.Size)
	if offset >= window {
		return u.write(ctx, offset, src)
	}
	head := make([]byte, window)
	if offset > 0 {
		if err := readStaged(info, head[:offset]); err != nil {
			return 0, err
		}
	}
	// A body that fails here fails again where it is written, after the
	// bytes that did come.
	n, _ := io.ReadFull(src, head[offset:])
	head = head[:offset+int64(n)]
	if int64(len(head)) == window {
		if err := u.store.check(ctx, info, head); err != nil {
			if rerr := u.store.store.Remove(info.ID); rerr != nil {
				return 0, errors.Join(err, rerr)
			}
			return 0, err
		}
	}
	return u.write(ctx, offset, io.MultiReader(bytes.NewReader(head[offset:]), src))
}

func (u *upload) write(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	n, err := u.Upload.WriteChunk(ctx, offset, src)
	return n, full(err)
}

// readStaged reads the first len(p) staged bytes of an upload.
func readStaged(info tusd.FileInfo, p []byte) error {
	f, err := os.Open(info.Storage[filestore.StorageKeyPath])
	if err != nil {
		return fmt.Errorf("staging: open upload %s: %w", info.ID, err)
	}
	defer f.Close()
	if _, err := io.ReadFull(f, p); err != nil {
		return fmt.Errorf("staging: read upload %s: %w", info.ID, err)
	}
	return nil
}

// Terminate deletes the upload (DELETE).
func (u *upload) Terminate(ctx context.Context) error {
	return u.store.store.files.AsTerminatableUpload(u.Upload).Terminate(ctx)
}

// full turns a disk with no room into EFULL.
func full(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", hub.Errorf(hub.EFULL, "the hub's scratch disk is full; the upload stopped; try again later or ask the operator to give HUB_SCRATCH_DIR more room"), err)
	}
	return err
}
