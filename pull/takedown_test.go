package pull_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/pull"
)

// takedownCalls carries hub pull's requests, failing its takedown
// confirmations while fail is set, and notes for each confirmation sent
// whether the package's files were still on disk.
type takedownCalls struct {
	mu       sync.Mutex
	fail     bool
	files    []string // what must be gone before a confirmation
	sent     int
	tooEarly []string
}

func (tc *takedownCalls) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/takedown") {
		return http.DefaultTransport.RoundTrip(req)
	}
	tc.mu.Lock()
	tc.sent++
	for _, f := range tc.files {
		if _, err := os.Stat(f); err == nil {
			tc.tooEarly = append(tc.tooEarly, f)
		}
	}
	fail := tc.fail
	tc.mu.Unlock()
	if fail {
		return nil, errors.New("the network is down")
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (tc *takedownCalls) set(fail bool) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	tc.fail = fail
}

// TestPullConfirmsTheTakedownOnceTheFilesAreGone: after a withdrawal hub
// pull removes the files and then confirms to the hub by itself; a
// confirmation that did not get through is sent by the next run, and a
// later purge sends none again. The producer sees the outlet confirmed,
// by pull, and another outlet the notice was for not confirmed.
func TestPullConfirmsTheTakedownOnceTheFilesAreGone(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, hubtest.Options{})
	e.hub.PartnerKey(t, "Osh FM") // also sees the public campaign, and pulls nothing
	poster := png("poster", 1000)
	id := e.publish(t, "korgau123", "ru", "Домогательства на работе — это преступление", map[string][]byte{"poster.png": poster})
	calls := &takedownCalls{files: []string{filepath.Join(e.dir("korgau123", "ru", id), "poster.png")}}
	e.pull(t, calls, pull.Options{})
	if !fileIs(calls.files[0], poster) {
		t.Fatal("the poster was not mirrored")
	}
	if _, err := e.producer.Withdraw(ctx, id); err != nil {
		t.Fatal(err)
	}

	// The hub cannot be reached for the confirmation: the files go all
	// the same, and the confirmation stays owed.
	calls.set(true)
	e.pull(t, calls, pull.Options{})
	if _, err := os.Stat(calls.files[0]); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the withdrawn poster is still there: %v", err)
	}
	if st := readState(t, e.dest).Packages[id]; st.Status != "withdrawn" || st.TakedownConfirmed != nil || calls.sent != 1 {
		t.Fatalf("after a failed confirmation: state %+v, %d sent", st, calls.sent)
	}
	report := func() *hub.TakedownReport {
		r, err := e.hub.Service.Takedowns(ctx, e.hub.Admin(t), id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := report(); r.Unconfirmed() != 2 || len(r.Outlets) != 2 {
		t.Fatalf("before the confirmation got through: %+v", r.Outlets)
	}

	// The next run sends it.
	calls.set(false)
	e.pull(t, calls, pull.Options{})
	st := readState(t, e.dest).Packages[id]
	if st.TakedownConfirmed == nil || calls.sent != 2 {
		t.Fatalf("after the next run: state %+v, %d sent", st, calls.sent)
	}
	r := report()
	var almaty, osh *hub.TakedownOutlet
	for i, o := range r.Outlets {
		switch r.Names[o.Partner] {
		case "Almaty TV":
			almaty = &r.Outlets[i]
		case "Osh FM":
			osh = &r.Outlets[i]
		}
	}
	if almaty == nil || osh == nil {
		t.Fatalf("outlets %+v, names %v", r.Outlets, r.Names)
	}
	if almaty.Confirmed == nil || almaty.Via != hub.TakedownViaPull || !almaty.PickedUp || !almaty.Confirmed.Equal(*st.TakedownConfirmed) {
		t.Errorf("the pulling outlet: %+v (state says %v)", almaty, st.TakedownConfirmed)
	}
	if osh.Confirmed != nil || osh.PickedUp {
		t.Errorf("the other outlet: %+v", osh)
	}
	if r.Unconfirmed() != 1 {
		t.Errorf("%d unconfirmed, want 1", r.Unconfirmed())
	}

	// A purge after it takes nothing more down, and asks nothing again.
	if _, err := e.producer.Purge(ctx, id); err != nil {
		t.Fatal(err)
	}
	e.pull(t, calls, pull.Options{})
	if calls.sent != 2 {
		t.Errorf("%d confirmations sent after the purge, want still 2", calls.sent)
	}
	if st := readState(t, e.dest).Packages[id]; st.Status != "purged" || st.TakedownConfirmed == nil {
		t.Errorf("after the purge: %+v", st)
	}
	if len(calls.tooEarly) > 0 {
		t.Errorf("confirmed while these were still on disk: %v", calls.tooEarly)
	}
}

// TestPullFollowingConfirmsAtTheNextPoll: a follower whose confirmation
// failed sends it at a later poll, without another kill notice.
func TestPullFollowingConfirmsAtTheNextPoll(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, hubtest.Options{})
	id := e.publish(t, "korgau123", "ru", "Заголовок", map[string][]byte{"poster.png": png("p", 100)})
	calls := &takedownCalls{files: []string{filepath.Join(e.dir("korgau123", "ru", id), "poster.png")}, fail: true}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.puller(t, calls, pull.Options{Follow: true, NoNATS: true}).Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	waitFor(t, "the poster mirrored", 10e9, func() bool { return fileIs(calls.files[0], png("p", 100)) })
	if _, err := e.producer.Withdraw(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a confirmation tried", 10e9, func() bool {
		calls.mu.Lock()
		defer calls.mu.Unlock()
		return calls.sent > 0
	})
	calls.set(false)
	waitFor(t, "the confirmation on the hub", 10e9, func() bool {
		r, err := e.hub.Service.Takedowns(ctx, e.hub.Admin(t), id)
		return err == nil && len(r.Outlets) == 1 && r.Outlets[0].Confirmed != nil
	})
	calls.mu.Lock()
	defer calls.mu.Unlock()
	if len(calls.tooEarly) > 0 {
		t.Errorf("confirmed while these were still on disk: %v", calls.tooEarly)
	}
}
