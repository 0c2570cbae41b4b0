package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// adminKey is both replicas' HUB_ADMIN_KEY.
const adminKey = "hub_cluster-proof-admin-key-0123456789"

// apiClient sends the run's HTTP requests, to whichever replica it is told.
type apiClient struct {
	http *http.Client
}

func newAPIClient() *apiClient {
	return &apiClient{http: &http.Client{
		// A request to a replica that was just killed fails at once; one
		// to a replica stuck waiting on NATS is given up on after this, as
		// a producer's client would.
		Timeout:   20 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true},
	}}
}

// reply is one answer: its status, headers and body.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// problemDetail is the detail of a problem+json answer, or the body.
func (r reply) problemDetail() string {
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(r.body, &p) == nil && (p.Title != "" || p.Detail != "") {
		return p.Title + ": " + p.Detail
	}
	return fmt.Sprintf("%.300s", r.body)
}

// do sends one request to base; an error is a request that got no answer
// (refused, reset, timed out).
func (c *apiClient) do(ctx context.Context, base, method, path, key string, body io.Reader, size int64, hdr map[string]string) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.ContentLength = size
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// json sends a JSON body (or none) and decodes an answer of status want
// into out, failing t otherwise.
func (c *apiClient) json(t *testing.T, base, method, path, key, body string, want int, out any) {
	t.Helper()
	var r io.Reader
	hdr := map[string]string{}
	if body != "" {
		r = bytes.NewReader([]byte(body))
		hdr["Content-Type"] = "application/json"
	}
	rep, err := c.do(t.Context(), base, method, path, key, r, int64(len(body)), hdr)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, base, path, err)
	}
	if rep.status != want {
		t.Fatalf("%s %s%s: %d %s, want %d", method, base, path, rep.status, rep.problemDetail(), want)
	}
	if out != nil {
		if err := json.Unmarshal(rep.body, out); err != nil {
			t.Fatalf("%s %s%s: %v in %.300s", method, base, path, err, rep.body)
		}
	}
}

// listedPackage is what the checks read of a listed package.
type listedPackage struct {
	ID           string                   `json:"id"`
	Status       string                   `json:"status"`
	Version      string                   `json:"version"`
	Headlines    []struct{ Value string } `json:"headlines"`
	Associations []struct {
		Name   string `json:"name"`
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	} `json:"associations"`
}

// packages lists every package of campaign through base, page by page.
func (c *apiClient) packages(t *testing.T, base, key, campaign string) []listedPackage {
	t.Helper()
	var all []listedPackage
	cursor := ""
	for {
		var page struct {
			Items []listedPackage `json:"items"`
			Next  string          `json:"next"`
		}
		path := "/v1/packages?limit=500&campaign=" + campaign
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		c.json(t, base, "GET", path, key, "", http.StatusOK, &page)
		all = append(all, page.Items...)
		if page.Next == "" || len(page.Items) == 0 {
			return all
		}
		cursor = page.Next
	}
}

// changeLog counts each announcement id on the change log
// (GET /v1/releases) as key may read it through base.
func (c *apiClient) changeLog(t *testing.T, base, key string) map[string]int {
	t.Helper()
	n := map[string]int{}
	after := ""
	for {
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			Next string `json:"next"`
		}
		c.json(t, base, "GET", "/v1/releases?limit=500&after="+after, key, "", http.StatusOK, &page)
		for _, e := range page.Items {
			n[e.ID]++
		}
		if len(page.Items) == 0 || page.Next == after {
			return n
		}
		after = page.Next
	}
}
