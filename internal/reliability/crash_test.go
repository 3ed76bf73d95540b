package reliability

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/proctest"
	"github.com/roster-dev/roster/internal/testdb"
)

// Crash-test shape. Short cycles keep the test at a few seconds per
// backend while still killing the server hundreds of writes into each one.
const (
	crashCycles  = 10
	crashWorkers = 8
	minLoad      = 300 * time.Millisecond
	maxLoad      = 1000 * time.Millisecond
)

// crashSeedEnv lets a failing run be replayed: the choices of dialect,
// operation and kill moment follow the seed (the timing of the machine
// does not, so a replay is close, not exact).
const crashSeedEnv = "ROSTER_CRASH_SEED"

// createOp is one attempted create and what became of it.
type createOp struct {
	tag, dialect string
	first, email string // the values sent
	acked        bool   // a 2xx arrived
	id           string // dashed id from the 2xx body ("" if the body was cut off)
	updates      []*updateOp
}

// updateOp is one attempted update of an acknowledged user. Each user is
// updated by the one worker that created it, one request at a time, so the
// order of its updates is the order of this slice.
type updateOp struct {
	dialect      string
	first, email string
	acked        bool
}

// worker is one client's state across cycles: its random source, its
// creates, and the acknowledged users it updates.
type worker struct {
	id      int
	rng     *rand.Rand
	n       int
	creates []*createOp
	owned   []*createOp
}

// TestCrashSafety checks Invariant 1 (a 2xx write is durably committed)
// against the real binary: `roster serve` runs as a child process under
// concurrent creates (Truv, CL2C, SCIM) and updates (Ownli, SCIM, Truv)
// over HTTP, is SIGKILLed at a random moment, restarted, and so on for
// crashCycles cycles. Afterwards, read from the database directly:
//
//   - every acknowledged create is present exactly once, with its id and
//     values (or those of an update of it);
//   - every acknowledged update is present, or a later update of the same
//     user is, and a user's fields all come from one write (never a
//     first name of one update and the e-mail of another);
//   - an unacknowledged create is absent or present once, whole;
//   - each user's claims are exactly those its row implies, its primary
//     e-mail value matches its e-mail, nothing references a missing user,
//     and no identifier is held twice;
//   - on SQLite, PRAGMA integrity_check is "ok" and foreign_key_check is
//     empty.
func TestCrashSafety(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashSeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with %s=%d)", seed, crashSeedEnv, seed)
	for i, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			runCrash(t, backend, seed+uint64(i))
		})
	}
}

func runCrash(t *testing.T, backend string, seed uint64) {
	start := time.Now()
	env := newBackendEnv(t, backend)
	// Every identifier is unique in this tenant, so the claims table holds
	// as many rows per user as can go wrong.
	cred := env.NewTenant(t, "crash", "email,phone,external_id")
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	workers := make([]*worker, crashWorkers)
	for i := range workers {
		workers[i] = &worker{id: i, rng: rand.New(rand.NewPCG(seed, uint64(i)+1))}
	}

	var loadTime time.Duration
	for cycle := range crashCycles {
		in := env.Serve(t, fmt.Sprintf("%s serve #%d", backend, cycle+1))
		load := minLoad + time.Duration(rng.Int64N(int64(maxLoad-minLoad)))
		loadTime += load
		runCycle(t, in, cred, cycle, workers, load)
		if t.Failed() {
			t.FailNow()
		}
	}

	// One more start: the server must come up on what the last kill left,
	// and read what it acknowledged.
	final := env.Serve(t, backend+" serve (final)")
	var all []*createOp
	for _, w := range workers {
		all = append(all, w.creates...)
	}
	readBack(t, final, cred, all, rng)
	final.Stop(t)

	st := checkStore(t, env, cred.TenantID, all)
	t.Logf("%s: %d cycles (%v of load, %v in all), %d writes acknowledged (%d creates, %d updates), "+
		"%d unacknowledged (%d of them committed), writes lost = %d, %d users in the store",
		backend, crashCycles, loadTime.Round(time.Millisecond), time.Since(start).Round(time.Millisecond),
		st.ackedCreates+st.ackedUpdates, st.ackedCreates, st.ackedUpdates,
		st.unacked, st.unackedCommitted, st.lost, st.users)
}

// runCycle drives in with the workers for load, SIGKILLs it, and returns
// once every worker has stopped.
func runCycle(t *testing.T, in *proctest.Instance, cred proctest.Credential, cycle int, workers []*worker, load time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: crashWorkers},
	}
	defer client.CloseIdleConnections()
	var killing atomic.Bool
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.run(ctx, t, client, in.Base, cred, cycle, &killing) })
	}
	time.Sleep(load)
	killing.Store(true)
	in.Kill()
	cancel()
	wg.Wait()
}

// run issues creates and updates until ctx ends or the server stops
// answering. A transport error before the kill is a failure: the server
// must not drop a connection while alive.
func (w *worker) run(ctx context.Context, t *testing.T, c *http.Client, base string, cred proctest.Credential, cycle int, killing *atomic.Bool) {
	for ctx.Err() == nil {
		var r response
		var what string
		if len(w.owned) > 0 && w.rng.IntN(2) == 0 {
			u := w.owned[w.rng.IntN(len(w.owned))]
			up, req := w.updateReq(cred, u, cycle)
			u.updates = append(u.updates, up)
			r = do(ctx, c, base, req)
			what = fmt.Sprintf("%s update of %s (%s)", up.dialect, u.tag, u.id)
			// A 2xx status line is the acknowledgement, even if the
			// body was cut off by the kill.
			up.acked = r.Status/100 == 2
		} else {
			op, req := w.createReq(cred, cycle)
			w.creates = append(w.creates, op)
			r = do(ctx, c, base, req)
			what = fmt.Sprintf("%s create of %s", op.dialect, op.tag)
			if r.Status/100 == 2 {
				op.acked = true
				op.id = createdID(op.dialect, r)
				if op.id != "" {
					w.owned = append(w.owned, op)
				}
			}
		}
		switch {
		case r.Err != nil && r.Status == 0:
			if !killing.Load() && ctx.Err() == nil {
				t.Errorf("%s: no answer while the server was alive: %v", what, r.Err)
			}
			return // the server is gone; the next cycle starts a new one
		case r.Status/100 != 2:
			t.Errorf("%s: status %d, want 2xx: %s", what, r.Status, r.Body)
			return
		}
	}
}

// createReq builds a create in a random dialect. The tag names the user
// in every field that must be unique, and its last name, which no update
// changes, finds it in the database.
func (w *worker) createReq(cred proctest.Credential, cycle int) (*createOp, dialectReq) {
	w.n++
	tag := fmt.Sprintf("c%dw%dn%d", cycle, w.id, w.n)
	op := &createOp{tag: tag, first: "F" + tag, email: tag + "@c.example"}
	var req dialectReq
	switch w.rng.IntN(3) {
	case 0:
		op.dialect = "truv"
		req = dialectReq{"POST", "/v1/users/", proctest.TruvAuth(cred), fmt.Sprintf(
			`{"external_user_id":%q,"first_name":%q,"last_name":%q,"email":%q,"ssn":"222233333"}`,
			tag, op.first, tag, op.email)}
	case 1:
		op.dialect = "cl2c"
		req = dialectReq{"POST", "/v1/cl2c/user", proctest.CL2CAuth(cred), fmt.Sprintf(
			`{"firstName":%q,"lastName":%q,"email":%q,"userName":%q}`, op.first, tag, op.email, tag)}
	default:
		op.dialect = "scim"
		req = dialectReq{"POST", "/scim/v2/Users", proctest.SCIMAuth(cred), fmt.Sprintf(
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"name":{"givenName":%q,"familyName":%q},"emails":[{"value":%q,"primary":true}]}`,
			tag, op.first, tag, op.email)}
	}
	return op, req
}

// updateReq builds an update of u, in a random dialect, that changes its
// first name and its e-mail (and so its e-mail claim) together.
func (w *worker) updateReq(cred proctest.Credential, u *createOp, cycle int) (*updateOp, dialectReq) {
	w.n++
	tag := fmt.Sprintf("u%dw%dn%d", cycle, w.id, w.n)
	up := &updateOp{first: "U" + tag, email: tag + "@u.example"}
	var req dialectReq
	switch w.rng.IntN(3) {
	case 0:
		up.dialect = "ownli"
		req = dialectReq{"PUT", "/api/users/" + u.id, proctest.OwnliAuth(cred),
			fmt.Sprintf(`{"firstName":%q,"email":%q}`, up.first, up.email)}
	case 1:
		up.dialect = "scim"
		req = dialectReq{"PATCH", "/scim/v2/Users/" + u.id, proctest.SCIMAuth(cred), fmt.Sprintf(
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+
				`{"op":"replace","path":"name.givenName","value":%q},`+
				`{"op":"replace","path":"emails","value":[{"value":%q,"primary":true}]}]}`, up.first, up.email)}
	default:
		up.dialect = "truv"
		req = dialectReq{"PATCH", "/v1/users/" + strings.ReplaceAll(u.id, "-", "") + "/", proctest.TruvAuth(cred),
			fmt.Sprintf(`{"first_name":%q,"email":%q}`, up.first, up.email)}
	}
	return up, req
}

// createdID reads the new user's id from a create's 2xx body, in the
// dashed form (Truv answers 32 hex characters).
func createdID(dialect string, r response) string {
	m := r.JSONMap()
	s, _ := m["id"].(string)
	if dialect == "truv" {
		s, _ = directory.ParseID(s)
	}
	return s
}

// readBack reads a sample of the acknowledged users through the restarted
// server: a crash must leave them readable, SSNs included (decrypted with
// the key the server found on disk or in its environment).
func readBack(t *testing.T, in *proctest.Instance, cred proctest.Credential, all []*createOp, rng *rand.Rand) {
	t.Helper()
	var acked []*createOp
	for _, op := range all {
		if op.acked && op.id != "" {
			acked = append(acked, op)
		}
	}
	rng.Shuffle(len(acked), func(i, j int) { acked[i], acked[j] = acked[j], acked[i] })
	c := &http.Client{Timeout: 10 * time.Second}
	for _, op := range acked[:min(len(acked), 100)] {
		r := do(t.Context(), c, in.Base, dialectReq{"GET", "/v1/users/" + strings.ReplaceAll(op.id, "-", "") + "/", proctest.TruvAuth(cred), ""})
		m := r.JSONMap()
		if r.Err != nil || r.Status != http.StatusOK || m["last_name"] != op.tag {
			t.Errorf("read back %s create %s (%s) after the crashes: %d %v %s", op.dialect, op.tag, op.id, r.Status, r.Err, r.Body)
			continue
		}
		if op.dialect == "truv" && m["ssn"] != "222233333" {
			t.Errorf("read back %s: ssn %v, want 222233333", op.tag, m["ssn"])
		}
	}
}

// crashStats are the figures of one run.
type crashStats struct {
	ackedCreates, ackedUpdates int
	unacked, unackedCommitted  int // unacknowledged writes, and those found committed
	lost                       int // acknowledged writes not in the store
	users                      int
}

// storedUser is a users row, with what hangs off it.
type storedUser struct {
	id, first, last, email, emailNorm, usernameNorm, externalID, phoneNorm, partnerCode string
	aliases                                                                             []string
	claims                                                                              map[string]bool // "kind\x00value"
	primaryEmails                                                                       []string
}

// checkStore reads the tenant's users, claims, aliases and values from the
// database directly and checks them against what the clients saw.
func checkStore(t testing.TB, env *backendEnv, tenantID string, all []*createOp) crashStats {
	t.Helper()
	ctx := t.Context()
	db := env.openDB(t)
	if env.backend == "sqlite" {
		var res string
		if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
			t.Errorf("PRAGMA integrity_check: %q, %v; want ok", res, err)
		}
		rows, err := db.QueryContext(ctx, `PRAGMA foreign_key_check`)
		if err != nil {
			t.Fatalf("PRAGMA foreign_key_check: %v", err)
		}
		if rows.Next() {
			t.Errorf("PRAGMA foreign_key_check reports violations")
		}
		rows.Close()
	}

	users := map[string]*storedUser{}
	byLast := map[string][]*storedUser{}
	query(t, db, `SELECT id, first_name, last_name, email, email_norm, username_norm, external_id, phone_norm, partner_code
		FROM users WHERE tenant_id = $1`, []any{tenantID}, func(rows *sql.Rows) error {
		u := &storedUser{claims: map[string]bool{}}
		if err := rows.Scan(&u.id, &u.first, &u.last, &u.email, &u.emailNorm, &u.usernameNorm, &u.externalID, &u.phoneNorm, &u.partnerCode); err != nil {
			return err
		}
		users[u.id] = u
		byLast[u.last] = append(byLast[u.last], u)
		return nil
	})
	var orphans []string
	owner := func(table, id string) *storedUser {
		u := users[id]
		if u == nil {
			orphans = append(orphans, table+" row of missing user "+id)
		}
		return u
	}
	query(t, db, `SELECT user_id, kind, value FROM user_claims WHERE tenant_id = $1`, []any{tenantID}, func(rows *sql.Rows) error {
		var id, kind, value string
		if err := rows.Scan(&id, &kind, &value); err != nil {
			return err
		}
		if u := owner("user_claims", id); u != nil {
			u.claims[kind+"\x00"+value] = true
		}
		return nil
	})
	query(t, db, `SELECT user_id, value FROM user_aliases WHERE tenant_id = $1`, []any{tenantID}, func(rows *sql.Rows) error {
		var id, value string
		if err := rows.Scan(&id, &value); err != nil {
			return err
		}
		if u := owner("user_aliases", id); u != nil {
			u.aliases = append(u.aliases, value)
		}
		return nil
	})
	query(t, db, `SELECT user_id, value_norm FROM user_values WHERE tenant_id = $1 AND kind = 'email' AND is_primary = 1`, []any{tenantID}, func(rows *sql.Rows) error {
		var id, value string
		if err := rows.Scan(&id, &value); err != nil {
			return err
		}
		if u := owner("user_values", id); u != nil {
			u.primaryEmails = append(u.primaryEmails, value)
		}
		return nil
	})
	for _, o := range orphans {
		t.Errorf("half-present write: %s", o)
	}

	// Every user holds exactly the claims its row implies under the
	// tenant's policy (all of email, phone, external_id), no more, no
	// fewer: a claim without its user, or a user without its claim, is a
	// half-written create or update.
	for _, u := range users {
		want := map[string]bool{}
		add := func(kind, v string) {
			if v != "" {
				want[kind+"\x00"+v] = true
			}
		}
		add(string(directory.ClaimLogin), u.usernameNorm)
		for _, a := range u.aliases {
			add(string(directory.ClaimLogin), strings.ToLower(a))
		}
		add(string(directory.ClaimEmail), u.emailNorm)
		add(string(directory.ClaimPhone), u.phoneNorm)
		add(string(directory.ClaimExternalID), u.externalID)
		add(string(directory.ClaimPartnerCode), u.partnerCode)
		if !sameSet(u.claims, want) {
			t.Errorf("user %s (%s): claims %v, want %v", u.id, u.last, keys(u.claims), keys(want))
		}
		if u.emailNorm == "" && len(u.primaryEmails) != 0 ||
			u.emailNorm != "" && (len(u.primaryEmails) != 1 || u.primaryEmails[0] != u.emailNorm) {
			t.Errorf("user %s (%s): e-mail %q but primary e-mail values %q", u.id, u.last, u.emailNorm, u.primaryEmails)
		}
	}

	// No identifier is held by two users (the claims table's key says so
	// for claims; this reads the user rows themselves).
	for _, col := range []string{"username_norm", "email_norm", "external_id", "partner_code"} {
		query(t, db, `SELECT `+col+`, COUNT(*) FROM users WHERE tenant_id = $1 AND `+col+` <> '' GROUP BY `+col+` HAVING COUNT(*) > 1`,
			[]any{tenantID}, func(rows *sql.Rows) error {
				var v string
				var n int
				if err := rows.Scan(&v, &n); err != nil {
					return err
				}
				t.Errorf("uniqueness: %d users share %s %q", n, col, v)
				return nil
			})
	}

	var st crashStats
	st.users = len(users)
	tags := map[string]bool{}
	for _, op := range all {
		tags[op.tag] = true
		got := byLast[op.tag]
		if !op.acked {
			st.unacked++
			switch len(got) {
			case 0:
			case 1:
				st.unackedCommitted++
			default:
				t.Errorf("unacknowledged %s create %s: stored %d times", op.dialect, op.tag, len(got))
			}
			continue
		}
		st.ackedCreates++
		if len(got) != 1 || op.id != "" && got[0].id != op.id {
			st.lost++
			t.Errorf("acknowledged %s create %s (id %s): stored %d times %v, want once with that id", op.dialect, op.tag, op.id, len(got), got)
			continue
		}
		u := got[0]
		// What the user may hold now: the last acknowledged write of it
		// (the create, or an update), or any unacknowledged update after
		// that one, which may have committed before the kill.
		allowed := [][2]string{{op.first, op.email}}
		allowedAcked := []bool{true}
		for _, up := range op.updates {
			if up.acked {
				st.ackedUpdates++
				allowed, allowedAcked = allowed[:0], allowedAcked[:0]
			} else {
				st.unacked++
			}
			allowed = append(allowed, [2]string{up.first, up.email})
			allowedAcked = append(allowedAcked, up.acked)
		}
		okNow := false
		for i, a := range allowed {
			if u.first == a[0] && u.emailNorm == a[1] {
				okNow = true
				if !allowedAcked[i] {
					st.unackedCommitted++ // an update the kill cut off after its COMMIT
				}
			}
		}
		if !okNow {
			st.lost++
			t.Errorf("acknowledged %s create %s: holds (%q, %q), want one of %q (the last acknowledged write or a later one; updates %s)",
				op.dialect, op.tag, u.first, u.emailNorm, allowed, describeUpdates(op.updates))
		}
	}
	for last, us := range byLast {
		if !tags[last] {
			t.Errorf("%d stored users with last name %q that no client created", len(us), last)
		}
	}
	if st.ackedCreates == 0 || st.ackedUpdates == 0 {
		t.Errorf("the load acknowledged %d creates and %d updates; want some of both", st.ackedCreates, st.ackedUpdates)
	}
	return st
}

func describeUpdates(ups []*updateOp) string {
	var b strings.Builder
	for i, up := range ups {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s acked=%v", up.dialect, up.first, up.acked)
	}
	return b.String()
}

// query runs q and calls scan for every row, failing the test on error.
func query(t testing.TB, db *sql.DB, q string, args []any, scan func(*sql.Rows) error) {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), q, args...)
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			t.Fatalf("scan %s: %v", q, err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, strings.ReplaceAll(k, "\x00", "="))
	}
	return ks
}

// recorder collects a check's errors instead of failing the test, so a
// test can assert that the check fails.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestCrashCheckCatchesDamage proves that checkStore can fail: after one
// loaded, killed cycle on SQLite, it damages the database the ways a lost
// or half-written write would (a create's claim missing, an acknowledged
// value replaced, an acknowledged user gone with its rows left behind, an
// e-mail held twice) and expects checkStore to report each one.
func TestCrashCheckCatchesDamage(t *testing.T) {
	env := newBackendEnv(t, "sqlite")
	cred := env.NewTenant(t, "crash", "email,phone,external_id")
	workers := []*worker{{id: 0, rng: rand.New(rand.NewPCG(1, 1))}, {id: 1, rng: rand.New(rand.NewPCG(1, 2))}}
	runCycle(t, env.Serve(t, "serve"), cred, 0, workers, minLoad)
	var all, acked []*createOp
	for _, w := range workers {
		all = append(all, w.creates...)
	}
	for _, op := range all {
		if op.acked && op.id != "" {
			acked = append(acked, op)
		}
	}
	if len(acked) < 5 {
		t.Fatalf("%d acknowledged creates, want at least 5 to damage", len(acked))
	}
	// The undamaged store passes.
	clean := &recorder{TB: t}
	checkStore(clean, env, cred.TenantID, all)
	if len(clean.errs) != 0 {
		t.Fatalf("undamaged store: %q", clean.errs)
	}

	a, b, c, d, e := acked[0], acked[1], acked[2], acked[3], acked[4]
	db := env.openDB(t)
	db.SetMaxOpenConns(1) // the PRAGMA below is per connection
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`PRAGMA foreign_keys = OFF`, nil},
		{`DELETE FROM user_claims WHERE tenant_id = $1 AND user_id = $2 AND kind = 'email'`, []any{cred.TenantID, a.id}},
		{`UPDATE users SET first_name = 'Zombie' WHERE tenant_id = $1 AND id = $2`, []any{cred.TenantID, b.id}},
		{`DELETE FROM users WHERE tenant_id = $1 AND id = $2`, []any{cred.TenantID, c.id}},
		{`UPDATE users SET email_norm = (SELECT email_norm FROM users WHERE tenant_id = $1 AND id = $2) WHERE tenant_id = $1 AND id = $3`,
			[]any{cred.TenantID, d.id, e.id}},
	} {
		if _, err := db.ExecContext(t.Context(), q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	db.Close()

	rec := &recorder{TB: t}
	checkStore(rec, env, cred.TenantID, all)
	got := strings.Join(rec.errs, "\n")
	for _, want := range []string{
		"user " + a.id + " (" + a.tag + "): claims",        // a's e-mail claim is gone
		"create " + b.tag + ": holds (\"Zombie\"",          // b's acknowledged value replaced
		"create " + c.tag + " (id " + c.id + "): stored 0", // c lost
		"half-present write: user_claims row of missing user " + c.id,
		"PRAGMA foreign_key_check reports violations",
		"uniqueness: 2 users share email_norm", // d's e-mail now also e's
	} {
		if !strings.Contains(got, want) {
			t.Errorf("checkStore on the damaged store did not report %q; it reported:\n%s", want, got)
		}
	}
}
