// Package cluster proves the hub's scale-out on loopback, in one run
// (`make cluster`, see bench/README.md): a three-node NATS JetStream
// cluster (this test binary re-executed as nats-server, from the shipped
// deploy/nats/hub-single.conf with hub-cluster.conf's cluster block), a
// MinIO server, and two `hub serve` processes built from ./cmd/hub with
// HUB_NATS_REPLICAS=3; two partner outlets read their durable consumers
// over NATS with their API keys throughout, and a third partner takes
// its releases by webhook. It checks that a release
// through one replica shows on the other within a second; that a burst of
// releases through both, with a NATS node and a replica SIGKILLed in the
// middle, reaches every partner, the change log and the catalog exactly
// once and nothing half-written, before and after the two come back; and
// that MinIO stopped during an upload is a 503 that records nothing, with
// uploads working again once MinIO is back, without a restart.
package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub/miniotest"
	"github.com/syndication-hub/hub/hub/webhooktest"
	"github.com/syndication-hub/hub/publisher/wire"
)

// clusterCampaign is the partners-only campaign every release of the run
// is in; both outlets are entitled to it.
const clusterCampaign = "cluster"

const (
	visibilitySamples = 20
	// visibleWithin is the bound on a release reaching the other
	// replica's API and feeds.
	visibleWithin = time.Second
	burstSize     = 1000
	burstWorkers  = 8
	// The kills land a quarter and half-way through the burst.
	killNATSAt = burstSize / 4
	killHubAt  = burstSize / 2
	// afterRestart releases go through both replicas once the killed
	// node and replica are back.
	afterRestart = 20
	// outletPatience bounds the wait for every release at an outlet: a
	// message delivered into a pull that died with its node comes again
	// after the consumer's AckWait (one minute).
	outletPatience = 150 * time.Second
)

// TestMain runs a NATS node instead of the tests when the binary was
// re-executed as one.
func TestMain(m *testing.M) {
	if os.Getenv(natsNodeEnv) != "" {
		os.Exit(runNATSNode())
	}
	os.Exit(m.Run())
}

// run is the state of one proof.
type run struct {
	t      *testing.T
	api    *apiClient
	nats   *natsCluster
	js     jetstream.JetStream // as the NATS admin user
	minio  *miniotest.Server
	bucket string
	dir    string     // where the children keep their files and logs
	hubs   []*hubProc // A, B
	prod   *producer
	// outlets are the partners' receivers: two over NATS, one webhook.
	outlets []receiver
	// partnerKey (the first outlet's) and feedToken (its partner's) are
	// what the visibility probes ask with.
	partnerKey, feedToken string

	mu       sync.Mutex
	released []*item     // every package the run released
	summary  [][2]string // label, figures
}

func TestCluster(t *testing.T) {
	if os.Getenv("HUB_CLUSTER") != "1" {
		t.Skip("the cluster proof runs on its own: make cluster (HUB_CLUSTER=1)")
	}
	began := time.Now()
	dir := keptOnFailure(t)
	var summarized time.Time
	t.Cleanup(func() {
		if !summarized.IsZero() {
			t.Logf("shutdown: both replicas, the NATS nodes and MinIO stopped in %s", time.Since(summarized).Round(100*time.Millisecond))
		}
	})
	mio := miniotest.StartDedicated(t)
	nc := startNATSCluster(t, dir)
	bin := buildHub(t, dir)
	s3 := s3Settings{endpoint: mio.Endpoint, bucket: "cluster-proof", accessKey: mio.AccessKey, secretKey: mio.SecretKey}
	a := newHub(t, "hub-a", bin, dir, nc, s3)
	b := newHub(t, "hub-b", bin, dir, nc, s3)
	// One after the other: two replicas creating the streams of a fresh
	// cluster at once can both wait out JetStream's timeout (deploy/README.md).
	a.start(t)
	b.start(t)
	adm := nc.admin(t)
	t.Cleanup(adm.Close)
	js, err := jetstream.New(adm)
	if err != nil {
		t.Fatal(err)
	}
	r := &run{t: t, api: newAPIClient(), nats: nc, js: js, minio: mio, bucket: s3.bucket, hubs: []*hubProc{a, b}, dir: dir}
	t.Cleanup(func() { r.printSummary(began); summarized = time.Now() })
	r.sum("set-up", "3 NATS nodes, MinIO, hub-a and hub-b (ready in %s and %s) in %s",
		ms(a.startup), ms(b.startup), time.Since(began).Round(100*time.Millisecond))

	r.setUp()
	r.visibility()
	if t.Failed() {
		return
	}
	r.burst()
	if t.Failed() {
		return
	}
	r.minioOutage()
	r.check("at the end", "at the end, through hub-b", r.hubs[1], true)
	r.hubLogs()
}

// hubLogs counts what the replicas' logs say about the faults: requests
// answered with a 5xx and announcements left to the reconciler (the
// outbox's retry, every 10 s), each replica and start.
func (r *run) hubLogs() {
	logs, err := filepath.Glob(filepath.Join(r.dir, "hub-*", "hub-*.log"))
	if err != nil {
		r.t.Fatal(err)
	}
	var parts []string
	for _, name := range logs {
		b, err := os.ReadFile(name)
		if err != nil {
			r.t.Fatal(err)
		}
		rel, _ := filepath.Rel(r.dir, name)
		parts = append(parts, fmt.Sprintf("%s %d failed requests, %d announcements retried",
			rel, bytes.Count(b, []byte(`msg="request failed"`)), bytes.Count(b, []byte(`msg="announce; will retry"`))))
	}
	r.sum("replicas' logs", "%s", strings.Join(parts, "; "))
}

// keptOnFailure is a directory for the run's files and logs, removed
// after a run that passed and kept (and named) after one that failed.
func keptOnFailure(t *testing.T) string {
	dir, err := os.MkdirTemp("", "hub-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs and data kept in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}

// sum logs a line and keeps it, under label, for the summary.
func (r *run) sum(label, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	r.t.Log(label + ": " + line)
	r.mu.Lock()
	r.summary = append(r.summary, [2]string{label, line})
	r.mu.Unlock()
}

// printSummary prints what the run measured, with its verdict, also
// after a run that stopped half-way.
func (r *run) printSummary(began time.Time) {
	verdict := "PASS"
	if r.t.Failed() {
		verdict = "FAIL (see the errors above)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\ncluster proof: %s, %s until the checks ended (before the shutdown)\n", verdict, time.Since(began).Round(100*time.Millisecond))
	for _, l := range r.summary {
		fmt.Fprintf(&b, "  %-24s %s\n", l[0], l[1])
	}
	r.t.Log(b.String())
}

// setUp makes the campaign, the producer's key, and two partners with a
// key each (the first with a feed token), and starts their outlets.
func (r *run) setUp() {
	t := r.t
	a, b := r.hubs[0].url(), r.hubs[1].url()
	r.api.json(t, a, "POST", "/v1/campaigns", adminKey,
		`{"slug":"`+clusterCampaign+`","name":"Cluster proof","visibility":"partners"}`, http.StatusCreated, nil)
	var key struct{ Key string }
	r.api.json(t, b, "POST", "/v1/keys", adminKey, `{"role":"producer","name":"cluster producer"}`, http.StatusCreated, &key)
	r.prod = &producer{api: r.api, hubs: r.hubs, key: key.Key, campaign: clusterCampaign,
		run: fmt.Sprintf("run-%d", time.Now().UnixNano()), stepTimeout: 2 * time.Minute}
	for i, name := range []string{"Almaty TV", "Bishkek Online"} {
		via := r.hubs[i%2].url()
		var p struct{ ID string }
		r.api.json(t, via, "POST", "/v1/partners", adminKey,
			fmt.Sprintf(`{"name":%q,"region":"Central Asia","medium":"tv","campaigns":[%q]}`, name, clusterCampaign), http.StatusCreated, &p)
		var pk struct{ Key string }
		r.api.json(t, via, "POST", "/v1/keys", adminKey,
			fmt.Sprintf(`{"role":"partner","name":%q,"partner":%q}`, name, p.ID), http.StatusCreated, &pk)
		if i == 0 {
			var ft struct{ Token string }
			r.api.json(t, via, "POST", "/v1/partners/"+p.ID+"/feedtoken", adminKey, "", http.StatusCreated, &ft)
			r.partnerKey, r.feedToken = pk.Key, ft.Token
		}
		// Each asks the other replica for its NATS access.
		r.outlets = append(r.outlets, connectOutlet(t, r.api, r.hubs[(i+1)%2].url(), name, pk.Key))
	}
	// A third partner takes its releases by webhook: a durable consumer
	// of its own, read by whichever replica's deliverer gets there.
	var p struct{ ID string }
	r.api.json(t, b, "POST", "/v1/partners", adminKey,
		`{"name":"Osh Radio","region":"Central Asia","medium":"radio","campaigns":["`+clusterCampaign+`"]}`, http.StatusCreated, &p)
	recv := webhooktest.Start(t, webhooktest.OK)
	var wh struct{ Secret string }
	r.api.json(t, a, "POST", "/v1/webhooks", adminKey, fmt.Sprintf(`{"url":%q,"partner":%q}`, recv.URL, p.ID), http.StatusCreated, &wh)
	recv.SetSecret(wh.Secret)
	r.outlets = append(r.outlets, &webhookOutlet{name: "Osh Radio", recv: recv})
}

// visibility releases packages through A, one at a time, and measures
// until each probe finds it on B.
func (r *run) visibility() {
	t := r.t
	probes := visibleOnOtherReplica(r.partnerKey, r.feedToken)
	delays := map[string][]time.Duration{}
	for i := range visibilitySamples {
		it, err := r.prod.release(t.Context(), i, 0, true)
		if err != nil {
			t.Fatalf("release through hub-a: %v", err)
		}
		r.addReleased(it)
		d, err := measureVisibility(t.Context(), r.api, r.hubs[1].url(), it, probes, 10*time.Second)
		if err != nil {
			t.Errorf("release %s through hub-a, on hub-b: %v", it.id, err)
		}
		for name, v := range d {
			delays[name] = append(delays[name], v)
		}
	}
	for _, p := range probes {
		ds := delays[p.name]
		worst := slices.Max(ds)
		verdict := "ok"
		if worst > visibleWithin {
			verdict = "MISSED"
			t.Errorf("release through hub-a took %s to show on hub-b's %s (bound %s)", ms(worst), p.name, visibleWithin)
		}
		r.sum("on hub-b: "+p.short, "p50 %s p99 %s max %s after the release's answer on hub-a (%d releases; %s bound %s) [%s]",
			ms(percentile(ds, 0.50)), ms(percentile(ds, 0.99)), ms(worst), len(ds), verdict, visibleWithin, p.name)
	}
}

// killEvent is one SIGKILL of the burst.
type killEvent struct {
	what  string
	at    time.Time
	after int64 // releases done when it came
}

// burst releases burstSize packages through both replicas, killing the
// NATS node leading the release stream and then hub-a on the way;
// checks; brings both back; checks again.
func (r *run) burst() {
	t := r.t
	ctx := t.Context()
	var done, next atomic.Int64
	items := make([]*item, burstSize)
	var kills []killEvent
	began := time.Now()
	killer := make(chan struct{})
	go func() {
		defer close(killer)
		for done.Load() < killNATSAt && ctx.Err() == nil {
			time.Sleep(2 * time.Millisecond)
		}
		leader, err := streamLeader(ctx, r.js, wire.Stream)
		if err != nil {
			t.Errorf("find the leader of %s: %v", wire.Stream, err)
			return
		}
		node := r.nats.node(leader)
		if node == nil {
			t.Errorf("%s is led by %q, none of the cluster's nodes", wire.Stream, leader)
			return
		}
		kills = append(kills, killEvent{what: "NATS node " + leader + " (leader of " + wire.Stream + ")", at: time.Now(), after: done.Load()})
		node.kill()
		for done.Load() < killHubAt && ctx.Err() == nil {
			time.Sleep(2 * time.Millisecond)
		}
		kills = append(kills, killEvent{what: "hub-a", at: time.Now(), after: done.Load()})
		r.hubs[0].kill()
	}()
	var wg sync.WaitGroup
	for range burstWorkers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= burstSize {
					return
				}
				it, err := r.prod.release(ctx, 1000+i, i%2, false)
				if err != nil {
					t.Errorf("burst release %d: %v", i, err)
					continue
				}
				items[i] = it
				done.Add(1)
			}
		})
	}
	wg.Wait()
	<-killer
	took := time.Since(began)
	for _, it := range items {
		if it != nil {
			r.addReleased(it)
		}
	}
	for _, k := range kills {
		r.sum("SIGKILL", "%s at %s (+%s into the burst, %d releases done)", k.what, k.at.Format("15:04:05.000"), k.at.Sub(began).Round(100*time.Millisecond), k.after)
	}
	if len(kills) != 2 {
		t.Fatalf("the burst ended before both kills (%d)", len(kills))
	}
	end := began.Add(took)
	rate := func(n int64, from, to time.Time) float64 { return float64(n) / to.Sub(from).Seconds() }
	r.sum("burst", "%d releases (create + upload + release) in %s, %.0f/s (%.0f/s before the kills, %.0f/s between, %.0f/s on hub-b alone); %d retries, %d to the other replica, %d unanswered",
		done.Load(), took.Round(100*time.Millisecond), float64(done.Load())/took.Seconds(),
		rate(kills[0].after, began, kills[0].at), rate(kills[1].after-kills[0].after, kills[0].at, kills[1].at), rate(done.Load()-kills[1].after, kills[1].at, end),
		r.prod.retries.Load(), r.prod.failovers.Load(), r.prod.unknown.Load())
	r.arrivalDelays(items)
	if t.Failed() {
		return
	}

	r.check("after the kills", "after the kills (1 of 3 NATS nodes and hub-a down), through hub-b", r.hubs[1], true)

	// Back: the node on its files, hub-a on its (empty) data dir.
	node := r.nats.node(strings.Fields(strings.TrimPrefix(kills[0].what, "NATS node "))[0])
	back := time.Now()
	node.start(t)
	r.hubs[0].start(t)
	waitFor(t, 2*time.Minute, "every stream replica current after the restart", func() error {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return streamsCurrent(c, r.js, 3)
	})
	r.sum("restart", "%s and hub-a back (hub-a ready in %s); every stream's 3 replicas current %s after the restart began",
		node.name, ms(r.hubs[0].startup), time.Since(back).Round(100*time.Millisecond))
	for i := range afterRestart {
		it, err := r.prod.release(ctx, 3000+i, i%2, true)
		if err != nil {
			t.Fatalf("release %d after the restart: %v", i, err)
		}
		r.addReleased(it)
	}
	r.check("after the restart", "after the restart, through hub-a", r.hubs[0], true)
}

// arrivalDelays reports, for the burst, how long after its release's
// answer each outlet first received it.
func (r *run) arrivalDelays(items []*item) {
	for _, o := range r.outlets {
		var ds []time.Duration
		for _, it := range items {
			if it == nil {
				continue
			}
			if at, ok := o.arrival(it.announcementID()); ok {
				ds = append(ds, at.Sub(it.released))
			}
		}
		if len(ds) == 0 {
			continue
		}
		r.sum("to "+o.label(), "release answer to first delivery during the burst p50 %s p99 %s max %s (%d of %d by its end; negative: delivered before the answer)",
			ms(percentile(ds, 0.50)), ms(percentile(ds, 0.99)), ms(slices.Max(ds)), len(ds), len(items))
	}
}

func (r *run) addReleased(it *item) {
	r.mu.Lock()
	r.released = append(r.released, it)
	r.mu.Unlock()
}

// check proves, through replica via, that every released package is in
// the catalog once, released, with its asset readable and the bytes
// sent; that nothing else is in the campaign; that the change log has
// each release exactly once; and that every outlet has received each
// (once after dedupe by ce-id) and nothing else.
func (r *run) check(label, phase string, via *hubProc, downloads bool) {
	t := r.t
	t.Helper()
	r.mu.Lock()
	released := slices.Clone(r.released)
	r.mu.Unlock()
	base := via.url()
	byHeadline := map[string]*item{}
	want := map[string]bool{}
	for _, it := range released {
		byHeadline[it.headline] = it
		want[it.announcementID()] = true
	}
	var violations []string
	violate := func(format string, args ...any) {
		v := fmt.Sprintf(format, args...)
		violations = append(violations, v)
		t.Errorf("%s: %s", phase, v)
	}

	// The catalog: one package per release, fully there; nothing else.
	found := map[string]int{}
	for _, p := range r.api.packages(t, base, adminKey, clusterCampaign) {
		headline := ""
		if len(p.Headlines) > 0 {
			headline = p.Headlines[0].Value
		}
		it := byHeadline[headline]
		if it == nil {
			violate("package %s (%q, %s) is no release the producer finished: half-written", p.ID, headline, p.Status)
			continue
		}
		found[headline]++
		switch {
		case p.ID != it.id:
			violate("package %s has the headline of %s: created twice", p.ID, it.id)
		case p.Status != "released" || p.Version != "1":
			violate("package %s is %s version %s, want released version 1", p.ID, p.Status, p.Version)
		case len(p.Associations) != 1 || p.Associations[0].Name != it.asset || p.Associations[0].SHA256 != it.sha256:
			violate("package %s lists assets %+v, want %s with sha256 %s", p.ID, p.Associations, it.asset, it.sha256)
		}
	}
	for _, it := range released {
		if found[it.headline] == 0 {
			violate("released package %s is not in the catalog", it.id)
		}
	}
	var readable int
	if downloads {
		for _, it := range released {
			rep, err := r.api.do(t.Context(), base, "GET", "/v1/packages/"+it.id+"/assets/"+it.asset, r.partnerKey, nil, 0, nil)
			if err != nil || rep.status != http.StatusOK || !bytes.Equal(rep.body, it.content) {
				status := 0
				if err == nil {
					status = rep.status
				}
				violate("asset %s/%s: %d, %v, same bytes %v", it.id, it.asset, status, err, err == nil && bytes.Equal(rep.body, it.content))
				continue
			}
			readable++
		}
	}

	// The change log, as a partner polls it.
	log := r.api.changeLog(t, base, r.partnerKey)
	var once, twice, missing, extra int
	for id, n := range log {
		switch {
		case !want[id]:
			extra++
			violate("change log has %s, which the run never released", id)
		case n > 1:
			twice++
			violate("change log has %s %d times", id, n)
		default:
			once++
		}
	}
	for id := range want {
		if log[id] == 0 {
			missing++
			violate("change log lacks %s", id)
		}
	}

	// The outlets' durable consumers.
	var outlets []string
	for _, o := range r.outlets {
		waited, lacking := o.waitAll(want, outletPatience)
		if len(lacking) > 0 {
			violate("%s lacks %d releases after %s, e.g. %v", o.label(), len(lacking), outletPatience, lacking[:min(5, len(lacking))])
		}
		if other := o.unexpected(want); len(other) > 0 {
			violate("%s received %d it should not have, e.g. %v", o.label(), len(other), other[:min(5, len(other))])
		}
		outlets = append(outlets, fmt.Sprintf("%s: %s, complete after %s more", o.label(), o.counts(), ms(waited)))
	}
	verdict := "ok"
	if len(violations) > 0 {
		verdict = fmt.Sprintf("%d VIOLATIONS", len(violations))
	}
	assets := "not read"
	if downloads {
		assets = fmt.Sprintf("%d assets readable with the bytes sent", readable)
	}
	t.Logf("check %s: %s; catalog %d packages released once each, %s; change log %d once, %d repeated, %d missing, %d unknown; outlets %s",
		phase, verdict, len(found), assets, once, twice, missing, extra, strings.Join(outlets, "; "))
	var distinct, redelivered []string
	for _, o := range r.outlets {
		c := o.counts()
		distinct, redelivered = append(distinct, fmt.Sprint(c.distinct)), append(redelivered, fmt.Sprint(c.redelivered))
	}
	r.mu.Lock()
	r.summary = append(r.summary, [2]string{"check " + label, fmt.Sprintf("%s: %d released, each once in the catalog (%s), the change log (%d) and at the 3 partners (%s distinct, %s redelivered)",
		verdict, len(want), assets, once, strings.Join(distinct, "/"), strings.Join(redelivered, "/"))})
	r.mu.Unlock()
}

// minioOutage stops MinIO during an upload through hub-b: the upload must
// be a 503 with a problem saying so, leaving no asset on the package and
// no blob record; once MinIO is back the same upload must succeed on the
// same replica, never restarted.
func (r *run) minioOutage() {
	t := r.t
	ctx := t.Context()
	b := r.hubs[1]
	it := r.prod.newItem(4000)
	it.asset = "outage.txt"
	it.content = bytes.Repeat([]byte(fmt.Sprintf("%s: MinIO goes away during this upload.\n", r.prod.run)), (4<<20)/64)
	sum := sha256.Sum256(it.content)
	it.sha256 = hex.EncodeToString(sum[:])
	var created struct{ ID string }
	r.api.json(t, b.url(), "POST", "/v1/packages", r.prod.key,
		fmt.Sprintf(`{"campaign":%q,"language":"kk","headlines":[{"value":%q}]}`, clusterCampaign, it.headline), http.StatusCreated, &created)
	it.id = created.ID
	blobsBefore := r.blobRecords()
	objectsBefore := r.objects()

	type result struct {
		rep reply
		err error
	}
	res := make(chan result, 1)
	began := time.Now()
	go func() {
		body := &slowReader{r: bytes.NewReader(it.content), chunk: 64 << 10, pause: 15 * time.Millisecond}
		rep, err := r.api.do(ctx, b.url(), "PUT", "/v1/packages/"+it.id+"/assets/"+it.asset, r.prod.key, body, int64(len(it.content)),
			map[string]string{"Content-Type": "text/plain; charset=utf-8"})
		res <- result{rep, err}
	}()
	time.Sleep(300 * time.Millisecond)
	r.minio.Kill(t)
	killed := time.Now()
	got := <-res
	switch {
	case got.err != nil:
		t.Errorf("upload with MinIO stopped: no answer: %v", got.err)
	case got.rep.status != http.StatusServiceUnavailable:
		t.Errorf("upload with MinIO stopped: %d %s, want 503", got.rep.status, got.rep.problemDetail())
	case !strings.HasPrefix(got.rep.header.Get("Content-Type"), "application/problem+json") || got.rep.problemDetail() == ": ":
		t.Errorf("upload with MinIO stopped: 503 without a problem document: %q %.200s", got.rep.header.Get("Content-Type"), got.rep.body)
	}
	answered := time.Now()

	// Nothing recorded, as both replicas and NATS say while MinIO is away.
	for _, h := range r.hubs {
		var p listedPackage
		r.api.json(t, h.url(), "GET", "/v1/packages/"+it.id, r.prod.key, "", http.StatusOK, &p)
		if len(p.Associations) != 0 {
			t.Errorf("after the failed upload %s lists assets %+v", h.name, p.Associations)
		}
	}
	blobsDuring := r.blobRecords()
	if len(blobsDuring) != len(blobsBefore) {
		t.Errorf("blob records: %d before the failed upload, %d after", len(blobsBefore), len(blobsDuring))
	}
	if blobsDuring[it.sha256] {
		t.Errorf("the failed upload's content %s has a blob record", it.sha256)
	}

	r.minio.Restart(t)
	restarted := time.Now()
	objectsAfter := r.objects()
	if objectsAfter != objectsBefore {
		t.Errorf("MinIO objects: %d before the failed upload, %d after it", objectsBefore, objectsAfter)
	}
	var unavailable int
	waitFor(t, time.Minute, "the upload on hub-b after MinIO is back", func() error {
		rep, err := r.api.do(ctx, b.url(), "PUT", "/v1/packages/"+it.id+"/assets/"+it.asset, r.prod.key, bytes.NewReader(it.content), int64(len(it.content)),
			map[string]string{"Content-Type": "text/plain; charset=utf-8"})
		switch {
		case err != nil:
			return err
		case rep.status == http.StatusServiceUnavailable:
			unavailable++
			return fmt.Errorf("503 %s", rep.problemDetail())
		case rep.status != http.StatusCreated && rep.status != http.StatusOK:
			t.Fatalf("upload after MinIO is back: %d %s", rep.status, rep.problemDetail())
		}
		return nil
	})
	uploaded := time.Now()
	rep, err := r.api.do(ctx, b.url(), "GET", "/v1/packages/"+it.id+"/assets/"+it.asset, r.prod.key, nil, 0, nil)
	if err != nil || rep.status != http.StatusOK || !bytes.Equal(rep.body, it.content) {
		t.Errorf("the asset uploaded after MinIO came back does not read back: %v %d", err, rep.status)
	}
	if !r.blobRecords()[it.sha256] {
		t.Errorf("the upload after MinIO came back has no blob record")
	}
	r.api.json(t, b.url(), "POST", "/v1/packages/"+it.id+"/release", r.prod.key, "", http.StatusOK, nil)
	it.released = time.Now()
	r.addReleased(it)
	r.sum("MinIO SIGKILL", "at %s, %s into a %.1f MiB upload to hub-b: %d %s after, %q; recorded nothing (assets none, blob records %d -> %d, objects %d -> %d)",
		killed.Format("15:04:05.000"), ms(killed.Sub(began)), float64(len(it.content))/(1<<20), got.rep.status, ms(answered.Sub(killed)), got.rep.problemDetail(),
		len(blobsBefore), len(blobsDuring), objectsBefore, objectsAfter)
	r.sum("MinIO back", "at %s: the same upload to hub-b (never restarted) succeeded %s later, after %d more 503s",
		restarted.Format("15:04:05.000"), ms(uploaded.Sub(restarted)), unavailable)
}

// blobRecords are the keys of the hub's blob records (content SHA-256s).
func (r *run) blobRecords() map[string]bool {
	t := r.t
	t.Helper()
	kv, err := r.js.KeyValue(t.Context(), "hub_blobs")
	if err != nil {
		t.Fatalf("blob records bucket: %v", err)
	}
	out := map[string]bool{}
	keys, err := kv.ListKeys(t.Context())
	if err != nil {
		t.Fatalf("blob records: %v", err)
	}
	for k := range keys.Keys() {
		out[k] = true
	}
	return out
}

// objects counts the objects in the hub's bucket.
func (r *run) objects() int {
	t := r.t
	t.Helper()
	var n int
	for obj := range r.minio.Client(t).ListObjects(t.Context(), r.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatalf("list %s: %v", r.bucket, obj.Err)
		}
		n++
	}
	return n
}

// slowReader hands out its bytes in chunks with a pause before each, so
// MinIO can be stopped while the upload runs.
type slowReader struct {
	r     io.Reader
	chunk int
	pause time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.pause)
	if len(p) > s.chunk {
		p = p[:s.chunk]
	}
	return s.r.Read(p)
}

// percentile is the nearest-rank p-th (0 to 1) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// ms shows a duration in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
