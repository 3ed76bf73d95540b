package truv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// newEnv starts the Truv dialect on a real server over backend. It also
// mounts a route that panics, to pin the 500 body.
func newEnv(t testing.TB, backend string) *apitest.Env {
	t.Helper()
	return apitest.New(t, backend, func(mux *http.ServeMux, svc *directory.Service) {
		New(svc, Options{}).Register(mux)
		mux.Handle("GET /test/panic", httpapi.Adapt(func(http.ResponseWriter, *http.Request) error {
			panic("boom")
		}, writeError))
	})
}

// headers returns valid Truv credentials for c and a JSON content type,
// with extra applied on top (an empty value removes the header).
func headers(c apitest.Creds, extra ...string) map[string]string {
	h := map[string]string{
		"X-Access-Client-Id": c.ClientID,
		"X-Access-Secret":    c.Secret,
		"Content-Type":       "application/json",
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

// serverHost is the golden placeholder for the test server's address.
func hostPairs(env *apitest.Env) []string {
	return []string{strings.TrimPrefix(env.Server.URL, "http://"), "roster.test"}
}

const johnBody = `{"external_user_id":"12345","first_name":"John","last_name":"Doe",` +
	`"email":"john.doe@example.com","phone":"+14155554193","ssn":"222233333"}`

// create posts body as c and returns the new user's id, failing unless 201.
func create(t *testing.T, env *apitest.Env, c apitest.Creds, body string) string {
	t.Helper()
	resp := env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: headers(c), Body: body})
	if resp.Status != http.StatusCreated {
		t.Fatalf("create: got %d %s, want 201", resp.Status, resp.Body)
	}
	var u struct{ ID string }
	resp.JSON(t, &u)
	return u.ID
}

func TestUserLifecycle(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		h := headers(env.Creds)

		resp := env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: h, Body: johnBody})
		apitest.Golden(t, "create", resp)
		var u struct{ ID string }
		resp.JSON(t, &u)
		if len(u.ID) != 32 || strings.Contains(u.ID, "-") {
			t.Fatalf("id %q: want 32 hex characters", u.ID)
		}
		dashed, _ := directory.ParseID(u.ID)

		for _, path := range []string{"/v1/users/" + u.ID + "/", "/v1/users/" + u.ID, "/v1/users/" + dashed + "/", "/v1/users/" + strings.ToUpper(u.ID) + "/"} {
			resp = env.Do(apitest.Request{Method: "GET", Path: path, Header: h})
			apitest.Golden(t, "get", resp)
		}

		// A partial update: absent fields stay, null and "" clear.
		resp = env.Do(apitest.Request{Method: "PATCH", Path: "/v1/users/" + u.ID + "/", Header: h,
			Body: `{"external_user_id":"67890","email":"JANE@example.com","phone":null,"ssn":"","unknown":1}`})
		apitest.Golden(t, "patch", resp)

		// An empty PATCH body changes nothing but updated_at.
		resp = env.Do(apitest.Request{Method: "PATCH", Path: "/v1/users/" + u.ID, Header: h})
		apitest.Golden(t, "patch_empty", resp)

		// Required fields cannot be cleared.
		resp = env.Do(apitest.Request{Method: "PATCH", Path: "/v1/users/" + u.ID + "/", Header: h,
			Body: `{"external_user_id":null,"first_name":"","last_name":"  "}`})
		apitest.Golden(t, "patch_clear_required", resp)

		resp = env.Do(apitest.Request{Method: "DELETE", Path: "/v1/users/" + u.ID + "/", Header: h})
		if resp.Status != http.StatusNoContent || len(resp.Body) != 0 {
			t.Fatalf("delete: got %d %q, want 204 and no body", resp.Status, resp.Body)
		}
		for _, m := range []string{"GET", "PATCH", "DELETE"} {
			resp = env.Do(apitest.Request{Method: m, Path: "/v1/users/" + u.ID + "/", Header: h, Body: `{}`})
			apitest.Golden(t, "not_found", resp)
		}
	})
}

// TestTrailingSlash checks both spellings of each path reach the handler
// directly: no redirect, not even for POST.
func TestTrailingSlash(t *testing.T) {
	env := newEnv(t, "sqlite")
	h := headers(env.Creds)
	id := create(t, env, env.Creds, johnBody)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"POST", "/v1/users", http.StatusCreated},
		{"GET", "/v1/users", http.StatusOK},
		{"GET", "/v1/users/", http.StatusOK},
		{"GET", "/v1/users/" + id, http.StatusOK},
		{"PATCH", "/v1/users/" + id, http.StatusOK},
		{"PATCH", "/v1/users/" + id + "/", http.StatusOK},
		{"HEAD", "/v1/users/" + id + "/", http.StatusOK},
		{"DELETE", "/v1/users/" + id, http.StatusNoContent},
	} {
		body := `{"external_user_id":"x","first_name":"A","last_name":"B"}`
		resp := env.Do(apitest.Request{Method: tc.method, Path: tc.path, Header: h, Body: body})
		if resp.Status != tc.want {
			t.Errorf("%s %s: got %d %s, want %d", tc.method, tc.path, resp.Status, resp.Body, tc.want)
		}
	}
}

// errorCase is one request that must fail in Truv's format.
type errorCase struct {
	name   string // golden file name
	method string
	path   string // "{id}" is replaced by an existing user's id, "{other}" by another tenant's
	header []string
	body   string
	raw    []byte
	status int
}

var errorCases = []errorCase{
	// Authentication.
	{name: "auth_missing", method: "GET", path: "/v1/users/", header: []string{"X-Access-Client-Id", "", "X-Access-Secret", ""}, status: 401},
	{name: "auth_missing", method: "POST", path: "/v1/users/", header: []string{"X-Access-Secret", ""}, body: johnBody, status: 401},
	{name: "auth_missing", method: "PUT", path: "/v1/users/", header: []string{"X-Access-Client-Id", ""}, status: 401},
	{name: "auth_wrong", method: "GET", path: "/v1/users/{id}/", header: []string{"X-Access-Secret", "rsk_wrong"}, status: 401},
	{name: "auth_wrong", method: "GET", path: "/v1/users/", header: []string{"X-Access-Client-Id", "0123456789abcdef0123456789abcdef"}, status: 401},
	{name: "auth_wrong", method: "GET", path: "/v1/users/", header: []string{"X-Access-Client-Id", strings.Repeat("a", 5000)}, status: 401},

	// Validation of the create body.
	{name: "create_missing_required", method: "POST", path: "/v1/users/", body: `{}`, status: 400},
	{name: "create_missing_required", method: "POST", path: "/v1/users/", status: 400},
	{name: "create_missing_required", method: "POST", path: "/v1/users", body: `{"unknown":"x","id":"abc"}`, status: 400},
	{name: "create_null_blank", method: "POST", path: "/v1/users/", body: `{"external_user_id":null,"first_name":"","last_name":" \t "}`, status: 400},
	{name: "create_invalid_fields", method: "POST", path: "/v1/users/",
		body: `{"ssn":"12-345","email":"not an email","external_user_id":"1","first_name":"J","last_name":"D"}`, status: 400},
	{name: "create_bad_text", method: "POST", path: "/v1/users/",
		body: `{"external_user_id":"1","first_name":"a\u0000b","last_name":"` + strings.Repeat("x", 300) + `"}`, status: 400},
	{name: "create_wrong_type", method: "POST", path: "/v1/users/", body: `{"external_user_id":true,"first_name":"J","last_name":"D"}`, status: 400},
	{name: "create_wrong_type_ssn", method: "POST", path: "/v1/users/", body: `{"ssn":[222233333]}`, status: 400},
	{name: "create_wrong_type_object", method: "POST", path: "/v1/users/", body: `{"first_name":{"a":1}}`, status: 400},
	{name: "create_array", method: "POST", path: "/v1/users/", body: `[{"first_name":"J"}]`, status: 400},
	{name: "create_string", method: "POST", path: "/v1/users/", body: `"john"`, status: 400},
	{name: "create_number", method: "POST", path: "/v1/users/", body: `42`, status: 400},
	{name: "create_null", method: "POST", path: "/v1/users/", body: `null`, status: 400},
	{name: "create_truncated", method: "POST", path: "/v1/users/", body: `{"external_user_id":"1","first_name":"J`, status: 400},
	{name: "create_syntax", method: "POST", path: "/v1/users/", body: `{"external_user_id":1,}`, status: 400},
	{name: "create_trailing", method: "POST", path: "/v1/users/", body: `{} {}`, status: 400},
	{name: "create_invalid_utf8", method: "POST", path: "/v1/users/", raw: []byte("{\"external_user_id\":\"1\",\"first_name\":\"J\xff\",\"last_name\":\"D\"}"), status: 400},
	{name: "create_too_large", method: "POST", path: "/v1/users/", raw: bytes.Repeat([]byte(" "), 3<<20), status: 413},
	{name: "create_too_large", method: "POST", path: "/v1/users/", raw: []byte(`{"x":"` + strings.Repeat("a", 3<<20) + `"}`), status: 413},
	{name: "create_text_plain", method: "POST", path: "/v1/users/", header: []string{"Content-Type", "text/plain"}, body: johnBody, status: 415},
	{name: "create_form", method: "POST", path: "/v1/users/", header: []string{"Content-Type", "application/x-www-form-urlencoded"}, body: "first_name=J", status: 415},

	// Update.
	{name: "patch_invalid", method: "PATCH", path: "/v1/users/{id}/", body: `{"email":"x@","ssn":"123"}`, status: 400},
	{name: "patch_wrong_type", method: "PATCH", path: "/v1/users/{id}/", body: `{"phone":true}`, status: 400},
	{name: "create_array", method: "PATCH", path: "/v1/users/{id}/", body: `[]`, status: 400},
	{name: "create_text_plain", method: "PATCH", path: "/v1/users/{id}/", header: []string{"Content-Type", "text/plain"}, body: `{}`, status: 415},
	{name: "create_too_large", method: "PATCH", path: "/v1/users/{id}/", raw: bytes.Repeat([]byte(" "), 3<<20), status: 413},

	// Unknown, malformed and foreign ids.
	{name: "not_found", method: "GET", path: "/v1/users/0123456789abcdef0123456789abcdef/", status: 404},
	{name: "not_found", method: "GET", path: "/v1/users/not-an-id/", status: 404},
	{name: "not_found", method: "GET", path: "/v1/users/%00%ff/", status: 404},
	{name: "not_found", method: "GET", path: "/v1/users/{other}/", status: 404},
	{name: "not_found", method: "PATCH", path: "/v1/users/{other}/", body: `{"first_name":"Eve"}`, status: 404},
	{name: "not_found", method: "DELETE", path: "/v1/users/{other}", status: 404},
	{name: "not_found", method: "PATCH", path: "/v1/users/nope/", body: `not json`, status: 404},
	{name: "not_found", method: "DELETE", path: "/v1/users/" + strings.Repeat("a", 36) + "/", status: 404},
	{name: "not_found", method: "POST", path: "/v1/users/{other}/tokens/", body: `{"product_type":"income"}`, status: 404},
	{name: "not_found", method: "POST", path: "/v1/users/nope/tokens/", body: `not json`, status: 404},
	{name: "not_found", method: "POST", path: "/v1/users/0123456789abcdef0123456789abcdef/tokens", body: `{"product_type":"income"}`, status: 404},

	// Paths under /v1/ that Roster does not serve answer in Truv's 404.
	{name: "not_found", method: "GET", path: "/v1/orders/", status: 404},
	{name: "not_found", method: "POST", path: "/v1/link-access-tokens/", body: `{}`, status: 404},
	{name: "not_found", method: "GET", path: "/v1/", status: 404},
	{name: "not_found", method: "GET", path: "/v1/users/{id}/links/x/", status: 404},

	// Bridge token bodies.
	{name: "bridge_missing_product", method: "POST", path: "/v1/users/{id}/tokens/", body: `{}`, status: 400},
	{name: "bridge_missing_product", method: "POST", path: "/v1/users/{id}/tokens/", status: 400},
	{name: "bridge_invalid", method: "POST", path: "/v1/users/{id}/tokens/",
		body: `{"product_type":"payroll","tracking_info":true,"allowed_products":["income","bogus",7],"account":"x","data_sources":"payroll"}`, status: 400},
	{name: "bridge_invalid_account", method: "POST", path: "/v1/users/{id}/tokens/",
		body: `{"product_type":null,"account":{"account_number":1600200,"routing_number":["123"],"bank_name":{}}}`, status: 400},
	{name: "create_array", method: "POST", path: "/v1/users/{id}/tokens/", body: `[]`, status: 400},
	{name: "create_null", method: "POST", path: "/v1/users/{id}/tokens/", body: `null`, status: 400},
	{name: "create_text_plain", method: "POST", path: "/v1/users/{id}/tokens/", header: []string{"Content-Type", "text/plain"}, body: `{}`, status: 415},
	{name: "create_too_large", method: "POST", path: "/v1/users/{id}/tokens/", raw: bytes.Repeat([]byte(" "), 3<<20), status: 413},

	// Content negotiation: DRF answers 406 before authenticating.
	{name: "not_acceptable", method: "GET", path: "/v1/users/", header: []string{"Accept", "application/xml"}, status: 406},
	{name: "not_acceptable", method: "POST", path: "/v1/users/", header: []string{"Accept", "text/html", "X-Access-Secret", ""}, body: johnBody, status: 406},
	{name: "not_acceptable", method: "POST", path: "/v1/users/{id}/tokens/", header: []string{"Accept", "application/json;q=0, application/xml"}, body: `{"product_type":"income"}`, status: 406},

	// Methods.
	{name: "method_put", method: "PUT", path: "/v1/users/", body: `{}`, status: 405},
	{name: "method_put", method: "PUT", path: "/v1/users/{id}/", body: `{}`, status: 405},
	{name: "method_delete", method: "DELETE", path: "/v1/users", status: 405},
	{name: "method_post", method: "POST", path: "/v1/users/{id}", body: `{}`, status: 405},
	{name: "method_get_tokens", method: "GET", path: "/v1/users/{id}/tokens/", status: 405},

	// List parameters.
	{name: "list_page_invalid", method: "GET", path: "/v1/users/?page=abc", status: 400},
	{name: "list_page_min", method: "GET", path: "/v1/users/?page=0", status: 400},
	{name: "list_page_min", method: "GET", path: "/v1/users/?page=-99999999999999999999999", status: 400},
	{name: "list_page_size_invalid", method: "GET", path: "/v1/users/?page_size=1.5", status: 400},
	{name: "list_page_size_min", method: "GET", path: "/v1/users/?page_size=-1", status: 400},
	{name: "list_gte_invalid", method: "GET", path: "/v1/users/?created_at__gte=yesterday", status: 400},
	{name: "list_lte_invalid", method: "GET", path: "/v1/users/?created_at__lte=2022-13-45", status: 400},
	{name: "list_external_id_invalid", method: "GET", path: "/v1/users/?external_user_id=a%00b", status: 400},
	{name: "list_external_id_invalid", method: "GET", path: "/v1/users/?external_user_id=a%ffb", status: 400},
	{name: "list_invalid_page", method: "GET", path: "/v1/users/?page=3", status: 404},
	{name: "list_invalid_page", method: "GET", path: "/v1/users/?page=99999999999999999999999", status: 404},
	{name: "list_invalid_page", method: "GET", path: "/v1/users/?page=2&page_size=1000", status: 404},
}

func TestErrors(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		id := create(t, env, env.Creds, johnBody)
		other := env.NewTenant("other", directory.DefaultUniquePolicy)
		otherID := create(t, env, other, johnBody)
		for _, tc := range errorCases {
			t.Run(tc.name, func(t *testing.T) {
				path := strings.NewReplacer("{id}", id, "{other}", otherID).Replace(tc.path)
				resp := env.Do(apitest.Request{Method: tc.method, Path: path, Header: headers(env.Creds, tc.header...), Body: tc.body, RawBody: tc.raw})
				if resp.Status != tc.status {
					t.Errorf("%s %s: got %d %s, want %d", tc.method, tc.path, resp.Status, resp.Body, tc.status)
				}
				apitest.Golden(t, tc.name, resp)
			})
		}
		// No error wrote anything: each tenant still has its one user, unchanged.
		for _, c := range []struct {
			creds apitest.Creds
			id    string
		}{{env.Creds, id}, {other, otherID}} {
			resp := env.Do(apitest.Request{Method: "GET", Path: "/v1/users/", Header: headers(c.creds)})
			var page listJSON
			resp.JSON(t, &page)
			if page.Count != 1 || page.Results[0].ID != c.id || page.Results[0].FirstName != "John" {
				t.Errorf("after the error cases: got %s, want the one original user", resp.Body)
			}
		}
	})
}

func TestMethodNotAllowedAllow(t *testing.T) {
	env := newEnv(t, "sqlite")
	for path, want := range map[string]string{"/v1/users/": allowCollection, "/v1/users/" + strings.Repeat("a", 32): allowItem} {
		resp := env.Do(apitest.Request{Method: "OPTIONS", Path: path, Header: headers(env.Creds)})
		if resp.Status != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != want {
			t.Errorf("OPTIONS %s: got %d Allow %q, want 405 Allow %q", path, resp.Status, resp.Header.Get("Allow"), want)
		}
	}
}

func TestInternalError(t *testing.T) {
	env := newEnv(t, "sqlite")
	resp := env.Do(apitest.Request{Method: "GET", Path: "/test/panic", Header: map[string]string{"X-Request-Id": "req-123"}})
	apitest.Golden(t, "internal_error", resp)
	if strings.Contains(string(resp.Body), "boom") {
		t.Errorf("500 body leaks the panic value: %s", resp.Body)
	}
}

func TestConflict(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		h := headers(env.Creds)
		id := create(t, env, env.Creds, johnBody)

		// The default policy makes e-mail (compared case-insensitively)
		// and phone unique.
		resp := env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: h,
			Body: `{"external_user_id":"2","first_name":"J","last_name":"D","email":"John.Doe@Example.com"}`})
		apitest.Golden(t, "conflict_email", resp)
		var body errorEnvelope
		resp.JSON(t, &body)
		if ex, _ := body.Error.Extra.(map[string]any); ex["existing_user_id"] != id {
			t.Errorf("existing_user_id: got %v, want %s", ex["existing_user_id"], id)
		}
		resp = env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: h,
			Body: `{"external_user_id":"2","first_name":"J","last_name":"D","phone":"+14155554193"}`})
		apitest.Golden(t, "conflict_phone", resp)

		id2 := create(t, env, env.Creds, `{"external_user_id":"12345","first_name":"J","last_name":"D","email":"j2@example.com"}`)
		resp = env.Do(apitest.Request{Method: "PATCH", Path: "/v1/users/" + id2 + "/", Header: h, Body: `{"email":"john.doe@example.com"}`})
		apitest.Golden(t, "conflict_email", resp)

		// A tenant whose policy makes nothing unique accepts duplicates, as
		// Truv's quickstart expects; one with unique external ids refuses them.
		loose := env.NewTenant("loose", directory.UniquePolicy{})
		create(t, env, loose, johnBody)
		create(t, env, loose, johnBody)
		strict := env.NewTenant("strict", directory.UniquePolicy{ExternalID: true})
		create(t, env, strict, johnBody)
		resp = env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: headers(strict), Body: `{"external_user_id":"12345","first_name":"A","last_name":"B"}`})
		apitest.Golden(t, "conflict_external_user_id", resp)
	})
}

// TestConcurrentCreate races creates of one e-mail: exactly one wins.
func TestConcurrentCreate(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		const n = 8
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				resp := env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: headers(env.Creds),
					Body: fmt.Sprintf(`{"external_user_id":"%d","first_name":"A","last_name":"B","email":"race@example.com"}`, i)})
				statuses[i] = resp.Status
			})
		}
		wg.Wait()
		count := map[int]int{}
		for _, s := range statuses {
			count[s]++
		}
		if count[http.StatusCreated] != 1 || count[http.StatusConflict] != n-1 {
			t.Errorf("statuses %v: want one 201 and %d 409", count, n-1)
		}
	})
}

func TestList(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		h := headers(env.Creds)
		var times []string
		for i := 1; i <= 5; i++ {
			env.Clock.Advance(time.Hour)
			resp := env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: h,
				Body: fmt.Sprintf(`{"external_user_id":"ext-%d","first_name":"U%d","last_name":"L"}`, i%2, i)})
			var u userJSON
			resp.JSON(t, &u)
			times = append(times, u.CreatedAt)
		}
		other := env.NewTenant("other", directory.DefaultUniquePolicy)
		create(t, env, other, johnBody)
		hosts := hostPairs(env)

		get := func(path string) (*apitest.Response, listJSON) {
			t.Helper()
			resp := env.Do(apitest.Request{Method: "GET", Path: path, Header: h})
			var page listJSON
			if resp.Status == http.StatusOK {
				resp.JSON(t, &page)
			}
			return resp, page
		}

		resp, _ := get("/v1/users/")
		apitest.Golden(t, "list_all", resp, hosts...)
		resp, _ = get("/v1/users/?page_size=2&list_links=false")
		apitest.Golden(t, "list_page1", resp, hosts...)
		resp, _ = get("/v1/users/?page_size=2&page=2&list_links=false")
		apitest.Golden(t, "list_page2", resp, hosts...)
		resp, _ = get("/v1/users?page=3&page_size=2")
		apitest.Golden(t, "list_page3", resp, hosts...)
		resp, _ = get("/v1/users?page=4&page_size=2")
		apitest.Golden(t, "list_invalid_page", resp)

		// The next and previous links walk the whole listing.
		var seen []string
		next := env.Server.URL + "/v1/users/?page_size=2"
		for pages := 0; next != ""; pages++ {
			if pages > 5 {
				t.Fatal("next links do not end")
			}
			u, err := url.Parse(next)
			if err != nil || u.Host != strings.TrimPrefix(env.Server.URL, "http://") || u.Scheme != "http" {
				t.Fatalf("next %q: want an absolute URL on the server", next)
			}
			_, page := get(u.RequestURI())
			for _, r := range page.Results {
				seen = append(seen, r.FirstName)
			}
			next = ""
			if page.Next != nil {
				next = *page.Next
			}
		}
		if got := strings.Join(seen, ","); got != "U1,U2,U3,U4,U5" {
			t.Errorf("walking next links: got %s, want U1..U5 in creation order", got)
		}

		for _, tc := range []struct {
			query string
			want  string
		}{
			{"external_user_id=ext-1", "U1,U3,U5"},
			{"external_user_id=ext-0&page_size=1&page=2", "U4"},
			{"external_user_id=EXT-1", ""},
			{"external_user_id=", "U1,U2,U3,U4,U5"},
			{"created_at__gte=" + url.QueryEscape(times[2]), "U3,U4,U5"},
			{"created_at__lte=" + url.QueryEscape(times[2]), "U1,U2,U3"},
			{"created_at__gt=" + url.QueryEscape(times[2]), "U1,U2,U3,U4,U5"}, // unknown parameter: ignored
			{"created_at__gte=" + url.QueryEscape(times[1]) + "&created_at__lte=" + url.QueryEscape(times[3]), "U2,U3,U4"},
			{"created_at__gte=" + url.QueryEscape(times[1]) + "&external_user_id=ext-0", "U2,U4"},
			{"created_at__gte=2026-01-02", "U1,U2,U3,U4,U5"},
			{"created_at__lte=2026-01-02", ""},
			{"created_at__gte=2026-01-02T06:00:00", "U3,U4,U5"},
			{"created_at__gte=2026-01-02T08:00:00%2B02:00", "U3,U4,U5"},
			{"created_at__gte=2026-01-02T08:00:00+02:00", "U3,U4,U5"}, // unencoded "+" arrives as a space
			{"created_at__gte=2026-01-02+06:00:00", "U3,U4,U5"},
			{"product_type=income", "U1,U2,U3,U4,U5"},
			{"page_size=5000", "U1,U2,U3,U4,U5"},
			{"page_size=99999999999999999999", "U1,U2,U3,U4,U5"},
			{"page=1&page_size=", "U1,U2,U3,U4,U5"},
		} {
			resp, page := get("/v1/users/?" + tc.query)
			var names []string
			for _, r := range page.Results {
				names = append(names, r.FirstName)
			}
			wantCount := len(names)
			if strings.Contains(tc.query, "page=2") {
				wantCount = 2
			}
			if got := strings.Join(names, ","); resp.Status != http.StatusOK || got != tc.want || page.Count != wantCount {
				t.Errorf("?%s: got %d %s (count %d), want %s", tc.query, resp.Status, got, page.Count, tc.want)
			}
		}

		// Other parameters survive in the links, which DRF sorts by name.
		_, page := get("/v1/users/?zeta=1&page_size=1&external_user_id=ext-1&page=2")
		host := env.Server.URL
		if page.Count != 3 || page.Next == nil || *page.Next != host+"/v1/users/?external_user_id=ext-1&page=3&page_size=1&zeta=1" ||
			page.Previous == nil || *page.Previous != host+"/v1/users/?external_user_id=ext-1&page_size=1&zeta=1" {
			t.Errorf("links: got count %d next %v previous %v", page.Count, deref(page.Next), deref(page.Previous))
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// TestListPageSizeCap checks page_size is capped at 1000, as DRF's
// max_page_size does silently, on a tenant of 1001 users (about 14 s
// under -race on SQLite, so only SQLite).
func TestListPageSizeCap(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 1001 users; TestParseListQuery covers the cap in -short")
	}
	env := newEnv(t, "sqlite")
	p := env.Creds.Principal()
	for i := range maxPageSize + 1 {
		in := &directory.User{ExternalID: fmt.Sprint(i), FirstName: "A", LastName: "B"}
		if _, err := env.Svc.CreateUser(t.Context(), p, in, rules); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{"page_size=5000", "page_size=1000", ""} {
		resp := env.Do(apitest.Request{Method: "GET", Path: "/v1/users/?" + q, Header: headers(env.Creds)})
		var page listJSON
		resp.JSON(t, &page)
		want := maxPageSize
		if q == "" {
			want = defaultPageSize
		}
		if page.Count != maxPageSize+1 || len(page.Results) != want || page.Next == nil {
			t.Errorf("?%s: got count %d, %d results, next %v; want count %d, %d results and a next link",
				q, page.Count, len(page.Results), deref(page.Next), maxPageSize+1, want)
		}
	}
}

func TestTenantIsolation(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		other := env.NewTenant("other", directory.DefaultUniquePolicy)
		id := create(t, env, env.Creds, johnBody)
		// Same e-mail in another tenant: uniqueness is per tenant.
		otherID := create(t, env, other, johnBody)

		for _, m := range []string{"GET", "PATCH", "DELETE"} {
			resp := env.Do(apitest.Request{Method: m, Path: "/v1/users/" + id + "/", Header: headers(other), Body: `{"first_name":"Eve"}`})
			if resp.Status != http.StatusNotFound {
				t.Errorf("%s another tenant's user: got %d %s, want 404", m, resp.Status, resp.Body)
			}
		}
		resp := env.Do(apitest.Request{Method: "GET", Path: "/v1/users/", Header: headers(other)})
		var page listJSON
		resp.JSON(t, &page)
		if page.Count != 1 || page.Results[0].ID != otherID {
			t.Errorf("other tenant's list: got %s, want only its own user", resp.Body)
		}
		resp = env.Do(apitest.Request{Method: "GET", Path: "/v1/users/" + id + "/", Header: headers(env.Creds)})
		var u userJSON
		resp.JSON(t, &u)
		if u.FirstName != "John" {
			t.Errorf("the user changed through another tenant: %s", resp.Body)
		}
	})
}

// TestNoSecretsInLogs checks the access log never carries an SSN (as sent
// or normalised) or a secret, on success and on every kind of failure.
func TestNoSecretsInLogs(t *testing.T) {
	env := newEnv(t, "sqlite")
	h := headers(env.Creds)
	resp := env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: h,
		Body: `{"external_user_id":"1","first_name":"A","last_name":"B","ssn":"222-23-3333"}`})
	var u userJSON
	resp.JSON(t, &u)
	if u.SSN == nil || *u.SSN != "222233333" {
		t.Fatalf("ssn: got %v, want the nine digits", deref(u.SSN))
	}
	for _, req := range []apitest.Request{
		{Method: "PATCH", Path: "/v1/users/" + u.ID + "/", Header: h, Body: `{"ssn":"333-44-5555"}`},
		{Method: "PATCH", Path: "/v1/users/" + u.ID + "/", Header: h, Body: `{"ssn":"999-88-7777"}`},
		{Method: "PATCH", Path: "/v1/users/" + u.ID + "/", Header: h, Body: `{"ssn":999887777}`},
		{Method: "PATCH", Path: "/v1/users/" + u.ID + "/", Header: h, Body: `{"ssn":"999887777`},
		{Method: "POST", Path: "/v1/users/", Header: h, Body: `{"ssn":"999-88-7777","email":"bad"}`},
		{Method: "GET", Path: "/v1/users/?external_user_id=999887777", Header: h},
		{Method: "GET", Path: "/v1/users/" + u.ID + "/", Header: h},
		{Method: "GET", Path: "/v1/users/", Header: headers(env.Creds, "X-Access-Secret", env.Creds.Secret+"x")},
		{Method: "GET", Path: "/v1/users/", Header: headers(env.Creds, "X-Access-Client-Id", "")},
	} {
		env.Do(req)
	}
	logs := env.Logs.String()
	if !strings.Contains(logs, `"dialect":"truv"`) {
		t.Fatalf("no access log lines captured: %q", logs)
	}
	for _, s := range []string{"222233333", "222-23-3333", "333445555", "333-44-5555", "999887777", "999-88-7777", env.Creds.Secret, strings.SplitN(env.Creds.Secret, "_", 3)[2]} {
		if strings.Contains(logs, s) {
			t.Errorf("the access log contains %q:\n%s", s, logs)
		}
	}
}

// FuzzCreateUser posts arbitrary bodies to the create route: the answer is
// never a 5xx, and a refused body writes nothing.
func FuzzCreateUser(f *testing.F) {
	for _, s := range []string{
		johnBody, `{}`, ``, `null`, `[]`, `"x"`, `1`, `{"first_name":1}`, `{"external_user_id":"1","first_name":"J`,
		`{"external_user_id":"1","first_name":"J","last_name":"D","ssn":"078-05-1120"}`,
		`{"external_user_id":"1","first_name":"J","last_name":"D","phone":"+1 415 555 4193"}`,
		"{\"first_name\":\"\xff\"}", `{"first_name":"\u0000"}`, `{"email":"a@b.c","email":"x"}`, `{} []`,
	} {
		f.Add([]byte(s))
	}
	env := newEnv(f, "sqlite")
	client := env.Server.Client()
	p := env.Creds.Principal()
	f.Fuzz(func(t *testing.T, body []byte) {
		before, err := env.Svc.ListUsers(t.Context(), p, directory.UserQuery{Limit: 1, Total: true})
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(t.Context(), "POST", env.Server.URL+"/v1/users/", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range headers(env.Creds) {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		_, _ = out.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("body %q: got %d %s", body, resp.StatusCode, out.Bytes())
		}
		after, err := env.Svc.ListUsers(t.Context(), p, directory.UserQuery{Limit: 1, Total: true})
		if err != nil {
			t.Fatal(err)
		}
		wantDelta := 0
		if resp.StatusCode == http.StatusCreated {
			wantDelta = 1
		}
		if after.Total-before.Total != wantDelta {
			t.Fatalf("body %q: status %d changed the user count by %d", body, resp.StatusCode, after.Total-before.Total)
		}
	})
}

// FuzzCreateUserFields posts well-formed bodies with arbitrary field
// values, to reach the core's checks rather than the JSON parser: never a
// 5xx, and a 201 always echoes a user the server can read back.
func FuzzCreateUserFields(f *testing.F) {
	f.Add("12345", "John", "Doe", "john.doe@example.com", "+14155554193", "222233333")
	f.Add("", " ", "\t", "a@b", "(415) 555-4193", "078-05-1120")
	f.Add("\x00", "\u2028", "é", "\"q\"@example.com", "+999999999999999", "666-12-3456")
	env := newEnv(f, "sqlite")
	client := env.Server.Client()
	f.Fuzz(func(t *testing.T, ext, first, last, email, phone, ssn string) {
		body, err := json.Marshal(map[string]string{"external_user_id": ext, "first_name": first,
			"last_name": last, "email": email, "phone": phone, "ssn": ssn})
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(t.Context(), "POST", env.Server.URL+"/v1/users/", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range headers(env.Creds) {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("body %s: got %d", body, resp.StatusCode)
		}
		if resp.StatusCode != http.StatusCreated {
			return
		}
		var u userJSON
		if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
			t.Fatal(err)
		}
		got, err := env.Svc.GetUser(t.Context(), env.Creds.Principal(), u.ID)
		if err != nil {
			t.Fatalf("created user %s cannot be read: %v", u.ID, err)
		}
		sent, _ := json.Marshal(u)
		stored, _ := json.Marshal(toWire(got))
		if !bytes.Equal(sent, stored) {
			t.Fatalf("created %s, stored %s", sent, stored)
		}
		// Keep the tenant free for the next input's e-mail and phone.
		if err := env.Svc.DeleteUser(t.Context(), env.Creds.Principal(), u.ID, 0); err != nil {
			t.Fatal(err)
		}
	})
}
