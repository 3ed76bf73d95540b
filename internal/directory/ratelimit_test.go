package directory

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter()
	allow := func(key string, perMinute int, at time.Time) bool {
		t.Helper()
		ok, retry := l.allow(key, perMinute, at)
		if !ok && retry < time.Second {
			t.Fatalf("refused with retry %v, want at least 1s", retry)
		}
		return ok
	}
	for i := range 10 {
		if !allow("a", 60, start) { // 1/s, burst 10
			t.Fatalf("request %d within the burst refused", i+1)
		}
	}
	if allow("a", 60, start) {
		t.Fatal("11th request in the same instant allowed: burst not enforced")
	}
	if !allow("b", 60, start) {
		t.Fatal("another credential shares the budget")
	}
	if !allow("a", 60, start.Add(1100*time.Millisecond)) {
		t.Fatal("no token refilled after a second")
	}
	if allow("a", 60, start.Add(1200*time.Millisecond)) {
		t.Fatal("refilled faster than the rate")
	}
	// A credential's own, larger limit has its own, larger burst.
	for i := range 100 {
		if !allow("bulk", 600, start) {
			t.Fatalf("bulk request %d within its burst of 100 refused", i+1)
		}
	}
	// Idle buckets are swept once they would be full again.
	allow("c", 60, start.Add(time.Hour))
	if _, ok := l.buckets["a"]; ok {
		t.Fatal("idle bucket not swept")
	}
}

func TestRateLimitsUnlimited(t *testing.T) {
	now := func() time.Time { return time.Unix(0, 0) }
	zero, five := 0, 5
	tests := []struct {
		name string
		def  int
		own  *int
		want int // admitted of 100 at one instant
	}{
		{"server limit off", 0, nil, 100},
		{"credential unlimited over a server limit", 60, &zero, 100},
		{"server limit", 60, nil, 10},
		{"credential's own limit", 6000, &five, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRateLimits(tc.def, nil, now)
			got := 0
			for range 100 {
				if ok, _, _ := r.allow(context.Background(), "x", tc.own); ok {
					got++
				}
			}
			if got != tc.want {
				t.Fatalf("admitted %d, want %d", got, tc.want)
			}
		})
	}
}

func TestSourceAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32")}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"peer", "203.0.113.7:5000", nil, nil, "203.0.113.7"},
		{"header ignored without trusted proxies", "203.0.113.7:5000", []string{"198.51.100.1"}, nil, "203.0.113.7"},
		{"header ignored from an untrusted peer", "203.0.113.7:5000", []string{"198.51.100.1"}, trusted, "203.0.113.7"},
		{"right-most untrusted hop", "10.1.2.3:443", []string{"6.6.6.6, 198.51.100.1", "192.0.2.1"}, trusted, "198.51.100.1"},
		{"malformed chain", "10.1.2.3:443", []string{"nonsense"}, trusted, "10.1.2.3"},
		{"only proxies", "10.1.2.3:443", []string{"10.9.9.9"}, trusted, "10.1.2.3"},
		{"ipv6 peer", "[2001:db8::1]:443", nil, nil, "2001:db8::1"},
		{"ipv4-mapped", "[::ffff:203.0.113.7]:1", nil, nil, "203.0.113.7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := WithSource(context.Background(), tc.remote, tc.xff)
			if got := sourceAddr(ctx, tc.trusted).String(); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	if got := addrBucket(netip.MustParseAddr("2001:db8:1:2:3:4:5:6")); got != "2001:db8:1:2::/64" {
		t.Fatalf("ipv6 bucket %s, want its /64", got)
	}
}

func TestAuthThrottleWindows(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	th := newAuthThrottle(ThrottleOptions{PerAddress: 5, PerClientAddress: 3, PerClient: 4, FailureDelay: time.Millisecond},
		nil, func() time.Time { return now })
	ctx := context.Background()
	a := netip.MustParseAddr("203.0.113.7")
	victim := keysFor("victim", a)
	for range 3 {
		th.fail(ctx, victim)
	}
	err := th.check(ctx, victim)
	var rl *RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("pair over its bound: got %v, want a RateLimitError", err)
	}
	if rl.RetryAfter != 50*time.Second {
		t.Fatalf("retry after %v, want the 50 s left of the minute", rl.RetryAfter)
	}
	// The same client id from another address is not refused.
	if err := th.check(ctx, keysFor("victim", netip.MustParseAddr("198.51.100.1"))); err != nil {
		t.Fatalf("client id refused from another address: %v", err)
	}
	// A fourth and fifth failure from anywhere pass the per-client ceiling:
	// only failures are delayed, and nothing refuses the client id itself.
	if d := th.fail(ctx, keysFor("victim", netip.MustParseAddr("198.51.100.2"))); d != 0 {
		t.Fatalf("4th failure delayed %v, want none yet", d)
	}
	if d := th.fail(ctx, keysFor("victim", netip.MustParseAddr("198.51.100.3"))); d != time.Millisecond {
		t.Fatalf("5th failure delayed %v, want FailureDelay", d)
	}
	if err := th.check(ctx, keysFor("victim", netip.MustParseAddr("198.51.100.9"))); err != nil {
		t.Fatalf("client id over its ceiling refused from a fresh address: %v", err)
	}
	// The address is refused for any client id after PerAddress failures.
	th.fail(ctx, keysFor("other1", a))
	th.fail(ctx, keysFor("other2", a))
	if err := th.check(ctx, keysFor("third", a)); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("address over its bound: got %v, want refused", err)
	}
	// A new minute forgives.
	now = now.Add(time.Minute)
	if err := th.check(ctx, victim); err != nil {
		t.Fatalf("next minute still refused: %v", err)
	}
	if n, ok := RetryAfterSeconds(&RateLimitError{RetryAfter: 1500 * time.Millisecond}); !ok || n != 2 {
		t.Fatalf("RetryAfterSeconds = %d, %v; want 2, true", n, ok)
	}
	if _, ok := RetryAfterSeconds(ErrUnauthenticated); ok {
		t.Fatal("RetryAfterSeconds of another error")
	}
}
