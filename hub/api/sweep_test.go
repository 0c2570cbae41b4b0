package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/server"
)

// oldKey is a blob key made two hours ago, as a dead upload's would be.
func oldKey() string {
	return ulid.MustNew(ulid.Timestamp(time.Now().Add(-2*time.Hour)), ulid.DefaultEntropy()).String()
}

// stalled yields n bytes of data, then blocks until released, then yields
// the rest or fails with fail.
type stalled struct {
	r       io.Reader
	n       int
	reached chan struct{}
	release chan struct{}
	fail    error
	once    sync.Once
}

func newStalled(data []byte, n int) *stalled {
	return &stalled{r: bytes.NewReader(data), n: n, reached: make(chan struct{}), release: make(chan struct{})}
}

func (s *stalled) Read(p []byte) (int, error) {
	if s.n <= 0 {
		s.once.Do(func() { close(s.reached) })
		<-s.release
		if s.fail != nil {
			return 0, s.fail
		}
		return s.r.Read(p)
	}
	if len(p) > s.n {
		p = p[:s.n]
	}
	n, err := s.r.Read(p)
	s.n -= n
	return n, err
}

// bigPNG is a PNG whose one IDAT chunk holds size bytes of noise: a file
// the scrubber reads and has nothing to remove from (so it is stored as
// sent), large enough to take S3's multipart path. Its pixels do not
// decode; renditions of it fail, which is no matter here.
func bigPNG(t *testing.T, size int) []byte {
	noise := make([]byte, size)
	rng := rand.NewChaCha8([32]byte{7})
	rng.Read(noise)
	return pngWith(8, 8, [2]string{"IDAT", string(noise)})
}

// TestSweepRemovesDebrisNotUploads runs a sweep on each store against
// what a crash leaves (a stored blob no record names, the partial write of
// an upload whose process died) beside a recorded asset and an upload
// still streaming. Under a long grace nothing goes; under a short one the
// orphan and the partial go, the recorded blob stays, and the running
// upload, whose partial write is as old as the grace by then, completes
// with its bytes intact: its live marker protects it.
func TestSweepRemovesDebrisNotUploads(t *testing.T) {
	forEachStore(t, hubOptions{renditions: true}, func(t *testing.T, h *testHub) {
		ctx := context.Background()
		producer := h.key("producer")
		id := h.createPackage(producer, "korgau123")
		h.do("PUT", "/v1/packages/"+id+"/assets/kept.png", producer, pngBytes(t, 8, 8, 1)).expect(t, http.StatusCreated)
		p, err := h.catalog.Package(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		recorded := p.Assets[0].BlobKey

		// A blob stored by an upload that died before recording it.
		orphan := oldKey()
		if _, err := h.blobs.Put(ctx, orphan, strings.NewReader("orphaned bytes"), 14); err != nil {
			t.Fatal(err)
		}
		// The partial write of an upload that died mid-stream (failed
		// below, once the sweep has removed it).
		dead := newStalled(bigPNG(t, 18<<20), 17<<20)
		deadErr := make(chan error, 1)
		go func() {
			_, err := h.blobs.Put(ctx, oldKey(), dead, -1)
			deadErr <- err
		}()
		<-dead.reached

		// An upload streaming through the API, stalled past one part.
		body := bigPNG(t, 18<<20)
		running := newStalled(body, 17<<20)
		upload := make(chan response, 1)
		go func() {
			upload <- h.do("PUT", "/v1/packages/"+id+"/assets/running.png", producer, io.NopCloser(running))
		}()
		<-running.reached
		time.Sleep(500 * time.Millisecond) // the parts are on their way

		if rep, err := h.svc.Sweep(ctx, time.Hour); err != nil || rep != (hub.SweepReport{}) {
			t.Fatalf("Sweep(1h) = %+v, %v; want nothing removed: all of it is fresh", rep, err)
		}
		rep, err := h.svc.Sweep(ctx, 10*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Orphans != 1 || rep.Partials != 1 {
			t.Errorf("Sweep(10ms) = %+v; want the orphan and the dead partial write", rep)
		}
		if _, err := h.blobs.Stat(ctx, orphan); hub.ErrorCode(err) != hub.ENOTFOUND {
			t.Errorf("the orphan blob after the sweep: %v, want not found", err)
		}
		if _, err := h.blobs.Stat(ctx, recorded); err != nil {
			t.Errorf("the recorded blob after the sweep: %v", err)
		}

		dead.fail = errors.New("the process died")
		close(dead.release)
		if err := <-deadErr; err == nil {
			t.Error("the dead upload's Put succeeded after its partial write was swept")
		}
		close(running.release)
		(<-upload).expect(t, http.StatusCreated)
		got := h.do("GET", "/v1/packages/"+id+"/assets/running.png", producer, nil).expect(t, http.StatusOK)
		if sha256.Sum256(got.body) != sha256.Sum256(body) {
			t.Fatal("the upload that ran during the sweep stored other bytes")
		}
		if rep, err := h.svc.Sweep(ctx, 10*time.Millisecond); err != nil || rep != (hub.SweepReport{}) {
			t.Fatalf("a sweep after the upload = %+v, %v; want nothing: everything left is recorded", rep, err)
		}
	})
}

// TestSweeperRunsAndCounts has the hub's own sweeper (HUB_SWEEP_EVERY,
// HUB_SWEEP_GRACE) remove an orphan while the hub runs, and count it in
// hub_sweep_removed_total.
func TestSweeperRunsAndCounts(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{configure: func(c *server.Config) {
		c.SweepEvery, c.SweepGrace = 100*time.Millisecond, time.Millisecond
	}})
	ctx := context.Background()
	orphan := oldKey()
	if _, err := h.blobs.Put(ctx, orphan, strings.NewReader("orphaned bytes"), 14); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := h.blobs.Stat(ctx, orphan)
		if hub.ErrorCode(err) == hub.ENOTFOUND {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sweeper left the orphan: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := h.do("GET", "/metrics", h.admin, nil).expect(t, http.StatusOK)
	if !strings.Contains(string(m.body), `hub_sweep_removed_total{kind="orphan_blob"} 1`) {
		t.Errorf("metrics do not count the orphan:\n%s", grepLines(string(m.body), "hub_sweep"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
