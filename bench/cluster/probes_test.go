package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// visibilityProbe is one way a partner finds a release on a replica: the
// "shows on the other replica within a second" check asks each of them.
// A new way (search, say) is one more entry in visibleOnOtherReplica.
type visibilityProbe struct {
	name  string
	short string // for the summary
	// visible says whether item it can be found through base yet; an
	// error is an answer that is neither yes nor not yet.
	visible func(ctx context.Context, api *apiClient, base string, it *item) (bool, error)
}

// visibleOnOtherReplica lists the probes of the release-on-A, seen-on-B
// measurement, each asked as partner key partnerKey (with feed token
// feedToken) would.
func visibleOnOtherReplica(partnerKey, feedToken string) []visibilityProbe {
	return []visibilityProbe{
		{
			name: "API GET /v1/packages/{id}", short: "API",
			visible: func(ctx context.Context, api *apiClient, base string, it *item) (bool, error) {
				rep, err := api.do(ctx, base, "GET", "/v1/packages/"+it.id, partnerKey, nil, 0, nil)
				switch {
				case err != nil:
					return false, err
				case rep.status == http.StatusNotFound:
					return false, nil
				case rep.status != http.StatusOK:
					return false, fmt.Errorf("GET /v1/packages/%s: %d %s", it.id, rep.status, rep.problemDetail())
				}
				var v struct{ Status string }
				if err := json.Unmarshal(rep.body, &v); err != nil {
					return false, fmt.Errorf("GET /v1/packages/%s: %w", it.id, err)
				}
				return v.Status == "released", nil
			},
		},
		{
			name: "partner feed /feeds/p/{token}/releases.json", short: "partner feed",
			visible: func(ctx context.Context, api *apiClient, base string, it *item) (bool, error) {
				rep, err := api.do(ctx, base, "GET", "/feeds/p/"+feedToken+"/releases.json?campaign="+clusterCampaign, "", nil, 0, nil)
				switch {
				case err != nil:
					return false, err
				case rep.status != http.StatusOK:
					return false, fmt.Errorf("partner feed: %d %s", rep.status, rep.problemDetail())
				}
				return bytes.Contains(rep.body, []byte(it.id)), nil
			},
		},
		{
			name: "search GET /v1/search?q=<the headline's own words>", short: "search",
			visible: func(ctx context.Context, api *apiClient, base string, it *item) (bool, error) {
				// The headline is "run-<n> release <nnnn>": the run's
				// number and the item's are words no other item has both of.
				words := strings.Fields(it.headline)
				q := url.QueryEscape(strings.TrimPrefix(words[0], "run-") + " " + words[len(words)-1])
				rep, err := api.do(ctx, base, "GET", "/v1/search?limit=100&campaign="+clusterCampaign+"&q="+q, partnerKey, nil, 0, nil)
				switch {
				case err != nil:
					return false, err
				case rep.status == http.StatusServiceUnavailable:
					return false, nil // the index is building: not yet
				case rep.status != http.StatusOK:
					return false, fmt.Errorf("search: %d %s", rep.status, rep.problemDetail())
				}
				return bytes.Contains(rep.body, []byte(it.id)), nil
			},
		},
	}
}

// probeInterval is how often each probe asks while it waits.
const probeInterval = 5 * time.Millisecond

// measureVisibility asks every probe, at once, through base until it
// finds it, counting from the release's answer; a probe that has not
// found it after timeout gets timeout (and an error).
func measureVisibility(ctx context.Context, api *apiClient, base string, it *item, probes []visibilityProbe, timeout time.Duration) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for _, p := range probes {
		wg.Go(func() {
			deadline := it.released.Add(timeout)
			for {
				ok, err := p.visible(ctx, api, base, it)
				now := time.Now()
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
					mu.Unlock()
					return
				}
				if ok {
					out[p.name] = now.Sub(it.released)
					mu.Unlock()
					return
				}
				if now.After(deadline) {
					out[p.name] = timeout
					errs = append(errs, fmt.Errorf("%s: %s not visible after %s", p.name, it.id, timeout))
					mu.Unlock()
					return
				}
				mu.Unlock()
				time.Sleep(probeInterval)
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return out, fmt.Errorf("%v", errs)
	}
	return out, nil
}
