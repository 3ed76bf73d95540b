package scim_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/dialect/scim"
	"github.com/roster-dev/roster/internal/directory"
)

// origin is the public origin the tests configure, so meta.location is
// stable in golden files.
const origin = "https://roster.example.com"

// env is a running server with the SCIM dialect.
type env struct {
	*apitest.Env
	t testing.TB
}

func newEnv(t testing.TB, backend string) *env {
	t.Helper()
	e := apitest.New(t, backend, func(mux *http.ServeMux, svc *directory.Service) {
		scim.New(svc, scim.Options{BaseURL: origin}).Register(mux)
	})
	return &env{Env: e, t: t}
}

// call sends an authenticated SCIM request; extra holds header pairs.
func (e *env) call(method, path, body string, extra ...string) *apitest.Response {
	e.t.Helper()
	return e.callAs(e.Creds.Secret, method, path, body, extra...)
}

func (e *env) callAs(secret, method, path, body string, extra ...string) *apitest.Response {
	e.t.Helper()
	h := map[string]string{"Authorization": "Bearer " + secret}
	if body != "" {
		h["Content-Type"] = "application/scim+json"
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			delete(h, extra[i])
		} else {
			h[extra[i]] = extra[i+1]
		}
	}
	return e.Do(apitest.Request{Method: method, Path: "/scim/v2" + path, Header: h, Body: body})
}

// mustStatus fails the test unless r has status want.
func mustStatus(t testing.TB, r *apitest.Response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body: %s", r.Status, want, r.Body)
	}
}

// createUser creates a user from a JSON body and returns its
// representation.
func (e *env) createUser(body string) map[string]any {
	e.t.Helper()
	r := e.call("POST", "/Users", body)
	mustStatus(e.t, r, http.StatusCreated)
	return r.Map(e.t)
}

// userBody is a minimal create body.
func userBody(userName string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + userName +
		`","name":{"givenName":"Ann","familyName":"Lee"},"emails":[{"value":"` + userName + `@example.com","type":"work","primary":true}],"active":true}`
}

// at returns the value at a dotted path in a decoded JSON value; a numeric
// segment indexes an array. nil when absent.
func at(v any, path string) any {
	for _, seg := range splitPath(path) {
		switch x := v.(type) {
		case map[string]any:
			v = x[seg]
		case []any:
			i := 0
			for _, c := range seg {
				if c < '0' || c > '9' {
					return nil
				}
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// splitPath splits on dots, keeping URNs (which contain dots in "2.0")
// whole when written as "urn:...:User|attr".
func splitPath(p string) []string {
	var out []string
	for _, part := range strings.Split(p, "|") {
		if strings.HasPrefix(part, "urn:") {
			out = append(out, part)
			continue
		}
		out = append(out, strings.Split(part, ".")...)
	}
	return out
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// scimErr checks a SCIM error body.
func scimErr(t testing.TB, r *apitest.Response, status int, scimType string) {
	t.Helper()
	mustStatus(t, r, status)
	if ct := r.Header.Get("Content-Type"); ct != "application/scim+json" {
		t.Errorf("Content-Type %q, want application/scim+json", ct)
	}
	m := r.Map(t)
	if got := jsonString(m["schemas"]); got != `["urn:ietf:params:scim:api:messages:2.0:Error"]` {
		t.Errorf("schemas %s", got)
	}
	if got, _ := m["status"].(string); got != http.StatusText(status) && got != itoa(status) {
		t.Errorf("status %v, want %q", m["status"], itoa(status))
	}
	if got, _ := m["scimType"].(string); got != scimType {
		t.Errorf("scimType %q, want %q (detail %v)", got, scimType, m["detail"])
	}
	if d, _ := m["detail"].(string); d == "" {
		t.Errorf("no detail")
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// with returns e bound to t: apitest.Env reports through its T, and a fuzz
// target must not use the *testing.F.
func (e *env) with(t testing.TB) *env {
	c := *e.Env
	c.T = t
	return &env{Env: &c, t: t}
}
