package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/miniotest"
	"github.com/syndication-hub/hub/hub/s3"
)

// faultStall is the stall timeout of the fault tests: short, so they stay
// fast; the bound they assert leaves room for a loaded CI machine.
const faultStall = 3 * time.Second

// faultBound is the longest a fault may take to answer.
const faultBound = 60 * time.Second

// openDedicated opens a Store on a bucket of a MinIO of the test's own.
func openDedicated(t *testing.T) (*miniotest.Server, *s3.Store, s3.Options) {
	t.Helper()
	m := miniotest.StartDedicated(t)
	opts := m.Bucket(t)
	t.Cleanup(func() { m.Revive(t) })
	opts.StallTimeout = faultStall
	s, err := s3.Open(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, s, opts
}

// wantUnavailable checks that err says the blob store is not answering.
func wantUnavailable(t *testing.T, what string, err error, took time.Duration) {
	t.Helper()
	t.Logf("%s failed after %v: %v", what, took.Round(time.Millisecond), err)
	if hub.ErrorCode(err) != hub.EUNAVAILABLE {
		t.Fatalf("%s: %v (code %q), want EUNAVAILABLE", what, err, hub.ErrorCode(err))
	}
	if msg := hub.ErrorMessage(err); !strings.Contains(msg, "blob store (S3 at") || !strings.Contains(msg, "not answering") {
		t.Errorf("%s: the sentence %q does not name the blob store", what, msg)
	}
	if took > faultBound {
		t.Errorf("%s took %v, over %v", what, took, faultBound)
	}
}

// cleanStaleParts aborts what a failed upload left when the store could
// not take the abort: the stale-upload sweep's work.
func cleanStaleParts(t *testing.T, s *s3.Store) {
	t.Helper()
	n, err := s.AbortStaleUploads(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("incomplete multipart uploads left for the sweep: %d", n)
}

func TestStalledStoreFailsPut(t *testing.T) {
	t.Parallel()
	m, s, _ := openDedicated(t)
	r, w := io.Pipe()
	go func() {
		// The first part goes out, then MinIO stops under the upload.
		io.CopyN(w, rand.Reader, 20<<20)
		m.Pause(t)
		_, err := io.CopyN(w, rand.Reader, 20<<20)
		w.CloseWithError(err)
	}()
	start := time.Now()
	_, err := s.Put(t.Context(), ulid.Make().String(), r, -1)
	wantUnavailable(t, "Put to a stalled MinIO", err, time.Since(start))
	r.CloseWithError(io.ErrClosedPipe)

	start = time.Now()
	err = s.Check(t.Context())
	wantUnavailable(t, "Check of a stalled MinIO", err, time.Since(start))

	m.Resume(t)
	if err := s.Check(t.Context()); err != nil {
		t.Fatalf("Check after SIGCONT: %v", err)
	}
	key := ulid.Make().String()
	if _, err := s.Put(t.Context(), key, strings.NewReader("after"), 5); err != nil {
		t.Fatalf("Put after SIGCONT: %v", err)
	}
	if err := s.Delete(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	cleanStaleParts(t, s)
}

func TestStalledStoreFailsRead(t *testing.T) {
	t.Parallel()
	m, s, _ := openDedicated(t)
	key := ulid.Make().String()
	want := make([]byte, 32<<20)
	rand.Read(want)
	if _, err := s.Put(t.Context(), key, bytes.NewReader(want), int64(len(want))); err != nil {
		t.Fatal(err)
	}
	b, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := io.ReadFull(b, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	m.Pause(t)
	start := time.Now()
	_, err = io.Copy(io.Discard, b)
	wantUnavailable(t, "reading from a stalled MinIO", err, time.Since(start))
	m.Resume(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
}

func TestKilledStoreFailsPut(t *testing.T) {
	t.Parallel()
	m, s, _ := openDedicated(t)
	r, w := io.Pipe()
	go func() {
		// The first part goes out, then MinIO dies under the upload.
		io.CopyN(w, rand.Reader, 20<<20)
		m.Kill(t)
		_, err := io.CopyN(w, rand.Reader, 20<<20)
		w.CloseWithError(err)
	}()
	start := time.Now()
	_, err := s.Put(t.Context(), ulid.Make().String(), r, -1)
	wantUnavailable(t, "Put to a killed MinIO", err, time.Since(start))
	m.Restart(t)
	if err := s.Check(t.Context()); err != nil {
		t.Fatalf("Check after restart: %v", err)
	}
	cleanStaleParts(t, s)
}
