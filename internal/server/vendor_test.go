package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/server"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestViewOfUsersCreatedElsewhere: each dialect shows a user another
// dialect created in the shape its vendor documents. What the vendor
// requires is never null: CL2C's userName, firstName, lastName and email
// are strings, Ownli's address an object and its firstName, lastName and
// phone strings; a value stands in for a missing one only where it means
// the same (Ownli's cell phone is the core's mobile). Optional values stay
// the vendor's null.
func TestViewOfUsersCreatedElsewhere(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := apitest.New(t, backend, mountAll)
		c := newClient(t, env, env.Creds)

		// CL2C's user, found again by Ownli's returnExistingUserIfExists.
		status, m := c.do("cl2c", "POST", "/v1/cl2c/user",
			`{"firstName":"Cl","lastName":"Tc","email":"cl2c@example.com","userName":"cl2cuser","phoneNumber":"+14155550102"}`)
		if status != 200 {
			t.Fatalf("cl2c create: %d %v", status, m)
		}
		cl2cID := m["id"].(string)
		status, m = c.do("ownli", "POST", "/api/users?returnExistingUserIfExists=true",
			`{"firstName":"Other","lastName":"Name","email":"CL2C@example.com","phone":"+14155550199","address":{"state":"CA"}}`)
		if status != 200 || m["id"] != cl2cID {
			t.Fatalf("ownli returnExistingUserIfExists: %d %v, want the CL2C user", status, m)
		}
		addr, ok := m["address"].(map[string]any)
		if !ok {
			t.Fatalf("ownli address: %v, want an object (Ownli documents address as required)", m["address"])
		}
		for _, k := range []string{"addressLine1", "addressLine2", "city", "state", "country", "zip"} {
			if v, present := addr[k]; !present || v != nil {
				t.Errorf("ownli address.%s: %v (present %v), want null", k, v, present)
			}
		}
		if m["firstName"] != "Cl" || m["phone"] != "+14155550102" {
			t.Errorf("ownli view of the CL2C user: %v", m)
		}

		// Truv's user: no username, no address.
		status, m = c.do("truv", "POST", "/v1/users/", `{"external_user_id":"t-1","first_name":"Tru","last_name":"V","email":"truv@example.com"}`)
		if status != 201 {
			t.Fatalf("truv create: %d %v", status, m)
		}
		truvID, _ := directory.ParseID(m["id"].(string))
		_, m = c.do("cl2c", "GET", "/v1/cl2c/users/"+truvID, "")
		if v, present := m["userName"]; !present || v != "" {
			t.Errorf("cl2c userName of a Truv user: %v (present %v), want \"\"", v, present)
		}
		if m["phoneNumber"] != nil || m["firstName"] != "Tru" {
			t.Errorf("cl2c view of the Truv user: %v", m)
		}
		_, m = c.do("ownli", "GET", "/api/users/"+truvID, "")
		if _, ok := m["address"].(map[string]any); !ok || m["phone"] != "" || m["email"] != "truv@example.com" {
			t.Errorf("ownli view of the Truv user: %v, want an address object, phone \"\"", m)
		}
		_, m = c.do("entrust", "GET", "/api/web/v3/users/"+truvID, "")
		if v, present := m["userId"]; !present || v != nil {
			t.Errorf("entrust userId of a Truv user: %v (present %v), want null (Entrust serializes absent values as null)", v, present)
		}
		// A CL2C list shows it too, with the same strings.
		r := env.Do(apitest.Request{Method: "GET", Path: "/v1/cl2c/users", Header: c.Headers("cl2c")})
		if strings.Contains(string(r.Body), `"userName":null`) || strings.Contains(string(r.Body), `"email":null`) {
			t.Errorf("cl2c list shows null required strings: %s", r.Body)
		}

		// Entrust's user with a mobile and no phone: Ownli's cell phone.
		status, m = c.do("entrust", "POST", "/api/web/v3/users",
			`{"userId":"mob","firstName":"Mo","lastName":"Bile","email":"mob@example.com","mobile":"+16138561234"}`)
		if status != 200 {
			t.Fatalf("entrust create: %d %v", status, m)
		}
		entrustID := m["id"].(string)
		_, m = c.do("ownli", "GET", "/api/users/"+entrustID, "")
		if m["phone"] != "+16138561234" {
			t.Errorf("ownli phone of an Entrust user with a mobile: %v, want the mobile", m["phone"])
		}
		_, m = c.do("truv", "GET", "/v1/users/"+strings.ReplaceAll(entrustID, "-", "")+"/", "")
		if m["phone"] != nil || m["external_user_id"] != nil || m["first_name"] != "Mo" {
			t.Errorf("truv view of the Entrust user: %v, want phone and external_user_id null", m)
		}

		// Ownli can still edit the users it did not create: an update
		// checks only what it changes.
		if status, m := c.do("ownli", "PUT", "/api/users/"+truvID, `{"firstName":"Truvian"}`); status != 200 || m["firstName"] != "Truvian" {
			t.Errorf("ownli update of the Truv user: %d %v", status, m)
		}
		if status, m := c.do("cl2c", "PUT", "/v1/cl2c/user", `{"id":"`+truvID+`","phoneNumber":"(415) 555-0100"}`); status != 200 || m["phoneNumber"] != "(415) 555-0100" {
			t.Errorf("cl2c update of the Truv user: %d %v", status, m)
		}
	})
}

// TestCORSWired: the allow-list reaches the assembled server, and a
// preflight to a dialect that authenticates everything (Truv answers 401
// without its headers) is answered before it.
func TestCORSWired(t *testing.T) {
	st := testdb.SQLite(t)
	svc := directory.NewService(st, directory.Options{})
	srv := httptest.NewServer(server.New(svc, server.Options{CORSOrigins: []string{"https://app.example.com"}}))
	defer srv.Close()
	for _, path := range []string{"/v1/users/", "/api/web/v3/users", "/v1/cl2c/user", "/api/users", "/scim/v2/Users"} {
		req, _ := http.NewRequest("OPTIONS", srv.URL+path, nil)
		req.Header.Set("Origin", "https://app.example.com")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Errorf("preflight %s: %d, Allow-Origin %q", path, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	req, _ := http.NewRequest("GET", srv.URL+"/v1/users/", nil)
	req.Header.Set("Origin", "https://app.example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("unauthenticated GET from an allowed origin: %d, Allow-Origin %q; want Truv's 401, readable by the page",
			resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// TestDeepNestingOneAnswer: a body of 100,000 nested arrays (over some
// routes' size limits, under others') gets one answer on every route: a
// 400 in the dialect's format saying it nests too deep.
func TestDeepNestingOneAnswer(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := apitest.New(t, backend, mountAll)
		c := newClient(t, env, env.Creds)
		deep := strings.Repeat("[", 100000)
		for _, rt := range []struct{ dialect, method, path string }{
			{"truv", "POST", "/v1/users/"},
			{"entrust", "POST", "/api/web/v3/users"},
			{"entrust", "POST", "/api/web/v3/users/multiple"},
			{"entrust", "POST", "/api/web/v4/userspaged"},
			{"cl2c", "POST", "/v1/cl2c/user"},
			{"ownli", "POST", "/api/users"},
			{"scim", "POST", "/scim/v2/Users"},
			{"scim", "POST", "/scim/v2/Bulk"},
		} {
			r := env.Do(apitest.Request{Method: rt.method, Path: rt.path, Header: c.Headers(rt.dialect), Body: deep})
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "deeper than") {
				t.Errorf("%s %s: %d %.200s, want 400 naming the nesting", rt.method, rt.path, r.Status, r.Body)
			}
		}
	})
}
