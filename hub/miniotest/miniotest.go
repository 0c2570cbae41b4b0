// Package miniotest runs a real MinIO server for tests: one per test package,
// started from TestMain, with a fresh bucket for each test.
//
//	var minioServer *miniotest.Server
//
//	func TestMain(m *testing.M) {
//		s, stop, err := miniotest.StartServer()
//		if err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		minioServer = s
//		code := m.Run()
//		stop()
//		os.Exit(code)
//	}
//
// A fault test that pauses, kills or restarts MinIO starts one of its own
// with StartDedicated, so the package's other tests keep theirs.
//
// Without a MinIO binary, StartServer returns a nil *Server and tests that
// ask it for a bucket skip, except in CI (CI=true), where StartServer fails:
// a skipped storage test must not pass as green there.
package miniotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/syndication-hub/hub/hub/s3"
)

const (
	// installHint tells a developer how to get the binary.
	installHint = "run `bash .ci/install-tools` (installs it to $HOME/.cache/hub-tools/bin/minio) or set HUB_MINIO_BIN"

	readyTimeout = 30 * time.Second
)

// Server is a running MinIO server with its root credentials.
type Server struct {
	Endpoint  string // host:port, plain HTTP
	AccessKey string
	SecretKey string

	client  *minio.Client
	bin     string
	console string // the console's address, kept across restarts
	cmd     *exec.Cmd
	dir     string
	out     *syncBuffer
	exited  chan struct{} // closed when the process has exited
}

// FindBinary returns the MinIO binary to run: $HUB_MINIO_BIN, else minio on
// PATH, else $HOME/.cache/hub-tools/bin/minio, where .ci/install-tools puts
// it.
func FindBinary() (string, error) {
	if p := os.Getenv("HUB_MINIO_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("miniotest: HUB_MINIO_BIN=%s: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "hub-tools", "bin", "minio")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("miniotest: no MinIO binary found; %s", installHint)
}

// StartServer starts MinIO on free loopback ports in a temporary directory
// and waits until it serves. stop kills it and removes the directory; it is
// never nil, so TestMain can call it unconditionally. Without a binary it
// returns a nil Server and a nil error, unless CI=true.
func StartServer() (srv *Server, stop func(), err error) {
	return startServer("")
}

// startServer starts MinIO on files under dir, or under a temporary
// directory of its own when dir is "".
func startServer(dir string) (srv *Server, stop func(), err error) {
	bin, err := FindBinary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			return nil, func() {}, fmt.Errorf("%w (CI=true: the S3 tests may not be skipped)", err)
		}
		fmt.Fprintf(os.Stderr, "%v: skipping the tests that need MinIO\n", err)
		return nil, func() {}, nil
	}

	if dir == "" {
		if dir, err = os.MkdirTemp("", "hub-minio-"); err != nil {
			return nil, func() {}, fmt.Errorf("miniotest: %w", err)
		}
	}
	addr, err := freeAddr()
	if err != nil {
		os.RemoveAll(dir)
		return nil, func() {}, err
	}
	consoleAddr, err := freeAddr()
	if err != nil {
		os.RemoveAll(dir)
		return nil, func() {}, err
	}

	s := &Server{
		Endpoint:  addr,
		AccessKey: "hub" + randomHex(8),
		SecretKey: randomHex(20),
		bin:       bin,
		console:   consoleAddr,
		dir:       dir,
	}
	s.client, err = minio.New(addr, &minio.Options{
		Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, func() {}, fmt.Errorf("miniotest: %w", err)
	}
	if err := s.run(); err != nil {
		os.RemoveAll(dir)
		return nil, func() {}, err
	}
	return s, s.stop, nil
}

// run starts the MinIO process on the server's address and directory and
// waits until it serves.
func (s *Server) run() error {
	s.out = &syncBuffer{}
	s.exited = make(chan struct{})
	s.cmd = exec.Command(s.bin, "server", filepath.Join(s.dir, "data"),
		"--address", s.Endpoint, "--console-address", s.console, "--quiet")
	s.cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	)
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	// Output pipes stay open while any child of MinIO holds them; do not let
	// that keep stop waiting.
	s.cmd.WaitDelay = 5 * time.Second
	setPdeathsig(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("miniotest: start %s: %w", s.bin, err)
	}
	cmd, exited := s.cmd, s.exited
	go func() {
		cmd.Wait()
		close(exited)
	}()
	if err := s.waitReady(); err != nil {
		s.kill()
		return fmt.Errorf("miniotest: %w\nMinIO output:\n%s", err, s.out.String())
	}
	return nil
}

// StartDedicated starts a MinIO of the test's own, stopped when the test
// ends: for fault tests that pause or kill it, which would break other
// tests sharing the package's server. Skips (or fails, under CI=true)
// without a binary, like StartServer.
func StartDedicated(tb testing.TB) *Server {
	tb.Helper()
	return StartDedicatedIn(tb, "")
}

// StartDedicatedIn is StartDedicated with MinIO's files under dir, for a
// test that fills the disk they are on.
func StartDedicatedIn(tb testing.TB, dir string) *Server {
	tb.Helper()
	s, stop, err := startServer(dir)
	if err != nil {
		tb.Fatal(err)
	}
	if s == nil {
		tb.Skipf("MinIO is not available: %s", installHint)
	}
	tb.Cleanup(func() {
		s.Resume(tb) // a paused process ignores the kill until resumed
		stop()
	})
	return s
}

// Pause stops the MinIO process (SIGSTOP): it keeps its port and its
// connections, and answers nothing, as a hung server does.
func (s *Server) Pause(tb testing.TB) {
	tb.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		tb.Fatalf("miniotest: SIGSTOP MinIO: %v", err)
	}
}

// Resume continues a paused MinIO (SIGCONT).
func (s *Server) Resume(tb testing.TB) {
	tb.Helper()
	select {
	case <-s.exited:
		return
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		tb.Errorf("miniotest: SIGCONT MinIO: %v", err)
	}
}

// Kill kills the MinIO process (SIGKILL) and waits until it is gone; its
// files stay, and Restart brings it back on them.
func (s *Server) Kill(tb testing.TB) {
	tb.Helper()
	s.kill()
}

// Restart starts MinIO again after Kill, on the same address and files.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if err := s.run(); err != nil {
		tb.Fatal(err)
	}
}

// Revive brings a paused or killed MinIO back: a fault test registers it
// as a cleanup after asking for its bucket, so the bucket's teardown finds
// MinIO serving even when the test stopped halfway.
func (s *Server) Revive(tb testing.TB) {
	tb.Helper()
	select {
	case <-s.exited:
		s.Restart(tb)
	default:
		s.Resume(tb)
	}
}

func (s *Server) kill() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
		}
	}
}

// waitReady polls the liveness endpoint, then the S3 API, because MinIO
// answers the first before it can serve the second.
func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	live := "http://" + s.Endpoint + "/minio/health/live"
	var lastErr error
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("MinIO exited before serving: %v", s.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("MinIO not ready after %v: %v", readyTimeout, lastErr)
		case <-time.After(50 * time.Millisecond):
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, live, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			lastErr = fmt.Errorf("%s: %s", live, resp.Status)
			continue
		}
		if _, err := s.client.ListBuckets(ctx); err != nil {
			lastErr = err
			continue
		}
		return nil
	}
}

func (s *Server) stop() {
	s.kill()
	os.RemoveAll(s.dir)
}

// Options returns the options of a store on a bucket with a fresh name that
// does not exist yet. When the test ends the bucket, if it was created, is
// removed, and the test fails if objects or incomplete uploads are left in
// it. With a nil Server (no MinIO binary) the test is skipped.
func (s *Server) Options(tb testing.TB) s3.Options {
	tb.Helper()
	if s == nil {
		tb.Skipf("MinIO is not available: %s", installHint)
	}
	bucket := "test-" + strings.ToLower(randomHex(8))
	tb.Cleanup(func() { s.removeBucket(tb, bucket) })
	return s3.Options{
		Endpoint:  s.Endpoint,
		Bucket:    bucket,
		AccessKey: s.AccessKey,
		SecretKey: s.SecretKey,
	}
}

// Bucket is Options with the bucket created.
func (s *Server) Bucket(tb testing.TB) s3.Options {
	tb.Helper()
	opts := s.Options(tb)
	if err := s.client.MakeBucket(tb.Context(), opts.Bucket, minio.MakeBucketOptions{}); err != nil {
		tb.Fatalf("miniotest: create bucket %s: %v", opts.Bucket, err)
	}
	return opts
}

// Client returns a client with root credentials, for tests that look at a
// bucket past the driver.
func (s *Server) Client(tb testing.TB) *minio.Client {
	tb.Helper()
	if s == nil {
		tb.Skipf("MinIO is not available: %s", installHint)
	}
	return s.client
}

// removeBucket empties and removes bucket, failing tb for anything left in
// it: a driver, or a test, that leaves objects or multipart uploads behind
// is a bug this catches.
func (s *Server) removeBucket(tb testing.TB, bucket string) {
	// tb.Context is already cancelled when cleanups run.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ok, err := s.client.BucketExists(ctx, bucket)
	if err != nil {
		tb.Errorf("teardown: bucket %s: %v", bucket, err)
		return
	}
	if !ok {
		return
	}
	for obj := range s.client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			tb.Errorf("teardown: list %s: %v", bucket, obj.Err)
			return
		}
		tb.Errorf("teardown: object %s (%d bytes) left in bucket %s", obj.Key, obj.Size, bucket)
		if err := s.client.RemoveObject(ctx, bucket, obj.Key, minio.RemoveObjectOptions{ForceDelete: true}); err != nil {
			tb.Errorf("teardown: remove %s: %v", obj.Key, err)
		}
	}
	core := minio.Core{Client: s.client}
	for u := range s.client.ListIncompleteUploads(ctx, bucket, "", true) {
		if u.Err != nil {
			tb.Errorf("teardown: list uploads in %s: %v", bucket, u.Err)
			return
		}
		tb.Errorf("teardown: incomplete upload %s of %s left in bucket %s", u.UploadID, u.Key, bucket)
		if err := core.AbortMultipartUpload(ctx, bucket, u.Key, u.UploadID); err != nil {
			tb.Errorf("teardown: abort upload %s: %v", u.UploadID, err)
		}
	}
	if err := s.client.RemoveBucket(ctx, bucket); err != nil {
		tb.Errorf("teardown: remove bucket %s: %v", bucket, err)
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("miniotest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// syncBuffer collects the server's output for error messages; the process
// writes it from two pipes while we may read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Main is a test package's TestMain body: it starts one MinIO for the
// whole package, stores it in *srv, runs the tests and stops MinIO,
// returning the exit code:
//
//	func TestMain(m *testing.M) { os.Exit(miniotest.Main(m, &minioServer)) }
func Main(m *testing.M, srv **Server) int {
	s, stop, err := StartServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	*srv = s
	return m.Run()
}
