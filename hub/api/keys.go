package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// keyRequest is the body of POST /v1/keys.
type keyRequest struct {
	Role      string     `json:"role"`
	Name      string     `json:"name"`
	Campaigns []string   `json:"campaigns"`
	Partner   string     `json:"partner"`
	Expires   *time.Time `json:"expires"`
}

// keyView is a key as listings show it: never the secret or its hash.
type keyView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      hub.Role   `json:"role"`
	Campaigns []string   `json:"campaigns,omitempty"`
	Partner   string     `json:"partner,omitempty"`
	Expires   *time.Time `json:"expires,omitempty"`
	Created   time.Time  `json:"created"`
	Prefix    string     `json:"prefix,omitempty"`
	// Key is the secret, present only in the answer that created it.
	Key string `json:"key,omitempty"`
}

func viewKey(k *hub.Key) keyView {
	return keyView{ID: k.ID, Name: k.Name, Role: k.Role, Campaigns: k.Campaigns, Partner: k.Partner,
		Expires: k.Expires, Created: k.Created, Prefix: k.Prefix}
}

func (a *API) createKey(c echo.Context) error {
	var req keyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	role, err := hub.ParseRole(req.Role)
	if err != nil {
		return err
	}
	k, secret, err := a.svc.CreateKey(c.Request().Context(), keyOf(c), hub.Key{
		Name: req.Name, Role: role, Campaigns: req.Campaigns, Partner: req.Partner, Expires: req.Expires,
	})
	if err != nil {
		return err
	}
	v := viewKey(k)
	v.Key = secret
	return c.JSON(http.StatusCreated, v)
}

func (a *API) listKeys(c echo.Context) error {
	keys, err := a.svc.Keys(c.Request().Context(), keyOf(c))
	if err != nil {
		return err
	}
	out := struct {
		Items []keyView `json:"items"`
	}{Items: make([]keyView, 0, len(keys))}
	for _, k := range keys {
		out.Items = append(out.Items, viewKey(k))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) revokeKey(c echo.Context) error {
	if err := a.svc.RevokeKey(c.Request().Context(), keyOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
