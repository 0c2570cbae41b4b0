package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/websession"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	uploaded prometheus.Counter
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hub_http_request_duration_seconds", Help: "HTTP request duration by route.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10, 60, 300},
		}, []string{"method", "route"}),
		uploaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hub_asset_upload_bytes_total", Help: "Bytes of assets stored.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.uploaded)
	return m
}

// observe counts and logs every request by its route pattern (never by
// its raw path, which would make one time series per package).
func (a *API) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route, status := c.Path(), c.Response().Status
		if route == "" {
			route = "unmatched"
		}
		a.metrics.requests.WithLabelValues(c.Request().Method, route, strconv.Itoa(status)).Inc()
		a.metrics.duration.WithLabelValues(c.Request().Method, route).Observe(time.Since(start).Seconds())
		a.log.Debug("request", "method", c.Request().Method, "route", route, "status", status,
			"bytes", c.Response().Size, "duration", time.Since(start))
		return nil
	}
}

func (a *API) recover(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

func (a *API) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		return next(c)
	}
}

const keyContextName = "hub.key"

// authenticate resolves the bearer key, or the portal session of a
// browser that sends no Authorization header (its CSRF header checked on
// every unsafe method, see websession); every /v1 call needs one.
func (a *API) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		auth := strings.TrimSpace(c.Request().Header.Get(echo.HeaderAuthorization))
		if auth == "" && websession.Has(c.Request()) {
			_, k, err := websession.Authenticate(c.Request().Context(), a.svc, c.Request())
			if hub.ErrorCode(err) == hub.EUNAUTHORIZED {
				if lerr := a.chargeAddr(c); lerr != nil {
					return lerr
				}
			}
			if err != nil {
				return err
			}
			c.Set(keyContextName, k)
			return next(c)
		}
		scheme, secret, _ := strings.Cut(auth, " ")
		if auth != "" && !strings.EqualFold(scheme, "Bearer") {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="hub"`)
			return hub.Errorf(hub.EUNAUTHORIZED, "the Authorization header must be \"Bearer <key>\"")
		}
		k, err := a.svc.Authenticate(c.Request().Context(), strings.TrimSpace(secret))
		if err != nil {
			if hub.ErrorCode(err) == hub.EUNAUTHORIZED {
				// A request without a valid key counts against its
				// address, so guessing keys costs as much as any keyless
				// call.
				if lerr := a.chargeAddr(c); lerr != nil {
					return lerr
				}
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="hub"`)
			}
			return err
		}
		c.Set(keyContextName, k)
		return next(c)
	}
}

// keyOf returns the caller's key; authenticate guarantees one under /v1.
func keyOf(c echo.Context) *hub.Key { return c.Get(keyContextName).(*hub.Key) }

// allowed runs one of the domain's role checks (hub.RequireAdmin,
// hub.MayCreatePackages, ...) on the caller's key before the handler reads
// a body, so a key that may never make a call learns nothing from its
// request's validation. The rule is the domain's; this only runs it early.
func allowed(check func(*hub.Key) error) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := check(keyOf(c)); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// adminOnly is the route guard of keys and the partner directory.
var adminOnly = allowed(hub.RequireAdmin)

// pathParam returns a path parameter decoded exactly once. Echo matches
// on the raw (escaped) path when the request has one, so parameters then
// arrive still escaped; otherwise they arrive decoded.
func pathParam(c echo.Context, name string) (string, error) {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v, nil
	}
	u, err := url.PathUnescape(v)
	if err != nil {
		return "", hub.Errorf(hub.EINVALID, "the %s in the path is not correctly percent-encoded", name)
	}
	return u, nil
}

func contextWithTimeout(c echo.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), d)
}
