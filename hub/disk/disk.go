// Package disk keeps blobs as files in a local directory. It is the blob store
// for a single hub with HUB_DATA_DIR and no S3 endpoint.
//
// Layout under the store's directory:
//
//	objects/<last two characters of key>/<key>   one file per blob
//	tmp/                                          uploads in progress
//
// A blob appears under objects/ only by an atomic rename of a complete, synced
// temporary file, so a reader never sees a partial blob, and a crash leaves at
// most a stale file in tmp/, which Open sweeps.
package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/syndication-hub/hub/hub"
)

const (
	// copyBufferSize is the chunk Put reads and writes at a time; ctx is
	// checked between chunks, so it also bounds how late a cancellation is
	// noticed.
	copyBufferSize = 256 << 10

	// staleTempAge is how old a temporary file must be before Open removes
	// it. Uploads in progress touch their file with every chunk, so an old
	// one belongs to a process that died; the margin keeps a second Store on
	// the same directory from removing a live upload.
	staleTempAge = time.Hour

	// tempSuffix marks files in tmp/ as ours, so the sweep removes nothing
	// else that someone may have put there.
	tempSuffix = ".upload"
)

// Store is a hub.BlobStore on the local file system. It is safe for
// concurrent use: concurrent Puts to one key each write their own temporary
// file and the last rename wins whole.
type Store struct {
	dir string
}

var _ hub.BlobStore = (*Store)(nil)

// Open returns a Store rooted at dir, creating the directory layout when it
// is missing and removing temporary files that a crashed process left behind.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("disk: blob directory required")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("disk: resolve %s: %w", dir, err)
	}
	s := &Store{dir: abs}
	for _, d := range []string{s.objectsDir(), s.tmpDir()} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("disk: create %s: %w", d, err)
		}
	}
	if _, err := s.SweepPartial(context.Background(), time.Now().Add(-staleTempAge), nil); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) objectsDir() string { return filepath.Join(s.dir, "objects") }
func (s *Store) tmpDir() string     { return filepath.Join(s.dir, "tmp") }

// path returns where key lives. Callers validate key first; ValidBlobKey
// admits only letters and digits, so the result never leaves objects/.
func (s *Store) path(key string) string {
	return filepath.Join(s.objectsDir(), key[len(key)-2:], key)
}

// SweepPartial removes our temporary files last modified before cutoff
// whose key keep does not claim. A Put writes its file with every chunk,
// so a file not written to since cutoff belongs to a process that died (or
// to an upload idle far longer than the hub lets one be).
func (s *Store) SweepPartial(ctx context.Context, cutoff time.Time, keep func(string) bool) (int, error) {
	entries, err := os.ReadDir(s.tmpDir())
	if err != nil {
		return 0, fmt.Errorf("disk: sweep temporary files: %w", err)
	}
	removed := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return removed, fmt.Errorf("disk: sweep temporary files: %w", err)
		}
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), tempSuffix) {
			continue
		}
		key, _, _ := strings.Cut(e.Name(), ".")
		if keep != nil && keep(key) {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // finished or removed meanwhile
		}
		if err != nil {
			return removed, fmt.Errorf("disk: sweep temporary files: %w", err)
		}
		if info.ModTime().After(cutoff) {
			continue
		}
		err = os.Remove(filepath.Join(s.tmpDir(), e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return removed, fmt.Errorf("disk: sweep temporary files: %w", err)
		}
		removed++
	}
	return removed, nil
}

// List calls fn for every object under objects/.
func (s *Store) List(ctx context.Context, fn func(key string, modTime time.Time) error) error {
	shards, err := os.ReadDir(s.objectsDir())
	if err != nil {
		return fmt.Errorf("disk: list: %w", err)
	}
	for _, shard := range shards {
		if !shard.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(s.objectsDir(), shard.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("disk: list: %w", err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("disk: list: %w", err)
			}
			if !e.Type().IsRegular() || !hub.ValidBlobKey(e.Name()) {
				continue
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted meanwhile
			} else if err != nil {
				return fmt.Errorf("disk: list: %w", err)
			}
			if err := fn(e.Name(), info.ModTime()); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkKey(key string) error {
	if !hub.ValidBlobKey(key) {
		return hub.Errorf(hub.EINVALID, "Blob key %q is malformed.", key)
	}
	return nil
}

// Put writes r to a temporary file, syncs it, renames it into place and
// syncs the directory, so after a nil return the blob survives a crash and
// before it nothing is visible under key. On any error, including a
// cancelled ctx or a length that differs from size, the temporary file is
// removed.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) (n int64, err error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	defer func() { err = s.full(err, true) }()
	if size < -1 {
		return 0, hub.Errorf(hub.EINVALID, "Blob size %d is invalid.", size)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("disk: put %s: %w", key, err)
	}

	f, err := os.CreateTemp(s.tmpDir(), key+".*"+tempSuffix)
	if err != nil {
		return 0, fmt.Errorf("disk: put %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			f.Close() // may already be closed; the error says nothing new
			os.Remove(f.Name())
		}
	}()

	if n, err = copyChunks(ctx, f, r, size); err != nil {
		return 0, fmt.Errorf("disk: put %s: %w", key, err)
	}
	if err = f.Sync(); err != nil {
		return 0, fmt.Errorf("disk: put %s: sync: %w", key, err)
	}
	if err = f.Close(); err != nil {
		return 0, fmt.Errorf("disk: put %s: close: %w", key, err)
	}
	// The last check before the object becomes visible: a caller that went
	// away should not find its upload stored after all.
	if err = ctx.Err(); err != nil {
		return 0, fmt.Errorf("disk: put %s: %w", key, err)
	}

	dst := s.path(key)
	shard := filepath.Dir(dst)
	if _, statErr := os.Stat(shard); errors.Is(statErr, fs.ErrNotExist) {
		if err = os.Mkdir(shard, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
			return 0, fmt.Errorf("disk: put %s: %w", key, err)
		}
		// The new shard directory must itself survive a crash.
		if err = syncDir(s.objectsDir()); err != nil {
			return 0, fmt.Errorf("disk: put %s: %w", key, err)
		}
	}
	if err = os.Rename(f.Name(), dst); err != nil {
		return 0, fmt.Errorf("disk: put %s: %w", key, err)
	}
	if err = syncDir(shard); err != nil {
		// The blob is in place and readable, but not durable; report it so the
		// caller does not record an asset that a crash could lose.
		os.Remove(dst)
		return 0, fmt.Errorf("disk: put %s: %w", key, err)
	}
	return n, nil
}

// copyChunks copies r to w in copyBufferSize chunks, checking ctx between
// them. With size >= 0 it insists on exactly size bytes: it reads at most
// one byte more, so an oversized body is noticed without being consumed.
func copyChunks(ctx context.Context, w io.Writer, r io.Reader, size int64) (int64, error) {
	if size >= 0 {
		r = io.LimitReader(r, size+1)
	}
	buf := make([]byte, copyBufferSize)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		nr, rerr := r.Read(buf)
		if nr > 0 {
			if size >= 0 && n+int64(nr) > size {
				return n, hub.Errorf(hub.EINVALID, "The upload is longer than the declared %d bytes.", size)
			}
			nw, werr := w.Write(buf[:nr])
			n += int64(nw)
			if werr != nil {
				return n, werr
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return n, rerr
		}
	}
	if size >= 0 && n != size {
		return n, hub.Errorf(hub.EINVALID, "The upload ended after %d of the declared %d bytes.", n, size)
	}
	return n, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// blob is an open blob file. Embedding *os.File keeps its WriteTo, so
// copying a whole blob to a socket can use sendfile.
type blob struct {
	*os.File
	stat hub.BlobStat
}

// Stat returns the size and modification time seen when the blob was opened.
func (b *blob) Stat() hub.BlobStat { return b.stat }

// Open opens key for reading. Returns ENOTFOUND if key is absent. The
// returned Blob is an *os.File underneath and keeps reading the version
// that was current at Open even if the key is overwritten or deleted.
func (s *Store) Open(ctx context.Context, key string) (hub.Blob, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("disk: open %s: %w", key, err)
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notFound(key)
	} else if err != nil {
		return nil, fmt.Errorf("disk: open %s: %w", key, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("disk: open %s: %w", key, err)
	}
	return &blob{File: f, stat: hub.BlobStat{Size: info.Size(), ModTime: info.ModTime()}}, nil
}

// Stat returns the size and modification time of key.
// Returns ENOTFOUND if key is absent.
func (s *Store) Stat(ctx context.Context, key string) (hub.BlobStat, error) {
	if err := checkKey(key); err != nil {
		return hub.BlobStat{}, err
	}
	if err := ctx.Err(); err != nil {
		return hub.BlobStat{}, fmt.Errorf("disk: stat %s: %w", key, err)
	}
	info, err := os.Stat(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return hub.BlobStat{}, notFound(key)
	} else if err != nil {
		return hub.BlobStat{}, fmt.Errorf("disk: stat %s: %w", key, err)
	}
	return hub.BlobStat{Size: info.Size(), ModTime: info.ModTime()}, nil
}

// Delete removes key. Deleting an absent key is not an error. Readers that
// have the blob open keep reading it until they close it.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("disk: delete %s: %w", key, err)
	}
	if err := os.Remove(s.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("disk: delete %s: %w", key, err)
	}
	return nil
}

// Check reports whether the store can take uploads, by creating, syncing and
// removing a file where uploads are written. A full or read-only disk fails
// here rather than in the middle of someone's upload.
func (s *Store) Check(ctx context.Context) (err error) {
	defer func() { err = s.full(err, false) }()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("disk: check: %w", err)
	}
	f, err := os.CreateTemp(s.tmpDir(), "check.*"+tempSuffix)
	if err != nil {
		return fmt.Errorf("disk: check: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write([]byte{0}); err != nil {
		f.Close()
		return fmt.Errorf("disk: check: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("disk: check: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("disk: check: %w", err)
	}
	return nil
}

// full turns a disk that has no room (ENOSPC, or a quota) into EFULL,
// keeping the cause for the log. write says whether the sentence may add
// "nothing was stored".
func (s *Store) full(err error, write bool) error {
	if err == nil || !(errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)) {
		return err
	}
	after := ""
	if write {
		after = "; nothing was stored"
	}
	return fmt.Errorf("%w: %w", hub.Errorf(hub.EFULL,
		"the hub's disk (blob store at %s) is full%s; free space there and try again", s.dir, after), err)
}

func notFound(key string) error {
	return hub.Errorf(hub.ENOTFOUND, "Blob %s does not exist.", key)
}
