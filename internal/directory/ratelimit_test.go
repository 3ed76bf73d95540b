package directory

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(60) // 1/s, burst 10
	for i := range 10 {
		if !l.allow("a", start) {
			t.Fatalf("request %d within the burst refused", i+1)
		}
	}
	if l.allow("a", start) {
		t.Fatal("11th request in the same instant allowed: burst not enforced")
	}
	if !l.allow("b", start) {
		t.Fatal("another credential shares the budget")
	}
	if !l.allow("a", start.Add(1100*time.Millisecond)) {
		t.Fatal("no token refilled after a second")
	}
	if l.allow("a", start.Add(1200*time.Millisecond)) {
		t.Fatal("refilled faster than the rate")
	}
	// Idle buckets are swept once they would be full again.
	l.allow("c", start.Add(time.Hour))
	if _, ok := l.buckets["a"]; ok {
		t.Fatal("idle bucket not swept")
	}
	var off *limiter = newLimiter(0)
	if !off.allow("a", start) {
		t.Fatal("disabled limiter refused")
	}
}
