package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/websession"
)

// This file is the admin's side of the portal's sign-in links: issue one
// for a person (the hub makes its key and answers the link, which the
// admin sends on; the hub sends nothing) and list them, tokens never
// shown again. A link is revoked by revoking its key (DELETE
// /v1/keys/{id}).

// signinLinkRequest is the body of POST /v1/signin-links.
type signinLinkRequest struct {
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Partner    string     `json:"partner"`
	Campaigns  []string   `json:"campaigns"`
	Expires    *time.Time `json:"expires"`
	KeyExpires *time.Time `json:"keyexpires"`
}

// signinLinkView is a link as the API shows it.
type signinLinkView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      hub.Role   `json:"role"`
	Partner   string     `json:"partner,omitempty"`
	Campaigns []string   `json:"campaigns,omitempty"`
	KeyID     string     `json:"keyid"`
	Created   time.Time  `json:"created"`
	Expires   time.Time  `json:"expires"`
	Used      *time.Time `json:"used,omitempty"`
	State     string     `json:"state,omitempty"`
	// URL is the link itself, only in the answer that made it.
	URL string `json:"url,omitempty"`
}

func viewSigninLink(l *hub.SigninLink) signinLinkView {
	return signinLinkView{ID: l.ID, Name: l.Person, Role: l.Role, Partner: l.Partner, Campaigns: l.Campaigns,
		KeyID: l.KeyID, Created: l.Created, Expires: l.Expires, Used: l.Used}
}

func (a *API) createSigninLink(c echo.Context) error {
	var req signinLinkRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	role, err := hub.ParseRole(req.Role)
	if err != nil {
		return err
	}
	l, token, err := a.svc.CreateSigninLink(c.Request().Context(), keyOf(c), hub.SigninLinkRequest{
		Person: req.Name, Role: role, Partner: req.Partner, Campaigns: req.Campaigns,
		Expires: req.Expires, KeyExpires: req.KeyExpires,
	})
	if err != nil {
		return err
	}
	v := viewSigninLink(l)
	v.State = string(hub.LinkUsable)
	v.URL = websession.LinkURL(a.opts.PublicURL, token)
	return c.JSON(http.StatusCreated, v)
}

func (a *API) listSigninLinks(c echo.Context) error {
	links, err := a.svc.SigninLinks(c.Request().Context(), keyOf(c))
	if err != nil {
		return err
	}
	out := struct {
		Items []signinLinkView `json:"items"`
	}{Items: make([]signinLinkView, 0, len(links))}
	for _, info := range links {
		v := viewSigninLink(info.Link)
		v.State = string(info.State)
		out.Items = append(out.Items, v)
	}
	return c.JSON(http.StatusOK, out)
}
