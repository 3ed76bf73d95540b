package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/server"
	"github.com/roster-dev/roster/internal/testdb"
)

// idemEnv is a server over a database whose URL the test knows, so that
// it can read the database's bytes.
type idemEnv struct {
	*apitest.Env
	url string
}

func newIdemEnv(t *testing.T, backend string, policy directory.UniquePolicy) (*idemEnv, *client) {
	t.Helper()
	url := testdb.URL(t, backend)
	st := testdb.OpenURL(t, url, testdb.Keyring(t))
	clock := apitest.NewClock()
	svc := directory.NewService(st, directory.Options{Now: clock.Now})
	srv := httptest.NewServer(server.New(svc, server.Options{}))
	t.Cleanup(srv.Close)
	env := &apitest.Env{T: t, Store: st, Svc: svc, Server: srv, Clock: clock, Logs: &apitest.Buffer{}}
	env.Creds = env.NewTenant("acme", policy)
	return &idemEnv{Env: env, url: url}, newClient(t, env, env.Creds)
}

// idemCreates is one create per dialect, the bodies differing per run by n.
func idemCreates(n int) []struct{ dialect, path, body string } {
	return []struct{ dialect, path, body string }{
		{"truv", "/v1/users/", fmt.Sprintf(`{"external_user_id":"t-%d","first_name":"Tru","last_name":"V","email":"truv%d@example.com","ssn":"123-45-6789"}`, n, n)},
		{"entrust", "/api/web/v3/users", fmt.Sprintf(`{"userId":"entrust%d","firstName":"En","lastName":"Trust","email":"entrust%d@example.com"}`, n, n)},
		{"cl2c", "/v1/cl2c/user", fmt.Sprintf(`{"firstName":"Cl","lastName":"Tc","email":"cl2c%d@example.com","userName":"cl2c%d","phoneNumber":"+1415555%04d"}`, n, n, 100+n)},
		{"ownli", "/api/users", fmt.Sprintf(`{"firstName":"Own","lastName":"Li","email":"ownli%d@example.com","phone":"+1415555%04d","address":{"state":"CA"}}`, n, 200+n)},
		{"scim", "/scim/v2/Users", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"scim%d","name":{"givenName":"Sc","familyName":"Im"}}`, n)},
	}
}

func (c *client) doKey(dialect, method, path, key, body string) *apitest.Response {
	c.t.Helper()
	h := c.Headers(dialect)
	if key != "" {
		h["Idempotency-Key"] = key
	}
	return c.env.Do(apitest.Request{Method: method, Path: path, Header: h, Body: body})
}

func countUsers(t *testing.T, env *apitest.Env, p directory.Principal) int {
	t.Helper()
	page, err := env.Svc.ListUsers(t.Context(), p, directory.UserQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Users)
}

// TestIdempotentCreate: for each dialect's create, a retry with the same
// key replays the first response byte for byte, marked replayed, and
// creates no second user, also under --unique none where a duplicate
// would otherwise succeed; another body with the key is 422; the key
// scoped to another credential or route is independent; an over-long
// key is 400; after 24 hours the key is forgotten and pruned.
func TestIdempotentCreate(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env, c := newIdemEnv(t, backend, directory.UniquePolicy{})
		p := env.Creds.Principal()
		cred, sec, err := env.Svc.CreateCredential(t.Context(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		other := newClient(t, env.Env, apitest.Creds{Tenant: env.Creds.Tenant, ClientID: cred.ClientID, Secret: sec})
		for _, cr := range idemCreates(1) {
			key := "key-" + cr.dialect
			before := countUsers(t, env.Env, p)
			first := c.doKey(cr.dialect, "POST", cr.path, key, cr.body)
			if first.Status/100 != 2 || first.Header.Get("Idempotent-Replayed") != "" {
				t.Fatalf("%s first create: %d %s (replayed %q)", cr.dialect, first.Status, first.Body, first.Header.Get("Idempotent-Replayed"))
			}
			again := c.doKey(cr.dialect, "POST", cr.path, key, cr.body)
			if again.Status != first.Status || !bytes.Equal(again.Body, first.Body) || again.Header.Get("Idempotent-Replayed") != "true" ||
				again.Header.Get("Content-Type") != first.Header.Get("Content-Type") {
				t.Errorf("%s replay: %d %s (replayed %q), want %d %s", cr.dialect, again.Status, again.Body,
					again.Header.Get("Idempotent-Replayed"), first.Status, first.Body)
			}
			if n := countUsers(t, env.Env, p); n != before+1 {
				t.Errorf("%s: %d users after a replayed create, want %d", cr.dialect, n, before+1)
			}
			changed := c.doKey(cr.dialect, "POST", cr.path, key, strings.Replace(cr.body, "@example", "x@example", 1)+" ")
			if changed.Status != http.StatusUnprocessableEntity || changed.Body[0] != '{' {
				t.Errorf("%s same key, other body: %d %s, want 422", cr.dialect, changed.Status, changed.Body)
			}
			long := c.doKey(cr.dialect, "POST", cr.path, strings.Repeat("k", 256), cr.body)
			if long.Status != http.StatusBadRequest || !bytes.Contains(long.Body, []byte("Idempotency-Key")) {
				t.Errorf("%s 256-character key: %d %s, want 400 naming the header", cr.dialect, long.Status, long.Body)
			}
			// Another credential of the tenant: its own key space. The
			// body is the first one's, so under policy none it is a
			// second user, not a replay.
			if cr.dialect != "entrust" && cr.dialect != "cl2c" && cr.dialect != "scim" { // unique usernames
				r := other.doKey(cr.dialect, "POST", cr.path, key, cr.body)
				if r.Status/100 != 2 || r.Header.Get("Idempotent-Replayed") != "" {
					t.Errorf("%s other credential, same key: %d %s (replayed %q), want a fresh create", cr.dialect, r.Status, r.Body, r.Header.Get("Idempotent-Replayed"))
				}
			}
		}
		// Another route with the same key is independent: Truv's key on
		// Ownli's create creates a user.
		before := countUsers(t, env.Env, p)
		ow := idemCreates(2)[3]
		if r := c.doKey("ownli", "POST", ow.path, "key-truv", ow.body); r.Status/100 != 2 || r.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("same key, other route: %d %s", r.Status, r.Body)
		}
		if n := countUsers(t, env.Env, p); n != before+1 {
			t.Errorf("users %d, want %d", n, before+1)
		}

		// 24 hours on, the key is forgotten: another body is a new create,
		// not a 422, and the purge removes the old records.
		env.Clock.Advance(directory.IdempotencyTTL + time.Second)
		tr := idemCreates(3)[0]
		if r := c.doKey("truv", "POST", tr.path, "key-truv", tr.body); r.Status != http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("expired key, new body: %d %s, want 201", r.Status, r.Body)
		}
		n, err := env.Svc.PurgeExpiredIdempotencyKeys(t.Context())
		if err != nil || n < 5 {
			t.Errorf("purge: %d %v, want at least the 5 first keys", n, err)
		}
		if n, _ := env.Svc.PurgeExpiredIdempotencyKeys(t.Context()); n != 0 {
			t.Errorf("second purge removed %d", n)
		}
		// The SSN Truv's create sent (and echoed, and the key's record
		// keeps) is nowhere in the database's bytes in clear.
		assertNotInDB(t, backend, env.url, "123-45-6789", "123456789")
	})
}

// assertNotInDB fails if any of needles is in the database's bytes: the
// SQLite file and its WAL, or every row of PostgreSQL's tables as text.
func assertNotInDB(t *testing.T, backend, url string, needles ...string) {
	t.Helper()
	var hay []byte
	switch backend {
	case "sqlite":
		path := strings.TrimPrefix(url, "sqlite:")
		for _, f := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(f)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			hay = append(hay, b...)
		}
		if len(hay) == 0 {
			t.Fatal("no database bytes read")
		}
	case "postgres":
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, table := range []string{"users", "user_values", "user_claims", "audit_log", "idempotency_keys"} {
			rows, err := db.QueryContext(context.Background(), `SELECT t::text FROM `+table+` t`)
			if err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			for rows.Next() {
				var row string
				if err := rows.Scan(&row); err != nil {
					t.Fatal(err)
				}
				hay = append(hay, row...)
			}
			rows.Close()
		}
	}
	for _, n := range needles {
		if bytes.Contains(hay, []byte(n)) {
			t.Errorf("%q found in the %s database", n, backend)
		}
	}
}

// TestIdempotentConcurrent races one key through one route: exactly one
// user is written, and every other answer is a 409 (in flight) or a
// replay of the winner's response.
func TestIdempotentConcurrent(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env, c := newIdemEnv(t, backend, directory.UniquePolicy{})
		cr := idemCreates(1)[0]
		const n = 12
		resps := make([]*apitest.Response, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { resps[i] = c.doKey(cr.dialect, "POST", cr.path, "race", cr.body) })
		}
		wg.Wait()
		var created []byte
		var wins, replays, busy int
		for _, r := range resps {
			switch {
			case r.Status == http.StatusCreated && r.Header.Get("Idempotent-Replayed") == "":
				wins++
				created = r.Body
			case r.Status == http.StatusCreated:
				replays++
			case r.Status == http.StatusConflict && bytes.Contains(r.Body, []byte("idempotency_key_in_use")):
				busy++
			default:
				t.Errorf("unexpected answer %d %s", r.Status, r.Body)
			}
		}
		if wins != 1 {
			t.Fatalf("%d first creates, want 1 (%d replays, %d in flight)", wins, replays, busy)
		}
		for _, r := range resps {
			if r.Status == http.StatusCreated && !bytes.Equal(r.Body, created) {
				t.Errorf("replay %s differs from %s", r.Body, created)
			}
		}
		if got := countUsers(t, env.Env, env.Creds.Principal()); got != 1 {
			t.Errorf("%d users, want 1", got)
		}
		t.Logf("%s: 1 create, %d replays, %d in flight", backend, replays, busy)
	})
}

// requestHash is the hash httpapi.Idempotent computes.
func requestHash(method, path, body string) []byte {
	h := sha256.Sum256([]byte(method + "\n" + path + "\n\n" + body))
	return h[:]
}

// TestIdempotencyErrorsEveryDialect: each dialect answers an over-long
// key (400), a key reused with another body (422) and a key whose first
// request is still running (409) in its own error format, on its update
// route too; and a bulk route refuses the header.
func TestIdempotencyErrorsEveryDialect(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env, c := newIdemEnv(t, backend, directory.DefaultUniquePolicy)
		p := env.Creds.Principal()
		// Each dialect's error body has a marker of its format.
		format := map[string]string{
			"truv": `"error":{"code":`, "entrust": `"errorCode":`, "cl2c": `"errorId":`, "ownli": `"error_code":`,
			"scim": `"urn:ietf:params:scim:api:messages:2.0:Error"`,
		}
		cl2cProblem := `"traceId":` // CL2C's 400 is an RFC 7807 problem
		for _, cr := range idemCreates(5) {
			want := format[cr.dialect]
			r := c.doKey(cr.dialect, "POST", cr.path, "kéy", cr.body)
			want400 := want
			if cr.dialect == "cl2c" {
				want400 = cl2cProblem
			}
			if r.Status != 400 || !strings.Contains(string(r.Body), want400) {
				t.Errorf("%s non-ASCII key: %d %s", cr.dialect, r.Status, r.Body)
			}
			// Hold the key as a running first request would.
			claim, _, err := env.Svc.BeginIdempotent(t.Context(), p, "POST", cr.path,
				"held-"+cr.dialect, requestHash("POST", cr.path, cr.body))
			if err != nil || claim == nil {
				t.Fatalf("hold key: %v", err)
			}
			r = c.doKey(cr.dialect, "POST", cr.path, "held-"+cr.dialect, cr.body)
			if r.Status != 409 || !strings.Contains(string(r.Body), want) || r.Header.Get("Retry-After") == "" {
				t.Errorf("%s key in flight: %d %s, want 409 with Retry-After", cr.dialect, r.Status, r.Body)
			}
			r = c.doKey(cr.dialect, "POST", cr.path, "held-"+cr.dialect, cr.body+" ")
			if r.Status != 422 || !strings.Contains(string(r.Body), want) {
				t.Errorf("%s key with another body: %d %s, want 422", cr.dialect, r.Status, r.Body)
			}
			// Released (its request wrote nothing), the key runs afresh.
			if err := env.Svc.FinishIdempotent(t.Context(), claim, nil); err != nil {
				t.Fatal(err)
			}
			if r := c.doKey(cr.dialect, "POST", cr.path, "held-"+cr.dialect, cr.body); r.Status/100 != 2 {
				t.Errorf("%s after release: %d %s", cr.dialect, r.Status, r.Body)
			}
		}
		bulk := []struct{ dialect, path, body string }{
			{"scim", "/scim/v2/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[]}`},
			{"entrust", "/api/web/v3/users/multiple", `[]`},
		}
		for _, b := range bulk {
			r := c.doKey(b.dialect, "POST", b.path, "bulk", b.body)
			if r.Status != 400 || !strings.Contains(string(r.Body), format[b.dialect]) {
				t.Errorf("%s bulk with a key: %d %s, want 400", b.dialect, r.Status, r.Body)
			}
		}
	})
}

// TestIdempotentUpdate: a retried update with its key replays the first
// response and does not bump the version again.
func TestIdempotentUpdate(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env, c := newIdemEnv(t, backend, directory.DefaultUniquePolicy)
		cr := idemCreates(7)[4] // SCIM
		r := c.doKey("scim", "POST", cr.path, "", cr.body)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		id := r.Map(t)["id"].(string)
		patch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Pat"}]}`
		first := c.doKey("scim", "PATCH", "/scim/v2/Users/"+id, "patch-1", patch)
		again := c.doKey("scim", "PATCH", "/scim/v2/Users/"+id, "patch-1", patch)
		if first.Status != 200 || again.Status != 200 || !bytes.Equal(first.Body, again.Body) ||
			again.Header.Get("Idempotent-Replayed") != "true" || again.Header.Get("ETag") != first.Header.Get("ETag") {
			t.Fatalf("replayed patch: %d %s / %d %s", first.Status, first.Body, again.Status, again.Body)
		}
		u, err := env.Svc.GetUser(t.Context(), env.Creds.Principal(), id)
		if err != nil || u.Version != 2 {
			t.Errorf("version after a replayed update: %d %v, want 2", u.Version, err)
		}
	})
}
