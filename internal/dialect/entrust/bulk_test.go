package entrust_test

import (
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/dialect/entrust"
)

type bulkOut []struct {
	Success bool
	User    *struct{ ID, UserID string }
	Error   *struct{ ErrorCode string }
}

func (c *client) bulk(method, body string) bulkOut {
	c.t.Helper()
	r := c.do(method, "/api/web/v3/users/multiple", body)
	mustStatus(c.t, r, 200)
	var out bulkOut
	r.JSON(c.t, &out)
	return out
}

func successes(b bulkOut) []bool {
	out := make([]bool, len(b))
	for i, r := range b {
		out[i] = r.Success
	}
	return out
}

func TestBulk(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend, entrust.Options{})
		c := login(t, env, env.Creds)
		u := func(id string) string {
			return `{"userId":"` + id + `","firstName":"F","lastName":"L","email":"` + id + `@example.com","externalId":"x-` + id + `"}`
		}

		// stopOnError false: every item is tried.
		r := c.do("POST", "/api/web/v3/users/multiple", `{"users":[`+u("a1")+`,{"userId":"bad"},"not an object",{"userId":"A1","firstName":"F","lastName":"L","email":"other@example.com"},`+u("a2")+`]}`)
		mustStatus(t, r, 200)
		apitest.Golden(t, "bulk_create", r)
		var out bulkOut
		r.JSON(t, &out)
		if got := successes(out); len(got) != 5 || !got[0] || got[1] || got[2] || got[3] || !got[4] {
			t.Errorf("stopOnError false: %v", got)
		}
		if out[3].Error == nil || out[3].Error.ErrorCode != "duplicate_user_id" {
			t.Errorf("duplicate item: %+v", out[3].Error)
		}

		// stopOnError true: stops at the first failure; later items are
		// neither created nor reported.
		out = c.bulk("POST", `{"stopOnError":true,"users":[`+u("b1")+`,`+u("a1")+`,`+u("b2")+`]}`)
		if got := successes(out); len(got) != 2 || !got[0] || got[1] {
			t.Errorf("stopOnError true: %v", got)
		}
		mustStatus(t, c.do("POST", "/api/web/v3/users/userid", `{"userId":"b2"}`), 404)
		mustStatus(t, c.do("POST", "/api/web/v3/users/userid", `{"userId":"b1"}`), 200)

		// Update by each idType (out[0] is b1).
		up := c.do("PUT", "/api/web/v3/users/multiple", `{"users":[
			{"id":"a1","idType":"USERID","parms":{"firstName":"One"}},
			{"id":"x-a2","idType":"EXTERNALID","parms":{"firstName":"Two"}},
			{"id":"`+out[0].User.ID+`","parms":{"firstName":"Three"}},
			{"id":"nobody","idType":"USERID","parms":{"firstName":"x"}},
			{"id":"a1","idType":"NAME","parms":{}},
			{"id":"a1","idType":"USERID"},
			{"id":"a1","idType":"USERID","parms":{"email":""}}]}`)
		mustStatus(t, up, 200)
		apitest.Golden(t, "bulk_update", up)
		var upOut bulkOut
		up.JSON(t, &upOut)
		if got := successes(upOut); len(got) != 7 || !got[0] || !got[1] || !got[2] || got[3] || got[4] || got[5] || got[6] {
			t.Errorf("bulk update: %v", got)
		}
		for userID, want := range map[string]string{"a1": "One", "a2": "Two", "b1": "Three"} {
			r := c.do("POST", "/api/web/v3/users/userid", `{"userId":"`+userID+`"}`)
			if m := r.Map(t); m["firstName"] != want {
				t.Errorf("%s firstName: %v, want %s", userID, m["firstName"], want)
			}
		}

		// Delete, stopping at the first failure.
		del := c.bulk("DELETE", `{"stopOnError":true,"users":[{"id":"a1","idType":"USERID"},{"id":"nobody","idType":"USERID"},{"id":"a2","idType":"USERID"}]}`)
		if got := successes(del); len(got) != 2 || !got[0] || got[1] {
			t.Errorf("bulk delete: %v", got)
		}
		mustStatus(t, c.do("POST", "/api/web/v3/users/userid", `{"userId":"a1"}`), 404)
		mustStatus(t, c.do("POST", "/api/web/v3/users/userid", `{"userId":"a2"}`), 200)
		del = c.bulk("DELETE", `{"users":[{"id":"x-a2","idType":"EXTERNALID"},{"id":"not-a-uuid"}]}`)
		if got := successes(del); len(got) != 2 || !got[0] || got[1] {
			t.Errorf("bulk delete 2: %v", got)
		}

		// Envelope errors fail the whole request.
		for _, b := range []string{`{}`, `{"users":{}}`, `[]`, `{"users":null}`} {
			if r := c.do("POST", "/api/web/v3/users/multiple", b); r.Status != 400 {
				t.Errorf("%s: %d", b, r.Status)
			}
		}
		many := `{"users":[`
		for i := 0; i < 101; i++ {
			if i > 0 {
				many += ","
			}
			many += `{}`
		}
		r = c.do("POST", "/api/web/v3/users/multiple", many+`]}`)
		mustStatus(t, r, 400)
		if got := c.bulk("POST", `{"users":[]}`); len(got) != 0 {
			t.Errorf("empty bulk: %v", got)
		}
	})
}
