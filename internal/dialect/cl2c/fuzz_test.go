package cl2c_test

import (
	"net/http"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
)

// FuzzCreateUser posts arbitrary bytes to the create route. Invariants: no
// 5xx; every error is a 4xx in a CL2C body; a non-200 writes no user.
func FuzzCreateUser(f *testing.F) {
	for _, s := range []string{
		seedExample,
		`{}`,
		`{"firstName":"A","lastName":"B","email":"a@example.com","userName":"fuzz","phoneNumber":"+15556667777"}`,
		`{"firstName":"A","lastName":"B","email":"a@example.com","userName":"fuzz","phoneNumber":"+1 555"}`,
		`{"firstName":"\u0000","lastName":"B","email":"a@b","userName":""}`,
		`{"userName":["x"]}`,
		`[]`,
		`{"firstName":"a"`,
		"{\"firstName\":\"\xff\"}",
		`{"firstName":"\ud800"}`,
		`null`,
		`{"firstName":1e400}`,
	} {
		f.Add([]byte(s))
	}
	e := newEnv(f, "sqlite")
	p := e.Creds.Principal()
	f.Fuzz(func(t *testing.T, body []byte) {
		// Env.Do calls T.Helper, which a fuzz target may only call on
		// its own t.
		e := *e
		e.T = t
		before := count(t, &e, p)
		resp := e.Do(apitest.Request{Method: "POST", Path: "/v1/cl2c/user", Header: headers(e.Creds), RawBody: append([]byte{}, body...)})
		if resp.Status >= 500 {
			t.Fatalf("got %d for %q: %s", resp.Status, body, resp.Body)
		}
		if resp.Status == http.StatusOK {
			return
		}
		assertCL2CError(t, resp)
		if after := count(t, &e, p); after != before {
			t.Fatalf("a %d wrote a user: %d users, had %d", resp.Status, after, before)
		}
	})
}

func count(t *testing.T, e *apitest.Env, p directory.Principal) int {
	t.Helper()
	page, err := e.Svc.ListUsers(t.Context(), p, directory.UserQuery{Limit: 1, Total: true})
	if err != nil {
		t.Fatal(err)
	}
	return page.Total
}
