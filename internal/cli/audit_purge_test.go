package cli

import (
	"log/slog"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestPurgeOnceIdempotencyKeys: the serve loop's purge removes keys older
// than 24 hours and keeps younger ones, on both backends.
func TestPurgeOnceIdempotencyKeys(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			svc := directory.NewService(testdb.Open(t, backend), directory.Options{Now: func() time.Time { return now }})
			tn, err := svc.CreateTenant(t.Context(), "acme", directory.DefaultUniquePolicy)
			if err != nil {
				t.Fatal(err)
			}
			p := directory.Principal{TenantID: tn.ID, ClientID: "c1"}
			begin := func(key string) {
				t.Helper()
				if _, _, err := svc.BeginIdempotent(t.Context(), p, "POST", "/x", key, []byte{1}); err != nil {
					t.Fatal(err)
				}
			}
			begin("old")
			now = now.Add(directory.IdempotencyTTL - time.Hour)
			begin("young")
			now = now.Add(time.Hour + time.Second)
			purgeOnce(t.Context(), svc, slog.New(slog.DiscardHandler))
			// "young" is kept (another body is a mismatch); "old" is gone and
			// runs afresh with any body.
			if _, _, err := svc.BeginIdempotent(t.Context(), p, "POST", "/x", "young", []byte{3}); err != directory.ErrIdempotencyMismatch {
				t.Errorf("young key, other body, after purge: %v, want a mismatch (the key is kept)", err)
			}
			c, _, err := svc.BeginIdempotent(t.Context(), p, "POST", "/x", "old", []byte{2})
			if err != nil || c == nil || c.Replay {
				t.Errorf("old key after purge: %+v %v, want a fresh claim", c, err)
			}
			if n, _ := svc.PurgeExpiredIdempotencyKeys(t.Context()); n != 0 {
				t.Errorf("purge after purgeOnce removed %d more", n)
			}
		})
	}
}
