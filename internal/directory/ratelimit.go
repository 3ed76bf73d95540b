package directory

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// rateWindow is the window of the shared (PostgreSQL) request budget and
// of authentication-failure counts.
const rateWindow = time.Minute

// rateLimits decides whether an authenticated request fits its
// credential's budget: the credential's own limit when it has one, else
// the server's. On SQLite (shared nil) the budget is a token bucket in
// this process's memory, so a request costs no write. On PostgreSQL,
// where several instances serve one database, it is a sliding-window
// counter in the database that all of them increment (Invariant 5).
type rateLimits struct {
	def    int      // requests a minute for credentials without their own; 0: unlimited
	mem    *limiter // used when shared is nil
	shared RateCounter
	now    func() time.Time
	pruned atomic.Int64 // UnixNano of the last prune of shared windows
}

func newRateLimits(def int, shared RateCounter, now func() time.Time) *rateLimits {
	return &rateLimits{def: def, mem: newLimiter(), shared: shared, now: now}
}

// allow takes one request from clientID's budget. own is the credential's
// limit (nil: the server's). When it refuses, retry says after how long
// a request may fit again.
func (r *rateLimits) allow(ctx context.Context, clientID string, own *int) (ok bool, retry time.Duration, err error) {
	perMinute := r.def
	if own != nil {
		perMinute = *own
	}
	if perMinute <= 0 {
		return true, 0, nil
	}
	now := r.now()
	if r.shared == nil {
		ok, retry = r.mem.allow(clientID, perMinute, now)
		return ok, retry, nil
	}
	r.prune(now)
	start := now.Truncate(rateWindow)
	weight := 1 - float64(now.Sub(start))/float64(rateWindow)
	ok, err = r.shared.TakeRate(ctx, "req:"+clientID, start, start.Add(-rateWindow), weight, perMinute)
	if err != nil || ok {
		return ok, 0, err
	}
	// The budget frees up at about perMinute a minute.
	return false, max(time.Second, rateWindow/time.Duration(perMinute)), nil
}

// prune deletes shared windows older than the previous one, at most once
// a minute per process, in the background: no request waits for it.
func (r *rateLimits) prune(now time.Time) {
	last := r.pruned.Load()
	if now.UnixNano()-last < int64(rateWindow) || !r.pruned.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// Losing a prune is harmless: the next one takes the rows.
		_, _ = r.shared.DeleteRateWindows(ctx, now.Truncate(rateWindow).Add(-rateWindow))
	}()
}

// limiter is a token bucket per credential in this process's memory, with
// a burst of ten seconds' worth (at least 10).
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
	rate   float64 // tokens per second
	burst  float64
}

func newLimiter() *limiter { return &limiter{buckets: map[string]*bucket{}} }

// allow takes one token from key's bucket, which refills at perMinute a
// minute, at time now. When it refuses, retry is when a token is back.
func (l *limiter) allow(key string, perMinute int, now time.Time) (ok bool, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	rate := float64(perMinute) / 60
	b := l.buckets[key]
	if b == nil || b.rate != rate {
		b = &bucket{tokens: max(rate*10, 10), last: now, rate: rate, burst: max(rate*10, 10)}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		wait := time.Duration(math.Ceil((1 - b.tokens) / b.rate * float64(time.Second)))
		return false, max(time.Second, wait)
	}
	b.tokens--
	return true, 0
}

// sweep drops buckets that have refilled completely, at most once a minute,
// so memory stays proportional to the credentials active recently.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	for k, b := range l.buckets {
		if full := time.Duration(b.burst / b.rate * float64(time.Second)); now.Sub(b.last) > full {
			delete(l.buckets, k)
		}
	}
}
