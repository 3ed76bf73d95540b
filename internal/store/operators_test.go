package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestOperatorFailuresConcurrent: failed sign-ins counted from many
// goroutines at once are all counted, so exactly the one that reaches
// the limit locks the operator out (a lost update would lock nobody).
func TestOperatorFailuresConcurrent(t *testing.T) {
	t.Parallel()
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := testdb.Open(t, backend)
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			op := &directory.Operator{ID: "01900000-0000-7000-8000-000000000001", Email: "a@example.com", EmailNorm: "a@example.com",
				Role: directory.RoleAdmin, PasswordHash: "x", CreatedAt: now}
			if err := s.CreateOperator(t.Context(), op); err != nil {
				t.Fatal(err)
			}
			dup := *op
			dup.ID = "01900000-0000-7000-8000-000000000002"
			if err := s.CreateOperator(t.Context(), &dup); !errors.Is(err, directory.ErrConflict) {
				t.Errorf("second operator with the e-mail: got %v, want ErrConflict", err)
			}
			const n = 16
			var wg sync.WaitGroup
			locks := make(chan time.Time, n)
			for i := range n {
				wg.Go(func() {
					until, err := s.RecordSignInFailure(t.Context(), op.ID, now.Add(time.Duration(i)*time.Millisecond), 15*time.Minute, n, 15*time.Minute)
					if err != nil {
						t.Errorf("record failure: %v", err)
					}
					if !until.IsZero() {
						locks <- until
					}
				})
			}
			wg.Wait()
			close(locks)
			if got := len(locks); got != 1 {
				t.Fatalf("%d concurrent failures with limit %d: %d lock-outs, want exactly 1", n, n, got)
			}
			got, err := s.GetOperator(t.Context(), op.ID)
			if err != nil || got.LockedUntil.IsZero() {
				t.Errorf("operator after lock-out: %+v, %v; want LockedUntil set", got, err)
			}
			if _, err := s.GetOperatorByEmail(t.Context(), "nobody@example.com"); !errors.Is(err, directory.ErrNotFound) {
				t.Errorf("unknown e-mail: got %v, want ErrNotFound", err)
			}
			if err := s.RecordSignIn(t.Context(), "01900000-0000-7000-8000-00000000dead", now); !errors.Is(err, directory.ErrNotFound) {
				t.Errorf("sign-in of an unknown operator: got %v, want ErrNotFound", err)
			}

			// Sessions: stored by hash, purged when expired or idle.
			fresh := &directory.OperatorSession{Hash: secret.Hash("fresh"), OperatorID: op.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
			idle := &directory.OperatorSession{Hash: secret.Hash("idle"), OperatorID: op.ID, CreatedAt: now, LastSeenAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}
			old := &directory.OperatorSession{Hash: secret.Hash("old"), OperatorID: op.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(-time.Second)}
			for _, ss := range []*directory.OperatorSession{fresh, idle, old} {
				if err := s.CreateOperatorSession(t.Context(), ss); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := s.DeleteExpiredOperatorSessions(t.Context(), now, now.Add(-30*time.Minute)); err != nil || n != 2 {
				t.Errorf("purge: got %d, %v; want the idle and the expired one", n, err)
			}
			if _, err := s.GetOperatorSession(t.Context(), fresh.Hash); err != nil {
				t.Errorf("fresh session after purge: %v", err)
			}
			if _, err := s.GetOperatorSession(t.Context(), idle.Hash); !errors.Is(err, directory.ErrNotFound) {
				t.Errorf("idle session after purge: got %v, want ErrNotFound", err)
			}
		})
	}
}
