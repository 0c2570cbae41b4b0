package natstest

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// Shipped is an external NATS started in-process from a config file the
// project ships (deploy/nats/hub-single.conf), as an operator would run
// it: the hub in its own account, partners in another, admitted by the
// hub's auth callout.
type Shipped struct {
	// URL is where clients connect, without credentials.
	URL string
	// HubURL carries the hub user's credentials (HUB_NATS_URL).
	HubURL string
	// CalloutSeedFile holds the callout issuer's seed (HUB_NATS_CALLOUT_SEED).
	CalloutSeedFile string
	// AdminUser and AdminPassword are the operators' user.
	AdminUser, AdminPassword string
	Server                   *server.Server

	hubPassword string
}

// RunShipped starts the config at path (relative to the test's package
// or absolute) with the environment it asks for: a free loopback port, a
// temporary store, fresh passwords and a fresh callout issuer. It is shut
// down when the test ends. It sets environment variables, so a test using
// it cannot run in parallel.
func RunShipped(t *testing.T, path string) *Shipped {
	t.Helper()
	n, dir := shippedEnv(t)
	t.Setenv("NATS_STORE_DIR", filepath.Join(dir, "store"))
	srv := startConfig(t, path, nil)
	n.URL, n.HubURL = n.urls(srv)
	n.Server = srv
	return n
}

// ShippedCluster is a JetStream cluster of nodes each started in-process
// from a config file the project ships, with a cluster block added as
// deploy/nats/hub-cluster.conf has it: what an operator runs on three
// machines, here on loopback.
type ShippedCluster struct {
	Shipped
	// URLs and HubURLs are every node's client URL, comma-separated,
	// without and with the hub user's credentials (HUB_NATS_URL).
	URLs, HubURLs string
	// AdminURLs carry the admin user's credentials, as an operator's
	// `hub migrate --nats-url` does.
	AdminURLs string
	Servers   []*server.Server
}

// RunShippedCluster starts nodes servers from the config at path (as
// RunShipped), routed into one cluster named "hub", and waits until
// JetStream has a meta leader. They are shut down when the test ends.
func RunShippedCluster(t *testing.T, path string, nodes int) *ShippedCluster {
	t.Helper()
	n, dir := shippedEnv(t)
	c := &ShippedCluster{Shipped: *n}
	// JetStream in a cluster wants its routes configured from the start,
	// so the route ports are chosen first. Every node lists all of them;
	// a route to itself is recognised and dropped.
	var routes []*url.URL
	for range nodes {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: FreeAddr(t)})
	}
	var hub, plain, admin []string
	for i := range nodes {
		name := "hub-nats-" + strconv.Itoa(i+1)
		t.Setenv("NATS_STORE_DIR", filepath.Join(dir, name))
		srv := startConfig(t, path, func(o *server.Options) {
			o.ServerName = name
			host, port, _ := net.SplitHostPort(routes[i].Host)
			o.Cluster.Name, o.Cluster.Host = "hub", host
			o.Cluster.Port, _ = strconv.Atoi(port)
			o.Routes = routes
		})
		c.Servers = append(c.Servers, srv)
		u, h := n.urls(srv)
		plain, hub = append(plain, u), append(hub, h)
		admin = append(admin, (&url.URL{Scheme: "nats", User: url.UserPassword(n.AdminUser, n.AdminPassword), Host: strings.TrimPrefix(u, "nats://")}).String())
	}
	c.URLs, c.HubURLs, c.AdminURLs = strings.Join(plain, ","), strings.Join(hub, ","), strings.Join(admin, ",")
	c.URL, c.HubURL, c.Server = plain[0], hub[0], c.Servers[0]
	deadline := time.Now().Add(30 * time.Second)
	for !c.ready(nodes) {
		if time.Now().After(deadline) {
			t.Fatalf("the %d-node NATS cluster from %s found no JetStream meta leader", nodes, path)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c
}

// ready reports whether every node routes to every other and JetStream
// has a meta leader.
func (c *ShippedCluster) ready(nodes int) bool {
	leader := false
	for _, s := range c.Servers {
		if s.NumRoutes() < nodes-1 || !s.JetStreamEnabled() {
			return false
		}
		leader = leader || s.JetStreamIsLeader()
	}
	return leader
}

// shippedEnv sets the environment the shipped configs read, but the
// store dir, and returns the credentials with a directory for stores.
func shippedEnv(t *testing.T) (*Shipped, string) {
	t.Helper()
	kp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	pub, _ := kp.PublicKey()
	dir := t.TempDir()
	seedFile := filepath.Join(dir, "callout.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	hubPassword, adminPassword := "hub-"+pub[:12], "admin-"+pub[12:24]
	t.Setenv("NATS_LISTEN", "127.0.0.1:-1")
	t.Setenv("HUB_NATS_PASSWORD", hubPassword)
	t.Setenv("NATS_ADMIN_PASSWORD", adminPassword)
	t.Setenv("HUB_NATS_CALLOUT_ISSUER", pub)
	return &Shipped{CalloutSeedFile: seedFile, AdminUser: "admin", AdminPassword: adminPassword, hubPassword: hubPassword}, dir
}

// urls returns srv's client URL without and with the hub's credentials.
func (n *Shipped) urls(srv *server.Server) (plain, hub string) {
	addr := srv.Addr().(*net.TCPAddr)
	hostport := net.JoinHostPort("127.0.0.1", strconv.Itoa(addr.Port))
	return "nats://" + hostport, (&url.URL{Scheme: "nats", User: url.UserPassword("hub", n.hubPassword), Host: hostport}).String()
}

// startConfig starts a server from the config at path, changed by
// configure when not nil, shut down when the test ends.
func startConfig(t *testing.T, path string, configure func(*server.Options)) *server.Server {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(abs)
	if err != nil {
		t.Fatalf("NATS config %s: %v", path, err)
	}
	opts.NoSigs = true
	if configure != nil {
		configure(opts)
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("configure NATS from %s: %v", path, err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatalf("NATS from %s did not start", path)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv
}

// FreeAddr returns a loopback address with a port free a moment ago (for
// servers that must be told their address before they listen: routes,
// a process's listener).
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
