package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
)

// TestSCIMMultiValuedAcrossDialects (issue 8): a user's SCIM e-mails are
// all kept when a single-valued dialect writes the same user, the primary
// is what those dialects show and change, and a user created by a
// single-valued dialect shows in SCIM as one work e-mail and one work
// phone.
func TestSCIMMultiValuedAcrossDialects(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := apitest.New(t, backend, mountAll)
		c := newClient(t, env, env.Creds)

		status, u := c.do("scim", "POST", "/scim/v2/Users", `{
			"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
			"userName": "multi",
			"name": {"givenName": "Mary", "familyName": "Multi"},
			"emails": [
				{"value": "home@example.org", "type": "home"},
				{"value": "work@example.com", "type": "work", "primary": true},
				{"value": "other@example.net", "type": "other"}
			]
		}`)
		if status != 201 {
			t.Fatalf("scim create: %d %v", status, u)
		}
		id := u["id"].(string)
		hexID := strings.ReplaceAll(id, "-", "")

		// emails checks the SCIM view: values in order with their types and
		// exactly one primary.
		emails := func(step string, want [][3]string) {
			t.Helper()
			status, m := c.do("scim", "GET", "/scim/v2/Users/"+id, "")
			if status != 200 {
				t.Fatalf("%s: scim get: %d %v", step, status, m)
			}
			got, _ := m["emails"].([]any)
			if len(got) != len(want) {
				t.Fatalf("%s: %d e-mails, want %d: %v", step, len(got), len(want), got)
			}
			for i, w := range want {
				v, _ := got[i].(map[string]any)
				primary, _ := v["primary"].(bool)
				if v["value"] != w[0] || v["type"] != w[1] || primary != (w[2] == "primary") {
					t.Errorf("%s: emails[%d] = %v, want value %s type %s %s", step, i, v, w[0], w[1], w[2])
				}
			}
		}
		// primaryEverywhere checks the e-mail each single-valued dialect shows.
		primaryEverywhere := func(step, want string) {
			t.Helper()
			for dialect, path := range getPaths(id) {
				if dialect == "scim" {
					continue
				}
				status, m := c.do(dialect, "GET", path, "")
				if status != 200 {
					t.Errorf("%s: %s get: %d %v", step, dialect, status, m)
					continue
				}
				if m["email"] != want {
					t.Errorf("%s: %s shows email %v, want the primary %s", step, dialect, m["email"], want)
				}
			}
		}

		emails("after the SCIM create", [][3]string{{"home@example.org", "home", ""}, {"work@example.com", "work", "primary"}, {"other@example.net", "other", ""}})
		primaryEverywhere("after the SCIM create", "work@example.com")

		status, m := c.do("truv", "PATCH", "/v1/users/"+hexID+"/", `{"first_name":"Marie"}`)
		if status != 200 {
			t.Fatalf("truv patch first_name: %d %v", status, m)
		}
		if m["email"] != "work@example.com" {
			t.Errorf("truv patch answer: email %v, want the primary work@example.com", m["email"])
		}
		emails("after a Truv PATCH of first_name", [][3]string{{"home@example.org", "home", ""}, {"work@example.com", "work", "primary"}, {"other@example.net", "other", ""}})
		if _, m := c.do("scim", "GET", "/scim/v2/Users/"+id, ""); jsonOf(m["name"]) != `{"familyName":"Multi","formatted":"Marie Multi","givenName":"Marie"}` && !strings.Contains(jsonOf(m["name"]), `"givenName":"Marie"`) {
			t.Errorf("truv first_name not applied: %v", m["name"])
		}

		status, m = c.do("entrust", "PUT", "/api/web/v3/users/"+id, `{"email":"new.work@example.com"}`)
		if status != 200 {
			t.Fatalf("entrust put email: %d %v", status, m)
		}
		emails("after an Entrust PUT of email", [][3]string{{"home@example.org", "home", ""}, {"new.work@example.com", "work", "primary"}, {"other@example.net", "other", ""}})
		primaryEverywhere("after an Entrust PUT of email", "new.work@example.com")

		// A user created by Truv: one work e-mail (primary), one work phone.
		status, m = c.do("truv", "POST", "/v1/users/", `{"external_user_id":"t-mv","first_name":"Tru","last_name":"V","email":"truv.mv@example.com","phone":"+14155550111"}`)
		if status != 201 {
			t.Fatalf("truv create: %d %v", status, m)
		}
		tid, ok := directory.ParseID(m["id"].(string))
		if !ok {
			t.Fatalf("truv id %v", m["id"])
		}
		status, s := c.do("scim", "GET", "/scim/v2/Users/"+tid, "")
		if status != 200 {
			t.Fatalf("scim get of the Truv user: %d %v", status, s)
		}
		es, _ := s["emails"].([]any)
		if len(es) != 1 || jsonOf(es[0]) != `{"primary":true,"type":"work","value":"truv.mv@example.com"}` {
			t.Errorf("Truv user in SCIM: emails %s, want one work e-mail, primary", jsonOf(es))
		}
		ps, _ := s["phoneNumbers"].([]any)
		if len(ps) != 1 || ps[0].(map[string]any)["value"] != "+14155550111" || ps[0].(map[string]any)["type"] != "work" {
			t.Errorf("Truv user in SCIM: phoneNumbers %s, want one work phone", jsonOf(ps))
		}
	})
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
