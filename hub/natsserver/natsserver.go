// Package natsserver runs the NATS server the hub embeds when no external
// NATS is configured: JetStream on a file store under the data directory,
// synced on every write, and a client listener for outlets that admits
// nobody without credentials. The hub itself talks to it in-process.
package natsserver

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Options configures the embedded server.
type Options struct {
	// StoreDir holds JetStream's files.
	StoreDir string
	// Listen is host:port for outlets' clients; port 0 picks a free one.
	Listen string
	Logger *slog.Logger
}

// Server is a running embedded NATS server.
type Server struct {
	// srvMu guards srv, which Recover replaces by a server started anew
	// on the same store, options and port.
	srvMu       sync.RWMutex
	srv         *server.Server
	opts        server.Options
	log         *slog.Logger
	storeErr    atomic.Pointer[string] // the first write error of the store since the last start
	hubUser     string
	hubPassword string

	// Outlets' users live here, not in the server's options: the server
	// asks authenticator on each connect, so users change without a
	// configuration reload (which, in nats-server 2.15, races with
	// JetStream reads).
	mu      sync.Mutex
	clients map[string]ClientUser
	conns   map[string][]uint64 // client connection ids by user, to close them when a user goes
}

// ClientUser is an outlet's NATS user: a name, a password, and the only
// subjects it may publish to and subscribe on.
type ClientUser struct {
	Name      string
	Password  string
	Publish   []string
	Subscribe []string
}

// Start runs the server and waits until it accepts connections.
func Start(opts Options) (*Server, error) {
	host, portStr, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("NATS listen address %q: %w", opts.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("NATS listen port %q: %w", portStr, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	password, err := randomSecret()
	if err != nil {
		return nil, err
	}
	s := &Server{hubUser: "hub", hubPassword: password, clients: map[string]ClientUser{}, conns: map[string][]uint64{}}
	so := &server.Options{
		ServerName: "hub-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   opts.StoreDir,
		// Every acknowledged write is on disk: a crash right after an
		// announcement must not lose the state it announced.
		SyncAlways: true,
		// The hub's own user (its password lives only in this process) and
		// the outlets' users, each limited to its consumer.
		CustomClientAuthentication: authenticator{s},
		NoSigs:                     true,
		MaxPayload:                 8 << 20,
	}
	s.opts, s.log = *so, opts.Logger
	srv, err := s.start()
	if err != nil {
		return nil, err
	}
	s.srv = srv
	// A restart must come back on the port picked now.
	s.opts.Port = srv.Addr().(*net.TCPAddr).Port
	return s, nil
}

// start runs a server from s.opts and waits until it accepts connections.
func (s *Server) start() (*server.Server, error) {
	so := s.opts
	srv, err := server.NewServer(&so)
	if err != nil {
		return nil, fmt.Errorf("configure embedded NATS: %w", err)
	}
	log := s.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv.SetLoggerV2(slogAdapter{log: log.With("component", "nats"), storeError: s.noteStoreError}, false, false, false)
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded NATS did not become ready (listen %s:%d, store %s)", so.Host, so.Port, so.StoreDir)
	}
	return srv, nil
}

// noteStoreError keeps the first write error the file store reports. The
// server keeps failing writes to a stream whose store failed once (a full
// disk), also after space returns, until it restarts; Recover does that.
func (s *Server) noteStoreError(msg string) {
	s.storeErr.CompareAndSwap(nil, &msg)
}

// StoreFailed returns the file store's first write error since the server
// (re)started, "" when there was none.
func (s *Server) StoreFailed() string {
	if p := s.storeErr.Load(); p != nil {
		return *p
	}
	return ""
}

// recoverFree is the free space the store's disk must have again before
// Recover restarts the server on it.
const recoverFree = 4 << 20

// Recover restarts the server in-process on the same store, options and
// port once its file store failed a write (StoreFailed) and the disk has
// room again (recoverFree bytes can be written). Clients reconnect by
// themselves: the hub's in-process connection through s (see Connect),
// outlets' over TCP. It reports whether it restarted.
func (s *Server) Recover() (bool, error) {
	if s.StoreFailed() == "" {
		return false, nil
	}
	if err := roomFor(s.opts.StoreDir, recoverFree); err != nil {
		return false, nil // still full: writes keep answering EFULL
	}
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
	srv, err := s.start()
	if err != nil {
		// Still failed: the next call tries again.
		return false, fmt.Errorf("restart embedded NATS after a store failure: %w", err)
	}
	s.srv = srv
	s.storeErr.Store(nil)
	return true, nil
}

// roomFor reports whether n bytes can be written (and synced) in dir.
func roomFor(dir string, n int) error {
	f, err := os.CreateTemp(dir, ".room-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(make([]byte, n)); err != nil {
		return err
	}
	return f.Sync()
}

// current is the running server.
func (s *Server) current() *server.Server {
	s.srvMu.RLock()
	defer s.srvMu.RUnlock()
	return s.srv
}

// InProcessConn connects in-process to the running server; Connect hands
// s to nats.go as the provider, so a reconnect after Recover reaches the
// new server.
func (s *Server) InProcessConn() (net.Conn, error) {
	return s.current().InProcessConn()
}

func randomSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make NATS password: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// sameSecret compares two secrets in constant time.
func sameSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// authenticator admits the hub's own user with every permission and the
// outlets' users with theirs; nobody else.
type authenticator struct{ s *Server }

func (a authenticator) Check(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	if o.Username == a.s.hubUser {
		if !sameSecret(o.Password, a.s.hubPassword) {
			return false
		}
		c.RegisterUser(&server.User{Username: a.s.hubUser})
		return true
	}
	a.s.mu.Lock()
	u, ok := a.s.clients[o.Username]
	if ok && sameSecret(o.Password, u.Password) {
		// Remember recent connections only: an outlet keeps one or two
		// open, and ids of closed ones just cost a no-op kick later.
		ids := append(a.s.conns[u.Name], c.GetID())
		a.s.conns[u.Name] = ids[max(0, len(ids)-32):]
	}
	a.s.mu.Unlock()
	if !ok || !sameSecret(o.Password, u.Password) {
		return false
	}
	c.RegisterUser(&server.User{
		Username: u.Name,
		Permissions: &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: u.Publish},
			Subscribe: &server.SubjectPermission{Allow: u.Subscribe},
		},
	})
	return true
}

// SetClientUsers replaces the outlets' users with users. Connections of
// users no longer listed, or whose password or permissions changed, are
// closed; their clients reconnect (or not) under the new rules.
func (s *Server) SetClientUsers(users []ClientUser) error {
	next := make(map[string]ClientUser, len(users))
	for _, u := range users {
		if u.Name == s.hubUser {
			return fmt.Errorf("the NATS user name %q is the hub's own", u.Name)
		}
		next[u.Name] = u
	}
	s.mu.Lock()
	var kick []uint64
	for name, old := range s.clients {
		if u, ok := next[name]; !ok || !sameUser(old, u) {
			kick = append(kick, s.conns[name]...)
			delete(s.conns, name)
		}
	}
	s.clients = next
	s.mu.Unlock()
	for _, id := range kick {
		// An id of a connection that has closed since is no error here.
		_ = s.current().DisconnectClientByID(id)
	}
	return nil
}

func sameUser(a, b ClientUser) bool {
	return a.Password == b.Password && slices.Equal(a.Publish, b.Publish) && slices.Equal(a.Subscribe, b.Subscribe)
}

// Connect opens an in-process connection as the hub's own user.
func (s *Server) Connect(name string, opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{
		nats.Name(name),
		nats.InProcessServer(s),
		nats.UserInfo(s.hubUser, s.hubPassword),
		nats.MaxReconnects(-1),
	}, opts...)
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to embedded NATS: %w", err)
	}
	return nc, nil
}

// ClientURL is where outlets' clients connect.
func (s *Server) ClientURL() string { return s.current().ClientURL() }

// Shutdown stops the server and waits until it has.
func (s *Server) Shutdown() {
	srv := s.current()
	srv.Shutdown()
	srv.WaitForShutdown()
}

// slogAdapter routes the server's log lines to slog.
type slogAdapter struct {
	log        *slog.Logger
	storeError func(msg string) // told of the file store's write errors
}

func (a slogAdapter) Noticef(f string, v ...any) { a.log.Debug(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Warnf(f string, v ...any)   { a.log.Warn(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Fatalf(f string, v ...any)  { a.log.Error(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Errorf(f string, v ...any) {
	msg := fmt.Sprintf(f, v...)
	if strings.Contains(msg, "ritical write error") || strings.Contains(msg, "no space left on device") {
		a.storeError(msg)
	}
	a.log.Error(msg)
}
func (a slogAdapter) Debugf(f string, v ...any) { a.log.Debug(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Tracef(f string, v ...any) {}
