package ha

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/pgcluster"
	"github.com/roster-dev/roster/internal/proctest"
	"github.com/roster-dev/roster/internal/secret"
)

// Load shape of the failover test: bounded in workers, time and pace.
const (
	failoverWorkers = 6                // two per instance
	loadBefore      = 3 * time.Second  // steady load before the primary dies
	loadAfter       = 3 * time.Second  // load after writes succeed again
	loadCap         = 60 * time.Second // hard bound on the whole load
	backoff503      = 50 * time.Millisecond
)

// write is one create or update the load sent.
type write struct {
	dialect  string
	instance int
	create   bool
	tag      string // creates: the user's last name (no update changes it)
	userID   string // updates: the user; creates: the id answered, if acknowledged
	first    string // updates: the first name it sets
	start    time.Time
	end      time.Time
	status   int
	err      error
	idem     bool // sent with an Idempotency-Key
	retry    bool // a careful client's retry of an earlier attempt
}

func (w *write) acked() bool { return w.err == nil && w.status/100 == 2 }

// TestFailover runs three `roster serve` processes against a primary with
// a synchronous standby (synchronous_standby_names, synchronous_commit=on)
// through a URL listing both hosts with target_session_attrs=read-write,
// under create and update load in four dialects, then crashes the primary
// (pg_ctl stop -m immediate) and promotes the standby while the load
// runs. It checks that every acknowledged create is on the new primary
// exactly once, that no user was created twice, that every user's state is
// its last acknowledged update (or a later unacknowledged one, whose
// commit may have happened), that every failed request during the switch
// was a 503 with Retry-After in its dialect's own error format (no 500,
// no dropped connection), and that the same three processes serve writes
// again afterwards. It reports the figures docs/SCALING.md records.
func TestFailover(t *testing.T) {
	primary := pgcluster.NewPrimary(t, "primary", pgcluster.Options{SyncStandby: "standby"})
	standby := primary.NewStandby(t, "standby")
	primary.WaitStreaming(t, "standby", true)
	primary.Exec(t, "postgres", "CREATE DATABASE roster")

	url := fmt.Sprintf("postgres://postgres@%s,%s/roster?sslmode=disable&target_session_attrs=read-write&connect_timeout=2",
		primary.Addr(), standby.Addr())
	e := &proctest.Env{Vars: []string{
		"ROSTER_DB=" + url,
		"ROSTER_ENCRYPTION_KEY=k1:" + secret.NewKeySpec(),
		"ROSTER_RATE_LIMIT=0", // the test measures availability, not the limiter
		"ROSTER_SHUTDOWN_GRACE=2s",
	}}
	// Policy none: only usernames are unique, so a write applied twice
	// would show as two users with one last name, not as a 409.
	cred := e.NewTenant(t, "ha", "none")
	ins := make([]*proctest.Instance, 3)
	for i := range ins {
		ins[i] = e.Serve(t, fmt.Sprintf("instance %d", i))
	}

	var (
		mu     sync.Mutex
		writes []*write
	)
	record := func(w *write) {
		mu.Lock()
		writes = append(writes, w)
		mu.Unlock()
	}
	var failedAt, promotedAt atomic.Int64 // unix nanos
	var downAt time.Time                  // pg_ctl stop returned: the primary is gone
	var recovered atomic.Bool
	ctx, cancel := context.WithTimeout(t.Context(), loadCap)
	defer cancel()
	client := &http.Client{Timeout: 15 * time.Second}
	var wg sync.WaitGroup
	for wi := range failoverWorkers {
		wg.Go(func() { runWorker(ctx, client, ins, wi, cred, record, &promotedAt, &recovered) })
	}

	time.Sleep(loadBefore)
	failedAt.Store(time.Now().UnixNano())
	primary.Stop(t, "immediate") // the primary dies: a crash, connections cut
	downAt = time.Now()
	standby.Promote(t)
	promotedAt.Store(time.Now().UnixNano())
	t.Logf("primary stopped, standby promoted in %v", time.Duration(promotedAt.Load()-failedAt.Load()).Round(time.Millisecond))
	for !recovered.Load() && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-time.After(loadAfter):
	case <-ctx.Done():
	}
	cancel()
	wg.Wait()

	st := judgeFailover(t, standby, cred, ins, writes, time.Unix(0, failedAt.Load()), downAt, time.Unix(0, promotedAt.Load()))
	t.Logf("FIGURES failover: writes sent %d, acknowledged %d (after the switch %d), 503 %d, lost %d, duplicates %d, "+
		"write unavailability %.2f s (longest gap between acknowledged writes), first write sent after the primary was down acknowledged %.2f s after the crash, crash to promotion %.2f s",
		st.sent, st.acked, st.ackedAfter, st.unavailable, st.lost, st.duplicates, st.gap.Seconds(), st.firstAfter.Seconds(), st.promote.Seconds())
}

// runWorker sends creates and updates to one instance, in turn through
// the dialects, until ctx ends. After a 503 it waits a little (a real
// client would honour Retry-After; the short wait keeps the measurement
// of the outage fine-grained while bounding the load). Every third
// worker is a careful client: it sends its creates with an
// Idempotency-Key and retries one that got a 503 (or a 409 "key in
// flight") with the same key and body until it is acknowledged, as
// RELIABILITY.md advises.
func runWorker(ctx context.Context, c *http.Client, ins []*proctest.Instance, wi int, cred proctest.Credential,
	record func(*write), promotedAt *atomic.Int64, recovered *atomic.Bool) {
	in := wi % len(ins)
	careful := wi%3 == 0
	dialects := []string{"truv", "scim", "cl2c", "ownli"}
	var mine []string // ids of this worker's acknowledged users
	var retry *write  // a careful worker's create to send again
	var retryReq request
	for n := 0; ctx.Err() == nil; n++ {
		d := dialects[(wi+n)%len(dialects)]
		w := &write{dialect: d, instance: in, start: time.Now()}
		var req request
		switch {
		case retry != nil:
			w.dialect, w.create, w.tag, w.idem, w.retry = retry.dialect, true, retry.tag, true, true
			req = retryReq
		case len(mine) == 0 || n%3 != 2:
			w.create = true
			w.tag = fmt.Sprintf("w%dn%d", wi, n)
			req = createReq(d, cred, w.tag, n)
			if careful {
				w.idem = true
				req.Header = maps.Clone(req.Header)
				req.Header["Idempotency-Key"] = "key-" + w.tag
			}
		default:
			w.userID = mine[n%len(mine)]
			w.first = fmt.Sprintf("U%dn%d", wi, n)
			w.dialect, req = updateReq(d, cred, w.userID, w.first)
		}
		r := do(ctx, c, ins[in].Base, req)
		w.end, w.status, w.err = time.Now(), r.Status, r.Err
		if ctx.Err() != nil && r.Err != nil {
			return // the load ended mid-request: neither sent nor judged
		}
		retry = nil
		if w.acked() && w.create {
			w.userID = createdUserID(w.dialect, r)
			mine = append(mine, w.userID)
		}
		if w.acked() && promotedAt.Load() != 0 && w.start.UnixNano() > promotedAt.Load() {
			recovered.Store(true)
		}
		switch {
		case w.acked() || r.Err != nil:
		case w.idem && r.Status == http.StatusConflict:
			// The key is held by the first attempt: "in flight", retry.
			if r.Header.Get("Retry-After") == "" {
				w.err = fmt.Errorf("%s %s via instance %d: 409 for a key in flight without Retry-After", req.Method, req.Path, in)
			}
		default:
			if err := unavailableShape(w.dialect, r); err != nil {
				w.err = fmt.Errorf("%s %s via instance %d: %w", req.Method, req.Path, in, err)
			}
		}
		if w.idem && !w.acked() && w.err == nil {
			retry, retryReq = w, req
		}
		record(w)
		if r.Status == http.StatusServiceUnavailable || retry != nil {
			select {
			case <-time.After(backoff503):
			case <-ctx.Done():
			}
		}
	}
}

func createReq(d string, cred proctest.Credential, tag string, n int) request {
	switch d {
	case "truv":
		return request{"POST", "/v1/users/", proctest.TruvAuth(cred), fmt.Sprintf(
			`{"external_user_id":%q,"first_name":"F","last_name":%q,"email":"%s@f.example"}`, tag, tag, tag)}
	case "cl2c":
		return request{"POST", "/v1/cl2c/user", proctest.CL2CAuth(cred), fmt.Sprintf(
			`{"firstName":"F","lastName":%q,"email":"%s@f.example","userName":%q}`, tag, tag, tag)}
	case "ownli":
		return request{"POST", "/api/users", proctest.OwnliAuth(cred), fmt.Sprintf(
			`{"firstName":"F","lastName":%q,"email":"%s@f.example","phone":"+1415555%04d","address":{"state":"CA"}}`, tag, tag, n%10000)}
	default:
		return request{"POST", "/scim/v2/Users", proctest.SCIMAuth(cred), fmt.Sprintf(
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"name":{"givenName":"F","familyName":%q},"emails":[{"value":"%s@f.example","primary":true}]}`, tag, tag, tag)}
	}
}

// updateReq is an update of the user's first name in dialect d, or, for
// CL2C (whose updates are whole-user PUTs), in SCIM; it returns the
// dialect used.
func updateReq(d string, cred proctest.Credential, id, first string) (string, request) {
	switch d {
	case "truv":
		return d, request{"PATCH", "/v1/users/" + strings.ReplaceAll(id, "-", "") + "/", proctest.TruvAuth(cred), fmt.Sprintf(`{"first_name":%q}`, first)}
	case "ownli":
		return d, request{"PUT", "/api/users/" + id, proctest.OwnliAuth(cred), fmt.Sprintf(`{"firstName":%q}`, first)}
	}
	return "scim", request{"PATCH", "/scim/v2/Users/" + id, proctest.SCIMAuth(cred), fmt.Sprintf(
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"name.givenName","value":%q}]}`, first)}
}

// createdUserID reads the new user's dashed id from a create's answer.
func createdUserID(d string, r response) string {
	s, _ := r.JSONMap()["id"].(string)
	if d == "truv" {
		s, _ = directory.ParseID(s)
	}
	return s
}

type failoverStats struct {
	sent, acked, ackedAfter, unavailable, duplicates int
	retries, inFlight, lost                          int
	gap, firstAfter, promote                         time.Duration
}

// judgeFailover checks the load's outcome on the new primary directly.
func judgeFailover(t *testing.T, newPrimary *pgcluster.Node, cred proctest.Credential, ins []*proctest.Instance,
	writes []*write, failedAt, downAt, promotedAt time.Time) failoverStats {
	t.Helper()
	st := failoverStats{sent: len(writes), promote: promotedAt.Sub(failedAt)}
	db := newPrimary.DB(t, "roster")
	ctx := t.Context()

	// Every row the load created, by last name (its tag).
	rows, err := db.QueryContext(ctx, `SELECT last_name, id, first_name FROM users WHERE tenant_id = $1`, cred.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	byTag := map[string][]string{}
	first := map[string]string{}
	for rows.Next() {
		var tag, id, fn string
		if err := rows.Scan(&tag, &id, &fn); err != nil {
			t.Fatal(err)
		}
		byTag[tag] = append(byTag[tag], id)
		first[id] = fn
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for tag, ids := range byTag {
		if len(ids) > 1 {
			st.duplicates++
			t.Errorf("user %s created %d times: %v", tag, len(ids), ids)
		}
	}

	// Writes by user, in the order each worker sent them.
	updates := map[string][]*write{}
	var ackEnds []time.Time
	afterByInstance := make([]int, len(ins))
	firstAfter := time.Time{}
	unavailableBy := map[string]int{}
	idemAcked := map[string]bool{} // careful clients' creates: acknowledged in the end?
	for _, w := range writes {
		switch {
		case w.acked():
			st.acked++
			ackEnds = append(ackEnds, w.end)
			if w.start.After(promotedAt) {
				st.ackedAfter++
				afterByInstance[w.instance]++
			}
			if w.start.After(downAt) && (firstAfter.IsZero() || w.end.Before(firstAfter)) {
				firstAfter = w.end
			}
		case w.status == http.StatusServiceUnavailable && w.err == nil:
			st.unavailable++
			unavailableBy[w.dialect]++
		case w.idem && w.status == http.StatusConflict && w.err == nil:
			st.inFlight++
		default:
			// Anything but 2xx or a well-formed 503: a 500, another
			// status, a 503 in the wrong format, or no answer at all.
			t.Errorf("%s write via instance %d: status %d, err %v", w.dialect, w.instance, w.status, w.err)
		}
		if w.idem {
			if w.acked() {
				idemAcked[w.tag] = true
			} else if _, ok := idemAcked[w.tag]; !ok {
				idemAcked[w.tag] = false
			}
			if w.retry {
				st.retries++
			}
		}
		if w.create {
			ids := byTag[w.tag]
			if w.acked() && (len(ids) != 1 || ids[0] != w.userID) {
				st.lost++
				t.Errorf("acknowledged create %s (%s, id %s) is on the new primary as %v: lost", w.tag, w.dialect, w.userID, ids)
			}
		} else {
			updates[w.userID] = append(updates[w.userID], w)
		}
	}
	// A user's first name is its last acknowledged update's, or that of
	// an update sent after it whose answer was a 503 (it may have
	// committed before the connection broke).
	for id, ups := range updates {
		last := -1
		for i, w := range ups {
			if w.acked() {
				last = i
			}
		}
		if last < 0 {
			continue
		}
		allowed := []string{ups[last].first}
		for _, w := range ups[last+1:] {
			allowed = append(allowed, w.first)
		}
		if got := first[id]; !slices.Contains(allowed, got) {
			st.lost++
			t.Errorf("user %s: first name %q on the new primary, want the last acknowledged update's %q (or a later unacknowledged one of %v): an acknowledged update was lost",
				id, got, ups[last].first, allowed[1:])
		}
	}
	for i, in := range ins {
		if !in.Running() {
			t.Errorf("%s exited during the failover", in.Name)
		}
		if afterByInstance[i] == 0 {
			t.Errorf("%s acknowledged no write after the promotion: it did not reconnect", in.Name)
		}
	}
	for tag, ok := range idemAcked {
		if !ok {
			t.Errorf("create %s, retried with its Idempotency-Key, was never acknowledged", tag)
		}
	}
	t.Logf("503s by dialect: %v; careful clients: %d retries (%d answered 409 key in flight), every retried create acknowledged once", unavailableBy, st.retries, st.inFlight)
	if len(unavailableBy) < 2 {
		t.Errorf("503s during the switch in %d dialects (%v), want at least 2: the failover was not exercised", len(unavailableBy), unavailableBy)
	}
	slices.SortFunc(ackEnds, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(ackEnds); i++ {
		st.gap = max(st.gap, ackEnds[i].Sub(ackEnds[i-1]))
	}
	if !firstAfter.IsZero() {
		st.firstAfter = firstAfter.Sub(failedAt)
	}
	return st
}

// TestDatabaseDownIs503 stops the only PostgreSQL server under a running
// `roster serve` and checks that a read and a write in every dialect,
// Entrust included (its token issued before the outage), are answered 503
// with Retry-After in that dialect's own error format, and /readyz 503:
// never a 500.
func TestDatabaseDownIs503(t *testing.T) {
	node := pgcluster.NewPrimary(t, "single", pgcluster.Options{})
	node.Exec(t, "postgres", "CREATE DATABASE roster")
	e := &proctest.Env{Vars: []string{
		"ROSTER_DB=" + node.URL("roster") + "&connect_timeout=2",
		"ROSTER_ENCRYPTION_KEY=k1:" + secret.NewKeySpec(),
		"ROSTER_RATE_LIMIT=0",
	}}
	cred := e.NewTenant(t, "down", "none")
	in := e.Serve(t, "down")
	client := &http.Client{Timeout: 15 * time.Second}
	ctx := t.Context()
	r := do(ctx, client, in.Base, request{"POST", "/api/web/v1/adminapi/authenticate", map[string]string{"Content-Type": "application/json"},
		fmt.Sprintf(`{"applicationId":%q,"sharedSecret":%q}`, cred.ClientID, cred.Secret)})
	tok, _ := r.JSONMap()["authToken"].(string)
	if r.Status != http.StatusOK || tok == "" {
		t.Fatalf("entrust authenticate: %d %s", r.Status, r.Body)
	}
	entrust := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok}

	node.Stop(t, "fast")
	reqs := []struct {
		dialect string
		req     request
	}{
		{"truv", request{"GET", "/v1/users/", proctest.TruvAuth(cred), ""}},
		{"truv", createReq("truv", cred, "down-truv", 1)},
		{"cl2c", request{"GET", "/v1/cl2c/users", proctest.CL2CAuth(cred), ""}},
		{"cl2c", createReq("cl2c", cred, "down-cl2c", 2)},
		{"ownli", request{"GET", "/api/users", proctest.OwnliAuth(cred), ""}},
		{"ownli", createReq("ownli", cred, "down-ownli", 3)},
		{"scim", request{"GET", "/scim/v2/Users", proctest.SCIMAuth(cred), ""}},
		{"scim", createReq("scim", cred, "down-scim", 4)},
		{"entrust", request{"POST", "/api/web/v4/userspaged", entrust, `{}`}},
		{"entrust", request{"POST", "/api/web/v3/users", entrust, `{"userId":"down-entrust","firstName":"D","lastName":"E"}`}},
	}
	for _, c := range reqs {
		r := do(ctx, client, in.Base, c.req)
		if r.Err != nil {
			t.Errorf("%s %s %s: no answer: %v", c.dialect, c.req.Method, c.req.Path, r.Err)
			continue
		}
		if err := unavailableShape(c.dialect, r); err != nil {
			t.Errorf("%s %s %s with the database down: %v", c.dialect, c.req.Method, c.req.Path, err)
		}
	}
	if r := do(ctx, client, in.Base, request{"GET", "/readyz", nil, ""}); r.Status != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database down: %d, want 503", r.Status)
	}
}
