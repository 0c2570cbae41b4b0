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
	// Rotated is when the key's current secret replaced the one before.
	Rotated *time.Time `json:"rotated,omitempty"`
	// SigninLink is the id of the sign-in link the key was made for.
	SigninLink string `json:"signinlink,omitempty"`
	// Grace is when the secret a rotation replaced stops working, while
	// it still works.
	Grace *time.Time `json:"grace,omitempty"`
	// Made lists what was made with the key and dies with it; listings
	// only.
	Made *keyMade `json:"made,omitempty"`
	// Key is the secret, present only in the answer that created it.
	Key string `json:"key,omitempty"`
}

// keyMade is what a key made: webhook ids, and the ids of the partners
// whose current feed token it issued.
type keyMade struct {
	Webhooks   []string `json:"webhooks"`
	FeedTokens []string `json:"feedtokens"`
}

func viewKey(k *hub.Key) keyView {
	return keyView{ID: k.ID, Name: k.Name, Role: k.Role, Campaigns: k.Campaigns, Partner: k.Partner,
		Expires: k.Expires, Created: k.Created, Prefix: k.Prefix, Rotated: k.Rotated, SigninLink: k.SigninLink}
}

// rotateRequest is the optional body of POST /v1/keys/{id}/rotate.
type rotateRequest struct {
	// Grace is how long the replaced secret keeps working, as a Go
	// duration ("24h", "90m", "0s").
	Grace *string `json:"grace"`
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
	for _, info := range keys {
		v := viewKey(info.Key)
		v.Grace = info.Grace
		v.Made = &keyMade{Webhooks: nonNil(info.Webhooks), FeedTokens: nonNil(info.FeedTokens)}
		out.Items = append(out.Items, v)
	}
	return c.JSON(http.StatusOK, out)
}

// nonNil returns s, or an empty slice for nil, so JSON shows [] not null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// rotateKey answers POST /v1/keys/{id}/rotate: the key with its new
// secret, and when the old one stops working.
func (a *API) rotateKey(c echo.Context) error {
	// The domain's check, before the body is read (it runs again inside).
	if err := hub.MayRotateKey(keyOf(c), c.Param("id")); err != nil {
		return err
	}
	var req rotateRequest
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	var grace *time.Duration
	if req.Grace != nil {
		d, err := time.ParseDuration(*req.Grace)
		if err != nil {
			return hub.Errorf(hub.EINVALID, "grace %q is not a duration such as \"24h\" or \"90m\"", *req.Grace)
		}
		grace = &d
	}
	k, secret, err := a.svc.RotateKey(c.Request().Context(), keyOf(c), c.Param("id"), grace)
	if err != nil {
		return err
	}
	v := viewKey(k)
	v.Key = secret
	retires := k.Rotated.Add(hub.DefaultKeyGrace)
	if grace != nil {
		retires = k.Rotated.Add(*grace)
	}
	v.Grace = &retires
	return c.JSON(http.StatusOK, v)
}

func (a *API) revokeKey(c echo.Context) error {
	if err := a.svc.RevokeKey(c.Request().Context(), keyOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
