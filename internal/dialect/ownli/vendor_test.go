package ownli_test

import (
	"net/http"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
)

// TestVendorPaths replays Ownli's create (the seed example) on both
// backends with and without a trailing slash, and the lenient inputs that
// must be refused: a null body is no update.
func TestVendorPaths(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		h := legacy(env.Creds)
		h["Content-Type"] = "application/json"
		jane := decodeUser(t, do(t, env, http.StatusOK, apitest.Request{Method: "POST", Path: "/api/users/?returnExistingUserIfExists=true", Header: h, Body: seedUser}))
		// The same request without the slash returns the existing user.
		again := decodeUser(t, do(t, env, http.StatusOK, apitest.Request{Method: "POST", Path: "/api/users?returnExistingUserIfExists=true", Header: h, Body: seedUser}))
		if again.ID != jane.ID {
			t.Fatalf("returnExistingUserIfExists: got user %s, want %s", again.ID, jane.ID)
		}
		do(t, env, http.StatusOK, apitest.Request{Method: "GET", Path: "/api/users/" + jane.ID + "/", Header: h})
		do(t, env, http.StatusOK, apitest.Request{Method: "PUT", Path: "/api/users/" + jane.ID + "/", Header: h, Body: `{"firstName":"Janet"}`})
		do(t, env, http.StatusOK, apitest.Request{Method: "GET", Path: "/api/users/", Header: h})
		do(t, env, http.StatusOK, apitest.Request{Method: "POST", Path: "/api/auth/token/", Header: map[string]string{"Content-Type": "application/json"},
			Body: `{"clientId":"` + env.Creds.ClientID + `","clientSecret":"` + env.Creds.Secret + `","partnerId":"acme","scope":"admin"}`})

		for _, body := range []string{`null`, ` null `} {
			r := do(t, env, http.StatusBadRequest, apitest.Request{Method: "PUT", Path: "/api/users/" + jane.ID, Header: h, Body: body})
			if m := r.Map(t); m["error_code"] != "ERROR_INVALID_PARAMETERS" {
				t.Errorf("PUT %q: got %s, want ERROR_INVALID_PARAMETERS", body, r.Body)
			}
		}
		got := decodeUser(t, do(t, env, http.StatusOK, apitest.Request{Method: "GET", Path: "/api/users/" + jane.ID, Header: h}))
		if got.FirstName != "Janet" || got.Updated == "" {
			t.Errorf("after the refused PUTs: %+v", got)
		}
	})
}
