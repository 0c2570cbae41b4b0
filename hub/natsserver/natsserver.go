// Package natsserver runs the NATS server the hub embeds when no external
// NATS is configured: JetStream on a file store under the data directory,
// synced on every write, and a client listener for outlets that admits
// nobody without credentials. The hub itself talks to it in-process.
package natsserver

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/bcrypt"
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
	srv         *server.Server
	hubUser     string
	hubPassword string

	mu      sync.Mutex
	opts    *server.Options
	hubAuth *server.User
	hashes  map[string]string // password -> bcrypt hash, so a reload does not rehash
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
	s := &Server{hubUser: "hub", hubPassword: password, hashes: map[string]string{}}
	// The server keeps only a bcrypt hash, as it would from a config file.
	hashed, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return nil, fmt.Errorf("hash NATS password: %w", err)
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
		// The hub's own user; its password lives only in this process.
		// Outlets get users of their own, each limited to its consumer.
		Users:      []*server.User{{Username: s.hubUser, Password: string(hashed)}},
		NoSigs:     true,
		MaxPayload: 8 << 20,
	}
	s.opts, s.hubAuth = so, so.Users[0]
	srv, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("configure embedded NATS: %w", err)
	}
	if opts.Logger != nil {
		srv.SetLoggerV2(slogAdapter{opts.Logger.With("component", "nats")}, false, false, false)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded NATS did not become ready (listen %s, store %s)", opts.Listen, opts.StoreDir)
	}
	s.srv = srv
	return s, nil
}

func randomSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make NATS password: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// SetClientUsers replaces the outlets' users with users, reloading the
// server's authorization: connections of users no longer listed are
// closed, the others get their new permissions.
func (s *Server) SetClientUsers(users []ClientUser) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := *s.opts
	next.Users = []*server.User{s.hubAuth}
	for _, u := range users {
		hash, ok := s.hashes[u.Password]
		if !ok {
			b, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.MinCost)
			if err != nil {
				return fmt.Errorf("hash password of %s: %w", u.Name, err)
			}
			hash = string(b)
			s.hashes[u.Password] = hash
		}
		next.Users = append(next.Users, &server.User{
			Username: u.Name, Password: hash,
			Permissions: &server.Permissions{
				Publish:   &server.SubjectPermission{Allow: u.Publish},
				Subscribe: &server.SubjectPermission{Allow: u.Subscribe},
			},
		})
	}
	if err := s.srv.ReloadOptions(&next); err != nil {
		return fmt.Errorf("reload NATS users: %w", err)
	}
	s.opts = &next
	return nil
}

// Connect opens an in-process connection as the hub's own user.
func (s *Server) Connect(name string, opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{
		nats.Name(name),
		nats.InProcessServer(s.srv),
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
func (s *Server) ClientURL() string { return s.srv.ClientURL() }

// Shutdown stops the server and waits until it has.
func (s *Server) Shutdown() {
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}

// slogAdapter routes the server's log lines to slog.
type slogAdapter struct{ log *slog.Logger }

func (a slogAdapter) Noticef(f string, v ...any) { a.log.Debug(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Warnf(f string, v ...any)   { a.log.Warn(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Fatalf(f string, v ...any)  { a.log.Error(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Errorf(f string, v ...any)  { a.log.Error(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Debugf(f string, v ...any)  { a.log.Debug(fmt.Sprintf(f, v...)) }
func (a slogAdapter) Tracef(f string, v ...any)  {}
