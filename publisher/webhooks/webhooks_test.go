package webhooks_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/hub/webhooktest"
	"github.com/syndication-hub/hub/publisher/webhooks"
	"github.com/syndication-hub/hub/publisher/wire"
)

// fastRetries keeps the suite quick: attempts time out after 300 ms and
// are retried after 50 to 200 ms. Private targets are allowed: the
// receivers listen on loopback.
var fastRetries = webhooks.Options{
	AllowPrivateTargets: true, MaxAttempts: 6, FirstRetry: 50 * time.Millisecond, MaxRetryDelay: 200 * time.Millisecond,
	Timeout: 300 * time.Millisecond, SyncEvery: 100 * time.Millisecond,
}

// webhookHub is one hub (hubtest: the composition root as `hub serve`
// runs it) whose service accepts loopback webhooks (the receivers are
// httptest servers), delivering with the given options.
type webhookHub struct {
	hub       *hubtest.Hub
	js        jetstream.JetStream
	catalog   *catalog.Catalog
	svc       *hub.Service
	admin     *hub.Key
	deliverer *webhooks.Deliverer
}

func newWebhookHub(t testing.TB, opts webhooks.Options) *webhookHub {
	t.Helper()
	h := hubtest.Start(t, hubtest.Options{Webhooks: &opts, PublicURL: "https://hub.example.org", Logger: slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	return &webhookHub{hub: h, js: h.Server.JetStream(), catalog: h.Server.Catalog(), svc: h.Service,
		admin: h.Admin(t), deliverer: h.Server.Webhooks()}
}

// readyPackage creates a package with a headline and one asset.
func (h *webhookHub) readyPackage(t testing.TB, campaign string) *hub.Package {
	t.Helper()
	return h.hub.ReadyPackage(t, campaign)
}

// partner makes an active partner entitled to campaigns.
func (h *webhookHub) partner(t testing.TB, name string, campaigns ...string) *hub.Partner {
	t.Helper()
	p, err := h.svc.CreatePartner(context.Background(), h.admin, &hub.Partner{Name: name, Medium: hub.MediumOnline, Active: true, Campaigns: campaigns})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// hook registers a receiver answering as behave for partner p.
func (h *webhookHub) hook(t testing.TB, p *hub.Partner, behave webhooktest.Behaviour) (*webhooktest.Receiver, *hub.Webhook) {
	t.Helper()
	rcv := webhooktest.Start(t, behave)
	w, err := h.svc.CreateWebhook(context.Background(), h.admin, p.ID, rcv.URL+"/hooks/"+p.Name)
	if err != nil {
		t.Fatal(err)
	}
	rcv.SetSecret(w.Secret)
	return rcv, w
}

// campaign records a campaign with the given visibility.
func (h *webhookHub) campaign(t testing.TB, slug string, v hub.Visibility) {
	t.Helper()
	if _, err := h.svc.CreateCampaign(context.Background(), h.admin, &hub.Campaign{Slug: slug, Visibility: v}); err != nil {
		t.Fatal(err)
	}
}

// release releases a new package in campaign and returns its id.
func (h *webhookHub) release(t testing.TB, campaign string) string {
	t.Helper()
	p := h.readyPackage(t, campaign)
	if _, err := h.svc.Release(context.Background(), h.admin, p.ID, nil); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// settle waits long enough for a retry or a stray second delivery to show.
func settle() { time.Sleep(4 * fastRetries.MaxRetryDelay) }

func TestWebhookDeliversSignedCloudEventsOnce(t *testing.T) {
	ctx := context.Background()
	h := newWebhookHub(t, fastRetries)
	rcv, _ := h.hook(t, h.partner(t, "vesti"), webhooktest.OK)

	// The campaign is made by this first package, after the consumer: a
	// consumer filtered by campaign would have skipped the release.
	// Each step waits for its delivery: a release that a correction or a
	// withdrawal overtakes is, by design, not sent any more.
	id := h.release(t, "korgau123")
	rcv.WaitFor(t, id+".1.released", 5*time.Second)
	headline := "Домогательства на работе — это преступление (исправлено)"
	if _, err := h.svc.UpdatePackage(ctx, h.admin, id, hub.PackagePatch{Headlines: &[]hub.Text{{Value: headline}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Release(ctx, h.admin, id, nil); err != nil {
		t.Fatal(err)
	}
	rcv.WaitFor(t, id+".2.corrected", 5*time.Second)
	if _, err := h.svc.Withdraw(ctx, h.admin, id); err != nil {
		t.Fatal(err)
	}
	want := []struct{ id, ceType string }{
		{id + ".1.released", "org.syndicationhub.package.released"},
		{id + ".2.corrected", "org.syndicationhub.package.corrected"},
		{id + ".2.withdrawn", "org.syndicationhub.package.withdrawn"},
	}
	for _, w := range want {
		ev := rcv.WaitFor(t, w.id, 5*time.Second)
		if ev.Type != w.ceType || ev.SpecVersion != "1.0" || ev.Subject != id || ev.Source != "https://hub.example.org" ||
			ev.DataContentType != "application/json" || ev.Campaign != "korgau123" || ev.Language != "ru" || ev.Time == "" {
			t.Errorf("%s: attributes %+v", w.id, ev)
		}
		if ev.ContentType != "application/cloudevents+json" {
			t.Errorf("%s: Content-Type %q", w.id, ev.ContentType)
		}
		if ev.Data["uri"] == nil || ev.Data["type"] != "composite" {
			t.Errorf("%s: data is not the ninjs item: %v", w.id, ev.Data)
		}
	}
	if hl := fmt.Sprint(rcv.WaitFor(t, want[1].id, time.Second).Data["headlines"]); !strings.Contains(hl, headline) {
		t.Errorf("the correction carries headlines %s", hl)
	}
	settle()
	for _, w := range want {
		if n := rcv.Accepted(w.id); n != 1 {
			t.Errorf("%s delivered %d times", w.id, n)
		}
	}
	if n := len(rcv.Events()); n != len(want) {
		t.Errorf("%d deliveries, want %d", n, len(want))
	}
}

// TestWebhookFaultsAreDeliveredLaterOnce: an endpoint that times out, one
// that answers 500 three times and one that drops the connection all get
// the announcement later, exactly once.
func TestWebhookFaultsAreDeliveredLaterOnce(t *testing.T) {
	h := newWebhookHub(t, fastRetries)
	faults := []struct {
		name         string
		behave       webhooktest.Behaviour
		wantAttempts int
	}{
		{"timeout", webhooktest.TimeoutFirst, 2},
		{"three500s", webhooktest.FailTimes(3), 4},
		{"dropped", webhooktest.DropFirst, 2},
	}
	receivers := map[string]*webhooktest.Receiver{}
	for _, f := range faults {
		receivers[f.name], _ = h.hook(t, h.partner(t, f.name), f.behave)
	}
	start := time.Now()
	msg := h.release(t, "korgau123") + ".1.released"
	for _, f := range faults {
		rcv := receivers[f.name]
		ev := rcv.WaitFor(t, msg, 10*time.Second)
		t.Logf("%s: delivered %v after the release, at attempt %d", f.name, ev.Arrived.Sub(start).Round(time.Millisecond), rcv.Attempts(msg))
	}
	settle()
	for _, f := range faults {
		rcv := receivers[f.name]
		if n := rcv.Accepted(msg); n != 1 {
			t.Errorf("%s: delivered %d times, want once", f.name, n)
		}
		if n := rcv.Attempts(msg); n != f.wantAttempts {
			t.Errorf("%s: %d attempts reached the endpoint, want %d", f.name, n, f.wantAttempts)
		}
	}
}

// TestDeadEndpointDoesNotDelayOthers runs a healthy endpoint beside one
// that always fails and one that never answers: the healthy one gets
// every release at once.
func TestDeadEndpointDoesNotDelayOthers(t *testing.T) {
	opts := fastRetries
	opts.Timeout = 3 * time.Second // the hung endpoint holds each attempt this long
	h := newWebhookHub(t, opts)
	dead, _ := h.hook(t, h.partner(t, "dead"), webhooktest.Dead)
	hung, _ := h.hook(t, h.partner(t, "hung"), webhooktest.Hang)
	healthy, _ := h.hook(t, h.partner(t, "healthy"), webhooktest.OK)

	var worst time.Duration
	var ids []string
	for range 5 {
		start := time.Now()
		id := h.release(t, "korgau123") + ".1.released"
		ids = append(ids, id)
		ev := healthy.WaitFor(t, id, 5*time.Second)
		worst = max(worst, ev.Arrived.Sub(start))
	}
	t.Logf("the healthy endpoint got each of 5 releases within %v of the release call", worst.Round(time.Millisecond))
	// Sharing a queue with the hung endpoint would make the healthy one
	// wait out at least one hung attempt per release.
	if worst >= opts.Timeout {
		t.Errorf("the healthy endpoint waited %v, as long as a hung attempt", worst)
	}
	if dead.Attempts(ids[0]) == 0 || hung.Attempts(ids[0]) == 0 {
		t.Errorf("the failing endpoints were not tried: dead %d, hung %d", dead.Attempts(ids[0]), hung.Attempts(ids[0]))
	}
}

// TestWebhookAttemptCapMakesADeadLetter checks the cap, the dead letter's
// record, and a replay once the endpoint recovers.
func TestWebhookAttemptCapMakesADeadLetter(t *testing.T) {
	ctx := context.Background()
	opts := fastRetries
	opts.MaxAttempts = 3
	h := newWebhookHub(t, opts)
	rcv, w := h.hook(t, h.partner(t, "down"), webhooktest.Dead)
	pkg := h.release(t, "korgau123")
	msg := pkg + ".1.released"

	var letters []*hub.DeadLetter
	deadline := time.Now().Add(10 * time.Second)
	for len(letters) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no dead letter after %d attempts", rcv.Attempts(msg))
		}
		time.Sleep(20 * time.Millisecond)
		var err error
		if letters, err = h.svc.DeadLetters(ctx, h.admin, w.ID); err != nil {
			t.Fatal(err)
		}
	}
	d := letters[0]
	if d.MessageID != msg || d.Attempts != 3 || d.LastStatus != 500 || d.Campaign != "korgau123" || d.Sequence == 0 || d.LastError == "" {
		t.Errorf("dead letter %+v", d)
	}
	settle()
	if n := rcv.Attempts(msg); n != 3 {
		t.Errorf("%d attempts, want the cap of 3", n)
	}

	if _, err := h.svc.ReplayDeadLetter(ctx, h.admin, w.ID, msg, h.deliverer); hub.ErrorCode(err) != hub.EUNAVAILABLE {
		t.Fatalf("replay to a still-dead endpoint: %v", err)
	}
	if d, err := h.catalog.DeadLetter(ctx, w.ID, msg); err != nil || d.Attempts != 4 {
		t.Fatalf("after a failed replay: %+v, %v", d, err)
	}
	rcv.SetBehaviour(webhooktest.OK)
	if status, err := h.svc.ReplayDeadLetter(ctx, h.admin, w.ID, msg, h.deliverer); err != nil || status != 204 {
		t.Fatalf("replay: %d, %v", status, err)
	}
	if rcv.Accepted(msg) != 1 {
		t.Errorf("delivered %d times by the replay", rcv.Accepted(msg))
	}
	if left, _ := h.svc.DeadLetters(ctx, h.admin, w.ID); len(left) != 0 {
		t.Errorf("dead letters left after the replay: %v", left)
	}
}

// TestWebhookFollowsEntitlements: a partner not entitled to a
// partners-only campaign gets nothing of it; once entitled it does.
func TestWebhookFollowsEntitlements(t *testing.T) {
	ctx := context.Background()
	h := newWebhookHub(t, fastRetries)
	h.campaign(t, "survivors", hub.VisibilityPartners)
	entitled, _ := h.hook(t, h.partner(t, "entitled", "survivors"), webhooktest.OK)
	other := h.partner(t, "other")
	outsider, _ := h.hook(t, other, webhooktest.OK)

	closed := h.release(t, "survivors") + ".1.released"
	public := h.release(t, "korgau123") + ".1.released"
	entitled.WaitFor(t, closed, 5*time.Second)
	entitled.WaitFor(t, public, 5*time.Second)
	outsider.WaitFor(t, public, 5*time.Second)
	settle()
	if n := outsider.Attempts(closed); n != 0 {
		t.Fatalf("a partner not entitled to the campaign was sent its release %d times", n)
	}

	if _, err := h.svc.UpdatePartner(ctx, h.admin, other.ID, hub.PartnerPatch{Campaigns: &[]string{"survivors"}}); err != nil {
		t.Fatal(err)
	}
	granted := h.release(t, "survivors") + ".1.released"
	outsider.WaitFor(t, granted, 5*time.Second)
	if n := outsider.Attempts(closed); n != 0 {
		t.Errorf("the entitlement brought an older release along (%d attempts)", n)
	}
}

// TestWebhookChecksVisibilityAtDelivery makes a campaign partners-only
// between two releases: the rule is applied to each message when it is
// delivered, with the records as they are then.
func TestWebhookChecksVisibilityAtDelivery(t *testing.T) {
	ctx := context.Background()
	h := newWebhookHub(t, fastRetries)
	rcv, _ := h.hook(t, h.partner(t, "vesti"), webhooktest.OK)

	before := h.release(t, "korgau123") + ".1.released"
	rcv.WaitFor(t, before, 5*time.Second)
	if _, err := h.svc.UpdateCampaign(ctx, h.admin, "korgau123", hub.CampaignPatch{Visibility: ptr(hub.VisibilityPartners)}); err != nil {
		t.Fatal(err)
	}
	hidden := h.release(t, "korgau123") + ".1.released"
	after := h.release(t, "other") + ".1.released"
	rcv.WaitFor(t, after, 5*time.Second) // one consumer, in stream order: hidden was handled before
	if n := rcv.Attempts(hidden); n != 0 {
		t.Errorf("a release of a campaign the partner may no longer see was sent %d times", n)
	}
}

// TestDeletedWebhookStops deletes a webhook: its consumer goes, and
// nothing more is sent.
func TestDeletedWebhookStops(t *testing.T) {
	ctx := context.Background()
	h := newWebhookHub(t, fastRetries)
	rcv, w := h.hook(t, h.partner(t, "vesti"), webhooktest.OK)
	first := h.release(t, "korgau123") + ".1.released"
	rcv.WaitFor(t, first, 5*time.Second)
	if err := h.svc.DeleteWebhook(ctx, h.admin, w.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := h.js.Consumer(ctx, wire.Stream, webhooks.ConsumerName(w.ID))
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the consumer of a deleted webhook is still there: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	later := h.release(t, "korgau123") + ".1.released"
	settle()
	if n := rcv.Attempts(later); n != 0 {
		t.Errorf("a deleted webhook was sent a release %d times", n)
	}
}

// TestWebhookRegisteredBeforeTheConsumerMissesNothing releases right after
// registering, before the deliverer's next sync has made the webhook's
// consumer: the consumer starts at the registration, so the release still
// arrives; an older one does not.
func TestWebhookRegisteredBeforeTheConsumerMissesNothing(t *testing.T) {
	ctx := context.Background()
	opts := fastRetries
	opts.SyncEvery = 3 * time.Second // a wide gap between syncs to release in
	h := newWebhookHub(t, opts)
	old := h.release(t, "korgau123") + ".1.released"
	time.Sleep(1500 * time.Millisecond) // beyond the registration skew
	for attempt := 1; ; attempt++ {
		rcv, w := h.hook(t, h.partner(t, fmt.Sprintf("late-%d", attempt)), webhooktest.OK)
		fresh := h.release(t, "korgau123") + ".1.released"
		// The case under test holds only if no sync made the consumer in
		// between: check it, and try again in the unlikely other case.
		if _, err := h.js.Consumer(ctx, wire.Stream, webhooks.ConsumerName(w.ID)); !errors.Is(err, jetstream.ErrConsumerNotFound) {
			if attempt == 3 {
				t.Fatalf("a sync ran between registering and releasing three times (%v)", err)
			}
			t.Logf("attempt %d: the consumer existed before the release; trying again", attempt)
			continue
		}
		rcv.WaitFor(t, fresh, opts.SyncEvery+5*time.Second)
		settle()
		if n := rcv.Attempts(old); n != 0 {
			t.Errorf("a release from before the registration was sent %d times", n)
		}
		return
	}
}

// TestDeliveryRefusesPrivateTargetsAtDial stands for DNS rebinding: a
// webhook whose host passed the check at registration but now resolves
// to a loopback address. Without AllowPrivateTargets the deliverer
// refuses to connect, and the announcement ends as a dead letter.
func TestDeliveryRefusesPrivateTargetsAtDial(t *testing.T) {
	ctx := context.Background()
	opts := fastRetries
	opts.AllowPrivateTargets, opts.MaxAttempts = false, 2
	h := newWebhookHub(t, opts) // its service registers loopback targets
	rcv, w := h.hook(t, h.partner(t, "rebound"), webhooktest.OK)
	msg := h.release(t, "korgau123") + ".1.released"
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := h.catalog.DeadLetter(ctx, w.ID, msg)
		if err == nil {
			if !strings.Contains(d.LastError, "not a public address") || d.LastStatus != 0 {
				t.Errorf("dead letter %+v", d)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dead letter: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := rcv.Attempts(msg); n != 0 {
		t.Errorf("the deliverer reached a loopback endpoint %d times", n)
	}
}

func ptr[T any](v T) *T { return &v }

// testLog sends the deliverer's log to the test log.
type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// fanoutReceivers are n webhook endpoints, one httptest server each (so
// each has its own host and connection pool, as real outlets do), that
// note when each endpoint accepted each announcement.
type fanoutReceivers struct {
	n       int
	mu      sync.Mutex
	arrived map[string][]time.Time // by webhook-id
	all     map[string]chan struct{}
}

func (f *fanoutReceivers) handler(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	id := r.Header.Get("webhook-id")
	now := time.Now()
	f.mu.Lock()
	f.arrived[id] = append(f.arrived[id], now)
	if len(f.arrived[id]) == f.n {
		close(f.waiter(id))
	}
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// waiter returns the channel closed when every endpoint has id; f.mu held.
func (f *fanoutReceivers) waiter(id string) chan struct{} {
	c, ok := f.all[id]
	if !ok {
		c = make(chan struct{})
		f.all[id] = c
	}
	return c
}

func (f *fanoutReceivers) wait(tb testing.TB, id string) []time.Time {
	f.mu.Lock()
	c := f.waiter(id)
	f.mu.Unlock()
	select {
	case <-c:
	case <-time.After(30 * time.Second):
		f.mu.Lock()
		defer f.mu.Unlock()
		tb.Fatalf("%s reached %d of %d endpoints", id, len(f.arrived[id]), f.n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.arrived[id])
}

// BenchmarkWebhookFanout measures webhook fan-out to 200 local endpoints:
// the time from a producer's release call until all 200 accepted the
// announcement, over a few releases after a warm-up one.
func BenchmarkWebhookFanout(b *testing.B) {
	const endpoints, rounds = 200, 5
	ctx := context.Background()
	h := newWebhookHub(b, webhooks.Options{AllowPrivateTargets: true, SyncEvery: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	f := &fanoutReceivers{n: endpoints, arrived: map[string][]time.Time{}, all: map[string]chan struct{}{}}
	for i := range endpoints {
		srv := httptest.NewServer(http.HandlerFunc(f.handler))
		b.Cleanup(srv.Close)
		p := h.partner(b, fmt.Sprintf("outlet-%03d", i))
		if _, err := h.svc.CreateWebhook(ctx, h.admin, p.ID, srv.URL+"/hooks/hub"); err != nil {
			b.Fatal(err)
		}
	}
	f.wait(b, h.release(b, "korgau123")+".1.released") // warm-up: consumers made, connections open
	// When the announcement reaches a plain NATS consumer: what the fan-out adds is the rest.
	announced := natstest.WatchArrivals(b, h.js, wire.Stream, func(m jetstream.Msg) string { return m.Headers().Get(wire.HeaderID) })

	b.ResetTimer()
	for range b.N {
		var fanouts, each, streamed []time.Duration
		for range rounds {
			b.StopTimer()
			p := h.readyPackage(b, "korgau123")
			b.StartTimer()
			start := time.Now()
			if _, err := h.svc.Release(ctx, h.admin, p.ID, nil); err != nil {
				b.Fatal(err)
			}
			var last time.Duration
			for _, at := range f.wait(b, p.ID+".1.released") {
				each = append(each, at.Sub(start))
				last = max(last, at.Sub(start))
			}
			fanouts = append(fanouts, last)
			streamed = append(streamed, announced.Wait(b, p.ID+".1.released").Sub(start))
		}
		b.ReportMetric(float64(natstest.Percentile(fanouts, .5).Microseconds())/1000, "all-200-p50-ms")
		b.ReportMetric(float64(slices.Max(fanouts).Microseconds())/1000, "all-200-max-ms")
		b.ReportMetric(float64(natstest.Percentile(each, .5).Microseconds())/1000, "endpoint-p50-ms")
		b.ReportMetric(float64(natstest.Percentile(streamed, .5).Microseconds())/1000, "nats-p50-ms")
		b.Logf("release -> all %d endpoints accepted: p50 %v, max %v over %d releases; one endpoint: p50 %v, p99 %v; "+
			"release -> a plain NATS consumer: p50 %v", endpoints, natstest.Percentile(fanouts, .5), slices.Max(fanouts), rounds,
			natstest.Percentile(each, .5), natstest.Percentile(each, .99), natstest.Percentile(streamed, .5))
	}
}

// TestWebhookRetryOutlivedByAKillNoticeIsNotSent has an endpoint down at
// the release and back only after the package was withdrawn: it gets the
// kill notice, never the release it could republish.
func TestWebhookRetryOutlivedByAKillNoticeIsNotSent(t *testing.T) {
	h := newWebhookHub(t, fastRetries)
	var down atomic.Bool
	down.Store(true)
	rcv, _ := h.hook(t, h.partner(t, "flaky"), func(w http.ResponseWriter, r *http.Request, attempt int) bool {
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return false
		}
		return webhooktest.OK(w, r, attempt)
	})
	id := h.release(t, "korgau123")
	released := id + ".1.released"
	for rcv.Attempts(released) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := h.svc.Withdraw(context.Background(), h.admin, id); err != nil {
		t.Fatal(err)
	}
	down.Store(false)
	rcv.WaitFor(t, id+".1.withdrawn", 10*time.Second)
	settle()
	if n := rcv.Accepted(released); n != 0 {
		t.Errorf("the release went out %d times after its kill notice", n)
	}
}
