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
	key := func(secret string) func(http.Header) {
		return func(h http.Header) {
			h.Set("tenant", c.vars["tenant"])
			h.Set("X-API-Key", c.vars[secret])
		}
	}
	c.auth, c.limitedAuth, c.brokenAuth = key("secret"), key("limsecret"), key("bsecret")
	c.wrongAuth = func(h http.Header) { h.Set("tenant", c.vars["tenant"]); h.Set("X-API-Key", "rsk_wrong") }
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
		{name: "update idempotent", method: "PUT", path: "/v1/cl2c/user", header: map[string]string{"Idempotency-Key": "u1"}, body: `{"id":"{user2}","lastName":"A"}`, want: 200},
		{name: "update idempotent other body", method: "PUT", path: "/v1/cl2c/user", header: map[string]string{"Idempotency-Key": "u1"}, body: `{"id":"{user2}","lastName":"B"}`, want: 422},
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
		{name: "rate limited", method: "GET", path: "/v1/cl2c/users/{user2}", header: map[string]string{"X-API-Key": "{limsecret}"}, want: 429},
		{name: "server fault", method: "GET", path: "/v1/cl2c/users", broken: true, header: map[string]string{"X-API-Key": "{bsecret}"}, want: 500},
	})
}

func ownliScenario(c *contract, _ func(bool)) {
	legacy := func(client, secret string) func(http.Header) {
		return func(h http.Header) {
			h.Set("partnerId", c.vars["tenant"])
			h.Set("clientId", c.vars[client])
			h.Set("clientSecret", c.vars[secret])
		}
	}
	c.auth, c.limitedAuth, c.brokenAuth = legacy("client", "secret"), legacy("limclient", "limsecret"), legacy("bclient", "bsecret")
	c.wrongAuth = func(h http.Header) { legacy("client", "secret")(h); h.Set("clientSecret", "rsk_wrong") }
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
		{name: "update idempotent", method: "PUT", path: "/api/users/{user2}", header: map[string]string{"Idempotency-Key": "u1"}, body: `{"lastName":"A"}`, want: 200},
		{name: "update idempotent other body", method: "PUT", path: "/api/users/{user2}", header: map[string]string{"Idempotency-Key": "u1"}, body: `{"lastName":"B"}`, want: 422},
		{name: "delete user token", method: "DELETE", path: "/api/users/{user}", header: userToken, want: 403},
		{name: "delete stale If-Match", method: "DELETE", path: "/api/users/{user}", header: map[string]string{"If-Match": `W/"1"`}, want: 412},
		{name: "delete", method: "DELETE", path: "/api/users/{user}", want: 204},
		{name: "delete again", method: "DELETE", path: "/api/users/{user}", want: 404},
		{name: "rate limited", method: "GET", path: "/api/users", header: map[string]string{"clientId": "{limclient}", "clientSecret": "{limsecret}"}, want: 429},
		{name: "token rate limited", method: "POST", path: "/api/auth/token", noAuth: true, want: 429,
			body: `{"clientId":"{limclient}","clientSecret":"{limsecret}","partnerId":"{tenant}"}`},
		{name: "token server fault", method: "POST", path: "/api/auth/token", noAuth: true, broken: true, want: 500,
			body: `{"clientId":"{bclient}","clientSecret":"{bsecret}","partnerId":"{tenant}"}`},
		{name: "server fault", method: "GET", path: "/api/users/{user2}", broken: true, header: map[string]string{"clientId": "{bclient}", "clientSecret": "{bsecret}"}, want: 500},
	})
}

func entrustScenario(c *contract, _ func(bool)) {
	c.auth = func(h http.Header) { h.Set("Authorization", "Bearer "+c.vars["token"]) }
	c.wrongAuth = func(h http.Header) { h.Set("Authorization", "Bearer expired-or-unknown") }
	c.limitedAuth = func(h http.Header) { h.Set("Authorization", c.vars["limclient"]+","+c.vars["limsecret"]) }
	c.brokenAuth = func(h http.Header) { h.Set("Authorization", c.vars["bclient"]+","+c.vars["bsecret"]) }
	const vendorExample = `{"firstName":"john","lastName":"smith","email":"johnsmith@organization.com","userId":"john",
		"mobile":"+16138561234","phone":"+161385699876","locale":"","state":"ACTIVE","externalId":null,"externalSource":null,
		"userAttributeValues":[],"userAliases":[{"value":"johnny","type":"CUSTOM"}]}`
	c.run([]step{
		{name: "authenticate", method: "POST", path: "/api/web/v1/adminapi/authenticate", noAuth: true, want: 200, save: saveKey("authToken", "token"),
			body: `{"applicationId":"{client}","sharedSecret":"{secret}","enableWebSession":true}`},
		{name: "authenticate missing secret", method: "POST", path: "/api/web/v1/adminapi/authenticate", noAuth: true,
			body: `{"applicationId":"{client}"}`, want: 400, invalid: true},
		{name: "authenticate wrong secret", method: "POST", path: "/api/web/v1/adminapi/authenticate", noAuth: true,
			body: `{"applicationId":"{client}","sharedSecret":"rsk_nope"}`, want: 401},
		{name: "create vendor example", method: "POST", path: "/api/web/v3/users", body: vendorExample, want: 200, save: saveKey("id", "user")},
		{name: "create second", method: "POST", path: "/api/web/v3/users", want: 200, save: saveKey("id", "user2"),
			body: `{"userId":"ann","firstName":"Ann","lastName":"Lee","email":"ann@organization.com","externalId":"ext-ann","locale":"FR",
				"userAttributeValues":[{"userAttributeId":"dept","value":"ops"}],"userExtraAttributes":[{"name":"badge","type":"OTP_EMAIL","value":"7"}],"preferredOtpDelivery":"EMAIL",
				"preferredOtpDeliveryContactAttributes":{"OTP_EMAIL":"ann@organization.com"}}`},
		{name: "create with app-id,secret", method: "POST", path: "/api/web/v3/users", header: map[string]string{"Authorization": "{client},{secret}"}, want: 200,
			body: `{"userId":"bob","firstName":"Bob","lastName":"Ray","email":"bob@organization.com"}`},
		{name: "create missing userId", method: "POST", path: "/api/web/v3/users", body: `{"firstName":"x","lastName":"y","email":"x@y.example"}`, want: 400},
		{name: "create wrong type", method: "POST", path: "/api/web/v3/users", body: `{"userId":5}`, want: 400, invalid: true},
		{name: "create bad state", method: "POST", path: "/api/web/v3/users", body: `{"userId":"s","firstName":"x","lastName":"y","email":"s@y.example","state":"active"}`, want: 400, invalid: true},
		{name: "create duplicate alias", method: "POST", path: "/api/web/v3/users", want: 409,
			body: `{"userId":"JOHNNY","firstName":"x","lastName":"y","email":"j2@organization.com"}`},
		{name: "create no credential", method: "POST", path: "/api/web/v3/users", noAuth: true, body: vendorExample, want: 401, invalid: true},
		{name: "create expired token", method: "POST", path: "/api/web/v3/users", header: map[string]string{"Authorization": "Bearer nope"}, body: vendorExample, want: 401},
		{name: "create text/plain", method: "POST", path: "/api/web/v3/users", body: `x`, header: map[string]string{"Content-Type": "text/plain"}, want: 415, invalid: true},
		{name: "create too large", method: "POST", path: "/api/web/v3/users", want: 413,
			body: `{"userId":"big","firstName":"x","lastName":"y","email":"b@y.example","pad":"` + strings.Repeat("x", 70<<10) + `"}`},
		{name: "create idempotent", method: "POST", path: "/api/web/v3/users", header: map[string]string{"Idempotency-Key": "e1"}, want: 200,
			body: `{"userId":"idem1","firstName":"x","lastName":"y","email":"idem1@y.example"}`},
		{name: "create idempotent other body", method: "POST", path: "/api/web/v3/users", header: map[string]string{"Idempotency-Key": "e1"}, want: 422,
			body: `{"userId":"idem2","firstName":"x","lastName":"y","email":"idem2@y.example"}`},
		{name: "get", method: "GET", path: "/api/web/v3/users/{user}", want: 200},
		{name: "get by cookie", method: "GET", path: "/api/web/v3/users/{user}", noAuth: true, header: map[string]string{"Cookie": "INTELLITRUST_SESSION_ID={token}"}, want: 200},
		{name: "get not modified", method: "GET", path: "/api/web/v3/users/{user}", header: map[string]string{"If-None-Match": "*"}, want: 304},
		{name: "get unknown", method: "GET", path: "/api/web/v3/users/" + unknownUUID, want: 404},
		{name: "get no credential", method: "GET", path: "/api/web/v3/users/{user}", noAuth: true, want: 401, invalid: true},
		{name: "update", method: "PUT", path: "/api/web/v3/users/{user}", body: `{"firstName":"Johnny","externalId":""}`, want: 200},
		{name: "update clear required", method: "PUT", path: "/api/web/v3/users/{user}", body: `{"firstName":""}`, want: 400},
		{name: "update taken userId", method: "PUT", path: "/api/web/v3/users/{user2}", body: `{"userId":"john"}`, want: 409},
		{name: "update stale If-Match", method: "PUT", path: "/api/web/v3/users/{user}", body: `{}`, header: map[string]string{"If-Match": `W/"1"`}, want: 412},
		{name: "update unknown", method: "PUT", path: "/api/web/v3/users/" + unknownUUID, body: `{}`, want: 404},
		{name: "by userid", method: "POST", path: "/api/web/v3/users/userid", body: `{"userId":"Johnny"}`, want: 200},
		{name: "by userid unknown", method: "POST", path: "/api/web/v3/users/userid", body: `{"userId":"nobody"}`, want: 404},
		{name: "by userid missing", method: "POST", path: "/api/web/v3/users/userid", body: `{}`, want: 400, invalid: true},
		{name: "by externalid", method: "POST", path: "/api/web/v3/users/externalid", body: `{"userId":"ext-ann"}`, want: 200},
		{name: "by externalid unknown", method: "POST", path: "/api/web/v3/users/externalid", body: `{"userId":"ext-none"}`, want: 404},
		{name: "by externalid missing", method: "POST", path: "/api/web/v3/users/externalid", body: `{"userId":7}`, want: 400, invalid: true},
		{name: "create sharing the externalId", method: "POST", path: "/api/web/v3/users", want: 200,
			body: `{"userId":"ann2","firstName":"Ann","lastName":"Two","email":"ann2@organization.com","externalId":"ext-ann"}`},
		{name: "by externalid ambiguous", method: "POST", path: "/api/web/v3/users/externalid", body: `{"userId":"ext-ann"}`, want: 409},
		{name: "update idempotent", method: "PUT", path: "/api/web/v3/users/{user2}", header: map[string]string{"Idempotency-Key": "u1"}, body: `{"lastName":"A"}`, want: 200},
		{name: "update idempotent other body", method: "PUT", path: "/api/web/v3/users/{user2}", header: map[string]string{"Idempotency-Key": "u1"}, body: `{"lastName":"B"}`, want: 422},
		{name: "state stale If-Match", method: "PUT", path: "/api/web/v1/users/{user2}/state", header: map[string]string{"If-Match": `W/"1"`}, body: `{"state":"ACTIVE"}`, want: 412},
		{name: "state idempotent", method: "PUT", path: "/api/web/v1/users/{user2}/state", header: map[string]string{"Idempotency-Key": "s1"}, body: `{"state":"INACTIVE"}`, want: 200},
		{name: "state idempotent other body", method: "PUT", path: "/api/web/v1/users/{user2}/state", header: map[string]string{"Idempotency-Key": "s1"}, body: `{"state":"ACTIVE"}`, want: 422},
		{name: "paged", method: "POST", path: "/api/web/v4/userspaged", want: 200, save: saveCursor,
			body: `{"limit":2,"searchByAttributes":[{"name":"state","operator":"EQUALS","value":"ACTIVE"}],"orderByAttribute":{"name":"userId","ascending":true},"attributes":["userAliases","groups"]}`},
		{name: "paged next", method: "POST", path: "/api/web/v4/userspaged", body: `{"limit":2,"cursor":"{cursor}"}`, want: 200},
		{name: "paged bad limit", method: "POST", path: "/api/web/v4/userspaged", body: `{"limit":500}`, want: 400, invalid: true},
		{name: "paged unsupported attribute", method: "POST", path: "/api/web/v4/userspaged", body: `{"searchByAttributes":[{"name":"roleId","operator":"EQUALS","value":"x"}]}`, want: 400, invalid: true},
		{name: "paged bad cursor", method: "POST", path: "/api/web/v4/userspaged", body: `{"cursor":"garbage"}`, want: 400},
		{name: "state", method: "PUT", path: "/api/web/v1/users/{user}/state", body: `{"state":"INACTIVE"}`, want: 200},
		{name: "state invalid", method: "PUT", path: "/api/web/v1/users/{user}/state", body: `{"state":"GONE"}`, want: 400, invalid: true},
		{name: "state unknown user", method: "PUT", path: "/api/web/v1/users/" + unknownUUID + "/state", body: `{"state":"ACTIVE"}`, want: 404},
		{name: "unlock", method: "PUT", path: "/api/web/v1/users/{user}/unlock", want: 200},
		{name: "unlock stale If-Match", method: "PUT", path: "/api/web/v1/users/{user}/unlock", header: map[string]string{"If-Match": `W/"1"`}, want: 412},
		{name: "unlock unknown user", method: "PUT", path: "/api/web/v1/users/" + unknownUUID + "/unlock", want: 404},
		{name: "bulk create", method: "POST", path: "/api/web/v3/users/multiple", want: 200,
			body: `{"users":[{"userId":"m1","firstName":"M","lastName":"One","email":"m1@organization.com"},{"userId":"john","firstName":"M","lastName":"Dup","email":"m2@organization.com"}]}`},
		{name: "bulk create no users", method: "POST", path: "/api/web/v3/users/multiple", body: `{}`, want: 400, invalid: true},
		{name: "bulk create If-Match", method: "POST", path: "/api/web/v3/users/multiple", header: map[string]string{"If-Match": "*"}, body: `{"users":[]}`, want: 412},
		{name: "bulk update", method: "PUT", path: "/api/web/v3/users/multiple", want: 200,
			body: `{"users":[{"id":"m1","idType":"USERID","parms":{"lastName":"Uno"}},{"id":"` + unknownUUID + `","parms":{"lastName":"x"}}]}`},
		{name: "bulk update not a list", method: "PUT", path: "/api/web/v3/users/multiple", body: `{"users":{}}`, want: 400, invalid: true},
		{name: "bulk update If-Match", method: "PUT", path: "/api/web/v3/users/multiple", header: map[string]string{"If-Match": "*"}, body: `{"users":[]}`, want: 412},
		{name: "bulk delete", method: "DELETE", path: "/api/web/v3/users/multiple", want: 200,
			body: `{"users":[{"id":"m1","idType":"USERID"},{"id":"nobody","idType":"USERID"}],"stopOnError":true}`},
		{name: "bulk delete missing users", method: "DELETE", path: "/api/web/v3/users/multiple", body: `{"stopOnError":true}`, want: 400, invalid: true},
		{name: "bulk delete If-Match", method: "DELETE", path: "/api/web/v3/users/multiple", header: map[string]string{"If-Match": "*"}, body: `{"users":[]}`, want: 412},
		{name: "bulk delete no credential", method: "DELETE", path: "/api/web/v3/users/multiple", noAuth: true, body: `{"users":[]}`, want: 401, invalid: true},
		{name: "delete stale If-Match", method: "DELETE", path: "/api/web/v3/users/{user}", header: map[string]string{"If-Match": `W/"1"`}, want: 412},
		{name: "delete", method: "DELETE", path: "/api/web/v3/users/{user}", want: 200},
		{name: "delete again", method: "DELETE", path: "/api/web/v3/users/{user}", want: 404},
		{name: "authenticate rate limited", method: "POST", path: "/api/web/v1/adminapi/authenticate", noAuth: true, want: 429,
			body: `{"applicationId":"{limclient}","sharedSecret":"{limsecret}"}`},
		{name: "rate limited", method: "GET", path: "/api/web/v3/users/{user2}", header: map[string]string{"Authorization": "{limclient},{limsecret}"}, want: 429},
		{name: "server fault", method: "POST", path: "/api/web/v1/adminapi/authenticate", noAuth: true, broken: true, want: 500,
			body: `{"applicationId":"{bclient}","sharedSecret":"{bsecret}"}`},
	})
}

// saveCursor keeps paging.nextCursor of a userspaged answer.
func saveCursor(t *testing.T, m map[string]any, v map[string]string) {
	t.Helper()
	p, _ := m["paging"].(map[string]any)
	s, ok := p["nextCursor"].(string)
	if !ok {
		t.Fatalf("no paging.nextCursor in %v", m)
	}
	v["cursor"] = s
}

func scimScenario(c *contract, _ func(bool)) {
	bearer := func(secret string) func(http.Header) {
		return func(h http.Header) { h.Set("Authorization", "Bearer "+c.vars[secret]) }
	}
	c.auth, c.limitedAuth, c.brokenAuth = bearer("secret"), bearer("limsecret"), bearer("bsecret")
	c.wrongAuth = func(h http.Header) { h.Set("Authorization", "Bearer rsk_wrong") }
	scim := map[string]string{"Content-Type": "application/scim+json"}
	with := func(kv ...string) map[string]string {
		h := map[string]string{"Content-Type": "application/scim+json"}
		for i := 0; i+1 < len(kv); i += 2 {
			h[kv[i]] = kv[i+1]
		}
		return h
	}
	const user = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"userName":"ann@scim.example","externalId":"okta-1","name":{"givenName":"Ann","familyName":"Lee"},"title":"Engineer","active":true,
		"emails":[{"value":"ann@scim.example","type":"work","primary":true}],"phoneNumbers":[{"value":"+1 (555) 555-0100","type":"work"}],
		"addresses":[{"streetAddress":"1 Main St","locality":"Springfield","region":"IL","postalCode":"62701","country":"US","type":"work","primary":true}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","department":"Tour Operations"},
		"urn:ietf:params:scim:schemas:extension:roster:2.0:User":{"ssn":"123-45-6789","aliases":[{"value":"annl","type":"CUSTOM"}]}}`
	c.run([]step{
		{name: "service provider config", method: "GET", path: "/scim/v2/ServiceProviderConfig", noAuth: true, want: 200},
		{name: "resource types", method: "GET", path: "/scim/v2/ResourceTypes", noAuth: true, want: 200},
		{name: "resource type", method: "GET", path: "/scim/v2/ResourceTypes/User", noAuth: true, want: 200},
		{name: "resource type unknown", method: "GET", path: "/scim/v2/ResourceTypes/Device", noAuth: true, want: 404},
		{name: "schemas", method: "GET", path: "/scim/v2/Schemas", noAuth: true, want: 200},
		{name: "schema", method: "GET", path: "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", noAuth: true, want: 200},
		{name: "schema unknown", method: "GET", path: "/scim/v2/Schemas/urn:example:nope", noAuth: true, want: 404},
		{name: "me", method: "GET", path: "/scim/v2/Me", noAuth: true, want: 501},

		{name: "create user", method: "POST", path: "/scim/v2/Users", header: scim, body: user, want: 201, save: saveKey("id", "user")},
		{name: "create user as application/json", method: "POST", path: "/scim/v2/Users", want: 201, save: saveKey("id", "user2"),
			body: `{"userName":"bob@scim.example","name":{"givenName":"Bob"},"emails":[{"value":"bob@scim.example","primary":"True"}],"active":"true"}`},
		{name: "create user duplicate", method: "POST", path: "/scim/v2/Users", header: scim, body: `{"userName":"ANN@scim.example"}`, want: 409},
		{name: "create user without userName", method: "POST", path: "/scim/v2/Users", header: scim, body: `{"name":{"givenName":"x"}}`, want: 400, invalid: true},
		{name: "create user wrong type", method: "POST", path: "/scim/v2/Users", header: scim, body: `{"userName":"w@scim.example","emails":{"value":"w@scim.example"}}`, want: 400, invalid: true},
		{name: "create user malformed", method: "POST", path: "/scim/v2/Users", header: scim, body: `{"userName":`, want: 400, invalid: true},
		{name: "create user text/plain", method: "POST", path: "/scim/v2/Users", header: map[string]string{"Content-Type": "text/plain"}, body: `x`, want: 415, invalid: true},
		{name: "create user too large", method: "POST", path: "/scim/v2/Users", header: scim, want: 413,
			body: `{"userName":"big@scim.example","title":"` + strings.Repeat("x", 300<<10) + `"}`},
		{name: "create user no credential", method: "POST", path: "/scim/v2/Users", header: scim, noAuth: true, body: `{"userName":"n@scim.example"}`, want: 401, invalid: true},
		{name: "create user wrong credential", method: "POST", path: "/scim/v2/Users", header: with("Authorization", "Bearer rsk_nope"), body: `{"userName":"n@scim.example"}`, want: 401},
		{name: "create user idempotent", method: "POST", path: "/scim/v2/Users", header: with("Idempotency-Key", "s1"), body: `{"userName":"i1@scim.example"}`, want: 201},
		{name: "create user idempotent other body", method: "POST", path: "/scim/v2/Users", header: with("Idempotency-Key", "s1"), body: `{"userName":"i2@scim.example"}`, want: 422},

		{name: "list users", method: "GET", path: "/scim/v2/Users?filter=userName%20eq%20%22ann%40scim.example%22&startIndex=1&count=10&sortBy=userName", want: 200},
		{name: "list users projected", method: "GET", path: "/scim/v2/Users?attributes=userName,emails&count=1", want: 200},
		{name: "list users bad filter", method: "GET", path: "/scim/v2/Users?filter=userName%20eq", want: 400},
		{name: "list users no credential", method: "GET", path: "/scim/v2/Users", noAuth: true, want: 401, invalid: true},
		{name: "search users", method: "POST", path: "/scim/v2/Users/.search", header: scim, want: 200,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"emails co \"scim.example\"","excludedAttributes":["groups"],"count":5}`},
		{name: "search users bad filter", method: "POST", path: "/scim/v2/Users/.search", header: scim, body: `{"filter":"nope nope"}`, want: 400},
		{name: "search users no credential", method: "POST", path: "/scim/v2/Users/.search", header: scim, noAuth: true, body: `{}`, want: 401, invalid: true},
		{name: "get user", method: "GET", path: "/scim/v2/Users/{user}", want: 200},
		{name: "get user not modified", method: "GET", path: "/scim/v2/Users/{user}", header: map[string]string{"If-None-Match": "*"}, want: 304},
		{name: "get user unknown", method: "GET", path: "/scim/v2/Users/" + unknownUUID, want: 404},
		{name: "replace user", method: "PUT", path: "/scim/v2/Users/{user}", header: scim, body: user, want: 200},
		{name: "replace user stale", method: "PUT", path: "/scim/v2/Users/{user}", header: with("If-Match", `W/"1"`), body: user, want: 412},
		{name: "replace user without userName", method: "PUT", path: "/scim/v2/Users/{user}", header: scim, body: `{"title":"x"}`, want: 400, invalid: true},
		{name: "replace user unknown", method: "PUT", path: "/scim/v2/Users/" + unknownUUID, header: scim, body: `{"userName":"u@scim.example"}`, want: 404},
		{name: "replace user taken userName", method: "PUT", path: "/scim/v2/Users/{user2}", header: scim, body: `{"userName":"ann@scim.example"}`, want: 409},
		{name: "patch user", method: "PATCH", path: "/scim/v2/Users/{user}", header: scim, want: 200,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":false},{"op":"add","path":"emails[type eq \"home\"].value","value":"ann@home.example"}]}`},
		{name: "patch user invalid path", method: "PATCH", path: "/scim/v2/Users/{user}", header: scim, body: `{"Operations":[{"op":"replace","path":"nope[","value":1}]}`, want: 400},
		{name: "patch user bad op", method: "PATCH", path: "/scim/v2/Users/{user}", header: scim, body: `{"Operations":[{"op":"move","path":"title"}]}`, want: 400, invalid: true},
		{name: "patch user stale", method: "PATCH", path: "/scim/v2/Users/{user}", header: with("If-Match", `W/"1"`), body: `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`, want: 412},
		{name: "patch user taken userName", method: "PATCH", path: "/scim/v2/Users/{user2}", header: scim, body: `{"Operations":[{"op":"replace","path":"userName","value":"Ann@scim.example"}]}`, want: 409},
		{name: "patch user idempotent", method: "PATCH", path: "/scim/v2/Users/{user2}", header: with("Idempotency-Key", "pu"), body: `{"Operations":[{"op":"replace","path":"title","value":"A"}]}`, want: 200},
		{name: "patch user idempotent other body", method: "PATCH", path: "/scim/v2/Users/{user2}", header: with("Idempotency-Key", "pu"), body: `{"Operations":[{"op":"replace","path":"title","value":"B"}]}`, want: 422},
		{name: "replace user idempotent", method: "PUT", path: "/scim/v2/Users/{user2}", header: with("Idempotency-Key", "ru"), body: `{"userName":"bob@scim.example","title":"A"}`, want: 200},
		{name: "replace user idempotent other body", method: "PUT", path: "/scim/v2/Users/{user2}", header: with("Idempotency-Key", "ru"), body: `{"userName":"bob@scim.example","title":"B"}`, want: 422},
		{name: "patch user unknown", method: "PATCH", path: "/scim/v2/Users/" + unknownUUID, header: scim, body: `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`, want: 404},

		{name: "create group", method: "POST", path: "/scim/v2/Groups", header: scim, want: 201, save: saveKey("id", "group"),
			body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Engineering","externalId":"8aa1","members":[{"value":"{user}"}]}`},
		{name: "create group second", method: "POST", path: "/scim/v2/Groups", header: scim, body: `{"displayName":"Sales"}`, want: 201, save: saveKey("id", "group2")},
		{name: "create group duplicate", method: "POST", path: "/scim/v2/Groups", header: scim, body: `{"displayName":"engineering"}`, want: 409},
		{name: "create group without name", method: "POST", path: "/scim/v2/Groups", header: scim, body: `{"members":[]}`, want: 400, invalid: true},
		{name: "create group foreign member", method: "POST", path: "/scim/v2/Groups", header: scim, body: `{"displayName":"X","members":[{"value":"` + unknownUUID + `"}]}`, want: 400},
		{name: "list groups", method: "GET", path: "/scim/v2/Groups?filter=displayName%20eq%20%22Engineering%22", want: 200},
		{name: "list groups bad filter", method: "GET", path: "/scim/v2/Groups?filter=(", want: 400},
		{name: "search groups", method: "POST", path: "/scim/v2/Groups/.search", header: scim, body: `{"excludedAttributes":["members"]}`, want: 200},
		{name: "search groups bad count", method: "POST", path: "/scim/v2/Groups/.search", header: scim, body: `{"count":"many"}`, want: 400},
		{name: "get group", method: "GET", path: "/scim/v2/Groups/{group}", want: 200},
		{name: "get group not modified", method: "GET", path: "/scim/v2/Groups/{group}", header: map[string]string{"If-None-Match": "*"}, want: 304},
		{name: "get group unknown", method: "GET", path: "/scim/v2/Groups/" + unknownUUID, want: 404},
		{name: "replace group", method: "PUT", path: "/scim/v2/Groups/{group}", header: scim, body: `{"displayName":"Engineering","members":[{"value":"{user}"},{"value":"{user2}"}]}`, want: 200},
		{name: "replace group taken name", method: "PUT", path: "/scim/v2/Groups/{group2}", header: scim, body: `{"displayName":"ENGINEERING"}`, want: 409},
		{name: "replace group stale", method: "PUT", path: "/scim/v2/Groups/{group}", header: with("If-Match", `W/"1"`), body: `{"displayName":"Engineering"}`, want: 412},
		{name: "patch group", method: "PATCH", path: "/scim/v2/Groups/{group}", header: scim, want: 204,
			body: `{"Operations":[{"op":"Remove","path":"members","value":[{"value":"{user2}"}]}]}`},
		{name: "patch group projected", method: "PATCH", path: "/scim/v2/Groups/{group}?excludedAttributes=members", header: scim, want: 200,
			body: `{"Operations":[{"op":"replace","path":"externalId","value":"8aa2"}]}`},
		{name: "patch group read-only path", method: "PATCH", path: "/scim/v2/Groups/{group}", header: scim, body: `{"Operations":[{"op":"replace","path":"id","value":"x"}]}`, want: 400},
		{name: "patch group taken name", method: "PATCH", path: "/scim/v2/Groups/{group2}", header: scim, body: `{"Operations":[{"op":"replace","path":"displayName","value":"engineering"}]}`, want: 409},
		{name: "patch group stale", method: "PATCH", path: "/scim/v2/Groups/{group2}", header: with("If-Match", `W/"999"`), body: `{"Operations":[{"op":"replace","path":"externalId","value":"x"}]}`, want: 412},
		{name: "patch group idempotent", method: "PATCH", path: "/scim/v2/Groups/{group2}", header: with("Idempotency-Key", "pg"), body: `{"Operations":[{"op":"replace","path":"externalId","value":"A"}]}`, want: 204},
		{name: "patch group idempotent other body", method: "PATCH", path: "/scim/v2/Groups/{group2}", header: with("Idempotency-Key", "pg"), body: `{"Operations":[{"op":"replace","path":"externalId","value":"B"}]}`, want: 422},
		{name: "replace group without name", method: "PUT", path: "/scim/v2/Groups/{group2}", header: scim, body: `{"externalId":"x"}`, want: 400, invalid: true},
		{name: "replace group unknown", method: "PUT", path: "/scim/v2/Groups/" + unknownUUID, header: scim, body: `{"displayName":"Nobody"}`, want: 404},
		{name: "replace group idempotent", method: "PUT", path: "/scim/v2/Groups/{group2}", header: with("Idempotency-Key", "rg"), body: `{"displayName":"Sales","externalId":"C"}`, want: 200},
		{name: "replace group idempotent other body", method: "PUT", path: "/scim/v2/Groups/{group2}", header: with("Idempotency-Key", "rg"), body: `{"displayName":"Sales","externalId":"D"}`, want: 422},
		{name: "create group idempotent", method: "POST", path: "/scim/v2/Groups", header: with("Idempotency-Key", "cg"), body: `{"displayName":"Idem"}`, want: 201},
		{name: "create group idempotent other body", method: "POST", path: "/scim/v2/Groups", header: with("Idempotency-Key", "cg"), body: `{"displayName":"Idem2"}`, want: 422},
		{name: "patch group unknown", method: "PATCH", path: "/scim/v2/Groups/" + unknownUUID, header: scim, body: `{"Operations":[{"op":"replace","path":"externalId","value":"x"}]}`, want: 404},

		{name: "bulk", method: "POST", path: "/scim/v2/Bulk", header: scim, want: 200,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
				{"method":"POST","path":"/Users","bulkId":"u1","data":{"userName":"bulk1@scim.example"}},
				{"method":"POST","path":"/Groups","bulkId":"g1","data":{"displayName":"Bulk","members":[{"value":"bulkId:u1"}]}},
				{"method":"POST","path":"/Users","data":{"userName":"ann@scim.example"}},
				{"method":"DELETE","path":"/Users/` + unknownUUID + `"}]}`},
		{name: "bulk not a list", method: "POST", path: "/scim/v2/Bulk", header: scim, body: `{"Operations":{}}`, want: 400, invalid: true},
		{name: "bulk too many", method: "POST", path: "/scim/v2/Bulk", header: scim, want: 413, invalid: true,
			body: `{"Operations":[` + strings.TrimSuffix(strings.Repeat(`{"method":"DELETE","path":"/Users/x"},`, 1001), ",") + `]}`},
		{name: "bulk no credential", method: "POST", path: "/scim/v2/Bulk", header: scim, noAuth: true, body: `{"Operations":[]}`, want: 401, invalid: true},

		{name: "delete group stale", method: "DELETE", path: "/scim/v2/Groups/{group}", header: map[string]string{"If-Match": `W/"1"`}, want: 412},
		{name: "delete group", method: "DELETE", path: "/scim/v2/Groups/{group}", want: 204},
		{name: "delete group again", method: "DELETE", path: "/scim/v2/Groups/{group}", want: 404},
		{name: "delete user stale", method: "DELETE", path: "/scim/v2/Users/{user}", header: map[string]string{"If-Match": `W/"1"`}, want: 412},
		{name: "delete user", method: "DELETE", path: "/scim/v2/Users/{user}", want: 204},
		{name: "delete user again", method: "DELETE", path: "/scim/v2/Users/{user}", want: 404},
		{name: "rate limited", method: "GET", path: "/scim/v2/Users/{user2}", header: map[string]string{"Authorization": "Bearer {limsecret}"}, want: 429},
		{name: "server fault", method: "GET", path: "/scim/v2/Users", broken: true, header: map[string]string{"Authorization": "Bearer {bsecret}"}, want: 500},
	})
}
