package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// natsAccess is the answer of GET /v1/me/nats. It never carries a
// secret: with credential "key" the caller connects as user with its own
// API key as the password.
type natsAccess struct {
	URL         string     `json:"url"`
	User        string     `json:"user,omitempty"`
	Credential  string     `json:"credential,omitempty"`
	Expires     *time.Time `json:"expires,omitempty"`
	Stream      string     `json:"stream"`
	Consumer    string     `json:"consumer"`
	InboxPrefix string     `json:"inboxprefix"`
	Subjects    []string   `json:"subjects"`
}

func (a *API) myNATS(c echo.Context) error {
	acc, err := a.svc.PartnerNATS(c.Request().Context(), keyOf(c), a.opts.NATSAccess)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, natsAccess{
		URL: acc.URL, User: acc.User, Credential: acc.Credential, Expires: acc.Expires, Stream: acc.Stream,
		Consumer: acc.Consumer, InboxPrefix: acc.InboxPrefix, Subjects: acc.Subjects,
	})
}
