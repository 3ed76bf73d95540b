package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// saveKey stores body[key] (a string) as variable name.
func saveKey(key, name string) func(*testing.T, map[string]any, map[string]string) {
	return func(t *testing.T, m map[string]any, v map[string]string) {
		t.Helper()
		s, ok := m[key].(string)
		if !ok || s == "" {
			t.Fatalf("answer has no %s: %v", key, m)
		}
		v[name] = s
	}
}

const unknownUUID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

func cl2cScenario(c *contract, _ func(bool)) {
	c.auth = func(h http.Header) {
		h.Set("tenant", c.vars["tenant"])
		h.Set("X-API-Key", c.vars["secret"])
	}
	c.run([]step{
		{name: "create", method: "POST", path: "/v1/cl2c/user", want: 200, save: saveKey("id", "user"),
			body: `{"firstName":"John","lastName":"Doe","email":"john.doe@cl2c.example","userName":"johndoe","phoneNumber":"+12025550101"}`},
		{name: "create vendor example", method: "POST", path: "/v1/cl2c/user", want: 200, save: saveKey("id", "user2"),
			body: `{"firstName":"string","lastName":"string","email":"string","userName":"string","phoneNumber":"string"}`},
		{name: "create missing fields", method: "POST", path: "/v1/cl2c/user", body: `{"firstName":"x"}`, want: 400, invalid: true},
		{name: "create wrong type", method: "POST", path: "/v1/cl2c/user", body: `{"firstName":"a","lastName":"b","email":5,"userName":"c"}`, want: 400, invalid: true},
		{name: "create malformed", method: "POST", path: "/v1/cl2c/user", body: `{"firstName"`, want: 400, invalid: true},
		{name: "create duplicate userName", method: "POST", path: "/v1/cl2c/user", want: 409,
			body: `{"firstName":"J","lastName":"D","email":"other@cl2c.example","userName":"JohnDoe"}`},
		{name: "create text/plain", method: "POST", path: "/v1/cl2c/user", body: `x`, header: map[string]string{"Content-Type": "text/plain"}, want: 415, invalid: true},
		{name: "create too large", method: "POST", path: "/v1/cl2c/user", want: 413,
			body: `{"firstName":"a","lastName":"b","email":"c","userName":"d","pad":"` + strings.Repeat("x", 70<<10) + `"}`},
		{name: "create no credential", method: "POST", path: "/v1/cl2c/user", body: `{}`, noAuth: true, want: 401, invalid: true},
		{name: "create wrong key", method: "POST", path: "/v1/cl2c/user", header: map[string]string{"X-API-Key": "rsk_nope"}, want: 401,
			body: `{"firstName":"a","lastName":"b","email":"c","userName":"d"}`},
		{name: "create idempotent", method: "POST", path: "/v1/cl2c/user", header: map[string]string{"Idempotency-Key": "c1"}, want: 200,
			body: `{"firstName":"a","lastName":"b","email":"c1@cl2c.example","userName":"c1"}`},
		{name: "create idempotent other body", method: "POST", path: "/v1/cl2c/user", header: map[string]string{"Idempotency-Key": "c1"}, want: 422,
			body: `{"firstName":"a","lastName":"b","email":"c2@cl2c.example","userName":"c2"}`},
		{name: "update", method: "PUT", path: "/v1/cl2c/user", body: `{"id":"{user}","firstName":"Johnny","pushToken":"fcm:abc"}`, want: 200},
		{name: "update clear required", method: "PUT", path: "/v1/cl2c/user", body: `{"id":"{user}","firstName":""}`, want: 400},
		{name: "update missing id", method: "PUT", path: "/v1/cl2c/user", body: `{"firstName":"x"}`, want: 400, invalid: true},
		{name: "update unknown", method: "PUT", path: "/v1/cl2c/user", body: `{"id":"` + unknownUUID + `"}`, want: 404},
		{name: "update taken phone", method: "PUT", path: "/v1/cl2c/user", body: `{"id":"{user2}","phoneNumber":"+12025550101"}`, want: 409},
		{name: "update stale If-Match", method: "PUT", path: "/v1/cl2c/user", body: `{"id":"{user}"}`, header: map[string]string{"If-Match": `W/"1"`}, want: 412},
		{name: "update no credential", method: "PUT", path: "/v1/cl2c/user", body: `{"id":"{user}"}`, noAuth: true, want: 401, invalid: true},
		{name: "list", method: "GET", path: "/v1/cl2c/users?pageNumber=1&pageSize=2", want: 200},
		{name: "list bad page size", method: "GET", path: "/v1/cl2c/users?pageSize=0", want: 400},
		{name: "list wrong tenant", method: "GET", path: "/v1/cl2c/users", header: map[string]string{"tenant": "nope"}, want: 401},
		{name: "get", method: "GET", path: "/v1/cl2c/users/{user}", want: 200},
		{name: "get not modified", method: "GET", path: "/v1/cl2c/users/{user}", header: map[string]string{"If-None-Match": "*"}, want: 304},
		{name: "get unknown", method: "GET", path: "/v1/cl2c/users/" + unknownUUID, want: 404},
		{name: "get no credential", method: "GET", path: "/v1/cl2c/users/{user}", noAuth: true, want: 401, invalid: true},
		{name: "delete stale If-Match", method: "DELETE", path: "/v1/cl2c/users/{user}", header: map[string]string{"If-Match": `W/"1"`}, want: 412},
		{name: "delete", method: "DELETE", path: "/v1/cl2c/users/{user}", want: 200},
		{name: "delete again", method: "DELETE", path: "/v1/cl2c/users/{user}", want: 404},
	})
}

func ownliScenario(c *contract, _ func(bool)) {
	legacy := func(h http.Header) {
		h.Set("partnerId", c.vars["tenant"])
		h.Set("clientId", c.vars["client"])
		h.Set("clientSecret", c.vars["secret"])
	}
	c.auth = legacy
	userToken := map[string]string{"Authorization": "Bearer {usertoken}", "partnerId": "", "clientId": "", "clientSecret": ""}
	adminToken := map[string]string{"Authorization": "Bearer {admintoken}", "partnerId": "", "clientId": "", "clientSecret": ""}
	const addr = `"address":{"addressLine1":"1 Main St","city":"Denver","state":"CO","country":"US","zip":"80202"}`
	c.run([]step{
		{name: "token admin", method: "POST", path: "/api/auth/token", noAuth: true, want: 200, save: saveKey("access_token", "admintoken"),
			body: `{"clientId":"{client}","clientSecret":"{secret}","partnerId":"{tenant}","scope":"admin"}`},
		{name: "token user", method: "POST", path: "/api/auth/token", noAuth: true, want: 200, save: saveKey("access_token", "usertoken"),
			body: `{"clientId":"{client}","clientSecret":"{secret}","partnerId":"{tenant}","scope":"user"}`},
		{name: "token missing field", method: "POST", path: "/api/auth/token", noAuth: true, body: `{"clientId":"{client}"}`, want: 400, invalid: true},
		{name: "token bad scope", method: "POST", path: "/api/auth/token", noAuth: true, want: 400, invalid: true,
			body: `{"clientId":"{client}","clientSecret":"{secret}","partnerId":"{tenant}","scope":"root"}`},
		{name: "token wrong secret", method: "POST", path: "/api/auth/token", noAuth: true, want: 401,
			body: `{"clientId":"{client}","clientSecret":"rsk_nope","partnerId":"{tenant}"}`},
		{name: "create", method: "POST", path: "/api/users", want: 200, save: saveKey("id", "user"),
			body: `{"firstName":"Jane","lastName":"Doe","email":"jane.doe@ownli.example","phone":"+15556667777",` + addr + `}`},
		{name: "create with token", method: "POST", path: "/api/users", header: adminToken, want: 200, save: saveKey("id", "user2"),
			body: `{"firstName":"Jim","lastName":"Doe","email":"jim@ownli.example","phone":"+15556667778",` + addr + `,"tosAnswer":"Accepted","fraud":false}`},
		{name: "create existing returned", method: "POST", path: "/api/users?returnExistingUserIfExists=true", want: 200,
			body: `{"firstName":"Jane","lastName":"Doe","email":"jane.doe@ownli.example","phone":"+15556667777",` + addr + `}`},
		{name: "create existing", method: "POST", path: "/api/users", want: 409,
			body: `{"firstName":"Jane","lastName":"Doe","email":"jane.doe@ownli.example","phone":"+15556667777",` + addr + `}`},
		{name: "create missing address", method: "POST", path: "/api/users", body: `{"firstName":"a","lastName":"b","phone":"+15556667779"}`, want: 400, invalid: true},
		{name: "create bad state", method: "POST", path: "/api/users", want: 400,
			body: `{"firstName":"a","lastName":"b","phone":"+15556667779","address":{"state":"XX"}}`},
		{name: "create wrong type", method: "POST", path: "/api/users", want: 400, invalid: true,
			body: `{"firstName":1,"lastName":"b","phone":"+15556667779",` + addr + `}`},
		{name: "create user token", method: "POST", path: "/api/users", header: userToken, want: 403,
			body: `{"firstName":"a","lastName":"b","phone":"+15556667779",` + addr + `}`},
		{name: "create no credential", method: "POST", path: "/api/users", noAuth: true, want: 401, invalid: true,
			body: `{"firstName":"a","lastName":"b","phone":"+15556667779",` + addr + `}`},
		{name: "create bad token", method: "POST", path: "/api/users", header: map[string]string{"Authorization": "Bearer nope"}, want: 401,
			body: `{"firstName":"a","lastName":"b","phone":"+15556667779",` + addr + `}`},
		{name: "create text/plain", method: "POST", path: "/api/users", body: `x`, header: map[string]string{"Content-Type": "text/plain"}, want: 415, invalid: true},
		{name: "create too large", method: "POST", path: "/api/users", want: 413,
			body: `{"firstName":"a","lastName":"b","phone":"+15556667779",` + addr + `,"pad":"` + strings.Repeat("x", 70<<10) + `"}`},
		{name: "create idempotent", method: "POST", path: "/api/users", header: map[string]string{"Idempotency-Key": "o1"}, want: 200,
			body: `{"firstName":"I","lastName":"One","phone":"+15556667781",` + addr + `}`},
		{name: "create idempotent other body", method: "POST", path: "/api/users", header: map[string]string{"Idempotency-Key": "o1"}, want: 422,
			body: `{"firstName":"I","lastName":"Two","phone":"+15556667782",` + addr + `}`},
		{name: "list", method: "GET", path: "/api/users?page=1&pageSize=2", want: 200},
		{name: "list by email", method: "GET", path: "/api/users?email=jane.doe@ownli.example", header: adminToken, want: 200},
		{name: "list bad page size", method: "GET", path: "/api/users?pageSize=500", want: 400},
		{name: "list user token", method: "GET", path: "/api/users", header: userToken, want: 403},
		{name: "list wrong partner", method: "GET", path: "/api/users", header: map[string]string{"partnerId": "nope"}, want: 401},
		{name: "get", method: "GET", path: "/api/users/{user}", want: 200},
		{name: "get user token", method: "GET", path: "/api/users/{user}", header: userToken, want: 200},
		{name: "get not modified", method: "GET", path: "/api/users/{user}", header: map[string]string{"If-None-Match": "*"}, want: 304},
		{name: "get unknown", method: "GET", path: "/api/users/" + unknownUUID, want: 404},
		{name: "update", method: "PUT", path: "/api/users/{user}", body: `{"firstName":"Janet","address":{"addressLine1":"9 Elm St","city":"Austin","state":"TX","zip":"73301"}}`, want: 200},
		{name: "update clear phone", method: "PUT", path: "/api/users/{user}", body: `{"phone":""}`, want: 400},
		{name: "update address without state", method: "PUT", path: "/api/users/{user}", body: `{"address":{"city":"Austin"}}`, want: 400, invalid: true},
		{name: "update taken email", method: "PUT", path: "/api/users/{user2}", body: `{"email":"jane.doe@ownli.example"}`, want: 409},
		{name: "update stale If-Match", method: "PUT", path: "/api/users/{user}", body: `{}`, header: map[string]string{"If-Match": `W/"1"`}, want: 412},
		{name: "update unknown", method: "PUT", path: "/api/users/" + unknownUUID, body: `{}`, want: 404},
		{name: "update no credential", method: "PUT", path: "/api/users/{user}", body: `{}`, noAuth: true, want: 401, invalid: true},
		{name: "delete user token", method: "DELETE", path: "/api/users/{user}", header: userToken, want: 403},
		{name: "delete stale If-Match", method: "DELETE", path: "/api/users/{user}", header: map[string]string{"If-Match": `W/"1"`}, want: 412},
		{name: "delete", method: "DELETE", path: "/api/users/{user}", want: 204},
		{name: "delete again", method: "DELETE", path: "/api/users/{user}", want: 404},
	})
}
