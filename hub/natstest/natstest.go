// Package natstest starts the real embedded NATS server (with JetStream)
// for tests: the one helper every NATS-backed test goes through.
package natstest

import (
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

// StartExternal runs a plain NATS server with JetStream and no
// authentication, standing in for an operator's external NATS (the hub
// reaches it by URL, as with HUB_NATS_URL). It returns the client URL.
func StartExternal(tb testing.TB) string {
	tb.Helper()
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: tb.TempDir(), NoSigs: true,
	})
	if err != nil {
		tb.Fatalf("configure NATS: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		tb.Fatal("external NATS did not start")
	}
	tb.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv.ClientURL()
}
