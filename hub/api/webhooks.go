package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// webhookRequest is the body of POST /v1/webhooks. Partner is for admin
// keys; a partner key registers for its own partner.
type webhookRequest struct {
	URL     string `json:"url"`
	Partner string `json:"partner"`
}

// webhookView is a webhook in answers: never its secret, except in the
// answer that created it.
type webhookView struct {
	ID      string    `json:"id"`
	Partner string    `json:"partner"`
	URL     string    `json:"url"`
	Active  bool      `json:"active"`
	Created time.Time `json:"created"`
	// CreatedBy is the id of the key that registered the webhook: it
	// delivers only while that key stands.
	CreatedBy string `json:"createdby,omitempty"`
	// Secret signs every delivery (Standard Webhooks: "whsec_" and base64).
	Secret string `json:"secret,omitempty"`
}

func viewWebhook(w *hub.Webhook) webhookView {
	return webhookView{ID: w.ID, Partner: w.Partner, URL: w.URL, Active: w.Active, Created: w.Created, CreatedBy: w.CreatedBy}
}

// deadLetterView is a dead letter in answers.
type deadLetterView struct {
	Webhook    string    `json:"webhook"`
	MessageID  string    `json:"messageid"`
	Campaign   string    `json:"campaign"`
	Sequence   uint64    `json:"sequence"`
	Attempts   int       `json:"attempts"`
	LastStatus int       `json:"laststatus"`
	LastError  string    `json:"lasterror"`
	Failed     time.Time `json:"failed"`
}

// replayView is the answer of a successful replay: the endpoint's status.
type replayView struct {
	MessageID string `json:"messageid"`
	Status    int    `json:"status"`
}

// webhookCallers is the route guard of webhooks: partner and admin keys.
var webhookCallers = allowed(hub.MayManageWebhooks)

func (a *API) createWebhook(c echo.Context) error {
	var req webhookRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	w, err := a.svc.CreateWebhook(c.Request().Context(), keyOf(c), req.Partner, req.URL)
	if err != nil {
		return err
	}
	v := viewWebhook(w)
	v.Secret = w.Secret
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusCreated, v)
}

func (a *API) listWebhooks(c echo.Context) error {
	all, err := a.svc.Webhooks(c.Request().Context(), keyOf(c))
	if err != nil {
		return err
	}
	out := struct {
		Items []webhookView `json:"items"`
	}{Items: make([]webhookView, 0, len(all))}
	for _, w := range all {
		out.Items = append(out.Items, viewWebhook(w))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) deleteWebhook(c echo.Context) error {
	if err := a.svc.DeleteWebhook(c.Request().Context(), keyOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) listDeadLetters(c echo.Context) error {
	all, err := a.svc.DeadLetters(c.Request().Context(), keyOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	out := struct {
		Items []deadLetterView `json:"items"`
	}{Items: make([]deadLetterView, 0, len(all))}
	for _, d := range all {
		out.Items = append(out.Items, deadLetterView{
			Webhook: d.Webhook, MessageID: d.MessageID, Campaign: d.Campaign, Sequence: d.Sequence,
			Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError, Failed: d.Failed,
		})
	}
	return c.JSON(http.StatusOK, out)
}

// replayDeadLetter delivers a dead letter again now. It answers 200 once
// the endpoint accepted it (the dead letter is then gone), and 503 with
// the endpoint's failure when it still does not.
func (a *API) replayDeadLetter(c echo.Context) error {
	msgID, err := pathParam(c, "msgid")
	if err != nil {
		return err
	}
	status, err := a.svc.ReplayDeadLetter(c.Request().Context(), keyOf(c), c.Param("id"), msgID, a.opts.Webhooks)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, replayView{MessageID: msgID, Status: status})
}
