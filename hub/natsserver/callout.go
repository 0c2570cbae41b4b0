package natsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
// at most: an external cluster's connections cannot be closed by the hub,
// so this bounds a revoked key's live connection there.
const DefaultCalloutLifetime = time.Minute

// Callout answers an external NATS server's auth callout requests by the
// same Authorizer the embedded server uses.
type Callout struct {
	sub *nats.Subscription
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
	sub, err := nc.QueueSubscribe(AuthCalloutSubject, calloutQueue, func(m *nats.Msg) {
		resp, err := answerCallout(m.Data, kp, authorizer, opts)
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
	return &Callout{sub: sub}, nil
}

// Stop ends answering callouts.
func (c *Callout) Stop() error { return c.sub.Unsubscribe() }

func answerCallout(data []byte, kp nkeys.KeyPair, authorizer Authorizer, opts CalloutOptions) ([]byte, error) {
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
	return respond(ujwt, "")
}
