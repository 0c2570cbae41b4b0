package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// auditLog is the answer of GET /v1/audit: one page, and the cursor to
// continue from (always present, so a reader can store it and poll).
type auditLog struct {
	Items []auditEntry `json:"items"`
	Next  string       `json:"next"`
}

// auditEntry is one act as GET /v1/audit shows it: ids only.
type auditEntry struct {
	Cursor   string          `json:"cursor"`
	Time     time.Time       `json:"time"`
	Actor    hub.AuditActor  `json:"actor"`
	Action   hub.AuditAction `json:"action"`
	Target   string          `json:"target"`
	Package  string          `json:"package,omitempty"`
	Campaign string          `json:"campaign,omitempty"`
	Partner  string          `json:"partner,omitempty"`
	Version  int             `json:"version,omitempty"`
}

// auditReaders is the route guard of the audit log: admins only.
var auditReaders = allowed(hub.MayReadAudit)

func (a *API) listAudit(c echo.Context) error {
	var after uint64
	if s := c.QueryParam("after"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return hub.Errorf(hub.EINVALID, "after %q is not a cursor this hub gave out (a number)", s)
		}
		after = n
	}
	limit := hub.DefaultPageSize
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return hub.Errorf(hub.EINVALID, "limit must be a number from 1 to %d", hub.MaxPageSize)
		}
		limit = n
	}
	entries, next, err := a.svc.Audit(c.Request().Context(), keyOf(c), after, limit)
	if err != nil {
		return err
	}
	out := auditLog{Items: make([]auditEntry, 0, len(entries)), Next: strconv.FormatUint(next, 10)}
	for _, e := range entries {
		out.Items = append(out.Items, auditEntry{
			Cursor: strconv.FormatUint(e.Sequence, 10), Time: e.Time, Actor: e.Actor, Action: e.Action,
			Target: e.Target, Package: e.Package, Campaign: e.Campaign, Partner: e.Partner, Version: e.Version,
		})
	}
	return c.JSON(http.StatusOK, out)
}
