package portal

import (
	"cmp"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// The reach page: what a campaign's packages achieved, drawn as SVG on
// the server (no script, no style attributes: the charts take their
// look from portal.css classes and SVG presentation attributes, which
// the CSP allows).

// reachData is the reach page.
type reachData struct {
	Campaign *hub.Campaign
	// Empty says nothing was picked up or republished yet.
	Empty bool
	// Figures are the totals; Days the downloads by day.
	Figures []reachFigure
	Days    *barChart
	// Groups are outlets and audience by region and by medium; a group
	// without rows has no chart.
	Groups  []chartGroup
	Reports []reachRow
}

// reachFigure is one total, written out.
type reachFigure struct{ Label, Value string }

// chartGroup is a horizontal bar chart with its caption.
type chartGroup struct {
	ID, Title string
	Chart     *hbarChart
}

// reachRow is one republication, written out.
type reachRow struct{ Outlet, URL, Published, Medium, Audience string }

// reachPage shows campaign's reach to whoever the domain lets read it:
// its producers and admins. Anyone else gets the 404 page, as for a
// campaign that does not exist.
func (p *Portal) reachPage(c echo.Context) error {
	k, err := p.signedIn(c)
	if k == nil {
		return err
	}
	ctx := c.Request().Context()
	slug := c.Param("campaign")
	r, err := p.svc.ReachReport(ctx, k, slug, p.opts.Location)
	if err != nil {
		return p.fail(c, err)
	}
	camp, err := p.svc.Campaign(ctx, k, slug)
	if err != nil {
		return p.fail(c, err)
	}
	t := visitorOf(c).t
	d := reachData{Campaign: camp, Empty: r.Downloads.Total == 0 && r.Republications == 0}
	if d.Empty {
		return p.render(c, http.StatusOK, "reach_campaign", d)
	}
	n := func(v int64) string { return t.Number(int(v)) }
	d.Figures = []reachFigure{
		{t.T("reach.fig.outlets"), n(int64(r.Outlets))},
		{t.T("reach.fig.downloads"), n(int64(r.Downloads.Total))},
		{t.T("reach.fig.distinct"), n(int64(r.Downloads.Distinct))},
		{t.T("reach.fig.republications"), n(int64(r.Republications))},
		{t.T("reach.fig.audience"), n(r.Audience)},
	}
	d.Days = dayChart(t, r.Days)
	regionName := func(s string) string {
		if s == "" {
			return t.T("reach.no_region")
		}
		return s
	}
	mediumName := func(m hub.Medium) string {
		if m == "" {
			return t.T("reach.no_medium")
		}
		return t.T("admin.medium." + string(m))
	}
	var ro, ra, mo, ma []hbarRow
	for _, g := range r.Regions {
		ro = append(ro, hbarRow{Label: regionName(g.Region), Value: int64(g.Outlets)})
		ra = append(ra, hbarRow{Label: regionName(g.Region), Value: g.Audience})
	}
	for _, g := range r.Media {
		mo = append(mo, hbarRow{Label: mediumName(g.Medium), Value: int64(g.Outlets)})
		ma = append(ma, hbarRow{Label: mediumName(g.Medium), Value: g.Audience})
	}
	outlets := func(l string, v int64) string { return t.N("reach.outlets_bar", int(v), "label", l) }
	people := func(l string, v int64) string { return t.N("reach.audience_bar", int(v), "label", l) }
	d.Groups = []chartGroup{
		{"region-outlets", t.T("reach.region_outlets"), newHbarChart(t, ro, outlets)},
		{"region-audience", t.T("reach.region_audience"), newHbarChart(t, ra, people)},
		{"medium-outlets", t.T("reach.medium_outlets"), newHbarChart(t, mo, outlets)},
		{"medium-audience", t.T("reach.medium_audience"), newHbarChart(t, ma, people)},
	}
	for _, rep := range r.Reports {
		row := reachRow{Outlet: cmp.Or(rep.PartnerName, rep.Partner, "—"), URL: rep.URL, Medium: mediumName(rep.Medium), Audience: "—"}
		if rep.Published != nil {
			row.Published = t.Date(rep.Published.In(p.opts.Location))
		}
		if rep.Audience > 0 {
			row.Audience = n(rep.Audience)
		}
		d.Reports = append(d.Reports, row)
	}
	return p.render(c, http.StatusOK, "reach_campaign", d)
}
