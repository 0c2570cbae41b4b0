// Package webhooks delivers announcements to partners' webhooks, signed
// by the Standard Webhooks rules, one durable consumer per webhook.
package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsfault"
	"github.com/syndication-hub/hub/publisher/wire"
)

// webhookConsumerPrefix starts the durable consumer name of every webhook.
const webhookConsumerPrefix = "webhook-"

// ConsumerName returns the durable consumer of webhook id.
func ConsumerName(id string) string { return webhookConsumerPrefix + id }

// registrationSkew is how far before its registration a webhook's
// consumer starts reading the stream: the registration time comes from
// the hub's clock, stream timestamps from the NATS server's, and a
// release made just after registering must not fall between the two.
// Anything it lets in is an announcement the partner may see anyway.
const registrationSkew = time.Second

// Options configures the Deliverer. Zero values take the defaults.
type Options struct {
	// AllowPrivateTargets lets deliveries reach loopback, private and
	// link-local addresses (HUB_WEBHOOKS_ALLOW_PRIVATE): for tests and
	// closed networks. Without it every connection is checked at dial
	// time, after DNS resolution, so a name that later resolves to an
	// internal address is refused too.
	AllowPrivateTargets bool
	// MaxAttempts is how many times one announcement is tried before it
	// becomes a dead letter; default 8.
	MaxAttempts int
	// FirstRetry is the delay before the second attempt, doubled for each
	// next one up to MaxRetryDelay, with jitter; defaults 10s and 15m
	// (8 attempts then span about 20 minutes).
	FirstRetry    time.Duration
	MaxRetryDelay time.Duration
	// Timeout bounds one HTTP attempt, from dialing to the end of the
	// answer; default 10s.
	Timeout time.Duration
	// SyncEvery is how often the webhooks, partners and campaigns are read
	// again, so new webhooks start and entitlement changes reach the
	// consumers' filters within it; default 2s.
	SyncEvery time.Duration
	Logger    *slog.Logger
}

func (o *Options) defaults() {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.FirstRetry <= 0 {
		o.FirstRetry = 10 * time.Second
	}
	if o.MaxRetryDelay <= 0 {
		o.MaxRetryDelay = 15 * time.Minute
	}
	if o.MaxRetryDelay < o.FirstRetry {
		o.MaxRetryDelay = o.FirstRetry
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.SyncEvery <= 0 {
		o.SyncEvery = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Deliverer sends announcements to partners' webhooks. Each webhook has
// its own durable consumer on the release stream and its own goroutine
// consuming it, so a slow or dead endpoint holds up nothing but itself.
// Retries are the consumer's redeliveries, timed by NakWithDelay; after
// MaxAttempts an announcement becomes a dead letter in the catalog. Every
// replica runs a Deliverer; the consumers are shared, so each
// announcement goes out from one replica.
//
// Who may receive what is decided per message at delivery, with the
// current partner and campaign records and the one visibility rule. The
// consumers are deliberately not filtered by campaign: JetStream moves a
// consumer past every message its filter excludes, so a message published
// before a filter caught up with a new campaign (made by its first
// package, often released a second later) or a new entitlement would be
// lost for good. A webhook consumer is read only by the hub, never by the
// partner, so unlike a partner's NATS consumer its filter is no access
// boundary.
type Deliverer struct {
	js      jetstream.JetStream
	catalog hub.Catalog
	opts    Options
	log     *slog.Logger
	client  *http.Client

	// workers is touched only by the Run goroutine.
	workers map[string]*webhookWorker
}

var _ hub.WebhookSender = (*Deliverer)(nil)

// webhookWorker is the goroutine consuming one webhook's consumer.
type webhookWorker struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (w *webhookWorker) running() bool {
	select {
	case <-w.done:
		return false
	default:
		return true
	}
}

// New returns a Deliverer over the release stream and catalog.
func New(js jetstream.JetStream, catalog hub.Catalog, opts Options) *Deliverer {
	opts.defaults()
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: dialGuard(opts.AllowPrivateTargets)}
	transport := &http.Transport{
		// No Proxy: a proxy from the environment would dial for us, past the guard.
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: opts.Timeout,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	client := &http.Client{
		Transport: transport,
		// A redirect is a failed delivery: the endpoint is what the partner
		// registered, and a redirect could point anywhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Deliverer{js: js, catalog: catalog, opts: opts, log: opts.Logger, client: client, workers: map[string]*webhookWorker{}}
}

// dialGuard refuses connections to addresses that are not public, after
// DNS resolution: a check at registration alone would let a name be
// pointed at an internal address later (DNS rebinding).
func dialGuard(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("webhook target %q: %w", address, err)
		}
		if !hub.PublicAddr(ap.Addr()) {
			return fmt.Errorf("webhook target %s is not a public address", ap.Addr())
		}
		return nil
	}
}

// Run keeps one consumer and one worker per webhook until ctx ends, then
// stops the workers and waits for them.
func (d *Deliverer) Run(ctx context.Context) {
	t := time.NewTicker(d.opts.SyncEvery)
	defer t.Stop()
	defer d.stopAll()
	for {
		if err := d.sync(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("webhook deliverer", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Deliverer) stopAll() {
	for id, w := range d.workers {
		w.cancel()
		<-w.done
		delete(d.workers, id)
	}
}

// sync brings consumers and workers in line with the catalog: one per
// webhook, and none for a webhook that is gone. A worker that stopped (its
// consumer was deleted, NATS went away) is started again. Workers live as
// long as ctx.
func (d *Deliverer) sync(ctx context.Context) error {
	hooks, err := d.catalog.Webhooks(ctx)
	if err != nil {
		return fmt.Errorf("list webhooks: %w", err)
	}
	var errs []error
	want := map[string]bool{}
	for _, w := range hooks {
		want[ConsumerName(w.ID)] = true
		if worker := d.workers[w.ID]; worker != nil && worker.running() {
			continue
		}
		cons, err := d.ensureConsumer(ctx, w)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		worker := &webhookWorker{cancel: cancel, done: make(chan struct{})}
		d.workers[w.ID] = worker
		go func() {
			defer close(worker.done)
			d.consume(wctx, w.ID, cons)
		}()
	}
	for id, worker := range d.workers {
		if !want[ConsumerName(id)] {
			worker.cancel()
			<-worker.done
			delete(d.workers, id)
		}
	}
	return errors.Join(append(errs, d.deleteStaleConsumers(ctx, want))...)
}

// ensureConsumer creates or updates a webhook's consumer. It starts at the
// webhook's registration: an endpoint registered today does not get last
// year's releases, and nothing released between the registration and
// this call (up to SyncEvery later) is missed.
func (d *Deliverer) ensureConsumer(ctx context.Context, w *hub.Webhook) (jetstream.Consumer, error) {
	start := w.Created.Add(-registrationSkew)
	cons, err := d.js.CreateOrUpdateConsumer(ctx, wire.Stream, jetstream.ConsumerConfig{
		Durable:       ConsumerName(w.ID),
		Description:   "syndication hub: webhook " + w.ID + " of partner " + w.Partner,
		DeliverPolicy: jetstream.DeliverByStartTimePolicy,
		OptStartTime:  &start,
		AckPolicy:     jetstream.AckExplicitPolicy,
		// Only a replica that died mid-attempt lets this expire: every
		// attempt ends in an ack or a nak within Timeout.
		AckWait: 3 * d.opts.Timeout,
		// No server-side cap: at MaxDeliver the server drops a message with
		// only an advisory, and the hub wants a dead letter first. The
		// worker caps attempts, and records the dead letter before it
		// terminates the message.
		MaxDeliver:    -1,
		MaxAckPending: 1000,
		// Every release subject; see Deliverer for why not per campaign.
		FilterSubject: wire.SubjectPrefix + ".>",
	})
	if err != nil {
		return nil, fmt.Errorf("consumer of webhook %s: %w", w.ID, err)
	}
	return cons, nil
}

// deleteStaleConsumers deletes the consumers of webhooks that are gone.
// A webhook this replica's index does not know yet (made a moment ago on
// another replica) is looked up in the bucket before its consumer goes.
func (d *Deliverer) deleteStaleConsumers(ctx context.Context, want map[string]bool) error {
	stream, err := d.js.Stream(ctx, wire.Stream)
	if err != nil {
		return err
	}
	var errs []error
	names := stream.ConsumerNames(ctx)
	for name := range names.Name() {
		id, ok := strings.CutPrefix(name, webhookConsumerPrefix)
		if !ok || want[name] {
			continue
		}
		if _, err := d.catalog.Webhook(ctx, id); hub.ErrorCode(err) != hub.ENOTFOUND {
			continue
		}
		if err := d.js.DeleteConsumer(ctx, wire.Stream, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			errs = append(errs, fmt.Errorf("delete consumer %s: %w", name, err))
		}
	}
	return errors.Join(append(errs, names.Err())...)
}

// consume delivers one webhook's announcements, one at a time, until ctx
// ends or the consumer goes away (sync starts it again if still wanted).
func (d *Deliverer) consume(ctx context.Context, id string, cons jetstream.Consumer) {
	// One message buffered at most: a prefetched message's ack wait runs
	// while it waits behind a slow attempt.
	it, err := cons.Messages(jetstream.PullMaxMessages(1))
	if err != nil {
		d.log.Warn("consume webhook", "webhook", id, "err", err)
		return
	}
	defer it.Stop()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() == nil {
				d.log.Info("webhook consumer stopped; restarting at the next sync", "webhook", id, "err", err)
			}
			return
		}
		d.handle(ctx, id, msg)
	}
}

// superseded reports whether announcement id is out of date by now, by
// the one rule (hub.Superseded) against the package's current state.
func (d *Deliverer) superseded(ctx context.Context, id hub.AnnouncementID) (bool, error) {
	p, err := d.catalog.Package(ctx, id.Package)
	if hub.ErrorCode(err) == hub.ENOTFOUND {
		p, err = nil, nil
	}
	if err != nil {
		return false, err
	}
	return hub.Superseded(id, p), nil
}

// handle makes one attempt at one announcement and settles the message:
// ack when delivered (or not to be delivered), nak with a delay to retry,
// and after the last attempt a dead letter and term.
func (d *Deliverer) handle(ctx context.Context, id string, msg jetstream.Msg) {
	log := d.log.With("webhook", id, "message", msg.Headers().Get(wire.HeaderID))
	meta, err := msg.Metadata()
	var an wire.Message
	if err == nil {
		an, err = wire.Decode(msg.Headers(), msg.Data())
	}
	if err != nil {
		log.Error("not an announcement; dropped", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	retry := d.retryDelay(meta.NumDelivered)
	w, err := d.catalog.Webhook(ctx, id)
	if hub.ErrorCode(err) == hub.ENOTFOUND {
		_ = msg.Term() // deleted; its consumer goes at the next sync
		return
	} else if err != nil {
		log.Warn("read webhook; will retry", "err", err)
		_ = msg.NakWithDelay(retry)
		return
	}
	campaign := an.Campaign
	ok, err := d.mayDeliver(ctx, w, campaign)
	if err != nil {
		log.Warn("check visibility; will retry", "err", err)
		_ = msg.NakWithDelay(retry)
		return
	}
	if !ok {
		// A campaign the partner may not see, or the partner or webhook is
		// inactive: this announcement is not for them.
		log.Debug("not visible to the partner; skipped", "campaign", campaign)
		_ = msg.Ack()
		return
	}
	if superseded, err := d.superseded(ctx, an.ID); err != nil {
		log.Warn("check the package's state; will retry", "err", err)
		_ = msg.NakWithDelay(retry)
		return
	} else if superseded {
		// A retry that outlived a kill notice or a newer version: sending
		// it now could put a withdrawn package back on an outlet's site.
		log.Info("superseded by a later announcement; not sent")
		_ = msg.Ack()
		return
	}
	_ = msg.InProgress() // restart the ack wait: the attempt may take up to Timeout
	status, err := d.post(ctx, w, msg.Headers(), msg.Data())
	settle, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	switch {
	case err == nil:
		// A double ack: a lost ack would mean a second delivery.
		if err := msg.DoubleAck(settle); err != nil {
			log.Warn("ack a delivered announcement; it may be delivered again", "err", err)
		}
	case ctx.Err() != nil:
		_ = msg.Nak() // stopping: another replica, or this one later, tries again
	case meta.NumDelivered >= uint64(d.opts.MaxAttempts):
		dl := &hub.DeadLetter{
			Webhook: w.ID, MessageID: an.ID.String(), Campaign: campaign, Sequence: meta.Sequence.Stream,
			Attempts: int(meta.NumDelivered), LastStatus: status, LastError: err.Error(), Failed: time.Now().UTC(),
		}
		if perr := d.catalog.PutDeadLetter(settle, dl); perr != nil {
			log.Error("record dead letter; will retry", "err", perr)
			_ = msg.NakWithDelay(d.opts.MaxRetryDelay)
			return
		}
		log.Warn("webhook did not accept an announcement; recorded a dead letter", "attempts", meta.NumDelivered, "status", status, "err", err)
		_ = msg.TermWithReason("dead letter recorded")
	default:
		log.Debug("delivery failed; will retry", "attempt", meta.NumDelivered, "status", status, "err", err, "in", retry)
		_ = msg.NakWithDelay(retry)
	}
}

// retryDelay is the wait after attempt n: FirstRetry doubled per attempt,
// capped at MaxRetryDelay, then jittered to between half and all of it.
// The jitter is ours because the server's BackOff list has none and
// applies only to ack timeouts, not to naks; without it, every endpoint
// that failed in one partner outage would be retried in lockstep.
func (d *Deliverer) retryDelay(n uint64) time.Duration {
	delay := d.opts.MaxRetryDelay
	if n >= 1 && n < 32 {
		delay = min(d.opts.FirstRetry<<(n-1), d.opts.MaxRetryDelay)
	}
	return delay/2 + rand.N(delay/2+1)
}

// mayDeliver applies the visibility rule with the current partner and
// campaign records, as every path does, and checks that the key the
// webhook was registered with still stands.
func (d *Deliverer) mayDeliver(ctx context.Context, w *hub.Webhook, campaign string) (bool, error) {
	p, err := d.catalog.Partner(ctx, w.Partner)
	if hub.ErrorCode(err) == hub.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	c, err := d.catalog.Campaign(ctx, campaign)
	if hub.ErrorCode(err) == hub.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	// What a key registered dies with it: a webhook whose creating key
	// was revoked or expired delivers nothing more.
	if alive, err := hub.KeyAlive(ctx, d.catalog, w.CreatedBy, time.Now()); err != nil || !alive {
		return false, err
	}
	return w.MayReceive(p, c), nil
}

// Redeliver reads a dead letter's announcement back from the stream and
// makes one attempt at once, for a replay.
func (d *Deliverer) Redeliver(ctx context.Context, w *hub.Webhook, dl *hub.DeadLetter) (int, error) {
	stream, err := d.js.Stream(ctx, wire.Stream)
	if err != nil {
		return 0, readFault(ctx, err, "the release stream")
	}
	m, err := stream.GetMsg(ctx, dl.Sequence)
	if errors.Is(err, jetstream.ErrMsgNotFound) || (err == nil && m.Header.Get(wire.HeaderID) != dl.MessageID) {
		return 0, hub.Errorf(hub.ENOTFOUND, "the release stream no longer holds %s", dl.MessageID)
	} else if err != nil {
		return 0, fmt.Errorf("read %s from the release stream: %w", dl.MessageID, readFault(ctx, err, "the release stream"))
	}
	an, err := wire.Decode(m.Header, m.Data)
	if err != nil {
		return 0, hub.Errorf(hub.ENOTFOUND, "the release stream holds no announcement %s", dl.MessageID)
	}
	ok, err := d.mayDeliver(ctx, w, an.Campaign)
	if err != nil {
		return 0, fmt.Errorf("check visibility: %w", readFault(ctx, err, "the partner and campaign records"))
	}
	if !ok {
		return 0, hub.Errorf(hub.ECONFLICT, "partner %s may not receive %s now", w.Partner, dl.MessageID)
	}
	return d.post(ctx, w, m.Header, m.Data)
}

// readFault is the hub's own failure to read what (the release stream,
// the catalog) while replaying a dead letter, as a domain error: the
// caller tells it apart from the endpoint's failures by that (see
// hub.WebhookSender). NATS faults are classified (natsfault.Classify);
// anything else is EUNAVAILABLE too, as it always was, for the replay can
// be tried again.
func readFault(ctx context.Context, err error, what string) error {
	err = natsfault.Classify(ctx, err, false, nil)
	if hub.ErrorCode(err) != hub.EINTERNAL {
		return err
	}
	return fmt.Errorf("%w: %w", hub.Errorf(hub.EUNAVAILABLE, "the hub could not read %s; try again in a minute", what), err)
}

// post makes one delivery attempt: the CloudEvents structured JSON,
// signed by the Standard Webhooks rules. It returns the HTTP status (0
// without an answer) and an error unless the endpoint answered 2xx.
func (d *Deliverer) post(ctx context.Context, w *hub.Webhook, h nats.Header, data []byte) (int, error) {
	body, err := wire.Structured(h, data)
	if err != nil {
		return 0, err
	}
	key, err := hub.WebhookSigningKey(w.Secret)
	if err != nil {
		return 0, fmt.Errorf("webhook %s: %w", w.ID, err)
	}
	id := h.Get(wire.HeaderID)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("webhook %s: %w", w.ID, err)
	}
	req.Header.Set("Content-Type", "application/cloudevents+json")
	req.Header.Set("User-Agent", "syndication-hub-webhooks")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", Sign(key, id, ts, body))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// Read a little of the answer, so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the endpoint answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// Sign returns the webhook-signature header value of a delivery by the
// Standard Webhooks rules: "v1," and the base64 of the HMAC-SHA256 of
// "<id>.<timestamp>.<body>".
func Sign(key []byte, id, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + timestamp + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}
