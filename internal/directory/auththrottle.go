package directory

import (
	"context"
	"errors"
	"math"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// RateLimitError is an ErrRateLimited with the time after which the
// caller may try again. Dialects answer it 429 with a Retry-After header.
type RateLimitError struct {
	RetryAfter time.Duration
	Reason     string // for the access log: "rate limit", "auth failures from address", ...
}

func (e *RateLimitError) Error() string { return "rate limited: " + e.Reason }

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// RetryAfterSeconds returns the value of a Retry-After header for err: the
// whole seconds (at least 1) after which a request refused with
// ErrRateLimited may be retried, and false when err is no rate-limit error.
func RetryAfterSeconds(err error) (int, bool) {
	var rl *RateLimitError
	if !errors.As(err, &rl) {
		if errors.Is(err, ErrRateLimited) {
			return 1, true
		}
		return 0, false
	}
	return max(1, int(math.Ceil(rl.RetryAfter.Seconds()))), true
}

// ThrottleOptions bound repeated failed authentications. Each count is of
// failures within one fixed minute; over a bound, the rest of that minute
// is refused (or slowed), then the count starts again: a back-off, never a
// lock-out.
type ThrottleOptions struct {
	// PerAddress: failures from one source address (an IPv6 address counts
	// as its /64) after which every authentication from it is answered
	// 429 until the minute ends, whatever the client id. Default 100.
	PerAddress int
	// PerClientAddress: failures for one client id from one address after
	// which that pair is answered 429 until the minute ends. Default 20.
	PerClientAddress int
	// PerClient: failures for one client id from all addresses after which
	// each further failure for it is answered only after FailureDelay. The
	// right secret is never refused or slowed by this bound, so nobody can
	// lock a customer out by guessing at its client id. Default 200.
	PerClient int
	// FailureDelay: see PerClient. Default 1 s.
	FailureDelay time.Duration
	// Off disables failure throttling.
	Off bool
}

func (o ThrottleOptions) withDefaults() ThrottleOptions {
	if o.PerAddress <= 0 {
		o.PerAddress = 100
	}
	if o.PerClientAddress <= 0 {
		o.PerClientAddress = 20
	}
	if o.PerClient <= 0 {
		o.PerClient = 200
	}
	if o.FailureDelay <= 0 {
		o.FailureDelay = time.Second
	}
	return o
}

// source is the caller's address as the dialect saw it.
type source struct {
	remoteAddr   string   // http.Request.RemoteAddr
	forwardedFor []string // X-Forwarded-For values, used behind trusted proxies only
}

type sourceKey struct{}

// WithSource returns ctx carrying the caller's network address for
// authentication throttling: remoteAddr is the request's RemoteAddr and
// forwardedFor its X-Forwarded-For header values, which the Service
// believes only from a trusted proxy (Options.TrustedProxies).
func WithSource(ctx context.Context, remoteAddr string, forwardedFor []string) context.Context {
	return context.WithValue(ctx, sourceKey{}, source{remoteAddr, forwardedFor})
}

// sourceAddr resolves the caller's address: the peer, or, when the peer is
// a trusted proxy, the right-most X-Forwarded-For entry that is not one
// (the entries left of it are whatever the client chose to send). The
// zero Addr means unknown (a call from the CLI).
func sourceAddr(ctx context.Context, trusted []netip.Prefix) netip.Addr {
	src, _ := ctx.Value(sourceKey{}).(source)
	peer := parseAddr(src.remoteAddr)
	if !peer.IsValid() || !inPrefixes(peer, trusted) {
		return peer
	}
	var hops []string
	for _, v := range src.forwardedFor {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseAddr(strings.TrimSpace(hops[i]))
		if !a.IsValid() {
			return peer // a malformed chain: trust only what we saw
		}
		if !inPrefixes(a, trusted) {
			return a
		}
	}
	return peer
}

// parseAddr reads "ip", "ip:port" or "[ip6]:port".
func parseAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// addrBucket names an address for counting: an IPv6 address by its /64,
// which one subscriber usually holds whole.
func addrBucket(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// authThrottle counts failed authentications per address, per (client id,
// address) and per client id, in fixed one-minute windows. Counts live in
// this process's memory and, on PostgreSQL, in the shared rate counters
// too, so that instances add up. The shared counts are read only for keys
// this process has itself seen fail in the window: a caller that does not
// fail costs no extra query, and one that fails against N instances gets
// at most N failures before each of them reads the shared count.
type authThrottle struct {
	o      ThrottleOptions
	shared RateCounter
	now    func() time.Time

	mu     sync.Mutex
	window time.Time
	counts map[string]int64
}

// maxThrottleKeys caps the memory of one window's counts; keys beyond it
// are counted only in the shared counters (PostgreSQL).
const maxThrottleKeys = 1 << 17

func newAuthThrottle(o ThrottleOptions, shared RateCounter, now func() time.Time) *authThrottle {
	if o.Off {
		return nil
	}
	return &authThrottle{o: o.withDefaults(), shared: shared, now: now, counts: map[string]int64{}}
}

// throttleKeys are the three counters of one attempt; a key is "" when it
// does not apply (no address, or no client id for a bearer token).
type throttleKeys struct{ addr, pair, client string }

func keysFor(clientID string, addr netip.Addr) throttleKeys {
	var k throttleKeys
	if a := addrBucket(addr); a != "" {
		k.addr = "fail:a:" + a
		if clientID != "" {
			k.pair = "fail:p:" + clientID + "|" + a
		}
	}
	if clientID != "" {
		k.client = "fail:c:" + clientID
	}
	return k
}

func (k throttleKeys) list() []string {
	var out []string
	for _, s := range []string{k.addr, k.pair, k.client} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// local returns this process's counts of keys in the window starting at
// start; a window that has ended counts nothing.
func (t *authThrottle) local(start time.Time, keys []string) map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]int64{}
	if !t.window.Equal(start) {
		return out
	}
	for _, k := range keys {
		if n := t.counts[k]; n > 0 {
			out[k] = n
		}
	}
	return out
}

// seen reports whether this process counted a failure for any of keys in
// its latest window. Most callers never fail: for them check returns
// here, without reading the clock or the shared counts.
func (t *authThrottle) seen(keys []string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if t.counts[k] > 0 {
			return true
		}
	}
	return false
}

// current returns the failure counts of keys in the current window.
func (t *authThrottle) current(ctx context.Context, start time.Time, k throttleKeys) map[string]int64 {
	c := t.local(start, k.list())
	if t.shared != nil && len(c) > 0 {
		// A failed read must not fail the authentication: fall back to
		// this process's counts.
		if sc, err := t.shared.RateCounts(ctx, k.list(), start); err == nil {
			for key, n := range sc {
				c[key] = max(c[key], n)
			}
		}
	}
	return c
}

// check refuses an attempt whose address, or whose (client id, address)
// pair, failed too often this minute. It runs before the secret is looked
// at, so a throttled caller learns nothing about its guess.
func (t *authThrottle) check(ctx context.Context, k throttleKeys) error {
	if t == nil || (k.addr == "" && k.client == "") || !t.seen(k.list()) {
		return nil
	}
	now := t.now()
	start := now.Truncate(rateWindow)
	c := t.current(ctx, start, k)
	var reason string
	switch {
	case k.addr != "" && c[k.addr] >= int64(t.o.PerAddress):
		reason = "authentication failures from this address"
		noteThrottle(ctx, ThrottleAddress)
	case k.pair != "" && c[k.pair] >= int64(t.o.PerClientAddress):
		reason = "authentication failures for this client id from this address"
		noteThrottle(ctx, ThrottleClientAddress)
	default:
		return nil
	}
	return &RateLimitError{RetryAfter: start.Add(rateWindow).Sub(now), Reason: reason}
}

// fail counts a failed attempt and returns how long to hold its answer:
// FailureDelay once the client id failed more than PerClient times this
// minute from anywhere, else 0.
func (t *authThrottle) fail(ctx context.Context, k throttleKeys) time.Duration {
	if t == nil {
		return 0
	}
	start := t.now().Truncate(rateWindow)
	keys := k.list()
	t.mu.Lock()
	if !t.window.Equal(start) {
		t.window, t.counts = start, map[string]int64{}
	}
	var clientN int64
	for _, key := range keys {
		if _, ok := t.counts[key]; ok || len(t.counts) < maxThrottleKeys {
			t.counts[key]++
		}
	}
	if k.client != "" {
		clientN = t.counts[k.client]
	}
	t.mu.Unlock()
	if t.shared != nil {
		for _, key := range keys {
			// Best effort, as in counts.
			if n, err := t.shared.AddRate(ctx, key, start); err == nil && key == k.client {
				clientN = max(clientN, n)
			}
		}
	}
	if k.client != "" && clientN > int64(t.o.PerClient) {
		return t.o.FailureDelay
	}
	return 0
}
