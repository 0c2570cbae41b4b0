// Package hubclient is a client of the hub's HTTP API for the tools that
// run away from the hub: `hub push` (producers) and `hub pull` (outlets'
// ingest agents). It speaks the JSON the API documents, turns problem
// answers into *Error values, and never sends the key anywhere but the
// hub it was given.
package hubclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
)

// Options configures a Client.
type Options struct {
	// HTTPClient sends the requests; nil means a client without an overall
	// timeout (asset transfers run for as long as they need; contexts end
	// them).
	HTTPClient *http.Client
	// UserAgent names the tool in the hub's logs.
	UserAgent string
}

// Client calls one hub with one key.
type Client struct {
	base string
	key  string
	http *http.Client
	ua   string
}

// New returns a client of the hub at baseURL (http or https, no query)
// acting with key.
func New(baseURL, key string, opts Options) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("hub URL %q: give the hub's base URL, such as https://hub.example.org", baseURL)
	}
	if key == "" {
		return nil, errors.New("no key: pass --key or set HUB_KEY")
	}
	if opts.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// A hub that accepted the connection but never answers should not
		// hold a following agent forever; bodies may take as long as they
		// need.
		t.ResponseHeaderTimeout = time.Minute
		opts.HTTPClient = &http.Client{Transport: t}
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "hubclient"
	}
	// The key goes to the hub only. Go keeps Authorization on a redirect
	// to the same host on another port or to a subdomain, where the hub's
	// blob store may well be: a presigned URL there then fails with two
	// credentials, and the key would be shown to the store.
	hc := *opts.HTTPClient
	check := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != u.Scheme || req.URL.Host != u.Host {
			req.Header.Del("Authorization")
		}
		if check != nil {
			return check(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &Client{base: strings.TrimRight(u.String(), "/"), key: key, http: &hc, ua: opts.UserAgent}, nil
}

// BaseURL is the hub's base URL, without a trailing slash.
func (c *Client) BaseURL() string { return c.base }

// Error is an answer of the hub that is not a success: its status and the
// problem details the hub sent (RFC 9457).
type Error struct {
	Method     string
	Path       string
	StatusCode int
	// Code is the hub's error code ("not_found", "conflict", ...).
	Code   string
	Detail string
	// RetryAfter is the hub's Retry-After (over a rate limit, or with as
	// many uploads running as allowed); 0 when it sent none.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	detail := e.Detail
	if detail == "" {
		detail = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("%s %s: the hub answered %d: %s", e.Method, e.Path, e.StatusCode, detail)
}

// StatusOf returns the HTTP status of the *Error in err's chain, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// IsNotFound reports whether the hub answered 404: absent, or hidden from
// this key (the hub does not tell the two apart).
func IsNotFound(err error) bool { return StatusOf(err) == http.StatusNotFound }

// Retries of a call the hub refused for now (429, or 503 with
// Retry-After): a few, each after the wait the hub asked for, at most
// maxRetryWait. Only calls whose body can be sent again are retried.
const (
	maxRetries   = 5
	maxRetryWait = time.Minute
)

// request sends one call and returns the response when its status is
// below 400; otherwise it reads the problem into an *Error. A call over
// the hub's rate limit waits as long as the hub says and is sent again,
// so an agent mirroring a large campaign slows down instead of failing.
func (c *Client) request(ctx context.Context, method, path string, body io.Reader, size int64, header http.Header) (*http.Response, error) {
	seeker, rewindable := body.(io.Seeker)
	rewindable = body == nil || rewindable
	for attempt := 0; ; attempt++ {
		resp, err := c.send(ctx, method, path, body, size, header)
		var e *Error
		if !errors.As(err, &e) || e.RetryAfter <= 0 || attempt >= maxRetries || !rewindable ||
			(e.StatusCode != http.StatusTooManyRequests && e.StatusCode != http.StatusServiceUnavailable) {
			return resp, err
		}
		if seeker != nil {
			if _, serr := seeker.Seek(0, io.SeekStart); serr != nil {
				return nil, err
			}
		}
		wait := time.NewTimer(min(e.RetryAfter, maxRetryWait))
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil, err
		case <-wait.C:
		}
	}
}

// Send makes one call of the hub's API that the client has no method
// for (the tus protocol of resumable uploads, which `hub push` speaks):
// with the key and the user agent, retried like every call when the hub
// says to wait and body can be sent again, an answer of 400 or more as
// an *Error. size is body's length (-1: unknown); the caller closes the
// response's body.
func (c *Client) Send(ctx context.Context, method, path string, body io.Reader, size int64, header http.Header) (*http.Response, error) {
	return c.request(ctx, method, path, body, size, header)
}

// send makes one attempt of a call.
func (c *Client) send(ctx context.Context, method, path string, body io.Reader, size int64, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil && size >= 0 {
		req.ContentLength = size
		if size == 0 {
			req.Body = http.NoBody
		}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode < 400 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &Error{Method: method, Path: path, StatusCode: resp.StatusCode}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	var p struct{ Code, Detail string }
	if json.Unmarshal(b, &p) == nil {
		e.Code, e.Detail = p.Code, p.Detail
	}
	if e.Detail == "" && len(b) > 0 && len(b) < 500 {
		e.Detail = strings.TrimSpace(string(b))
	}
	return nil, e
}

// call sends in as JSON (nil: no body) and decodes the answer into out
// (nil: discard it). It returns the answer's bytes.
func (c *Client) call(ctx context.Context, method, path string, in, out any) ([]byte, error) {
	return c.callWith(ctx, method, path, nil, in, out)
}

// callWith is call with extra request headers.
func (c *Client) callWith(ctx context.Context, method, path string, extra http.Header, in, out any) ([]byte, error) {
	var body io.Reader
	size := int64(-1)
	h := http.Header{"Accept": {"application/json"}}
	for k, v := range extra {
		h[k] = v
	}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
		body, size = bytes.NewReader(b), int64(len(b))
		h.Set("Content-Type", "application/json")
	}
	resp, err := c.request(ctx, method, path, body, size, h)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return nil, fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
		}
	}
	return b, nil
}

// Package is a package as the API answers it (ninjs), with the exact
// bytes the hub sent, which `hub pull` keeps as the sidecar.
type Package struct {
	ninjs.Item
	Raw json.RawMessage
}

func (c *Client) pkg(ctx context.Context, method, path string, in any) (*Package, error) {
	var p Package
	b, err := c.call(ctx, method, path, in, &p.Item)
	if err != nil {
		return nil, err
	}
	p.Raw = b
	return &p, nil
}

// PackageFields are what a producer sets on a package, for create and
// update. A nil field is left as it is; a pointer to an empty value
// clears it.
type PackageFields struct {
	Campaign        *string        `json:"campaign,omitempty"`
	Language        *string        `json:"language,omitempty"`
	Headlines       *[]hub.Text    `json:"headlines,omitempty"`
	Descriptions    *[]hub.Text    `json:"descriptions,omitempty"`
	Bodies          *[]hub.Text    `json:"bodies,omitempty"`
	Subjects        *[]hub.Subject `json:"subjects,omitempty"`
	Places          *[]hub.Place   `json:"places,omitempty"`
	By              *string        `json:"by,omitempty"`
	CopyrightNotice *string        `json:"copyrightnotice,omitempty"`
	UsageTerms      *string        `json:"usageterms,omitempty"`
	ContentWarning  *string        `json:"contentwarning,omitempty"`
	Anonymized      *bool          `json:"anonymized,omitempty"`
	Translations    *[]string      `json:"translations,omitempty"`
}

func packagePath(id string) string { return "/v1/packages/" + url.PathEscape(id) }

func assetPath(id, name string) string {
	return packagePath(id) + "/assets/" + url.PathEscape(name)
}

// CreatePackage creates a draft.
func (c *Client) CreatePackage(ctx context.Context, f PackageFields) (*Package, error) {
	return c.pkg(ctx, http.MethodPost, "/v1/packages", f)
}

// CreatePackageOnce creates a package under an Idempotency-Key: sent again
// with the same key and fields (after a timeout, a 503, a crash), it
// returns the package the first call created instead of a second one.
func (c *Client) CreatePackageOnce(ctx context.Context, idempotencyKey string, f PackageFields) (*Package, error) {
	var p Package
	b, err := c.callWith(ctx, http.MethodPost, "/v1/packages", http.Header{"Idempotency-Key": {idempotencyKey}}, f, &p.Item)
	if err != nil {
		return nil, err
	}
	p.Raw = b
	return &p, nil
}

// Package reads a package as this key may see it: the working copy for
// producers, the released version for partners.
func (c *Client) Package(ctx context.Context, id string) (*Package, error) {
	return c.pkg(ctx, http.MethodGet, packagePath(id), nil)
}

// UpdatePackage changes the fields that are set in f. On a released
// package this starts a revision, released later as a correction.
func (c *Client) UpdatePackage(ctx context.Context, id string, f PackageFields) (*Package, error) {
	return c.pkg(ctx, http.MethodPatch, packagePath(id), f)
}

// DeletePackage deletes a draft.
func (c *Client) DeletePackage(ctx context.Context, id string) error {
	_, err := c.call(ctx, http.MethodDelete, packagePath(id), nil, nil)
	return err
}

// Version reads released version n of a package.
func (c *Client) Version(ctx context.Context, id string, n int) (*Package, error) {
	return c.pkg(ctx, http.MethodGet, packagePath(id)+"/versions/"+strconv.Itoa(n), nil)
}

// Release releases a package now (embargo nil), schedules it, or releases
// its revision as a correction.
func (c *Client) Release(ctx context.Context, id string, embargo *time.Time) (*Package, error) {
	var in any
	if embargo != nil {
		in = map[string]string{"embargo": embargo.Format(time.RFC3339)}
	}
	return c.pkg(ctx, http.MethodPost, packagePath(id)+"/release", in)
}

// Withdraw sends a package's kill notice.
func (c *Client) Withdraw(ctx context.Context, id string) (*Package, error) {
	return c.pkg(ctx, http.MethodPost, packagePath(id)+"/withdraw", nil)
}

// Purge deletes every byte of a package and leaves a tombstone.
func (c *Client) Purge(ctx context.Context, id string) (*Package, error) {
	return c.pkg(ctx, http.MethodPost, packagePath(id)+"/purge", nil)
}

// PutAsset streams one asset's bytes; size is their exact length. typ is
// the asset type ("picture", ...), or "" to let the hub infer it.
func (c *Client) PutAsset(ctx context.Context, id, name string, body io.Reader, size int64, typ string) (*ninjs.Association, error) {
	path := assetPath(id, name)
	if typ != "" {
		path += "?type=" + url.QueryEscape(typ)
	}
	resp, err := c.request(ctx, http.MethodPut, path, body, size, http.Header{
		"Content-Type": {"application/octet-stream"}, "Accept": {"application/json"},
	})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var a ninjs.Association
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return nil, fmt.Errorf("PUT %s: decode the answer: %w", path, err)
	}
	return &a, nil
}

// AssetFields are what PATCH sets on an asset; nil fields stay.
type AssetFields struct {
	Caption  *string `json:"caption,omitempty"`
	Credit   *string `json:"credit,omitempty"`
	Language *string `json:"language,omitempty"`
	Primary  *bool   `json:"primary,omitempty"`
}

// UpdateAsset sets an asset's caption, credit, language or primary flag.
func (c *Client) UpdateAsset(ctx context.Context, id, name string, f AssetFields) (*ninjs.Association, error) {
	var a ninjs.Association
	if _, err := c.call(ctx, http.MethodPatch, assetPath(id, name), f, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// DeleteAsset removes an asset from the working copy.
func (c *Client) DeleteAsset(ctx context.Context, id, name string) error {
	_, err := c.call(ctx, http.MethodDelete, assetPath(id, name), nil, nil)
	return err
}

// Download is an asset's bytes on their way out of the hub.
type Download struct {
	Body io.ReadCloser
	// Offset is where Body starts in the asset: the offset asked for when
	// the hub answered with the rest (206), 0 when it sent the whole asset
	// (200: no range was asked for, or the asset is no longer the one
	// If-Range named).
	Offset int64
	// Size is the whole asset's length, -1 when the hub did not say.
	Size int64
	// ETag is the asset's entity tag, "\"<sha256>\"" on this hub; "" when
	// the hub redirected the download to its blob store (HUB_S3_PRESIGN),
	// whose entity tags are its own.
	ETag string
}

// Download fetches the asset name of package id from offset on. ifRange is
// the ETag of the bytes already held: the hub sends the rest only while
// the asset is still those bytes, and the whole new asset otherwise, so a
// correction is never spliced onto the start of an old file. An offset at
// or past the end is an *Error with status 416.
func (c *Client) Download(ctx context.Context, id, name string, offset int64, ifRange string) (*Download, error) {
	h := http.Header{}
	if offset > 0 {
		h.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
		if ifRange != "" {
			h.Set("If-Range", ifRange)
		}
	}
	path := assetPath(id, name)
	resp, err := c.request(ctx, http.MethodGet, path, nil, -1, h)
	if err != nil {
		return nil, err
	}
	d := &Download{Body: resp.Body, Size: resp.ContentLength}
	if resp.Request == nil || strings.HasPrefix(resp.Request.URL.String(), c.base+"/") {
		d.ETag = resp.Header.Get("ETag")
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusPartialContent:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != offset {
			resp.Body.Close()
			return nil, fmt.Errorf("GET %s: the hub answered a range starting at %d (%q), not at %d", path, start, resp.Header.Get("Content-Range"), offset)
		}
		d.Offset, d.Size = start, total
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: unexpected status %d", path, resp.StatusCode)
	}
	return d, nil
}

// parseContentRange reads "bytes start-end/total" (total may be "*").
func parseContentRange(s string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	span, size, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	first, _, found := strings.Cut(span, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	total = -1
	if size != "*" {
		if total, err = strconv.ParseInt(size, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, total, true
}
