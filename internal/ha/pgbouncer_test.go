package ha

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/directory/storetest"
	"github.com/roster-dev/roster/internal/pgcluster"
	"github.com/roster-dev/roster/internal/proctest"
	"github.com/roster-dev/roster/internal/secret"
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

// TestServeInstancesThroughPgBouncer is the HTTP side of the multi-instance
// races, through PgBouncer: three `roster serve` processes whose only way
// to the database is PgBouncer (transaction pooling, the URL setting the
// docs prescribe). Creates of one e-mail raced through four dialects over
// the three instances give one user and a 409 for every other; one
// Idempotency-Key raced through all three gives one user; an Entrust token
// issued by one instance is accepted by the others; and after `roster
// credential revoke` the next request on every instance is a 401.
// bouncedCacheTTL is the instances' credential cache TTL: short, so that
// the revocation check waits little.
const bouncedCacheTTL = 300 * time.Millisecond

func TestServeInstancesThroughPgBouncer(t *testing.T) {
	b := bouncer(t)
	direct := testdb.PostgresURL(t)
	through := b.Through(t, direct)
	e := &proctest.Env{Vars: []string{
		"ROSTER_DB=" + through,
		"ROSTER_ENCRYPTION_KEY=k1:" + secret.NewKeySpec(),
		"ROSTER_RATE_LIMIT=0",
		"ROSTER_CREDENTIAL_CACHE_TTL=" + bouncedCacheTTL.String(),
	}}
	cred := e.NewTenant(t, "bounced", "email")
	ins := make([]*proctest.Instance, 3)
	for i := range ins {
		ins[i] = e.Serve(t, fmt.Sprintf("instance %d", i))
	}
	client := &http.Client{Timeout: 15 * time.Second}
	ctx := t.Context()
	race := func(reqs []request) []response {
		out := make([]response, len(reqs))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, r := range reqs {
			wg.Go(func() { <-start; out[i] = do(ctx, client, ins[i%len(ins)].Base, r) })
		}
		close(start)
		wg.Wait()
		return out
	}
	db := openDirect(t, direct)

	dialects := []string{"truv", "cl2c", "ownli", "scim"}
	for round := range 5 {
		email := fmt.Sprintf("bounce%d@example.com", round)
		var reqs []request
		for i := range 12 {
			d := dialects[i%len(dialects)]
			tag := fmt.Sprintf("b%dr%d", round, i)
			r := createReq(d, cred, tag, 100*round+i)
			r.Body = strings.Replace(r.Body, tag+"@f.example", email, 1)
			reqs = append(reqs, r)
		}
		wins, conflicts := 0, 0
		for i, r := range race(reqs) {
			switch {
			case r.Err == nil && r.Status/100 == 2:
				wins++
			case r.Status == http.StatusConflict:
				conflicts++
			default:
				t.Errorf("round %d, %s via instance %d: %d %v %s", round, dialects[i%len(dialects)], i%len(ins), r.Status, r.Err, r.Body)
			}
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE tenant_id = $1 AND email_norm = $2`, cred.TenantID, email).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if wins != 1 || conflicts != 11 || n != 1 {
			t.Errorf("round %d: %d created, %d conflicts, %d users with %s in the database; want 1, 11, 1", round, wins, conflicts, n, email)
		}
	}

	// One Idempotency-Key, the same SCIM create, three times per instance.
	key := "bounce-key-1"
	var reqs []request
	for range 9 {
		r := createReq("scim", cred, "idem", 0)
		r.Header = maps.Clone(r.Header)
		r.Header["Idempotency-Key"] = key
		reqs = append(reqs, r)
	}
	for i, r := range race(reqs) {
		if r.Err != nil || (r.Status/100 != 2 && r.Status != http.StatusConflict) {
			t.Errorf("idempotent create %d: %d %v %s", i, r.Status, r.Err, r.Body)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE tenant_id = $1 AND last_name = 'idem'`, cred.TenantID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("one Idempotency-Key raced through three instances: %d users, want 1", n)
	}

	r := do(ctx, client, ins[0].Base, request{"POST", "/api/web/v1/adminapi/authenticate", map[string]string{"Content-Type": "application/json"},
		fmt.Sprintf(`{"applicationId":%q,"sharedSecret":%q}`, cred.ClientID, cred.Secret)})
	tok, _ := r.JSONMap()["authToken"].(string)
	if r.Status != http.StatusOK || tok == "" {
		t.Fatalf("entrust authenticate: %d %s", r.Status, r.Body)
	}
	entrust := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok}
	for _, in := range ins {
		if r := do(ctx, client, in.Base, request{"POST", "/api/web/v4/userspaged", entrust, `{}`}); r.Status != http.StatusOK {
			t.Errorf("Entrust token of instance 0 on %s: %d %s", in.Name, r.Status, r.Body)
		}
	}
	e.Run(t, "credential", "revoke", cred.ClientID)
	// An instance that verified the secret within the credential cache's
	// TTL may answer from its cache until the TTL ends
	// (docs/SECURITY.md#credential-cache); tokens are never cached.
	time.Sleep(bouncedCacheTTL)
	for _, in := range ins {
		if r := do(ctx, client, in.Base, request{"GET", "/v1/users/", proctest.TruvAuth(cred), ""}); r.Status != http.StatusUnauthorized {
			t.Errorf("revoked credential on %s: %d, want 401", in.Name, r.Status)
		}
		if r := do(ctx, client, in.Base, request{"POST", "/api/web/v4/userspaged", entrust, `{}`}); r.Status != http.StatusUnauthorized {
			t.Errorf("token of a revoked credential on %s: %d, want 401", in.Name, r.Status)
		}
	}
}
