package hub

import (
	"context"
	"time"
)

// IdempotencyTTL is how long the outcome of a create sent with an
// Idempotency-Key is kept: a producer's retry after a crash, a timeout or
// an outage of a day still meets the first result.
const IdempotencyTTL = 24 * time.Hour

// IdempotentRequest is the record of one create sent with an
// Idempotency-Key: begun (Done false) while it runs, then its answer.
type IdempotentRequest struct {
	// Request is the SHA-256 of the method, path and body: a retry must
	// send the same, or it is a different request reusing the key.
	Request string    `json:"request"`
	Started time.Time `json:"started"`
	// ID, for a create that makes its thing under an id chosen ahead (a
	// package: CreatePackageAs), is that id, reserved in the record before
	// the create is first tried. Every try makes it under this id, so at
	// most one is made; a retry after a try whose outcome is unknown finds
	// it there, or makes it. Only a try known not to have made it may
	// release the reservation (delete the record).
	ID   string `json:"id,omitempty"`
	Done bool   `json:"done,omitempty"`
	// Status, Header and Body are the first answer, replayed to retries.
	Status int               `json:"status,omitempty"`
	Header map[string]string `json:"header,omitempty"`
	Body   []byte            `json:"body,omitempty"`
	// SecretShown, instead of an answer, is the id of what a create made
	// whose answer showed a secret once (an API key, a webhook): the
	// secret is not kept, and a retry is told what was created.
	SecretShown string `json:"secretshown,omitempty"`
}

// IdempotencyStore keeps IdempotentRequests for IdempotencyTTL, under a
// revision check, so two replicas racing on one key run the create once.
type IdempotencyStore interface {
	// IdempotentRequest returns the record under key and its revision.
	// Returns ENOTFOUND.
	IdempotentRequest(ctx context.Context, key string) (*IdempotentRequest, uint64, error)

	// PutIdempotentRequest writes r under key if the record is still at
	// revision prev (0: there is none), and returns the new revision.
	// Returns ECONFLICT when someone wrote it first, EUNAVAILABLE when
	// NATS does not answer.
	PutIdempotentRequest(ctx context.Context, key string, r *IdempotentRequest, prev uint64) (uint64, error)

	// DeleteIdempotentRequest removes the record at revision prev, so a
	// retry runs the request again (and the id it reserved is let go). A
	// record already gone, or moved past prev, is no error.
	DeleteIdempotentRequest(ctx context.Context, key string, prev uint64) error
}
