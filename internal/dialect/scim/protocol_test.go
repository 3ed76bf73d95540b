package scim_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
)

func TestDiscovery(t *testing.T) {
	e := newEnv(t, "sqlite") // no tenant data: one backend is enough
	for _, tc := range []struct{ name, path string }{
		{"service-provider-config", "/ServiceProviderConfig"},
		{"resource-types", "/ResourceTypes"},
		{"resource-type-user", "/ResourceTypes/User"},
		{"schemas", "/Schemas"},
		{"schema-roster", "/Schemas/urn:ietf:params:scim:schemas:extension:roster:2.0:User"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Discovery needs no credential.
			r := e.Do(apitest.Request{Method: "GET", Path: "/scim/v2" + tc.path})
			mustStatus(t, r, http.StatusOK)
			apitest.Golden(t, "discovery/"+tc.name, r)
		})
	}
	r := e.Do(apitest.Request{Method: "GET", Path: "/scim/v2/Schemas"})
	m := r.Map(t)
	if at(m, "totalResults") != float64(4) {
		t.Errorf("schemas: %v", at(m, "totalResults"))
	}
	// The SSN is write-only and never returned.
	ros := e.Do(apitest.Request{Method: "GET", Path: "/scim/v2/Schemas/urn:ietf:params:scim:schemas:extension:roster:2.0:User"}).Map(t)
	if at(ros, "attributes.0.name") != "ssn" || at(ros, "attributes.0.returned") != "never" || at(ros, "attributes.0.mutability") != "writeOnly" {
		t.Errorf("ssn attribute: %s", jsonString(at(ros, "attributes.0")))
	}
	scimErr(t, e.Do(apitest.Request{Method: "GET", Path: "/scim/v2/Schemas/urn:nope"}), http.StatusNotFound, "")
	scimErr(t, e.Do(apitest.Request{Method: "GET", Path: "/scim/v2/ResourceTypes/Widget"}), http.StatusNotFound, "")
	r = e.Do(apitest.Request{Method: "POST", Path: "/scim/v2/ServiceProviderConfig"})
	scimErr(t, r, http.StatusMethodNotAllowed, "")
	if got := r.Header.Get("Allow"); got != "GET" {
		t.Errorf("Allow %q", got)
	}
}

// TestHostile sends malformed, oversized and unauthenticated requests:
// every one must get a 4xx SCIM error, never a 5xx, and write nothing.
func TestHostile(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		id := e.createUser(userBody("victim"))["id"].(string)
		big := `{"userName":"big","title":"` + strings.Repeat("x", 3<<20) + `"}`
		tests := []struct {
			name     string
			req      apitest.Request
			status   int
			scimType string
		}{
			{"no credential", req("GET", "/Users", ""), 401, ""},
			{"wrong secret", req("GET", "/Users", "", "Authorization", "Bearer rsk_00000000000000000000000000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), 401, ""},
			{"garbage secret", req("GET", "/Users", "", "Authorization", "Bearer nonsense"), 401, ""},
			{"basic scheme", req("GET", "/Users", "", "Authorization", "Basic "+e.Creds.Secret), 401, ""},
			{"empty bearer", req("GET", "/Users", "", "Authorization", "Bearer "), 401, ""},
			{"malformed JSON", authed(e, "POST", "/Users", `{"userName":"x",}`), 400, "invalidSyntax"},
			{"invalid UTF-8", apitest.Request{Method: "POST", Path: "/scim/v2/Users", Header: hdr(e), RawBody: []byte("{\"userName\":\"a\xffb\"}")}, 400, "invalidSyntax"},
			{"empty body", authed(e, "POST", "/Users", ""), 400, "invalidSyntax"},
			{"null body", authed(e, "POST", "/Users", "null"), 400, "invalidSyntax"},
			{"trailing data", authed(e, "POST", "/Users", `{"userName":"t"} {}`), 400, "invalidSyntax"},
			{"3 MiB body", authed(e, "POST", "/Users", big), 413, ""},
			{"3 MiB patch", authed(e, "PATCH", "/Users/"+id, big), 413, ""},
			{"wrong content type", withHeader(authed(e, "POST", "/Users", userBody("ct")), "Content-Type", "text/plain"), 415, ""},
			{"bad id", authed(e, "GET", "/Users/not-an-id", ""), 404, ""},
			{"bad id patch", authed(e, "PATCH", "/Users/'%20OR%201=1", ops(`[{"op":"remove","path":"title"}]`)), 404, ""},
			{"unknown endpoint", authed(e, "GET", "/Widgets", ""), 404, ""},
			{"/Me", authed(e, "GET", "/Me", ""), 501, ""},
			{"method not allowed", authed(e, "DELETE", "/Users", ""), 405, ""},
			{"GET .search", authed(e, "GET", "/Users/.search", ""), 405, ""},
			{"patch array body", authed(e, "PATCH", "/Users/"+id, `[]`), 400, "invalidSyntax"},
			{"patch op not a string", authed(e, "PATCH", "/Users/"+id, ops(`[{"op":1}]`)), 400, "invalidSyntax"},
			{"patch op not an object", authed(e, "PATCH", "/Users/"+id, ops(`["add"]`)), 400, "invalidSyntax"},
			{"patch path not a string", authed(e, "PATCH", "/Users/"+id, ops(`[{"op":"add","path":5,"value":1}]`)), 400, "invalidPath"},
			{"patch without value", authed(e, "PATCH", "/Users/"+id, ops(`[{"op":"add","path":"title"}]`)), 400, "invalidValue"},
			{"patch deep filter", authed(e, "PATCH", "/Users/"+id, ops(`[{"op":"remove","path":"emails[`+strings.Repeat("not (", 100)+`value pr`+strings.Repeat(")", 100)+`]"}]`)), 400, "invalidPath"},
			{"filter too long", authed(e, "GET", "/Users?filter="+strings.Repeat("a", 5000), ""), 400, "invalidFilter"},
			{"filter bad escape", authed(e, "GET", "/Users?filter=userName%20eq%20%22%5Cx%22", ""), 400, "invalidFilter"},
			{"huge startIndex", authed(e, "GET", "/Users?startIndex=99999999999999999999", ""), 400, "invalidValue"},
			{"bulk not an object", authed(e, "POST", "/Bulk", `"x"`), 400, "invalidSyntax"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.Do(tt.req)
				scimErr(t, r, tt.status, tt.scimType)
				if tt.status == 401 && r.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("401 without WWW-Authenticate")
				}
			})
		}
		for _, name := range []string{"no credential", "3 MiB body", "wrong content type", "method not allowed", "/Me"} {
			for _, tt := range tests {
				if tt.name == name {
					apitest.Golden(t, "errors/"+strings.NewReplacer(" ", "-", "/", "").Replace(name), e.Do(tt.req))
				}
			}
		}
		// Nothing was written: the victim is unchanged and alone.
		r := e.call("GET", "/Users", "")
		if at(r.Map(t), "totalResults") != float64(1) {
			t.Errorf("hostile requests created users: %s", r.Body)
		}
		if r := e.call("GET", "/Users/"+id, ""); r.Header.Get("ETag") != `W/"1"` {
			t.Errorf("hostile requests changed the user: %s", r.Header.Get("ETag"))
		}
		if strings.Contains(e.Logs.String(), e.Creds.Secret) {
			t.Errorf("the access log contains the secret")
		}
	})
}

func hdr(e *env) map[string]string {
	return map[string]string{"Authorization": "Bearer " + e.Creds.Secret, "Content-Type": "application/scim+json"}
}

func authed(e *env, method, path, body string) apitest.Request {
	return apitest.Request{Method: method, Path: "/scim/v2" + path, Header: hdr(e), Body: body}
}

func req(method, path, body string, kv ...string) apitest.Request {
	h := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	return apitest.Request{Method: method, Path: "/scim/v2" + path, Header: h, Body: body}
}

func withHeader(r apitest.Request, k, v string) apitest.Request {
	h := map[string]string{}
	for a, b := range r.Header {
		h[a] = b
	}
	h[k] = v
	r.Header = h
	return r
}

func TestBulk(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		// The group refers to users created later in the same request.
		r := e.call("POST", "/Bulk", `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
			"failOnErrors": 10,
			"Operations": [
				{"method": "POST", "path": "/Groups", "bulkId": "g1", "data": {"displayName": "Tour Guides", "members": [{"type": "User", "value": "bulkId:u1"}, {"value": "bulkId:u2"}]}},
				{"method": "POST", "path": "/Users", "bulkId": "u1", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "Alice"}},
				{"method": "POST", "path": "/Users", "bulkId": "u2", "data": {"userName": "Bob"}},
				{"method": "PATCH", "path": "/Users/bulkId:u2", "version": "W/\"1\"", "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]}},
				{"method": "POST", "path": "/Users", "bulkId": "dup", "data": {"userName": "alice"}},
				{"method": "PUT", "path": "/Users/bulkId:dup", "data": {"userName": "x"}},
				{"method": "DELETE", "path": "/Users/00000000-0000-7000-8000-000000000000"},
				{"method": "GET", "path": "/Users"}
			]
		}`)
		mustStatus(t, r, http.StatusOK)
		apitest.Golden(t, "bulk/mixed", r)
		m := r.Map(t)
		statuses := []any{}
		for _, op := range asSlice(m["Operations"]) {
			statuses = append(statuses, at(op, "status"))
		}
		if got := jsonString(statuses); got != `["201","201","201","200","409","409","404","400"]` {
			t.Errorf("statuses %s", got)
		}
		gid := lastSeg(at(m, "Operations.0.location").(string))
		g := e.call("GET", "/Groups/"+gid, "").Map(t)
		if len(asSlice(g["members"])) != 2 {
			t.Errorf("group members: %s", jsonString(g))
		}
		u := e.call("GET", "/Users?filter=userName%20eq%20%22bob%22", "").Map(t)
		if at(u, "Resources.0.active") != false {
			t.Errorf("bob: %s", jsonString(u))
		}

		// failOnErrors stops after that many errors.
		r = e.call("POST", "/Bulk", `{"failOnErrors":1,"Operations":[
			{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"alice"}},
			{"method":"POST","path":"/Users","bulkId":"b","data":{"userName":"carol"}}]}`)
		mustStatus(t, r, 200)
		if n := len(asSlice(r.Map(t)["Operations"])); n != 1 {
			t.Errorf("failOnErrors=1: %d results: %s", n, r.Body)
		}
		if at(e.call("GET", "/Users?filter=userName%20eq%20%22carol%22", "").Map(t), "totalResults") != float64(0) {
			t.Errorf("an operation after failOnErrors ran")
		}

		// Over maxOperations: 413 with a SCIM error.
		var b strings.Builder
		b.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[`)
		for i := 0; i < 1001; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"method":"DELETE","path":"/Users/%d"}`, i)
		}
		b.WriteString("]}")
		r = e.call("POST", "/Bulk", b.String())
		scimErr(t, r, http.StatusRequestEntityTooLarge, "")
		apitest.Golden(t, "bulk/too-many", r)
		r = e.call("POST", "/Bulk", `{"Operations":[{"method":"POST","path":"/Users","data":{"userName":"`+strings.Repeat("x", 1<<20)+`"}}]}`)
		scimErr(t, r, http.StatusRequestEntityTooLarge, "")
		apitest.Golden(t, "bulk/too-large", r)
		// Structural errors.
		scimErr(t, e.call("POST", "/Bulk", `{"schemas":["urn:x"],"Operations":[]}`), 400, "invalidSyntax")
		scimErr(t, e.call("POST", "/Bulk", `{"Operations":{}}`), 400, "invalidSyntax")
		scimErr(t, e.call("POST", "/Bulk", `{"failOnErrors":-1,"Operations":[]}`), 400, "invalidValue")
		r = e.call("POST", "/Bulk", `{"Operations":[{"method":"POST","path":"/Groups","bulkId":"x","data":{"displayName":"G","members":[{"value":"bulkId:nope"}]}}, {"method":"POST","path":"/Users","bulkId":"x","data":{"userName":"dupbulk"}}, 5]}`)
		mustStatus(t, r, 200)
		statuses = statuses[:0]
		for _, op := range asSlice(r.Map(t)["Operations"]) {
			statuses = append(statuses, at(op, "status"))
		}
		if got := jsonString(statuses); got != `["409","400","400"]` {
			t.Errorf("statuses %s: %s", got, r.Body)
		}
	})
}

func lastSeg(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }
