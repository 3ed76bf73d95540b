package scim_test

import (
	"net/url"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
)

// FuzzCreateUser posts arbitrary bytes to POST /Users: the answer is never
// a 5xx, and a 4xx writes nothing.
func FuzzCreateUser(f *testing.F) {
	for _, s := range []string{
		userBody("seed"),
		`{"userName":"a","emails":[{"value":"a@b.co","primary":"True"}],"active":"false"}`,
		`{"userName":"b","name":"x"}`,
		`{"userName":"c","urn:ietf:params:scim:schemas:extension:roster:2.0:User":{"ssn":"123456789","aliases":[{"value":"c"}]}}`,
		`{"userName":"d","phoneNumbers":[{"value":"+1 555"},{"type":"mobile","value":5}]}`,
		`{"userName":"e","addresses":{"streetAddress":"1\n2\n3"}}`,
		`{"schemas":[1],"userName":"f"}`,
		`[]`, `null`, `{`, "\xff", `{"userName":"` + "\u0000" + `"}`,
	} {
		f.Add([]byte(s))
	}
	e := newEnv(f, "sqlite")
	count := func(t *testing.T) int {
		page, err := e.Svc.ListUsers(t.Context(), e.Creds.Principal(), directory.UserQuery{Limit: 1, Total: true})
		if err != nil {
			t.Fatal(err)
		}
		return page.Total
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := e.with(t)
		before := count(t)
		r := e.Do(apitest.Request{Method: "POST", Path: "/scim/v2/Users", Header: hdr(e), RawBody: body})
		if r.Status >= 500 {
			t.Fatalf("status %d for %q: %s", r.Status, body, r.Body)
		}
		if r.Status >= 400 && count(t) != before {
			t.Fatalf("a %d wrote a user for %q", r.Status, body)
		}
	})
}

// FuzzUsersFilter sends arbitrary filter strings to GET /Users: the
// answer is 200 or 400, never a 5xx.
func FuzzUsersFilter(f *testing.F) {
	for _, s := range []string{
		`userName eq "a"`, `emails co "x" and active eq true`, `emails[type eq "work" and value sw "a"]`,
		`not (userName pr) or meta.created gt "2020-01-01T00:00:00Z"`, `name.givenName ge 5`, `active eq "true"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, `((((`, `userName eq "\u0000"`, `x eq null`,
		`phoneNumbers[type eq "mobile"].value eq "1"`, `id eq "01234567-89ab-7def-8123-456789abcdef"`,
	} {
		f.Add(s)
	}
	e := newEnv(f, "sqlite")
	e.createUser(userBody("fuzz"))
	f.Fuzz(func(t *testing.T, filter string) {
		e := e.with(t)
		r := e.call("GET", "/Users?filter="+url.QueryEscape(filter), "")
		if r.Status != 200 && r.Status != 400 {
			t.Fatalf("status %d for filter %q: %s", r.Status, filter, r.Body)
		}
		r = e.call("GET", "/Groups?filter="+url.QueryEscape(filter), "")
		if r.Status != 200 && r.Status != 400 {
			t.Fatalf("groups: status %d for filter %q: %s", r.Status, filter, r.Body)
		}
	})
}

// FuzzPatchUser sends arbitrary PATCH bodies: never a 5xx.
func FuzzPatchUser(f *testing.F) {
	for _, s := range []string{
		ops(`[{"op":"replace","path":"emails[type eq \"work\"].value","value":"a@b.co"}]`),
		ops(`[{"op":"add","value":{"name.givenName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":5}}}]`),
		ops(`[{"op":"remove","path":"members[value eq \"x\"]"}]`),
		ops(`[{"op":"replace","path":"addresses[type eq \"home\"]","value":[1]}]`),
		ops(`[{"op":"add","path":"phoneNumbers","value":{"value":null}}]`),
		`{"Operations":[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:roster:2.0:User","value":{"extras":[{}]}}]}`,
	} {
		f.Add(s)
	}
	e := newEnv(f, "sqlite")
	id := e.createUser(userBody("patchfuzz"))["id"].(string)
	f.Fuzz(func(t *testing.T, body string) {
		e := e.with(t)
		r := e.call("PATCH", "/Users/"+id, body)
		if r.Status >= 500 {
			t.Fatalf("status %d for %q: %s", r.Status, body, r.Body)
		}
	})
}
