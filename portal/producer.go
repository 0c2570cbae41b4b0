package portal

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/portal/i18n"
)

// The producer's studio: the packages a producer (or an admin) makes,
// their assets and their lifecycle. Every page asks the domain with the
// visitor's key, through the calls the API's handlers make
// (hub/api/packages.go, assets.go, lifecycle.go, takedowns.go); what a
// key may not see or change is the domain's answer, shown as a page.

// maxFormUpload bounds the plain upload form, the way without
// JavaScript: larger files go through the drag-and-drop uploader, which
// sends them resumably in pieces.
const maxFormUpload = 64 << 20

// uploadChunk is the size of each piece the resumable uploader sends.
const uploadChunk = 16 << 20

// producerRoutes are the pages producers make and release packages with.
func (p *Portal) producerRoutes(g routes) {
	g.GET("/studio", p.studio)
	g.GET("/studio/new", p.studioNew)
	g.POST("/studio/new", p.studioCreate, p.csrf)
	g.GET("/studio/:id", p.studioPackage)
	g.POST("/studio/:id", p.studioUpdate, p.csrf)
	// The size check runs before the token check, which reads the form.
	g.POST("/studio/:id/assets", p.studioUpload, p.limitUploadForm, p.csrf)
	g.POST("/studio/:id/asset", p.studioAsset, p.csrf)
	g.POST("/studio/:id/asset/delete", p.studioDeleteAsset, p.csrf)
	g.POST("/studio/:id/release", p.studioRelease, p.csrf)
	g.POST("/studio/:id/unschedule", p.studioUnschedule, p.csrf)
	g.POST("/studio/:id/withdraw", p.studioWithdraw, p.csrf)
	g.GET("/studio/:id/purge", p.studioPurgeConfirm)
	g.POST("/studio/:id/purge", p.studioPurge, p.csrf)
}

// studioKey returns the visitor's key when it may work in the studio:
// signed in (else the sign-in page) and of a role that makes packages
// (else the domain's refusal, a 403 page).
func (p *Portal) studioKey(c echo.Context) (*hub.Key, error) {
	k, err := p.signedIn(c)
	if k == nil {
		return nil, err
	}
	if err := hub.MayCreatePackages(k); err != nil {
		return nil, p.fail(c, err)
	}
	return k, nil
}

// studioStatuses are the states the listing filters by.
var studioStatuses = []hub.Status{hub.StatusDraft, hub.StatusScheduled, hub.StatusReleased, hub.StatusWithdrawn, hub.StatusPurged}

// studioData is the studio's listing.
type studioData struct {
	Items     []*hub.Package
	Campaigns []*hub.Campaign
	Statuses  []hub.Status
	Campaign  string
	Status    string
	Next      string
}

// studio lists the packages the visitor may see, newest first, through
// the listing GET /v1/packages answers.
func (p *Portal) studio(c echo.Context) error {
	k, err := p.studioKey(c)
	if k == nil {
		return err
	}
	ctx := c.Request().Context()
	d := studioData{Statuses: studioStatuses, Campaign: c.QueryParam("campaign"), Status: c.QueryParam("status")}
	q := hub.PackageQuery{Campaign: d.Campaign, After: c.QueryParam("cursor")}
	if slices.Contains(studioStatuses, hub.Status(d.Status)) {
		q.Status = hub.Status(d.Status)
	} else {
		d.Status = ""
	}
	page, err := p.svc.Packages(ctx, k, q)
	if err != nil {
		return p.fail(c, err)
	}
	if d.Campaigns, err = p.svc.Campaigns(ctx, k); err != nil {
		return p.fail(c, err)
	}
	d.Items = page.Items
	if page.Next != "" {
		v := url.Values{"cursor": {page.Next}}
		if d.Campaign != "" {
			v.Set("campaign", d.Campaign)
		}
		if d.Status != "" {
			v.Set("status", d.Status)
		}
		d.Next = "/studio?" + v.Encode()
	}
	return p.render(c, http.StatusOK, "producer_studio", d)
}

// packageForm is the package form's fields as typed.
type packageForm struct {
	Campaign, Language, Headline, Summary, Body, By string
	Copyright, Usage, Warning, Translations         string
	Anonymized                                      bool
}

func studioText(ts []hub.Text) string {
	if len(ts) == 0 {
		return ""
	}
	return ts[0].Value
}

// formOf is the form filled with p's fields.
func formOf(p *hub.Package) packageForm {
	return packageForm{Campaign: p.Campaign, Language: p.Language, Headline: studioText(p.Headlines),
		Summary: studioText(p.Descriptions), Body: studioText(p.Bodies), By: p.By, Copyright: p.CopyrightNotice,
		Usage: p.UsageTerms, Warning: p.ContentWarning, Anonymized: p.Anonymized,
		Translations: strings.Join(p.Translations, " ")}
}

func readPackageForm(c echo.Context) packageForm {
	f := func(name string) string { return strings.TrimSpace(c.FormValue(name)) }
	return packageForm{Campaign: f("campaign"), Language: f("language"), Headline: f("headline"), Summary: f("summary"),
		Body: strings.TrimRight(c.FormValue("body"), " \t\r\n"), By: f("by"), Copyright: f("copyright"), Usage: f("usage"),
		Warning: f("warning"), Anonymized: c.FormValue("anonymized") == "on", Translations: f("translations")}
}

// withFirst returns texts with the first one's value set to v (its role
// and content type kept), or without the first one when v is empty: the
// form edits the first headline, summary and body, and keeps the others
// the API may have set.
func withFirst(texts []hub.Text, v string) []hub.Text {
	out := slices.Clone(texts)
	switch {
	case v == "" && len(out) > 0:
		return out[1:]
	case v == "":
		return []hub.Text{}
	case len(out) == 0:
		return []hub.Text{{Value: v}}
	}
	out[0].Value = v
	return out
}

func (f packageForm) translations() []string {
	ids := strings.FieldsFunc(f.Translations, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	if ids == nil {
		ids = []string{}
	}
	return ids
}

// patch is what the form changes in old: only the fields that differ, so
// saving an unchanged form starts no revision of a released package.
func (f packageForm) patch(old *hub.Package) hub.PackagePatch {
	var pp hub.PackagePatch
	was := formOf(old)
	str := func(now, before string) *string {
		if now == before {
			return nil
		}
		return &now
	}
	texts := func(now, before string, ts []hub.Text) *[]hub.Text {
		if now == before {
			return nil
		}
		t := withFirst(ts, now)
		return &t
	}
	pp.Campaign, pp.Language = str(f.Campaign, was.Campaign), str(f.Language, was.Language)
	pp.Headlines = texts(f.Headline, was.Headline, old.Headlines)
	pp.Descriptions = texts(f.Summary, was.Summary, old.Descriptions)
	pp.Bodies = texts(f.Body, was.Body, old.Bodies)
	pp.By, pp.CopyrightNotice = str(f.By, was.By), str(f.Copyright, was.Copyright)
	pp.UsageTerms, pp.ContentWarning = str(f.Usage, was.Usage), str(f.Warning, was.Warning)
	if f.Anonymized != was.Anonymized {
		pp.Anonymized = &f.Anonymized
	}
	if ids := f.translations(); !slices.Equal(ids, old.Translations) && !(len(ids) == 0 && len(old.Translations) == 0) {
		pp.Translations = &ids
	}
	return pp
}

// empty reports whether pp changes nothing.
func emptyPatch(pp hub.PackagePatch) bool { return pp == hub.PackagePatch{} }

// formProblem is a refusal shown beside the form: the sentence of the
// error's code in the visitor's language, and the domain's own words
// (English) as the detail of what to fix.
type formProblem struct {
	Text, Detail string
}

func (p *Portal) problemOf(c echo.Context, err error) *formProblem {
	code := hub.ErrorCode(err)
	if _, ok := statusOf[code]; !ok {
		p.log.Error("studio action failed", "route", c.Path(), "err", err)
		return &formProblem{Text: visitorOf(c).t.T("error." + code)}
	}
	return &formProblem{Text: visitorOf(c).t.T("error." + code), Detail: hub.ErrorMessage(err)}
}

func statusFor(err error) int {
	if s, ok := statusOf[hub.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// editData is the package page: the new package form, or a package with
// its form, assets and lifecycle.
type editData struct {
	New       bool
	Pkg       *hub.Package
	Form      packageForm
	Campaigns []*hub.Campaign
	Langs     []i18n.Lang
	// Problem is a refusal of the form (FormProblem) or of an action on
	// the page (Problem), shown where it was made.
	FormProblem, Problem *formProblem
	Done                 string
	Assets               []studioAsset
	AssetTypes           []hub.AssetType
	// Embargo, in the zone the producer gave (EmbargoZone) and in UTC.
	EmbargoLocal, EmbargoZone, EmbargoUTC string
	// Correction says the released package has changes to release;
	// ReadOnly that it takes none (withdrawn or purged).
	Correction, ReadOnly bool
	Takedowns            *hub.TakedownReport
	// Upload is what the drag-and-drop uploader needs.
	Upload      uploadConfig
	UppyStrings map[string]any
}

// studioAsset is an asset with its scrub report and renditions.
type studioAsset struct {
	hub.Asset
	Report       *hub.ScrubReport
	ReportAbsent string
	Renditions   []hub.Rendition
	Thumbnail    bool
	Describable  bool
	SizeText     string
	Field        string // a prefix of the asset's form ids
}

// uploadConfig is the uploader's settings, in data attributes.
type uploadConfig struct {
	Endpoint string
	Chunk    int
	MaxBytes int64
}

func (p *Portal) studioNew(c echo.Context) error {
	k, err := p.studioKey(c)
	if k == nil {
		return err
	}
	return p.newPage(c, k, packageForm{Language: string(visitorOf(c).lang)}, nil, http.StatusOK)
}

func (p *Portal) newPage(c echo.Context, k *hub.Key, f packageForm, problem *formProblem, status int) error {
	campaigns, err := p.svc.Campaigns(c.Request().Context(), k)
	if err != nil {
		return p.fail(c, err)
	}
	if f.Campaign == "" && len(k.Campaigns) == 1 {
		f.Campaign = k.Campaigns[0]
	}
	return p.render(c, status, "producer_edit", editData{New: true, Form: f, Campaigns: campaigns, Langs: i18n.Langs(), FormProblem: problem})
}

// studioCreate makes a draft as POST /v1/packages does; a refusal shows
// the form again, as typed, and nothing is stored.
func (p *Portal) studioCreate(c echo.Context) error {
	k, err := p.studioKey(c)
	if k == nil {
		return err
	}
	f := readPackageForm(c)
	pkg := &hub.Package{}
	empty := &hub.Package{}
	f.patch(empty).Apply(pkg)
	created, err := p.svc.CreatePackage(c.Request().Context(), k, pkg)
	if err != nil {
		return p.newPage(c, k, f, p.problemOf(c, err), statusFor(err))
	}
	return seeOther(c, "/studio/"+created.ID+"?done=created")
}

// studioDone are the notices a redirect after an action may ask for.
var studioDone = []string{"created", "saved", "uploaded", "asset_saved", "asset_deleted", "released", "scheduled",
	"corrected", "unscheduled", "withdrawn", "purged"}

// editablePackage reads package id for k as GET /v1/packages/{id} does,
// and refuses one k may not change (hub.CanEdit) as the domain would:
// not found.
func (p *Portal) editablePackage(c echo.Context, k *hub.Key) (*hub.Package, error) {
	id := c.Param("id")
	pkg, err := p.svc.Package(c.Request().Context(), k, id)
	if err != nil {
		return nil, err
	}
	if !hub.CanEdit(k, pkg) {
		return nil, hub.Errorf(hub.ENOTFOUND, "there is no package %q", id)
	}
	return pkg, nil
}

func (p *Portal) studioPackage(c echo.Context) error {
	k, err := p.studioKey(c)
	if k == nil {
		return err
	}
	d := editData{}
	if done := c.QueryParam("done"); slices.Contains(studioDone, done) {
		d.Done = done
	}
	return p.studioPage(c, k, d, nil, http.StatusOK)
}

// studioPage renders the package page for k; f, when not nil, is the
// form as typed (after a refusal) instead of the package's fields.
func (p *Portal) studioPage(c echo.Context, k *hub.Key, d editData, f *packageForm, status int) error {
	ctx := c.Request().Context()
	pkg, err := p.editablePackage(c, k)
	if err != nil {
		return p.fail(c, err)
	}
	t := visitorOf(c).t
	d.Pkg, d.Langs, d.AssetTypes = pkg, i18n.Langs(), hub.AssetTypes
	d.Form = formOf(pkg)
	if f != nil {
		d.Form = *f
	}
	if d.Campaigns, err = p.svc.Campaigns(ctx, k); err != nil {
		return p.fail(c, err)
	}
	sets := p.svc.RenditionSets(ctx, pkg)
	for i, a := range pkg.Assets {
		v := studioAsset{Asset: a, Field: "a" + strconv.Itoa(i), SizeText: studioSize(t, a.Size),
			Describable: a.Type == hub.AssetPicture || a.Type == hub.AssetGraphic}
		if set := sets[a.SHA256]; set != nil {
			v.Renditions = set.Renditions
			if r := set.Rendition("thumbnail"); r != nil && r.State == hub.RenditionReady {
				v.Thumbnail = true
			}
		}
		if a.Scrub != "" {
			rep, err := p.svc.ScrubReport(ctx, k, pkg.ID, a.Name)
			switch {
			case err == nil:
				v.Report = rep
			case hub.ErrorCode(err) == hub.ENOTFOUND:
				v.ReportAbsent = t.T("studio.scrub.lost")
			default:
				return p.fail(c, err)
			}
		}
		d.Assets = append(d.Assets, v)
	}
	if pkg.Embargo != nil {
		zone := embargoZone(c.QueryParam("tz"))
		d.EmbargoLocal = t.DateTime(pkg.Embargo.In(zone))
		d.EmbargoZone = zoneName(zone, *pkg.Embargo)
		d.EmbargoUTC = t.DateTime(pkg.Embargo.UTC())
	}
	d.ReadOnly = pkg.Status == hub.StatusWithdrawn || pkg.Status == hub.StatusPurged
	if d.ReadOnly && d.FormProblem != nil && d.Problem == nil {
		// A read-only package's page has no form to show the refusal
		// beside: it goes at the top, or the refusal would be silent.
		d.Problem, d.FormProblem = d.FormProblem, nil
	}
	d.Correction = pkg.Status == hub.StatusReleased && pkg.Live != nil && pkg.Version != pkg.Live.Version
	if pkg.Status == hub.StatusWithdrawn || pkg.Status == hub.StatusPurged {
		r, err := p.svc.Takedowns(ctx, k, pkg.ID)
		switch {
		case err == nil:
			d.Takedowns = r
		case hub.ErrorCode(err) != hub.ECONFLICT: // a package purged unreleased sent no kill notice
			return p.fail(c, err)
		}
	}
	d.Upload = uploadConfig{Endpoint: "/v1/uploads", Chunk: uploadChunk, MaxBytes: p.svc.MaxAssetBytes()}
	d.UppyStrings = uppyLocale(t)
	return p.render(c, status, "producer_edit", d)
}

// studioUpdate saves the form's changes as PATCH /v1/packages/{id} does.
func (p *Portal) studioUpdate(c echo.Context) error {
	k, err := p.studioKey(c)
	if k == nil {
		return err
	}
	pkg, err := p.editablePackage(c, k)
	if err != nil {
		return p.fail(c, err)
	}
	f := readPackageForm(c)
	if pp := f.patch(pkg); !emptyPatch(pp) {
		if _, err := p.svc.UpdatePackage(c.Request().Context(), k, pkg.ID, pp); err != nil {
			return p.studioPage(c, k, editData{FormProblem: p.problemOf(c, err)}, &f, statusFor(err))
		}
	}
	return seeOther(c, "/studio/"+pkg.ID+"?done=saved")
}

// limitUploadForm refuses a plain upload form larger than maxFormUpload
// before anything reads it.
func (p *Portal) limitUploadForm(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > maxFormUpload {
			return p.fail(c, hub.Errorf(hub.ETOOLARGE, "the form is %d bytes; the plain form takes %d", r.ContentLength, maxFormUpload))
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, maxFormUpload)
		return next(c)
	}
}

// studioUpload stores the files of the plain form (multipart, its token
// in a field) through the same Service.PutAsset as every upload: the way
// without JavaScript.
func (p *Portal) studioUpload(c echo.Context) error {
	k, err := p.studioKey(c)
	if k == nil {
		return err
	}
	id := c.Param("id")
	form := c.Request().MultipartForm
	if form == nil || len(form.File["file"]) == 0 {
		return p.studioPage(c, k, editData{Problem: &formProblem{Text: visitorOf(c).t.T("studio.upload.nofile")}}, nil, http.StatusBadRequest)
	}
	var typ hub.AssetType
	if s := c.FormValue("type"); s != "" {
		if typ, err = hub.ParseAssetType(s); err != nil {
			return p.studioPage(c, k, editData{Problem: p.problemOf(c, err)}, nil, statusFor(err))
		}
	}
	for _, fh := range form.File["file"] {
		f, err := fh.Open()
		if err != nil {
			return p.fail(c, fmt.Errorf("open the uploaded file %q: %w", fh.Filename, err))
		}
		_, _, err = p.svc.PutAsset(c.Request().Context(), k, id, hub.AssetUpload{Name: fh.Filename, Type: typ, Body: f, Size: fh.Size})
		f.Close()
		if err != nil {
			return p.studioPage(c, k, editData{Problem: p.problemOf(c, err)}, nil, statusFor(err))
		}
	}
	return seeOther(c, "/studio/"+id+"?done=uploaded")
}

// studioAsset sets an asset's caption and alt text, as PATCH
// /v1/packages/{id}/assets/{name} does.
func (p *Portal) studioAsset(c echo.Context) error {
	k, err := p.studioKey(c)
	if k == nil {
		return err
	}
	id := c.Param("id")
	var patch hub.AssetPatch
	form, _ := c.FormParams()
	if _, ok := form["caption"]; ok {
		v := strings.TrimSpace(form.Get("caption"))
		patch.Caption = &v
	}
	if _, ok := form["alttext"]; ok {
		v := strings.TrimSpace(form.Get("alttext"))
		patch.AltText = &v
	}
	if _, err := p.svc.UpdateAsset(c.Request().Context(), k, id, form.Get("name"), patch); err != nil {
		return p.studioPage(c, k, editData{Problem: p.problemOf(c, err)}, nil, statusFor(err))
	}
	return seeOther(c, "/studio/"+id+"?done=asset_saved")
}

func (p *Portal) studioDeleteAsset(c echo.Context) error {
	k, err := p.studioKey(c)
	if k == nil {
		return err
	}
	id := c.Param("id")
	if err := p.svc.DeleteAsset(c.Request().Context(), k, id, c.FormValue("name")); err != nil {
		return p.studioPage(c, k, editData{Problem: p.problemOf(c, err)}, nil, statusFor(err))
	}
	return seeOther(c, "/studio/"+id+"?done=asset_deleted")
}

// Offsets a zone may have: UTC-12:00 to UTC+14:00, in minutes.
const (
	minZoneOffset = -12 * 60
	maxZoneOffset = 14 * 60
)

// embargoZone is the producer's zone from the offset its browser sent,
// in minutes east of UTC; UTC when there is none (no JavaScript) or it
// is not one.
func embargoZone(minutes string) *time.Location {
	n, err := strconv.Atoi(strings.TrimSpace(minutes))
	if err != nil || n < minZoneOffset || n > maxZoneOffset || n == 0 {
		return time.UTC
	}
	return time.FixedZone(zoneOffset(n), n*60)
}

// zoneOffset writes an offset in minutes as "UTC+05:00".
func zoneOffset(minutes int) string {
	sign := '+'
	if minutes < 0 {
		sign, minutes = '-', -minutes
	}
	return fmt.Sprintf("UTC%c%02d:%02d", sign, minutes/60, minutes%60)
}

func zoneName(loc *time.Location, t time.Time) string {
	_, off := t.In(loc).Zone()
	if off == 0 {
		return "UTC"
	}
	return zoneOffset(off / 60)
}

// parseDateTime reads the datetime-local value of form field field in
// zone.
func parseDateTime(field, value string, zone *time.Location) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(value), zone); err == nil {
			return t, nil
		}
	}
	return time.Time{}, hub.Errorf(hub.EINVALID, "%s %q is not a date and time such as 2026-11-25T06:00", field, value)
}

// studioRelease releases now, or at the embargo the form gives (in the
// producer's zone), as POST /v1/packages/{id}/release does; a released
// package with changes goes out as a correction.
func (p *Portal) studioRelease(c echo.Context) error {
	k, err := p.studioKey(c)
	if k == nil {
		return err
	}
	id := c.Param("id")
	var embargo *time.Time
	tz := c.FormValue("tz")
	if v := c.FormValue("embargo"); v != "" || c.FormValue("schedule") != "" {
		e, err := parseDateTime("embargo", v, embargoZone(tz))
		if err != nil {
			return p.studioPage(c, k, editData{Problem: &formProblem{Text: visitorOf(c).t.T("studio.embargo.bad")}}, nil, http.StatusBadRequest)
		}
		embargo = &e
	}
	before, err := p.editablePackage(c, k)
	if err != nil {
		return p.fail(c, err)
	}
	pkg, err := p.svc.Release(c.Request().Context(), k, id, embargo)
	if err != nil {
		return p.studioPage(c, k, editData{Problem: p.problemOf(c, err)}, nil, statusFor(err))
	}
	done := "released"
	switch {
	case pkg.Status == hub.StatusScheduled:
		v := url.Values{"done": {"scheduled"}}
		if loc := embargoZone(tz); loc != time.UTC {
			v.Set("tz", strings.TrimSpace(tz))
		}
		return seeOther(c, "/studio/"+id+"?"+v.Encode())
	case before.Live != nil:
		done = "corrected"
	}
	return seeOther(c, "/studio/"+id+"?done="+done)
}

// lifecycle runs one of the lifecycle calls that take no arguments.
func (p *Portal) lifecycle(c echo.Context, call func(k *hub.Key, id string) error, done string) error {
	k, err := p.studioKey(c)
	if k == nil {
		return err
	}
	id := c.Param("id")
	if err := call(k, id); err != nil {
		return p.studioPage(c, k, editData{Problem: p.problemOf(c, err)}, nil, statusFor(err))
	}
	return seeOther(c, "/studio/"+id+"?done="+done)
}

func (p *Portal) studioUnschedule(c echo.Context) error {
	return p.lifecycle(c, func(k *hub.Key, id string) error {
		_, err := p.svc.Unschedule(c.Request().Context(), k, id)
		return err
	}, "unscheduled")
}

func (p *Portal) studioWithdraw(c echo.Context) error {
	return p.lifecycle(c, func(k *hub.Key, id string) error {
		_, err := p.svc.Withdraw(c.Request().Context(), k, id)
		return err
	}, "withdrawn")
}

func (p *Portal) studioPurge(c echo.Context) error {
	return p.lifecycle(c, func(k *hub.Key, id string) error {
		_, err := p.svc.Purge(c.Request().Context(), k, id)
		return err
	}, "purged")
}

// purgeData is the purge's confirmation page: everything the purge
// deletes, named before the producer confirms.
type purgeData struct {
	Pkg        *hub.Package
	Headline   string
	Assets     []hub.Asset
	Versions   int
	Renditions int
	Released   bool
}

func (p *Portal) studioPurgeConfirm(c echo.Context) error {
	k, err := p.studioKey(c)
	if k == nil {
		return err
	}
	pkg, err := p.editablePackage(c, k)
	if err != nil {
		return p.fail(c, err)
	}
	if pkg.Status == hub.StatusPurged {
		return seeOther(c, "/studio/"+pkg.ID)
	}
	d := purgeData{Pkg: pkg, Headline: studioText(pkg.Headlines), Assets: pkg.Assets, Released: pkg.Live != nil}
	if d.Headline == "" {
		d.Headline = pkg.ID
	}
	if pkg.Live != nil {
		d.Versions = pkg.Live.Version
	}
	for _, set := range p.svc.RenditionSets(c.Request().Context(), pkg) {
		for _, r := range set.Renditions {
			if r.State == hub.RenditionReady {
				d.Renditions++
			}
		}
	}
	return p.render(c, http.StatusOK, "producer_purge", d)
}

// studioSize is a file size as a person reads it: bytes, KB below 10 MB,
// MB above, with the language's digit grouping.
func studioSize(t *i18n.Printer, n int64) string {
	switch {
	case n < 1024:
		return t.T("studio.size.bytes", "n", t.Number(int(n)))
	case n < 10<<20:
		return t.T("studio.size.kb", "n", t.Number(int((n+1023)/1024)))
	}
	return t.T("studio.size.mb", "n", t.Number(int((n+(1<<19))>>20)))
}
