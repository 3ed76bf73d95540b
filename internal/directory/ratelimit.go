package directory

import (
	"sync"
	"time"
)

// limiter is a token bucket per credential. It lives in each process's
// memory on purpose: a budget is protective and approximate, losing it on
// restart harms nobody, and sharing it through the database would add a
// write to every request. With N instances a credential gets up to N times
// the budget; the documentation says so.
type limiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   float64
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// newLimiter allows perMinute requests a minute per key with a burst of ten
// seconds' worth (at least 10). perMinute <= 0 disables limiting (nil).
func newLimiter(perMinute int) *limiter {
	if perMinute <= 0 {
		return nil
	}
	rate := float64(perMinute) / 60
	return &limiter{rate: rate, burst: max(rate*10, 10), buckets: map[string]*bucket{}}
}

// allow takes one token from key's bucket at time now.
func (l *limiter) allow(key string, now time.Time) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep drops buckets that have refilled completely, at most once a minute,
// so memory stays proportional to the credentials active recently.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) > full {
			delete(l.buckets, k)
		}
	}
}
