package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// releaseRequest is the optional body of POST /v1/packages/{id}/release.
type releaseRequest struct {
	// Embargo is an RFC 3339 time; absent means now.
	Embargo *string `json:"embargo"`
}

// decodeOptionalJSON is decodeJSON for a body that may be left out: no
// body, or an empty one, leaves v as it is.
func decodeOptionalJSON(c echo.Context, v any) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxJSONBody+1))
	if err != nil {
		return hub.Errorf(hub.ECANCELED, "the request body could not be read: %v", err)
	}
	if len(body) > maxJSONBody {
		return hub.Errorf(hub.ETOOLARGE, "the JSON body is larger than %d bytes", maxJSONBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	c.Request().Body = io.NopCloser(bytes.NewReader(body))
	c.Request().ContentLength = int64(len(body))
	return decodeJSON(c, v)
}

func (a *API) release(c echo.Context) error {
	// No body, or an empty one, means "now".
	var req releaseRequest
	if err := decodeOptionalJSON(c, &req); err != nil {
		return err
	}
	var embargo *time.Time
	if req.Embargo != nil {
		t, err := time.Parse(time.RFC3339, *req.Embargo)
		if err != nil {
			return hub.Errorf(hub.EINVALID, "embargo %q is not an RFC 3339 time such as \"2026-11-25T06:00:00+06:00\"", *req.Embargo)
		}
		embargo = &t
	}
	p, err := a.svc.Release(c.Request().Context(), keyOf(c), c.Param("id"), embargo)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a.item(c.Request().Context(), p))
}

func (a *API) unschedule(c echo.Context) error {
	p, err := a.svc.Unschedule(c.Request().Context(), keyOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a.item(c.Request().Context(), p))
}

func (a *API) withdraw(c echo.Context) error {
	p, err := a.svc.Withdraw(c.Request().Context(), keyOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a.item(c.Request().Context(), p))
}

func (a *API) purge(c echo.Context) error {
	p, err := a.svc.Purge(c.Request().Context(), keyOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a.item(c.Request().Context(), p))
}

func (a *API) getVersion(c echo.Context) error {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 {
		return hub.Errorf(hub.ENOTFOUND, "there is no version %q", c.Param("n"))
	}
	p, err := a.svc.Version(c.Request().Context(), keyOf(c), c.Param("id"), n)
	if err != nil {
		return err
	}
	return a.packageAnswer(c, p)
}

// releaseEntry is one line of the change log.
type releaseEntry struct {
	Cursor   string          `json:"cursor"`
	Event    hub.Event       `json:"event"`
	ID       string          `json:"id"`
	Time     string          `json:"time"`
	Campaign string          `json:"campaign"`
	Language string          `json:"language"`
	Package  json.RawMessage `json:"package"`
}

// releaseLog is a page of the change log; Next continues after it.
type releaseLog struct {
	Items []releaseEntry `json:"items"`
	Next  string         `json:"next"`
}

// streamPage reads the page a stream-backed log is asked for (the change
// log, the audit log): after, the sequence to continue from, and limit.
func streamPage(c echo.Context) (after uint64, limit int, err error) {
	if s := c.QueryParam("after"); s != "" {
		if after, err = strconv.ParseUint(s, 10, 64); err != nil {
			return 0, 0, hub.Errorf(hub.EINVALID, "after %q is not a cursor this hub gave out (a number)", s)
		}
	}
	limit = hub.DefaultPageSize
	if s := c.QueryParam("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil {
			return 0, 0, hub.Errorf(hub.EINVALID, "limit must be a number from 1 to %d", hub.MaxPageSize)
		}
	}
	return after, limit, nil
}

func (a *API) listReleases(c echo.Context) error {
	after, limit, err := streamPage(c)
	if err != nil {
		return err
	}
	entries, next, err := a.svc.Releases(c.Request().Context(), keyOf(c), after, limit)
	if err != nil {
		return err
	}
	out := releaseLog{Items: make([]releaseEntry, 0, len(entries)), Next: strconv.FormatUint(next, 10)}
	for _, e := range entries {
		out.Items = append(out.Items, releaseEntry{
			Cursor: strconv.FormatUint(e.Sequence, 10), Event: e.Event, ID: e.ID, Time: e.Time,
			Campaign: e.Campaign, Language: e.Language, Package: e.Package,
		})
	}
	return c.JSON(http.StatusOK, out)
}
