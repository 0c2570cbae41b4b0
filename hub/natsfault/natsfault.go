// Package natsfault tells what a NATS or JetStream failure means to the
// person who asked, in the domain's error codes: EUNAVAILABLE (a 503 with
// Retry-After) when NATS does not answer, EFULL (a 507) when JetStream's
// disk has no room. The catalog's buckets and the publisher's streams
// (releases, pickups, audit, webhooks) classify through it, so every path
// answers a fault alike and in the same words.
//
// It knows the NATS client and the domain's errors, and nothing of the
// server or of any one bucket or stream.
package natsfault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
)

// JetStream error codes (nats-server's ErrorIdentifier) that mean its
// store has no room, or that JetStream is off.
const (
	JSInsufficientResources    = 10023
	JSStorageResourcesExceeded = 10047
	JSNotEnabled               = 10076
	JSNotEnabledForAccount     = 10039
)

// SettleFor bounds how long a write whose outcome is unknown is retried
// before the caller is told so; NATS coming back after a reconnect (2 s
// apart) or a leader election fits well within it.
const SettleFor = 10 * time.Second

// SettleEvery is the pause between two attempts to settle a write.
const SettleEvery = 250 * time.Millisecond

// Classify turns NATS failures into domain errors, so every path answers
// alike: EFULL when JetStream's disk has no room, EUNAVAILABLE when NATS
// does not answer (no connection, no responders, a timeout, JetStream
// switched off). Conflicts, absent keys, the caller's own
// cancellation, domain errors and anything else pass through unchanged,
// for the callers that test them. write says whether the sentence may
// say nothing was changed: true only where a failed write is known not to
// have been stored (a write whose outcome is unknown goes through
// PublishFailed or PublishOnce instead).
//
// storeFailed, when not nil, tells of the embedded server's file store
// failing a write (a full disk): JetStream does not answer such a write at
// all, so the timeout is answered as EFULL.
func Classify(ctx context.Context, err error, write bool, storeFailed func() string) error {
	if err == nil || Conflict(err) || Missing(err) {
		return err
	}
	var herr *hub.Error
	if errors.As(err, &herr) {
		return err
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return err
	}
	after := ""
	if write {
		after = "; nothing was changed"
	}
	switch {
	case DiskFull(err), write && NotAnswering(err) && failed(storeFailed):
		return NoRoom(after, err)
	case NotAnswering(err):
		return fmt.Errorf("%w: %w", hub.Errorf(hub.EUNAVAILABLE,
			"NATS is not answering%s; try again in a minute", after), err)
	}
	return err
}

// failed reports whether the embedded server's file store has failed a
// write (see Classify).
func failed(storeFailed func() string) bool { return storeFailed != nil && storeFailed() != "" }

// NoRoom is the EFULL answer for JetStream's disk being full; after says
// what became of the write ("; nothing was changed"), if anything.
func NoRoom(after string, err error) error {
	return fmt.Errorf("%w: %w", hub.Errorf(hub.EFULL,
		"NATS JetStream has no room left on its disk%s; free space there and try again", after), err)
}

// NotSaved is the EUNAVAILABLE answer for a write of what ("package
// 01H…", "the republication report") that is known not to have been
// stored.
func NotSaved(what string, err error) error {
	return fmt.Errorf("%w: %w", hub.Errorf(hub.EUNAVAILABLE,
		"NATS is not answering, so %s was not saved; try again in a moment", what), err)
}

// Unconfirmed is the EUNAVAILABLE answer for a write of what that NATS
// may or may not have stored: it is never reported as failed, since it
// may have happened. advice says what the caller should do about it.
func Unconfirmed(what, advice string, err error) error {
	return hub.Unconfirmed(fmt.Errorf("%w: %w", hub.Errorf(hub.EUNAVAILABLE,
		"NATS did not confirm whether %s was saved; %s", what, advice), err))
}

// Conflict reports whether err is JetStream refusing a revision-checked
// write because the key or subject moved on.
func Conflict(err error) bool {
	var api *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) ||
		errors.As(err, &api) && api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// Missing reports whether err is a bucket saying a key is not there.
func Missing(err error) bool {
	return errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted)
}

// DiskFull reports whether err is JetStream saying its store is full.
func DiskFull(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case JSInsufficientResources, JSStorageResourcesExceeded:
			return true
		}
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "no space left") || strings.Contains(msg, "insufficient resources") ||
		strings.Contains(msg, "insufficient storage") || strings.Contains(msg, "disk quota")
}

// NotAnswering reports whether err means NATS (or its JetStream) did not
// answer.
func NotAnswering(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.ErrorCode == JSNotEnabled, apiErr.ErrorCode == JSNotEnabledForAccount, apiErr.Code == 503:
			return true
		}
	}
	for _, target := range []error{
		context.DeadlineExceeded, nats.ErrTimeout, nats.ErrNoResponders, nats.ErrConnectionClosed,
		// The hub's connection buffers nothing while it reconnects.
		nats.ErrReconnectBufExceeded,
		nats.ErrConnectionDraining, nats.ErrDisconnected, nats.ErrConnectionReconnecting, nats.ErrNoServers,
		nats.ErrJetStreamNotEnabled, nats.ErrJetStreamNotEnabledForAccount,
		jetstream.ErrJetStreamNotEnabled, jetstream.ErrJetStreamNotEnabledForAccount, jetstream.ErrNoStreamResponse,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// NotSent reports whether err proves the write never reached a stream: the
// connection refused to buffer it (the hub's connection buffers nothing
// while reconnecting) or is draining, or nothing listened on the subject.
// A closed connection is not among them: a request in flight when it
// closes fails the same way as one never sent.
func NotSent(err error) bool {
	return errors.Is(err, nats.ErrReconnectBufExceeded) || errors.Is(err, nats.ErrConnectionDraining) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse)
}

// refused reports whether err is JetStream's own answer to a publish (a
// wrong stream, a message too large, no room), so the message was not
// stored; a 503 is no answer of the stream's (no responders, JetStream
// off).
func refused(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && !NotAnswering(err)
}

// unsure reports whether a publish that failed with err may have been
// stored: it may have reached the stream, and no answer came back.
func unsure(err error) bool {
	return !NotSent(err) && !refused(err) && (NotAnswering(err) || errors.Is(err, context.Canceled))
}

// unsureAdvice is what a caller is told to do when a publish stays
// unconfirmed.
const unsureAdvice = "it may appear once NATS answers again, so look before sending it again"

// PublishFailed classifies the error of one publish of what that is not
// retried here (the caller retries, or the write is best effort): NotSaved
// when it never reached NATS, EFULL when JetStream has no room (or the
// embedded store failed, see Classify), Unconfirmed when NATS did not
// answer, since the message may have been stored; anything else, the
// caller's own cancellation included, passes through unchanged.
func PublishFailed(ctx context.Context, err error, what string, storeFailed func() string) error {
	var herr *hub.Error
	switch {
	case err == nil, errors.As(err, &herr):
		return err
	case NotSent(err):
		return NotSaved(what, err)
	case DiskFull(err):
		return NoRoom("; nothing was changed", err)
	case refused(err):
		return err
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return err // the caller went away; nobody reads the sentence
	case NotAnswering(err) && failed(storeFailed):
		// The embedded file store failed a write and answers none: this
		// one was not stored either.
		return NoRoom("; nothing was changed", err)
	case NotAnswering(err):
		return Unconfirmed(what, unsureAdvice, err)
	}
	return err
}

// PublishOnce publishes m with Nats-Msg-Id msgID and waits for the
// stream's ack, answering only with what is known to have happened, so a
// write is never reported failed and then found done. what names the
// message in sentences ("the republication report").
//
// A publish that failed before reaching NATS, that JetStream refused, or
// that met a failed embedded store is answered at once (PublishFailed).
// Any other failure (a timeout, a connection broken mid-publish, an ack
// lost in a leader change or on a slow disk, the caller going away) may
// have been stored, so the same message is sent again until it settles,
// for at most SettleFor. Retrying is safe because of the message id:
// JetStream stores one message per Nats-Msg-Id within the stream's
// duplicate window, which must be longer than SettleFor, and answers the
// retry of one it stored with a duplicate ack. Still unsettled, the
// answer is Unconfirmed, never a failure. opts must not expect a last
// sequence: a retry would meet its own first landing as a conflict.
func PublishOnce(ctx context.Context, js jetstream.JetStream, m *nats.Msg, msgID, what string, storeFailed func() string, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	if msgID == "" {
		return nil, fmt.Errorf("publish %s: no message id, so a retry could store it twice", what)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("publish %s: %w", what, err) // nothing sent
	}
	opts = append(opts[:len(opts):len(opts)], jetstream.WithMsgID(msgID))
	ack, err := js.PublishMsg(ctx, m, opts...)
	if err == nil {
		return ack, nil
	}
	if !unsure(err) || failed(storeFailed) {
		return nil, PublishFailed(ctx, err, what, storeFailed)
	}
	first := err
	// The caller may have gone; the answer still decides what a retry
	// meets, so settle regardless, within a bound.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), SettleFor)
	defer cancel()
	for {
		select {
		case <-sctx.Done():
			return nil, Unconfirmed(what, unsureAdvice, first)
		case <-time.After(SettleEvery):
		}
		actx, acancel := context.WithTimeout(sctx, 2*time.Second)
		ack, err := js.PublishMsg(actx, m, opts...)
		acancel()
		switch {
		case err == nil:
			return ack, nil // ours, or the duplicate ack of the first one
		case refused(err):
			// A stored first attempt would have been answered with a
			// duplicate ack before any refusal for room, and what is
			// checked before the id (the expected stream, the size) is
			// the same for both: the first did not land either. (Not so
			// for an expected last sequence, which PublishOnce's callers
			// do not set.)
			return nil, PublishFailed(ctx, err, what, storeFailed)
		}
	}
}
