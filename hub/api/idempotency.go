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
	return a.idempotency(next, false)
}

// idempotentSecret is idempotent for creates whose answer shows a secret
// once (an API key, a webhook's signing secret): the secret must not wait
// in NATS for a day, so only the created id is kept, and a retry is a 409
// naming it.
func (a *API) idempotentSecret(next echo.HandlerFunc) echo.HandlerFunc {
	return a.idempotency(next, true)
}

func (a *API) idempotency(next echo.HandlerFunc, secret bool) echo.HandlerFunc {
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
		for attempt := 0; ; attempt++ {
			if attempt == 3 {
				return hub.Errorf(hub.ECONFLICT, "another request with this Idempotency-Key is being handled; try again in a moment")
			}
			rec, prev, err := store.IdempotentRequest(ctx, key)
			if hub.ErrorCode(err) == hub.ENOTFOUND {
				prev = 0
			} else if err != nil {
				return err
			} else if rec.Request != request {
				return hub.Errorf(hub.ECONFLICT, "this Idempotency-Key was used for a request with another body; send a new key for a new request")
			} else if rec.Done {
				return replay(c, rec)
			} else if time.Since(rec.Started) < idempotencyTakeover {
				return hub.Errorf(hub.ECONFLICT, "a request with this Idempotency-Key is still being handled; try again in a moment")
			}
			rev, err = store.PutIdempotentRequest(ctx, key, &hub.IdempotentRequest{Request: request, Started: time.Now().UTC()}, prev)
			if hub.ErrorCode(err) == hub.ECONFLICT {
				continue // another replica began it: look again
			} else if err != nil {
				return err
			}
			break
		}

		rw := &recordingWriter{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rw
		defer func() {
			if r := recover(); r != nil {
				// A retry must not wait for the takeover: nothing was answered.
				_ = store.DeleteIdempotentRequest(context.WithoutCancel(ctx), key, rev)
				panic(r)
			}
		}()
		if err := next(c); err != nil {
			c.Error(err) // the problem answer is written now, and recorded
		}
		c.Response().Writer = rw.ResponseWriter
		status := c.Response().Status
		// The answer has gone out; what a retry meets is written even if
		// the client has gone.
		ctx = context.WithoutCancel(ctx)
		if status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || rw.overflow {
			if err := store.DeleteIdempotentRequest(ctx, key, rev); err != nil {
				a.log.Warn("forget idempotent request", "route", c.Path(), "err", err)
			}
			return nil
		}
		done := &hub.IdempotentRequest{Request: request, Started: time.Now().UTC(), Done: true, Status: status, Body: rw.body.Bytes(), Header: map[string]string{}}
		for _, h := range []string{echo.HeaderContentType, echo.HeaderLocation} {
			if v := c.Response().Header().Get(h); v != "" {
				done.Header[h] = v
			}
		}
		if secret && status < 300 {
			var created struct{ ID string }
			_ = json.Unmarshal(done.Body, &created)
			done.Body, done.Header, done.SecretShown = nil, nil, created.ID
		}
		if _, err := store.PutIdempotentRequest(ctx, key, done, rev); err != nil {
			a.log.Warn("record idempotent request", "route", c.Path(), "err", err)
		}
		return nil
	}
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
