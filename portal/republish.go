package portal

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// An outlet's own part of a package's page: its reports of where it
// republished the package (POST /packages/{id}/republications, as the
// API's POST /v1/packages/{id}/republications), and on a withdrawn
// package its own takedown confirmation. The domain answers each for the
// visitor's outlet only; another outlet's reports and confirmations are
// never read.

// republishView is the republication section of a released package's
// page, for an outlet the domain lets report one.
type republishView struct {
	// Reports are the outlet's earlier reports of the package, newest
	// first; Reported the one just recorded, when the page follows a
	// report.
	Reports  []republishReport
	Reported *republishReport
	// Unavailable says this hub records no republications.
	Unavailable bool
	// Form is what the outlet typed, kept after a refusal; Problem why it
	// was refused, and Field the input to fix ("url", "published",
	// "medium", "audience"; "" for none in particular).
	Form    republishForm
	Problem *formProblem
	Field   string
	// Zone names the time zone the publication time is read in.
	Zone  string
	Media []hub.Medium
}

// republishReport is one report as the page lists it, with its audience
// written in the visitor's grouping ("" when not given).
type republishReport struct {
	hub.Pickup
	AudienceText string
}

// republishForm is the report form's fields as typed.
type republishForm struct{ URL, Published, Medium, Audience string }

// republication reads the form into what the domain checks. It refuses
// only what it cannot hand over (a time or a number that does not
// parse), returning the field's name; the domain judges the rest.
func (f republishForm) republication(zone *time.Location, now time.Time) (hub.Republication, string) {
	r := hub.Republication{URL: f.URL, Medium: hub.Medium(f.Medium)}
	published := now
	if strings.TrimSpace(f.Published) != "" {
		t, err := parseDateTime("published", f.Published, zone)
		if err != nil {
			return r, "published"
		}
		published = t
	}
	r.Published = &published
	if a := strings.TrimSpace(f.Audience); a != "" {
		n, err := strconv.ParseInt(strings.ReplaceAll(a, " ", ""), 10, 64)
		if err != nil {
			return r, "audience"
		}
		r.Audience = n
	}
	return r, ""
}

// outletParts adds to d, the page of package pkg, what the visitor's
// outlet has of its own there: on a released package the republication
// section, on a withdrawn or purged one its takedown entry. Visitors who
// are not an outlet's get neither; what the domain refuses an outlet
// (a package it was never expected to take down) is left out.
func (p *Portal) outletParts(c echo.Context, pkg *hub.Package, d *packageData) {
	v := visitorOf(c)
	if !hub.IsOutletKey(v.key) {
		return
	}
	ctx := c.Request().Context()
	if d.Withdrawn || d.Purged {
		mine, err := p.svc.OwnTakedown(ctx, v.key, pkg.ID)
		if err != nil {
			p.logUnexpected(c, "own takedown", err)
			return
		}
		d.CanConfirm, d.Confirmed = true, mine.Confirmed
		return
	}
	if pkg.Status != hub.StatusReleased {
		return
	}
	reports, err := p.svc.OwnRepublications(ctx, v.key, pkg.ID)
	switch hub.ErrorCode(err) {
	case "":
	case hub.EUNAVAILABLE:
		d.Republish = &republishView{Unavailable: true}
		return
	default:
		p.logUnexpected(c, "own republications", err)
		return
	}
	rv := &republishView{Zone: zoneName(p.opts.Location, time.Now()), Media: media}
	for _, r := range reports {
		row := republishReport{Pickup: r}
		if r.Audience > 0 {
			row.AudienceText = v.t.Number(int(r.Audience))
		}
		rv.Reports = append(rv.Reports, row)
	}
	if id := c.QueryParam("reported"); id != "" {
		for i := range rv.Reports {
			if rv.Reports[i].ID == id {
				rv.Reported = &rv.Reports[i]
				break
			}
		}
	}
	d.Republish = rv
}

// logUnexpected logs an error of a part of a page that is left out,
// unless it is one of the domain's answers (a refusal, not a fault).
func (p *Portal) logUnexpected(c echo.Context, what string, err error) {
	if _, known := statusOf[hub.ErrorCode(err)]; !known {
		p.log.Error("portal page part failed", "route", c.Path(), "part", what, "err", err)
	}
}

// reportRepublication records where the visitor's outlet republished a
// package and shows the page with the report (a redirect, so a reload
// does not send it again). A report the domain refuses comes back on the
// page with the sentence for the field to fix, and nothing is stored.
func (p *Portal) reportRepublication(c echo.Context) error {
	k, err := p.signedIn(c)
	if k == nil {
		return err
	}
	ctx := c.Request().Context()
	id := c.Param("id")
	f := republishForm{URL: strings.TrimSpace(c.FormValue("url")), Published: c.FormValue("published"),
		Medium: c.FormValue("medium"), Audience: c.FormValue("audience")}
	t := visitorOf(c).t
	r, field := f.republication(p.opts.Location, time.Now())
	problem := &formProblem{}
	if field == "" {
		pk, err := p.svc.ReportRepublication(ctx, k, id, r)
		switch code := hub.ErrorCode(err); {
		case err == nil:
			return seeOther(c, "/packages/"+url.PathEscape(id)+"?reported="+url.QueryEscape(pk.ID)+"#republications")
		case code == hub.ENOTFOUND:
			return p.message(c, http.StatusNotFound, "notfound.title", "notfound.text")
		case code != hub.EINVALID:
			return p.fail(c, err)
		}
		field, problem.Detail = hub.ErrorField(err), hub.ErrorMessage(err)
	}
	// Refused: the page again, with what was typed and the sentence for
	// the field to fix (the domain's own words, English, beside it).
	problem.Text = t.T("error.invalid")
	if slices.Contains(republishFields, field) {
		problem.Text = t.T("repub.bad." + field)
	}
	pkg, err := p.svc.Package(ctx, k, id)
	if err != nil {
		return p.fail(c, err)
	}
	d := p.packageView(c, pkg)
	if d.Republish == nil || d.Republish.Unavailable {
		// Not a page with the form (a withdrawn package): nothing to
		// show the refusal beside.
		return p.render(c, http.StatusBadRequest, "message", messageData{Title: t.T("error.title"), Text: problem.Text, Status: http.StatusBadRequest})
	}
	d.Republish.Form, d.Republish.Problem, d.Republish.Field = f, problem, field
	return p.render(c, http.StatusBadRequest, "packages_package", d)
}

// republishFields are the form's fields, each with a sentence of its own
// for a refusal (repub.bad.<field>).
var republishFields = []string{"url", "published", "medium", "audience"}
