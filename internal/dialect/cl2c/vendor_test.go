package cl2c_test

import (
	"net/http"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
)

// vendorExampleBody is the vendor's "Example Request Body", verbatim:
// every value "string".
const vendorExampleBody = `{
  "firstName": "string",
  "lastName": "string",
  "email": "string",
  "userName": "string",
  "phoneNumber": "string"
}`

// TestVendorExamples replays the vendor's documented requests on both
// backends: each must succeed, as the vendor shows them succeeding, and a
// 400 carries the content type the vendor documents.
func TestVendorExamples(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		c := e.Creds
		resp := call(e, c, "POST", "/v1/cl2c/user", vendorExampleBody)
		if resp.Status != http.StatusOK {
			t.Fatalf("the vendor's Example Request Body: got %d %s, want 200", resp.Status, resp.Body)
		}
		apitest.Golden(t, "cl2c/vendor_example", resp)
		u := resp.Map(t)
		for _, k := range []string{"userName", "firstName", "lastName", "email", "phoneNumber"} {
			if u[k] != "string" {
				t.Errorf("%s: got %v, want it as sent", k, u[k])
			}
		}
		// The Node.js example (phone +1234567890, not a possible number).
		if resp := call(e, c, "POST", "/v1/cl2c/user", seedExample); resp.Status != http.StatusOK {
			t.Fatalf("the vendor's Node.js example: got %d %s, want 200", resp.Status, resp.Body)
		}
		// Trailing slashes answer as the routes without one.
		id := u["id"].(string)
		for _, tt := range []struct{ method, path, body string }{
			{"GET", "/v1/cl2c/users/" + id + "/", ""},
			{"GET", "/v1/cl2c/users/", ""},
			{"PUT", "/v1/cl2c/user/", `{"id":"` + id + `","firstName":"Str"}`},
		} {
			if resp := call(e, c, tt.method, tt.path, tt.body); resp.Status != http.StatusOK {
				t.Errorf("%s %s: got %d %s, want 200", tt.method, tt.path, resp.Status, resp.Body)
			}
		}
		if resp := call(e, c, "POST", "/v1/cl2c/user/", `{"firstName":"A","lastName":"B","email":"x","userName":"slash"}`); resp.Status != http.StatusOK {
			t.Errorf("POST /v1/cl2c/user/: got %d %s, want 200", resp.Status, resp.Body)
		}
		// The documented 400: "Content Type: application/json".
		resp = call(e, c, "POST", "/v1/cl2c/user", `{}`)
		if resp.Status != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("400: got %d %q, want 400 application/json", resp.Status, resp.Header.Get("Content-Type"))
		}
	})
}
