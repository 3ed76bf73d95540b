package scim_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
)

// patchBase is the user every PATCH case starts from.
const patchBase = `{
	"userName": "pat",
	"externalId": "ext-1",
	"name": {"givenName": "Pat", "familyName": "Doe"},
	"displayName": "Pat Doe",
	"emails": [{"value": "pat@example.com", "type": "work", "primary": true}],
	"phoneNumbers": [{"value": "+15555550100", "type": "work"}, {"value": "+15555550199", "type": "mobile"}],
	"addresses": [{"type": "work", "streetAddress": "1 Main St", "locality": "Springfield", "region": "IL", "postalCode": "62701", "country": "US"}],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"},
	"urn:ietf:params:scim:schemas:extension:roster:2.0:User": {"ssn": "123-45-6789", "aliases": [{"value": "pdoe", "type": "CUSTOM"}]}
}`

const (
	ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	ros = "urn:ietf:params:scim:schemas:extension:roster:2.0:User"
)

func ops(list string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + list + `}`
}

func TestPatchUser(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		status   int
		scimType string
		want     map[string]any // path -> value; nil means absent
		ssn      string         // the stored SSN afterwards, when set ("-" for none)
	}{
		{
			name: "Entra multi-valued: emails[type eq work].value and name.familyName",
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
				{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}]}`,
			status: 200,
			want: map[string]any{"emails.0.value": "updatedEmail@microsoft.com", "name.familyName": "updatedFamilyName",
				"name.formatted": "Pat updatedFamilyName", "name.givenName": "Pat"},
		},
		{
			name:   "Entra single-valued: userName",
			body:   ops(`[{"op":"Replace","path":"userName","value":"5b50642d@testuser.com"}]`),
			status: 200,
			want:   map[string]any{"userName": "5b50642d@testuser.com"},
		},
		{
			name:   "Entra disable with a string boolean",
			body:   ops(`[{"op":"Replace","path":"active","value":"False"}]`),
			status: 200,
			want:   map[string]any{"active": false, "name.givenName": "Pat"},
		},
		{
			name:   "Okta path-less deactivation",
			body:   ops(`[{"op":"replace","value":{"active":false}}]`),
			status: 200,
			want:   map[string]any{"active": false, "emails.0.type": "work"},
		},
		{
			name:   "path-less replace with read-only id and meta is accepted",
			body:   ops(`[{"op":"replace","value":{"id":"something","meta":{},"displayName":"New Name","groups":[]}}]`),
			status: 200,
			want:   map[string]any{"displayName": "New Name"},
		},
		{
			name:   "path-less add of dotted paths and an extension URN attribute (Entra)",
			body:   ops(`[{"op":"Add","value":{"name.givenName":"Given","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Finance","title":"Boss"}}]`),
			status: 200,
			want:   map[string]any{"name.givenName": "Given", ent + "|department": "Finance", "title": "Boss"},
		},
		{
			name:   "path-less replace of a nested extension object",
			body:   ops(`[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"42"}}}]`),
			status: 200,
			want:   map[string]any{ent + "|employeeNumber": "42", ent + "|department": "Sales"},
		},
		{
			name:   "extension attribute path",
			body:   ops(`[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Legal"},{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"26118915-6090-4610-87e4-49d8ca9f808d"}}]`),
			status: 200,
			want:   map[string]any{ent + "|department": "Legal", ent + "|manager.value": "26118915-6090-4610-87e4-49d8ca9f808d"},
		},
		{
			name:   "add to a value path with no match creates it (mobile)",
			body:   ops(`[{"op":"remove","path":"phoneNumbers[type eq \"mobile\"]"},{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+15555550111"}]`),
			status: 200,
			want:   map[string]any{"phoneNumbers.0.type": "work", "phoneNumbers.1.value": "+15555550111", "phoneNumbers.1.type": "mobile"},
		},
		{
			name:   "remove by value filter",
			body:   ops(`[{"op":"remove","path":"phoneNumbers[type eq \"work\"]"}]`),
			status: 200,
			want:   map[string]any{"phoneNumbers.0.type": "mobile", "phoneNumbers.0.primary": nil, "phoneNumbers.1": nil},
		},
		{
			name:   "remove a whole attribute and a sub-attribute",
			body:   ops(`[{"op":"remove","path":"emails"},{"op":"remove","path":"name.givenName"},{"op":"remove","path":"addresses[type eq \"work\"].locality"}]`),
			status: 200,
			want:   map[string]any{"emails": nil, "name.givenName": nil, "name.familyName": "Doe", "addresses.0.locality": nil, "addresses.0.region": "IL"},
		},
		{
			name:   "replace a multi-valued attribute wholesale",
			body:   ops(`[{"op":"replace","path":"emails","value":[{"value":"second@example.com","type":"home","primary":true}]}]`),
			status: 200,
			want:   map[string]any{"emails.0.value": "second@example.com", "emails.1": nil},
		},
		{
			name:   "replace of a complex attribute keeps unspecified sub-attributes",
			body:   ops(`[{"op":"replace","path":"name","value":{"givenName":"Only"}}]`),
			status: 200,
			want:   map[string]any{"name.givenName": "Only", "name.familyName": "Doe"},
		},
		{
			name:   "add a primary email keeps the others and takes primary from them",
			body:   ops(`[{"op":"add","path":"emails","value":[{"value":"new@example.com","type":"work","primary":true}]}]`),
			status: 200,
			want:   map[string]any{"emails.0.primary": nil, "emails.1.value": "new@example.com", "emails.1.primary": true, "emails.2": nil},
		},
		{
			name:   "set and clear the write-only SSN",
			body:   ops(`[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:roster:2.0:User:ssn","value":"219-09-9999"}]`),
			status: 200,
			want:   map[string]any{ros + "|ssn": nil},
			ssn:    "219099999",
		},
		{
			name:   "remove the SSN",
			body:   ops(`[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:roster:2.0:User:ssn"}]`),
			status: 200,
			ssn:    "-",
		},
		{
			name:   "roster aliases through a value path",
			body:   ops(`[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:roster:2.0:User:aliases","value":[{"value":"pd2"}]},{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:roster:2.0:User:aliases[type eq \"custom\"]"}]`),
			status: 200,
			want:   map[string]any{ros + "|aliases.0.value": "pd2", ros + "|aliases.1": nil},
		},
		{
			name:   "attribute names in paths are case-insensitive",
			body:   ops(`[{"op":"replace","path":"NAME.GIVENNAME","value":"Upper"},{"op":"replace","path":"Emails[Type eq \"WORK\"].Value","value":"up@example.com"}]`),
			status: 200,
			want:   map[string]any{"name.givenName": "Upper", "emails.0.value": "up@example.com"},
		},
		// Errors: nothing is applied (atomicity is checked by the test).
		{name: "unknown op", body: ops(`[{"op":"move","path":"userName","value":"x"}]`), status: 400, scimType: "invalidSyntax"},
		{name: "no Operations", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, status: 400, scimType: "invalidSyntax"},
		{name: "wrong schemas", body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"add","path":"title","value":"x"}]}`, status: 400, scimType: "invalidSyntax"},
		{name: "remove without path", body: ops(`[{"op":"remove"}]`), status: 400, scimType: "noTarget"},
		{name: "unknown attribute", body: ops(`[{"op":"replace","path":"title","value":"ok"},{"op":"replace","path":"favouriteColour","value":"x"}]`), status: 400, scimType: "invalidPath"},
		{name: "malformed path", body: ops(`[{"op":"replace","path":"emails[type eq","value":"x"}]`), status: 400, scimType: "invalidPath"},
		{name: "unknown schema in path", body: ops(`[{"op":"replace","path":"urn:example:unknown:2.0:User:x","value":"x"}]`), status: 400, scimType: "invalidPath"},
		{name: "read-only id", body: ops(`[{"op":"replace","path":"id","value":"x"}]`), status: 400, scimType: "mutability"},
		{name: "read-only groups", body: ops(`[{"op":"add","path":"groups","value":[{"value":"x"}]}]`), status: 400, scimType: "mutability"},
		{name: "filter on a single-valued attribute", body: ops(`[{"op":"replace","path":"name[givenName eq \"x\"].familyName","value":"x"}]`), status: 400, scimType: "invalidPath"},
		{name: "no match for a non-eq filter", body: ops(`[{"op":"replace","path":"emails[value co \"nomatch\"].value","value":"x@example.com"}]`), status: 400, scimType: "noTarget"},
		{name: "invalid value type, second op: nothing applied", body: ops(`[{"op":"replace","path":"title","value":"applied?"},{"op":"replace","path":"active","value":"perhaps"}]`), status: 400, scimType: "invalidValue"},
		{name: "invalid email", body: ops(`[{"op":"replace","path":"emails[type eq \"work\"].value","value":"not-an-email"}]`), status: 400, scimType: "invalidValue"},
		{name: "clearing userName", body: ops(`[{"op":"remove","path":"userName"}]`), status: 400, scimType: "invalidValue"},
		{name: "path-less value not an object", body: ops(`[{"op":"replace","value":"x"}]`), status: 400, scimType: "invalidValue"},
		{name: "Operations not an array", body: `{"Operations":{"op":"add"}}`, status: 400, scimType: "invalidSyntax"},
	}
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u := e.createUser(replaceName(patchBase, i))
				id := u["id"].(string)
				r := e.call("PATCH", "/Users/"+id, tt.body)
				if tt.status != 200 {
					scimErr(t, r, tt.status, tt.scimType)
					after := e.call("GET", "/Users/"+id, "")
					if got := after.Header.Get("ETag"); got != `W/"1"` {
						t.Errorf("a failed PATCH changed the user: ETag %s, body %s", got, after.Body)
					}
					return
				}
				mustStatus(t, r, http.StatusOK)
				if got := r.Header.Get("ETag"); got != `W/"2"` {
					t.Errorf("ETag %q, want W/\"2\"", got)
				}
				got := r.Map(t)
				for path, want := range tt.want {
					if v := at(got, path); jsonString(v) != jsonString(want) {
						t.Errorf("%s = %s, want %s\n%s", path, jsonString(v), jsonString(want), r.Body)
					}
				}
				if tt.ssn != "" {
					stored, err := e.Svc.GetUser(t.Context(), e.Creds.Principal(), id)
					if err != nil {
						t.Fatal(err)
					}
					want := tt.ssn
					if want == "-" {
						want = ""
					}
					if stored.SSN.Reveal() != want {
						t.Errorf("stored SSN %q, want %q", stored.SSN.Reveal(), want)
					}
				}
			})
		}

		// Deactivated users stay readable, and reactivate.
		u := e.createUser(replaceName(patchBase, 999))
		id := u["id"].(string)
		mustStatus(t, e.call("PATCH", "/Users/"+id, ops(`[{"op":"replace","value":{"active":false}}]`)), 200)
		r := e.call("GET", "/Users/"+id, "")
		mustStatus(t, r, 200)
		if at(r.Map(t), "active") != false {
			t.Errorf("deactivated user: %s", r.Body)
		}
		r = e.call("PATCH", "/Users/"+id, ops(`[{"op":"replace","value":{"active":true}}]`))
		mustStatus(t, r, 200)
		if at(r.Map(t), "active") != true {
			t.Errorf("reactivated user: %s", r.Body)
		}
		apitest.Golden(t, "users/patch-reactivate", r)

		// If-Match on PATCH.
		r = e.call("PATCH", "/Users/"+id, ops(`[{"op":"replace","path":"title","value":"x"}]`), "If-Match", `W/"1"`)
		scimErr(t, r, http.StatusPreconditionFailed, "")
		r = e.call("PATCH", "/Users/"+id, ops(`[{"op":"replace","path":"title","value":"x"}]`), "If-Match", `W/"1", W/"3"`)
		mustStatus(t, r, http.StatusOK)
		r = e.call("PATCH", "/Users/"+id, ops(`[{"op":"replace","path":"title","value":"y"}]`), "If-Match", `*`)
		mustStatus(t, r, http.StatusOK)
		r = e.call("PATCH", "/Users/"+id, ops(`[{"op":"replace","path":"title","value":"z"}]`), "If-Match", `"5"`)
		mustStatus(t, r, http.StatusOK) // a strong tag naming the version matches too
		r = e.call("PATCH", "/Users/"+id, ops(`[{"op":"replace","path":"title","value":"z"}]`), "If-Match", `garbage`)
		scimErr(t, r, http.StatusPreconditionFailed, "")
		r = e.call("PATCH", "/Users/00000000-0000-7000-8000-000000000000", ops(`[{"op":"replace","path":"title","value":"z"}]`))
		scimErr(t, r, http.StatusNotFound, "")
		r = e.call("PATCH", "/Users/"+id, ops(`[{"op":"replace","path":"nope","value":"x"}]`))
		apitest.Golden(t, "users/patch-invalid-path", r)
		r = e.call("PATCH", "/Users/"+id, ops(`[{"op":"replace","path":"id","value":"x"}]`))
		apitest.Golden(t, "users/patch-mutability", r)
	})
}

// replaceName gives a copy of the base user unique identifiers.
func replaceName(body string, i int) string {
	s := itoa(i)
	r := body
	for _, p := range [][2]string{{`"pat"`, `"pat` + s + `"`}, {"pat@example.com", "pat" + s + "@example.com"}, {"pdoe", "pdoe" + s},
		{"+15555550100", "+1555555" + pad(i) + "0"}, {"+15555550199", "+1555555" + pad(i) + "9"}} {
		r = strings.ReplaceAll(r, p[0], p[1])
	}
	return r
}

func pad(i int) string {
	s := itoa(i % 1000)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}
