package reliability

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/proctest"
)

// numInstances is how many `roster serve` processes share the database.
const numInstances = 3

// TestSeveralInstances checks Invariant 5 (several instances on one
// PostgreSQL database behave as one service) with three `roster serve`
// processes: creates racing for one e-mail, or one username, through
// different instances and dialects give exactly one user and a 409 in each
// other dialect's own format; one Idempotency-Key raced through every
// instance gives one user; Entrust and Ownli session tokens issued by
// one instance work on the others; and a revoked credential fails on every
// instance once the credential cache's TTL has passed. SQLite is one process by design, so
// this test runs on PostgreSQL only (and fails under CI without it, as
// internal/testdb does).
func TestSeveralInstances(t *testing.T) {
	env := newBackendEnv(t, "postgres")
	cred := env.NewTenant(t, "race", "email")
	var spare proctest.Credential // a second credential of the tenant, never revoked
	if out := env.Run(t, "credential", "create", "--tenant", "race", "--json"); json.Unmarshal([]byte(out), &spare) != nil || spare.Secret == "" {
		t.Fatalf("credential create --json: %q", out)
	}
	ins := make([]*proctest.Instance, numInstances)
	for i := range ins {
		ins[i] = env.Serve(t, fmt.Sprintf("instance %d", i))
	}
	client := &http.Client{Timeout: 10 * time.Second}
	ctx := t.Context()
	db := env.openDB(t)

	// Entrust tokens, each issued by the instance after the one it is used
	// on: the race below already crosses instances for authentication.
	entrustTok := make([]string, numInstances)
	for i := range ins {
		entrustTok[i] = entrustToken(t, client, ins[(i+1)%numInstances], cred)
	}

	// race sends the requests at once, request i to instance i%3, and
	// returns the responses in order.
	race := func(reqs []dialectReq) []response {
		out := make([]response, len(reqs))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, r := range reqs {
			wg.Go(func() {
				<-start
				out[i] = do(ctx, client, ins[i%numInstances].Base, r)
			})
		}
		close(start)
		wg.Wait()
		return out
	}
	// judge checks that exactly one response is a 2xx and every other a
	// conflict in its dialect's format naming field; it returns the
	// winner's dashed id.
	var races, raced, conflicts int
	judge := func(t *testing.T, dialects []string, field string, value string, resps []response) string {
		t.Helper()
		races++
		raced += len(resps)
		conflicts += len(resps) - 1
		winner := ""
		var wins []string
		for i, r := range resps {
			if r.Err == nil && r.Status/100 == 2 {
				wins = append(wins, dialects[i])
				winner = createdID(dialects[i], r)
			}
		}
		if len(wins) != 1 {
			t.Fatalf("%s %q raced through %d requests: %d succeeded (%v), want exactly 1", field, value, len(resps), len(wins), wins)
		}
		for i, r := range resps {
			if r.Status/100 == 2 {
				continue
			}
			if err := checkConflict(dialects[i], field, value, winner, r); err != nil {
				t.Errorf("%s via instance %d: %v\n%d %s", dialects[i], i%numInstances, err, r.Status, r.Body)
			}
		}
		return winner
	}

	var emailWinner string
	t.Run("same e-mail", func(t *testing.T) {
		dialects := []string{"truv", "cl2c", "ownli", "scim", "entrust"}
		for round := range 10 {
			email := fmt.Sprintf("race%d@example.com", round)
			var reqs []dialectReq
			var names []string
			for i := range 2 * len(dialects) {
				d := dialects[i%len(dialects)]
				names = append(names, d)
				login := fmt.Sprintf("e%dr%d", round, i) // distinct: only the e-mail collides
				reqs = append(reqs, createIn(d, cred, entrustTok[i%numInstances], login, email, 100*round+i))
			}
			emailWinner = judge(t, names, "email", email, race(reqs))
			var n int
			var id string
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(id) FROM users WHERE tenant_id = $1 AND email_norm = $2`,
				cred.TenantID, email).Scan(&n, &id); err != nil {
				t.Fatal(err)
			}
			if n != 1 || id != emailWinner {
				t.Errorf("e-mail %s: %d users in the database (first %s), want 1: %s", email, n, id, emailWinner)
			}
		}
	})

	t.Run("same username", func(t *testing.T) {
		dialects := []string{"cl2c", "scim", "entrust"}
		for round := range 10 {
			login := fmt.Sprintf("racer%d", round)
			var reqs []dialectReq
			var names []string
			for i := range 3 * len(dialects) {
				d := dialects[i%len(dialects)]
				names = append(names, d)
				reqs = append(reqs, createIn(d, cred, entrustTok[i%numInstances], login, fmt.Sprintf("u%dr%d@example.com", round, i), 1000+100*round+i))
			}
			winner := judge(t, names, "username", login, race(reqs))
			var n int
			var id string
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(id) FROM users WHERE tenant_id = $1 AND username_norm = $2`,
				cred.TenantID, login).Scan(&n, &id); err != nil {
				t.Fatal(err)
			}
			if n != 1 || id != winner {
				t.Errorf("username %s: %d users in the database (first %s), want 1: %s", login, n, id, winner)
			}
		}
	})
	if emailWinner == "" {
		t.FailNow()
	}
	t.Logf("%d races of one e-mail or username through %d instances: %d requests, %d users created, %d conflicts in the dialects' formats",
		races, numInstances, raced, races, conflicts)

	// readAs are the reads of one user with each credential form: the
	// tokens are those issued for the revocation check below.
	readAs := func(t *testing.T, id string, c proctest.Credential, entrust, ownli string) map[string]dialectReq {
		return map[string]dialectReq{
			"truv headers":      {"GET", "/v1/users/" + strings.ReplaceAll(id, "-", "") + "/", proctest.TruvAuth(c), ""},
			"cl2c api key":      {"GET", "/v1/cl2c/users/" + id, proctest.CL2CAuth(c), ""},
			"ownli headers":     {"GET", "/api/users/" + id, proctest.OwnliAuth(c), ""},
			"ownli token":       {"GET", "/api/users/" + id, proctest.Bearer(ownli), ""},
			"entrust token":     {"GET", "/api/web/v3/users/" + id, proctest.Bearer(entrust), ""},
			"scim bearer":       {"GET", "/scim/v2/Users/" + id, proctest.SCIMAuth(c), ""},
			"entrust (spare)":   {"GET", "/api/web/v3/users/" + id, proctest.Bearer(entrustToken(t, client, ins[0], spare)), ""},
			"scim (spare)":      {"GET", "/scim/v2/Users/" + id, proctest.SCIMAuth(spare), ""},
			"truv (spare)":      {"GET", "/v1/users/" + strings.ReplaceAll(id, "-", "") + "/", proctest.TruvAuth(spare), ""},
			"ownli tok (spare)": {"GET", "/api/users/" + id, proctest.Bearer(ownliToken(t, client, ins[1], spare)), ""},
		}
	}

	t.Run("tokens work on every instance", func(t *testing.T) {
		for from := range ins {
			et := entrustToken(t, client, ins[from], cred)
			ot := ownliToken(t, client, ins[from], cred)
			for on := range ins {
				for name, req := range map[string]dialectReq{
					"entrust": {"GET", "/api/web/v3/users/" + emailWinner, proctest.Bearer(et), ""},
					"ownli":   {"GET", "/api/users/" + emailWinner, proctest.Bearer(ot), ""},
				} {
					if r := do(ctx, client, ins[on].Base, req); r.Status != http.StatusOK {
						t.Errorf("%s token from instance %d used on instance %d: %d %v %s, want 200", name, from, on, r.Status, r.Err, r.Body)
					}
				}
			}
		}
	})

	t.Run("one Idempotency-Key raced through every instance", func(t *testing.T) {
		// Per dialect, 9 creates with one key and one body, 3 per instance,
		// released together: one runs, each other is a replay of its
		// response (Idempotent-Replayed: true) or, while it runs, a 409
		// "in use" in the dialect's format. Then one retry per instance, after
		// the race, must be a replay.
		inUse := map[string]func(m map[string]any) bool{
			"truv": func(m map[string]any) bool {
				e, _ := m["error"].(map[string]any)
				return e["code"] == "idempotency_key_in_use"
			},
			"ownli": func(m map[string]any) bool { return m["error_code"] == "ERROR_IDEMPOTENCY_KEY_IN_USE" },
			"scim": func(m map[string]any) bool {
				schemas, _ := m["schemas"].([]any)
				return len(schemas) == 1 && schemas[0] == "urn:ietf:params:scim:api:messages:2.0:Error" && m["status"] == "409"
			},
		}
		for i, d := range []string{"truv", "ownli", "scim"} {
			login, email := "idem"+d, "idem-"+d+"@example.com"
			req := createIn(d, cred, "", login, email, 5000+i)
			req.Header = maps.Clone(req.Header)
			req.Header["Idempotency-Key"] = "race-" + d + "-0001"
			resps := race(slices.Repeat([]dialectReq{req}, 9))
			var firsts, replays, conflicts int
			ids := map[string]bool{}
			for j, r := range resps {
				replayed := r.Header.Get("Idempotent-Replayed") == "true"
				switch {
				case r.Err == nil && r.Status/100 == 2:
					ids[createdID(d, r)] = true
					if replayed {
						replays++
					} else {
						firsts++
					}
				case r.Err == nil && r.Status == http.StatusConflict && inUse[d](r.JSONMap()):
					conflicts++
				default:
					t.Errorf("%s, key raced, request %d on instance %d: %d %v %s, want 2xx or 409 key in use", d, j, j%numInstances, r.Status, r.Err, r.Body)
				}
			}
			if firsts != 1 || len(ids) != 1 {
				t.Errorf("%s: %d responses not marked as replays and %d user ids %v among the 2xx, want 1 and 1", d, firsts, len(ids), ids)
			}
			var n int
			var id string
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(id) FROM users WHERE tenant_id = $1 AND email_norm = $2`,
				cred.TenantID, email).Scan(&n, &id); err != nil {
				t.Fatal(err)
			}
			if n != 1 || !ids[id] {
				t.Errorf("%s: %d users with the raced key's e-mail (first %s), want 1 with the id answered %v", d, n, id, ids)
			}
			for k, in := range ins {
				r := do(ctx, client, in.Base, req)
				if r.Status/100 != 2 || r.Header.Get("Idempotent-Replayed") != "true" || createdID(d, r) != id {
					t.Errorf("%s: retry on instance %d after the race: %d %v replayed=%q %s, want a replay of %s",
						d, k, r.Status, r.Err, r.Header.Get("Idempotent-Replayed"), r.Body, id)
				}
			}
			t.Logf("%s: one key through %d instances, 9 racing requests: 1 ran, %d replays, %d answered 409 in use; %d later retries replayed",
				d, numInstances, replays, conflicts, numInstances)
		}
	})

	t.Run("revoked credential fails on every instance once the credential cache TTL has passed", func(t *testing.T) {
		// Tokens of the credential, issued by different instances.
		reqs := readAs(t, emailWinner, cred, entrustToken(t, client, ins[2], cred), ownliToken(t, client, ins[0], cred))
		// Every form works on every instance just before the revocation,
		// so any cache of a positive answer would be warm.
		for i, in := range ins {
			for name, req := range reqs {
				if r := do(ctx, client, in.Base, req); r.Status != http.StatusOK {
					t.Fatalf("before revoke, %s on instance %d: %d %v %s, want 200", name, i, r.Status, r.Err, r.Body)
				}
			}
		}
		env.Run(t, "credential", "revoke", cred.ClientID)
		revoked := time.Now()
		// The CLI is another instance: a server that verified the secret
		// within the TTL may answer from its cache until it ends
		// (docs/SECURITY.md#credential-cache). Tokens are never cached.
		time.Sleep(credentialCacheTTL)
		forms := 0
		for i, in := range ins {
			for name, req := range reqs {
				want := http.StatusUnauthorized
				if strings.Contains(name, "spare") {
					want = http.StatusOK // revocation is of one credential, not the tenant
				} else if i == 0 {
					forms++
				}
				if r := do(ctx, client, in.Base, req); r.Status != want {
					t.Errorf("after revoke, first %s request on instance %d: %d %v %s, want %d", name, i, r.Status, r.Err, r.Body, want)
				}
			}
		}
		t.Logf("after `roster credential revoke` returned and the %v credential cache TTL passed, the first request of each of %d credential forms on each of %d instances answered 401 (checked within %v)", credentialCacheTTL,
			forms, numInstances, time.Since(revoked).Round(time.Millisecond))
	})
}

// createIn is a create of a user with the username (where the dialect has
// one) and e-mail given, in dialect d. entrustTok authenticates Entrust;
// n makes the phone Ownli requires distinct (the tenant's policy leaves
// phones not unique, but only the raced identifier should collide).
func createIn(d string, c proctest.Credential, entrustTok, login, email string, n int) dialectReq {
	switch d {
	case "truv":
		return dialectReq{"POST", "/v1/users/", proctest.TruvAuth(c), fmt.Sprintf(
			`{"external_user_id":%q,"first_name":"Race","last_name":%q,"email":%q}`, login, login, email)}
	case "cl2c":
		return dialectReq{"POST", "/v1/cl2c/user", proctest.CL2CAuth(c), fmt.Sprintf(
			`{"firstName":"Race","lastName":%q,"email":%q,"userName":%q}`, login, email, login)}
	case "ownli":
		return dialectReq{"POST", "/api/users", proctest.OwnliAuth(c), fmt.Sprintf(
			`{"firstName":"Race","lastName":%q,"email":%q,"phone":"+1415555%04d","address":{"state":"CA"}}`, login, email, n%10000)}
	case "scim":
		return dialectReq{"POST", "/scim/v2/Users", proctest.SCIMAuth(c), fmt.Sprintf(
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"name":{"givenName":"Race","familyName":%q},"emails":[{"value":%q,"primary":true}]}`,
			login, login, email)}
	case "entrust":
		return dialectReq{"POST", "/api/web/v3/users", proctest.Bearer(entrustTok), fmt.Sprintf(
			`{"userId":%q,"firstName":"Race","lastName":%q,"email":%q}`, login, login, email)}
	}
	panic("unknown dialect " + d)
}

// checkConflict reports whether r is the 409 dialect d answers when field
// ("email" or "username") with value is held by the user winner (dashed
// id), in the body that dialect documents (see each dialect's golden
// files).
func checkConflict(d, field, value, winner string, r response) error {
	if r.Err != nil {
		return fmt.Errorf("no answer: %w", r.Err)
	}
	if r.Status != http.StatusConflict {
		return fmt.Errorf("status %d, want 409", r.Status)
	}
	m := r.JSONMap()
	if m == nil {
		return fmt.Errorf("body is not a JSON object")
	}
	ct := r.Header.Get("Content-Type")
	switch d {
	case "truv":
		e, _ := m["error"].(map[string]any)
		extra, _ := e["extra"].(map[string]any)
		if e["code"] != "conflict" || extra["field"] != field || extra["existing_user_id"] != directory.HexID(winner) {
			return fmt.Errorf("want error.code conflict, extra.field %s, extra.existing_user_id %s", field, directory.HexID(winner))
		}
	case "cl2c":
		want := "Email " + value + " is already registered."
		if field == "username" {
			want = "Username " + value + " is already taken."
		}
		msgs, _ := m["messages"].([]any)
		if m["statusCode"] != float64(409) || len(msgs) != 1 || msgs[0] != want || m["exception"] != want {
			return fmt.Errorf("want statusCode 409 and messages [%q]", want)
		}
	case "ownli":
		if m["error_code"] != "ERROR_USER_EXISTS" {
			return fmt.Errorf("want error_code ERROR_USER_EXISTS")
		}
	case "scim":
		schemas, _ := m["schemas"].([]any)
		if !strings.HasPrefix(ct, "application/scim+json") || len(schemas) != 1 ||
			schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || m["status"] != "409" || m["scimType"] != "uniqueness" {
			return fmt.Errorf("want an application/scim+json Error with status \"409\" and scimType uniqueness")
		}
	case "entrust":
		want := "duplicate_email"
		if field == "username" {
			want = "duplicate_user_id"
		}
		if m["errorCode"] != want {
			return fmt.Errorf("want errorCode %s", want)
		}
	default:
		return fmt.Errorf("unknown dialect %s", d)
	}
	if d != "scim" && !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("Content-Type %q, want application/json", ct)
	}
	return nil
}

// entrustToken authenticates c with Entrust's admin API on in.
func entrustToken(t *testing.T, c *http.Client, in *proctest.Instance, cr proctest.Credential) string {
	t.Helper()
	r := do(t.Context(), c, in.Base, dialectReq{"POST", "/api/web/v1/adminapi/authenticate",
		map[string]string{"Content-Type": "application/json"},
		fmt.Sprintf(`{"applicationId":%q,"sharedSecret":%q}`, cr.ClientID, cr.Secret)})
	tok, _ := r.JSONMap()["authToken"].(string)
	if r.Status != http.StatusOK || tok == "" {
		t.Fatalf("entrust authenticate on %s: %d %v %s", in.Name, r.Status, r.Err, r.Body)
	}
	return tok
}

// ownliToken gets an Ownli admin token for c on in.
func ownliToken(t *testing.T, c *http.Client, in *proctest.Instance, cr proctest.Credential) string {
	t.Helper()
	r := do(t.Context(), c, in.Base, dialectReq{"POST", "/api/auth/token",
		map[string]string{"Content-Type": "application/json"},
		fmt.Sprintf(`{"clientId":%q,"clientSecret":%q,"partnerId":%q}`, cr.ClientID, cr.Secret, cr.Tenant)})
	tok, _ := r.JSONMap()["access_token"].(string)
	if r.Status != http.StatusOK || tok == "" {
		t.Fatalf("ownli token on %s: %d %v %s", in.Name, r.Status, r.Err, r.Body)
	}
	return tok
}
