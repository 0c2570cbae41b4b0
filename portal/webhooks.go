package portal

import (
	"context"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
)

// The webhooks lists of the admin's webhooks page and of a partner's
// set-up page: the same rows and the same replay, each scoped by the
// domain to the visitor's key (every webhook for an admin, its own for a
// partner).

// webhookList is a list of webhooks with their dead letters, and the
// outcome of a replay just tried: Replayed the message delivered again
// and the endpoint's status, or Error why it did not go.
type webhookList struct {
	Webhooks []webhookRow
	Replayed string
	Status   int
	Error    string
}

// webhookRow is a webhook with its partner's name and dead letters, and
// Base, the path its forms post below (".../{id}/deadletters/{msg}/replay").
type webhookRow struct {
	Webhook     *hub.Webhook
	PartnerName string
	DeadLetters []*hub.DeadLetter
	Base        string
}

// webhookRows lists the webhooks k may manage with their dead letters,
// newest failure first; names are partners' names by id, base the path of
// the page the rows' forms post below.
func (p *Portal) webhookRows(ctx context.Context, k *hub.Key, names map[string]string, base string) ([]webhookRow, error) {
	hooks, err := p.svc.Webhooks(ctx, k)
	if err != nil {
		return nil, err
	}
	rows := make([]webhookRow, 0, len(hooks))
	for _, w := range hooks {
		dead, err := p.svc.DeadLetters(ctx, k, w.ID)
		if err != nil {
			return nil, err
		}
		// Newest failure first: that is what an operator looks for.
		slices.Reverse(dead)
		rows = append(rows, webhookRow{Webhook: w, PartnerName: names[w.Partner], DeadLetters: dead, Base: base + "/" + w.ID})
	}
	return rows, nil
}

// replayDeadLetter asks the domain to deliver the dead letter the route
// names (:id, :msgid) again, through the portal's sender, and returns
// what the list shows next: the message and status when it went, why not
// when the endpoint still fails or the letter may not go. Any other error
// is returned for the page to answer.
func (p *Portal) replayDeadLetter(c echo.Context, k *hub.Key) (webhookList, error) {
	msgID := c.Param("msgid")
	if u, err := url.PathUnescape(msgID); err == nil {
		msgID = u
	}
	status, err := p.svc.ReplayDeadLetter(c.Request().Context(), k, c.Param("id"), msgID, p.opts.Webhooks)
	switch code := hub.ErrorCode(err); {
	case err == nil:
		return webhookList{Replayed: msgID, Status: status}, nil
	case code == hub.EUNAVAILABLE || code == hub.ECONFLICT:
		return webhookList{Error: refusal(c, err)}, nil
	}
	return webhookList{}, err
}
