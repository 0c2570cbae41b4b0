// Package scratch is the hub's scratch space (HUB_SCRATCH_DIR): the disk
// an upload's received bytes wait on while they are scrubbed, before any
// of them reaches the blob store. The unscrubbed bytes live nowhere else,
// and each file is removed when its upload ends, however it ends; a crash
// leaves a file the sweeps take (at start, and while the hub runs).
package scratch

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

// suffix marks the files as the hub's, so a sweep removes nothing else.
const suffix = ".scratch"

// staleAge is how long a file goes unwritten before Open takes it for a
// dead process's.
const staleAge = time.Hour

// reserve is room the scratch disk keeps beyond an upload's length (an
// eighth of the disk when that is less): the scrubbers' own temporary
// files (an ffmpeg remux) and the other uploads that started at the same
// moment.
const reserve = 64 << 20

// Dir is a scratch directory.
type Dir struct {
	path string
}

var _ hub.Scratch = (*Dir)(nil)

// Open returns the scratch directory at path, creating it, and removes
// what a crashed process left there.
func Open(path string) (*Dir, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("scratch: resolve %s: %w", path, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("scratch: create %s: %w", abs, err)
	}
	d := &Dir{path: abs}
	// An hour unwritten: a crashed process's. Replicas may share the
	// directory (one compose volume); a live upload writes its file all
	// the time, and is scrubbed in minutes at most.
	if _, err := d.Sweep(context.Background(), time.Now().Add(-staleAge), nil); err != nil {
		return nil, err
	}
	return d, nil
}

// Path is the directory's absolute path.
func (d *Dir) Path() string { return d.path }

// File is one upload's received bytes on the scratch disk; Close removes
// it. It is a hub.ScrubSource once written.
type File struct {
	f    *os.File
	size int64
}

// Size is how many bytes were spooled.
func (f *File) Size() int64 { return f.size }

// Path is the file's name.
func (f *File) Path() string { return f.f.Name() }

// ReadAt reads the spooled bytes.
func (f *File) ReadAt(p []byte, off int64) (int, error) { return f.f.ReadAt(p, off) }

// Close removes the file.
func (f *File) Close() error {
	f.f.Close()
	if err := os.Remove(f.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("scratch: remove %s: %w", f.f.Name(), err)
	}
	return nil
}

// Spool copies r into a new scratch file. size is r's length when known
// (else -1): a disk without room for it and the reserve is refused with
// EFULL before a byte is read, and a disk that fills up meanwhile too.
// On any error nothing is left behind.
func (d *Dir) Spool(ctx context.Context, upload string, r io.Reader, size int64) (hub.SpooledUpload, error) {
	if !validName(upload) {
		return nil, fmt.Errorf("scratch: %q is no upload id", upload)
	}
	if size >= 0 {
		var st syscall.Statfs_t
		if err := syscall.Statfs(d.path, &st); err != nil {
			return nil, fmt.Errorf("scratch: free space of %s: %w", d.path, err)
		}
		// The reserve, but never more than an eighth of a small disk.
		need := size + min(reserve, int64(st.Blocks)*int64(st.Bsize)/8)
		if free := int64(st.Bavail) * int64(st.Bsize); free < need {
			return nil, hub.Errorf(hub.EFULL, "the hub's scratch disk is full: %d MiB free, and this upload needs %d MiB there while it is scrubbed; nothing was stored; try again later or ask the operator to give HUB_SCRATCH_DIR more room", free>>20, (need+(1<<20)-1)>>20)
		}
	}
	f, err := os.OpenFile(filepath.Join(d.path, upload+suffix), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, full(fmt.Errorf("scratch: create a file in %s: %w", d.path, err))
	}
	sf := &File{f: f}
	n, err := io.Copy(f, contextReader{ctx, r})
	sf.size = n
	if err != nil {
		sf.Close()
		return nil, full(err)
	}
	return sf, nil
}

// Sweep removes the hub's scratch files (and a scrubber's own temporary
// files beside them, named after the upload) last written before cutoff
// that no live upload claims, returning how many went.
func (d *Dir) Sweep(ctx context.Context, cutoff time.Time, inUse func(upload string) bool) (int, error) {
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return 0, fmt.Errorf("scratch: read %s: %w", d.path, err)
	}
	n := 0
	for _, e := range entries {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		upload, _, ok := strings.Cut(e.Name(), suffix)
		if !ok || !validName(upload) || inUse != nil && inUse(upload) {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(d.path, e.Name())); err != nil {
			return n, fmt.Errorf("scratch: remove %s: %w", e.Name(), err)
		}
		n++
	}
	return n, nil
}

// Workspace makes a directory for a job's files.
func (d *Dir) Workspace(id string) (string, func(), error) {
	if !validName(id) {
		return "", nil, fmt.Errorf("scratch: %q is no job id", id)
	}
	path := filepath.Join(d.path, id+suffix)
	if err := os.Mkdir(path, 0o700); err != nil {
		return "", nil, full(fmt.Errorf("scratch: %w", err))
	}
	return path, func() { os.RemoveAll(path) }, nil
}

// validName reports whether s can name a scratch file: an upload id.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

// full turns a disk with no room into EFULL.
func full(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", hub.Errorf(hub.EFULL, "the hub's scratch disk is full; nothing was stored; try again later or ask the operator to give HUB_SCRATCH_DIR more room"), err)
	}
	return err
}

// contextReader stops a copy when ctx ends.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
