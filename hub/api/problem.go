package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// statusOf is the one table that maps domain error codes to HTTP statuses.
var statusOf = map[string]int{
	hub.EINVALID:      http.StatusBadRequest,
	hub.EUNAUTHORIZED: http.StatusUnauthorized,
	hub.EFORBIDDEN:    http.StatusForbidden,
	hub.ENOTFOUND:     http.StatusNotFound,
	hub.ECONFLICT:     http.StatusConflict,
	hub.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	hub.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	hub.ELIMITED:      http.StatusTooManyRequests,
	// 499 is nginx's "client closed request": nobody reads the answer, but
	// logs and metrics tell it apart from a server failure.
	hub.ECANCELED:    499,
	hub.ETIMEOUT:     http.StatusRequestTimeout,
	hub.EUNAVAILABLE: http.StatusServiceUnavailable,
	hub.EFULL:        http.StatusInsufficientStorage,
	hub.EMISDIRECTED: http.StatusMisdirectedRequest,
	hub.EINTERNAL:    http.StatusInternalServerError,
}

// unavailableRetry is the Retry-After, in seconds, of a 503 that does not
// set its own.
const unavailableRetry = 60

// Problem is an RFC 9457 problem details document. Code repeats the
// hub's error code, so a script can branch on it without parsing prose.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
	Code     string `json:"code"`
}

// problemFor builds the problem document for err.
func problemFor(err error, path string) Problem {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		// Echo's own errors: an unknown route, a wrong method.
		msg := http.StatusText(he.Code)
		if he.Code == http.StatusNotFound {
			msg = "there is nothing at " + path
		} else if he.Code == http.StatusMethodNotAllowed {
			msg = "this method is not allowed on " + path
		}
		return Problem{Type: "about:blank", Title: http.StatusText(he.Code), Status: he.Code, Detail: msg, Instance: path, Code: echoCode(he.Code)}
	}
	code := hub.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	title := http.StatusText(status)
	if status == 499 {
		title = "Client Closed Request"
	}
	return Problem{Type: "about:blank", Title: title, Status: status, Detail: hub.ErrorMessage(err), Instance: path, Code: code}
}

func echoCode(status int) string {
	if status == http.StatusMethodNotAllowed {
		return "method_not_allowed"
	}
	for code, s := range statusOf {
		if s == status {
			return code
		}
	}
	return hub.EINVALID
}

// errorHandler answers every error as problem JSON and logs the ones that
// are the hub's fault.
func (a *API) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		a.log.Warn("error after response started", "route", c.Path(), "err", err)
		return
	}
	var he *echo.HTTPError
	if a.opts.Portal != nil && errors.As(err, &he) && he.Code == http.StatusNotFound && !isAPIPath(c.Request().URL.Path) {
		if perr := a.opts.Portal.NotFound(c); perr == nil {
			return
		}
	}
	p := problemFor(err, c.Request().URL.Path)
	if p.Status >= 500 {
		// The route pattern, not the path: a private feed's path holds its token.
		a.log.Error("request failed", "method", c.Request().Method, "route", c.Path(), "err", err)
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	if p.Status == http.StatusServiceUnavailable && c.Response().Header().Get("Retry-After") == "" {
		// A dependency that does not answer usually does again within a
		// minute; the sentences say "try again in a minute".
		c.Response().Header().Set("Retry-After", strconv.Itoa(unavailableRetry))
	}
	if c.Request().Method == http.MethodHead {
		c.Response().WriteHeader(p.Status)
		return
	}
	if err := c.JSON(p.Status, p); err != nil {
		a.log.Warn("write problem", "err", err, slog.Int("status", p.Status))
	}
}
