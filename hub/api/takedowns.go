package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// This file is the takedown acknowledgement (see hub/takedown.go): an
// outlet confirms it took a withdrawn or purged package down
// (POST /v1/packages/{id}/takedown), and the package's producers see every
// outlet expected to, and who has not (GET /v1/packages/{id}/takedowns).

// takedownRequest is the optional body of POST /v1/packages/{id}/takedown.
type takedownRequest struct {
	// Via is how the outlet confirms: "api" (the default) or "pull".
	Via *string `json:"via"`
}

// takedownView is an outlet's takedown: the answer to its confirmation,
// and one line of a package's takedowns (with the outlet's name there).
type takedownView struct {
	Partner   string             `json:"partner"`
	Name      string             `json:"name,omitempty"`
	Status    hub.TakedownStatus `json:"status"`
	Confirmed *time.Time         `json:"confirmed,omitempty"`
	Via       hub.TakedownVia    `json:"via,omitempty"`
	Key       string             `json:"key,omitempty"`
	// PickedUp says downloads of the package by the outlet are recorded.
	PickedUp bool `json:"pickedup"`
}

func viewTakedown(o *hub.TakedownOutlet, name string) takedownView {
	return takedownView{Partner: o.Partner, Name: name, Status: o.Status(), Confirmed: o.Confirmed, Via: o.Via, Key: o.Key,
		PickedUp: o.PickedUp}
}

// takedownsView is a package's takedowns.
type takedownsView struct {
	Package   string     `json:"package"`
	Campaign  string     `json:"campaign"`
	Version   int        `json:"version"`
	Event     hub.Event  `json:"event"`
	Withdrawn *time.Time `json:"withdrawn,omitempty"`
	Purged    *time.Time `json:"purged,omitempty"`
	// Expected counts the outlets, Unconfirmed those that have not
	// confirmed.
	Expected    int            `json:"expected"`
	Unconfirmed int            `json:"unconfirmed"`
	Outlets     []takedownView `json:"outlets"`
}

func (a *API) confirmTakedown(c echo.Context) error {
	var req takedownRequest
	if err := decodeOptionalJSON(c, &req); err != nil {
		return err
	}
	var via string
	if req.Via != nil {
		via = *req.Via
	}
	v, err := hub.ParseTakedownVia(via)
	if err != nil {
		return err
	}
	o, err := a.svc.ConfirmTakedown(c.Request().Context(), keyOf(c), c.Param("id"), v)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewTakedown(o, ""))
}

func (a *API) listTakedowns(c echo.Context) error {
	r, err := a.svc.Takedowns(c.Request().Context(), keyOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	out := takedownsView{Package: r.Package, Campaign: r.Campaign, Version: r.Version, Event: r.Event,
		Withdrawn: r.Withdrawn, Purged: r.Purged, Expected: len(r.Outlets), Unconfirmed: r.Unconfirmed(),
		Outlets: make([]takedownView, 0, len(r.Outlets))}
	for i := range r.Outlets {
		out.Outlets = append(out.Outlets, viewTakedown(&r.Outlets[i], r.Names[r.Outlets[i].Partner]))
	}
	return c.JSON(http.StatusOK, out)
}
