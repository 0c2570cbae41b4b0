// Package natsserver runs the NATS server the hub embeds when no external
// NATS is configured: JetStream on a file store under the data directory,
// synced on every write, and a client listener for outlets that admits
// nobody without credentials. The hub itself talks to it in-process, in
// the account that owns JetStream; every outlet's connection lands in an
// account of its own that imports only that outlet's consumer, so no
// reply subject an outlet chooses can reach the hub's JetStream API.
package natsserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
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
	// InProcessOnly opens no client listener: only in-process connections
	// reach the server (hub backup and hub migrate read a stopped hub's
	// store so, where no outlet can connect meanwhile).
	InProcessOnly bool
	Logger        *slog.Logger
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
	lock        *os.File               // held while the server runs: one process per store
	hubUser     string
	hubPassword string

	// authorizer decides on every other user; until it is set (the hub's
	// domain starts after NATS) nobody else gets in.
	mu         sync.Mutex
	authorizer Authorizer
	conns      map[string][]uint64 // client connection ids by grant, to close them when a grant lapses
	imported   map[string]bool     // "<account> <subject>" imports made, as accounts cannot be removed
}

// Start runs the server and waits until it accepts connections.
func Start(opts Options) (*Server, error) {
	host, port := "", 0
	if !opts.InProcessOnly {
		var portStr string
		var err error
		if host, portStr, err = net.SplitHostPort(opts.Listen); err != nil {
			return nil, fmt.Errorf("NATS listen address %q: %w", opts.Listen, err)
		}
		if port, err = strconv.Atoi(portStr); err != nil {
			return nil, fmt.Errorf("NATS listen port %q: %w", portStr, err)
		}
		if port == 0 {
			port = server.RANDOM_PORT
		}
	}
	password, err := randomSecret()
	if err != nil {
		return nil, err
	}
	s := &Server{hubUser: "hub", hubPassword: password, conns: map[string][]uint64{}, imported: map[string]bool{}}
	// NATS does not stop a second server from opening the same store, and
	// two would corrupt it: a hub and a `hub backup` on one data dir.
	if s.lock, err = lockStore(opts.StoreDir); err != nil {
		return nil, err
	}
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
		// partners' users, each in an account of its own (see authorize).
		CustomClientAuthentication: authenticator{s},
		NoSigs:                     true,
		MaxPayload:                 8 << 20,
		DontListen:                 opts.InProcessOnly,
	}
	s.opts, s.log = *so, opts.Logger
	srv, err := s.start()
	if err != nil {
		s.lock.Close()
		return nil, err
	}
	s.srv = srv
	if !opts.InProcessOnly {
		// A restart must come back on the port picked now.
		s.opts.Port = srv.Addr().(*net.TCPAddr).Port
	}
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
	// Partners' accounts and their imports lived in the old server: they
	// are made again as each partner connects.
	s.mu.Lock()
	clear(s.imported)
	s.mu.Unlock()
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

// SetAuthorizer makes a decide on every connection other than the hub's
// own from now on.
func (s *Server) SetAuthorizer(a Authorizer) {
	s.mu.Lock()
	s.authorizer = a
	s.mu.Unlock()
}

// authenticator admits the hub's own user with every permission in the
// account that owns JetStream ($G: JetStream keeps each account's files
// in a folder of its own, so moving the hub would orphan its data), and
// whoever the Authorizer grants, in the grant's account; nobody else.
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
	authorizer := a.s.authorizer
	a.s.mu.Unlock()
	if authorizer == nil || o.Username == "" || o.Password == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), authTimeout)
	defer cancel()
	g, err := authorizer.AuthorizeNATS(ctx, o.Username, o.Password)
	if err != nil {
		return false
	}
	acc, err := a.s.account(g)
	if err != nil {
		a.s.current().Warnf("NATS account for %s: %v", g.ID, err)
		return false
	}
	u := &server.User{
		Username: o.Username,
		Account:  acc,
		// Per-user permissions apply inside the account too: the account
		// bounds what exists, these what this user may touch.
		Permissions: &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: g.Publish},
			Subscribe: &server.SubjectPermission{Allow: g.Subscribe},
		},
	}
	if !g.Expires.IsZero() {
		if !time.Now().Before(g.Expires) {
			return false
		}
		// The server closes the connection when the credential expires.
		u.ConnectionDeadline = g.Expires
	}
	a.s.mu.Lock()
	// Remember recent connections only: an outlet keeps one or two open,
	// and ids of closed ones just cost a no-op kick later.
	ids := append(a.s.conns[g.ID], c.GetID())
	a.s.conns[g.ID] = ids[max(0, len(ids)-32):]
	a.s.mu.Unlock()
	c.RegisterUser(u)
	return true
}

// authTimeout bounds one connection's authorization: the client waits
// for it, and the server's own auth timeout is 2 s.
const authTimeout = 2 * time.Second

// account returns g's account, registered (never with JetStream) on
// first use, with g's imports from the hub's account. Accounts cannot be
// removed from a running server, so each is registered once and kept;
// a lapsed grant is refused by the Authorizer instead.
func (s *Server) account(g Grant) (*server.Account, error) {
	if g.Account == "" || g.Account == server.DEFAULT_GLOBAL_ACCOUNT {
		return nil, fmt.Errorf("grant %s names no account of its own", g.ID)
	}
	srv := s.current()
	acc, _ := srv.LookupOrRegisterAccount(g.Account)
	hubAcc := srv.GlobalAccount()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, imp := range g.Imports {
		key := g.Account + " " + imp.Subject
		if s.imported[key] {
			continue
		}
		typ := server.Singleton
		if imp.Streamed {
			typ = server.Streamed
		}
		// Exported to this one account only, under the same name, so a
		// partner's client needs no API prefix.
		if err := hubAcc.AddServiceExportWithResponse(imp.Subject, typ, []*server.Account{acc}); err != nil {
			return nil, fmt.Errorf("export %s to %s: %w", imp.Subject, g.Account, err)
		}
		if imp.Streamed {
			// The response mapping must outlive the longest pull request,
			// or messages of a long fetch would be dropped on the way back.
			if err := hubAcc.SetServiceExportResponseThreshold(imp.Subject, ResponseThreshold); err != nil {
				return nil, fmt.Errorf("response threshold of %s: %w", imp.Subject, err)
			}
		}
		if err := acc.AddServiceImport(hubAcc, imp.Subject, imp.Subject); err != nil {
			return nil, fmt.Errorf("import %s into %s: %w", imp.Subject, g.Account, err)
		}
		s.imported[key] = true
	}
	return acc, nil
}

// ResponseThreshold is how long a streamed export's response mapping
// lives: above the longest pull expiry clients use (nats.go's default is
// 30 s, hub pull's heartbeated pulls far less).
const ResponseThreshold = 10 * time.Minute

// Kick closes every connection made under grant id; their clients
// reconnect (or not) under the rules of the moment.
func (s *Server) Kick(id string) {
	s.mu.Lock()
	ids := s.conns[id]
	delete(s.conns, id)
	s.mu.Unlock()
	for _, c := range ids {
		// An id of a connection that has closed since is no error here.
		_ = s.current().DisconnectClientByID(c)
	}
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
	s.lock.Close() // releases the store's lock
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
