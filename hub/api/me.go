package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// natsAccess is the answer of GET /v1/me/nats.
type natsAccess struct {
	URL         string   `json:"url"`
	User        string   `json:"user,omitempty"`
	Password    string   `json:"password,omitempty"`
	Stream      string   `json:"stream"`
	Consumer    string   `json:"consumer"`
	InboxPrefix string   `json:"inboxprefix"`
	Subjects    []string `json:"subjects"`
}

func (a *API) myNATS(c echo.Context) error {
	acc, err := a.svc.PartnerNATS(c.Request().Context(), keyOf(c), a.opts.NATSAccess)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, natsAccess{
		URL: acc.URL, User: acc.User, Password: acc.Password, Stream: acc.Stream,
		Consumer: acc.Consumer, InboxPrefix: acc.InboxPrefix, Subjects: acc.Subjects,
	})
}
