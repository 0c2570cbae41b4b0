package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/hub/renditionqueue"
	"github.com/syndication-hub/hub/server"
)

// TestNATSSingleConfig starts nats/hub-single.conf as it is, with the
// environment it asks for, and checks its user hub may do what the hub
// does (hubUserWorks), and a hub runs on it (hubRunsOn).
func TestNATSSingleConfig(t *testing.T) {
	shipped := natstest.RunShipped(t, "nats/hub-single.conf")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	hubUserWorks(ctx, t, shipped.HubURL, 1)
	hubRunsOn(ctx, t, shipped.HubURL, shipped.CalloutSeedFile, 1)
}

// TestNATSClusterConfig starts three nodes from nats/hub-cluster.conf, as
// compose.yaml runs them, in-process: each with its NATS_SERVER_NAME and
// the passwords from the environment, and only what a single machine
// cannot give as compose does changed (free loopback ports for the
// clients, the monitor and the routes, a temporary store). They must form
// one JetStream cluster in which the hub's user can do what the hub does
// (hubUserWorks) and a hub runs (hubRunsOn), with three copies of
// everything. The route ports are picked free and let go before the nodes
// take them: another process could take one between.
func TestNATSClusterConfig(t *testing.T) {
	const hubPassword, adminPassword = "hub-password-for-the-test", "admin-password-for-the-test"
	t.Setenv("HUB_NATS_PASSWORD", hubPassword)
	t.Setenv("NATS_ADMIN_PASSWORD", adminPassword)
	names := []string{"nats-1", "nats-2", "nats-3"}
	routePorts := make([]int, len(names))
	var routes []*url.URL
	for i := range names {
		routePorts[i] = freePort(t)
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", routePorts[i])})
	}
	var servers []*natsserver.Server
	for i, name := range names {
		t.Setenv("NATS_SERVER_NAME", name)
		opts, err := natsserver.ProcessConfigFile(mustAbs("nats/hub-cluster.conf"))
		if err != nil {
			t.Fatalf("nats/hub-cluster.conf: %v", err)
		}
		if opts.ServerName != name || !opts.JetStream || opts.Cluster.Name == "" || len(opts.Routes) != len(names) {
			t.Fatalf("nats/hub-cluster.conf as %s: server name %q, JetStream %v, cluster %q with %d routes; want its name, JetStream and a cluster routing to all %d nodes",
				name, opts.ServerName, opts.JetStream, opts.Cluster.Name, len(opts.Routes), len(names))
		}
		opts.Host, opts.Port = "127.0.0.1", -1
		opts.HTTPHost, opts.HTTPPort = "127.0.0.1", -1
		opts.Cluster.Host, opts.Cluster.Port = "127.0.0.1", routePorts[i]
		opts.Routes = routes
		opts.StoreDir = filepath.Join(t.TempDir(), "data")
		opts.NoSigs, opts.NoLog = true, true
		srv, err := natsserver.NewServer(opts)
		if err != nil {
			t.Fatalf("configure %s from nats/hub-cluster.conf: %v", name, err)
		}
		go srv.Start()
		t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
		servers = append(servers, srv)
	}
	for i, srv := range servers {
		if !srv.ReadyForConnections(20 * time.Second) {
			t.Fatalf("%s did not start", names[i])
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var urls []string
	for _, srv := range servers {
		urls = append(urls, srv.ClientURL())
	}
	// The compose health check (/healthz) waits for a meta leader; so does
	// this.
	for !slices.ContainsFunc(servers, (*natsserver.Server).JetStreamIsLeader) {
		if ctx.Err() != nil {
			t.Fatal("the three nodes elected no JetStream meta leader")
		}
		time.Sleep(50 * time.Millisecond)
	}
	hubUserWorks(ctx, t, strings.Join(urls, ","), len(names), nats.UserInfo("hub", hubPassword))
	var hubURLs []string
	for _, u := range urls {
		hubURLs = append(hubURLs, strings.Replace(u, "nats://", "nats://hub:"+hubPassword+"@", 1))
	}
	hubRunsOn(ctx, t, strings.Join(hubURLs, ","), "", len(names))
	admin, err := nats.Connect(urls[2], nats.UserInfo("admin", adminPassword))
	if err != nil {
		t.Fatalf("connect as user admin: %v", err)
	}
	admin.Close()
}

// freePort is a TCP port on loopback nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// hubUserWorks connects to url as the hub's user (credentials in the URL
// or in opts) and does what the hub does on start and on its first
// upload: a KV bucket with replicas copies, written, read and watched, and
// the rendition job queue opened and given a job. A subject the config's
// permissions leave out fails it, with the server's permission error.
func hubUserWorks(ctx context.Context, t *testing.T, url string, replicas int, opts ...nats.Option) {
	t.Helper()
	denied := make(chan error, 16)
	opts = append(opts, nats.MaxReconnects(-1), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case denied <- err:
		default:
		}
	}))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connect as user hub: %v", err)
	}
	defer nc.Close()
	fail := func(format string, args ...any) {
		t.Helper()
		select {
		case err := <-denied:
			t.Fatalf(format+" (the server: %v)", append(args, err)...)
		case <-time.After(100 * time.Millisecond):
			t.Fatalf(format, args...)
		}
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// A first answer may still be "not ready" on a fresh cluster: ask
	// again, each time for a few seconds.
	var kv jetstream.KeyValue
	for ctx.Err() == nil {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		kv, err = js.CreateKeyValue(attempt, jetstream.KeyValueConfig{Bucket: "hub_deploy_check", Replicas: replicas})
		cancel()
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		fail("user hub creates a KV bucket with %d replicas: %v", replicas, err)
	}
	watch, err := kv.Watch(ctx, "probe")
	if err != nil {
		fail("watch: %v", err)
	}
	defer watch.Stop()
	if _, err := kv.Put(ctx, "probe", []byte("ok")); err != nil {
		fail("put: %v", err)
	}
	if e, err := kv.Get(ctx, "probe"); err != nil || string(e.Value()) != "ok" {
		fail("get: %v %v", e, err)
	}
	for e := range watch.Updates() {
		if e != nil {
			break
		}
	}
	queue, err := renditionqueue.Open(ctx, js, renditionqueue.Options{Replicas: replicas})
	if err != nil {
		fail("user hub opens the rendition job queue: %v", err)
	}
	attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := queue.Enqueue(attempt, hub.RenditionJob{SHA256: "0123", BlobKey: "probe", ContentType: "image/png"}); err != nil {
		fail("user hub queues a rendition job: %v", err)
	}
}

// hubRunsOn starts a hub on the NATS at url, as its user hub, keeping
// replicas copies of everything, and has it store a package with a
// picture and release it; the picture's rendition job must reach its
// queue. The hub logs a permission the config lacks as a warning and
// carries on, so any warning fails the test. (The hub makes no renditions
// here: its workers' pulls would hold up its stop for seconds.)
func hubRunsOn(ctx context.Context, t *testing.T, url, calloutSeed string, replicas int) {
	t.Helper()
	var warnings lockedBuffer
	h := hubtest.Start(t, hubtest.Options{
		NATSURL: url, NATSCalloutSeed: calloutSeed,
		Logger: slog.New(slog.NewTextHandler(&warnings, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Configure: func(c *server.Config) {
			c.NATSReplicas = replicas
			c.RenditionWorkers = -1
		},
	})
	p := h.ReadyPackage(t, "deploy-check")
	admin := h.Admin(t)
	// On a cluster a KV read may be answered by a node that has not got
	// the upload's last write yet (direct gets go to any copy), and the
	// release is then refused as if the upload still ran: ask again.
	for {
		_, err := h.Service.Release(ctx, admin, p.ID, nil)
		if err == nil {
			break
		}
		if hub.ErrorCode(err) != hub.ECONFLICT || ctx.Err() != nil {
			t.Fatalf("release on the hub: %v; the hub logged:\n%s", err, warnings.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stream, err := h.Server.JetStream().Stream(ctx, renditionqueue.Stream)
	if err != nil {
		t.Fatalf("the rendition job stream: %v", err)
	}
	for {
		if ctx.Err() != nil {
			t.Fatalf("the picture's rendition job never reached %s; the hub logged:\n%s", renditionqueue.Stream, warnings.String())
		}
		info, err := stream.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.Stop(t)
	if w := warnings.String(); w != "" {
		t.Errorf("the hub on this NATS logged warnings:\n%s", w)
	}
}

// lockedBuffer is a bytes.Buffer the hub's goroutines may log into.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
