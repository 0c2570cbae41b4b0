package cluster

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub/natstest"
)

// hubProc is one `hub serve` process, built from ./cmd/hub, with its
// address and data dir kept across restarts.
type hubProc struct {
	name   string
	addr   string
	bin    string
	env    []string
	logDir string
	starts int
	cmd    *exec.Cmd
	exited chan struct{}
	// startup is how long the last start took until /readyz answered 200.
	startup time.Duration
}

// url is the hub's base URL.
func (h *hubProc) url() string { return "http://" + h.addr }

// buildHub builds ./cmd/hub of this module into dir.
func buildHub(t *testing.T, dir string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "hub")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/hub")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/hub in %s: %v\n%s", root, err, out)
	}
	return bin
}

// moduleRoot is the directory of go.mod above this package.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// newHub prepares replica name on the cluster's NATS (every node, the
// hub user, the callout seed, three copies of everything) and bucket on
// MinIO, configured through the environment as an operator would.
func newHub(t *testing.T, name, bin, dir string, nc *natsCluster, s3 s3Settings) *hubProc {
	t.Helper()
	h := &hubProc{name: name, addr: natstest.FreeAddr(t), bin: bin, logDir: filepath.Join(dir, name)}
	if err := os.MkdirAll(filepath.Join(h.logDir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.env = append(childEnv(),
		"HUB_ADDR="+h.addr,
		"HUB_REPLICA="+name,
		"HUB_DATA_DIR="+filepath.Join(h.logDir, "data"),
		"HUB_ADMIN_KEY="+adminKey,
		"HUB_NATS_URL="+nc.hubURL(),
		"HUB_NATS_CALLOUT_SEED="+nc.calloutSeedFile,
		"HUB_NATS_REPLICAS=3",
		"HUB_S3_ENDPOINT="+s3.endpoint,
		"HUB_S3_BUCKET="+s3.bucket,
		"HUB_S3_ACCESS_KEY="+s3.accessKey,
		"HUB_S3_SECRET_KEY="+s3.secretKey,
		// The producers here are one key at a few hundred requests a
		// second: the limits would measure themselves.
		"HUB_RATE_LIMIT_PER_KEY=0",
		"HUB_RATE_LIMIT_PER_ADDR=0",
		"HUB_MAX_UPLOADS_PER_KEY=0",
		// Renditions are not what this proves; text assets have none anyway.
		"HUB_RENDITION_WORKERS=1",
		// The partners' webhook endpoint is on loopback.
		"HUB_WEBHOOKS_ALLOW_PRIVATE=true",
		"HUB_LOG_LEVEL=info",
	)
	t.Cleanup(func() {
		if t.Failed() {
			h.dump()
		}
		h.stop()
	})
	return h
}

// s3Settings are the HUB_S3_* of both replicas.
type s3Settings struct {
	endpoint, bucket, accessKey, secretKey string
}

// start runs `hub serve` and waits until /readyz answers 200.
func (h *hubProc) start(t *testing.T) {
	t.Helper()
	h.starts++
	logf, err := os.Create(filepath.Join(h.logDir, fmt.Sprintf("hub-%d.log", h.starts)))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(h.bin, "serve")
	cmd.Env = h.env
	cmd.Stdout, cmd.Stderr = logf, logf
	setPdeathsig(cmd)
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", h.name, err)
	}
	h.cmd, h.exited = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); logf.Close(); close(done) }(h.exited)
	client := &http.Client{Timeout: 2 * time.Second}
	waitFor(t, 90*time.Second, h.name+" /readyz (log "+logf.Name()+")", func() error {
		select {
		case <-h.exited:
			t.Fatalf("%s exited before it was ready: %v; see %s", h.name, cmd.ProcessState, logf.Name())
		default:
		}
		resp, err := client.Get(h.url() + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %s", resp.Status)
		}
		return nil
	})
	h.startup = time.Since(began)
}

// kill ends the hub with SIGKILL, mid-request, as a crash would.
func (h *hubProc) kill() {
	if h.cmd == nil {
		return
	}
	_ = h.cmd.Process.Signal(syscall.SIGKILL)
	<-h.exited
	h.cmd = nil
}

// dump has the Go runtime write every goroutine's stack into the hub's
// log and exit (SIGQUIT): after a failure, what a stuck request waits on.
func (h *hubProc) dump() {
	if h.cmd == nil {
		return
	}
	_ = h.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-h.exited:
		h.cmd = nil
	case <-time.After(10 * time.Second):
	}
}

// stop asks the hub to shut down and kills it if it does not in 15 s.
func (h *hubProc) stop() {
	if h.cmd == nil {
		return
	}
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.exited:
	case <-time.After(15 * time.Second):
		_ = h.cmd.Process.Signal(syscall.SIGKILL)
		<-h.exited
	}
	h.cmd = nil
}

// childEnv is this process's environment without HUB_ variables: a child
// is configured by what the run gives it only.
func childEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HUB_") {
			out = append(out, kv)
		}
	}
	return out
}

// waitFor calls ready until it returns nil, failing t after timeout with
// the last error.
func waitFor(t *testing.T, timeout time.Duration, what string, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %s: %v", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
