package natsserver

import (
	"context"
	"time"
)

// Grant is what one connection may do, as an Authorizer decided: the
// account it lands in, the services that account imports from the hub's
// account, the subjects the user may publish to and subscribe on, and
// when the connection must end. The embedded server and the auth callout
// responder for an external cluster both apply grants.
type Grant struct {
	// ID names what the grant came from (one secret of a key):
	// connections are closed by it when it lapses.
	ID      string
	Account string
	Imports []Import
	// Publish and Subscribe are the user's permissions inside Account.
	Publish   []string
	Subscribe []string
	// Expires ends the connection; zero for never.
	Expires time.Time
}

// Import is one service the hub's account exports to a grant's account,
// imported there under the same subject.
type Import struct {
	Subject string
	// Streamed marks a service that answers one request with many
	// messages (a consumer's MSG.NEXT): a singleton response would carry
	// one message of a fetch back and leave the rest unacked.
	Streamed bool
}

// Authorizer decides on a connection from its user name and password.
// An error refuses it.
type Authorizer interface {
	AuthorizeNATS(ctx context.Context, user, password string) (Grant, error)
}
