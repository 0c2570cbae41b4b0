package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// DefaultUploadIdleTimeout is how long an upload may send nothing before
// it is aborted: a minute covers a mobile link's worst pause.
const DefaultUploadIdleTimeout = time.Minute

// idleUploads aborts an upload whose body stops arriving. A stalled client
// would otherwise hold its upload open for ever, and with it the marker
// that makes the package's release wait (409); a context cannot unblock a
// read of a stalled body, a read deadline on the connection can. The
// deadline moves on with every read that brings bytes, so a multi-GB
// upload that keeps moving is never cut off.
func (a *API) idleUploads(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		body := &idleBody{body: r.Body, rc: http.NewResponseController(c.Response()), idle: a.opts.UploadIdleTimeout}
		r.Body = body
		err := next(c)
		if body.timedOut {
			// The upload failed on it (and stored nothing); say why. The
			// deadline stays passed: before answering, the server would
			// otherwise wait to read the rest of the body for keep-alive.
			return hub.Errorf(hub.ETIMEOUT, "no byte of the upload arrived for %s, so it was aborted after %d bytes; nothing was stored. Send it again", a.opts.UploadIdleTimeout, body.n)
		}
		return err
	}
}

// idleBody is a request body whose reads fail once no byte arrived for
// idle.
type idleBody struct {
	body     io.ReadCloser
	rc       *http.ResponseController
	idle     time.Duration
	armed    time.Time // when the deadline was last moved
	n        int64
	timedOut bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	// Moving the deadline is a call into the runtime's poller: it moves at
	// most every quarter of the timeout, so a stall is cut off between
	// three quarters of the timeout and the whole of it after the last
	// byte.
	if now := time.Now(); now.Sub(b.armed) > b.idle/4 {
		if err := b.rc.SetReadDeadline(now.Add(b.idle)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return 0, fmt.Errorf("set the upload's read deadline: %w", err)
		}
		b.armed = now
	}
	n, err := b.body.Read(p)
	b.n += int64(n)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.timedOut = true
	case err == io.EOF:
		// The whole body is in: lift the deadline, or the server's own
		// read of the idle connection would hit it while the upload is
		// still being stored and cancel the request.
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

func (b *idleBody) Close() error { return b.body.Close() }
