package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// campaignFields are what POST and PATCH /v1/campaigns set.
type campaignFields struct {
	Slug       *string         `json:"slug"`
	Name       *string         `json:"name"`
	Visibility *hub.Visibility `json:"visibility"`
	Hashtags   *[]string       `json:"hashtags"`
}

// campaignView is a campaign in answers.
type campaignView struct {
	Slug       string         `json:"slug"`
	Name       string         `json:"name"`
	Visibility hub.Visibility `json:"visibility"`
	Hashtags   []string       `json:"hashtags"`
	Created    time.Time      `json:"created"`
}

func viewCampaign(c *hub.Campaign) campaignView {
	v := campaignView{Slug: c.Slug, Name: c.Name, Visibility: c.Visibility, Hashtags: c.Hashtags, Created: c.Created}
	if v.Hashtags == nil {
		v.Hashtags = []string{}
	}
	return v
}

func (a *API) createCampaign(c echo.Context) error {
	var f campaignFields
	if err := decodeJSON(c, &f); err != nil {
		return err
	}
	camp := &hub.Campaign{}
	if f.Slug != nil {
		camp.Slug = *f.Slug
	}
	if f.Name != nil {
		camp.Name = *f.Name
	}
	if f.Visibility != nil {
		camp.Visibility = *f.Visibility
	}
	if f.Hashtags != nil {
		camp.Hashtags = *f.Hashtags
	}
	camp, err := a.svc.CreateCampaign(c.Request().Context(), keyOf(c), camp)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewCampaign(camp))
}

func (a *API) listCampaigns(c echo.Context) error {
	all, err := a.svc.Campaigns(c.Request().Context(), keyOf(c))
	if err != nil {
		return err
	}
	out := struct {
		Items []campaignView `json:"items"`
	}{Items: make([]campaignView, 0, len(all))}
	for _, camp := range all {
		out.Items = append(out.Items, viewCampaign(camp))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) getCampaign(c echo.Context) error {
	camp, err := a.svc.Campaign(c.Request().Context(), keyOf(c), c.Param("slug"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewCampaign(camp))
}

func (a *API) patchCampaign(c echo.Context) error {
	var f campaignFields
	if err := decodeJSON(c, &f); err != nil {
		return err
	}
	if f.Slug != nil && *f.Slug != c.Param("slug") {
		return hub.Errorf(hub.EINVALID, "a campaign's slug cannot change")
	}
	camp, err := a.svc.UpdateCampaign(c.Request().Context(), keyOf(c), c.Param("slug"),
		hub.CampaignPatch{Name: f.Name, Visibility: f.Visibility, Hashtags: f.Hashtags})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewCampaign(camp))
}

// partnerFields are what POST and PATCH /v1/partners set.
type partnerFields struct {
	Name      *string     `json:"name"`
	Region    *string     `json:"region"`
	Medium    *hub.Medium `json:"medium"`
	Languages *[]string   `json:"languages"`
	Campaigns *[]string   `json:"campaigns"`
	Active    *bool       `json:"active"`
}

func (f partnerFields) patch() hub.PartnerPatch {
	return hub.PartnerPatch{Name: f.Name, Region: f.Region, Medium: f.Medium, Languages: f.Languages, Campaigns: f.Campaigns, Active: f.Active}
}

// partnerView is a partner in answers.
type partnerView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Region    string     `json:"region"`
	Medium    hub.Medium `json:"medium"`
	Languages []string   `json:"languages"`
	Campaigns []string   `json:"campaigns"`
	Active    bool       `json:"active"`
	Created   time.Time  `json:"created"`
}

func viewPartner(p *hub.Partner) partnerView {
	v := partnerView{ID: p.ID, Name: p.Name, Region: p.Region, Medium: p.Medium, Languages: p.Languages,
		Campaigns: p.Campaigns, Active: p.Active, Created: p.Created}
	if v.Languages == nil {
		v.Languages = []string{}
	}
	if v.Campaigns == nil {
		v.Campaigns = []string{}
	}
	return v
}

func (a *API) createPartner(c echo.Context) error {
	var f partnerFields
	if err := decodeJSON(c, &f); err != nil {
		return err
	}
	p := &hub.Partner{Active: true}
	pp := f.patch()
	if pp.Name != nil {
		p.Name = *pp.Name
	}
	if pp.Region != nil {
		p.Region = *pp.Region
	}
	if pp.Medium != nil {
		p.Medium = *pp.Medium
	}
	if pp.Languages != nil {
		p.Languages = *pp.Languages
	}
	if pp.Campaigns != nil {
		p.Campaigns = *pp.Campaigns
	}
	if pp.Active != nil {
		p.Active = *pp.Active
	}
	p, err := a.svc.CreatePartner(c.Request().Context(), keyOf(c), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewPartner(p))
}

func (a *API) listPartners(c echo.Context) error {
	all, err := a.svc.Partners(c.Request().Context(), keyOf(c))
	if err != nil {
		return err
	}
	out := struct {
		Items []partnerView `json:"items"`
	}{Items: make([]partnerView, 0, len(all))}
	for _, p := range all {
		out.Items = append(out.Items, viewPartner(p))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) getPartner(c echo.Context) error {
	p, err := a.svc.Partner(c.Request().Context(), keyOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewPartner(p))
}

func (a *API) patchPartner(c echo.Context) error {
	var f partnerFields
	if err := decodeJSON(c, &f); err != nil {
		return err
	}
	p, err := a.svc.UpdatePartner(c.Request().Context(), keyOf(c), c.Param("id"), f.patch())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewPartner(p))
}
