package entrust_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/dialect/entrust"
)

// TestUserIDCollisionFirst: when a create's userId and e-mail are both
// taken, the answer names the userId (Entrust's own uniqueness rule), not
// the e-mail (Roster's tenant policy), whatever order the store meets them
// in; likewise an alias before an e-mail, and on update.
func TestUserIDCollisionFirst(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend, entrust.Options{})
		c := login(t, env, env.Creds)
		mustStatus(t, c.do("POST", "/api/web/v3/users", seedCreate), http.StatusOK)

		// The vendor's example again: userId, alias and e-mail all taken.
		resp := c.do("POST", "/api/web/v3/users", seedCreate)
		mustStatus(t, resp, http.StatusConflict)
		if got := errorCode(t, resp); got != "duplicate_user_id" {
			t.Errorf("userId and e-mail taken: errorCode %q, want duplicate_user_id: %s", got, resp.Body)
		}
		// A new userId, the taken alias and e-mail: the alias is named.
		resp = c.do("POST", "/api/web/v3/users", strings.Replace(seedCreate, `"userId": "john"`, `"userId": "john2"`, 1))
		mustStatus(t, resp, http.StatusConflict)
		if got := errorCode(t, resp); got != "duplicate_user_alias" {
			t.Errorf("alias and e-mail taken: errorCode %q, want duplicate_user_alias: %s", got, resp.Body)
		}
		// Only the e-mail taken: that is what is named.
		resp = c.do("POST", "/api/web/v3/users", `{"userId":"jane","firstName":"j","lastName":"s","email":"JohnSmith@organization.com"}`)
		mustStatus(t, resp, http.StatusConflict)
		if got := errorCode(t, resp); got != "duplicate_email" {
			t.Errorf("e-mail taken: errorCode %q, want duplicate_email: %s", got, resp.Body)
		}
		// Update: renaming to a taken userId while taking a taken e-mail.
		other := c.createUser("mary")
		resp = c.do("PUT", "/api/web/v3/users/"+other, `{"userId":"JOHN","email":"johnsmith@organization.com"}`)
		mustStatus(t, resp, http.StatusConflict)
		if got := errorCode(t, resp); got != "duplicate_user_id" {
			t.Errorf("update: errorCode %q, want duplicate_user_id: %s", got, resp.Body)
		}
		// A user keeping its own userId is not a conflict with itself.
		resp = c.do("PUT", "/api/web/v3/users/"+other, `{"userId":"mary","email":"johnsmith@organization.com"}`)
		mustStatus(t, resp, http.StatusConflict)
		if got := errorCode(t, resp); got != "duplicate_email" {
			t.Errorf("update keeping its userId: errorCode %q, want duplicate_email: %s", got, resp.Body)
		}
	})
}

// TestTrailingSlash: generated Entrust clients that append a slash reach
// the same routes.
func TestTrailingSlash(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend, entrust.Options{})
		c := login(t, env, env.Creds)
		h := map[string]string{"Authorization": "Bearer " + c.token, "Content-Type": "application/json"}
		resp := env.Do(apitest.Request{Method: "POST", Path: "/api/web/v3/users/", Header: h, Body: seedCreate})
		mustStatus(t, resp, http.StatusOK)
		var u struct{ ID string }
		resp.JSON(t, &u)
		for _, req := range []apitest.Request{
			{Method: "GET", Path: "/api/web/v3/users/" + u.ID + "/"},
			{Method: "POST", Path: "/api/web/v3/users/userid/", Body: `{"userId":"johnny"}`},
			{Method: "POST", Path: "/api/web/v4/userspaged/", Body: `{"limit":10}`},
			{Method: "PUT", Path: "/api/web/v1/users/" + u.ID + "/state/", Body: `{"state":"INACTIVE"}`},
		} {
			req.Header = h
			if resp := env.Do(req); resp.Status != http.StatusOK {
				t.Errorf("%s %s: %d %s, want 200", req.Method, req.Path, resp.Status, resp.Body)
			}
		}
		resp = env.Do(apitest.Request{Method: "POST", Path: "/api/web/v1/adminapi/authenticate/", Header: map[string]string{"Content-Type": "application/json"},
			Body: `{"applicationId":"` + env.Creds.ClientID + `","sharedSecret":"` + env.Creds.Secret + `"}`})
		mustStatus(t, resp, http.StatusOK)
		resp = env.Do(apitest.Request{Method: "GET", Path: "/api/web/v3/nothing/", Header: h})
		if resp.Status != http.StatusNotFound || errorCode(t, resp) != "not_found" {
			t.Errorf("unknown path with a slash: %d %s, want the ErrorInfo 404", resp.Status, resp.Body)
		}
	})
}
