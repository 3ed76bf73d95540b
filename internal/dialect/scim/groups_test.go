package scim_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
)

func TestGroups(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		a := e.createUser(userBody("ann"))["id"].(string)
		b := e.createUser(userBody("bob"))["id"].(string)
		c := e.createUser(userBody("cid"))["id"].(string)

		// Create (Entra: no members; Okta: members []).
		r := e.call("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],"externalId":"8aa1a0c0","displayName":"Engineering","meta":{"resourceType":"Group"}}`)
		mustStatus(t, r, http.StatusCreated)
		apitest.Golden(t, "groups/create", r)
		gid := r.Map(t)["id"].(string)
		if got := r.Header.Get("Location"); got != origin+"/scim/v2/Groups/"+gid {
			t.Errorf("Location %q", got)
		}

		members := func() string {
			t.Helper()
			r := e.call("GET", "/Groups/"+gid, "")
			mustStatus(t, r, 200)
			var ids []string
			for _, m := range asSlice(at(r.Map(t), "members")) {
				ids = append(ids, at(m, "value").(string))
			}
			return jsonString(ids)
		}
		want := func(ids ...string) string { return jsonString(ids) }
		patch := func(body string, status int) {
			t.Helper()
			r := e.call("PATCH", "/Groups/"+gid, body)
			mustStatus(t, r, status)
		}

		// Entra: Add members → 204.
		patch(ops(`[{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+a+`"},{"value":"`+b+`"}]}]`), 204)
		if got := members(); got != want(a, b) {
			t.Errorf("after add: %s", got)
		}
		// Adding a member twice is a no-op: no write, the ETag stays.
		before := e.call("GET", "/Groups/"+gid, "").Header.Get("ETag")
		patch(ops(`[{"op":"add","path":"members","value":[{"value":"`+a+`"}]}]`), 204)
		if after := e.call("GET", "/Groups/"+gid, "").Header.Get("ETag"); after != before || before == "" {
			t.Errorf("no-op add changed the ETag: %q → %q", before, after)
		}
		// Entra: Remove with a value list.
		patch(ops(`[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"`+a+`"}]}]`), 204)
		if got := members(); got != want(b) {
			t.Errorf("after Entra remove: %s", got)
		}
		// Okta: remove by value filter and add in one request (32-hex id too).
		patch(ops(`[{"op":"remove","path":"members[value eq \"`+hex(b)+`\"]"},{"op":"add","path":"members","value":[{"value":"`+c+`","display":"cid"}]}]`), 204)
		if got := members(); got != want(c) {
			t.Errorf("after Okta remove+add: %s", got)
		}
		// Okta: replace of members, and of the name with the id in value.
		patch(ops(`[{"op":"replace","path":"members","value":[{"value":"`+a+`"},{"value":"`+c+`"}]}]`), 204)
		patch(ops(`[{"op":"replace","value":{"id":"`+gid+`","displayName":"Eng"}}]`), 204)
		if got := members(); got != want(a, c) {
			t.Errorf("after Okta replace: %s", got)
		}
		// Entra: displayName replace; with attributes in the query → 200.
		r = e.call("PATCH", "/Groups/"+gid+"?excludedAttributes=members", ops(`[{"op":"Replace","path":"displayName","value":"Engineering"}]`))
		mustStatus(t, r, 200)
		apitest.Golden(t, "groups/patch-200", r)

		// GET with excludedAttributes=members (Entra); filter by displayName.
		r = e.call("GET", "/Groups/"+gid+"?excludedAttributes=members", "")
		mustStatus(t, r, 200)
		if at(r.Map(t), "members") != nil {
			t.Errorf("members not excluded: %s", r.Body)
		}
		r = e.call("GET", "/Groups?excludedAttributes=members&filter="+url.QueryEscape(`displayName eq "engineering"`), "")
		mustStatus(t, r, 200)
		apitest.Golden(t, "groups/list-by-name", r)
		r = e.call("GET", "/Groups?filter="+url.QueryEscape(`members[value eq "`+c+`"]`), "")
		mustStatus(t, r, 200)
		if got := at(r.Map(t), "totalResults"); got != float64(1) {
			t.Errorf("filter by member: %s", r.Body)
		}
		// The full group, with members' display names and $ref.
		r = e.call("GET", "/Groups/"+gid, "")
		apitest.Golden(t, "groups/get", r)
		etag := r.Header.Get("ETag")
		mustStatus(t, e.call("GET", "/Groups/"+gid, "", "If-None-Match", etag), http.StatusNotModified)

		// A user shows its groups (read-only).
		r = e.call("GET", "/Users/"+a, "")
		if got := at(r.Map(t), "groups.0.display"); got != "Engineering" {
			t.Errorf("user groups: %s", r.Body)
		}
		if got := at(r.Map(t), "groups.0.$ref"); got != origin+"/scim/v2/Groups/"+gid {
			t.Errorf("user groups $ref: %v", got)
		}
		r = e.call("GET", "/Users?attributes=groups&filter="+url.QueryEscape(`userName eq "ann"`), "")
		if got := at(r.Map(t), "Resources.0.groups.0.value"); got != gid {
			t.Errorf("listed user groups: %s", r.Body)
		}

		// Members must be users of the tenant: another tenant's user, an
		// unknown id and a non-id are 400 invalidValue; nothing changes.
		other := e.NewTenant("other", e.Creds.Tenant.Unique)
		foreign := e.callAs(other.Secret, "POST", "/Users", userBody("zed"))
		mustStatus(t, foreign, 201)
		fid := foreign.Map(t)["id"].(string)
		for _, v := range []string{fid, "00000000-0000-7000-8000-000000000000", "not-an-id"} {
			r := e.call("PATCH", "/Groups/"+gid, ops(`[{"op":"add","path":"members","value":[{"value":"`+v+`"}]}]`))
			scimErr(t, r, http.StatusBadRequest, "invalidValue")
		}
		r = e.call("POST", "/Groups", `{"displayName":"X","members":[{"value":"`+fid+`"}]}`)
		scimErr(t, r, http.StatusBadRequest, "invalidValue")
		apitest.Golden(t, "groups/create-foreign-member", r)
		if got := members(); got != want(a, c) {
			t.Errorf("members changed by failed writes: %s", got)
		}
		// The other tenant cannot see or touch the group.
		scimErr(t, e.callAs(other.Secret, "GET", "/Groups/"+gid, ""), http.StatusNotFound, "")
		scimErr(t, e.callAs(other.Secret, "PATCH", "/Groups/"+gid, ops(`[{"op":"add","path":"members","value":[{"value":"`+fid+`"}]}]`)), http.StatusNotFound, "")
		scimErr(t, e.callAs(other.Secret, "DELETE", "/Groups/"+gid, ""), http.StatusNotFound, "")

		// Errors.
		scimErr(t, e.call("POST", "/Groups", `{"members":[]}`), http.StatusBadRequest, "invalidValue")
		scimErr(t, e.call("PATCH", "/Groups/"+gid, ops(`[{"op":"add","path":"owners","value":[]}]`)), http.StatusBadRequest, "invalidPath")
		scimErr(t, e.call("PUT", "/Groups/"+gid, `{"displayName":"Eng"}`, "If-Match", `W/"1"`), http.StatusPreconditionFailed, "")

		// PUT replaces members.
		r = e.call("PUT", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Engineering","members":[{"value":"`+b+`"}]}`)
		mustStatus(t, r, 200)
		if got := members(); got != want(b) {
			t.Errorf("after PUT: %s", got)
		}
		// Deleting a user removes it from the group.
		mustStatus(t, e.call("DELETE", "/Users/"+b, ""), 204)
		if got := members(); got != "null" {
			t.Errorf("after deleting the member: %s", got)
		}
		// Delete.
		mustStatus(t, e.call("DELETE", "/Groups/"+gid, ""), 204)
		scimErr(t, e.call("GET", "/Groups/"+gid, ""), http.StatusNotFound, "")
	})
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func hex(id string) string {
	out := make([]byte, 0, 32)
	for i := 0; i < len(id); i++ {
		if id[i] != '-' {
			out = append(out, id[i])
		}
	}
	return string(out)
}
