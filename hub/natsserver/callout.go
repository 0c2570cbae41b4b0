package natsserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// AuthCalloutSubject is where a NATS server with auth_callout asks who a
// connecting client is.
const AuthCalloutSubject = "$SYS.REQ.USER.AUTH"

// calloutQueue is the queue group every replica answers callouts in, so
// each request is answered once.
const calloutQueue = "hub-auth-callout"

// CalloutOptions configures the auth callout responder.
type CalloutOptions struct {
	// IssuerSeed is the seed of the account nkey the server's
	// auth_callout names as issuer; the responder signs with it.
	IssuerSeed []byte
	// MaxLifetime caps each user JWT's lifetime (and so how long a
	// connection made with a key revoked since stays up); 0 means
	// DefaultCalloutLifetime. A client reconnects at the end and is asked
	// about again.
	MaxLifetime time.Duration
	Logger      *slog.Logger
}

// DefaultCalloutLifetime is how long a user JWT from the callout lives
// at most. The replica that admitted a connection closes it when its key
// lapses (Kick); this bounds it when that replica is gone or the cluster
// does not lend the hub the kick service. Each end is a reconnect, and a
// delivery made in that moment waits for the ack timeout, so not shorter.
const DefaultCalloutLifetime = 15 * time.Minute

// Callout answers an external NATS server's auth callout requests by the
// same Authorizer the embedded server uses, and closes the connections it
// admitted when asked (Kick).
type Callout struct {
	nc  *nats.Conn
	sub *nats.Subscription
	log *slog.Logger

	mu    sync.Mutex
	conns map[string][]clientRef // connections admitted, by grant
}

// clientRef is one client connection on one server of a cluster.
type clientRef struct {
	server string
	cid    uint64
}

// ServeCallout subscribes nc (a user the server's auth_callout lists in
// auth_users) to callout requests, answering each with a user JWT for the
// grant authorizer makes, or an error. Stop ends it.
func ServeCallout(nc *nats.Conn, authorizer Authorizer, opts CalloutOptions) (*Callout, error) {
	kp, err := nkeys.FromSeed(opts.IssuerSeed)
	if err != nil {
		return nil, fmt.Errorf("auth callout issuer seed: %w", err)
	}
	if pub, err := kp.PublicKey(); err != nil || !nkeys.IsValidPublicAccountKey(pub) {
		return nil, errors.New("the auth callout issuer seed must be an account nkey seed (SA...)")
	}
	if opts.MaxLifetime <= 0 {
		opts.MaxLifetime = DefaultCalloutLifetime
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Callout{nc: nc, log: opts.Logger, conns: map[string][]clientRef{}}
	sub, err := nc.QueueSubscribe(AuthCalloutSubject, calloutQueue, func(m *nats.Msg) {
		resp, err := c.answer(m.Data, kp, authorizer, opts)
		if err != nil {
			opts.Logger.Warn("NATS auth callout", "err", err)
			return // the server times out and refuses the client
		}
		if err := m.Respond(resp); err != nil {
			opts.Logger.Warn("NATS auth callout answer", "err", err)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", AuthCalloutSubject, err)
	}
	c.sub = sub
	return c, nil
}

// kickSubject asks one server of the cluster to close a client
// connection; the operator's config lends it to the hub's account from
// the system account (deploy/nats/hub-single.conf).
const kickSubject = "$SYS.REQ.SERVER.%s.KICK"

// Kick closes every connection this responder admitted under grant id.
// Where the cluster does not lend the hub the kick service, the request
// fails (logged) and the connection lasts until its user JWT ends.
func (c *Callout) Kick(id string) {
	c.mu.Lock()
	refs := c.conns[id]
	delete(c.conns, id)
	c.mu.Unlock()
	for _, r := range refs {
		body, _ := json.Marshal(map[string]uint64{"cid": r.cid})
		if _, err := c.nc.Request(fmt.Sprintf(kickSubject, r.server), body, authTimeout); err != nil {
			c.log.Warn("close a NATS connection of a lapsed key", "grant", id, "server", r.server, "cid", r.cid, "err", err)
		}
	}
}

// Stop ends answering callouts.
func (c *Callout) Stop() error { return c.sub.Unsubscribe() }

func (c *Callout) answer(data []byte, kp nkeys.KeyPair, authorizer Authorizer, opts CalloutOptions) ([]byte, error) {
	req, err := jwt.DecodeAuthorizationRequestClaims(string(data))
	if err != nil {
		return nil, fmt.Errorf("decode request: %w", err)
	}
	respond := func(userJWT, denied string) ([]byte, error) {
		rc := jwt.NewAuthorizationResponseClaims(req.UserNkey)
		rc.Audience = req.Server.ID
		rc.Jwt, rc.Error = userJWT, denied
		tok, err := rc.Encode(kp)
		if err != nil {
			return nil, fmt.Errorf("sign response: %w", err)
		}
		return []byte(tok), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), authTimeout)
	defer cancel()
	co := req.ConnectOptions
	g, err := authorizer.AuthorizeNATS(ctx, co.Username, co.Password)
	if err != nil {
		// The client learns only that it was refused; the server logs this.
		return respond("", "not authorized")
	}
	uc := jwt.NewUserClaims(req.UserNkey)
	uc.Name = co.Username
	// Outside operator mode the audience names the account the user
	// lands in.
	uc.Audience = g.Account
	uc.Pub.Allow.Add(g.Publish...)
	uc.Sub.Allow.Add(g.Subscribe...)
	exp := time.Now().Add(opts.MaxLifetime)
	if !g.Expires.IsZero() && g.Expires.Before(exp) {
		exp = g.Expires
	}
	uc.Expires = exp.Unix()
	ujwt, err := uc.Encode(kp)
	if err != nil {
		return nil, fmt.Errorf("sign user JWT: %w", err)
	}
	c.mu.Lock()
	// Recent connections only: an outlet keeps one or two open, and ids
	// of closed ones just cost a no-op kick later.
	refs := append(c.conns[g.ID], clientRef{server: req.Server.ID, cid: req.ClientInformation.ID})
	c.conns[g.ID] = refs[max(0, len(refs)-32):]
	c.mu.Unlock()
	return respond(ujwt, "")
}
