package portal

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// An outlet's own pages: its set-up, everything its ingest engineer needs
// to receive releases (private feeds, NATS, webhooks). Each asks the
// domain with the visitor's key for the outlet's own part only; other
// outlets' tokens, webhooks and dead letters are never read.

// partnerRoutes are an outlet's own pages and forms: its set-up, and its
// republication reports from a package's page (republish.go). Each
// handler asks the domain, which answers for the visitor's outlet only.
func (p *Portal) partnerRoutes(g routes) {
	g.GET("/setup", p.setup)
	g.POST("/setup/feedtoken", p.setupIssueFeedToken, p.csrf)
	g.POST("/setup/feedtoken/revoke", p.setupRevokeFeedToken, p.csrf)
	g.POST("/setup/webhooks", p.setupCreateWebhook, p.csrf)
	g.GET("/setup/webhooks/:id/delete", p.setupConfirmDeleteWebhook)
	g.POST("/setup/webhooks/:id/delete", p.setupDeleteWebhook, p.csrf)
	g.POST("/setup/webhooks/:id/deadletters/:msgid/replay", p.setupReplay, p.csrf)
	g.POST("/packages/:id/republications", p.reportRepublication, p.csrf)
}

// setupPath is the set-up page's address, where sign-in returns.
const setupPath = "/setup"

// outlet returns the visitor's key and its outlet's record when the
// domain says the key is an outlet's. Signed out, the visitor gets the
// sign-in page (coming back here); any other key the 403 page. Either
// way it returns nil and the page's answer.
func (p *Portal) outlet(c echo.Context) (*hub.Key, *hub.Partner, error) {
	v := visitorOf(c)
	if v.key == nil {
		// Back to the page asked for; a form's POST back to the set-up page.
		next := setupPath
		if r := c.Request(); r.Method == http.MethodGet || r.Method == http.MethodHead {
			next = r.URL.RequestURI()
		}
		return nil, nil, p.render(c, http.StatusUnauthorized, "signin", signinData{Next: next})
	}
	partner, err := p.svc.OwnPartner(c.Request().Context(), v.key)
	switch hub.ErrorCode(err) {
	case "":
		return v.key, partner, nil
	case hub.EFORBIDDEN:
		return nil, nil, p.message(c, http.StatusForbidden, "setup.forbidden.title", "setup.forbidden.text")
	}
	return nil, nil, p.fail(c, err)
}

// setupData is the set-up page.
type setupData struct {
	Partner *hub.Partner
	// LinkKey says the visitor signed in with a sign-in link: its key has
	// no secret the person knows, so NATS and hub pull need a key of
	// their own.
	LinkKey bool
	// Feed is where the feed token stands; FeedURLs the private feeds'
	// addresses with the token just issued, shown this once.
	Feed     hub.FeedTokenState
	FeedURLs []feedURL
	// PublicFeed is the public feed's address, which needs no token.
	PublicFeed string
	// NATS is what GET /v1/me/nats answers, with the commands that use
	// it; NATSOff says this hub offers no NATS access, NATSError why the
	// domain answered none.
	NATS          *hub.NATSAccess
	NATSOff       bool
	NATSError     string
	NATSCommand   string
	PullCommand   string
	ReportCommand string
	HubURL        string
	// Webhooks are the outlet's own; Created the one just registered,
	// with its secret shown this once; WebhookError a refusal of the URL
	// typed (WebhookURL).
	Webhooks     webhookList
	Created      *hub.Webhook
	WebhookError string
	WebhookURL   string
	// Done is what a form just did: "revoked" (the feed token) or
	// "deleted" (a webhook).
	Done string
}

// feedURL is one private feed's address.
type feedURL struct{ Format, URL string }

// feedFormats are the private feeds' formats, as their file names end.
var feedFormats = []string{"rss", "atom", "json"}

// privateFeeds returns the addresses of the private feeds of token.
func (p *Portal) privateFeeds(token string) []feedURL {
	out := make([]feedURL, 0, len(feedFormats))
	for _, f := range feedFormats {
		out = append(out, feedURL{Format: f, URL: p.opts.PublicURL + "/feeds/p/" + token + "/releases." + f})
	}
	return out
}

// setupPage gathers, as the domain answers k, what the set-up page shows
// beside d's outcome of a form, and renders it with status.
func (p *Portal) setupPage(c echo.Context, k *hub.Key, partner *hub.Partner, d setupData, status int) error {
	ctx := c.Request().Context()
	d.Partner, d.LinkKey, d.HubURL = partner, k.SigninLink != "", p.opts.PublicURL
	d.PublicFeed = p.opts.PublicURL + "/feeds/releases.atom"
	feed, err := p.svc.FeedToken(ctx, k, partner.ID)
	if err != nil {
		return p.fail(c, err)
	}
	d.Feed = feed
	if p.opts.NATSAccess == nil {
		d.NATSOff = true
	} else if acc, err := p.svc.PartnerNATS(ctx, k, p.opts.NATSAccess); err != nil {
		// The domain keeps no consumer for an outlet that is not active
		// (ENOTFOUND); anything else is the error's own sentence.
		p.logUnexpected(c, "NATS access", err)
		d.NATSError = visitorOf(c).t.T("error." + hub.ErrorCode(err))
		if hub.ErrorCode(err) == hub.ENOTFOUND {
			d.NATSError = visitorOf(c).t.T("setup.nats.inactive")
		}
	} else {
		d.NATS = &acc
		d.NATSCommand = natsCommand(acc, d.LinkKey)
	}
	// The key stays out of the page: the engineer puts in their own.
	env := "export HUB_URL=" + p.opts.PublicURL + "\nexport HUB_KEY=hub_…\n"
	d.PullCommand = env + "hub pull --dest /srv/hub-ingest --follow"
	d.ReportCommand = env + "hub report --package <package-id> --url https://example.kz/news/123 --audience 12000"
	rows, err := p.webhookRows(ctx, k, map[string]string{partner.ID: partner.Name}, "/setup/webhooks")
	if err != nil {
		return p.fail(c, err)
	}
	d.Webhooks.Webhooks = rows
	return p.render(c, status, "partner_setup", d)
}

// natsCommand is a `nats` command line that fetches from the outlet's
// consumer with the access acc; the key is read from $HUB_KEY, never
// written on the page. Without a user (the operator issues credentials)
// it takes a credentials file.
func natsCommand(acc hub.NATSAccess, linkKey bool) string {
	auth := `--creds outlet.creds`
	if acc.Credential == hub.NATSCredentialKey {
		user := acc.User
		if linkKey {
			user = "<your-key-id>"
		}
		auth = `--user ` + user + ` --password "$HUB_KEY"`
	}
	return strings.Join([]string{"nats --server", acc.URL, auth, "--inbox-prefix", acc.InboxPrefix,
		"consumer next", acc.Stream, acc.Consumer, "--count 10"}, " ")
}

func (p *Portal) setup(c echo.Context) error {
	k, partner, err := p.outlet(c)
	if k == nil {
		return err
	}
	var d setupData
	switch done := c.QueryParam("done"); done {
	case "revoked", "deleted":
		d.Done = done
	}
	return p.setupPage(c, k, partner, d, http.StatusOK)
}

// setupIssueFeedToken issues a new feed token, which ends the old one,
// and shows its feeds' addresses this once.
func (p *Portal) setupIssueFeedToken(c echo.Context) error {
	k, partner, err := p.outlet(c)
	if k == nil {
		return err
	}
	token, err := p.svc.IssueFeedToken(c.Request().Context(), k, partner.ID)
	if err != nil {
		return p.fail(c, err)
	}
	return p.setupPage(c, k, partner, setupData{FeedURLs: p.privateFeeds(token)}, http.StatusCreated)
}

func (p *Portal) setupRevokeFeedToken(c echo.Context) error {
	k, partner, err := p.outlet(c)
	if k == nil {
		return err
	}
	if err := p.svc.RevokeFeedToken(c.Request().Context(), k, partner.ID); err != nil {
		return p.fail(c, err)
	}
	return seeOther(c, setupPath+"?done=revoked")
}

// setupCreateWebhook registers an endpoint of the outlet's and shows its
// signing secret this once; a URL the domain refuses comes back with why.
func (p *Portal) setupCreateWebhook(c echo.Context) error {
	k, partner, err := p.outlet(c)
	if k == nil {
		return err
	}
	raw := strings.TrimSpace(c.FormValue("url"))
	w, err := p.svc.CreateWebhook(c.Request().Context(), k, "", raw)
	if hub.ErrorCode(err) == hub.EINVALID {
		return p.setupPage(c, k, partner, setupData{WebhookError: refusal(c, err), WebhookURL: raw}, http.StatusBadRequest)
	} else if err != nil {
		return p.fail(c, err)
	}
	return p.setupPage(c, k, partner, setupData{Created: w}, http.StatusCreated)
}

// deleteWebhookData is the page that asks before a webhook is deleted.
type deleteWebhookData struct {
	Webhook     *hub.Webhook
	DeadLetters int
}

// setupConfirmDeleteWebhook asks before deleting: the list's link leads
// here, and only this page's form deletes, so no script is needed to
// confirm.
func (p *Portal) setupConfirmDeleteWebhook(c echo.Context) error {
	k, _, err := p.outlet(c)
	if k == nil {
		return err
	}
	ctx := c.Request().Context()
	hooks, err := p.svc.Webhooks(ctx, k)
	if err != nil {
		return p.fail(c, err)
	}
	for _, w := range hooks {
		if w.ID == c.Param("id") {
			dead, err := p.svc.DeadLetters(ctx, k, w.ID)
			if err != nil {
				return p.fail(c, err)
			}
			return p.render(c, http.StatusOK, "partner_delete_webhook", deleteWebhookData{Webhook: w, DeadLetters: len(dead)})
		}
	}
	return p.message(c, http.StatusNotFound, "notfound.title", "notfound.text")
}

func (p *Portal) setupDeleteWebhook(c echo.Context) error {
	k, _, err := p.outlet(c)
	if k == nil {
		return err
	}
	err = p.svc.DeleteWebhook(c.Request().Context(), k, c.Param("id"))
	if hub.ErrorCode(err) == hub.ENOTFOUND {
		return p.message(c, http.StatusNotFound, "notfound.title", "notfound.text")
	} else if err != nil {
		return p.fail(c, err)
	}
	return seeOther(c, setupPath+"?done=deleted")
}

// setupReplay delivers one of the outlet's dead letters again.
func (p *Portal) setupReplay(c echo.Context) error {
	k, partner, err := p.outlet(c)
	if k == nil {
		return err
	}
	list, err := p.replayDeadLetter(c, k)
	if hub.ErrorCode(err) == hub.ENOTFOUND {
		return p.message(c, http.StatusNotFound, "notfound.title", "notfound.text")
	} else if err != nil {
		return p.fail(c, err)
	}
	return p.setupPage(c, k, partner, setupData{Webhooks: list}, http.StatusOK)
}
