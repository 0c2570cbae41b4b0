package pull_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/pull"
)

// fullFS is the real file system, except that writes to the files full
// picks fail the way a full disk fails them.
type fullFS struct {
	pull.OSFS
	full func(name string) bool
}

func (f fullFS) OpenFile(name string, flag int, perm fs.FileMode) (pull.File, error) {
	file, err := f.OSFS.OpenFile(name, flag, perm)
	if err != nil || flag&(os.O_WRONLY|os.O_RDWR) == 0 || !f.full(name) {
		return file, err
	}
	return fullFile{File: file, name: name}, nil
}

type fullFile struct {
	pull.File
	name string
}

func (f fullFile) Write(p []byte) (int, error) {
	n, _ := f.File.Write(p[:len(p)/2])
	return n, &fs.PathError{Op: "write", Path: f.name, Err: syscall.ENOSPC}
}

func TestPullOnAFullDiskSaysSoAndKeepsItsState(t *testing.T) {
	e := newEnv(t, hubtest.Options{})
	e.publish(t, "korgau123", "ru", "Первый", map[string][]byte{"a.png": png("a", 1000)})
	e.pull(t, nil, pull.Options{})
	statePath := filepath.Join(e.dest, pull.StateDir, "state.json")
	before, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	id := e.publish(t, "korgau123", "ru", "Второй", map[string][]byte{"b.png": png("b", 100_000)})

	// In this order: the first leaves a partial download, the second
	// completes it and then cannot save the state.
	for _, tc := range []struct {
		what string
		full func(name string) bool
	}{
		{"downloads", func(name string) bool { return strings.Contains(name, id) }},
		{"state file", func(name string) bool { return strings.Contains(filepath.Base(name), "state.json") }},
	} {
		t.Run(tc.what, func(t *testing.T) {
			err := e.puller(t, nil, pull.Options{FS: fullFS{full: tc.full}}).Run(context.Background())
			if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "is full") || !strings.Contains(err.Error(), e.dest) {
				t.Fatalf("pull onto a full disk: %v", err)
			}
			t.Log(err)
			if after, _ := os.ReadFile(statePath); !bytes.Equal(after, before) {
				t.Errorf("the state changed:\n%s\nwas:\n%s", after, before)
			}
			if _, err := os.Stat(e.dir("korgau123", "ru", id)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the package folder exists: %v", err)
			}
		})
	}
	e.pull(t, nil, pull.Options{})
	if !fileIs(filepath.Join(e.dir("korgau123", "ru", id), "b.png"), png("b", 100_000)) {
		t.Error("once there is room the package is not mirrored")
	}
}

// stopAfter is a download body that stops the pull (as a kill would)
// after n bytes.
func stopAfter(n int, kill func()) func(int, io.ReadCloser) io.ReadCloser {
	return func(_ int, r io.ReadCloser) io.ReadCloser {
		var read int
		return funcReader{read: func(p []byte) (int, error) {
			if read >= n {
				kill()
				return 0, context.Canceled
			}
			m, err := r.Read(p[:min(len(p), n-read)])
			read += m
			return m, err
		}, close: r.Close}
	}
}

// TestACorrectionIsNeverSplicedOntoAnOldPartialFile: a download of
// version 1 stops halfway and version 2 replaces the asset. Partial files
// are named by content, so the next run starts version 2 afresh; and when
// the correction lands between reading the package and resuming its
// download, If-Range makes the hub send the whole new asset, which is
// recognised and mirrored as version 2, never appended to version 1.
func TestACorrectionIsNeverSplicedOntoAnOldPartialFile(t *testing.T) {
	e := newEnv(t, hubtest.Options{})
	v1, v2 := png("version one ", 200_000), png("version two ", 200_000)

	t.Run("correction while stopped", func(t *testing.T) {
		id := e.publish(t, "korgau123", "ru", "Интервью", map[string][]byte{"interview.png": v1})
		ctx, kill := context.WithCancel(context.Background())
		if err := e.puller(t, &transport{body: stopAfter(500_000, kill)}, pull.Options{}).Run(ctx); err != nil {
			t.Fatal(err)
		}
		e.upload(t, id, map[string][]byte{"interview.png": v2})
		e.release(t, id)
		e.pull(t, nil, pull.Options{})
		got := files(t, e.dir("korgau123", "ru", id))
		if !bytes.Equal(got["interview.png"], v2) || !bytes.Contains(got["package.json"], []byte(`"version": "2"`)) {
			t.Errorf("mirrored %d bytes of interview.png; sidecar %s", len(got["interview.png"]), got["package.json"])
		}
		if left := files(t, filepath.Join(e.dest, pull.StateDir, "partial")); len(left) != 0 {
			t.Errorf("partial files left: %v", keys(left))
		}
	})

	t.Run("correction during the resume", func(t *testing.T) {
		id := e.publish(t, "korgau123", "kk", "Сұхбат", map[string][]byte{"interview.png": v1})
		ctx, kill := context.WithCancel(context.Background())
		if err := e.puller(t, &transport{body: stopAfter(500_000, kill)}, pull.Options{}).Run(ctx); err != nil {
			t.Fatal(err)
		}
		sum1 := assetSHA(t, e, id, "interview.png")
		race := &transport{before: func(n int) {
			if n == 1 {
				e.upload(t, id, map[string][]byte{"interview.png": v2})
				e.release(t, id)
			}
		}}
		before := len(e.hub.Requests("GET", "/assets/"))
		e.pull(t, race, pull.Options{})
		first := e.hub.Requests("GET", "/assets/")[before]
		if first.Header.Get("If-Range") != `"`+sum1+`"` || first.Header.Get("Range") == "" || race.statuses[0] != 200 {
			t.Errorf("the resume sent Range %q If-Range %q and got %d", first.Header.Get("Range"), first.Header.Get("If-Range"), race.statuses[0])
		}
		got := files(t, e.dir("korgau123", "kk", id))
		if !bytes.Equal(got["interview.png"], v2) || !bytes.Contains(got["package.json"], []byte(`"version": "2"`)) {
			t.Errorf("mirrored %d bytes of interview.png; sidecar %s", len(got["interview.png"]), got["package.json"])
		}
		if _, err := os.Stat(filepath.Join(e.dir("korgau123", "kk", id), ".versions")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("version 1 was never mirrored, yet something was kept aside: %v", err)
		}
	})
}
