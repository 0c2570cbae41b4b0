package pull_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/hubclient"
	"github.com/syndication-hub/hub/pull"
)

// pngHead is enough of a PNG for the hub's sniffing; the rest is payload.
var pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")

func png(payload string, repeat int) []byte {
	return append(append([]byte{}, pngHead...), bytes.Repeat([]byte(payload), repeat)...)
}

// env is a hub with a producer who publishes and a partner who pulls.
type env struct {
	hub        *hubtest.Hub
	producer   *hubclient.Client
	partnerKey string
	dest       string
}

func newEnv(t testing.TB, opts hubtest.Options) *env {
	h := hubtest.Start(t, opts)
	return &env{hub: h, producer: mustClient(t, h.URL, h.ProducerKey(t), nil), partnerKey: h.PartnerKey(t, "Almaty TV"), dest: t.TempDir()}
}

func mustClient(t testing.TB, url, key string, rt http.RoundTripper) *hubclient.Client {
	t.Helper()
	c, err := hubclient.New(url, key, hubclient.Options{HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// puller returns a Puller of the partner into e.dest; rt (nil: the
// default) carries its requests.
func (e *env) puller(t testing.TB, rt http.RoundTripper, opts pull.Options) *pull.Puller {
	t.Helper()
	opts.Dest = e.dest
	if opts.PollInterval == 0 {
		opts.PollInterval = 50 * time.Millisecond
	}
	opts.Logger = testLogger(t)
	p, err := pull.New(mustClient(t, e.hub.URL, e.partnerKey, rt), opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) pull(t testing.TB, rt http.RoundTripper, opts pull.Options) {
	t.Helper()
	if err := e.puller(t, rt, opts).Run(context.Background()); err != nil {
		t.Fatalf("pull: %v", err)
	}
}

// draft creates a package with assets (name -> bytes).
func (e *env) draft(t testing.TB, campaign, lang, headline string, assets map[string][]byte) string {
	t.Helper()
	p, err := e.producer.CreatePackage(context.Background(), hubclient.PackageFields{
		Campaign: &campaign, Language: &lang, Headlines: &[]hub.Text{{Value: headline}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.upload(t, p.ID, assets)
	return p.ID
}

// publish creates a package with assets and releases it.
func (e *env) publish(t testing.TB, campaign, lang, headline string, assets map[string][]byte) string {
	t.Helper()
	id := e.draft(t, campaign, lang, headline, assets)
	e.release(t, id)
	return id
}

func (e *env) upload(t testing.TB, id string, assets map[string][]byte) {
	t.Helper()
	for name, b := range assets {
		if _, err := e.producer.PutAsset(context.Background(), id, name, bytes.NewReader(b), int64(len(b)), ""); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *env) release(t testing.TB, id string) {
	t.Helper()
	if _, err := e.producer.Release(context.Background(), id, nil); err != nil {
		t.Fatal(err)
	}
}

// dir is the package's folder under the destination.
func (e *env) dir(campaign, lang, id string) string { return filepath.Join(e.dest, campaign, lang, id) }

// files lists a folder's files (not folders), relative to it.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		b, _ := os.ReadFile(path)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	return out
}

// waitFor polls until cond holds and returns how long that took.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

// fileIs reports whether path holds exactly b.
func fileIs(path string, b []byte) bool {
	got, err := os.ReadFile(path)
	return err == nil && bytes.Equal(got, b)
}

// transport wraps the default transport, letting a test change asset
// downloads' bodies.
type transport struct {
	mu sync.Mutex
	// body, when set, replaces the body of each asset download; n counts
	// the downloads so far.
	body func(n int, r io.ReadCloser) io.ReadCloser
	// only, when set, limits body to the downloads whose path holds it.
	only string
	// before, when set, runs before each asset download is sent.
	before func(n int)
	n      int
	// statuses are the asset downloads' answers.
	statuses []int
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	asset := req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/assets/")
	if !asset {
		return http.DefaultTransport.RoundTrip(req)
	}
	tr.mu.Lock()
	tr.n++
	n, body, before := tr.n, tr.body, tr.before
	tr.mu.Unlock()
	if before != nil {
		before(n)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	tr.mu.Lock()
	tr.statuses = append(tr.statuses, resp.StatusCode)
	tr.mu.Unlock()
	if body != nil && strings.Contains(req.URL.Path, tr.only) {
		resp.Body = body(n, resp.Body)
	}
	return resp, nil
}

// funcReader is a ReadCloser from functions.
type funcReader struct {
	read  func([]byte) (int, error)
	close func() error
}

func (r funcReader) Read(p []byte) (int, error) { return r.read(p) }
func (r funcReader) Close() error               { return r.close() }
