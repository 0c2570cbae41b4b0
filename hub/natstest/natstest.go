// Package natstest starts the real embedded NATS server (with JetStream)
// for tests: the one helper every NATS-backed test goes through.
package natstest

import (
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub/natsserver"
)

// Start runs a server storing under dir (t.TempDir() when dir is ""),
// on a random loopback port, and shuts it down when the test ends.
// Starting again on the same dir is how tests restart NATS.
func Start(tb testing.TB, dir string) *natsserver.Server {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	srv, err := natsserver.Start(natsserver.Options{StoreDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		tb.Fatalf("start NATS: %v", err)
	}
	tb.Cleanup(srv.Shutdown)
	return srv
}

// Connect opens an in-process connection and its JetStream context,
// closed when the test ends.
func Connect(tb testing.TB, srv *natsserver.Server) (*nats.Conn, jetstream.JetStream) {
	tb.Helper()
	nc, err := srv.Connect(tb.Name())
	if err != nil {
		tb.Fatalf("connect to NATS: %v", err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatalf("JetStream: %v", err)
	}
	return nc, js
}

// External is a plain NATS server with JetStream and no authentication,
// standing in for an operator's external NATS (the hub reaches it by URL,
// as with HUB_NATS_URL). It can be stopped and started again on the same
// port and files, to show the hub survives NATS going away.
type External struct {
	tb   testing.TB
	opts server.Options
	srv  *server.Server
}

// StartExternal runs an External server and returns its client URL.
func StartExternal(tb testing.TB) string { return RunExternal(tb).URL() }

// RunExternal runs an External server, shut down when the test ends.
func RunExternal(tb testing.TB) *External {
	tb.Helper()
	e := &External{tb: tb, opts: server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: tb.TempDir(), NoSigs: true,
	}}
	e.Start()
	tb.Cleanup(e.Stop)
	return e
}

// Start (re)starts the server, on the port it had before.
func (e *External) Start() {
	e.tb.Helper()
	opts := e.opts
	srv, err := server.NewServer(&opts)
	if err != nil {
		e.tb.Fatalf("configure NATS: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		e.tb.Fatal("external NATS did not start")
	}
	e.srv = srv
	e.opts.Port = srv.Addr().(*net.TCPAddr).Port
}

// Stop shuts the server down.
func (e *External) Stop() {
	if e.srv != nil {
		e.srv.Shutdown()
		e.srv.WaitForShutdown()
	}
}

// URL is the server's client URL.
func (e *External) URL() string { return e.srv.ClientURL() }
