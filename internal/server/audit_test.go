package server_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
)

// TestAuditEveryChange makes each kind of API change (user create, update,
// delete through Truv; group create, update, delete through SCIM) and
// checks its audit entry: actor, field names, request id, and that the
// SSN sent is in neither the entries nor the database's bytes.
func TestAuditEveryChange(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env, c := newIdemEnv(t, backend, directory.DefaultUniquePolicy)
		const ssn = "987-65-4321"
		r := c.env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: withRID(c.Headers("truv"), "rid-create"),
			Body: `{"external_user_id":"a-1","first_name":"Ann","last_name":"Lee","ssn":"` + ssn + `"}`})
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		id, _ := directory.ParseID(r.Map(t)["id"].(string))
		hex := strings.ReplaceAll(id, "-", "")
		if r := c.env.Do(apitest.Request{Method: "PATCH", Path: "/v1/users/" + hex + "/", Header: withRID(c.Headers("truv"), "rid-update"),
			Body: `{"last_name":"Ng","ssn":"111-22-3333"}`}); r.Status != 200 {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		status, g := c.do("scim", "POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Ops","members":[{"value":"`+id+`"}]}`)
		if status != 201 {
			t.Fatalf("group create: %d %v", status, g)
		}
		gid := g["id"].(string)
		if status, m := c.do("scim", "PUT", "/scim/v2/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Ops2"}`); status != 200 {
			t.Fatalf("group update: %d %v", status, m)
		}
		if status, m := c.do("scim", "DELETE", "/scim/v2/Groups/"+gid, ""); status != 204 {
			t.Fatalf("group delete: %d %v", status, m)
		}
		if r := c.env.Do(apitest.Request{Method: "DELETE", Path: "/v1/users/" + hex + "/", Header: c.Headers("truv")}); r.Status/100 != 2 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		es, err := env.Svc.ListAudit(t.Context(), "acme", directory.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			action, target string
			fields         []string // must be among the entry's fields
			not            []string // must not be
			rid            string
		}{
			{directory.ActionTenantCreate, env.Creds.Tenant.ID, nil, nil, ""},
			{directory.ActionCredentialCreate, env.Creds.ClientID, nil, nil, ""},
			{directory.ActionUserCreate, id, []string{"first_name", "last_name", "external_id", "ssn"}, []string{"email"}, "rid-create"},
			{directory.ActionUserUpdate, id, []string{"last_name", "ssn"}, []string{"first_name", "external_id"}, "rid-update"},
			{directory.ActionGroupCreate, gid, []string{"display_name", "members"}, nil, ""},
			{directory.ActionGroupUpdate, gid, []string{"display_name", "members"}, nil, ""},
			{directory.ActionGroupDelete, gid, nil, nil, ""},
			{directory.ActionUserDelete, id, nil, nil, ""},
		}
		if len(es) != len(want) {
			for _, e := range es {
				t.Logf("%+v", *e)
			}
			t.Fatalf("%d entries, want %d", len(es), len(want))
		}
		for i, w := range want {
			e := es[i]
			if e.Action != w.action || e.TargetID != w.target {
				t.Errorf("entry %d: %s %s, want %s %s", i, e.Action, e.TargetID, w.action, w.target)
			}
			for _, f := range w.fields {
				if !slices.Contains(e.Fields, f) {
					t.Errorf("%s: fields %v lack %s", e.Action, e.Fields, f)
				}
			}
			for _, f := range w.not {
				if slices.Contains(e.Fields, f) {
					t.Errorf("%s: fields %v hold unchanged %s", e.Action, e.Fields, f)
				}
			}
			if i >= 2 && e.Actor != env.Creds.ClientID {
				t.Errorf("%s: actor %q, want the credential %s", e.Action, e.Actor, env.Creds.ClientID)
			}
			if w.rid != "" && e.RequestID != w.rid {
				t.Errorf("%s: request id %q, want %q", e.Action, e.RequestID, w.rid)
			}
			if i >= 2 && e.RequestID == "" {
				t.Errorf("%s: no request id", e.Action)
			}
			if strings.Contains(strings.Join(e.Fields, " "), ssn) {
				t.Errorf("%s: SSN in fields", e.Action)
			}
		}
		assertNotInDB(t, backend, env.url, ssn, "987654321", "111-22-3333", "111223333")
	})
}

func withRID(h map[string]string, rid string) map[string]string {
	h["X-Request-Id"] = rid
	return h
}
