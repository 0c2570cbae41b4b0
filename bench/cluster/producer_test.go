package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// producer releases packages as a campaign team's tool would: create with
// an Idempotency-Key, upload, release; every step retried, against the
// other replica, until it is known to be done. Its first try of item n
// goes to replica n%2, so a burst goes through both.
type producer struct {
	api      *apiClient
	hubs     []*hubProc
	key      string
	campaign string
	// run makes this run's Idempotency-Keys and headlines its own.
	run string
	// stepTimeout bounds one step's retries: past it the item fails.
	stepTimeout time.Duration

	retries   atomic.Int64 // requests beyond the first of each step
	failovers atomic.Int64 // tries sent to the other replica than the step's first
	unknown   atomic.Int64 // tries that got no answer (killed, reset, timed out)
}

// item is one package the producer released.
type item struct {
	n        int
	id       string
	headline string
	content  []byte
	sha256   string
	asset    string // its one asset's name
	// released is when the release was answered 200 (or found done).
	released time.Time
	// trail is every try of every step: where it went and what came of
	// it, for the message of an item that failed.
	trail []string
	began time.Time
}

// announcementID is the id of the item's release on NATS and the change
// log (hub.Announcement: package id, version, event).
func (it *item) announcementID() string { return it.id + ".1.released" }

// newItem is item n of the run: its headline and a small text asset,
// unique to it.
func (p *producer) newItem(n int) *item {
	it := &item{n: n, headline: fmt.Sprintf("%s release %04d", p.run, n), asset: "article.txt"}
	it.content = []byte(strings.Repeat(fmt.Sprintf("Жұмыстағы қудалау — қылмыс. %s %04d.\n", p.run, n), 40))
	sum := sha256.Sum256(it.content)
	it.sha256 = hex.EncodeToString(sum[:])
	return it
}

// statusError is an answer that means "not done yet, try again".
type statusError struct{ rep reply }

func (e statusError) Error() string { return fmt.Sprintf("%d %s", e.rep.status, e.rep.problemDetail()) }

// errPermanent is an answer no retry changes.
var errPermanent = errors.New("permanent")

// release creates, uploads and releases item n, starting at replica
// first; pin keeps every try there (no failover).
func (p *producer) release(ctx context.Context, n, first int, pin bool) (*item, error) {
	it := p.newItem(n)
	it.began = time.Now()
	body := fmt.Sprintf(`{"campaign":%q,"language":"kk","headlines":[{"value":%q}],"usageterms":"Free to republish with credit"}`, p.campaign, it.headline)
	err := p.step(ctx, it, "create", first, pin, func(base string) (bool, error) {
		rep, err := p.api.do(ctx, base, "POST", "/v1/packages", p.key, strings.NewReader(body), int64(len(body)),
			map[string]string{"Content-Type": "application/json", "Idempotency-Key": p.run + "-" + fmt.Sprint(n)})
		if err != nil {
			return false, err
		}
		switch {
		case rep.status == http.StatusCreated:
			var v struct{ ID string }
			if err := json.Unmarshal(rep.body, &v); err != nil || v.ID == "" {
				return false, fmt.Errorf("%w: create answered 201 without an id: %.200s", errPermanent, rep.body)
			}
			it.id = v.ID
			return true, nil
		case rep.status == http.StatusConflict && strings.Contains(rep.problemDetail(), "another body"):
			return false, fmt.Errorf("%w: create: %d %s", errPermanent, rep.status, rep.problemDetail())
		case retryable(rep.status):
			return false, statusError{rep}
		}
		return false, fmt.Errorf("%w: create: %d %s", errPermanent, rep.status, rep.problemDetail())
	})
	if err != nil {
		return nil, err
	}
	err = p.step(ctx, it, "upload", first, pin, func(base string) (bool, error) {
		rep, err := p.api.do(ctx, base, "PUT", "/v1/packages/"+it.id+"/assets/"+it.asset, p.key, bytes.NewReader(it.content), int64(len(it.content)),
			map[string]string{"Content-Type": "text/plain; charset=utf-8"})
		if err != nil {
			return false, err
		}
		switch {
		case rep.status == http.StatusOK || rep.status == http.StatusCreated:
			var v struct{ SHA256 string }
			if json.Unmarshal(rep.body, &v) != nil || v.SHA256 != it.sha256 {
				return false, fmt.Errorf("%w: upload answered sha256 %q, sent %s", errPermanent, v.SHA256, it.sha256)
			}
			return true, nil
		case retryable(rep.status):
			return false, statusError{rep}
		}
		return false, fmt.Errorf("%w: upload: %d %s", errPermanent, rep.status, rep.problemDetail())
	})
	if err != nil {
		return nil, err
	}
	err = p.step(ctx, it, "release", first, pin, func(base string) (bool, error) {
		rep, err := p.api.do(ctx, base, "POST", "/v1/packages/"+it.id+"/release", p.key, nil, 0, nil)
		if err != nil {
			return false, err
		}
		switch {
		case rep.status == http.StatusOK:
			it.released = time.Now()
			return true, nil
		case rep.status == http.StatusConflict:
			// A try whose answer was lost may have released it; an upload
			// cut off by a kill holds the release for a minute (its
			// marker goes stale). Either way the package says.
			g, err := p.api.do(ctx, base, "GET", "/v1/packages/"+it.id, p.key, nil, 0, nil)
			if err == nil && g.status == http.StatusOK {
				var v struct{ Status string }
				if json.Unmarshal(g.body, &v) == nil && v.Status == "released" {
					it.released = time.Now()
					return true, nil
				}
			}
			return false, statusError{rep}
		case retryable(rep.status):
			return false, statusError{rep}
		}
		return false, fmt.Errorf("%w: release: %d %s", errPermanent, rep.status, rep.problemDetail())
	})
	if err != nil {
		return nil, err
	}
	return it, nil
}

// retryable says a status means "not done, try again": the replica or
// its dependencies did not manage, or asked to wait.
func retryable(status int) bool {
	return status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests ||
		status == http.StatusConflict
}

// step runs try until it reports done, alternating replicas from first
// (unless pin) with a growing pause, for at most stepTimeout.
func (p *producer) step(ctx context.Context, it *item, what string, first int, pin bool, try func(base string) (bool, error)) error {
	deadline := time.Now().Add(p.stepTimeout)
	pause := 20 * time.Millisecond
	var last error
	for k := 0; ; k++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		h := (first + k) % len(p.hubs)
		if pin {
			h = first
		}
		if k > 0 {
			p.retries.Add(1)
			if h != first {
				p.failovers.Add(1)
			}
		}
		sent := time.Since(it.began)
		done, err := try(p.hubs[h].url())
		outcome := "done"
		if err != nil {
			outcome = err.Error()
		}
		it.trail = append(it.trail, fmt.Sprintf("+%s %s on %s (%s): %.160s", ms(sent), what, p.hubs[h].name, ms(time.Since(it.began)-sent), outcome))
		if done {
			return nil
		}
		if errors.Is(err, errPermanent) {
			return fmt.Errorf("%s on %s: %w; the item's tries:\n\t%s", what, p.hubs[h].name, err, strings.Join(it.trail, "\n\t"))
		}
		if !errors.As(err, new(statusError)) {
			p.unknown.Add(1) // no answer: refused, reset or timed out
		}
		last = fmt.Errorf("%s: %w", p.hubs[h].name, err)
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not done after %s of retries; last: %w; the item's tries:\n\t%s", what, p.stepTimeout, last, strings.Join(it.trail, "\n\t"))
		}
		time.Sleep(pause)
		pause = min(2*pause, time.Second)
	}
}
