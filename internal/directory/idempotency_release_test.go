package directory

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// flakyReleases is a Store whose idempotency-key releases fail as
// unavailable a given number of times, then succeed. Every other method
// is the embedded nil interface: the test must not reach them.
type flakyReleases struct {
	Store
	mu       sync.Mutex
	failures int
	calls    []string // owners released, in order; "" marks a failed call
	done     chan struct{}
}

func (f *flakyReleases) ReleaseIdempotencyKey(ctx context.Context, k IdempotencyKey, owner string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures > 0 {
		f.failures--
		f.calls = append(f.calls, "")
		return fmt.Errorf("release idempotency key: %w", ErrUnavailable)
	}
	f.calls = append(f.calls, owner)
	close(f.done)
	return nil
}

// SharedRateCounter is nil: limits in memory, as on SQLite.
func (f *flakyReleases) SharedRateCounter() RateCounter { return nil }

func (f *flakyReleases) AcquireIdempotencyKey(ctx context.Context, rec *IdempotencyRecord, expiredBefore time.Time) (*IdempotencyRecord, error) {
	return nil, fmt.Errorf("acquire idempotency key: %w", ErrUnavailable)
}

// TestReleaseAfterOutage: a key whose release, or whose acquisition,
// failed because the database was unavailable is released in the
// background once the database answers again, with the owner that took
// it, so that a retry is not told "in flight" for the whole lease.
func TestReleaseAfterOutage(t *testing.T) {
	tests := []struct {
		name string
		run  func(s *Service) (owner string)
	}{
		{"release failed", func(s *Service) string {
			c := &IdempotencyClaim{Key: IdempotencyKey{TenantID: "t", Key: "k"}, Owner: "owner-1"}
			if err := s.FinishIdempotent(t.Context(), c, nil); err == nil {
				t.Fatal("FinishIdempotent with the database down: got nil error")
			}
			return c.Owner
		}},
		{"acquire failed", func(s *Service) string {
			if _, _, err := s.BeginIdempotent(t.Context(), Principal{TenantID: "t", ClientID: "c"}, "POST", "/x", "k", []byte("h")); err == nil {
				t.Fatal("BeginIdempotent with the database down: got nil error")
			}
			return "" // a fresh owner token: any non-empty one
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &flakyReleases{failures: 2, done: make(chan struct{})}
			if tt.name == "acquire failed" {
				st.failures = 0
			}
			s := NewService(st, Options{})
			owner := tt.run(s)
			select {
			case <-st.done:
			case <-time.After(10 * time.Second):
				t.Fatal("the key was not released within 10 s of the database answering")
			}
			st.mu.Lock()
			defer st.mu.Unlock()
			last := st.calls[len(st.calls)-1]
			if last == "" || (owner != "" && last != owner) {
				t.Errorf("released with owner %q, want %q (calls %q)", last, owner, st.calls)
			}
		})
	}
}
