package ha

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/directory/storetest"
	"github.com/roster-dev/roster/internal/pgcluster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// bouncer starts PgBouncer in front of the server of ROSTER_TEST_POSTGRES
// (skipped, or failed under CI, without it or without pgbouncer).
func bouncer(t *testing.T) *pgcluster.Bouncer {
	t.Helper()
	testdb.PostgresURL(t) // the skip-or-fail rule of the PostgreSQL tests
	u, err := url.Parse(os.Getenv(testdb.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	return pgcluster.StartPgBouncer(t, u.Host)
}

// TestConformanceThroughPgBouncer runs the store conformance suite, its
// concurrency races included, on stores that reach PostgreSQL only
// through PgBouncer with pool_mode=transaction: every database is
// migrated through it too.
func TestConformanceThroughPgBouncer(t *testing.T) {
	b := bouncer(t)
	storetest.Run(t, func(t *testing.T) directory.Store {
		return testdb.OpenURL(t, b.Through(t, testdb.PostgresURL(t)), testdb.Keyring(t))
	})
}

// TestMigrateRaceThroughPgBouncer starts four stores at once on an empty
// database through PgBouncer, each migrating: every migration must be
// applied exactly once (the lock serialises them although consecutive
// statements of one store may run on different server connections), and
// no advisory lock may be left held by a pooled server session (counted on
// this database: the server is shared with other tests).
func TestMigrateRaceThroughPgBouncer(t *testing.T) {
	b := bouncer(t)
	direct := testdb.PostgresURL(t)
	through := b.Through(t, direct)
	kr := testdb.Keyring(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	const n = 4
	applied := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			s, err := store.Open(ctx, through, store.Options{Keyring: kr})
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			applied[i], errs[i] = s.Migrate(ctx)
		})
	}
	close(start)
	wg.Wait()
	total := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("store %d: migrate: %v", i, err)
		}
		total += applied[i]
	}
	s := testdb.OpenURL(t, direct, kr)
	db, bin, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if db != bin || total != bin {
		t.Errorf("after %d racing migrations: schema at %d, binary at %d, %d applied in all (%v); want %d each", n, db, bin, total, applied, bin)
	}
	h := openDirect(t, direct)
	var locks int
	if err := h.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&locks); err != nil {
		t.Fatal(err)
	}
	if locks != 0 {
		t.Errorf("%d advisory locks still held after the migrations, want 0", locks)
	}
}

// TestInstancesThroughPgBouncer is the multi-instance race of
// internal/reliability's TestSeveralInstances on stores behind PgBouncer:
// three Services, each on its own store (its own pool, as three processes
// would have), race creates of one e-mail and one username; exactly one
// wins each race and every loser is a conflict naming the winner. A
// session token issued through one is accepted by the others, and a
// revoked credential fails on all of them.
func TestInstancesThroughPgBouncer(t *testing.T) {
	b := bouncer(t)
	through := b.Through(t, testdb.PostgresURL(t))
	kr := testdb.Keyring(t)
	const n = 3
	svcs := make([]*directory.Service, n)
	for i := range svcs {
		svcs[i] = directory.NewService(testdb.OpenURL(t, through, kr), directory.Options{})
	}
	ctx := t.Context()
	tn, err := svcs[0].CreateTenant(ctx, "race", directory.UniquePolicy{Email: true})
	if err != nil {
		t.Fatal(err)
	}
	cred, sec, err := svcs[1].CreateCredential(ctx, tn.Name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := svcs[2].Authenticate(ctx, cred.ClientID, sec)
	if err != nil {
		t.Fatalf("authenticate through the third instance: %v", err)
	}

	for round := range 5 {
		const racers = 24
		email := fmt.Sprintf("same%d@example.com", round)
		errs := make([]error, racers)
		ids := make([]string, racers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range racers {
			wg.Go(func() {
				<-start
				u, err := svcs[i%n].CreateUser(ctx, p, &directory.User{
					Username: fmt.Sprintf("r%d-%d", round, i), FirstName: "Race", LastName: "R", Email: email,
				}, directory.Rules{})
				errs[i] = err
				if err == nil {
					ids[i] = u.ID
				}
			})
		}
		close(start)
		wg.Wait()
		winner := ""
		for i, err := range errs {
			if err == nil {
				if winner != "" {
					t.Fatalf("round %d: two users created with e-mail %s", round, email)
				}
				winner = ids[i]
			}
		}
		if winner == "" {
			t.Fatalf("round %d: nobody won; first error %v", round, errs[0])
		}
		for i, err := range errs {
			var ce *directory.ConflictError
			if err != nil && (!errors.As(err, &ce) || ce.Field != directory.FieldEmail || ce.ExistingID != winner) {
				t.Errorf("round %d, racer %d via instance %d: got %v, want a conflict on email held by %s", round, i, i%n, err, winner)
			}
		}
	}

	tok, _, err := svcs[0].IssueToken(ctx, p, "entrust", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for i := range svcs {
		if _, err := svcs[i].AuthenticateToken(ctx, "entrust", tok); err != nil {
			t.Errorf("token issued by instance 0 on instance %d: %v", i, err)
		}
	}
	if err := svcs[1].RevokeCredential(ctx, cred.ClientID); err != nil {
		t.Fatal(err)
	}
	for i := range svcs {
		if _, err := svcs[i].Authenticate(ctx, cred.ClientID, sec); !errors.Is(err, directory.ErrUnauthenticated) {
			t.Errorf("revoked credential on instance %d: got %v, want ErrUnauthenticated", i, err)
		}
	}
}

// openDirect opens a database without Roster's code, for checks.
func openDirect(t *testing.T, url string) *sql.DB {
	t.Helper()
	h, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}
