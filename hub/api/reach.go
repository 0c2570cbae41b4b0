package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// This file records pickups (partners' downloads, from the asset and zip
// handlers) and serves what they add up to: republication reports
// (POST /v1/packages/{id}/republications), a campaign's reach
// (GET /v1/campaigns/{slug}/reach) and a package's pickups
// (GET /v1/packages/{id}/pickups).

// assetPickedUp records a download of an asset once its answer has been
// written: a 200 or 206 with at least a byte of the body sent, or a
// redirect to a presigned URL (the bytes then come from the blob store,
// out of the hub's sight, and the redirect is all there is to count).
// The service records partners only, and never fails or waits.
func (a *API) assetPickedUp(c echo.Context, p *hub.Package, asset *hub.Asset) {
	req, res := c.Request(), c.Response()
	if req.Method != http.MethodGet {
		return
	}
	pk := hub.Pickup{Kind: hub.PickupDownload, Asset: asset.Name, Bytes: res.Size}
	switch {
	case (res.Status == http.StatusOK || res.Status == http.StatusPartialContent) && res.Size > 0:
		pk.Ranged = res.Status == http.StatusPartialContent
	case res.Status == http.StatusFound:
		pk.Presigned = true
	default:
		return
	}
	a.svc.RecordDownload(req.Context(), keyOf(c), p, pk)
}

// republicationRequest is the body of POST /v1/packages/{id}/republications.
type republicationRequest struct {
	URL    *string `json:"url"`
	Medium *string `json:"medium"`
	// Published is an RFC 3339 time.
	Published *string `json:"published"`
	// Audience is a whole number of people; read as a number so that 1.5
	// and -3 get a sentence, not a type error.
	Audience *json.Number `json:"audience"`
}

// republicationView is a republication report in answers.
type republicationView struct {
	ID        string     `json:"id"`
	Package   string     `json:"package"`
	Version   int        `json:"version"`
	Campaign  string     `json:"campaign"`
	Partner   string     `json:"partner"`
	URL       string     `json:"url"`
	Medium    hub.Medium `json:"medium"`
	Published time.Time  `json:"published"`
	Audience  int64      `json:"audience"`
	Reported  time.Time  `json:"reported"`
}

func (a *API) postRepublication(c echo.Context) error {
	var req republicationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var r hub.Republication
	if req.URL != nil {
		r.URL = *req.URL
	}
	if req.Medium != nil {
		r.Medium = hub.Medium(*req.Medium)
	}
	if req.Published != nil {
		t, err := time.Parse(time.RFC3339, *req.Published)
		if err != nil {
			return hub.Errorf(hub.EINVALID, "published %q is not an RFC 3339 time such as \"2026-11-25T09:00:00+06:00\"", *req.Published)
		}
		r.Published = &t
	}
	if req.Audience != nil {
		n, err := strconv.ParseInt(req.Audience.String(), 10, 64)
		if err != nil {
			return hub.Errorf(hub.EINVALID, "audience %s is not a whole number of people", req.Audience.String())
		}
		r.Audience = n
	}
	pk, err := a.svc.ReportRepublication(c.Request().Context(), keyOf(c), c.Param("id"), r)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, republicationView{
		ID: pk.ID, Package: pk.Package, Version: pk.Version, Campaign: pk.Campaign, Partner: pk.Partner,
		URL: pk.URL, Medium: pk.Medium, Published: *pk.Published, Audience: pk.Audience, Reported: pk.Time,
	})
}

func (a *API) getReach(c echo.Context) error {
	r, err := a.svc.Reach(c.Request().Context(), keyOf(c), c.Param("slug"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// pickupView is one pickup of a package in answers, with the partner's
// name beside its id.
type pickupView struct {
	hub.Pickup
	PartnerName string `json:"partnername,omitempty"`
}

func (a *API) listPackagePickups(c echo.Context) error {
	pickups, names, err := a.svc.PackagePickups(c.Request().Context(), keyOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	out := struct {
		Items []pickupView `json:"items"`
	}{Items: make([]pickupView, 0, len(pickups))}
	for _, p := range pickups {
		out.Items = append(out.Items, pickupView{Pickup: p, PartnerName: names[p.Partner]})
	}
	return c.JSON(http.StatusOK, out)
}
