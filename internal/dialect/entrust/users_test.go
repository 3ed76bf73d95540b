package entrust_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/dialect/entrust"
)

// seedCreate is the vendor's create-user REST example, verbatim.
const seedCreate = `{
"firstName": "john",
"lastName": "smith",
"email": "johnsmith@organization.com",
"userId": "john",
"mobile": "+16138561234",
"phone": "+161385699876",
"locale": "",
"state": "ACTIVE",
"externalId": null,
"externalSource": null,
"userAttributeValues": [],
"userAliases": [
{
"value": "johnny",
"type": "CUSTOM"
}
]
}`

type wireAlias struct {
	ID, UserID, Value, Type string
}

type wireUser struct {
	ID          string
	UserID      *string
	FirstName   *string
	Email       *string
	Phone       *string
	Mobile      *string
	Locale      *string
	State       string
	ExternalID  *string
	Locked      bool
	Type        string
	UserAliases []wireAlias
	Grids       []any
	Tokens      []any
}

func TestSeedRoundTrip(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend, entrust.Options{})
		c := login(t, env, env.Creds)

		created := c.do("POST", "/api/web/v3/users", seedCreate)
		mustStatus(t, created, 200)
		apitest.Golden(t, "create_seed", created)
		var u wireUser
		created.JSON(t, &u)
		if u.Phone == nil || *u.Phone != "+161385699876" {
			t.Errorf("phone: got %v, want +161385699876 as sent", u.Phone)
		}
		if u.Locale != nil || u.ExternalID != nil {
			t.Errorf("locale, externalId: got %v, %v, want null", u.Locale, u.ExternalID)
		}
		if u.Type != "MGMT_UI" || u.Locked || u.State != "ACTIVE" {
			t.Errorf("type/locked/state: got %s/%v/%s", u.Type, u.Locked, u.State)
		}
		if len(u.UserAliases) != 2 || u.UserAliases[0].Value != "johnny" || u.UserAliases[0].Type != "CUSTOM" ||
			u.UserAliases[1].Value != "john" || u.UserAliases[1].Type != "USERID" {
			t.Fatalf("aliases: got %+v, want johnny/CUSTOM then john/USERID", u.UserAliases)
		}
		for _, a := range u.UserAliases {
			if a.UserID != u.ID || a.ID == "" || a.ID == u.ID {
				t.Errorf("alias %+v: want its own id and userId %s", a, u.ID)
			}
		}
		if u.Grids == nil || len(u.Grids) != 0 || u.Tokens == nil || len(u.Tokens) != 0 {
			t.Errorf("grids, tokens: got %v, %v, want []", u.Grids, u.Tokens)
		}

		got := c.do("GET", "/api/web/v3/users/"+u.ID, "")
		mustStatus(t, got, 200)
		if string(got.Body) != string(created.Body) {
			t.Errorf("GET differs from create:\n%s\n%s", got.Body, created.Body)
		}
		// Truv's 32-hex form of the id names the same user.
		mustStatus(t, c.do("GET", "/api/web/v3/users/"+strings.ReplaceAll(u.ID, "-", ""), ""), 200)

		for _, login := range []string{"john", "JOHN", "johnny", " Johnny "} {
			r := c.do("POST", "/api/web/v3/users/userid", `{"userId":"`+login+`"}`)
			mustStatus(t, r, 200)
			if string(r.Body) != string(created.Body) {
				t.Errorf("userid %q differs from create:\n%s", login, r.Body)
			}
		}
		r := c.do("POST", "/api/web/v3/users/userid", `{"userId":"nobody"}`)
		mustStatus(t, r, 404)
		apitest.Golden(t, "userid_not_found", r)
	})
}

func TestUserLifecycle(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend, entrust.Options{})
		c := login(t, env, env.Creds)
		id := c.createUser("ann", `"externalId":"ext-1","externalSource":"hr","locale":"FR","mobile":"+15556667777"`,
			`"userAttributeValues":[{"userAttributeId":"dept","value":"sales"}]`,
			`"userExtraAttributes":[{"name":"Personal Mobile","type":"OTP_SMS","value":"+15550001111"}]`,
			`"preferredOtpDelivery":"SMS","preferredOtpDeliveryContactAttributes":{"OTP_SMS":"Personal Mobile"}`,
			`"userPrincipalName":"ann@corp.example","securityId":"sid-1","registrationRequired":false`)
		get := func() map[string]any {
			t.Helper()
			r := c.do("GET", "/api/web/v3/users/"+id, "")
			mustStatus(t, r, 200)
			return r.Map(t)
		}
		u := get()
		apitest.Golden(t, "get_full", c.do("GET", "/api/web/v3/users/"+id, ""))
		if u["locale"] != "fr" || u["externalId"] != "ext-1" || u["registrationRequired"] != false || u["verificationRequired"] != true {
			t.Errorf("create: got %v", u)
		}

		// By externalId.
		r := c.do("POST", "/api/web/v3/users/externalid", `{"userId":"ext-1"}`)
		mustStatus(t, r, 200)
		mustStatus(t, c.do("POST", "/api/web/v3/users/externalid", `{"userId":"EXT-1"}`), 404)

		// Partial update: absent unchanged, "" clears, null unchanged.
		r = c.do("PUT", "/api/web/v3/users/"+id, `{"firstName":"Anne","externalId":"","externalSource":null,"locale":"","lock":true}`)
		mustStatus(t, r, 200)
		if len(r.Body) != 0 {
			t.Errorf("update body: got %s, want none", r.Body)
		}
		u = get()
		if u["firstName"] != "Anne" || u["lastName"] != "L" || u["externalId"] != nil || u["externalSource"] != "hr" ||
			u["locale"] != nil || u["locked"] != true || u["mobile"] != "+15556667777" {
			t.Errorf("after update: got %v", u)
		}
		if avs, _ := u["userAttributeValues"].([]any); len(avs) != 1 {
			t.Errorf("attributes kept: got %v", u["userAttributeValues"])
		}
		// Required fields cannot be cleared.
		r = c.do("PUT", "/api/web/v3/users/"+id, `{"email":"","userId":" "}`)
		mustStatus(t, r, 400)
		apitest.Golden(t, "update_clear_required", r)

		// Unlock and state.
		mustStatus(t, c.do("PUT", "/api/web/v1/users/"+id+"/unlock", ""), 200)
		if u = get(); u["locked"] != false {
			t.Errorf("unlock: locked = %v", u["locked"])
		}
		mustStatus(t, c.do("PUT", "/api/web/v1/users/"+id+"/state", `{"state":"INACTIVE"}`), 200)
		if u = get(); u["state"] != "INACTIVE" {
			t.Errorf("state: got %v", u["state"])
		}
		r = c.do("PUT", "/api/web/v1/users/"+id+"/state", `{"state":"inactive"}`)
		mustStatus(t, r, 400)
		apitest.Golden(t, "state_invalid", r)

		// Aliases replace, keeping ids of kept values; USERID alias equal to
		// the userId (as a GET returns it) is accepted and ignored.
		mustStatus(t, c.do("PUT", "/api/web/v3/users/"+id, `{"userAliases":[{"value":"a1","type":"CUSTOM"}]}`), 200)
		first := aliasIDs(t, c, id)
		mustStatus(t, c.do("PUT", "/api/web/v3/users/"+id,
			`{"userAliases":[{"value":"A1","type":"CUSTOM"},{"value":"a2"},{"value":"ann","type":"USERID"}]}`), 200)
		second := aliasIDs(t, c, id)
		if first["a1"] == "" || second["A1"] != first["a1"] || second["a2"] == "" || second["ann"] != first["ann"] {
			t.Errorf("alias ids: before %v, after %v", first, second)
		}
		r = c.do("PUT", "/api/web/v3/users/"+id, `{"userAliases":[{"value":"other","type":"USERID"}]}`)
		mustStatus(t, r, 400)

		// Delete.
		r = c.do("DELETE", "/api/web/v3/users/"+id, "")
		mustStatus(t, r, 200)
		r = c.do("GET", "/api/web/v3/users/"+id, "")
		mustStatus(t, r, 404)
		apitest.Golden(t, "get_not_found", r)
		for _, p := range []struct{ m, path, body string }{
			{"DELETE", "/api/web/v3/users/" + id, ""},
			{"PUT", "/api/web/v3/users/" + id, `{"firstName":"x"}`},
			{"PUT", "/api/web/v1/users/" + id + "/state", `{"state":"ACTIVE"}`},
			{"PUT", "/api/web/v1/users/" + id + "/unlock", ""},
		} {
			if r := c.do(p.m, p.path, p.body); r.Status != 404 || errorCode(t, r) != "user_not_found" {
				t.Errorf("%s %s after delete: %d %s", p.m, p.path, r.Status, r.Body)
			}
		}
	})
}

// aliasIDs returns alias value -> id of a user.
func aliasIDs(t *testing.T, c *client, id string) map[string]string {
	t.Helper()
	r := c.do("GET", "/api/web/v3/users/"+id, "")
	mustStatus(t, r, 200)
	var u wireUser
	r.JSON(t, &u)
	m := map[string]string{}
	for _, a := range u.UserAliases {
		m[a.Value] = a.ID
	}
	return m
}

// TestRequired: userId and the vendor's default mandatory attributes.
func TestRequired(t *testing.T) {
	env := newEnv(t, "sqlite", entrust.Options{})
	c := login(t, env, env.Creds)
	mustStatus(t, c.do("POST", "/api/web/v3/users", `{"firstName":"x","lastName":"y","email":"x@example.com"}`), 400)
	r := c.do("POST", "/api/web/v3/users", `{"userId":"only"}`)
	mustStatus(t, r, 400)
	apitest.Golden(t, "create_missing_required", r)
	var e struct{ Parameters []map[string]any }
	r.JSON(t, &e)
	var names []string
	for _, p := range e.Parameters {
		names = append(names, p["name"].(string))
	}
	if strings.Join(names, ",") != "firstName,lastName,email" {
		t.Errorf("parameters: got %v, want firstName,lastName,email", names)
	}
}

func TestUniqueness(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend, entrust.Options{})
		c := login(t, env, env.Creds)
		c.createUser("john", `"userAliases":[{"value":"johnny","type":"CUSTOM"}]`)
		bob := c.createUser("bob")

		cases := []struct {
			name, body, code string
		}{
			{"userId equals userId", `{"userId":"JOHN","firstName":"a","lastName":"b","email":"x1@example.com"}`, "duplicate_user_id"},
			{"userId equals alias", `{"userId":"Johnny","firstName":"a","lastName":"b","email":"x2@example.com"}`, "duplicate_user_id"},
			{"alias equals userId", `{"userId":"x3","firstName":"a","lastName":"b","email":"x3@example.com","userAliases":[{"value":"john"}]}`, "duplicate_user_alias"},
			{"alias equals alias", `{"userId":"x4","firstName":"a","lastName":"b","email":"x4@example.com","userAliases":[{"value":"JOHNNY","type":"CUSTOM"}]}`, "duplicate_user_alias"},
			{"email under the default policy", `{"userId":"x5","firstName":"a","lastName":"b","email":"JOHN@example.com"}`, "duplicate_email"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := c.do("POST", "/api/web/v3/users", tc.body)
				if r.Status != 409 || errorCode(t, r) != tc.code {
					t.Fatalf("got %d %s, want 409 %s", r.Status, r.Body, tc.code)
				}
			})
		}
		apitest.Golden(t, "create_duplicate_alias", c.do("POST", "/api/web/v3/users", cases[3].body))

		// Own alias repeating own userId is a validation error.
		r := c.do("POST", "/api/web/v3/users", `{"userId":"x6","firstName":"a","lastName":"b","email":"x6@example.com","userAliases":[{"value":"X6"}]}`)
		mustStatus(t, r, 400)

		// Update into a taken alias.
		r = c.do("PUT", "/api/web/v3/users/"+bob, `{"userAliases":[{"value":"johnny"}]}`)
		if r.Status != 409 || errorCode(t, r) != "duplicate_user_alias" {
			t.Errorf("update alias: got %d %s", r.Status, r.Body)
		}
		r = c.do("PUT", "/api/web/v3/users/"+bob, `{"userId":"johnny"}`)
		if r.Status != 409 || errorCode(t, r) != "duplicate_user_id" {
			t.Errorf("update userId: got %d %s", r.Status, r.Body)
		}

		// Another tenant has its own namespace.
		other := env.NewTenant("globex", env.Creds.Tenant.Unique)
		oc := login(t, env, other)
		oc.createUser("johnny", `"userAliases":[{"value":"john"}]`)
		// ... and cannot see acme's users.
		if r := oc.do("GET", "/api/web/v3/users/"+bob, ""); r.Status != 404 {
			t.Errorf("other tenant GET: %d", r.Status)
		}
		r = oc.do("POST", "/api/web/v3/users/userid", `{"userId":"bob"}`)
		mustStatus(t, r, 404)
		for _, p := range []struct{ m, path, body string }{
			{"PUT", "/api/web/v3/users/" + bob, `{"firstName":"x"}`},
			{"DELETE", "/api/web/v3/users/" + bob, ""},
			{"PUT", "/api/web/v1/users/" + bob + "/state", `{"state":"INACTIVE"}`},
			{"PUT", "/api/web/v1/users/" + bob + "/unlock", ""},
		} {
			if r := oc.do(p.m, p.path, p.body); r.Status != 404 {
				t.Errorf("other tenant %s %s: %d", p.m, p.path, r.Status)
			}
		}
		var page struct{ Results []json.RawMessage }
		r = oc.do("POST", "/api/web/v4/userspaged", `{}`)
		r.JSON(t, &page)
		if len(page.Results) != 1 {
			t.Errorf("other tenant sees %d users, want 1", len(page.Results))
		}
		mustStatus(t, c.do("GET", "/api/web/v3/users/"+bob, ""), 200)
	})
}
