package hubclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// ReleaseEntry is one line of the change log: a release, correction,
// withdrawal or purge, with the package as it was announced.
type ReleaseEntry struct {
	// Cursor is the entry's place in the log (the release stream's
	// sequence); poll with after=Cursor to continue past it.
	Cursor string    `json:"cursor"`
	Event  hub.Event `json:"event"`
	// ID is the announcement id: <package>.<version>.<event>
	// (hub.ParseAnnouncementID takes it apart).
	ID       string          `json:"id"`
	Time     string          `json:"time"`
	Campaign string          `json:"campaign"`
	Language string          `json:"language"`
	Package  json.RawMessage `json:"package"`
}

// ReleasePage is a page of the change log. Next is the cursor to poll
// with next; it moves on even when the page holds nothing this key may
// see.
type ReleasePage struct {
	Items []ReleaseEntry `json:"items"`
	Next  string         `json:"next"`
}

// Releases reads the change log after cursor after ("" from the start),
// at most limit entries (0: the hub's default).
func (c *Client) Releases(ctx context.Context, after string, limit int) (*ReleasePage, error) {
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/v1/releases"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var page ReleasePage
	if _, err := c.call(ctx, http.MethodGet, path, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// NATSAccess is how a partner receives its releases over NATS: the
// server, whom to connect as (empty where the operator issues
// credentials), and the durable consumer the hub keeps for it on the
// release stream. It holds no secret: with Credential "key" the password
// is the API key the client asked with.
type NATSAccess struct {
	URL         string     `json:"url"`
	User        string     `json:"user"`
	Credential  string     `json:"credential"`
	Expires     *time.Time `json:"expires"`
	Stream      string     `json:"stream"`
	Consumer    string     `json:"consumer"`
	InboxPrefix string     `json:"inboxprefix"`
	Subjects    []string   `json:"subjects"`
}

// MyNATS returns the NATS access of this (partner) key. A key without a
// partner record gets a 404.
func (c *Client) MyNATS(ctx context.Context) (*NATSAccess, error) {
	var a NATSAccess
	if _, err := c.call(ctx, http.MethodGet, "/v1/me/nats", nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// Republication is a partner's report that it republished a package.
type Republication struct {
	// URL is where it appeared (absolute http or https).
	URL string `json:"url"`
	// Medium is "tv", "radio", "print" or "online"; "" is the partner's own.
	Medium    string    `json:"medium,omitempty"`
	Published time.Time `json:"published"`
	// Audience is how many people it reached, as the outlet counts them.
	Audience int64 `json:"audience"`
}

// ReportRepublication tells the hub that this partner republished
// package id. It returns the hub's record of the report as JSON.
func (c *Client) ReportRepublication(ctx context.Context, id string, r Republication) (json.RawMessage, error) {
	return c.call(ctx, http.MethodPost, packagePath(id)+"/republications", r, nil)
}

// Takedown is an outlet's confirmation that it took a withdrawn or purged
// package down, as the hub recorded it.
type Takedown struct {
	Partner string `json:"partner"`
	// Status is "confirmed".
	Status    string     `json:"status"`
	Confirmed *time.Time `json:"confirmed"`
	// Via is how the first confirmation came: "api" or "pull".
	Via string `json:"via"`
	Key string `json:"key"`
}

// ConfirmTakedown tells the hub that this partner took package id down
// after its kill notice; via is "pull" for hub pull, "" for a person or
// a script. A confirmation sent again keeps the first one's time, which
// the answer carries.
func (c *Client) ConfirmTakedown(ctx context.Context, id, via string) (*Takedown, error) {
	var out Takedown
	var in any
	if via != "" {
		in = map[string]string{"via": via}
	}
	if _, err := c.call(ctx, http.MethodPost, packagePath(id)+"/takedown", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Reach is a campaign's reach as the hub counts it: who downloaded what,
// and where it was republished to how many people. Fields whose shape
// the tools do not need are kept as JSON.
type Reach struct {
	Campaign  string `json:"campaign"`
	Outlets   int    `json:"outlets"`
	Downloads struct {
		Total    int             `json:"total"`
		Distinct int             `json:"distinct"`
		Assets   json.RawMessage `json:"assets"`
	} `json:"downloads"`
	Republications int             `json:"republications"`
	Audience       int64           `json:"audience"`
	Regions        json.RawMessage `json:"regions"`
	Media          json.RawMessage `json:"media"`
	// Raw is the whole answer.
	Raw json.RawMessage `json:"-"`
}

// Reach reads a campaign's reach (producer and admin keys).
func (c *Client) Reach(ctx context.Context, campaign string) (*Reach, error) {
	var r Reach
	b, err := c.call(ctx, http.MethodGet, "/v1/campaigns/"+url.PathEscape(campaign)+"/reach", nil, &r)
	if err != nil {
		return nil, err
	}
	r.Raw = b
	return &r, nil
}

// KeyRequest is the body of POST /v1/keys (admin).
type KeyRequest struct {
	Role      string     `json:"role"`
	Name      string     `json:"name"`
	Campaigns []string   `json:"campaigns,omitempty"`
	Partner   string     `json:"partner,omitempty"`
	Expires   *time.Time `json:"expires,omitempty"`
}

// CreateKey creates a key and returns its secret, shown this once.
func (c *Client) CreateKey(ctx context.Context, r KeyRequest) (string, error) {
	var out struct {
		Key string `json:"key"`
	}
	if _, err := c.call(ctx, http.MethodPost, "/v1/keys", r, &out); err != nil {
		return "", err
	}
	return out.Key, nil
}

// Partner is a partner outlet as POST /v1/partners takes and answers it.
type Partner struct {
	ID        string   `json:"id,omitempty"`
	Name      string   `json:"name"`
	Region    string   `json:"region,omitempty"`
	Medium    string   `json:"medium,omitempty"`
	Languages []string `json:"languages,omitempty"`
	Campaigns []string `json:"campaigns,omitempty"`
}

// CreatePartner records a partner outlet (admin).
func (c *Client) CreatePartner(ctx context.Context, p Partner) (*Partner, error) {
	var out Partner
	if _, err := c.call(ctx, http.MethodPost, "/v1/partners", p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// NATSPassword returns what to connect to a's NATS server with as a.User:
// this client's key when a.Credential is "key" (the hub's NATS, which
// checks it exactly as the hub's API does), or false when the hub names
// no credential the client holds.
func (c *Client) NATSPassword(a *NATSAccess) (string, bool) {
	if a.User == "" || a.Credential != "key" {
		return "", false
	}
	return c.key, true
}
