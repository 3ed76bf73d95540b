package ownli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/dialect/ownli"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// seedUser is the create example of Ownli's "Create a user" page, filled
// with the values its field descriptions show.
const seedUser = `{
  "firstName": "Jane",
  "lastName": "Doe",
  "email": "jane.doe@example.com",
  "phone": "+15556667777",
  "address": {
    "addressLine1": "1 Main St",
    "addressLine2": "Apt 2",
    "city": "Denver",
    "state": "CO",
    "country": "US",
    "zip": "80202"
  }
}`

// otherUser differs from seedUser in e-mail and phone.
const otherUser = `{"firstName":"John","lastName":"Roe","email":"john@example.com","phone":"+15556667778",
  "address":{"state":"CA"}}`

func newEnv(t testing.TB, backend string) *apitest.Env {
	t.Helper()
	return apitest.New(t, backend, func(mux *http.ServeMux, svc *directory.Service) {
		ownli.New(svc).Register(mux)
	})
}

// legacy returns Ownli's legacy credential headers for c, spelled as the
// create page spells them.
func legacy(c apitest.Creds) map[string]string {
	return map[string]string{"partnerId": c.Tenant.Name, "clientId": c.ClientID, "clientSecret": c.Secret}
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// volatileRE finds the random values golden files must not pin.
var volatileRE = regexp.MustCompile(`"(partnerCode|access_token)":\s*"([^"]+)"`)

// golden pins r, replacing partner codes and tokens by numbered
// placeholders (ids are numbered by apitest.Normalize).
func golden(t *testing.T, name string, r *apitest.Response) {
	t.Helper()
	var repl []string
	seen := map[string]bool{}
	for _, m := range volatileRE.FindAllSubmatch(r.Body, -1) {
		v := string(m[2])
		if !seen[v] {
			seen[v] = true
			repl = append(repl, `"`+v+`"`, fmt.Sprintf(`"<%s-%d>"`, m[1], len(seen)))
		}
	}
	apitest.Golden(t, "ownli/"+name, r, repl...)
}

// do sends a request and checks the status.
func do(t *testing.T, env *apitest.Env, want int, req apitest.Request) *apitest.Response {
	t.Helper()
	r := env.Do(req)
	if r.Status != want {
		t.Fatalf("%s %s: got %d %s, want %d\n%s", req.Method, req.Path, r.Status, r.Body, want, lastLog(env))
	}
	return r
}

type user struct {
	ID          string `json:"id"`
	FirstName   string `json:"firstName"`
	Email       string `json:"email"`
	PartnerCode string `json:"partnerCode"`
	Updated     string `json:"updated"`
}

func decodeUser(t *testing.T, r *apitest.Response) user {
	t.Helper()
	var u user
	r.JSON(t, &u)
	if u.ID == "" {
		t.Fatalf("no id in %s", r.Body)
	}
	return u
}

// TestUserLifecycle runs every route through its main flow and pins each
// answer, on both backends (one set of golden files for both).
func TestUserLifecycle(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		h := legacy(env.Creds)

		r := do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: seedUser})
		golden(t, "create", r)
		jane := decodeUser(t, r)
		if !regexp.MustCompile(`^[0-9A-Z]{8}$`).MatchString(jane.PartnerCode) {
			t.Errorf("partnerCode: got %q, want 8 base32 characters", jane.PartnerCode)
		}

		r = do(t, env, 409, apitest.Request{Method: "POST", Path: "/api/users", Header: h,
			Body: `{"firstName":"J","lastName":"D","email":"JANE.DOE@example.com","phone":"+15550001111","address":{"state":"NY"}}`})
		golden(t, "create_duplicate_email", r)
		r = do(t, env, 409, apitest.Request{Method: "POST", Path: "/api/users?returnExistingUserIfExists=false", Header: h,
			Body: `{"firstName":"J","lastName":"D","phone":"+15556667777","address":{"state":"NY"}}`})
		golden(t, "create_duplicate_phone", r)

		// returnExistingUserIfExists=true: the existing user, unchanged.
		r = do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/users?returnExistingUserIfExists=true", Header: h,
			Body: `{"firstName":"Other","lastName":"Name","email":"jane.doe@example.com","phone":"+15550002222","address":{"state":"NY"}}`})
		golden(t, "create_return_existing", r)
		if got := decodeUser(t, r); got != jane {
			t.Errorf("returnExisting: got %+v, want the stored %+v", got, jane)
		}

		r = do(t, env, 200, apitest.Request{Method: "GET", Path: "/api/users/" + jane.ID, Header: h})
		golden(t, "get", r)
		// The 32-hex form of the id (Truv's) names the same user.
		do(t, env, 200, apitest.Request{Method: "GET", Path: "/api/users/" + strings.ReplaceAll(jane.ID, "-", ""), Header: h})

		r = do(t, env, 200, apitest.Request{Method: "PUT", Path: "/api/users/" + jane.ID, Header: h, Body: `{
			"firstName": "Janet", "email": null, "isEmailVerified": true, "customField1": "blue",
			"adminNote": "called support", "tosAnswer": "Accepted",
			"address": {"addressLine1": "9 Elm St", "city": "Austin", "state": "TX", "zip": "73301"}}`})
		golden(t, "update", r)

		john := decodeUser(t, do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: otherUser}))
		r = do(t, env, 409, apitest.Request{Method: "PUT", Path: "/api/users/" + john.ID, Header: h, Body: `{"phone":"+15556667777"}`})
		golden(t, "update_duplicate", r)

		r = do(t, env, 200, apitest.Request{Method: "GET", Path: "/api/users", Header: h})
		golden(t, "list", r)
		r = do(t, env, 200, apitest.Request{Method: "GET", Path: "/api/users?page=2&pageSize=1", Header: h})
		golden(t, "list_page2", r)
		r = do(t, env, 200, apitest.Request{Method: "GET", Path: "/api/users?email=JOHN@example.com", Header: h})
		golden(t, "list_by_email", r)
		r = do(t, env, 200, apitest.Request{Method: "GET", Path: "/api/users?phone=%2B15556667777", Header: h})
		if !bytes.Contains(r.Body, []byte(jane.ID)) || bytes.Contains(r.Body, []byte(john.ID)) {
			t.Errorf("list by phone: got %s, want only %s", r.Body, jane.ID)
		}

		r = do(t, env, 204, apitest.Request{Method: "DELETE", Path: "/api/users/" + jane.ID, Header: h})
		golden(t, "delete", r)
		r = do(t, env, 404, apitest.Request{Method: "GET", Path: "/api/users/" + jane.ID, Header: h})
		golden(t, "get_not_found", r)
		r = do(t, env, 404, apitest.Request{Method: "PUT", Path: "/api/users/" + jane.ID, Header: h, Body: `{"firstName":"X"}`})
		golden(t, "update_not_found", r)
		r = do(t, env, 404, apitest.Request{Method: "DELETE", Path: "/api/users/" + jane.ID, Header: h})
		golden(t, "delete_not_found", r)

		// The freed e-mail and phone can be used again.
		do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: seedUser})

		if strings.Contains(env.Logs.String(), env.Creds.Secret) {
			t.Error("the access log contains the client secret")
		}
	})
}

// TestTokenFlow covers /api/auth/token, bearer use, scopes and expiry, on
// both backends.
func TestTokenFlow(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		c := env.Creds
		tokenBody := func(scope string) string {
			return fmt.Sprintf(`{"clientId":%q,"clientSecret":%q,"partnerId":%q%s}`, c.ClientID, c.Secret, c.Tenant.Name, scope)
		}

		r := do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/auth/token", Body: tokenBody(`,"scope":"admin"`)})
		golden(t, "token_admin", r)
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control: got %q, want no-store", got)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		r.JSON(t, &tok)
		admin := tok.AccessToken

		r = do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/auth/token", Body: tokenBody(``)})
		golden(t, "token_default_scope", r)

		r = do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/auth/token", Body: tokenBody(`,"scope":"user"`)})
		golden(t, "token_user", r)
		r.JSON(t, &tok)
		userTok := tok.AccessToken

		jane := decodeUser(t, do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/users", Header: bearer(admin), Body: seedUser}))
		do(t, env, 200, apitest.Request{Method: "GET", Path: "/api/users", Header: bearer(admin)})
		// The scheme is case-insensitive (RFC 7235).
		do(t, env, 200, apitest.Request{Method: "GET", Path: "/api/users", Header: map[string]string{"authorization": "bearer " + admin}})

		// A user token reads and updates one user; it cannot create, list or delete.
		do(t, env, 200, apitest.Request{Method: "GET", Path: "/api/users/" + jane.ID, Header: bearer(userTok)})
		do(t, env, 200, apitest.Request{Method: "PUT", Path: "/api/users/" + jane.ID, Header: bearer(userTok), Body: `{"lastName":"Dee"}`})
		r = do(t, env, 403, apitest.Request{Method: "POST", Path: "/api/users", Header: bearer(userTok), Body: otherUser})
		golden(t, "user_scope_create", r)
		r = do(t, env, 403, apitest.Request{Method: "GET", Path: "/api/users", Header: bearer(userTok)})
		golden(t, "user_scope_list", r)
		do(t, env, 403, apitest.Request{Method: "DELETE", Path: "/api/users/" + jane.ID, Header: bearer(userTok)})

		// A bad token is 401 even beside valid legacy headers.
		h := legacy(c)
		h["Authorization"] = "Bearer nope"
		r = do(t, env, 401, apitest.Request{Method: "GET", Path: "/api/users", Header: h})
		golden(t, "bad_token", r)
		if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="ownli"` {
			t.Errorf("WWW-Authenticate: got %q", got)
		}

		// Another instance on the same database accepts the token.
		other := directory.NewService(env.Store, directory.Options{Now: env.Clock.Now})
		mux := http.NewServeMux()
		ownli.New(other).Register(mux)
		srv := httptest.NewServer(httpapi.Middleware(mux, slog.New(slog.DiscardHandler), 0))
		defer srv.Close()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/api/users/"+jane.ID, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("second instance: got %d, want 200", resp.StatusCode)
		}

		// Tokens expire after one hour.
		env.Clock.Advance(time.Hour)
		r = do(t, env, 401, apitest.Request{Method: "GET", Path: "/api/users", Header: bearer(admin)})
		golden(t, "expired_token", r)

		// Revoking the credential kills its tokens and its headers.
		r = do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/auth/token", Body: tokenBody(``)})
		r.JSON(t, &tok)
		if err := env.Svc.RevokeCredential(t.Context(), c.ClientID); err != nil {
			t.Fatal(err)
		}
		do(t, env, 401, apitest.Request{Method: "GET", Path: "/api/users", Header: bearer(tok.AccessToken)})
		do(t, env, 401, apitest.Request{Method: "GET", Path: "/api/users", Header: legacy(c)})

		logs := env.Logs.String()
		for _, s := range []string{c.Secret, admin, userTok} {
			if strings.Contains(logs, s) {
				t.Error("the access log contains a secret or token")
			}
		}
	})
}

// TestTenantIsolation: another partner's users are not found on any route,
// and uniqueness is per partner.
func TestTenantIsolation(t *testing.T) {
	env := newEnv(t, "sqlite")
	h := legacy(env.Creds)
	jane := decodeUser(t, do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: seedUser}))

	globex := env.NewTenant("globex", directory.DefaultUniquePolicy)
	g := legacy(globex)
	for _, req := range []apitest.Request{
		{Method: "GET", Path: "/api/users/" + jane.ID, Header: g},
		{Method: "PUT", Path: "/api/users/" + jane.ID, Header: g, Body: `{"firstName":"X"}`},
		{Method: "DELETE", Path: "/api/users/" + jane.ID, Header: g},
	} {
		do(t, env, 404, req)
	}
	r := do(t, env, 200, apitest.Request{Method: "GET", Path: "/api/users", Header: g})
	if bytes.Contains(r.Body, []byte(jane.ID)) {
		t.Errorf("globex lists acme's user: %s", r.Body)
	}
	// returnExisting does not find another partner's user either.
	r = do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/users?returnExistingUserIfExists=true", Header: g, Body: seedUser})
	if decodeUser(t, r).ID == jane.ID {
		t.Error("globex got acme's user back")
	}
	// A globex credential with partnerId acme is refused.
	g["partnerId"] = env.Creds.Tenant.Name
	do(t, env, 401, apitest.Request{Method: "GET", Path: "/api/users", Header: g})
	do(t, env, 200, apitest.Request{Method: "GET", Path: "/api/users/" + jane.ID, Header: h})
}

// TestNonUniquePolicy: on a tenant whose policy does not make e-mail or
// phone unique, duplicates are created, and returnExistingUserIfExists
// still returns a user found by e-mail or phone.
func TestNonUniquePolicy(t *testing.T) {
	env := newEnv(t, "sqlite")
	h := legacy(env.NewTenant("loose", directory.UniquePolicy{}))
	first := decodeUser(t, do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: seedUser}))
	second := decodeUser(t, do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: seedUser}))
	if first.ID == second.ID {
		t.Fatal("two creates returned one user")
	}
	got := decodeUser(t, do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/users?returnExistingUserIfExists=1", Header: h,
		Body: `{"firstName":"A","lastName":"B","phone":"+15556667777","address":{"state":"CO"}}`}))
	if got.ID != first.ID && got.ID != second.ID {
		t.Errorf("returnExisting by phone: got %s, want one of the existing users", got.ID)
	}
	third := decodeUser(t, do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/users?returnExistingUserIfExists=true", Header: h, Body: otherUser}))
	if third.ID == first.ID || third.ID == second.ID {
		t.Error("returnExisting with no match did not create a user")
	}
}

// TestHeaderNames: HTTP header names are case-insensitive, so every
// spelling Ownli's pages use works.
func TestHeaderNames(t *testing.T) {
	env := newEnv(t, "sqlite")
	c := env.Creds
	for _, names := range [][3]string{
		{"partnerId", "clientId", "clientSecret"},
		{"PartnerId", "ClientId", "ClientSecret"},
		{"partnerid", "clientid", "clientsecret"},
		{"PARTNERID", "CLIENTID", "CLIENTSECRET"},
	} {
		do(t, env, 200, apitest.Request{Method: "GET", Path: "/api/users",
			Header: map[string]string{names[0]: c.Tenant.Name, names[1]: c.ClientID, names[2]: c.Secret}})
	}
}

// TestErrors pins every error answer. Each request must leave the store
// unchanged.
func TestErrors(t *testing.T) {
	env := newEnv(t, "sqlite")
	c := env.Creds
	h := legacy(c)
	jane := decodeUser(t, do(t, env, 200, apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: seedUser}))
	with := func(k, v string) map[string]string {
		m := legacy(c)
		m[k] = v
		return m
	}
	withType := func(ct string) map[string]string { return with("Content-Type", ct) }
	valid := func(edit string) string { // otherUser with fields replaced: the last duplicate key wins
		return strings.TrimSuffix(otherUser, "}") + "," + edit + "}"
	}
	tests := []struct {
		name   string
		req    apitest.Request
		status int
	}{
		// Authentication.
		{"auth_missing", apitest.Request{Method: "GET", Path: "/api/users"}, 401},
		{"auth_wrong_secret", apitest.Request{Method: "GET", Path: "/api/users", Header: with("clientSecret", c.Secret+"x")}, 401},
		{"auth_wrong_partner", apitest.Request{Method: "GET", Path: "/api/users", Header: with("partnerId", "globex")}, 401},
		{"auth_unknown_client", apitest.Request{Method: "GET", Path: "/api/users", Header: with("clientId", strings.Repeat("0", 32))}, 401},
		{"auth_partner_case", apitest.Request{Method: "GET", Path: "/api/users", Header: with("partnerId", "ACME")}, 401},
		{"auth_huge_secret", apitest.Request{Method: "GET", Path: "/api/users", Header: with("clientSecret", strings.Repeat("a", 8000))}, 401},
		{"auth_injection", apitest.Request{Method: "GET", Path: "/api/users", Header: with("partnerId", "acme%0d%0aX-Injected: 1")}, 401},
		{"auth_non_ascii", apitest.Request{Method: "GET", Path: "/api/users", Header: with("partnerId", "acmé")}, 401},
		{"auth_sql", apitest.Request{Method: "GET", Path: "/api/users", Header: with("clientId", "' OR 1=1 --")}, 401},
		{"auth_basic", apitest.Request{Method: "GET", Path: "/api/users", Header: with("Authorization", "Basic "+c.Secret)}, 401},
		{"auth_secret_as_bearer", apitest.Request{Method: "GET", Path: "/api/users", Header: bearer(c.Secret)}, 401},
		{"auth_create", apitest.Request{Method: "POST", Path: "/api/users", Body: seedUser}, 401},
		// Create: bodies.
		{"create_malformed", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: `{"firstName":`}, 400},
		{"create_syntax", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: `{firstName: "x"}`}, 400},
		{"create_empty", apitest.Request{Method: "POST", Path: "/api/users", Header: h}, 400},
		{"create_array", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: `[` + seedUser + `]`}, 400},
		{"create_string", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: `"x"`}, 400},
		{"create_null", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: `null`}, 400},
		{"create_trailing", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: otherUser + ` {}`}, 400},
		{"create_wrong_type", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: valid(`"firstName":42`)}, 400},
		{"create_address_string", apitest.Request{Method: "POST", Path: "/api/users", Header: h,
			Body: `{"firstName":"A","lastName":"B","phone":"+15556667778","address":"CA"}`}, 400},
		{"create_state_number", apitest.Request{Method: "POST", Path: "/api/users", Header: h,
			Body: `{"firstName":"A","lastName":"B","phone":"+15556667778","address":{"state":6}}`}, 400},
		{"create_verified_string", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: valid(`"isEmailVerified":"yes"`)}, 400},
		{"create_bad_utf8", apitest.Request{Method: "POST", Path: "/api/users", Header: h,
			RawBody: []byte("{\"firstName\":\"J\xff\",\"lastName\":\"D\",\"phone\":\"+15556667778\",\"address\":{\"state\":\"CA\"}}")}, 400},
		{"create_oversize", apitest.Request{Method: "POST", Path: "/api/users", Header: h,
			RawBody: []byte(`{"firstName":"` + strings.Repeat("a", 3<<20) + `"}`)}, 413},
		{"create_text_plain", apitest.Request{Method: "POST", Path: "/api/users", Header: withType("text/plain"), Body: otherUser}, 415},
		{"create_form", apitest.Request{Method: "POST", Path: "/api/users", Header: withType("application/x-www-form-urlencoded"), Body: "firstName=a"}, 415},
		// Create: validation.
		{"create_missing_all", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: `{}`}, 400},
		{"create_missing_first_name", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: valid(`"firstName":"  "`)}, 400},
		{"create_missing_address", apitest.Request{Method: "POST", Path: "/api/users", Header: h,
			Body: `{"firstName":"A","lastName":"B","phone":"+15556667778"}`}, 400},
		{"create_missing_state", apitest.Request{Method: "POST", Path: "/api/users", Header: h,
			Body: `{"firstName":"A","lastName":"B","phone":"+15556667778","address":{"city":"Austin"}}`}, 400},
		{"create_bad_state", apitest.Request{Method: "POST", Path: "/api/users", Header: h,
			Body: `{"firstName":"A","lastName":"B","phone":"+15556667778","address":{"state":"XX"}}`}, 400},
		{"create_state_name", apitest.Request{Method: "POST", Path: "/api/users", Header: h,
			Body: `{"firstName":"A","lastName":"B","phone":"+15556667778","address":{"state":"California"}}`}, 400},
		{"create_military_state", apitest.Request{Method: "POST", Path: "/api/users", Header: h,
			Body: `{"firstName":"A","lastName":"B","phone":"+15556667778","address":{"state":"AE"}}`}, 400},
		{"create_bad_state_and_name", apitest.Request{Method: "POST", Path: "/api/users", Header: h,
			Body: `{"lastName":"B","phone":"+15556667778","address":{"state":"ZZ"}}`}, 400},
		{"create_country_ca", apitest.Request{Method: "POST", Path: "/api/users", Header: h,
			Body: `{"firstName":"A","lastName":"B","phone":"+15556667778","address":{"state":"CA","country":"CA"}}`}, 400},
		{"create_country_usa", apitest.Request{Method: "POST", Path: "/api/users", Header: h,
			Body: `{"firstName":"A","lastName":"B","phone":"+15556667778","address":{"state":"CA","country":"USA"}}`}, 400},
		{"create_phone_national", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: valid(`"phone":"5556667778"`)}, 400},
		{"create_phone_spaces", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: valid(`"phone":"+1 555 666 7778"`)}, 400},
		{"create_phone_short", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: valid(`"phone":"+1555"`)}, 400},
		{"create_phone_letters", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: valid(`"phone":"+1555CALLNOW"`)}, 400},
		{"create_bad_email", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: valid(`"email":"not-an-email"`)}, 400},
		{"create_email_display_name", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: valid(`"email":"Jo <jo@example.com>"`)}, 400},
		{"create_name_too_long", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: valid(`"firstName":"` + strings.Repeat("é", 257) + `"`)}, 400},
		{"create_name_control", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: valid(`"firstName":"J\u0000ohn"`)}, 400},
		{"create_bad_tos", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: valid(`"tosAnswer":"Yes"`)}, 400},
		{"create_custom_too_long", apitest.Request{Method: "POST", Path: "/api/users", Header: h, Body: valid(`"customField3":"` + strings.Repeat("x", 2049) + `"`)}, 400},
		{"create_return_existing_bad", apitest.Request{Method: "POST", Path: "/api/users?returnExistingUserIfExists=maybe", Header: h, Body: otherUser}, 400},
		{"create_return_existing_empty", apitest.Request{Method: "POST", Path: "/api/users?returnExistingUserIfExists=", Header: h, Body: otherUser}, 400},
		{"create_return_existing_twice", apitest.Request{Method: "POST", Path: "/api/users?returnExistingUserIfExists=true&returnExistingUserIfExists=false", Header: h, Body: otherUser}, 400},
		{"create_return_existing_invalid", apitest.Request{Method: "POST", Path: "/api/users?returnExistingUserIfExists=true", Header: h,
			Body: `{"email":"jane.doe@example.com","phone":"+15556667777","address":{"state":"CO"}}`}, 400},
		{"create_bad_query", apitest.Request{Method: "POST", Path: "/api/users?returnExistingUserIfExists=%zz", Header: h, Body: otherUser}, 400},
		// Update.
		{"update_bad_id", apitest.Request{Method: "PUT", Path: "/api/users/not-a-uuid", Header: h, Body: `{}`}, 404},
		{"update_malformed", apitest.Request{Method: "PUT", Path: "/api/users/" + jane.ID, Header: h, Body: `{"firstName"`}, 400},
		{"update_null", apitest.Request{Method: "PUT", Path: "/api/users/" + jane.ID, Header: h, Body: `null`}, 400},
		{"update_address_no_state", apitest.Request{Method: "PUT", Path: "/api/users/" + jane.ID, Header: h, Body: `{"address":{"city":"Austin"}}`}, 400},
		{"update_address_null", apitest.Request{Method: "PUT", Path: "/api/users/" + jane.ID, Header: h, Body: `{"address":null}`}, 400},
		{"update_bad_state", apitest.Request{Method: "PUT", Path: "/api/users/" + jane.ID, Header: h, Body: `{"address":{"state":"QQ"}}`}, 400},
		{"update_clear_first_name", apitest.Request{Method: "PUT", Path: "/api/users/" + jane.ID, Header: h, Body: `{"firstName":null}`}, 400},
		{"update_clear_phone", apitest.Request{Method: "PUT", Path: "/api/users/" + jane.ID, Header: h, Body: `{"phone":""}`}, 400},
		{"update_bad_phone", apitest.Request{Method: "PUT", Path: "/api/users/" + jane.ID, Header: h, Body: `{"phone":"555-666-7777"}`}, 400},
		{"update_wrong_type", apitest.Request{Method: "PUT", Path: "/api/users/" + jane.ID, Header: h, Body: `{"lastName":["Doe"]}`}, 400},
		{"update_bad_tos", apitest.Request{Method: "PUT", Path: "/api/users/" + jane.ID, Header: h, Body: `{"tosAnswer":"accepted"}`}, 400},
		// Get, delete, list.
		{"get_bad_id", apitest.Request{Method: "GET", Path: "/api/users/123", Header: h}, 404},
		{"get_unknown_id", apitest.Request{Method: "GET", Path: "/api/users/0190a0b0-0000-7000-8000-000000000001", Header: h}, 404},
		{"delete_bad_id", apitest.Request{Method: "DELETE", Path: "/api/users/%27%20OR%201%3D1", Header: h}, 404},
		{"list_page_zero", apitest.Request{Method: "GET", Path: "/api/users?page=0", Header: h}, 400},
		{"list_page_size_big", apitest.Request{Method: "GET", Path: "/api/users?pageSize=1000", Header: h}, 400},
		{"list_page_text", apitest.Request{Method: "GET", Path: "/api/users?page=abc", Header: h}, 400},
		// Routing.
		{"method_users", apitest.Request{Method: "DELETE", Path: "/api/users", Header: h}, 405},
		{"method_user", apitest.Request{Method: "PATCH", Path: "/api/users/" + jane.ID, Header: h, Body: `{}`}, 405},
		{"method_token", apitest.Request{Method: "GET", Path: "/api/auth/token"}, 405},
		{"unknown_path", apitest.Request{Method: "GET", Path: "/api/users/" + jane.ID + "/links", Header: h}, 404},
		// Token.
		{"token_missing_fields", apitest.Request{Method: "POST", Path: "/api/auth/token", Body: `{"clientId":"x"}`}, 400},
		{"token_bad_scope", apitest.Request{Method: "POST", Path: "/api/auth/token",
			Body: fmt.Sprintf(`{"clientId":%q,"clientSecret":%q,"partnerId":"acme","scope":"root"}`, c.ClientID, c.Secret)}, 400},
		{"token_wrong_secret", apitest.Request{Method: "POST", Path: "/api/auth/token",
			Body: fmt.Sprintf(`{"clientId":%q,"clientSecret":"rsk_x","partnerId":"acme"}`, c.ClientID)}, 401},
		{"token_wrong_partner", apitest.Request{Method: "POST", Path: "/api/auth/token",
			Body: fmt.Sprintf(`{"clientId":%q,"clientSecret":%q,"partnerId":"globex"}`, c.ClientID, c.Secret)}, 401},
		{"token_malformed", apitest.Request{Method: "POST", Path: "/api/auth/token", Body: `{"clientId":`}, 400},
		{"token_wrong_type", apitest.Request{Method: "POST", Path: "/api/auth/token", Body: `{"clientId":["a"]}`}, 400},
	}
	before := countUsers(t, env)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, env, tt.status, tt.req)
			golden(t, "errors/"+tt.name, r)
			checkErrorBody(t, r)
		})
	}
	if after := countUsers(t, env); after != before {
		t.Errorf("users: %d before the error cases, %d after", before, after)
	}
	got := decodeUser(t, do(t, env, 200, apitest.Request{Method: "GET", Path: "/api/users/" + jane.ID, Header: h}))
	if got != jane {
		t.Errorf("user changed by failed requests: got %+v, want %+v", got, jane)
	}
}

// TestAccepted: requests Ownli's docs allow, and inputs Roster chose to
// accept, succeed.
func TestAccepted(t *testing.T) {
	env := newEnv(t, "sqlite")
	h := legacy(env.Creds)
	n := 0
	body := func(extra string) string { // a fresh e-mail and phone each time
		n++
		return fmt.Sprintf(`{"firstName":"A","lastName":"B","email":"u%d@example.com","phone":"+1555000%04d"%s}`, n, n, extra)
	}
	tests := []struct {
		name, path, body string
		header           map[string]string
	}{
		{"minimal", "/api/users", body(`,"address":{"state":"CA"}`), h},
		{"no email", "/api/users", `{"firstName":"A","lastName":"B","phone":"+15559990000","address":{"state":"CA"}}`, h},
		{"lower-case state", "/api/users", body(`,"address":{"state":"tx"}`), h},
		{"territory", "/api/users", body(`,"address":{"state":"PR"}`), h},
		{"DC", "/api/users", body(`,"address":{"state":"DC"}`), h},
		{"country us", "/api/users", body(`,"address":{"state":"WA","country":"us"}`), h},
		{"unknown fields", "/api/users", body(`,"address":{"state":"CA","planet":"Earth"},"middleName":"Q","id":"x"`), h},
		{"nulls", "/api/users", body(`,"email":null,"address":{"state":"CA","city":null},"customField1":null`), h},
		{"json charset", "/api/users", body(`,"address":{"state":"CA"}`), withHeader(h, "Content-Type", "application/json; charset=utf-8")},
		{"return existing TRUE", "/api/users?returnExistingUserIfExists=TRUE&other=x", body(`,"address":{"state":"CA"}`), h},
		{"return existing 0", "/api/users?returnExistingUserIfExists=0", body(`,"address":{"state":"CA"}`), h},
		{"non-US phone", "/api/users", `{"firstName":"A","lastName":"B","phone":"+442071838750","address":{"state":"NY"}}`, h},
		{"unicode name", "/api/users", body(`,"firstName":"Zoë 李","address":{"state":"CA"}`), h},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			do(t, env, 200, apitest.Request{Method: "POST", Path: tt.path, Header: tt.header, Body: tt.body})
		})
	}
}

func withHeader(h map[string]string, k, v string) map[string]string {
	m := map[string]string{k: v}
	for hk, hv := range h {
		m[hk] = hv
	}
	return m
}

// checkErrorBody asserts Ownli's error shape: exactly error_code and
// error_message, both non-empty.
func checkErrorBody(t *testing.T, r *apitest.Response) {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	code, _ := m["error_code"].(string)
	msg, _ := m["error_message"].(string)
	if len(m) != 2 || !strings.HasPrefix(code, "ERROR_") || msg == "" {
		t.Errorf("not an Ownli error body: %s", r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: got %q", ct)
	}
}

func countUsers(t testing.TB, env *apitest.Env) int {
	t.Helper()
	page, err := env.Svc.ListUsers(context.Background(), env.Creds.Principal(), directory.UserQuery{Total: true, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return page.Total
}

// TestCreateRace: 50 concurrent creates with one e-mail, half asking for
// the existing user, make exactly one user; every answer is 200 with that
// user or (without the flag) 409.
func TestCreateRace(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		const n = 50
		type result struct {
			status int
			id     string
			flag   bool
			body   string
		}
		results := make([]result, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				flag := i%2 == 0
				path := "/api/users"
				if flag {
					path += "?returnExistingUserIfExists=true"
				}
				// Each racer has its own phone, so only the e-mail collides.
				body := fmt.Sprintf(`{"firstName":"R%d","lastName":"X","email":"race@example.com","phone":"+1555100%04d","address":{"state":"CA"}}`, i, i)
				<-start
				status, b, err := post(t.Context(), env, path, body)
				if err != nil {
					t.Errorf("racer %d: %v", i, err)
					return
				}
				var u struct {
					ID string `json:"id"`
				}
				_ = json.Unmarshal(b, &u)
				results[i] = result{status, u.ID, flag, string(b)}
			}()
		}
		close(start)
		wg.Wait()

		page, err := env.Svc.ListUsers(t.Context(), env.Creds.Principal(), directory.UserQuery{Total: true})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 1 {
			t.Fatalf("users in the store: got %d, want 1", page.Total)
		}
		winner := page.Users[0].ID
		created := 0
		for i, r := range results {
			switch {
			case r.status == 200 && r.id == winner:
				if !r.flag {
					created++
				}
			case r.status == 409 && !r.flag && strings.Contains(r.body, `"ERROR_USER_EXISTS"`):
			default:
				t.Errorf("racer %d (returnExisting=%v): got %d %s, want 200 with %s or 409", i, r.flag, r.status, r.body, winner)
			}
		}
		if created > 1 {
			t.Errorf("%d racers without the flag got 200, want at most 1", created)
		}
	})
}

// post sends a create with the env's legacy headers from any goroutine
// (env.Do may only be called from the test goroutine).
func post(ctx context.Context, env *apitest.Env, path, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", env.Server.URL+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range legacy(env.Creds) {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := env.Server.Client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// FuzzCreateUser posts arbitrary bytes to the create route: never a 5xx,
// always Ownli's error shape on failure, and no write on failure.
func FuzzCreateUser(f *testing.F) {
	for _, s := range []string{
		seedUser, otherUser, ``, `{}`, `[]`, `null`, `"x"`, `{"firstName":`, `{"firstName":1}`,
		`{"address":[]}`, `{"address":{"state":{}}}`, `{"firstName":"A","lastName":"B","phone":"+15556667777","address":{"state":"XX"}}`,
		`{"firstName":"A","lastName":"B","phone":"+15556667777","address":{"state":"CA","country":"MX"}}`,
		`{"firstName":"A","lastName":"B","phone":"+1","address":{"state":"CA"}}`,
		`{"firstName":"A\u0000","lastName":"B","phone":"+15556667777","address":{"state":"CA"}}`,
		"{\"firstName\":\"\xff\"}", `{"firstName":"\ud800"}`, `{"tosAnswer":"x"}`, `{"fraud":"yes"}`,
		`{"customField1":1e999}`, `{"isEmailVerified":2}`, `{} {}`, `{"a":` + strings.Repeat("[", 10000),
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	env := newEnv(f, "sqlite")
	f.Fuzz(func(t *testing.T, body []byte, returnExisting bool) {
		path := "/api/users"
		if returnExisting {
			path += "?returnExistingUserIfExists=true"
		}
		before := countUsers(t, env)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		status, b, err := post(ctx, env, path, string(body))
		if err != nil {
			t.Fatal(err)
		}
		if status >= 500 {
			t.Fatalf("got %d %s", status, b)
		}
		if status == 200 {
			return
		}
		var e map[string]string
		if err := json.Unmarshal(b, &e); err != nil || !strings.HasPrefix(e["error_code"], "ERROR_") || e["error_message"] == "" {
			t.Fatalf("status %d with a non-Ownli body: %s", status, b)
		}
		if after := countUsers(t, env); after != before {
			t.Fatalf("a %d answer wrote a user (%d -> %d)", status, before, after)
		}
	})
}

// lastLog returns the last access-log line, for failure messages.
func lastLog(env *apitest.Env) string {
	lines := strings.Split(strings.TrimSpace(env.Logs.String()), "\n")
	return lines[len(lines)-1]
}
