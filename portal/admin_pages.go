package portal

import (
	"cmp"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// The admin's directory pages: partners, keys, campaigns, webhooks, the
// audit log and ingest health. Each asks the domain whether the visitor
// is an admin (hub.RequireAdmin, the API's own guard of these routes)
// and answers anyone else with the 404 page: to them these pages do not
// exist. What a page lists and changes, the Service decides again.

// adminPageRoutes are the directory pages; adminRoutes adds them.
func (p *Portal) adminPageRoutes(g routes) {
	g.GET("/admin/partners", p.adminPartners)
	g.POST("/admin/partners", p.adminCreatePartner, p.csrf)
	g.GET("/admin/partners/:id", p.adminPartner)
	g.POST("/admin/partners/:id", p.adminUpdatePartner, p.csrf)
	g.GET("/admin/keys", p.adminKeys)
	g.POST("/admin/keys", p.adminCreateKey, p.csrf)
	g.GET("/admin/keys/:id/revoke", p.adminConfirmRevokeKey)
	g.POST("/admin/keys/:id/revoke", p.adminRevokeKey, p.csrf)
	g.GET("/admin/campaigns", p.adminCampaigns)
	g.POST("/admin/campaigns", p.adminCreateCampaign, p.csrf)
	g.POST("/admin/campaigns/:slug/visibility", p.adminCampaignVisibility, p.csrf)
	g.GET("/admin/webhooks", p.adminWebhooks)
	g.POST("/admin/webhooks/:id/deadletters/:msgid/replay", p.adminReplay, p.csrf)
	g.GET("/admin/audit", p.adminAudit)
	g.GET("/admin/health", p.adminHealth)
}

// adminKey returns the visitor's key when the domain says it is an
// admin's. Signed out, the visitor gets the sign-in page; any other key
// the 404 page. Either way it returns nil and the page's answer.
func (p *Portal) adminKey(c echo.Context) (*hub.Key, error) {
	k, err := p.signedIn(c)
	if k == nil {
		return nil, err
	}
	if err := hub.RequireAdmin(k); err != nil {
		return nil, p.adminFail(c, err)
	}
	return k, nil
}

// adminFail is p.fail, except that a refusal shows the 404 page.
func (p *Portal) adminFail(c echo.Context, err error) error {
	if hub.ErrorCode(err) == hub.EFORBIDDEN {
		return p.message(c, http.StatusNotFound, "notfound.title", "notfound.text")
	}
	return p.fail(c, err)
}

// refusal is the sentence a form shows when the domain refuses what was
// typed: the catalog's sentence for the code, then the domain's own
// (English) detail, which names the field.
func refusal(c echo.Context, err error) string {
	return visitorOf(c).t.T("error."+hub.ErrorCode(err)) + " " + hub.ErrorMessage(err)
}

// commaList splits a comma-separated field into its trimmed, non-empty
// parts.
func commaList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// --- partners

// partnersData is the partners page.
type partnersData struct {
	Partners  []*hub.Partner
	Campaigns []*hub.Campaign
	Media     []hub.Medium
	Created   string
	Error     string
	Form      partnerForm
	// Chosen are the campaigns ticked in the form.
	Chosen map[string]bool
}

// partnerForm is what the admin typed, kept after a refusal.
type partnerForm struct {
	Name, Region, Medium, Languages string
	Campaigns                       []string
	Active                          bool
}

// media are the media a partner has or a republication report names, in
// the forms' order.
var media = []hub.Medium{hub.MediumTV, hub.MediumRadio, hub.MediumPrint, hub.MediumOnline}

func (p *Portal) partnersPage(c echo.Context, k *hub.Key, d partnersData, status int) error {
	ctx := c.Request().Context()
	partners, err := p.svc.Partners(ctx, k)
	if err != nil {
		return p.adminFail(c, err)
	}
	campaigns, err := p.svc.Campaigns(ctx, k)
	if err != nil {
		return p.adminFail(c, err)
	}
	slices.SortFunc(partners, func(a, b *hub.Partner) int { return strings.Compare(a.Name, b.Name) })
	d.Partners, d.Campaigns, d.Media = partners, campaigns, media
	d.Chosen = map[string]bool{}
	for _, s := range d.Form.Campaigns {
		d.Chosen[s] = true
	}
	return p.render(c, status, "admin_partners", d)
}

func (p *Portal) adminPartners(c echo.Context) error {
	k, err := p.adminKey(c)
	if k == nil {
		return err
	}
	return p.partnersPage(c, k, partnersData{Form: partnerForm{Active: true, Medium: string(hub.MediumOnline)}}, http.StatusOK)
}

func (p *Portal) adminCreatePartner(c echo.Context) error {
	k, err := p.adminKey(c)
	if k == nil {
		return err
	}
	if err := c.Request().ParseForm(); err != nil {
		return p.fail(c, hub.Errorf(hub.EINVALID, "the form could not be read"))
	}
	f := partnerForm{Name: c.FormValue("name"), Region: strings.TrimSpace(c.FormValue("region")), Medium: c.FormValue("medium"),
		Languages: c.FormValue("languages"), Campaigns: c.Request().PostForm["campaigns"], Active: c.FormValue("active") == "on"}
	created, err := p.svc.CreatePartner(c.Request().Context(), k, &hub.Partner{
		Name: strings.TrimSpace(f.Name), Region: f.Region, Medium: hub.Medium(f.Medium), Languages: commaList(f.Languages),
		Campaigns: f.Campaigns, Active: f.Active,
	})
	if code := hub.ErrorCode(err); code == hub.EINVALID || code == hub.ECONFLICT {
		return p.partnersPage(c, k, partnersData{Error: refusal(c, err), Form: f}, http.StatusBadRequest)
	} else if err != nil {
		return p.adminFail(c, err)
	}
	return p.partnersPage(c, k, partnersData{Created: created.Name, Form: partnerForm{Active: true, Medium: string(hub.MediumOnline)}},
		http.StatusCreated)
}

// partnerData is one partner's edit page.
type partnerData struct {
	Partner   *hub.Partner
	Campaigns []string
	Saved     bool
	Error     string
}

func (p *Portal) partnerPage(c echo.Context, k *hub.Key, d partnerData, status int) error {
	ctx := c.Request().Context()
	if d.Partner == nil {
		partner, err := p.svc.Partner(ctx, k, c.Param("id"))
		if err != nil {
			return p.adminFail(c, err)
		}
		d.Partner = partner
	}
	campaigns, err := p.svc.Campaigns(ctx, k)
	if err != nil {
		return p.adminFail(c, err)
	}
	// Every campaign the hub knows, and any the partner is entitled to
	// before it exists (an entitlement may name a campaign to come).
	for _, camp := range campaigns {
		d.Campaigns = append(d.Campaigns, camp.Slug)
	}
	for _, s := range d.Partner.Campaigns {
		if !slices.Contains(d.Campaigns, s) {
			d.Campaigns = append(d.Campaigns, s)
		}
	}
	slices.Sort(d.Campaigns)
	return p.render(c, status, "admin_partner", d)
}

func (p *Portal) adminPartner(c echo.Context) error {
	k, err := p.adminKey(c)
	if k == nil {
		return err
	}
	return p.partnerPage(c, k, partnerData{Saved: c.QueryParam("saved") == "1"}, http.StatusOK)
}

func (p *Portal) adminUpdatePartner(c echo.Context) error {
	k, err := p.adminKey(c)
	if k == nil {
		return err
	}
	if err := c.Request().ParseForm(); err != nil {
		return p.fail(c, hub.Errorf(hub.EINVALID, "the form could not be read"))
	}
	campaigns := c.Request().PostForm["campaigns"]
	if campaigns == nil {
		campaigns = []string{}
	}
	active := c.FormValue("active") == "on"
	_, err = p.svc.UpdatePartner(c.Request().Context(), k, c.Param("id"), hub.PartnerPatch{Campaigns: &campaigns, Active: &active})
	if code := hub.ErrorCode(err); code == hub.EINVALID || code == hub.ECONFLICT {
		return p.partnerPage(c, k, partnerData{Error: refusal(c, err)}, http.StatusBadRequest)
	} else if err != nil {
		return p.adminFail(c, err)
	}
	return seeOther(c, "/admin/partners/"+url.PathEscape(c.Param("id"))+"?saved=1")
}

// --- keys

// keysData is the keys page.
type keysData struct {
	Keys     []keyRow
	Partners []*hub.Partner
	// Secret is the key just issued, shown on this answer only; Issued
	// its name.
	Secret, Issued string
	Revoked        string
	Error          string
	Form           struct{ Name, Role, Partner, Campaigns, Days string }
}

// keyRow is one key of the list, with its partner's name.
type keyRow struct {
	hub.KeyInfo
	PartnerName string
}

func (p *Portal) keysPage(c echo.Context, k *hub.Key, d keysData, status int) error {
	ctx := c.Request().Context()
	keys, err := p.svc.Keys(ctx, k)
	if err != nil {
		return p.adminFail(c, err)
	}
	partners, err := p.svc.Partners(ctx, k)
	if err != nil {
		return p.adminFail(c, err)
	}
	names := partnerNames(partners)
	for _, info := range keys {
		d.Keys = append(d.Keys, keyRow{KeyInfo: info, PartnerName: names[info.Key.Partner]})
	}
	// Newest first: the key just issued is at the top.
	slices.SortFunc(d.Keys, func(a, b keyRow) int {
		return cmp.Or(b.Key.Created.Compare(a.Key.Created), strings.Compare(a.Key.ID, b.Key.ID))
	})
	slices.SortFunc(partners, func(a, b *hub.Partner) int { return strings.Compare(a.Name, b.Name) })
	d.Partners = partners
	if d.Form.Role == "" {
		d.Form.Role = string(hub.RolePartner)
	}
	return p.render(c, status, "admin_keys", d)
}

func (p *Portal) adminKeys(c echo.Context) error {
	k, err := p.adminKey(c)
	if k == nil {
		return err
	}
	return p.keysPage(c, k, keysData{Revoked: c.QueryParam("revoked")}, http.StatusOK)
}

func (p *Portal) adminCreateKey(c echo.Context) error {
	k, err := p.adminKey(c)
	if k == nil {
		return err
	}
	var d keysData
	d.Form.Name, d.Form.Role, d.Form.Partner = c.FormValue("name"), c.FormValue("role"), c.FormValue("partner")
	d.Form.Campaigns, d.Form.Days = c.FormValue("campaigns"), c.FormValue("days")
	role, err := hub.ParseRole(d.Form.Role)
	if err != nil {
		d.Error = refusal(c, err)
		return p.keysPage(c, k, d, http.StatusBadRequest)
	}
	req := hub.Key{Name: strings.TrimSpace(d.Form.Name), Role: role}
	if role == hub.RolePartner {
		req.Partner = d.Form.Partner
	}
	if role == hub.RoleProducer {
		req.Campaigns = commaList(d.Form.Campaigns)
	}
	if s := strings.TrimSpace(d.Form.Days); s != "" {
		days, err := strconv.Atoi(s)
		if err != nil || days < 1 {
			d.Error = refusal(c, hub.Errorf(hub.EINVALID, "days must be a whole number from 1"))
			return p.keysPage(c, k, d, http.StatusBadRequest)
		}
		exp := p.svc.Now().AddDate(0, 0, days)
		req.Expires = &exp
	}
	made, secret, err := p.svc.CreateKey(c.Request().Context(), k, req)
	if code := hub.ErrorCode(err); code == hub.EINVALID || code == hub.ENOTFOUND {
		d.Error = refusal(c, err)
		return p.keysPage(c, k, d, http.StatusBadRequest)
	} else if err != nil {
		return p.adminFail(c, err)
	}
	return p.keysPage(c, k, keysData{Secret: secret, Issued: made.Name}, http.StatusCreated)
}

// revokeData is the page that asks before a key is revoked.
type revokeData struct {
	Key         *hub.Key
	PartnerName string
}

// adminConfirmRevokeKey asks before revoking: the list's button leads
// here, and only this page's form revokes, so no script is needed to
// confirm.
func (p *Portal) adminConfirmRevokeKey(c echo.Context) error {
	k, err := p.adminKey(c)
	if k == nil {
		return err
	}
	ctx := c.Request().Context()
	keys, err := p.svc.Keys(ctx, k)
	if err != nil {
		return p.adminFail(c, err)
	}
	for _, info := range keys {
		if info.Key.ID == c.Param("id") {
			d := revokeData{Key: info.Key}
			if info.Key.Partner != "" {
				if partner, err := p.svc.Partner(ctx, k, info.Key.Partner); err == nil {
					d.PartnerName = partner.Name
				}
			}
			return p.render(c, http.StatusOK, "admin_revoke", d)
		}
	}
	return p.message(c, http.StatusNotFound, "notfound.title", "notfound.text")
}

// adminRevokeKey revokes a key; the domain ends its sessions with it (a
// session's next request finds its key gone).
func (p *Portal) adminRevokeKey(c echo.Context) error {
	k, err := p.adminKey(c)
	if k == nil {
		return err
	}
	if err := p.svc.RevokeKey(c.Request().Context(), k, c.Param("id")); err != nil {
		return p.adminFail(c, err)
	}
	return seeOther(c, "/admin/keys?revoked="+url.QueryEscape(c.Param("id")))
}

// --- campaigns

// campaignsData is the campaigns page.
type campaignsData struct {
	Campaigns []*hub.Campaign
	Created   string
	Error     string
	Form      struct{ Slug, Name, Visibility, Hashtags string }
}

func (p *Portal) campaignsPage(c echo.Context, k *hub.Key, d campaignsData, status int) error {
	all, err := p.svc.Campaigns(c.Request().Context(), k)
	if err != nil {
		return p.adminFail(c, err)
	}
	slices.SortFunc(all, func(a, b *hub.Campaign) int { return strings.Compare(a.Slug, b.Slug) })
	d.Campaigns = all
	if d.Form.Visibility == "" {
		d.Form.Visibility = string(hub.VisibilityPartners)
	}
	return p.render(c, status, "admin_campaigns", d)
}

func (p *Portal) adminCampaigns(c echo.Context) error {
	k, err := p.adminKey(c)
	if k == nil {
		return err
	}
	return p.campaignsPage(c, k, campaignsData{}, http.StatusOK)
}

func (p *Portal) adminCreateCampaign(c echo.Context) error {
	k, err := p.adminKey(c)
	if k == nil {
		return err
	}
	var d campaignsData
	d.Form.Slug, d.Form.Name = strings.TrimSpace(c.FormValue("slug")), strings.TrimSpace(c.FormValue("name"))
	d.Form.Visibility, d.Form.Hashtags = c.FormValue("visibility"), c.FormValue("hashtags")
	camp, err := p.svc.CreateCampaign(c.Request().Context(), k, &hub.Campaign{
		Slug: d.Form.Slug, Name: d.Form.Name, Visibility: hub.Visibility(d.Form.Visibility), Hashtags: commaList(d.Form.Hashtags),
	})
	if code := hub.ErrorCode(err); code == hub.EINVALID || code == hub.ECONFLICT {
		d.Error = refusal(c, err)
		return p.campaignsPage(c, k, d, http.StatusBadRequest)
	} else if err != nil {
		return p.adminFail(c, err)
	}
	return p.campaignsPage(c, k, campaignsData{Created: camp.Slug}, http.StatusCreated)
}

func (p *Portal) adminCampaignVisibility(c echo.Context) error {
	k, err := p.adminKey(c)
	if k == nil {
		return err
	}
	v := hub.Visibility(c.FormValue("visibility"))
	_, err = p.svc.UpdateCampaign(c.Request().Context(), k, c.Param("slug"), hub.CampaignPatch{Visibility: &v})
	if hub.ErrorCode(err) == hub.EINVALID {
		return p.campaignsPage(c, k, campaignsData{Error: refusal(c, err)}, http.StatusBadRequest)
	} else if err != nil {
		return p.adminFail(c, err)
	}
	return seeOther(c, "/admin/campaigns")
}

// --- webhooks

// webhooksData is the webhooks page.
type webhooksData struct {
	webhookList
}

func (p *Portal) webhooksPage(c echo.Context, k *hub.Key, d webhooksData, status int) error {
	ctx := c.Request().Context()
	partners, err := p.svc.Partners(ctx, k)
	if err != nil {
		return p.adminFail(c, err)
	}
	rows, err := p.webhookRows(ctx, k, partnerNames(partners), "/admin/webhooks")
	if err != nil {
		return p.adminFail(c, err)
	}
	// The webhooks with the most dead letters first: that is where an
	// operator is needed.
	slices.SortFunc(rows, func(a, b webhookRow) int {
		return cmp.Or(len(b.DeadLetters)-len(a.DeadLetters), strings.Compare(a.PartnerName, b.PartnerName))
	})
	d.Webhooks = rows
	return p.render(c, status, "admin_webhooks", d)
}

func (p *Portal) adminWebhooks(c echo.Context) error {
	k, err := p.adminKey(c)
	if k == nil {
		return err
	}
	return p.webhooksPage(c, k, webhooksData{}, http.StatusOK)
}

func (p *Portal) adminReplay(c echo.Context) error {
	k, err := p.adminKey(c)
	if k == nil {
		return err
	}
	list, err := p.replayDeadLetter(c, k)
	if err != nil {
		return p.adminFail(c, err)
	}
	return p.webhooksPage(c, k, webhooksData{webhookList: list}, http.StatusOK)
}

// --- audit

// auditPageSizes are the page sizes the audit page offers (the API takes
// any from 1 to hub.MaxPageSize).
var auditPageSizes = []int{25, 50, 100, 200}

// auditData is the audit page: entries newest first, with the cursors of
// the older and the newer page.
type auditData struct {
	Entries      []hub.AuditEntry
	Limit        int
	Sizes        []int
	Before       uint64
	Older, Newer string
}

// adminAudit shows the audit log newest first. The API pages it oldest
// first from a cursor; this page finds the newest entry by asking for
// single entries after growing cursors, then reads the page that ends
// at ?before (the newest when absent).
func (p *Portal) adminAudit(c echo.Context) error {
	k, err := p.adminKey(c)
	if k == nil {
		return err
	}
	ctx := c.Request().Context()
	limit := hub.DefaultPageSize
	if s := c.QueryParam("limit"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= hub.MaxPageSize {
			limit = n
		}
	}
	var before uint64
	if s := c.QueryParam("before"); s != "" {
		if before, err = strconv.ParseUint(s, 10, 64); err != nil {
			return p.fail(c, hub.Errorf(hub.EINVALID, "before %q is not a cursor", s))
		}
	}
	last, err := p.lastAudit(c, k)
	if err != nil {
		return p.adminFail(c, err)
	}
	if before == 0 || before > last+1 {
		before = last + 1
	}
	// Entries are numbered by the log's sequence; a page is the limit
	// entries before the cursor (fewer where retention removed some).
	after := uint64(0)
	if before > uint64(limit)+1 {
		after = before - 1 - uint64(limit)
	}
	entries, _, err := p.svc.Audit(ctx, k, after, limit)
	if err != nil {
		return p.adminFail(c, err)
	}
	entries = slices.DeleteFunc(entries, func(e hub.AuditEntry) bool { return e.Sequence >= before })
	slices.Reverse(entries)
	d := auditData{Entries: entries, Limit: limit, Sizes: auditPageSizes, Before: before}
	q := func(b uint64) string {
		return "/admin/audit?" + url.Values{"before": {strconv.FormatUint(b, 10)}, "limit": {strconv.Itoa(limit)}}.Encode()
	}
	if after > 0 && len(entries) > 0 {
		d.Older = q(entries[len(entries)-1].Sequence)
	}
	if before <= last {
		d.Newer = q(min(before+uint64(limit), last+1))
	}
	return p.render(c, http.StatusOK, "admin_audit", d)
}

// lastAudit is the sequence of the newest audit entry (0 for none),
// found by the domain's own reads: doubling the cursor until nothing
// follows it, then halving the gap.
func (p *Portal) lastAudit(c echo.Context, k *hub.Key) (uint64, error) {
	ctx := c.Request().Context()
	has := func(after uint64) (bool, error) {
		e, _, err := p.svc.Audit(ctx, k, after, 1)
		return len(e) > 0, err
	}
	lo, hi := uint64(0), uint64(1) // something after lo; nothing after hi, once found
	for {
		ok, err := has(hi)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo = hi
		if hi > math.MaxUint64/2 {
			return hi, nil
		}
		hi *= 2
	}
	if ok, err := has(0); err != nil || !ok {
		return 0, err
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := has(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	// Something follows lo, nothing follows hi = lo+1: hi is the last.
	return hi, nil
}

// --- health

// healthData is the ingest health page.
type healthData struct {
	Rows []healthRow
	// Consumers says the hub reads partners' NATS consumers here.
	Consumers bool
}

// healthRow is one partner's line, its figures written out.
type healthRow struct {
	ID, Name string
	// State is receiving, stalled (announcements wait and nothing was
	// delivered for staleAfter), idle (nothing waits), inactive,
	// no_consumer or unknown (no reader, or reading failed).
	State, StateClass, Note string
	Pending, Unacked        string
	LastDelivery, LastAck   string
	LastPickup              string
	Webhooks, DeadLetters   int
}

// staleAfter is how long announcements may wait undelivered before the
// page calls an outlet stalled: a day, since outlets that pull once a
// night are healthy.
const staleAfter = 24 * time.Hour

func (p *Portal) adminHealth(c echo.Context) error {
	k, err := p.adminKey(c)
	if k == nil {
		return err
	}
	all, err := p.svc.IngestHealth(c.Request().Context(), k, p.opts.Consumers)
	if err != nil {
		return p.adminFail(c, err)
	}
	t, now := visitorOf(c).t, p.svc.Now()
	when := func(tm *time.Time) string {
		if tm == nil || tm.IsZero() {
			return "—"
		}
		return t.DateTime(tm.In(p.opts.Location))
	}
	d := healthData{Consumers: p.opts.Consumers != nil}
	for _, in := range all {
		r := healthRow{ID: in.Partner.ID, Name: in.Partner.Name, Pending: "—", Unacked: "—", LastDelivery: "—", LastAck: "—",
			LastPickup: when(in.LastPickup), Webhooks: len(in.Webhooks)}
		for _, w := range in.Webhooks {
			r.DeadLetters += len(w.DeadLetters)
		}
		switch st := in.Consumer; {
		case !in.Partner.Active:
			r.State, r.StateClass = "inactive", "off"
		case st == nil:
			r.State, r.StateClass, r.Note = "unknown", "off", in.ConsumerError
		case !st.Exists:
			r.State, r.StateClass = "no_consumer", "warn"
		default:
			r.Pending, r.Unacked = t.Number(int(st.Pending)), t.Number(st.AckPending)
			r.LastDelivery, r.LastAck = when(st.LastDelivered), when(st.LastAck)
			waiting := st.Pending > 0 || st.AckPending > 0
			switch {
			case waiting && (st.LastDelivered == nil || now.Sub(*st.LastDelivered) > staleAfter):
				r.State, r.StateClass = "stalled", "bad"
			case waiting:
				r.State, r.StateClass = "receiving", "ok"
			default:
				r.State, r.StateClass = "idle", "ok"
			}
		}
		d.Rows = append(d.Rows, r)
	}
	return p.render(c, http.StatusOK, "admin_health", d)
}

// partnerNames maps partners' ids to their names, for pages that list
// keys or webhooks by partner id.
func partnerNames(partners []*hub.Partner) map[string]string {
	names := map[string]string{}
	for _, partner := range partners {
		names[partner.ID] = partner.Name
	}
	return names
}
