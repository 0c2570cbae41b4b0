package api

import (
	"math"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/syndication-hub/hub/hub"
)

// Limits are the API's rate limits and upload caps. Each replica counts
// on its own: behind a load balancer that spreads requests over N
// replicas a caller gets up to N times each limit (README says so). A
// zero rate or cap is no limit.
type Limits struct {
	// PerKey is the sustained requests per second of one API key (all its
	// secrets together), PerKeyBurst how many it may send at once.
	PerKey      rate.Limit
	PerKeyBurst int
	// PerAddr and PerAddrBurst limit requests without a (valid) key per
	// client address: feeds, public downloads and zips, and failed key
	// checks. An IPv6 client counts by its /64, which one host usually
	// has whole.
	PerAddr      rate.Limit
	PerAddrBurst int
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For is believed; without any, the client address is the
	// connection's peer and X-Forwarded-For is ignored.
	TrustedProxies []netip.Prefix
	// MaxUploadsPerKey caps one key's uploads running at once (429), and
	// MaxUploads this replica's in total (503).
	MaxUploadsPerKey int
	MaxUploads       int
	// Now is the limiters' clock; nil is time.Now. Tests step it.
	Now func() time.Time
}

// maxLimiters bounds how many limiters a keyedLimiter holds; past it the
// idle ones go, and if none is idle an arbitrary one does (that caller
// starts afresh): memory stays bounded under a flood of addresses.
const maxLimiters = 100_000

// sweepEvery is how often idle limiters are dropped as requests come.
const sweepEvery = time.Minute

// keyedLimiter is one token bucket per caller (a key id or an address).
// A bucket that is full again is forgotten: a new one would be the same,
// so eviction never grants more than the limit.
type keyedLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	lastSweep time.Time
}

func newKeyedLimiter(limit rate.Limit, burst int, now func() time.Time) *keyedLimiter {
	if limit <= 0 {
		return nil
	}
	return &keyedLimiter{limit: limit, burst: max(burst, 1), now: now, buckets: map[string]*rate.Limiter{}}
}

// allow takes one token of caller's bucket; when there is none it says
// how long until there is.
func (l *keyedLimiter) allow(caller string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweep(now)
	}
	b := l.buckets[caller]
	if b == nil {
		if len(l.buckets) >= maxLimiters {
			l.sweep(now)
		}
		for k := range l.buckets {
			if len(l.buckets) < maxLimiters {
				break
			}
			delete(l.buckets, k)
		}
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[caller] = b
	}
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets every bucket that has filled up again.
func (l *keyedLimiter) sweep(now time.Time) {
	l.lastSweep = now
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
}

// size is how many buckets are held, for tests of the bound.
func (l *keyedLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// limiters are the API's rate limiters and upload slots.
type limiters struct {
	perKey, perAddr *keyedLimiter
	uploads         *uploadSlots
}

func newLimiters(l Limits) *limiters {
	if l.Now == nil {
		l.Now = time.Now
	}
	return &limiters{
		perKey:  newKeyedLimiter(l.PerKey, l.PerKeyBurst, l.Now),
		perAddr: newKeyedLimiter(l.PerAddr, l.PerAddrBurst, l.Now),
		uploads: &uploadSlots{perKey: l.MaxUploadsPerKey, total: l.MaxUploads, running: map[string]int{}},
	}
}

// ipExtractor returns how Echo finds the client address: the peer of the
// connection, or with trusted proxies the nearest address in
// X-Forwarded-For that is not one of them. Echo trusts loopback, link-
// local and private peers by default; nothing is trusted here unless
// configured, since a client can write any X-Forwarded-For it likes.
func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		_, n, err := net.ParseCIDR(p.Masked().String())
		if err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// clientAddr is the address a keyless caller is counted by: its IP, and
// for IPv6 the /64 it is in.
func clientAddr(c echo.Context) string {
	ip, err := netip.ParseAddr(c.RealIP())
	if err != nil {
		return c.RealIP()
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// tooMany is the 429 answer, with Retry-After in whole seconds (at least
// one: "0" would invite a retry at once).
func tooMany(c echo.Context, wait time.Duration, what string) error {
	secs := max(1, int64(math.Ceil(wait.Seconds())))
	c.Response().Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	return hub.Errorf(hub.ELIMITED, "too many requests %s; try again in %d s", what, secs)
}

// limitKey charges the request to the caller's key; it runs after
// authenticate. A rotated key's secrets share one bucket (the key id).
func (a *API) limitKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ok, wait := a.limits.perKey.allow(keyOf(c).ID); !ok {
			return tooMany(c, wait, "with this key")
		}
		return next(c)
	}
}

// limitAddr charges a keyless request to the client's address.
func (a *API) limitAddr(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := a.chargeAddr(c); err != nil {
			return err
		}
		return next(c)
	}
}

func (a *API) chargeAddr(c echo.Context) error {
	if ok, wait := a.limits.perAddr.allow(clientAddr(c)); !ok {
		return tooMany(c, wait, "from this address")
	}
	return nil
}

// uploadSlots counts uploads running on this replica, per key and in
// total. Uploads stream gigabytes for minutes, so they are capped by
// number at once rather than by rate.
type uploadSlots struct {
	perKey, total int

	mu      sync.Mutex
	all     int
	running map[string]int
}

// uploadRetry is the Retry-After of a refused upload: uploads take a
// while, so a slot is unlikely to open within a second.
const uploadRetry = 10 * time.Second

// acquire takes a slot for key, or says why there is none: ELIMITED when
// the key has its share running, EUNAVAILABLE when the replica is full.
func (u *uploadSlots) acquire(key string) (release func(), err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.perKey > 0 && u.running[key] >= u.perKey:
		return nil, hub.Errorf(hub.ELIMITED, "this key has %d uploads running, as many as it may at once; try again when one has finished", u.perKey)
	case u.total > 0 && u.all >= u.total:
		return nil, hub.Errorf(hub.EUNAVAILABLE, "the hub is taking %d uploads at once, as many as it can; try again shortly", u.total)
	}
	u.running[key]++
	u.all++
	var once sync.Once
	return func() {
		once.Do(func() {
			u.mu.Lock()
			defer u.mu.Unlock()
			u.all--
			if u.running[key]--; u.running[key] <= 0 {
				delete(u.running, key)
			}
		})
	}, nil
}

// uploadSlot holds one upload slot for the request's key while it runs.
func (a *API) uploadSlot(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		release, err := a.limits.uploads.acquire(keyOf(c).ID)
		if err != nil {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(uploadRetry.Seconds())))
			return err
		}
		defer release()
		return next(c)
	}
}
