package natstest

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
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
}

// RunShipped starts the config at path (relative to the test's package
// or absolute) with the environment it asks for: a free loopback port, a
// temporary store, fresh passwords and a fresh callout issuer. It is shut
// down when the test ends. It sets environment variables, so a test using
// it cannot run in parallel.
func RunShipped(t *testing.T, path string) *Shipped {
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
	t.Setenv("NATS_STORE_DIR", filepath.Join(dir, "store"))
	t.Setenv("HUB_NATS_PASSWORD", hubPassword)
	t.Setenv("NATS_ADMIN_PASSWORD", adminPassword)
	t.Setenv("HUB_NATS_CALLOUT_ISSUER", pub)
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(abs)
	if err != nil {
		t.Fatalf("NATS config %s: %v", path, err)
	}
	opts.NoSigs = true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("configure NATS from %s: %v", path, err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatalf("NATS from %s did not start", path)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	addr := srv.Addr().(*net.TCPAddr)
	hostport := net.JoinHostPort("127.0.0.1", strconv.Itoa(addr.Port))
	return &Shipped{
		URL:             "nats://" + hostport,
		HubURL:          (&url.URL{Scheme: "nats", User: url.UserPassword("hub", hubPassword), Host: hostport}).String(),
		CalloutSeedFile: seedFile,
		AdminUser:       "admin", AdminPassword: adminPassword,
		Server: srv,
	}
}
