package server_test

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/hub/miniotest"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/hub/s3"
	"github.com/syndication-hub/hub/publisher/webhooks"
	"github.com/syndication-hub/hub/server"
)

// faultBound is the longest a fault may take to be answered, generous for
// a loaded two-core CI machine.
const faultBound = 60 * time.Second

// answer is what a test request got back.
type answer struct {
	status int
	header http.Header
	body   []byte
	took   time.Duration
}

func (a answer) detail() string {
	var p struct{ Detail string }
	json.Unmarshal(a.body, &p)
	return p.Detail
}

// call sends one request with key and returns the whole answer.
func call(t *testing.T, method, url, key string, body io.Reader) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b, took: time.Since(start)}
}

// createPackage creates a draft and returns its id, or the answer when it
// was not 201.
func createPackage(t *testing.T, h *hubtest.Hub, key string) (string, answer) {
	t.Helper()
	a := call(t, "POST", h.URL+"/v1/packages", key,
		strings.NewReader(`{"campaign": "faults", "language": "ru", "headlines": [{"value": "fault test"}]}`))
	if a.status != http.StatusCreated {
		return "", a
	}
	var p struct{ ID string }
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatal(err)
	}
	return p.ID, a
}

// pngHeader makes the bytes after it a picture to the hub's sniffer.
const pngHeader = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"

// wantFault checks an answer's status, Retry-After (for 503) and that its
// sentence names what failed.
func wantFault(t *testing.T, what string, a answer, status int, names string) {
	t.Helper()
	t.Logf("%s: %d after %v: %s", what, a.status, a.took.Round(time.Millisecond), a.detail())
	if a.status != status {
		t.Fatalf("%s: %d %s, want %d", what, a.status, a.body, status)
	}
	if !strings.Contains(a.detail(), names) {
		t.Errorf("%s: the sentence %q does not say %q", what, a.detail(), names)
	}
	if status == http.StatusServiceUnavailable && a.header.Get("Retry-After") == "" {
		t.Errorf("%s: 503 without Retry-After", what)
	}
	if a.took > faultBound {
		t.Errorf("%s took %v, over %v", what, a.took, faultBound)
	}
}

// mountTmpfs mounts a tmpfs of size bytes on a fresh directory, unmounted
// when the test ends. Where mounting is not allowed the test is skipped,
// except under CI=true, where it runs as root on Linux and must not skip.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		skipOrFail(t, "mounting a tmpfs needs root on Linux")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		skipOrFail(t, "mount -t tmpfs failed: "+err.Error()+": "+string(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: the full-disk test may not be skipped)", why)
	}
	t.Skipf("%s: skipping the full-disk test", why)
}

// fill writes a file in dir until the disk is full and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", dir, err)
			}
			break
		}
	}
	// The last partial megabyte too.
	for _, n := range []int{64 << 10, 4 << 10, 512, 1} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	return path
}

func randomPicture(n int) io.Reader {
	return io.MultiReader(strings.NewReader(pngHeader), io.LimitReader(rand.Reader, int64(n)))
}

// TestFaultFullDisk fills the data dir (embedded NATS and disk blobs on a
// 64 MiB tmpfs): uploads, catalog writes and republication reports (the
// pickup log) answer 507 while it is full,
// reads go on, /readyz says not ready; once space is back the hub restarts
// its embedded NATS on the same store by itself and writes resume, with
// nothing half-written, also across a restart of the hub.
func TestFaultFullDisk(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, "64m")
	data := filepath.Join(dir, "data")
	h := hubtest.Start(t, hubtest.Options{DataDir: data})
	key := h.ProducerKey(t)
	first, a := createPackage(t, h, key)
	if first == "" {
		t.Fatalf("create before the disk is full: %d %s", a.status, a.body)
	}
	created := []string{first}
	// A released package a partner reports republications of: writes to
	// the pickup log (in a campaign of its own, so the listing below
	// counts only what this test created through the API).
	released := h.ReadyPackage(t, "reach")
	if _, err := h.Service.Release(t.Context(), h.Admin(t), released.ID, nil); err != nil {
		t.Fatal(err)
	}
	partner := h.PartnerKey(t, "Outlet", "reach")
	report := func() answer {
		return call(t, "POST", h.URL+"/v1/packages/"+released.ID+"/republications", partner,
			strings.NewReader(`{"url": "https://outlet.example.kz/news/1", "published": "2026-03-01T10:00:00Z"}`))
	}
	filler := fill(t, dir)

	a = call(t, "PUT", h.URL+"/v1/packages/"+first+"/assets/poster.png", key, randomPicture(1<<20))
	wantFault(t, "upload on a full disk", a, http.StatusInsufficientStorage, "is full")
	if !strings.Contains(a.detail(), "nothing was stored") {
		t.Errorf("upload on a full disk: %q does not say nothing was stored", a.detail())
	}
	// The catalog's open blocks may have room for a few entries more.
	for i := 0; ; i++ {
		id, a := createPackage(t, h, key)
		if id != "" {
			created = append(created, id)
			if i > 200 {
				t.Fatal("200 packages created on a full disk")
			}
			continue
		}
		wantFault(t, "create on a full disk", a, http.StatusInsufficientStorage, "no room left on its disk")
		break
	}
	_, a = createPackage(t, h, key)
	wantFault(t, "another create on a full disk", a, http.StatusInsufficientStorage, "no room left on its disk")
	for i := 0; ; i++ {
		a := report()
		if a.status == http.StatusCreated {
			if i > 200 {
				t.Fatal("200 republications reported on a full disk")
			}
			continue
		}
		wantFault(t, "republication report on a full disk", a, http.StatusInsufficientStorage, "no room left on its disk")
		break
	}
	if a := call(t, "GET", h.URL+"/v1/releases", key, nil); a.status != http.StatusOK {
		t.Errorf("change log read on a full disk: %d %s", a.status, a.body)
	}
	a = call(t, "GET", h.URL+"/readyz", "", nil)
	wantFault(t, "/readyz on a full disk", a, http.StatusServiceUnavailable, "catalog")
	if a := call(t, "GET", h.URL+"/v1/packages/"+first, key, nil); a.status != http.StatusOK {
		t.Errorf("read on a full disk: %d %s", a.status, a.body)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	for {
		id, a := createPackage(t, h, key)
		if id != "" {
			created = append(created, id)
			break
		}
		if time.Since(back) > faultBound {
			t.Fatalf("writes did not resume within %v of space coming back: %d %s", faultBound, a.status, a.body)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("writes resumed %v after space came back", time.Since(back).Round(time.Millisecond))
	if a := call(t, "GET", h.URL+"/readyz", "", nil); a.status != http.StatusOK {
		t.Errorf("/readyz after space came back: %d %s", a.status, a.body)
	}
	if a := call(t, "PUT", h.URL+"/v1/packages/"+first+"/assets/poster.png", key, randomPicture(1<<20)); a.status != http.StatusCreated {
		t.Errorf("upload after space came back: %d %s", a.status, a.body)
	}
	if a := report(); a.status != http.StatusCreated {
		t.Errorf("republication report after space came back: %d %s", a.status, a.body)
	}
	wantListed(t, h, key, created)
	// The refused upload left no partial file behind.
	if tmp, err := os.ReadDir(filepath.Join(data, "blobs", "tmp")); err != nil || len(tmp) != 0 {
		t.Errorf("blobs/tmp after the full disk: %v, %v", tmp, err)
	}

	h.Stop(t)
	h = hubtest.Start(t, hubtest.Options{DataDir: data})
	wantListed(t, h, key, created)
}

// wantListed checks that the hub lists exactly the packages ids (those
// answered 201), each readable.
func wantListed(t *testing.T, h *hubtest.Hub, key string, ids []string) {
	t.Helper()
	a := call(t, "GET", h.URL+"/v1/packages?campaign=faults&limit=500", key, nil)
	if a.status != http.StatusOK {
		t.Fatalf("list: %d %s", a.status, a.body)
	}
	var page struct{ Items []struct{ ID string } }
	if err := json.Unmarshal(a.body, &page); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, p := range page.Items {
		listed[p.ID] = true
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
		if !listed[id] {
			t.Errorf("package %s, answered 201, is not listed", id)
		}
		if a := call(t, "GET", h.URL+"/v1/packages/"+id, key, nil); a.status != http.StatusOK {
			t.Errorf("read %s: %d %s", id, a.status, a.body)
		}
	}
	for id := range listed {
		if !want[id] {
			t.Errorf("package %s is listed but was never answered 201", id)
		}
	}
}

// s3Hub starts a hub on a MinIO of the test's own, with a short stall
// timeout so the test stays fast.
func s3Hub(t *testing.T) (*miniotest.Server, *hubtest.Hub, string) {
	t.Helper()
	m := miniotest.StartDedicated(t)
	opts := m.Options(t) // the teardown fails the test for objects left in the bucket
	t.Cleanup(func() { m.Revive(t) })
	h := hubtest.Start(t, hubtest.Options{Configure: func(c *server.Config) {
		c.S3Endpoint, c.S3Bucket, c.S3AccessKey, c.S3SecretKey = opts.Endpoint, opts.Bucket, opts.AccessKey, opts.SecretKey
		c.S3StallTimeout = 3 * time.Second
	}})
	return m, h, h.ProducerKey(t)
}

// uploadUnder streams a 40 MiB picture into package id and calls fault
// once the first 20 MiB have gone out; it returns the hub's answer.
func uploadUnder(t *testing.T, h *hubtest.Hub, key, id string, fault func()) answer {
	t.Helper()
	r, w := io.Pipe()
	faulted := make(chan struct{})
	go func() {
		defer close(faulted)
		if _, err := io.CopyN(w, randomPicture(40<<20), 20<<20); err != nil {
			w.CloseWithError(err)
			return
		}
		fault()
		_, err := io.CopyN(w, randomPicture(40<<20), 20<<20)
		w.CloseWithError(err)
	}()
	a := call(t, "PUT", h.URL+"/v1/packages/"+id+"/assets/big.png", key, r)
	// The hub may answer while fault is still at work (a killed MinIO fails
	// the upload before Kill has reaped the process): the caller's next
	// step, such as a restart, must not run beside it.
	r.CloseWithError(io.ErrClosedPipe)
	<-faulted
	return a
}

// wantNoAssets checks that package id records no asset.
func wantNoAssets(t *testing.T, h *hubtest.Hub, key, id string) {
	t.Helper()
	a := call(t, "GET", h.URL+"/v1/packages/"+id, key, nil)
	if a.status != http.StatusOK {
		t.Fatalf("read %s: %d %s", id, a.status, a.body)
	}
	var p struct{ Associations []json.RawMessage }
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Associations) != 0 {
		t.Errorf("package %s records assets after a failed upload: %s", id, a.body)
	}
}

// sweepParts aborts the multipart uploads a failed upload left in the
// bucket, which the running sweep collects, and logs how many there were.
func sweepParts(t *testing.T, h *hubtest.Hub) {
	t.Helper()
	n, err := h.Server.Blobs().(*s3.Store).AbortStaleUploads(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("incomplete multipart uploads left for the sweep: %d", n)
}

func TestFaultMinIOStalledUnderUpload(t *testing.T) {
	t.Parallel()
	m, h, key := s3Hub(t)
	id, a := createPackage(t, h, key)
	if id == "" {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	a = uploadUnder(t, h, key, id, func() { m.Pause(t) })
	wantFault(t, "upload while MinIO is stopped", a, http.StatusServiceUnavailable, "the blob store (S3 at")
	if !strings.Contains(a.detail(), "nothing was stored") {
		t.Errorf("%q does not say nothing was stored", a.detail())
	}
	a = call(t, "GET", h.URL+"/readyz", "", nil)
	wantFault(t, "/readyz while MinIO is stopped", a, http.StatusServiceUnavailable, "blob store")
	wantNoAssets(t, h, key, id)

	m.Resume(t)
	if a := call(t, "GET", h.URL+"/readyz", "", nil); a.status != http.StatusOK {
		t.Errorf("/readyz after SIGCONT: %d %s", a.status, a.body)
	}
	a = call(t, "PUT", h.URL+"/v1/packages/"+id+"/assets/poster.png", key, randomPicture(1<<20))
	if a.status != http.StatusCreated {
		t.Fatalf("upload after SIGCONT: %d %s", a.status, a.body)
	}
	if a := call(t, "GET", h.URL+"/v1/packages/"+id+"/assets/poster.png", key, nil); a.status != http.StatusOK {
		t.Errorf("download after SIGCONT: %d", a.status)
	}
	if a := call(t, "DELETE", h.URL+"/v1/packages/"+id, key, nil); a.status/100 != 2 {
		t.Errorf("delete: %d %s", a.status, a.body)
	}
	sweepParts(t, h)
}

// TestFaultS3Full fills the disk under MinIO (its files on a 300 MiB
// tmpfs: MinIO refuses writes below its free-drive threshold): uploads
// answer 507 naming the blob store with nothing recorded, downloads go on,
// /readyz says not ready, and uploads resume once space is back.
func TestFaultS3Full(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, "300m")
	m := miniotest.StartDedicatedIn(t, filepath.Join(dir, "minio"))
	opts := m.Options(t)
	h := hubtest.Start(t, hubtest.Options{Configure: func(c *server.Config) {
		c.S3Endpoint, c.S3Bucket, c.S3AccessKey, c.S3SecretKey = opts.Endpoint, opts.Bucket, opts.AccessKey, opts.SecretKey
	}})
	key := h.ProducerKey(t)
	id, a := createPackage(t, h, key)
	if id == "" {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	if a := call(t, "PUT", h.URL+"/v1/packages/"+id+"/assets/before.png", key, randomPicture(1<<20)); a.status != http.StatusCreated {
		t.Fatalf("upload before the disk is full: %d %s", a.status, a.body)
	}
	filler := fill(t, dir)

	for _, size := range []int{4 << 20, 40 << 20} { // one PUT, and S3's multipart path
		a = call(t, "PUT", h.URL+"/v1/packages/"+id+"/assets/poster.png", key, randomPicture(size))
		what := fmt.Sprintf("%d MiB upload with the blob store full", size>>20)
		wantFault(t, what, a, http.StatusInsufficientStorage, "blob store")
		if !strings.Contains(a.detail(), "nothing was stored") {
			t.Errorf("%s: %q does not say nothing was stored", what, a.detail())
		}
	}
	if a := call(t, "GET", h.URL+"/v1/packages/"+id+"/assets/before.png", key, nil); a.status != http.StatusOK {
		t.Errorf("download with the blob store full: %d", a.status)
	}
	a = call(t, "GET", h.URL+"/readyz", "", nil)
	wantFault(t, "/readyz with the blob store full", a, http.StatusServiceUnavailable, "blob store")

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	for { // MinIO looks at its drive's free space now and then, not per request
		a = call(t, "PUT", h.URL+"/v1/packages/"+id+"/assets/poster.png", key, randomPicture(4<<20))
		if a.status == http.StatusCreated {
			break
		}
		if a.status != http.StatusInsufficientStorage || time.Since(back) > faultBound {
			t.Fatalf("upload once space is back (after %v): %d %s", time.Since(back), a.status, a.body)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("uploads resumed %v after space came back", time.Since(back).Round(time.Millisecond))
	var pkg struct{ Associations []json.RawMessage }
	if r := call(t, "GET", h.URL+"/v1/packages/"+id, key, nil); json.Unmarshal(r.body, &pkg) != nil || len(pkg.Associations) != 2 {
		t.Errorf("package after the full disk: %s", r.body)
	}
	if a := call(t, "DELETE", h.URL+"/v1/packages/"+id, key, nil); a.status/100 != 2 {
		t.Errorf("delete: %d %s", a.status, a.body)
	}
	sweepParts(t, h)
}

func TestFaultMinIOKilledUnderUpload(t *testing.T) {
	t.Parallel()
	m, h, key := s3Hub(t)
	id, a := createPackage(t, h, key)
	if id == "" {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	a = uploadUnder(t, h, key, id, func() { m.Kill(t) })
	wantFault(t, "upload while MinIO is killed", a, http.StatusServiceUnavailable, "the blob store (S3 at")
	wantNoAssets(t, h, key, id)
	a = call(t, "GET", h.URL+"/readyz", "", nil)
	wantFault(t, "/readyz while MinIO is down", a, http.StatusServiceUnavailable, "blob store")

	m.Restart(t)
	a = call(t, "PUT", h.URL+"/v1/packages/"+id+"/assets/poster.png", key, randomPicture(1<<20))
	if a.status != http.StatusCreated {
		t.Fatalf("upload after MinIO restarted: %d %s", a.status, a.body)
	}
	if a := call(t, "DELETE", h.URL+"/v1/packages/"+id, key, nil); a.status/100 != 2 {
		t.Errorf("delete: %d %s", a.status, a.body)
	}
	sweepParts(t, h)
}

// stopNATS stops the external NATS under h and waits until h's connection
// has seen it go. A request sent in between can reach the closing socket:
// NATS never confirms its outcome, so the hub honestly answers that it
// does not know, after settling, which is not the answer these tests are
// about (and takes 15 s; it happened under load).
func stopNATS(t *testing.T, nats *natstest.External, h *hubtest.Hub) {
	t.Helper()
	nats.Stop()
	deadline := time.Now().Add(faultBound)
	for h.Server.NATSConn().IsConnected() {
		if time.Now().After(deadline) {
			t.Fatalf("the hub's connection did not notice NATS stopping within %v", faultBound)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFaultNATSStoppedUnderWrites(t *testing.T) {
	t.Parallel()
	nats := natstest.RunExternal(t)
	h := hubtest.Start(t, hubtest.Options{NATSURL: nats.URL()})
	key := h.ProducerKey(t)
	id, a := createPackage(t, h, key)
	if id == "" {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	stopNATS(t, nats, h)
	_, a = createPackage(t, h, key)
	wantFault(t, "create while NATS is down", a, http.StatusServiceUnavailable, "NATS is not answering")
	a = call(t, "PATCH", h.URL+"/v1/packages/"+id, key, strings.NewReader(`{"by": "during the outage"}`))
	wantFault(t, "change while NATS is down", a, http.StatusServiceUnavailable, "NATS is not answering")
	a = call(t, "GET", h.URL+"/v1/packages/"+id, key, nil)
	wantFault(t, "read while NATS is down", a, http.StatusServiceUnavailable, "NATS is not answering")
	a = call(t, "GET", h.URL+"/readyz", "", nil)
	wantFault(t, "/readyz while NATS is down", a, http.StatusServiceUnavailable, "catalog")

	nats.Start()
	back := time.Now()
	for {
		nid, a := createPackage(t, h, key)
		if nid != "" {
			break
		}
		if time.Since(back) > faultBound {
			t.Fatalf("writes did not resume within %v of NATS coming back: %d %s", faultBound, a.status, a.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("writes resumed %v after NATS came back", time.Since(back).Round(time.Millisecond))
}

// TestFaultNATSStoppedUnderPublisherStreams stops NATS under the paths
// that read or write the publisher's streams (the change log, the audit
// log, the pickup log) and the webhook paths beside them: each answers
// 503 with Retry-After and a sentence naming NATS, never a 500, and the
// change log reads again once NATS is back.
func TestFaultNATSStoppedUnderPublisherStreams(t *testing.T) {
	t.Parallel()
	nats := natstest.RunExternal(t)
	// Webhooks register on loopback and are never dialed.
	h := hubtest.Start(t, hubtest.Options{NATSURL: nats.URL(), Webhooks: &webhooks.Options{}})
	ctx := t.Context()
	p := h.ReadyPackage(t, "faults")
	if _, err := h.Service.Release(ctx, h.Admin(t), p.ID, nil); err != nil {
		t.Fatal(err)
	}
	producer, partner := h.ProducerKey(t), h.PartnerKey(t, "Outlet", "faults")
	a := call(t, "POST", h.URL+"/v1/webhooks", partner, strings.NewReader(`{"url": "http://127.0.0.1:9/hook"}`))
	if a.status != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", a.status, a.body)
	}
	var hook struct{ ID string }
	if err := json.Unmarshal(a.body, &hook); err != nil {
		t.Fatal(err)
	}
	republication := `{"url": "https://outlet.example.kz/news/1", "published": "` + time.Now().UTC().Format(time.RFC3339) + `"}`
	if a := call(t, "POST", h.URL+"/v1/packages/"+p.ID+"/republications", partner, strings.NewReader(republication)); a.status != http.StatusCreated {
		t.Fatalf("report a republication: %d %s", a.status, a.body)
	}

	stopNATS(t, nats, h)
	for _, tc := range []struct {
		name, method, path, key, body string
	}{
		{"change log read", "GET", "/v1/releases", producer, ""},
		{"audit log read", "GET", "/v1/audit", h.AdminKey, ""},
		{"reach (pickup log read)", "GET", "/v1/campaigns/faults/reach", h.AdminKey, ""},
		{"package pickups", "GET", "/v1/packages/" + p.ID + "/pickups", h.AdminKey, ""},
		{"republication report (pickup record)", "POST", "/v1/packages/" + p.ID + "/republications", partner, republication},
		{"dead letters", "GET", "/v1/webhooks/" + hook.ID + "/deadletters", partner, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			a := call(t, tc.method, h.URL+tc.path, tc.key, body)
			wantFault(t, tc.name+" while NATS is down", a, http.StatusServiceUnavailable, "NATS is not answering")
		})
	}

	nats.Start()
	back := time.Now()
	for {
		a := call(t, "GET", h.URL+"/v1/releases", producer, nil)
		if a.status == http.StatusOK {
			break
		}
		if time.Since(back) > faultBound {
			t.Fatalf("the change log did not answer within %v of NATS coming back: %d %s", faultBound, a.status, a.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestFaultMinIOStalledUnderDownload(t *testing.T) {
	t.Parallel()
	m, h, key := s3Hub(t)
	id, a := createPackage(t, h, key)
	if id == "" {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	url := h.URL + "/v1/packages/" + id + "/assets/big.png"
	if a := call(t, "PUT", url, key, randomPicture(24<<20)); a.status != http.StatusCreated {
		t.Fatalf("upload: %d %s", a.status, a.body)
	}
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	m.Pause(t)
	start := time.Now()
	n, err := io.Copy(io.Discard, resp.Body)
	took := time.Since(start)
	t.Logf("download from a stopped MinIO broke off after %v, %d more bytes: %v", took.Round(time.Millisecond), n, err)
	if err == nil {
		t.Error("the download ended as if complete")
	}
	if took > faultBound {
		t.Errorf("the download hung for %v, over %v", took, faultBound)
	}
	m.Resume(t)
	if a := call(t, "GET", url, key, nil); a.status != http.StatusOK || len(a.body) != len(pngHeader)+24<<20 {
		t.Errorf("download after SIGCONT: %d, %d bytes", a.status, len(a.body))
	}
	if a := call(t, "DELETE", h.URL+"/v1/packages/"+id, key, nil); a.status/100 != 2 {
		t.Errorf("delete: %d %s", a.status, a.body)
	}
}
