package scim_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
)

func TestUsersCRUD(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)

		// Create: 201, Location, ETag, the full representation.
		r := e.call("POST", "/Users", `{
			"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"externalId": "00ujl29u0le5T6Aj10h7",
			"userName": "test.user@okta.local",
			"name": {"givenName": "Test", "middleName": "Q", "familyName": "User", "formatted": "ignored"},
			"displayName": "Test User",
			"title": "Engineer",
			"locale": "en-US",
			"timezone": "America/Los_Angeles",
			"emails": [{"primary": true, "value": "Test.User@okta.local", "type": "work"}],
			"phoneNumbers": [{"value": "+1 (555) 555-0100", "type": "work"}, {"value": "555-0199", "type": "mobile"}],
			"addresses": [{"type": "work", "streetAddress": "1 Main St\nSuite 2", "locality": "Springfield", "region": "IL", "postalCode": "62701", "country": "US", "primary": true}],
			"password": "1mz050nq",
			"roles": [],
			"groups": [],
			"active": true,
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "department": "Tour Operations", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}},
			"urn:ietf:params:scim:schemas:extension:roster:2.0:User": {"ssn": "123-45-6789", "aliases": [{"type": "CUSTOM", "value": "tuser"}], "extras": [{"name": "tosAnswer", "value": "yes"}]}
		}`)
		mustStatus(t, r, http.StatusCreated)
		u := r.Map(t)
		id, _ := u["id"].(string)
		if got, want := r.Header.Get("Location"), origin+"/scim/v2/Users/"+id; got != want {
			t.Errorf("Location %q, want %q", got, want)
		}
		if got := r.Header.Get("ETag"); got != `W/"1"` {
			t.Errorf("ETag %q, want W/\"1\"", got)
		}
		if strings.Contains(string(r.Body), "6789") || strings.Contains(string(r.Body), "1mz050nq") {
			t.Errorf("response leaks the SSN or password: %s", r.Body)
		}
		apitest.Golden(t, "users/create", r)

		// Read: the same, with ETag; If-None-Match → 304.
		r = e.call("GET", "/Users/"+id, "")
		mustStatus(t, r, http.StatusOK)
		apitest.Golden(t, "users/get", r)
		if got := r.Header.Get("ETag"); got != `W/"1"` {
			t.Errorf("ETag %q", got)
		}
		r = e.call("GET", "/Users/"+id, "", "If-None-Match", `W/"1"`)
		mustStatus(t, r, http.StatusNotModified)
		if len(r.Body) != 0 {
			t.Errorf("304 with a body: %s", r.Body)
		}
		r = e.call("GET", "/Users/"+id, "", "If-None-Match", `W/"7"`)
		mustStatus(t, r, http.StatusOK)
		// The 32-hex form of the id reads the same user.
		r = e.call("GET", "/Users/"+strings.ReplaceAll(id, "-", ""), "")
		mustStatus(t, r, http.StatusOK)

		// PUT replaces: omitted core attributes are cleared, an omitted
		// extension and the write-only SSN are kept, active is kept.
		r = e.call("PUT", "/Users/"+id, `{
			"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
			"id": "`+id+`",
			"userName": "test.user@okta.local",
			"name": {"givenName": "Another", "familyName": "User"},
			"emails": [{"primary": true, "value": "test.user@okta.local", "type": "work", "display": "test.user@okta.local"}],
			"groups": [],
			"meta": {"resourceType": "User"}
		}`, "If-Match", `W/"1"`)
		mustStatus(t, r, http.StatusOK)
		apitest.Golden(t, "users/put", r)
		got := r.Map(t)
		if at(got, "title") != nil || at(got, "phoneNumbers") != nil || at(got, "name.middleName") != nil {
			t.Errorf("PUT kept omitted core attributes: %s", r.Body)
		}
		if at(got, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User|department") != "Tour Operations" {
			t.Errorf("PUT dropped the omitted enterprise extension: %s", r.Body)
		}
		if at(got, "active") != true {
			t.Errorf("active %v", at(got, "active"))
		}
		ssn, err := e.Svc.GetUser(t.Context(), e.Creds.Principal(), id)
		if err != nil || ssn.SSN.Reveal() != "123456789" {
			t.Errorf("SSN after PUT: %v %v", ssn, err)
		}

		// PUT without userName is 400; with a stale version 412.
		r = e.call("PUT", "/Users/"+id, `{"name":{"givenName":"X"}}`)
		scimErr(t, r, http.StatusBadRequest, "invalidValue")
		apitest.Golden(t, "users/put-no-username", r)
		r = e.call("PUT", "/Users/"+id, userBody("test.user@okta.local"), "If-Match", `W/"1"`)
		scimErr(t, r, http.StatusPreconditionFailed, "")
		apitest.Golden(t, "users/put-412", r)

		// Delete with a stale version: 412; then 204 and 404 after.
		r = e.call("DELETE", "/Users/"+id, "", "If-Match", `W/"1"`)
		scimErr(t, r, http.StatusPreconditionFailed, "")
		r = e.call("DELETE", "/Users/"+id, "", "If-Match", `W/"2"`)
		mustStatus(t, r, http.StatusNoContent)
		r = e.call("GET", "/Users/"+id, "")
		scimErr(t, r, http.StatusNotFound, "")
		apitest.Golden(t, "users/get-404", r)
		r = e.call("DELETE", "/Users/"+id, "")
		scimErr(t, r, http.StatusNotFound, "")
	})
}

func TestUsersCreateErrors(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		e.createUser(userBody("dup"))
		tests := []struct {
			name     string
			body     string
			status   int
			scimType string
		}{
			{"duplicate userName", userBody("DUP"), 409, "uniqueness"},
			{"duplicate email", `{"userName":"other","emails":[{"value":"dup@example.com"}]}`, 409, "uniqueness"},
			{"missing userName", `{"name":{"givenName":"A"}}`, 400, "invalidValue"},
			{"empty userName", `{"userName":"  "}`, 400, "invalidValue"},
			{"invalid email", `{"userName":"x1","emails":[{"value":"not an email"}]}`, 400, "invalidValue"},
			{"userName not a string", `{"userName":5}`, 400, "invalidValue"},
			{"active not a boolean", `{"userName":"x2","active":"maybe"}`, 400, "invalidValue"},
			{"emails not a list", `{"userName":"x3","emails":"a@b.c"}`, 400, "invalidValue"},
			{"name not an object", `{"userName":"x4","name":"Ann"}`, 400, "invalidValue"},
			{"wrong schemas", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"userName":"x5"}`, 400, "invalidSyntax"},
			{"bad ssn", `{"userName":"x6","urn:ietf:params:scim:schemas:extension:roster:2.0:User":{"ssn":"000-00-0000"}}`, 400, "invalidValue"},
			{"alias equal to userName", `{"userName":"x7","urn:ietf:params:scim:schemas:extension:roster:2.0:User":{"aliases":[{"value":"X7"}]}}`, 400, "invalidValue"},
			{"alias taken", `{"userName":"x8","urn:ietf:params:scim:schemas:extension:roster:2.0:User":{"aliases":[{"value":"dup"}]}}`, 409, "uniqueness"},
			{"extras naming a SCIM attribute", `{"userName":"x9","urn:ietf:params:scim:schemas:extension:roster:2.0:User":{"extras":[{"name":"title","value":"x"}]}}`, 400, "mutability"},
			{"malformed JSON", `{"userName":`, 400, "invalidSyntax"},
			{"array body", `[{"userName":"x10"}]`, 400, "invalidSyntax"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.call("POST", "/Users", tt.body)
				scimErr(t, r, tt.status, tt.scimType)
			})
		}
		r := e.call("POST", "/Users", `{"userName":"DUP"}`)
		apitest.Golden(t, "users/create-409", r)
		r = e.call("POST", "/Users", `{"name":{"givenName":"A"}}`)
		apitest.Golden(t, "users/create-400", r)

		// Phone numbers are kept as sent, E.164 or not (RFC 7643 §4.1.2
		// says RFC 3966 SHOULD be used; Roster does not reject).
		u := e.createUser(`{"userName":"phones","phoneNumbers":[{"value":"tel:+1-201-555-0123","type":"work"},{"value":"(555) 010-9999 ext. 4","type":"mobile"}]}`)
		if got := at(u, "phoneNumbers.0.value"); got != "tel:+1-201-555-0123" {
			t.Errorf("phone %v", got)
		}
		if got := at(u, "phoneNumbers.1.value"); got != "(555) 010-9999 ext. 4" {
			t.Errorf("mobile %v", got)
		}
		// Attribute names are case-insensitive; booleans may be strings.
		u = e.createUser(`{"USERNAME":"Case.Insensitive","Name":{"GIVENNAME":"Cy"},"active":"False"}`)
		if at(u, "userName") != "Case.Insensitive" || at(u, "name.givenName") != "Cy" || at(u, "active") != false {
			t.Errorf("case-insensitive create: %s", jsonString(u))
		}
	})
}
