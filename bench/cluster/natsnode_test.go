package cluster

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
	"github.com/syndication-hub/hub/hub/natstest"
)

// shippedConfig is the NATS configuration the project ships for an
// external server with partners admitted by the hub's auth callout; every
// node runs it as it is, plus the cluster block of hub-cluster.conf.
const shippedConfig = "../../deploy/nats/hub-single.conf"

// natsNodeEnv marks the re-executed test binary that is to be one NATS
// node; its value is the node's name. The node's other settings come in
// the variables the shipped config reads (NATS_LISTEN, NATS_STORE_DIR,
// HUB_NATS_PASSWORD, NATS_ADMIN_PASSWORD, HUB_NATS_CALLOUT_ISSUER) and in
// these two: its route listener and every node's route.
const (
	natsNodeEnv        = "HUB_CLUSTER_NATS_NODE"
	natsRouteListenEnv = "HUB_CLUSTER_NATS_ROUTE_LISTEN"
	natsRoutesEnv      = "HUB_CLUSTER_NATS_ROUTES"
	natsConfigEnv      = "HUB_CLUSTER_NATS_CONFIG"
)

// runNATSNode is the body of a re-executed test binary: one nats-server
// (the library of go.mod's version) from the shipped config with the
// cluster block added, until SIGTERM or SIGINT (or SIGKILL, which is the
// point of running it as a process of its own). It returns the exit code.
func runNATSNode() int {
	opts, err := server.ProcessConfigFile(os.Getenv(natsConfigEnv))
	if err != nil {
		fmt.Fprintf(os.Stderr, "NATS node: config %s: %v\n", os.Getenv(natsConfigEnv), err)
		return 1
	}
	host, port, err := net.SplitHostPort(os.Getenv(natsRouteListenEnv))
	if err != nil {
		fmt.Fprintf(os.Stderr, "NATS node: %s: %v\n", natsRouteListenEnv, err)
		return 1
	}
	// hub-cluster.conf's cluster block: one name, every node listed (a
	// route to itself is recognised and ignored), no gossiped addresses.
	opts.ServerName = os.Getenv(natsNodeEnv)
	opts.Cluster.Name = "hub"
	opts.Cluster.Host = host
	opts.Cluster.Port, _ = strconv.Atoi(port)
	opts.Cluster.NoAdvertise = true
	opts.Routes = server.RoutesFromStr(os.Getenv(natsRoutesEnv))
	opts.NoSigs = true
	srv, err := server.NewServer(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "NATS node: %v\n", err)
		return 1
	}
	srv.ConfigureLogger()
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		fmt.Fprintln(os.Stderr, "NATS node: not ready in 30 s")
		return 1
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	srv.Shutdown()
	srv.WaitForShutdown()
	return 0
}

// natsCluster is three NATS nodes, each the test binary re-executed, on
// loopback ports that stay theirs across restarts.
type natsCluster struct {
	nodes []*natsNode
	// hubPassword and adminPassword are the shipped config's users.
	hubPassword, adminPassword string
	// calloutSeedFile holds the callout issuer's seed (HUB_NATS_CALLOUT_SEED).
	calloutSeedFile string
}

// natsNode is one node's process and where it keeps its files.
type natsNode struct {
	name      string
	client    string // host:port
	env       []string
	storeDir  string
	logDir    string
	starts    int
	cmd       *exec.Cmd
	exited    chan struct{}
	startedAt time.Time
}

// startNATSCluster starts three nodes and waits until JetStream answers.
func startNATSCluster(t *testing.T, dir string) *natsCluster {
	t.Helper()
	kp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	issuer, _ := kp.PublicKey()
	c := &natsCluster{
		hubPassword: "hub-" + issuer[1:17], adminPassword: "admin-" + issuer[17:33],
		calloutSeedFile: filepath.Join(dir, "callout.nk"),
	}
	if err := os.WriteFile(c.calloutSeedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	config, err := filepath.Abs(shippedConfig)
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	routeAddrs := make([]string, 3)
	for i := range routeAddrs {
		routeAddrs[i] = natstest.FreeAddr(t)
		routes = append(routes, "nats-route://"+routeAddrs[i])
	}
	for i := range 3 {
		n := &natsNode{
			name:     fmt.Sprintf("nats-%d", i+1),
			client:   natstest.FreeAddr(t),
			storeDir: filepath.Join(dir, fmt.Sprintf("nats-%d", i+1), "store"),
			logDir:   filepath.Join(dir, fmt.Sprintf("nats-%d", i+1)),
		}
		n.env = append(childEnv(),
			natsNodeEnv+"="+n.name,
			natsConfigEnv+"="+config,
			natsRouteListenEnv+"="+routeAddrs[i],
			natsRoutesEnv+"="+strings.Join(routes, ","),
			"NATS_LISTEN="+n.client,
			"NATS_STORE_DIR="+n.storeDir,
			"HUB_NATS_PASSWORD="+c.hubPassword,
			"NATS_ADMIN_PASSWORD="+c.adminPassword,
			"HUB_NATS_CALLOUT_ISSUER="+issuer,
		)
		c.nodes = append(c.nodes, n)
	}
	for _, n := range c.nodes {
		n.start(t)
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.stop()
		}
	})
	nc := c.admin(t)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	waitFor(t, 60*time.Second, "JetStream on the NATS cluster", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := js.AccountInfo(ctx)
		return err
	})
	return c
}

// start runs the node's process and waits until its client port accepts.
func (n *natsNode) start(t *testing.T) {
	t.Helper()
	if err := os.MkdirAll(n.logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	n.starts++
	logf, err := os.Create(filepath.Join(n.logDir, fmt.Sprintf("nats-%d.log", n.starts)))
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = n.env
	cmd.Stdout, cmd.Stderr = logf, logf
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start NATS node %s: %v", n.name, err)
	}
	n.cmd, n.exited, n.startedAt = cmd, make(chan struct{}), time.Now()
	go func(done chan struct{}) { _ = cmd.Wait(); logf.Close(); close(done) }(n.exited)
	waitFor(t, 30*time.Second, "NATS node "+n.name+" (log "+logf.Name()+")", func() error {
		select {
		case <-n.exited:
			return fmt.Errorf("exited: %v", cmd.ProcessState)
		default:
		}
		conn, err := net.DialTimeout("tcp", n.client, time.Second)
		if err == nil {
			conn.Close()
		}
		return err
	})
}

// kill ends the node with SIGKILL, as a crash or a power cut would.
func (n *natsNode) kill() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
	n.cmd = nil
}

// stop shuts the node down, killing it if it does not go in 10 s.
func (n *natsNode) stop() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		_ = n.cmd.Process.Signal(syscall.SIGKILL)
		<-n.exited
	}
	n.cmd = nil
}

// urls is every node's URL as user:password would reach it.
func (c *natsCluster) urls(user, password string) string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, (&url.URL{Scheme: "nats", User: url.UserPassword(user, password), Host: n.client}).String())
	}
	return strings.Join(out, ",")
}

// hubURL is HUB_NATS_URL: every node, with the hub user's credentials.
func (c *natsCluster) hubURL() string { return c.urls("hub", c.hubPassword) }

// admin connects as the operators' user (the `nats` CLI's), to every node.
func (c *natsCluster) admin(t *testing.T) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(c.urls("admin", c.adminPassword), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond),
		nats.Name("cluster proof admin"))
	if err != nil {
		t.Fatalf("connect to NATS as admin: %v", err)
	}
	return nc
}

// node returns the node called name.
func (c *natsCluster) node(name string) *natsNode {
	for _, n := range c.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// streamLeader names the node leading stream's Raft group.
func streamLeader(ctx context.Context, js jetstream.JetStream, stream string) (string, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return "", fmt.Errorf("stream %s: %w", stream, err)
	}
	info := s.CachedInfo()
	if info.Cluster == nil || info.Cluster.Leader == "" {
		return "", fmt.Errorf("stream %s has no leader", stream)
	}
	return info.Cluster.Leader, nil
}

// streamsCurrent says why not every replica of every stream of the
// account is current and online, or nil when all are.
func streamsCurrent(ctx context.Context, js jetstream.JetStream, replicas int) error {
	names := js.StreamNames(ctx)
	var n int
	for name := range names.Name() {
		n++
		s, err := js.Stream(ctx, name)
		if err != nil {
			return fmt.Errorf("stream %s: %w", name, err)
		}
		cl := s.CachedInfo().Cluster
		if cl == nil || cl.Leader == "" {
			return fmt.Errorf("stream %s has no leader", name)
		}
		if len(cl.Replicas)+1 != replicas {
			return fmt.Errorf("stream %s has %d replicas, want %d", name, len(cl.Replicas)+1, replicas)
		}
		for _, p := range cl.Replicas {
			if !p.Current || p.Offline {
				return fmt.Errorf("stream %s: replica %s is not current (offline %v, lag %d)", name, p.Name, p.Offline, p.Lag)
			}
		}
	}
	if err := names.Err(); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("no streams yet")
	}
	return nil
}
