package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/server"
	"github.com/roster-dev/roster/internal/testdb"
)

func mountAll(mux *http.ServeMux, svc *directory.Service) {
	server.Mount(mux, svc, server.Options{})
}

// client speaks every dialect with one credential: apitest's Speaker,
// which holds the Entrust token and each dialect's headers, plus the
// test's own t.
type client struct {
	*apitest.Speaker
	t     *testing.T
	env   *apitest.Env
	creds apitest.Creds
}

func newClient(t *testing.T, env *apitest.Env, c apitest.Creds) *client {
	return &client{Speaker: apitest.NewSpeaker(env, c), t: t, env: env, creds: c}
}

func (c *client) do(dialect, method, path, body string) (int, map[string]any) {
	c.t.Helper()
	r := c.env.Do(apitest.Request{Method: method, Path: path, Header: c.Headers(dialect), Body: body})
	var m map[string]any
	if len(r.Body) > 0 && r.Body[0] == '{' {
		r.JSON(c.t, &m)
	}
	return r.Status, m
}

// getPaths are each dialect's read of one user by its dashed id.
func getPaths(id string) map[string]string {
	return map[string]string{
		"truv":    "/v1/users/" + strings.ReplaceAll(id, "-", "") + "/",
		"entrust": "/api/web/v3/users/" + id,
		"cl2c":    "/v1/cl2c/users/" + id,
		"ownli":   "/api/users/" + id,
		"scim":    "/scim/v2/Users/" + id,
	}
}

// TestSameUserEverywhere creates a user through each dialect and reads it
// through every other, then deletes it and sees it gone everywhere, and
// checks another tenant never sees it.
func TestSameUserEverywhere(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := apitest.New(t, backend, mountAll)
		c := newClient(t, env, env.Creds)
		other := newClient(t, env, env.NewTenant("other", directory.DefaultUniquePolicy))

		creates := []struct {
			dialect, path, body string
			idOf                func(map[string]any) string
		}{
			{"truv", "/v1/users/", `{"external_user_id":"t-1","first_name":"Tru","last_name":"V","email":"truv@example.com","phone":"+14155550101"}`,
				func(m map[string]any) string { id, _ := directory.ParseID(m["id"].(string)); return id }},
			{"entrust", "/api/web/v3/users", `{"userId":"entrust1","firstName":"En","lastName":"Trust","email":"entrust@example.com"}`,
				func(m map[string]any) string { return m["id"].(string) }},
			{"cl2c", "/v1/cl2c/user", `{"firstName":"Cl","lastName":"Tc","email":"cl2c@example.com","userName":"cl2cuser","phoneNumber":"+14155550102"}`,
				func(m map[string]any) string { return m["id"].(string) }},
			{"ownli", "/api/users", `{"firstName":"Own","lastName":"Li","email":"ownli@example.com","phone":"+14155550103","address":{"state":"CA"}}`,
				func(m map[string]any) string { return m["id"].(string) }},
			{"scim", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"scimuser","name":{"givenName":"Sc","familyName":"Im"},"emails":[{"value":"scim@example.com","primary":true}]}`,
				func(m map[string]any) string { return m["id"].(string) }},
		}
		for _, cr := range creates {
			status, m := c.do(cr.dialect, "POST", cr.path, cr.body)
			if status/100 != 2 {
				t.Fatalf("%s create: %d %v", cr.dialect, status, m)
			}
			id := cr.idOf(m)
			for dialect, path := range getPaths(id) {
				status, got := c.do(dialect, "GET", path, "")
				if status != 200 {
					t.Errorf("created via %s, read via %s: status %d %v", cr.dialect, dialect, status, got)
					continue
				}
				if !strings.Contains(fmt.Sprint(got), "xample.com") {
					t.Errorf("created via %s, read via %s: e-mail missing in %v", cr.dialect, dialect, got)
				}
				if status, _ := other.do(dialect, "GET", path, ""); status != 404 {
					t.Errorf("other tenant reads %s's user via %s: status %d, want 404", cr.dialect, dialect, status)
				}
			}
		}

		// Deleted through one dialect, gone through all.
		status, m := c.do("truv", "POST", "/v1/users/", `{"external_user_id":"gone","first_name":"G","last_name":"One"}`)
		if status != 201 {
			t.Fatalf("truv create: %d %v", status, m)
		}
		id, _ := directory.ParseID(m["id"].(string))
		if status, _ := c.do("cl2c", "DELETE", "/v1/cl2c/users/"+id, ""); status/100 != 2 {
			t.Fatalf("cl2c delete: %d", status)
		}
		for dialect, path := range getPaths(id) {
			if status, _ := c.do(dialect, "GET", path, ""); status != 404 {
				t.Errorf("deleted user via %s: status %d, want 404", dialect, status)
			}
		}
	})
}

// TestUniquenessAcrossDialects: an e-mail taken through one dialect is taken
// for all of them (default policy), and a username taken through SCIM is an
// Entrust userId conflict.
func TestUniquenessAcrossDialects(t *testing.T) {
	env := apitest.New(t, "sqlite", mountAll)
	c := newClient(t, env, env.Creds)
	if status, m := c.do("ownli", "POST", "/api/users", `{"firstName":"A","lastName":"B","email":"same@example.com","phone":"+14155550199","address":{"state":"NY"}}`); status != 200 {
		t.Fatalf("ownli create: %d %v", status, m)
	}
	if status, _ := c.do("truv", "POST", "/v1/users/", `{"external_user_id":"x","first_name":"A","last_name":"B","email":"SAME@example.com"}`); status != 409 {
		t.Errorf("truv duplicate e-mail: %d, want 409", status)
	}
	if status, _ := c.do("scim", "POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"Shared"}`); status != 201 {
		t.Fatalf("scim create: %d", status)
	}
	if status, _ := c.do("entrust", "POST", "/api/web/v3/users", `{"userId":"shared","firstName":"A","lastName":"B","email":"e@example.com"}`); status != 409 {
		t.Errorf("entrust userId equal to a SCIM userName (case-insensitive): %d, want 409", status)
	}
	if status, _ := c.do("cl2c", "POST", "/v1/cl2c/user", `{"firstName":"A","lastName":"B","email":"c@example.com","userName":"SHARED"}`); status != 409 {
		t.Errorf("cl2c userName equal to a SCIM userName: %d, want 409", status)
	}
}

// TestRaceAcrossInstancesOnePostgres runs two handlers, each with its own store
// (connection pool) on one PostgreSQL database: tokens issued by one are
// accepted by the other, and racing creates across both still yield one
// user per e-mail.
func TestRaceAcrossInstancesOnePostgres(t *testing.T) {
	url := testdb.PostgresURL(t)
	kr := testdb.Keyring(t)
	var bases []string
	var svcs []*directory.Service
	for range 2 {
		st := testdb.OpenURL(t, url, kr)
		svc := directory.NewService(st, directory.Options{})
		srv := httptest.NewServer(server.New(svc, server.Options{}))
		t.Cleanup(srv.Close)
		bases = append(bases, srv.URL)
		svcs = append(svcs, svc)
	}
	ctx := t.Context()
	if _, err := svcs[0].CreateTenant(ctx, "acme", directory.DefaultUniquePolicy); err != nil {
		t.Fatal(err)
	}
	cred, sec, err := svcs[1].CreateCredential(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	call := func(base, method, path string, h map[string]string, body string) (int, map[string]any) {
		req, _ := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return resp.StatusCode, m
	}
	status, m := call(bases[0], "POST", "/api/web/v1/adminapi/authenticate", map[string]string{"Content-Type": "application/json"},
		fmt.Sprintf(`{"applicationId":%q,"sharedSecret":%q}`, cred.ClientID, sec))
	if status != 200 {
		t.Fatalf("authenticate on instance 0: %d %v", status, m)
	}
	tok := m["authToken"].(string)
	if status, m := call(bases[1], "POST", "/api/web/v3/users", map[string]string{"Authorization": tok, "Content-Type": "application/json"},
		`{"userId":"via-b","firstName":"A","lastName":"B","email":"b@example.com"}`); status != 200 {
		t.Fatalf("instance 1 rejects instance 0's token: %d %v", status, m)
	}

	const racers = 20
	var wg sync.WaitGroup
	codes := make(chan int, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := map[string]string{"Content-Type": "application/json", "X-Access-Client-Id": cred.ClientID, "X-Access-Secret": sec}
			s, _ := call(bases[i%2], "POST", "/v1/users/", h, fmt.Sprintf(`{"external_user_id":"r%d","first_name":"R","last_name":"R","email":"race@example.com"}`, i))
			codes <- s
		}()
	}
	wg.Wait()
	close(codes)
	created := 0
	for s := range codes {
		switch s {
		case 201:
			created++
		case 409:
		default:
			t.Errorf("racing create: status %d, want 201 or 409", s)
		}
	}
	if created != 1 {
		t.Fatalf("racing creates of one e-mail across two instances: %d succeeded, want exactly 1", created)
	}
}

// TestRateLimit: over its budget a credential gets 429 in each dialect's
// own format, while another credential is unaffected.
func TestRateLimit(t *testing.T) {
	st := testdb.SQLite(t)
	svc := directory.NewService(st, directory.Options{RateLimit: 6}) // burst 10, then 1 per 10 s
	srv := httptest.NewServer(server.New(svc, server.Options{}))
	t.Cleanup(srv.Close)
	ctx := t.Context()
	if _, err := svc.CreateTenant(ctx, "acme", directory.DefaultUniquePolicy); err != nil {
		t.Fatal(err)
	}
	newCred := func() (string, string) {
		c, sec, err := svc.CreateCredential(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		return c.ClientID, sec
	}
	get := func(path string, h map[string]string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	id, sec := newCred()
	truvH := map[string]string{"X-Access-Client-Id": id, "X-Access-Secret": sec}
	for i := range 10 {
		if status, body := get("/v1/users/", truvH); status != 200 {
			t.Fatalf("request %d within the burst: %d %s", i+1, status, body)
		}
	}
	status, body := get("/v1/users/", truvH)
	if status != 429 || !strings.Contains(body, `"throttled"`) {
		t.Fatalf("over budget via Truv: %d %s, want 429 throttled", status, body)
	}
	// The budget is the credential's, whatever dialect it speaks.
	if status, body := get("/scim/v2/Users", map[string]string{"Authorization": "Bearer " + sec}); status != 429 || !strings.Contains(body, `"429"`) {
		t.Fatalf("over budget via SCIM: %d %s, want a SCIM 429", status, body)
	}
	id2, sec2 := newCred()
	if status, _ := get("/v1/users/", map[string]string{"X-Access-Client-Id": id2, "X-Access-Secret": sec2}); status != 200 {
		t.Fatalf("another credential: %d, want 200", status)
	}
}
