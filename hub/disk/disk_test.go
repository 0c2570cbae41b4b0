package disk_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/blobtest"
	"github.com/syndication-hub/hub/hub/disk"
)

func TestDiskSuite(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) hub.BlobStore { return mustOpen(t, t.TempDir()) })
}

// mustOpen opens a Store on dir and fails the test if, when it ends, any
// file is left under dir: neither a blob the suite forgot to delete nor a
// temporary file a failed Put forgot to remove.
func mustOpen(tb testing.TB, dir string) *disk.Store {
	tb.Helper()
	s, err := disk.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				tb.Errorf("teardown: %v", err)
				return nil
			}
			if !d.IsDir() {
				tb.Errorf("teardown: %s left behind", path)
			}
			return nil
		})
	})
	return s
}

func TestOpenSweepsStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := disk.Open(dir); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	stale := filepath.Join(tmp, "01KAQZ8J1T0000000000000000.123.upload")
	fresh := filepath.Join(tmp, "01KAQZ8J1T0000000000000001.456.upload")
	foreign := filepath.Join(tmp, "notes.txt")
	for _, p := range []string{stale, fresh, foreign} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}

	if _, err := disk.Open(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temp file still there (%v)", err)
	}
	for _, p := range []string{fresh, foreign} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}

func TestLayout(t *testing.T) {
	dir := t.TempDir()
	s, err := disk.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	const key = "01KAQZ8J1TABCDEFGHJKMNPQXY"
	if _, err := s.Put(t.Context(), key, strings.NewReader("hello"), 5); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "objects", "XY", key))
	if err != nil || string(b) != "hello" {
		t.Fatalf("objects/XY/%s: %q, %v", key, b, err)
	}
}

func TestCheckReadOnly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes to read-only directories")
	}
	dir := t.TempDir()
	s, err := disk.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.Chmod(tmp, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(tmp, 0o700) })
	if err := s.Check(t.Context()); err == nil {
		t.Fatal("Check passed on a read-only directory")
	}
}
