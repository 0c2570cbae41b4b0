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
	"sync"
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

// File is one upload's received bytes on the scratch disk, readable while
// they arrive; Close removes it. It is a hub.SpooledUpload.
type File struct {
	f        *os.File
	declared int64 // the length the client declared, or -1

	mu      sync.Mutex
	arrived *sync.Cond // signalled as bytes arrive, and when the copy ends
	n       int64      // bytes written so far
	done    bool
	err     error // how the copy ended
}

// Size is the declared length, or, when none was, how many bytes came
// (waiting for the copy's end).
func (f *File) Size() int64 {
	if f.declared >= 0 {
		return f.declared
	}
	f.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// Path is the file's name, once every byte is in it.
func (f *File) Path() string {
	f.Wait()
	return f.f.Name()
}

// Arriving reports whether the copy is still going on.
func (f *File) Arriving() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.done
}

// Wait blocks until the copy ends and returns its error.
func (f *File) Wait() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for !f.done {
		f.arrived.Wait()
	}
	return f.err
}

// ReadAt reads the spooled bytes, waiting until those asked for have
// arrived; bytes that never come are the copy's error.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	want := off + int64(len(p))
	f.mu.Lock()
	for !f.done && f.n < want {
		f.arrived.Wait()
	}
	n, err := f.n, f.err
	f.mu.Unlock()
	if err != nil && n < want {
		return 0, err
	}
	return f.f.ReadAt(p, off)
}

// Write appends received bytes and wakes the readers waiting for them.
func (f *File) Write(p []byte) (int, error) {
	n, err := f.f.Write(p)
	f.mu.Lock()
	f.n += int64(n)
	f.mu.Unlock()
	f.arrived.Broadcast()
	return n, err
}

// finish records how the copy ended.
func (f *File) finish(err error) {
	f.mu.Lock()
	f.done, f.err = true, err
	f.mu.Unlock()
	f.arrived.Broadcast()
}

// Close waits for the copy to end and removes the file.
func (f *File) Close() error {
	f.Wait()
	f.f.Close()
	if err := os.Remove(f.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("scratch: remove %s: %w", f.f.Name(), err)
	}
	return nil
}

// Spool starts copying r into a new scratch file and returns it. size is
// r's length when known (else -1): a disk without room for it and the
// reserve is refused with EFULL before a byte is read, and a disk that
// fills up meanwhile ends the copy with EFULL. The copy stops when ctx
// ends; Close removes the file however the copy ended.
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
	sf := &File{f: f, declared: size}
	sf.arrived = sync.NewCond(&sf.mu)
	go func() {
		_, err := io.Copy(sf, contextReader{ctx, r})
		if err != nil {
			err = full(err)
		}
		sf.finish(err)
	}()
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
