package api

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/syndication-hub/hub/hub"
)

// stepClock is a clock a test moves by hand.
type stepClock struct{ t time.Time }

func (c *stepClock) now() time.Time       { return c.t }
func (c *stepClock) step(d time.Duration) { c.t = c.t.Add(d) }
func newStepClock() *stepClock            { return &stepClock{t: time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)} }

// TestKeyedLimiterRefillsAndSaysHowLong checks the token bucket on a clock
// the test steps: the burst, the refusal with its wait, the refill, and
// that callers do not share a bucket.
func TestKeyedLimiterRefillsAndSaysHowLong(t *testing.T) {
	clock := newStepClock()
	l := newKeyedLimiter(rate.Limit(2), 3, clock.now) // 2 a second, 3 at once
	for i := range 3 {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.allow("a")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("past the burst: allowed %v, wait %s; want refused, 500ms", ok, wait)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Error("another caller shares the first one's bucket")
	}
	clock.step(499 * time.Millisecond)
	if ok, _ := l.allow("a"); ok {
		t.Error("allowed before a token came back")
	}
	clock.step(time.Millisecond)
	if ok, _ := l.allow("a"); !ok {
		t.Error("refused after a token came back")
	}
	if ok, _ := (*keyedLimiter)(nil).allow("x"); !ok {
		t.Error("no limiter (a zero rate) refused a request")
	}
}

// TestKeyedLimiterMemoryIsBounded floods the limiter with callers: idle
// (full) buckets are dropped, which grants nothing extra, and the number
// held never exceeds the bound even when none is idle.
func TestKeyedLimiterMemoryIsBounded(t *testing.T) {
	clock := newStepClock()
	l := newKeyedLimiter(rate.Limit(1), 1, clock.now)
	for i := range maxLimiters + 500 {
		l.allow(fmt.Sprint("addr", i)) // each empties its bucket: none is idle
	}
	if n := l.size(); n > maxLimiters {
		t.Fatalf("%d buckets held, over the bound of %d", n, maxLimiters)
	}
	// A refused caller is not forgotten while its bucket refills.
	l.allow("hot")
	if ok, _ := l.allow("hot"); ok {
		t.Fatal("a second request within the second was allowed")
	}
	clock.step(sweepEvery) // every bucket is full again: the sweep drops them all
	l.allow("next")
	if n := l.size(); n != 1 {
		t.Errorf("%d buckets after a sweep of idle ones, want 1", n)
	}
}

// TestUploadSlots checks the per-key and total caps and that a slot is
// given back once, however often release is called.
func TestUploadSlots(t *testing.T) {
	u := newLimiters(Limits{MaxUploadsPerKey: 2, MaxUploads: 3}).uploads
	r1, err := u.acquire("k")
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := u.acquire("k")
	if _, err := u.acquire("k"); hub.ErrorCode(err) != hub.ELIMITED {
		t.Fatalf("a third upload of one key: %v, want %s", err, hub.ELIMITED)
	}
	r3, err := u.acquire("other")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.acquire("third"); hub.ErrorCode(err) != hub.EUNAVAILABLE {
		t.Fatalf("a fourth upload in total: %v, want %s", err, hub.EUNAVAILABLE)
	}
	r1()
	r1() // a second release gives nothing back
	if _, err := u.acquire("third"); err != nil {
		t.Fatalf("after one release: %v", err)
	}
	if _, err := u.acquire("fourth"); err == nil {
		t.Fatal("a double release made room for two")
	}
	r2()
	r3()
}
