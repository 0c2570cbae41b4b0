package scratch_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub/scratch"
)

// A spooled upload is read while it arrives: a read waits for its bytes,
// and fails with the body's error when they never come; Close removes
// the file.
func TestSpoolIsReadWhileItArrives(t *testing.T) {
	dir, err := scratch.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	f, err := dir.Spool(t.Context(), "01UPLOAD", pr, 10)
	if err != nil {
		t.Fatal(err)
	}
	if f.Size() != 10 || !f.Arriving() {
		t.Fatalf("size %d, arriving %v, want the declared 10 and true", f.Size(), f.Arriving())
	}
	got := make(chan []byte)
	go func() {
		b := make([]byte, 4)
		n, err := f.ReadAt(b, 2)
		if err != nil {
			t.Error(err)
		}
		got <- b[:n]
	}()
	pw.Write([]byte("ab"))
	select {
	case b := <-got:
		t.Fatalf("read %q before its bytes came", b)
	case <-time.After(50 * time.Millisecond):
	}
	pw.Write([]byte("cdefg"))
	if b := <-got; string(b) != "cdef" {
		t.Errorf("read %q, want cdef", b)
	}
	broken := errors.New("the client went away")
	pw.CloseWithError(broken)
	if _, err := f.ReadAt(make([]byte, 4), 6); !errors.Is(err, broken) {
		t.Errorf("a read past what came: %v, want the body's error", err)
	}
	b := make([]byte, 3)
	if _, err := f.ReadAt(b, 4); err != nil || !bytes.Equal(b, []byte("efg")) {
		t.Errorf("a read of what came: %q, %v", b, err)
	}
	if err := f.Wait(); !errors.Is(err, broken) || f.Arriving() {
		t.Errorf("wait: %v (arriving %v), want the body's error", err, f.Arriving())
	}
	path := f.Path()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the scratch file is still there: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir.Path(), "*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// A body of unknown length has the size of what came, once it all came.
func TestSpoolOfUnknownLength(t *testing.T) {
	dir, err := scratch.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := dir.Spool(t.Context(), "01UNKNOWN", bytes.NewReader([]byte("hello")), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Size() != 5 || f.Wait() != nil {
		t.Errorf("size %d, want 5", f.Size())
	}
	b := make([]byte, 8)
	if n, err := f.ReadAt(b, 0); n != 5 || err != io.EOF {
		t.Errorf("read %d, %v, want 5 and EOF", n, err)
	}
}
