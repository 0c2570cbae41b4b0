package natstest

import (
	"bytes"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Relay is a TCP relay on loopback between NATS clients and a server (an
// External one), passing bytes unchanged until it is told to lose one
// publish (LoseNext): the way to make a write's outcome unknown to its
// writer at a chosen point, which stopping the server alone cannot aim.
type Relay struct {
	ln       net.Listener
	upstream string

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	trap  *trap
	done  bool
}

// trap is an armed LoseNext.
type trap struct {
	marker  []byte
	deliver bool
	sprung  chan struct{}
}

// NewRelay relays to the server at serverURL (nats://host:port) until the
// test ends.
func NewRelay(tb testing.TB, serverURL string) *Relay {
	tb.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		tb.Fatalf("relay: parse %s: %v", serverURL, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("relay: listen: %v", err)
	}
	r := &Relay{ln: ln, upstream: u.Host, conns: map[net.Conn]struct{}{}}
	var wg sync.WaitGroup
	wg.Go(func() { r.accept(&wg) })
	tb.Cleanup(func() {
		r.mu.Lock()
		r.done = true
		for c := range r.conns {
			c.Close()
		}
		r.mu.Unlock()
		ln.Close()
		wg.Wait()
	})
	return r
}

// URL is the relay's client URL.
func (r *Relay) URL() string { return "nats://" + r.ln.Addr().String() }

// LoseNext arms the relay for the next publish a client sends on a subject
// starting with subject (such as "$KV.hub_packages."). With deliver, the
// publish reaches the server, which stores it, and its answer is lost;
// without, the publish itself is lost. Either way that connection then
// passes no byte either way (a connection gone dead mid-write) until the
// server closes it, as stopping the server does. The channel is closed
// once the publish has been met.
func (r *Relay) LoseNext(subject string, deliver bool) <-chan struct{} {
	t := &trap{marker: []byte("PUB " + subject), deliver: deliver, sprung: make(chan struct{})}
	r.mu.Lock()
	r.trap = t
	r.mu.Unlock()
	return t.sprung
}

func (r *Relay) accept(wg *sync.WaitGroup) {
	for {
		client, err := r.ln.Accept()
		if err != nil {
			return // closed at the test's end
		}
		server, err := net.Dial("tcp", r.upstream)
		if err != nil {
			client.Close() // the server is stopped: the client retries
			continue
		}
		r.mu.Lock()
		if r.done {
			r.mu.Unlock()
			client.Close()
			server.Close()
			return
		}
		r.conns[client], r.conns[server] = struct{}{}, struct{}{}
		r.mu.Unlock()
		p := &pair{relay: r, client: client, server: server}
		wg.Go(p.fromClient)
		wg.Go(p.fromServer)
	}
}

// pair is one relayed connection.
type pair struct {
	relay          *Relay
	client, server net.Conn

	mu   sync.Mutex
	dead bool // a LoseNext met it: nothing passes any more
}

func (p *pair) isDead() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dead
}

func (p *pair) close() {
	p.client.Close()
	p.server.Close()
	p.relay.mu.Lock()
	delete(p.relay.conns, p.client)
	delete(p.relay.conns, p.server)
	p.relay.mu.Unlock()
}

// fromClient copies what the client sends, looking for an armed trap's
// publish (also across two reads: tail keeps the end of the last one).
func (p *pair) fromClient() {
	defer p.close()
	buf := make([]byte, 32<<10)
	var tail []byte
	for {
		n, err := p.client.Read(buf)
		if n > 0 && !p.isDead() {
			chunk := buf[:n]
			p.relay.mu.Lock()
			t := p.relay.trap
			hit := t != nil && bytes.Contains(append(tail, chunk...), t.marker)
			if hit {
				p.relay.trap = nil
			}
			p.relay.mu.Unlock()
			if hit {
				if t.deliver {
					if _, werr := p.server.Write(chunk); werr != nil {
						return
					}
				}
				p.mu.Lock()
				p.dead = true
				p.mu.Unlock()
				close(t.sprung)
			} else if _, werr := p.server.Write(chunk); werr != nil {
				return
			}
			if t != nil {
				keep := min(len(t.marker)-1, len(chunk))
				tail = append(tail[:0], chunk[len(chunk)-keep:]...)
			}
		}
		if err != nil {
			return
		}
	}
}

// fromServer copies what the server sends, unless the pair is dead; the
// server closing ends the pair, so its client reconnects.
func (p *pair) fromServer() {
	defer p.close()
	buf := make([]byte, 32<<10)
	for {
		n, err := p.server.Read(buf)
		if n > 0 && !p.isDead() {
			if _, werr := p.client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
