package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/hub/webhooktest"
	"github.com/syndication-hub/hub/publisher/wire"
	"github.com/syndication-hub/hub/server"
)

// clock is the hubs' clock in these tests: real time, moved forward to
// let an embargo fall due without waiting for it.
type clock struct{ ahead atomic.Int64 }

func (c *clock) Now() time.Time       { return time.Now().Add(time.Duration(c.ahead.Load())) }
func (c *clock) Skip(d time.Duration) { c.ahead.Add(int64(d)) }

// estate is what a hub holds that a backup or a migration must keep:
// packages of every state with their bytes, keys, a partner with an
// API key, a webhook and a NATS durable consumer that has taken part of
// the stream, and a change-log cursor the partner holds.
type estate struct {
	admin, producer, partner           string
	released, second, scheduled, draft string // package ids
	poster, draftBytes                 []byte
	cursor                             string // the change-log cursor after the first release
	consumer                           string // the partner's durable consumer
	positions                          map[string]position
	hook                               *webhooktest.Receiver
	clock                              *clock
}

// position is where a durable consumer of the release stream stands.
type position struct{ delivered, ackFloor uint64 }

func positions(t *testing.T, js jetstream.JetStream) map[string]position {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, wire.Stream)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]position{}
	list := s.ListConsumers(ctx)
	for info := range list.Info() {
		if info.Config.Durable != "" { // not the replicas' own ephemeral ones
			out[info.Name] = position{info.Delivered.Stream, info.AckFloor.Stream}
		}
	}
	if err := list.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// startClockedHub runs `hub serve` in-process on cfg with the clock c.
func startClockedHub(t *testing.T, cfg server.Config, c *clock) *server.Server {
	t.Helper()
	s, err := server.Start(context.Background(), cfg, server.Options{Logger: testLogger(t), Now: c.Now})
	if err != nil {
		t.Fatalf("start hub: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// hubCommand runs the hub binary's command line in-process, as an
// operator types it.
func hubCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out, errs bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errs)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	t.Logf("hub %s\n%s%s", strings.Join(args, " "), out.String(), errs.String())
	return out.String(), err
}

// partnerConn connects as the partner does, with what GET /v1/me/nats
// tells it and its API key.
func partnerConn(t *testing.T, s *server.Server, key string) (jetstream.Consumer, string) {
	t.Helper()
	var acc struct {
		URL, User, Credential, Stream, Consumer, InboxPrefix string
	}
	if err := json.Unmarshal(call(t, s, "GET", "/v1/me/nats", key, nil, 200), &acc); err != nil {
		t.Fatal(err)
	}
	if acc.Credential != "key" {
		t.Fatalf("GET /v1/me/nats names credential %q, want the key", acc.Credential)
	}
	nc, err := nats.Connect(acc.URL, nats.UserInfo(acc.User, key), nats.CustomInboxPrefix(acc.InboxPrefix))
	if err != nil {
		t.Fatalf("the partner connects to NATS at %s with its key: %v", acc.URL, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.Consumer(context.Background(), acc.Stream, acc.Consumer)
	if err != nil {
		t.Fatalf("the partner's consumer %s: %v", acc.Consumer, err)
	}
	return cons, acc.Consumer
}

// take fetches up to n releases (waiting for them) and acks each,
// returning their CloudEvents ids.
func take(t *testing.T, cons jetstream.Consumer, n int) []string {
	t.Helper()
	batch, err := cons.Fetch(n, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for m := range batch.Messages() {
		ids = append(ids, m.Headers().Get("ce-id"))
		if err := m.DoubleAck(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func changeLog(t *testing.T, s *server.Server, key, after string) []string {
	t.Helper()
	var page struct {
		Items []struct{ Cursor, ID string }
	}
	if err := json.Unmarshal(call(t, s, "GET", "/v1/releases?after="+after, key, nil, 200), &page); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range page.Items {
		out = append(out, it.ID) // the CloudEvents id
	}
	return out
}

// seed fills the running hub s with an estate.
func seed(t *testing.T, s *server.Server, cfg server.Config, c *clock) *estate {
	t.Helper()
	e := &estate{admin: cfg.AdminKey, clock: c}
	e.producer = field(t, call(t, s, "POST", "/v1/keys", e.admin, []byte(`{"role":"producer","name":"KORGAU123 team"}`), 201), "key")
	call(t, s, "POST", "/v1/campaigns", e.producer, []byte(`{"slug":"survivors","name":"Survivor stories","visibility":"partners"}`), 201)
	partnerID := field(t, call(t, s, "POST", "/v1/partners", e.admin, []byte(`{"name":"Almaty TV","region":"Almaty","medium":"tv","campaigns":["survivors"]}`), 201), "id")
	e.partner = field(t, call(t, s, "POST", "/v1/keys", e.admin, []byte(`{"role":"partner","name":"Almaty TV ingest","partner":"`+partnerID+`"}`), 201), "key")
	e.hook = webhooktest.Start(t, webhooktest.OK)
	e.hook.SetSecret(field(t, call(t, s, "POST", "/v1/webhooks", e.partner, []byte(`{"url":"`+e.hook.URL+`/hub"}`), 201), "secret"))

	create := func(headline string, asset []byte) string {
		id := field(t, call(t, s, "POST", "/v1/packages", e.producer,
			[]byte(`{"campaign":"survivors","language":"ru","headlines":[{"value":"`+headline+`"}]}`), 201), "id")
		call(t, s, "PUT", "/v1/packages/"+id+"/assets/poster.png", e.producer, asset, 201)
		return id
	}
	e.poster = append(append([]byte{}, pngHead...), bytes.Repeat([]byte("poster"), 40000)...)
	e.released = create("Домогательства на работе — это преступление", e.poster)
	call(t, s, "POST", "/v1/packages/"+e.released+"/release", e.producer, nil, 200)

	// The partner takes the first release over NATS, then a second comes.
	cons, name := partnerConn(t, s, e.partner)
	e.consumer = name
	if got := take(t, cons, 1); !slices.Equal(got, []string{e.released + ".1.released"}) {
		t.Fatalf("the partner took %v", got)
	}
	e.second = create("Куда обратиться за помощью", append(append([]byte{}, pngHead...), []byte("second")...))
	call(t, s, "POST", "/v1/packages/"+e.second+"/release", e.producer, nil, 200)
	e.scheduled = create("Объявление под эмбарго", append(append([]byte{}, pngHead...), []byte("embargoed")...))
	embargo := c.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	call(t, s, "POST", "/v1/packages/"+e.scheduled+"/release", e.producer, []byte(`{"embargo":"`+embargo+`"}`), 200)
	e.draftBytes = append(append([]byte{}, pngHead...), bytes.Repeat([]byte("draft"), 1000)...)
	e.draft = create("Черновик", e.draftBytes)

	log := changeLog(t, s, e.partner, "")
	if want := []string{e.released + ".1.released", e.second + ".1.released"}; !slices.Equal(log, want) {
		t.Fatalf("change log %v, want %v", log, want)
	}
	var page struct{ Items []struct{ Cursor string } }
	json.Unmarshal(call(t, s, "GET", "/v1/releases", e.partner, nil, 200), &page)
	e.cursor = page.Items[0].Cursor

	e.hook.WaitFor(t, e.released+".1.released", 10*time.Second)
	e.hook.WaitFor(t, e.second+".1.released", 10*time.Second)
	// The webhook's consumer acks after the delivery: wait for it, so
	// the positions recorded are the ones the backup holds.
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.positions = positions(t, s.JetStream())
		hookAcked := 0
		for n, p := range e.positions {
			if n != e.consumer && p.ackFloor >= 2 {
				hookAcked++
			}
		}
		if len(e.positions) == 2 && hookAcked == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumers never settled: %v", e.positions)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p := e.positions[e.consumer]; p.ackFloor != 1 {
		t.Fatalf("the partner's consumer stands at %+v, want ack floor 1", p)
	}
	return e
}

// check asserts that the hub s holds everything of e, then lets the
// embargo fall due and checks it fires and reaches the partner where its
// consumer stood.
func (e *estate) check(t *testing.T, s *server.Server) {
	t.Helper()
	for id, status := range map[string]string{e.released: "released", e.second: "released", e.scheduled: "scheduled", e.draft: "draft"} {
		if got := field(t, call(t, s, "GET", "/v1/packages/"+id, e.producer, nil, 200), "status"); got != status {
			t.Errorf("package %s is %s, want %s", id, got, status)
		}
	}
	if got := call(t, s, "GET", "/v1/packages/"+e.released+"/assets/poster.png", e.partner, nil, 200); !bytes.Equal(got, e.poster) {
		t.Error("the released poster's bytes differ")
	}
	if got := call(t, s, "GET", "/v1/packages/"+e.draft+"/assets/poster.png", e.producer, nil, 200); !bytes.Equal(got, e.draftBytes) {
		t.Error("the draft's bytes differ")
	}
	call(t, s, "GET", "/v1/packages/"+e.scheduled, e.partner, nil, 404) // still under embargo
	keys := call(t, s, "GET", "/v1/keys", e.admin, nil, 200)
	for _, name := range []string{"KORGAU123 team", "Almaty TV ingest"} {
		if !bytes.Contains(keys, []byte(name)) {
			t.Errorf("key %q is gone: %s", name, keys)
		}
	}
	if got, want := changeLog(t, s, e.partner, e.cursor), []string{e.second + ".1.released"}; !slices.Equal(got, want) {
		t.Errorf("the change log after the partner's cursor %s: %v, want %v", e.cursor, got, want)
	}
	if got := positions(t, s.JetStream()); !mapsEqual(got, e.positions) {
		t.Errorf("consumers stand at %v, they stood at %v", got, e.positions)
	}

	cons, _ := partnerConn(t, s, e.partner)
	if got, want := take(t, cons, 1), []string{e.second + ".1.released"}; !slices.Equal(got, want) {
		t.Errorf("the partner's consumer continued with %v, want %v", got, want)
	}
	e.clock.Skip(2 * time.Hour)
	fired := e.scheduled + ".1.released"
	if got := take(t, cons, 1); !slices.Equal(got, []string{fired}) {
		t.Errorf("after the embargo the partner's consumer gave %v, want %v", got, fired)
	}
	e.hook.WaitFor(t, fired, 10*time.Second)
	for _, id := range []string{e.released + ".1.released", e.second + ".1.released", fired} {
		if n := e.hook.Accepted(id); n != 1 {
			t.Errorf("the webhook accepted %s %d times, want once", id, n)
		}
	}
	if got, want := changeLog(t, s, e.partner, e.cursor), []string{e.second + ".1.released", fired}; !slices.Equal(got, want) {
		t.Errorf("the change log after the embargo: %v, want %v", got, want)
	}
}

func mapsEqual(a, b map[string]position) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// sourceHub is a single-machine hub as deploy/README.md's "One machine"
// runs it: embedded NATS with its client listener, blobs on disk.
func sourceHub(t *testing.T) (server.Config, *clock) {
	cfg := testConfig(t)
	cfg.AdminKey, cfg.WebhooksAllowPrivate = "hub_backup-admin-key-0123456789", true
	return cfg, &clock{}
}

// TestBackupAndRestoreOneMachine backs up a stopped single-machine hub,
// wipes its data dir, restores it (once cut off half-way, then again)
// and finds everything back.
func TestBackupAndRestoreOneMachine(t *testing.T) {
	cfg, c := sourceHub(t)
	running := startClockedHub(t, cfg, c)
	e := seed(t, running, cfg, c)
	out := filepath.Join(t.TempDir(), "backup")
	if _, err := hubCommand(t, "backup", "--data-dir", cfg.DataDir, "--out", out); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("a backup of a running hub: %v", err)
	}
	stopHub(t, running)
	if _, err := hubCommand(t, "backup", "--data-dir", cfg.DataDir, "--out", out, "--log-level", "warn"); err != nil {
		t.Fatal(err)
	}
	if _, err := hubCommand(t, "backup", "--data-dir", cfg.DataDir, "--out", out); err == nil {
		t.Error("a second backup into a whole one went ahead without --force")
	}
	if err := os.RemoveAll(cfg.DataDir); err != nil {
		t.Fatal(err)
	}

	// A restore cut off after its first streams: the hub refuses to
	// start on it, and the same command finishes it.
	ctx, cut := context.WithCancel(context.Background())
	restored := 0
	log := slog.New(&hookHandler{fn: func(r slog.Record) {
		if r.Message == "restored stream" {
			if restored++; restored == 3 {
				cut()
			}
		}
	}})
	if err := server.Restore(ctx, out, cfg, server.ToolOptions{Logger: log}); err == nil {
		t.Fatal("the cut-off restore reports success")
	}
	if _, err := server.Start(context.Background(), cfg, server.Options{Logger: testLogger(t)}); err == nil || !strings.Contains(err.Error(), "has not finished") {
		t.Fatalf("a hub on a half-restored data dir: %v", err)
	}
	if _, err := hubCommand(t, "restore", "--from", out, "--data-dir", cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	e.check(t, startClockedHub(t, cfg, c))
}

// TestMigrateOneMachineOntoCluster moves a single-machine hub onto a
// three-node NATS cluster configured as deploy/nats ships it (accounts
// HUB and PARTNERS, the hub answering the auth callout) and MinIO, then
// runs `hub serve` there: every package with its bytes, key, cursor and
// consumer position is there, streams have three replicas, and the
// partner connects with its key as before. The same migration run again
// does nothing; once the cluster's hub has run, it is refused.
func TestMigrateOneMachineOntoCluster(t *testing.T) {
	cfg, c := sourceHub(t)
	source := startClockedHub(t, cfg, c)
	e := seed(t, source, cfg, c)
	stopHub(t, source)

	cluster := natstest.RunShippedCluster(t, "../../deploy/nats/hub-single.conf", 3)
	bucket := minioServer.Options(t)
	t.Cleanup(func() { emptyBucket(t, bucket.Bucket) })
	args := []string{"migrate", "--data-dir", cfg.DataDir, "--nats-url", cluster.AdminURLs, "--nats-replicas", "3",
		"--s3-endpoint", bucket.Endpoint, "--s3-bucket", bucket.Bucket, "--s3-access-key", bucket.AccessKey, "--s3-secret-key", bucket.SecretKey}
	if _, err := hubCommand(t, args...); err != nil {
		t.Fatal(err)
	}
	if _, err := hubCommand(t, args...); err != nil {
		t.Errorf("the same migration again, after it finished: %v", err)
	}

	target := testConfig(t)
	target.AdminKey, target.WebhooksAllowPrivate = cfg.AdminKey, true
	target.NATSURL, target.NATSCalloutSeed, target.NATSReplicas = cluster.HubURLs, cluster.CalloutSeedFile, 3
	target.S3Endpoint, target.S3Bucket, target.S3AccessKey, target.S3SecretKey = bucket.Endpoint, bucket.Bucket, bucket.AccessKey, bucket.SecretKey
	s := startClockedHub(t, target, c)
	checkReplicas(t, s.JetStream(), 3)
	e.check(t, s)
	if _, err := hubCommand(t, args...); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a migration onto the cluster once its hub has run: %v", err)
	}
}

// checkReplicas asserts every stream of the hub's account, and every
// durable consumer of the release stream, has n replicas in the cluster.
func checkReplicas(t *testing.T, js jetstream.JetStream, n int) {
	t.Helper()
	ctx := context.Background()
	list := js.ListStreams(ctx)
	streams := 0
	for info := range list.Info() {
		streams++
		if info.Config.Replicas != n || info.Cluster == nil || len(info.Cluster.Replicas)+1 != n {
			t.Errorf("stream %s has %d replicas (cluster %+v), want %d", info.Config.Name, info.Config.Replicas, info.Cluster, n)
		}
	}
	if err := list.Err(); err != nil || streams == 0 {
		t.Fatalf("list streams: %d, %v", streams, err)
	}
	s, err := js.Stream(ctx, wire.Stream)
	if err != nil {
		t.Fatal(err)
	}
	consumers := s.ListConsumers(ctx)
	for info := range consumers.Info() {
		if info.Config.Durable == "" {
			continue // the replicas' own ephemeral consumers, R1 by design
		}
		if info.Cluster == nil || len(info.Cluster.Replicas)+1 != n {
			t.Errorf("consumer %s has cluster %+v, want %d replicas", info.Name, info.Cluster, n)
		}
	}
	if err := consumers.Err(); err != nil {
		t.Fatal(err)
	}
}

// emptyBucket removes what the migrated hub stored: the test owns the
// bucket, and MinIO's teardown insists on finding it empty.
func emptyBucket(t *testing.T, bucket string) {
	client := minioServer.Client(t)
	ctx := context.Background()
	for obj := range client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Errorf("list %s: %v", bucket, obj.Err)
			return
		}
		if err := client.RemoveObject(ctx, bucket, obj.Key, minio.RemoveObjectOptions{}); err != nil {
			t.Errorf("remove %s: %v", obj.Key, err)
		}
	}
}

// hookHandler is a slog handler that calls fn with every record.
type hookHandler struct{ fn func(slog.Record) }

func (h *hookHandler) Enabled(context.Context, slog.Level) bool      { return true }
func (h *hookHandler) Handle(_ context.Context, r slog.Record) error { h.fn(r); return nil }
func (h *hookHandler) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h *hookHandler) WithGroup(string) slog.Handler                 { return h }
