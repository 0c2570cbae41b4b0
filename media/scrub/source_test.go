package scrub_test

import (
	"os"
	"path/filepath"
	"testing"
)

// fileSource is a hub.ScrubSource over a file the test wrote, as the
// hub's scratch space gives the scrubber.
type fileSource struct {
	*os.File
	size int64
}

func (f fileSource) Size() int64  { return f.size }
func (f fileSource) Path() string { return f.Name() }

// sourceOf writes b into a scratch file named name and opens it.
func sourceOf(t testing.TB, name string, b []byte) fileSource {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return fileSource{File: f, size: int64(len(b))}
}
