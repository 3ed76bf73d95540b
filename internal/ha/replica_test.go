package ha

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/pgcluster"
	"github.com/roster-dev/roster/internal/proctest"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// replicaPair is a primary with an asynchronous streaming replica and a
// migrated database "roster" on both.
func replicaPair(t *testing.T) (primary, replica *pgcluster.Node) {
	t.Helper()
	primary = pgcluster.NewPrimary(t, "primary", pgcluster.Options{})
	replica = primary.NewStandby(t, "replica")
	primary.WaitStreaming(t, "replica", false)
	primary.Exec(t, "postgres", "CREATE DATABASE roster")
	replica.WaitReplayed(t, primary) // the database exists on the replica too
	return primary, replica
}

// TestReadReplica checks the read replica of a store (ROSTER_DB_READ):
// lists and searches are served by the replica once it has replayed what
// the primary had committed when the read began, so a user's own write is
// always in the list that follows it; with the replica's replay paused
// (pg_wal_replay_pause: a lag that does not end by itself) the write is
// not on the replica, and the list is served by the primary and includes
// it; once replay resumes the replica serves again; with the replica
// down, lists still work from the primary.
func TestReadReplica(t *testing.T) {
	primary, replica := replicaPair(t)
	kr := testdb.Keyring(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	st, err := store.Open(ctx, primary.URL("roster"), store.Options{Keyring: kr, ReadURL: replica.URL("roster")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc := directory.NewService(st, directory.Options{})
	tn, err := svc.CreateTenant(ctx, "rep", directory.UniquePolicy{})
	if err != nil {
		t.Fatal(err)
	}
	cred, sec, err := svc.CreateCredential(ctx, tn.Name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Authenticate(ctx, cred.ClientID, sec)
	if err != nil {
		t.Fatal(err)
	}
	repDB := replica.DB(t, "roster")
	onReplica := func(id string) bool {
		var n int
		if err := repDB.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id = $1`, id).Scan(&n); err != nil {
			t.Fatalf("read the replica directly: %v", err)
		}
		return n == 1
	}
	// writeThenList creates a user and lists the tenant's users filtered
	// on its last name at once: the list must hold it.
	writeThenList := func(name string) *directory.User {
		t.Helper()
		u, err := svc.CreateUser(ctx, p, &directory.User{Username: name, FirstName: "R", LastName: name}, directory.Rules{})
		if err != nil {
			t.Fatal(err)
		}
		page, err := svc.ListUsers(ctx, p, directory.UserQuery{Filter: directory.Cmp{Field: directory.FieldLastName, Op: directory.OpEq, Value: name}, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Users) != 1 || page.Users[0].ID != u.ID {
			t.Fatalf("list right after creating %s: got %d users, want it (read-your-writes)", name, len(page.Users))
		}
		return u
	}

	// Replica in step: it serves the reads.
	for i := range 20 {
		writeThenList(fmt.Sprintf("steady%d", i))
	}
	served, fellBack := st.ReplicaReads()
	t.Logf("replica in step: %d lists served by the replica, %d by the primary", served, fellBack)
	if served == 0 {
		t.Errorf("replica in step: it served none of 20 lists (%d went to the primary)", fellBack)
	}

	// Replay paused: a lag the test controls.
	replica.PauseReplay(t)
	s0, f0 := st.ReplicaReads()
	u := writeThenList("paused")
	s1, f1 := st.ReplicaReads()
	if onReplica(u.ID) {
		t.Fatalf("user %s is on the replica although its replay is paused: the lag was not induced", u.ID)
	}
	if f1-f0 != 1 || s1 != s0 {
		t.Errorf("replay paused: replica served %d, primary %d of one list; want the primary to serve it", s1-s0, f1-f0)
	}

	// Replay resumed: once the replica has the user, it serves again.
	replica.ResumeReplay(t)
	for deadline := time.Now().Add(30 * time.Second); !onReplica(u.ID); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("replica did not catch up within 30 s of resuming replay")
		}
	}
	// The replica serves again; a list or two may still go to the primary
	// on a loaded machine (it must be within 50 ms of the primary).
	s2, _ := st.ReplicaReads()
	for i := 0; ; i++ {
		writeThenList(fmt.Sprintf("resumed%d", i))
		if s3, _ := st.ReplicaReads(); s3 > s2 {
			break
		}
		if i == 50 {
			t.Fatalf("replay resumed: the replica served none of 50 lists")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Replica down: the primary serves, no error.
	replica.Stop(t, "fast")
	_, f4 := st.ReplicaReads()
	writeThenList("replica-down")
	if _, f5 := st.ReplicaReads(); f5 != f4+1 {
		t.Errorf("replica down: the list did not fall back to the primary")
	}
	// GetUser is never routed to the replica (a key lookup costs no more
	// on the primary than the replica's position check would).
	if _, err := svc.GetUser(ctx, p, u.ID); err != nil {
		t.Errorf("GetUser with the replica down: %v", err)
	}
}

// TestServeReadReplica checks the wiring of `roster serve --db-read` (and
// ROSTER_DB_READ): through a real server, a Truv create followed at once
// by a Truv list and a SCIM filter search finds the user, also while the
// replica's replay is paused.
func TestServeReadReplica(t *testing.T) {
	primary, replica := replicaPair(t)
	e := &proctest.Env{Vars: []string{
		"ROSTER_DB=" + primary.URL("roster"),
		"ROSTER_ENCRYPTION_KEY=k1:" + secret.NewKeySpec(),
		"ROSTER_RATE_LIMIT=0",
	}}
	cred := e.NewTenant(t, "rep", "none")
	in := e.Serve(t, "reads", "--db-read", replica.URL("roster"))
	client := &http.Client{Timeout: 10 * time.Second}
	ctx := t.Context()
	check := func(tag string) {
		t.Helper()
		r := do(ctx, client, in.Base, createReq("truv", cred, tag, 1))
		if r.Status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", tag, r.Status, r.Body)
		}
		r = do(ctx, client, in.Base, request{"GET", "/v1/users/?page_size=100", proctest.TruvAuth(cred), ""})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), tag) {
			t.Errorf("Truv list right after creating %s: %d, user missing: %.300s", tag, r.Status, r.Body)
		}
		r = do(ctx, client, in.Base, request{"GET", "/scim/v2/Users?filter=" + strings.ReplaceAll(fmt.Sprintf(`name.familyName eq "%s"`, tag), " ", "%20"), proctest.SCIMAuth(cred), ""})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"totalResults":1`) {
			t.Errorf("SCIM search right after creating %s: %d %.300s", tag, r.Status, r.Body)
		}
	}
	check("first")
	replica.PauseReplay(t)
	check("while-paused")

	// /metrics says how the lists were served: the paused replica's
	// fallbacks at least (the first lists may have gone either way).
	r := do(ctx, client, in.Base, request{"GET", "/metrics", nil, ""})
	served, fellBack := metricValue(string(r.Body), "roster_db_replica_reads_total"), metricValue(string(r.Body), "roster_db_replica_fallback_reads_total")
	if served < 0 || fellBack < 2 || served+fellBack < 4 {
		t.Errorf("/metrics: roster_db_replica_reads_total %v, roster_db_replica_fallback_reads_total %v; want both exported, at least 2 fallbacks (replay paused) and 4 lists in all:\n%s", served, fellBack, r.Body)
	}
}

// metricValue returns the value of an unlabelled metric in a Prometheus
// text exposition, or -1 when it is absent.
func metricValue(text, name string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err == nil {
				return f
			}
		}
	}
	return -1
}
