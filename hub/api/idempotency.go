package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// IdempotencyKeyHeader names the header a create may carry so that a retry
// (after a timeout, a 503, a crash of the client) returns the first
// result instead of creating again.
const IdempotencyKeyHeader = "Idempotency-Key"

// idempotentReplayedHeader marks an answer replayed from the first request.
const idempotentReplayedHeader = "Idempotent-Replayed"

// idempotencyTakeover is how long a begun request blocks retries of its
// key; past it the request is taken for dead (its replica crashed) and a
// retry runs it again. A request still running settles its writes within
// seconds (hub/catalog's settle), far below it.
const idempotencyTakeover = 2 * time.Minute

// maxIdempotencyKey bounds the header's length.
const maxIdempotencyKey = 255

// idempotent makes a create route honour Idempotency-Key. The first
// request with a key (per caller key and route) records that it began,
// under a revision check, so of two replicas racing on one key one runs
// the create and the other answers 409; its answer is then recorded for
// hub.IdempotencyTTL and replayed, same status, headers and body, to
// every retry with the same body. The same key with another body is a 409
// saying so. An answer of 5xx, 408 or 429 is not recorded: nothing was
// created, so a retry runs again.
func (a *API) idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return a.idempotency(next, idempotencyMode{})
}

// idempotentSecret is idempotent for creates whose answer shows a secret
// once (an API key, a webhook's signing secret): the secret must not wait
// in NATS for a day, so only the created id is kept, and a retry is a 409
// naming it.
func (a *API) idempotentSecret(next echo.HandlerFunc) echo.HandlerFunc {
	return a.idempotency(next, idempotencyMode{secret: true})
}

// idempotentAs is idempotent for a create that makes its thing under an id
// chosen ahead (a package: hub.Service.CreatePackageAs). The record
// reserves one (newID) before the create is first tried, and the handler
// creates under it (reservedID). So the outcome of a try may stay unknown
// (NATS did not confirm its write, hub.IsUnconfirmed) without a retry
// making a second thing: the record is kept, and a retry with the same
// key and body, while a try still runs or after, tries again under the
// same id, which finds what landed (answered as the first answer would
// have been, with Idempotent-Replayed) or makes it. Only the request that
// reserved the id, its create known not to have happened, and no other
// try come by since, deletes the record and lets the id go.
func (a *API) idempotentAs(newID func() string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return a.idempotency(next, idempotencyMode{reserve: newID})
	}
}

// idempotencyMode is what one route's records keep: the secret-showing
// creates no answer, the reserving ones an id reserved by reserve.
type idempotencyMode struct {
	secret  bool
	reserve func() string
}

// reservedIDKey is where idempotentAs leaves the reserved id for the
// handler (reservedID).
const reservedIDKey = "hub.idempotency.reserved"

// reservedID is the id idempotentAs reserved for this create, or "" when
// the request carries no Idempotency-Key (or the hub keeps no records).
func reservedID(c echo.Context) string {
	id, _ := c.Get(reservedIDKey).(string)
	return id
}

func (a *API) idempotency(next echo.HandlerFunc, mode idempotencyMode) echo.HandlerFunc {
	return func(c echo.Context) error {
		header := c.Request().Header.Get(IdempotencyKeyHeader)
		store := a.opts.Idempotency
		if header == "" || store == nil {
			return next(c)
		}
		if len(header) > maxIdempotencyKey || !printableASCII(header) {
			return hub.Errorf(hub.EINVALID, "the Idempotency-Key header must be 1 to %d printable ASCII characters", maxIdempotencyKey)
		}
		r := c.Request()
		if r.ContentLength > maxJSONBody {
			return hub.Errorf(hub.ETOOLARGE, "the JSON body is larger than %d bytes", maxJSONBody)
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
		if err != nil {
			return hub.Errorf(hub.ECANCELED, "the request body could not be read: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.New()
		io.WriteString(sum, r.Method+"\n"+c.Path()+"\n")
		sum.Write(body)
		request := hex.EncodeToString(sum.Sum(nil))
		id := sha256.Sum256([]byte(keyOf(c).ID + "\n" + r.Method + " " + c.Path() + "\n" + header))
		key := hex.EncodeToString(id[:])

		ctx := r.Context()
		var rev uint64
		// reserved is the id the record holds for what the create makes
		// ("" on routes that reserve none); resumed says another request
		// reserved it, so this one may never let it go.
		var reserved string
		var resumed bool
		for attempt := 0; ; attempt++ {
			if attempt == 3 {
				return hub.Errorf(hub.ECONFLICT, "another request with this Idempotency-Key is being handled; try again in a moment")
			}
			rec, prev, err := store.IdempotentRequest(ctx, key)
			begin := &hub.IdempotentRequest{Request: request, Started: time.Now().UTC()}
			switch {
			case hub.ErrorCode(err) == hub.ENOTFOUND:
				prev = 0
			case err != nil:
				return err
			case rec.Request != request:
				return hub.Errorf(hub.ECONFLICT, "this Idempotency-Key was used for a request with another body; send a new key for a new request")
			case rec.Done:
				return replay(c, rec)
			case rec.ID != "":
				// A try under the reserved id still runs, or its outcome
				// is unknown: try again under the same id, which makes
				// the thing at most once and finds it if it is there.
				// Writing the record moves its revision, so the first
				// try can no longer let the id go.
				begin.ID = rec.ID
			case time.Since(rec.Started) < idempotencyTakeover:
				return hub.Errorf(hub.ECONFLICT, "a request with this Idempotency-Key is still being handled; try again in a moment")
			}
			if begin.ID == "" && mode.reserve != nil {
				begin.ID = mode.reserve()
			}
			rev, err = store.PutIdempotentRequest(ctx, key, begin, prev)
			if hub.ErrorCode(err) == hub.ECONFLICT {
				continue // another replica began it: look again
			} else if err != nil {
				return err
			}
			reserved, resumed = begin.ID, rec != nil && rec.ID != ""
			break
		}
		if reserved != "" {
			c.Set(reservedIDKey, reserved)
		}

		rw := &recordingWriter{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rw
		defer func() {
			if r := recover(); r != nil {
				// A retry must not wait for the takeover: nothing was
				// answered. A reserved id stays: the create may have
				// happened, and a retry tries again under it at once.
				if reserved == "" {
					_ = store.DeleteIdempotentRequest(context.WithoutCancel(ctx), key, rev)
				}
				panic(r)
			}
		}()
		herr := next(c)
		if herr != nil {
			c.Error(herr) // the problem answer is written now, and recorded
		}
		c.Response().Writer = rw.ResponseWriter
		status := c.Response().Status
		// The answer has gone out; what a retry meets is written even if
		// the client has gone.
		ctx = context.WithoutCancel(ctx)
		failed := status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
		if reserved != "" && (failed || rw.overflow) {
			// Only a create known not to have happened lets the id go: an
			// error saying so, from the request that reserved it.
			if failed && !rw.overflow && !resumed && herr != nil && !hub.IsUnconfirmed(herr) {
				if err := store.DeleteIdempotentRequest(ctx, key, rev); err != nil {
					a.log.Warn("forget idempotent request", "route", c.Path(), "err", err)
				}
			} else {
				a.log.Info("idempotent request kept for a retry under its reserved id", "route", c.Path(), "id", reserved, "status", status)
			}
			return nil
		}
		if failed || rw.overflow {
			if err := store.DeleteIdempotentRequest(ctx, key, rev); err != nil {
				a.log.Warn("forget idempotent request", "route", c.Path(), "err", err)
			}
			return nil
		}
		done := &hub.IdempotentRequest{Request: request, Started: time.Now().UTC(), ID: reserved, Done: true, Status: status, Body: rw.body.Bytes(), Header: map[string]string{}}
		for _, h := range []string{echo.HeaderContentType, echo.HeaderLocation} {
			if v := c.Response().Header().Get(h); v != "" {
				done.Header[h] = v
			}
		}
		if mode.secret && status < 300 {
			var created struct{ ID string }
			_ = json.Unmarshal(done.Body, &created)
			done.Body, done.Header, done.SecretShown = nil, nil, created.ID
		}
		a.recordAnswer(ctx, c.Path(), key, done, rev)
		return nil
	}
}

// recordAnswer writes done over the record at revision rev. With a
// reserved id, another try of the same create may have come by since and
// moved the revision: unless it recorded its answer already, this answer
// (of the same create, under the same id) is written over its record.
func (a *API) recordAnswer(ctx context.Context, route, key string, done *hub.IdempotentRequest, rev uint64) {
	store := a.opts.Idempotency
	for range 3 {
		_, err := store.PutIdempotentRequest(ctx, key, done, rev)
		if err == nil {
			return
		}
		if hub.ErrorCode(err) != hub.ECONFLICT || done.ID == "" {
			a.log.Warn("record idempotent request", "route", route, "err", err)
			return
		}
		rec, cur, err := store.IdempotentRequest(ctx, key)
		if err != nil {
			a.log.Warn("record idempotent request", "route", route, "err", err)
			return
		}
		if rec.Done || rec.ID != done.ID {
			return // answered by the other try (or another create's record)
		}
		rev = cur
	}
	a.log.Warn("record idempotent request: other tries of the create kept moving the record", "route", route, "id", done.ID)
}

// replay answers with the recorded first answer.
func replay(c echo.Context, rec *hub.IdempotentRequest) error {
	if rec.SecretShown != "" {
		return hub.Errorf(hub.ECONFLICT, "the request with this Idempotency-Key was done already: it created %s, whose secret was shown once, in that answer; if it was lost, revoke %s and create another", rec.SecretShown, rec.SecretShown)
	}
	for h, v := range rec.Header {
		c.Response().Header().Set(h, v)
	}
	c.Response().Header().Set(idempotentReplayedHeader, "true")
	c.Response().WriteHeader(rec.Status)
	_, err := c.Response().Write(rec.Body)
	return err
}

// maxRecordedAnswer bounds the answer kept for replay; creates answer a
// few KiB.
const maxRecordedAnswer = 256 << 10

// recordingWriter keeps a copy of what is written.
type recordingWriter struct {
	http.ResponseWriter
	body     bytes.Buffer
	overflow bool
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.body.Len()+len(p) > maxRecordedAnswer {
		w.overflow = true
	} else {
		w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}
