// Package hub is the syndication hub's domain: packages of campaign media,
// their assets, the keys callers present, and the rules that decide who may
// see and change what. Drivers for storage and transport live in
// subpackages; this package imports none of them.
package hub

import (
	"errors"
	"fmt"
)

// Error codes. Only the HTTP layer maps them to statuses, in one table.
const (
	EINVALID      = "invalid"      // the request is malformed or breaks a rule
	EUNAUTHORIZED = "unauthorized" // no key, or a key the hub does not accept
	EFORBIDDEN    = "forbidden"    // the key is valid but its role may not do this
	ENOTFOUND     = "not_found"    // absent, or not visible to the caller
	ECONFLICT     = "conflict"     // the state changed under the caller
	ETOOLARGE     = "too_large"    // over a configured size limit
	EUNSUPPORTED  = "unsupported"  // a content type the asset kind does not allow
	ECANCELED     = "canceled"     // the caller went away mid-request
	ETIMEOUT      = "timeout"      // the caller sent nothing for too long
	ELIMITED      = "rate_limited" // the caller sent more than its share; try again later
	EUNAVAILABLE  = "unavailable"  // a dependency (NATS, storage) is not answering; try again later
	EFULL         = "storage_full" // a disk or store has no space left for the write
	EMISDIRECTED  = "misdirected"  // the request reached a replica that does not hold what it names
	EINTERNAL     = "internal"     // a bug or an unexpected failure
)

// Error is a domain error: a code the transport maps to a status, and a
// message written for the person who made the request.
type Error struct {
	Code    string
	Message string
	// Field names the field of the request the error is about, where one
	// is ("url" of a republication report), so that a form can say which
	// of its inputs to fix; "" otherwise.
	Field string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// fieldErrorf returns an EINVALID *Error about the request's field field.
func fieldErrorf(field, format string, args ...any) *Error {
	e := Errorf(EINVALID, format, args...)
	e.Field = field
	return e
}

// ErrorField returns the field the first *Error in err's chain is about,
// "" when it names none.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the person-readable message of the first *Error in
// err's chain, or a generic sentence for internal errors, whose details
// belong in the log and not in a response.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "The hub hit an internal error; it has been logged."
}

// Unconfirmed marks err as the failure of a write whose outcome is not
// known: NATS confirmed it neither way, so it may have been stored all the
// same. What holds a retry's place (an Idempotency-Key's record, with the
// id it reserved) must then be kept, so the retry finds what landed
// instead of making it again.
func Unconfirmed(err error) error { return &unconfirmed{err} }

// IsUnconfirmed reports whether err's chain holds an Unconfirmed failure.
func IsUnconfirmed(err error) bool {
	var u *unconfirmed
	return errors.As(err, &u)
}

type unconfirmed struct{ err error }

func (e *unconfirmed) Error() string { return e.err.Error() }
func (e *unconfirmed) Unwrap() error { return e.err }
