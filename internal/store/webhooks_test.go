package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	d "github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
	"github.com/roster-dev/roster/internal/webhook"
)

// userChange is the Change the Service builds for a create of u.
func userChange(u *d.User) *d.Change {
	return &d.Change{User: u, Audit: d.AuditEntry{ID: d.NewID(), TenantID: u.TenantID, At: u.CreatedAt, Actor: "bench",
		Action: d.ActionUserCreate, TargetType: d.TargetUser, TargetID: u.ID, Fields: []string{"email", "ssn"}}}
}

func newUser(tenantID string, i int64) *d.User {
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := &d.User{ID: d.NewID(), TenantID: tenantID, Username: fmt.Sprintf("u%d", i), Email: fmt.Sprintf("u%d@example.com", i),
		FirstName: "Ann", LastName: "Lee", SSN: secret.Value("987654321"), State: d.StateActive, Version: 1, CreatedAt: now, UpdatedAt: now}
	u.UsernameNorm, u.EmailNorm = u.Username, u.Email
	return u
}

// TestOutboxWrittenWithTheChange: a create writes one outbox row per
// matching subscription in its transaction, without the SSN; a create
// that fails on a claim writes none; a subscription to other types gets
// none.
func TestOutboxWrittenWithTheChange(t *testing.T) {
	t.Parallel()
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			s := testdb.Open(t, backend)
			ctx := t.Context()
			tn := &d.Tenant{ID: d.NewID(), Name: "acme", CreatedAt: time.Now()}
			if err := s.CreateTenant(ctx, tn, nil); err != nil {
				t.Fatal(err)
			}
			for _, events := range [][]string{{webhook.UserCreated}, {webhook.UserCreated, webhook.UserUpdated}, {webhook.UserDeleted}} {
				w := &webhook.Subscription{ID: d.NewID(), TenantID: tn.ID, URL: "https://hooks.example/", Events: events, CreatedAt: time.Now()}
				if err := s.CreateWebhook(ctx, w, webhook.NewSecret(), nil); err != nil {
					t.Fatal(err)
				}
			}
			u := newUser(tn.ID, 1)
			claims := []d.Claim{{Kind: d.ClaimLogin, Value: u.UsernameNorm}}
			if err := s.CreateUser(ctx, u, claims, userChange(u)); err != nil {
				t.Fatal(err)
			}
			dup := newUser(tn.ID, 2)
			if err := s.CreateUser(ctx, dup, claims, userChange(dup)); err == nil {
				t.Fatal("second holder of a login: nil error, want a conflict")
			}
			rows, err := store.QueryStringsForTest(ctx, s, `SELECT user_id, payload FROM webhook_outbox ORDER BY seq`)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 {
				t.Fatalf("%d outbox rows, want 2 (two subscriptions to user.created; none for the failed create)", len(rows))
			}
			for _, r := range rows {
				if r[0] != u.ID || strings.Contains(r[1], "987654321") || !strings.Contains(r[1], `"type":"user.created"`) {
					t.Errorf("outbox row %v", r)
				}
			}
		})
	}
}

// BenchmarkUserWriteWebhooks measures what webhooks add to a user
// write. lookup: the outbox step alone for a tenant without subscriptions
// (one SELECT, in a read transaction, no commit), beside floor: a SELECT
// of nothing through the same driver, the least any statement costs.
// create/none and
// create/subscribed: a store create with its audit entry, without and
// with one subscription (then the payload is encoded and one row
// inserted), with eight writers as a server has them.
func BenchmarkUserWriteWebhooks(b *testing.B) {
	for _, backend := range testdb.Backends {
		b.Run(backend+"/lookup", func(b *testing.B) {
			s := testdb.Open(b, backend)
			tn := &d.Tenant{ID: d.NewID(), Name: "bench", CreatedAt: time.Now()}
			if err := s.CreateTenant(b.Context(), tn, nil); err != nil {
				b.Fatal(err)
			}
			ch := userChange(newUser(tn.ID, 1))
			b.ResetTimer()
			if err := store.EnqueueWebhooksReadOnlyForTest(b.Context(), s, ch, b.N); err != nil {
				b.Fatal(err)
			}
		})
		b.Run(backend+"/floor", func(b *testing.B) {
			s := testdb.Open(b, backend)
			b.ResetTimer()
			if err := store.QueryLoopForTest(b.Context(), s, b.N, `SELECT 1 WHERE $1 = ''`, "x"); err != nil {
				b.Fatal(err)
			}
		})
		for _, subscribed := range []bool{false, true} {
			name := map[bool]string{false: "none", true: "subscribed"}[subscribed]
			b.Run(backend+"/create/"+name, func(b *testing.B) {
				s := testdb.Open(b, backend)
				tn := &d.Tenant{ID: d.NewID(), Name: "bench", CreatedAt: time.Now()}
				if err := s.CreateTenant(b.Context(), tn, nil); err != nil {
					b.Fatal(err)
				}
				if subscribed {
					w := &webhook.Subscription{ID: d.NewID(), TenantID: tn.ID, URL: "https://hooks.example/", Events: webhook.EventTypes, CreatedAt: time.Now()}
					if err := s.CreateWebhook(b.Context(), w, webhook.NewSecret(), nil); err != nil {
						b.Fatal(err)
					}
				}
				var n atomic.Int64
				b.SetParallelism(8)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						u := newUser(tn.ID, n.Add(1))
						if err := s.CreateUser(b.Context(), u, []d.Claim{{Kind: d.ClaimLogin, Value: u.UsernameNorm}}, userChange(u)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// TestDeliveryLeaseAndPurge: a claim whose lease ran out is taken over
// with a new token, the old holder can no longer record an outcome, the
// new one can; the purge deletes finished rows by their age and state.
func TestDeliveryLeaseAndPurge(t *testing.T) {
	t.Parallel()
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			s := testdb.Open(t, backend)
			ctx := t.Context()
			tn := &d.Tenant{ID: d.NewID(), Name: "acme", CreatedAt: time.Now()}
			if err := s.CreateTenant(ctx, tn, nil); err != nil {
				t.Fatal(err)
			}
			w := &webhook.Subscription{ID: d.NewID(), TenantID: tn.ID, URL: "https://hooks.example/", Events: webhook.EventTypes, CreatedAt: time.Now()}
			if err := s.CreateWebhook(ctx, w, "whsec_test", nil); err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				u := newUser(tn.ID, int64(i))
				if err := s.CreateUser(ctx, u, nil, userChange(u)); err != nil {
					t.Fatal(err)
				}
			}
			t0 := time.Now()
			first, err := s.ClaimDeliveries(ctx, t0, time.Minute, 10)
			if err != nil || len(first) != 2 || string(first[0].Secret) != "whsec_test" || first[0].SecretErr != nil {
				t.Fatalf("claim: %d deliveries (%v)", len(first), err)
			}
			if again, err := s.ClaimDeliveries(ctx, t0.Add(30*time.Second), time.Minute, 10); err != nil || len(again) != 0 {
				t.Fatalf("claim within the lease: %d deliveries (%v), want none", len(again), err)
			}
			second, err := s.ClaimDeliveries(ctx, t0.Add(2*time.Minute), time.Minute, 10)
			if err != nil || len(second) != 2 || second[0].Token == first[0].Token || second[0].Seq != first[0].Seq {
				t.Fatalf("claim after the lease: %d deliveries (%v), want both under a new token", len(second), err)
			}
			done := t0.Add(3 * time.Minute)
			if err := s.RecordDelivery(ctx, first[0], webhook.Result{State: webhook.StateDelivered, Status: 200, At: done}); !errors.Is(err, webhook.ErrLeaseLost) {
				t.Errorf("record by the old holder: %v, want ErrLeaseLost", err)
			}
			if err := s.RecordDelivery(ctx, second[0], webhook.Result{State: webhook.StateDelivered, Status: 200, At: done}); err != nil {
				t.Fatalf("record by the new holder: %v", err)
			}
			if err := s.RecordDelivery(ctx, second[1], webhook.Result{State: webhook.StateDead, Status: 500, Error: "receiver answered 500", At: done}); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordDelivery(ctx, second[1], webhook.Result{State: webhook.StateDelivered, At: done}); !errors.Is(err, webhook.ErrLeaseLost) {
				t.Errorf("second record of one claim: %v, want ErrLeaseLost", err)
			}
			if n, err := s.PurgeDeliveries(ctx, done, done); err != nil || n != 0 {
				t.Errorf("purge of nothing old enough: %d (%v)", n, err)
			}
			if n, err := s.PurgeDeliveries(ctx, done.Add(time.Second), done); err != nil || n != 1 {
				t.Errorf("purge delivered: %d (%v), want 1", n, err)
			}
			left, err := s.ListDeliveries(ctx, store.DeliveryQuery{})
			if err != nil || len(left) != 1 || left[0].State != webhook.StateDead || left[0].LastError != "receiver answered 500" {
				t.Fatalf("left after purge: %d (%v), want the dead one", len(left), err)
			}
			if n, err := s.PurgeDeliveries(ctx, done, done.Add(time.Second)); err != nil || n != 1 {
				t.Errorf("purge dead: %d (%v), want 1", n, err)
			}
		})
	}
}

// TestRemoveDuringUserWrite: on PostgreSQL, a webhook removal in
// progress (deleted, not yet committed) when a user write of its tenant
// runs does not fail that write: the write waits for the removal and then
// commits without an outbox row for the removed webhook.
func TestRemoveDuringUserWrite(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	s := testdb.OpenURL(t, url, testdb.Keyring(t))
	ctx := t.Context()
	tn := &d.Tenant{ID: d.NewID(), Name: "acme", CreatedAt: time.Now()}
	if err := s.CreateTenant(ctx, tn, nil); err != nil {
		t.Fatal(err)
	}
	w := &webhook.Subscription{ID: d.NewID(), TenantID: tn.ID, URL: "https://hooks.example/", Events: webhook.EventTypes, CreatedAt: time.Now()}
	if err := s.CreateWebhook(ctx, w, webhook.NewSecret(), nil); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	remover, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer remover.Rollback() //nolint:errcheck // committed below
	if _, err := remover.ExecContext(ctx, `DELETE FROM webhooks WHERE id = $1`, w.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		u := newUser(tn.ID, 1)
		done <- s.CreateUser(context.Background(), u, nil, userChange(u))
	}()
	// Wait until the write is blocked on the removal's lock (observed,
	// not timed), then commit the removal.
	for {
		var waiting int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the write finished without waiting for the removal: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := remover.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("user write during a webhook removal: %v", err)
	}
	if n, err := s.PendingDeliveries(ctx); err != nil || n != 0 {
		t.Errorf("outbox rows for the removed webhook: %d (%v), want 0", n, err)
	}
}
