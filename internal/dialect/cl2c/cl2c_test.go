package cl2c_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/dialect/cl2c"
	"github.com/roster-dev/roster/internal/directory"
)

// requestID is sent on every call, so traceId is stable in golden files.
const requestID = "cl2c-test-request"

func newEnv(t testing.TB, backend string) *apitest.Env {
	t.Helper()
	return apitest.New(t, backend, func(mux *http.ServeMux, svc *directory.Service) {
		cl2c.New(svc).Register(mux)
	})
}

// headers returns the CL2C auth headers of creds plus a JSON content type
// and the fixed request id; extra pairs override or add ("" deletes).
func headers(c apitest.Creds, extra ...string) map[string]string {
	h := map[string]string{
		"tenant":       c.Tenant.Name,
		"X-Api-Key":    c.Secret,
		"Content-Type": "application/json",
		"X-Request-Id": requestID,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			delete(h, extra[i])
		} else {
			h[extra[i]] = extra[i+1]
		}
	}
	return h
}

func call(e *apitest.Env, c apitest.Creds, method, path, body string, extra ...string) *apitest.Response {
	e.T.Helper()
	return e.Do(apitest.Request{Method: method, Path: path, Header: headers(c, extra...), Body: body})
}

// seedExample is the body of the vendor's Node.js create example.
const seedExample = `{
  "firstName": "John",
  "lastName": "Doe",
  "email": "john.doe@example.com",
  "userName": "johndoe",
  "phoneNumber": "+1234567890"
}`

// documentedKeys are the keys of the vendor's user object, in its order.
var documentedKeys = []string{"id", "userName", "firstName", "lastName", "email", "emailConfirmed",
	"authenticated", "authValidUpto", "authLocation", "phoneNumber", "walletAddress"}

// listKeys are the keys of the vendor's list items.
var listKeys = []string{"id", "userName", "firstName", "lastName", "email", "emailConfirmed",
	"authenticated", "phoneNumber", "walletAddress"}

// keysOf returns the keys of a JSON object in document order.
func keysOf(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func createUser(t *testing.T, e *apitest.Env, c apitest.Creds, userName, email, phone string) map[string]any {
	t.Helper()
	body := fmt.Sprintf(`{"firstName":"F %[1]s","lastName":"L %[1]s","email":%[2]q,"userName":%[1]q,"phoneNumber":%[3]q}`, userName, email, phone)
	resp := call(e, c, "POST", "/v1/cl2c/user", body)
	if resp.Status != http.StatusOK {
		t.Fatalf("create %s: got %d %s", userName, resp.Status, resp.Body)
	}
	return resp.Map(t)
}

// TestUserLifecycle walks every route on both backends and pins each
// answer with one golden file shared by the backends.
func TestUserLifecycle(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		c := e.Creds

		resp := call(e, c, "POST", "/v1/cl2c/user", seedExample)
		apitest.Golden(t, "cl2c/create_seed_example", resp)
		if got := keysOf(t, resp.Body); fmt.Sprint(got) != fmt.Sprint(documentedKeys) {
			t.Fatalf("create keys: got %v, want %v", got, documentedKeys)
		}
		created := resp.Map(t)
		id := created["id"].(string)
		if created["userName"] != "johndoe" || created["phoneNumber"] != "+1234567890" || created["email"] != "john.doe@example.com" {
			t.Fatalf("create did not round-trip the example: %s", resp.Body)
		}

		resp = call(e, c, "GET", "/v1/cl2c/users/"+id, "")
		apitest.Golden(t, "cl2c/get", resp)
		if !bytes.Equal(resp.Body, mustCall(t, e, c, "GET", "/v1/cl2c/users/"+strings.ReplaceAll(id, "-", "")).Body) {
			t.Fatalf("get by 32-hex id differs from get by dashed id")
		}

		createUser(t, e, c, "annlee", "Ann.Lee@Example.com", "+15556667777")

		resp = call(e, c, "PUT", "/v1/cl2c/user",
			`{"id":"`+id+`","firstName":"Johnny","phoneNumber":"+442071838750","pushToken":"fcm:abc","email":"ignored@example.com"}`)
		apitest.Golden(t, "cl2c/update", resp)
		updated := resp.Map(t)
		if updated["lastName"] != "Doe" || updated["email"] != "john.doe@example.com" {
			t.Fatalf("update changed fields it was not given: %s", resp.Body)
		}
		// The push token is stored, though the user object does not show it.
		u, err := e.Svc.GetUser(t.Context(), c.Principal(), id)
		if err != nil || u.Extras["pushToken"] != "fcm:abc" {
			t.Fatalf("push token: got %v, %v", u, err)
		}

		resp = call(e, c, "GET", "/v1/cl2c/users", "")
		apitest.Golden(t, "cl2c/list", resp)
		if got := resp.Header.Get("X-Total-Count"); got != "2" {
			t.Fatalf("X-Total-Count: got %q, want 2", got)
		}
		var items []json.RawMessage
		resp.JSON(t, &items)
		for _, it := range items {
			if got := keysOf(t, it); fmt.Sprint(got) != fmt.Sprint(listKeys) {
				t.Fatalf("list item keys: got %v, want %v", got, listKeys)
			}
		}

		resp = call(e, c, "DELETE", "/v1/cl2c/users/"+id, "")
		apitest.Golden(t, "cl2c/delete", resp)
		resp = call(e, c, "GET", "/v1/cl2c/users/"+id, "")
		apitest.Golden(t, "cl2c/get_deleted", resp)
		resp = call(e, c, "DELETE", "/v1/cl2c/users/"+id, "")
		apitest.Golden(t, "cl2c/delete_deleted", resp)

		// The username is free again once its user is gone.
		resp = call(e, c, "POST", "/v1/cl2c/user", seedExample)
		if resp.Status != http.StatusOK {
			t.Fatalf("re-create after delete: got %d %s", resp.Status, resp.Body)
		}
		if strings.Contains(e.Logs.String(), c.Secret) {
			t.Fatalf("the access log contains the API key")
		}
	})
}

func mustCall(t *testing.T, e *apitest.Env, c apitest.Creds, method, path string) *apitest.Response {
	t.Helper()
	resp := call(e, c, method, path, "")
	if resp.Status != http.StatusOK {
		t.Fatalf("%s %s: got %d %s", method, path, resp.Status, resp.Body)
	}
	return resp
}

// TestErrors pins every error body. Conflicts, which the database decides,
// run on both backends; the rest are decided before the store.
func TestErrors(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		c := e.Creds
		other := e.NewTenant("beta", directory.DefaultUniquePolicy)
		john := createUser(t, e, c, "johndoe", "john.doe@example.com", "+15556667777")
		johnID := john["id"].(string)
		createUser(t, e, c, "second", "second@example.com", "+15556660001")
		theirs := createUser(t, e, other, "theirs", "theirs@example.com", "+15556660000")
		theirID := theirs["id"].(string)
		missing := "0190c2a8-3e1b-7a3c-9b2d-123456789abc"

		tests := []struct {
			name   string
			method string
			path   string
			body   string
			hdr    []string
			status int
		}{
			// Conflicts (the store decides them).
			{"create_duplicate_username", "POST", "/v1/cl2c/user",
				`{"firstName":"A","lastName":"B","email":"other@example.com","userName":"JohnDoe"}`, nil, 409},
			{"create_duplicate_email", "POST", "/v1/cl2c/user",
				`{"firstName":"A","lastName":"B","email":"John.Doe@Example.com","userName":"someone"}`, nil, 409},
			{"create_duplicate_phone", "POST", "/v1/cl2c/user",
				`{"firstName":"A","lastName":"B","email":"x@example.com","userName":"someone","phoneNumber":"+15556667777"}`, nil, 409},
			{"update_own_phone", "PUT", "/v1/cl2c/user",
				`{"id":"` + johnID + `","phoneNumber":"+15556667777"}`, nil, 200}, // its own phone: no conflict
			{"update_duplicate_phone", "PUT", "/v1/cl2c/user",
				`{"id":"` + johnID + `","phoneNumber":"+15556660001"}`, nil, 409},
			// Validation.
			{"create_missing_fields", "POST", "/v1/cl2c/user", `{}`, nil, 400},
			{"create_null_fields", "POST", "/v1/cl2c/user",
				`{"firstName":null,"lastName":"  ","email":"a@example.com","userName":"nulls"}`, nil, 400},
			{"create_too_long", "POST", "/v1/cl2c/user",
				`{"firstName":"` + strings.Repeat("x", 300) + `","lastName":"B","email":"long@example.com","userName":"long"}`, nil, 400},
			{"create_control_char", "POST", "/v1/cl2c/user",
				`{"firstName":"A\u0000","lastName":"B","email":"ctl@example.com","userName":"ctl"}`, nil, 400},
			{"create_malformed_json", "POST", "/v1/cl2c/user", `{"firstName":`, nil, 400},
			{"create_syntax_error", "POST", "/v1/cl2c/user", `{"firstName" "x"}`, nil, 400},
			{"create_wrong_type", "POST", "/v1/cl2c/user", `{"firstName":"A","lastName":"B","email":7,"userName":"n"}`, nil, 400},
			{"create_array_body", "POST", "/v1/cl2c/user", `[{"firstName":"A"}]`, nil, 400},
			{"create_empty_body", "POST", "/v1/cl2c/user", ``, nil, 400},
			{"create_trailing_data", "POST", "/v1/cl2c/user",
				`{"firstName":"A","lastName":"B","email":"t@example.com","userName":"trail"} {}`, nil, 400},
			{"create_text_plain", "POST", "/v1/cl2c/user", seedExample, []string{"Content-Type", "text/plain"}, 415},
			{"update_missing_id", "PUT", "/v1/cl2c/user", `{"firstName":"A"}`, nil, 400},
			{"update_invalid_id", "PUT", "/v1/cl2c/user", `{"id":"42","lastName":""}`, nil, 400},
			{"update_clear_name", "PUT", "/v1/cl2c/user", `{"id":"` + johnID + `","lastName":null}`, nil, 400},
			{"update_wrong_type", "PUT", "/v1/cl2c/user", `{"id":"` + johnID + `","firstName":["A"]}`, nil, 400},
			{"list_bad_paging", "GET", "/v1/cl2c/users?pageNumber=0&pageSize=abc", "", nil, 400},
			{"list_page_too_big", "GET", "/v1/cl2c/users?PageSize=1001", "", nil, 400},
			// Not found, including another tenant's user.
			{"get_not_found", "GET", "/v1/cl2c/users/" + missing, "", nil, 404},
			{"get_non_uuid", "GET", "/v1/cl2c/users/not-a-uuid", "", nil, 404},
			{"get_other_tenant", "GET", "/v1/cl2c/users/" + theirID, "", nil, 404},
			{"update_not_found", "PUT", "/v1/cl2c/user", `{"id":"` + missing + `","firstName":"A"}`, nil, 404},
			{"update_other_tenant", "PUT", "/v1/cl2c/user", `{"id":"` + theirID + `","firstName":"Mallory"}`, nil, 404},
			{"delete_other_tenant", "DELETE", "/v1/cl2c/users/" + theirID, "", nil, 404},
			{"delete_non_uuid", "DELETE", "/v1/cl2c/users/%27%20OR%201=1", "", nil, 404},
			// Authentication.
			{"auth_missing_headers", "GET", "/v1/cl2c/users", "", []string{"tenant", "", "X-Api-Key", ""}, 401},
			{"auth_missing_key", "POST", "/v1/cl2c/user", seedExample, []string{"X-Api-Key", ""}, 401},
			{"auth_missing_tenant", "GET", "/v1/cl2c/users/" + johnID, "", []string{"tenant", ""}, 401},
			{"auth_wrong_key", "GET", "/v1/cl2c/users", "", []string{"X-Api-Key", "rsk_" + strings.Repeat("0", 32) + "_nope"}, 401},
			{"auth_garbage_key", "GET", "/v1/cl2c/users", "", []string{"X-Api-Key", "hunter2"}, 401},
			{"auth_key_of_other_tenant", "GET", "/v1/cl2c/users", "", []string{"X-Api-Key", other.Secret}, 401},
			{"auth_unknown_tenant", "GET", "/v1/cl2c/users", "", []string{"tenant", "nosuch"}, 401},
			{"auth_tenant_case", "GET", "/v1/cl2c/users", "", []string{"tenant", "ACME"}, 401},
			{"auth_tenant_10kb", "GET", "/v1/cl2c/users", "", []string{"tenant", strings.Repeat("a", 10<<10)}, 401},
			{"auth_key_10kb", "GET", "/v1/cl2c/users", "", []string{"X-Api-Key", strings.Repeat("k", 10<<10)}, 401},
			{"auth_before_validation", "POST", "/v1/cl2c/user", `{`, []string{"X-Api-Key", "x"}, 401},
			// Routing.
			{"method_not_allowed_user", "DELETE", "/v1/cl2c/user", "", nil, 405},
			{"method_not_allowed_users", "POST", "/v1/cl2c/users", seedExample, nil, 405},
			{"method_not_allowed_user_id", "PATCH", "/v1/cl2c/users/" + johnID, `{}`, nil, 405},
			{"unknown_route", "GET", "/v1/cl2c/accounts", "", nil, 404},
			{"unknown_route_slash", "GET", "/v1/cl2c/accounts/", "", nil, 404},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp := call(e, c, tt.method, tt.path, tt.body, tt.hdr...)
				if resp.Status != tt.status {
					t.Fatalf("status: got %d, want %d: %s", resp.Status, tt.status, resp.Body)
				}
				apitest.Golden(t, "cl2c/"+tt.name, resp, c.Secret, "<secret>", other.Secret, "<other-secret>")
				if tt.status == 405 && resp.Header.Get("Allow") == "" {
					t.Errorf("405 without an Allow header")
				}
			})
		}

		// No failed write left a trace: acme still holds John and Second.
		if got := mustCall(t, e, c, "GET", "/v1/cl2c/users").Header.Get("X-Total-Count"); got != "2" {
			t.Fatalf("users after the error cases: got %s, want 2", got)
		}
		// The errorId of a 404 is in the access log, for support.
		resp := call(e, c, "GET", "/v1/cl2c/users/"+missing, "")
		errorID, _ := resp.Map(t)["errorId"].(string)
		if errorID == "" || !strings.Contains(e.Logs.String(), errorID) {
			t.Fatalf("errorId %q not in the access log", errorID)
		}
		for _, s := range []string{c.Secret, other.Secret} {
			if strings.Contains(e.Logs.String(), s) {
				t.Fatalf("the access log contains an API key")
			}
		}
	})
}

// TestUniquenessPolicy: a tenant whose policy does not make e-mail unique
// accepts a second user with the same e-mail; usernames stay unique.
func TestUniquenessPolicy(t *testing.T) {
	e := newEnv(t, "sqlite")
	loose := e.NewTenant("loose", directory.UniquePolicy{})
	createUser(t, e, loose, "one", "same@example.com", "+15556667777")
	createUser(t, e, loose, "two", "same@example.com", "+15556667777")
	resp := call(e, loose, "POST", "/v1/cl2c/user", `{"firstName":"A","lastName":"B","email":"same@example.com","userName":"ONE"}`)
	if resp.Status != http.StatusConflict || !strings.Contains(string(resp.Body), "Username one is already taken.") {
		t.Fatalf("duplicate username: got %d %s", resp.Status, resp.Body)
	}
}

func TestListPaging(t *testing.T) {
	e := newEnv(t, "sqlite")
	c := e.Creds
	var ids []string
	for i := range 5 {
		u := createUser(t, e, c, fmt.Sprintf("user%d", i), fmt.Sprintf("u%d@example.com", i), "")
		ids = append(ids, u["id"].(string))
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", ids},
		{"?pageSize=2", ids[:2]},
		{"?pageNumber=2&pageSize=2", ids[2:4]},
		{"?pageNumber=3&pageSize=2", ids[4:]},
		{"?pageNumber=4&pageSize=2", nil},
		{"?PAGENUMBER=2&pagesize=3", ids[3:]},
		{"?pageNumber=2", nil}, // page size defaults to the cap
		{"?pageNumber=2147483647&pageSize=1000", nil},
		{"?pageSize=1000", ids},
		{"?unrelated=1", ids},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp := mustCall(t, e, c, "GET", "/v1/cl2c/users"+tt.query)
			if got := resp.Header.Get("X-Total-Count"); got != "5" {
				t.Errorf("X-Total-Count: got %q, want 5", got)
			}
			var items []struct{ ID string }
			resp.JSON(t, &items)
			var got []string
			for _, it := range items {
				got = append(got, it.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("ids: got %v, want %v", got, tt.want)
			}
			if len(items) == 0 && strings.TrimSpace(string(resp.Body)) != "[]" {
				t.Errorf("empty page: got %s, want []", resp.Body)
			}
		})
	}
}

// TestTenantIsolation: two tenants with the same usernames never see,
// change or delete each other's users.
func TestTenantIsolation(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		a, b := e.Creds, e.NewTenant("beta", directory.DefaultUniquePolicy)
		// Same username, e-mail and phone in both tenants: uniqueness is
		// per tenant.
		ua := createUser(t, e, a, "johndoe", "john@example.com", "+15556667777")
		ub := createUser(t, e, b, "johndoe", "john@example.com", "+15556667777")
		idA, idB := ua["id"].(string), ub["id"].(string)

		for _, tc := range []struct{ method, path, body string }{
			{"GET", "/v1/cl2c/users/" + idB, ""},
			{"PUT", "/v1/cl2c/user", `{"id":"` + idB + `","firstName":"Mallory"}`},
			{"DELETE", "/v1/cl2c/users/" + idB, ""},
		} {
			if resp := call(e, a, tc.method, tc.path, tc.body); resp.Status != http.StatusNotFound {
				t.Errorf("%s %s from acme: got %d, want 404", tc.method, tc.path, resp.Status)
			}
		}
		resp := mustCall(t, e, a, "GET", "/v1/cl2c/users")
		if strings.Contains(string(resp.Body), idB) || !strings.Contains(string(resp.Body), idA) {
			t.Errorf("acme's list: %s", resp.Body)
		}
		// Beta's user is untouched.
		got := mustCall(t, e, b, "GET", "/v1/cl2c/users/"+idB).Map(t)
		if got["firstName"] != "F johndoe" {
			t.Errorf("beta's user changed: %v", got)
		}
		// Acme's key with beta's tenant header is refused.
		resp = call(e, a, "GET", "/v1/cl2c/users/"+idB, "", "tenant", "beta")
		if resp.Status != http.StatusUnauthorized {
			t.Errorf("acme key, beta header: got %d, want 401", resp.Status)
		}
	})
}

// TestHostileInputs: every hostile request gets a 4xx in a CL2C body, and
// none writes a user.
func TestHostileInputs(t *testing.T) {
	e := newEnv(t, "sqlite")
	c := e.Creds
	big := append([]byte(`{"firstName":"`), bytes.Repeat([]byte("a"), 3<<20)...)
	big = append(big, `","lastName":"B","email":"big@example.com","userName":"big"}`...)
	tests := []struct {
		name string
		req  apitest.Request
	}{
		{"3 MiB body", apitest.Request{Method: "POST", Path: "/v1/cl2c/user", RawBody: big}},
		{"invalid UTF-8", apitest.Request{Method: "POST", Path: "/v1/cl2c/user",
			RawBody: []byte("{\"firstName\":\"J\xffohn\",\"lastName\":\"B\",\"email\":\"u@example.com\",\"userName\":\"utf\"}")}},
		{"lone surrogate escape", apitest.Request{Method: "POST", Path: "/v1/cl2c/user",
			Body: `{"firstName":"\ud800","lastName":"B","email":"s@example.com","userName":"sur","phoneNumber":"+1"}`}},
		{"nested object", apitest.Request{Method: "POST", Path: "/v1/cl2c/user", Body: `{"firstName":{"a":1}}`}},
		{"deep nesting", apitest.Request{Method: "POST", Path: "/v1/cl2c/user", Body: strings.Repeat("[", 100000)}},
		{"number body", apitest.Request{Method: "POST", Path: "/v1/cl2c/user", Body: `42`}},
		{"null body", apitest.Request{Method: "POST", Path: "/v1/cl2c/user", Body: `null`}},
		{"string body", apitest.Request{Method: "POST", Path: "/v1/cl2c/user", Body: `"x"`}},
		{"huge number", apitest.Request{Method: "POST", Path: "/v1/cl2c/user", Body: `{"firstName":1e999999}`}},
		{"bool id on update", apitest.Request{Method: "PUT", Path: "/v1/cl2c/user", Body: `{"id":true}`}},
		{"SQL in id", apitest.Request{Method: "PUT", Path: "/v1/cl2c/user", Body: `{"id":"' OR 1=1 --"}`}},
		{"multipart", apitest.Request{Method: "POST", Path: "/v1/cl2c/user", Body: seedExample,
			Header: map[string]string{"Content-Type": "multipart/form-data; boundary=x"}}},
		{"bad content type", apitest.Request{Method: "POST", Path: "/v1/cl2c/user", Body: seedExample,
			Header: map[string]string{"Content-Type": "application/json; charset"}}},
		{"phone injection", apitest.Request{Method: "POST", Path: "/v1/cl2c/user",
			Body: `{"firstName":"A","lastName":"B","email":"p@example.com","userName":"phone","phoneNumber":"+15556667777\r\nX: y"}`}},
		{"email with newline", apitest.Request{Method: "POST", Path: "/v1/cl2c/user",
			Body: `{"firstName":"A","lastName":"B","email":"a@example.com\nBcc: b@example.com","userName":"mail"}`}},
		{"long page number", apitest.Request{Method: "GET", Path: "/v1/cl2c/users?pageNumber=99999999999999999999999"}},
		{"negative page size", apitest.Request{Method: "GET", Path: "/v1/cl2c/users?pageSize=-1"}},
		{"long id in path", apitest.Request{Method: "GET", Path: "/v1/cl2c/users/" + strings.Repeat("f", 5000)}},
		{"encoded slash id", apitest.Request{Method: "DELETE", Path: "/v1/cl2c/users/..%2F..%2Fetc"}},
		{"tenant with unicode", apitest.Request{Method: "GET", Path: "/v1/cl2c/users", Header: map[string]string{"tenant": "acmé"}}},
		{"two tenant headers", apitest.Request{Method: "GET", Path: "/v1/cl2c/users", Header: map[string]string{"tenant": "acme, beta"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := headers(c)
			for k, v := range tt.req.Header {
				h[k] = v
			}
			tt.req.Header = h
			resp := e.Do(tt.req)
			assertCL2CError(t, resp)
		})
	}
	if got := mustCall(t, e, c, "GET", "/v1/cl2c/users").Header.Get("X-Total-Count"); got != "0" {
		t.Fatalf("hostile requests created users: %s", got)
	}
}

// assertCL2CError fails unless resp is a 4xx in one of the CL2C bodies.
func assertCL2CError(t *testing.T, resp *apitest.Response) {
	t.Helper()
	if resp.Status < 400 || resp.Status >= 500 {
		t.Fatalf("status: got %d, want 4xx: %.300s", resp.Status, resp.Body)
	}
	m := resp.Map(t)
	switch ct := resp.Header.Get("Content-Type"); ct {
	case "application/json":
		problem := resp.Status == 400 && m["errors"] != nil && m["traceId"] != nil
		result := m["statusCode"] == float64(resp.Status) && m["errorId"] != "" && m["messages"] != nil
		if !problem && !result {
			t.Fatalf("neither a problem nor an error result: %d %s", resp.Status, resp.Body)
		}
	default:
		t.Fatalf("content type %q", ct)
	}
}

// TestHeaderInjection sends header values the Go client refuses to send
// (CR, LF, NUL, obs-fold) over a raw connection. net/http rejects the
// malformed ones before any handler runs, with its own plain 400; the
// point is that none reaches the store or yields a 5xx.
func TestHeaderInjection(t *testing.T) {
	e := newEnv(t, "sqlite")
	c := e.Creds
	tests := []struct {
		name        string
		headers     string
		wantStatus  int
		reachesCL2C bool // answered by the dialect, so in its body
	}{
		// net/http refuses these before routing, with its own plain 400.
		{"bare CR in tenant", "tenant: acme\rX-Api-Key: " + c.Secret + "\r\n", 400, false},
		{"NUL in tenant", "tenant: ac\x00me\r\nX-Api-Key: " + c.Secret + "\r\n", 400, false},
		{"CR in key", "tenant: acme\r\nX-Api-Key: " + c.Secret + "\rtenant: beta\r\n", 400, false},
		// A bare LF ends a header line (RFC 9112 allows it), so these are
		// two honest headers each; the forged half must not count.
		{"LF-split tenant of another tenant", "tenant: beta\nX-Api-Key: " + c.Secret + "\r\n", 401, true},
		{"LF-smuggled second key", "tenant: acme\r\nX-Api-Key: wrong\nX-Api-Key: " + c.Secret + "\r\n", 401, true},
		// net/http unfolds obs-fold into one value, "acme evil".
		{"obs-fold tenant", "tenant: acme\r\n evil\r\nX-Api-Key: " + c.Secret + "\r\n", 401, true},
		{"latin-1 tenant", "tenant: acm\xe9\r\nX-Api-Key: " + c.Secret + "\r\n", 401, true},
		{"10 KB tenant", "tenant: " + strings.Repeat("a", 10<<10) + "\r\nX-Api-Key: " + c.Secret + "\r\n", 401, true},
	}
	e.NewTenant("beta", directory.DefaultUniquePolicy)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", e.Server.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(conn, "GET /v1/cl2c/users HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n", tt.headers)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status: got %d, want %d: %s", resp.StatusCode, tt.wantStatus, body.Bytes())
			}
			if tt.reachesCL2C {
				assertCL2CError(t, &apitest.Response{Status: resp.StatusCode, Header: resp.Header, Body: body.Bytes()})
			}
		})
	}
}

// TestConcurrentCreate: racing creates of one userName yield one user.
func TestConcurrentCreate(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		const n = 8
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				body := fmt.Sprintf(`{"firstName":"A","lastName":"B","email":"race%d@example.com","userName":"racer"}`, i)
				statuses[i] = call(e, e.Creds, "POST", "/v1/cl2c/user", body).Status
			})
		}
		wg.Wait()
		ok, conflict := 0, 0
		for _, s := range statuses {
			switch s {
			case http.StatusOK:
				ok++
			case http.StatusConflict:
				conflict++
			}
		}
		if ok != 1 || conflict != n-1 {
			t.Fatalf("statuses: got %v, want one 200 and %d 409", statuses, n-1)
		}
	})
}

// TestCreateRules: what a create must satisfy, through the real server and
// core, one case a row; want lists the keys of the 400's "errors" map.
func TestCreateRules(t *testing.T) {
	e := newEnv(t, "sqlite")
	full := map[string]string{"firstName": "John", "lastName": "Doe", "email": "john.doe@example.com", "userName": "johndoe", "phoneNumber": "+1234567890"}
	tests := []struct {
		name string
		set  map[string]string // overrides; "" removes the key
		want []string
	}{
		{"vendor example", nil, nil},
		{"no phone", map[string]string{"phoneNumber": ""}, nil},
		{"blank names", map[string]string{"firstName": " ", "lastName": ""}, []string{"firstName", "lastName"}},
		{"all missing", map[string]string{"firstName": "", "lastName": "", "email": "", "userName": "", "phoneNumber": ""}, []string{"email", "firstName", "lastName", "userName"}},
		// The vendor documents no format, and its own examples send
		// "string" and "+1234567890": none is checked.
		{"email without domain", map[string]string{"email": "john"}, nil},
		{"display-name email", map[string]string{"email": "John <john@example.com>"}, nil},
		{"national phone", map[string]string{"phoneNumber": "555-666-7777"}, nil},
		{"short phone", map[string]string{"phoneNumber": "+1234567"}, nil},
		{"letters phone", map[string]string{"phoneNumber": "+1555CALLNOW"}, nil},
		{"too long phone", map[string]string{"phoneNumber": strings.Repeat("5", 40)}, []string{"phoneNumber"}},
		{"every problem at once", map[string]string{"firstName": "", "phoneNumber": strings.Repeat("5", 40), "lastName": "a\u0007"}, []string{"firstName", "lastName", "phoneNumber"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]string{}
			for k, v := range full {
				body[k] = v
			}
			body["userName"] = fmt.Sprintf("user%d", i) // each successful case creates a user
			body["email"] = fmt.Sprintf("u%d@example.com", i)
			body["phoneNumber"] = fmt.Sprintf("+1555666%04d", i)
			for k, v := range tt.set {
				if v == "" {
					delete(body, k)
				} else {
					body[k] = v
				}
			}
			raw, _ := json.Marshal(body)
			r := call(e, e.Creds, "POST", "/v1/cl2c/user", string(raw))
			if tt.want == nil {
				if r.Status != 200 {
					t.Fatalf("got %d %s, want 200", r.Status, r.Body)
				}
				return
			}
			if r.Status != 400 {
				t.Fatalf("got %d %s, want 400", r.Status, r.Body)
			}
			var pd struct {
				Errors map[string][]string `json:"errors"`
			}
			r.JSON(t, &pd)
			var got []string
			for k := range pd.Errors {
				got = append(got, k)
			}
			sort.Strings(got)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("error keys: got %v, want %v (%s)", got, tt.want, r.Body)
			}
		})
	}
}
