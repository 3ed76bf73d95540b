package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// commitLog is a CommitObserver that keeps what it was told.
type commitLog struct {
	mu     sync.Mutex
	writes []int
	total  time.Duration
}

func (c *commitLog) observe(writes int, d time.Duration) {
	c.mu.Lock()
	c.writes = append(c.writes, writes)
	c.total += d
	c.mu.Unlock()
}

func (c *commitLog) sum() (commits, writes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.writes {
		writes += w
	}
	return len(c.writes), writes
}

// TestCommitObserverAndStats, on both backends: the observer hears of
// every committed write exactly once (a failed write is not counted), and
// CountUsersByTenant counts each tenant's users, empty tenants included.
func TestCommitObserverAndStats(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			var log commitLog
			url := testdb.URL(t, backend)
			s, err := store.Open(ctx, url, store.Options{Keyring: testdb.Keyring(t), CommitObserver: log.observe})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			c0, w0 := log.sum()

			now := time.Now()
			a := &directory.Tenant{ID: directory.NewID(), Name: "a", CreatedAt: now}
			b := &directory.Tenant{ID: directory.NewID(), Name: "b", CreatedAt: now}
			empty := &directory.Tenant{ID: directory.NewID(), Name: "empty", CreatedAt: now}
			for _, tn := range []*directory.Tenant{a, b, empty} {
				if err := s.CreateTenant(ctx, tn, nil); err != nil {
					t.Fatal(err)
				}
			}
			const nA, nB = 7, 3
			var wg sync.WaitGroup
			errs := make(chan error, nA+nB)
			for i := range nA + nB {
				tn := a
				if i >= nA {
					tn = b
				}
				u, claims := gcUser(tn.ID, fmt.Sprintf("u%d", i))
				wg.Go(func() { errs <- s.CreateUser(ctx, u, claims, nil) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("CreateUser: %v", err)
				}
			}
			// A write that fails (a taken username) commits nothing.
			dup, claims := gcUser(a.ID, "u0")
			if err := s.CreateUser(ctx, dup, claims, nil); err == nil {
				t.Fatal("duplicate username: want a conflict")
			}

			commits, writes := log.sum()
			commits, writes = commits-c0, writes-w0
			if want := 3 + nA + nB; writes != want {
				t.Errorf("observed %d writes in %d commits, want %d writes", writes, commits, want)
			}
			if commits < 1 || commits > writes {
				t.Errorf("observed %d commits for %d writes", commits, writes)
			}
			if backend == "postgres" && commits != writes {
				t.Errorf("postgres: %d commits for %d writes, want one each", commits, writes)
			}

			got, err := s.CountUsersByTenant(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int64{a.ID: nA, b.ID: nB, empty.ID: 0}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("CountUsersByTenant = %v, want %v", got, want)
			}

			pools := s.Pools()
			wantPools := map[string]bool{"sqlite": len(pools) == 2 && pools["writer"] != nil && pools["reader"] != nil,
				"postgres": len(pools) == 1 && pools["pool"] != nil}
			if !wantPools[backend] {
				t.Errorf("Pools() = %v", pools)
			}
			for name, db := range pools {
				if db.Stats().MaxOpenConnections < 1 {
					t.Errorf("pool %s: MaxOpenConnections %d", name, db.Stats().MaxOpenConnections)
				}
			}
		})
	}
}
