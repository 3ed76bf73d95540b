package entrust_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/dialect/entrust"
	"github.com/roster-dev/roster/internal/directory"
)

// The vendor's OpenAPI file (testdata/README.md says where it comes from)
// is the contract: every response body must validate against it.
var (
	specOnce sync.Once
	spec     *openapi3.T
	specErr  error
)

func loadSpec(t testing.TB) *openapi3.T {
	t.Helper()
	specOnce.Do(func() {
		spec, specErr = openapi3.NewLoader().LoadFromFile("testdata/entrust-admin-users.openapi.json")
		if specErr != nil {
			return
		}
		specErr = spec.Validate(openapi3.NewLoader().Context)
		if specErr != nil {
			return
		}
		relaxNullable(spec)
	})
	if specErr != nil {
		t.Fatalf("load vendor spec: %v", specErr)
	}
	return spec
}

// relaxNullable allows null for every property, and nothing else: the
// vendor's generator never marks a property nullable, yet the vendor's own
// responses carry null for unset values. A property that is a $ref gets a
// nullable copy of the referenced schema, so the referenced schema itself
// (a response body, an array item) stays non-null.
func relaxNullable(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(s *openapi3.Schema)
	walk = func(s *openapi3.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		for name, ref := range s.Properties {
			if ref == nil || ref.Value == nil {
				continue
			}
			walk(ref.Value)
			if ref.Ref != "" {
				c := *ref.Value
				c.Nullable = true
				s.Properties[name] = &openapi3.SchemaRef{Value: &c}
			} else {
				ref.Value.Nullable = true
			}
		}
		if s.Items != nil {
			walk(s.Items.Value)
		}
		if s.AdditionalProperties.Schema != nil {
			walk(s.AdditionalProperties.Schema.Value)
		}
		for _, l := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, r := range l {
				walk(r.Value)
			}
		}
	}
	for _, ref := range doc.Components.Schemas {
		walk(ref.Value)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, resp := range op.Responses.Map() {
				for _, mt := range resp.Value.Content {
					if mt.Schema != nil {
						walk(mt.Schema.Value)
					}
				}
			}
		}
	}
}

// operation finds the spec operation serving method and path; literal
// segments win over {params}.
func operation(doc *openapi3.T, method, path string) *openapi3.Operation {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(path, "/")
	var best *openapi3.Operation
	bestScore := -1
	for tmpl, item := range doc.Paths.Map() {
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		score := 0
		ok := true
		for i := range ts {
			switch {
			case strings.HasPrefix(ts[i], "{"):
			case ts[i] == segs[i]:
				score++
			default:
				ok = false
			}
		}
		if !ok || score <= bestScore {
			continue
		}
		if op := item.GetOperation(method); op != nil {
			best, bestScore = op, score
		}
	}
	return best
}

// validate checks resp against the vendor's schema for method and path.
// A status the spec does not list for the operation (405, 413, 415, 500), or
// a path the spec does not have, must carry an ErrorInfo.
func validate(t testing.TB, method, path string, resp *apitest.Response) {
	t.Helper()
	doc := loadSpec(t)
	errorInfo := doc.Components.Schemas["ErrorInfo"].Value
	var schema *openapi3.Schema
	var wantEmpty bool
	op := operation(doc, method, path)
	var r *openapi3.ResponseRef
	if op != nil {
		r = op.Responses.Status(resp.Status)
	}
	switch {
	case r != nil && r.Value.Content["application/json"] != nil:
		schema = r.Value.Content["application/json"].Schema.Value
	case r != nil:
		wantEmpty = true
	case resp.Status >= 400:
		schema = errorInfo
	default:
		t.Errorf("%s %s: status %d is not in the vendor's spec", method, path, resp.Status)
		return
	}
	if wantEmpty {
		if len(resp.Body) != 0 {
			t.Errorf("%s %s: status %d must have no body, got %s", method, path, resp.Status, resp.Body)
		}
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	var v any
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Errorf("%s %s: body is not JSON: %v: %s", method, path, err, resp.Body)
		return
	}
	if err := schema.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsResponse(), openapi3.EnableFormatValidation()); err != nil {
		t.Errorf("%s %s: status %d body does not match the vendor's schema: %v\n%s", method, path, resp.Status, err, resp.Body)
	}
	if resp.Status >= 400 {
		m, _ := v.(map[string]any)
		if code, _ := m["errorCode"].(string); code == "" {
			t.Errorf("%s %s: error body without errorCode: %s", method, path, resp.Body)
		}
		if msg, _ := m["errorMessage"].(string); msg == "" {
			t.Errorf("%s %s: error body without errorMessage: %s", method, path, resp.Body)
		}
		if _, ok := m["parameters"].([]any); !ok {
			t.Errorf("%s %s: error body without parameters array: %s", method, path, resp.Body)
		}
	}
	if resp.Status >= 500 {
		t.Errorf("%s %s: server error %d: %s", method, path, resp.Status, resp.Body)
	}
}

// client calls the server with a token and validates every response.
type client struct {
	t     testing.TB
	env   *apitest.Env
	token string
	creds apitest.Creds
}

func newEnv(t testing.TB, backend string, o entrust.Options) *apitest.Env {
	t.Helper()
	return apitest.New(t, backend, func(mux *http.ServeMux, svc *directory.Service) {
		entrust.New(svc, o).Register(mux)
	})
}

// login authenticates creds and returns a client holding the token.
func login(t testing.TB, env *apitest.Env, creds apitest.Creds) *client {
	t.Helper()
	c := &client{t: t, env: env, creds: creds}
	resp := c.raw(apitest.Request{Method: "POST", Path: "/api/web/v1/adminapi/authenticate",
		Body: `{"applicationId":"` + creds.ClientID + `","sharedSecret":"` + creds.Secret + `"}`})
	if resp.Status != 200 {
		t.Fatalf("authenticate: %d %s", resp.Status, resp.Body)
	}
	var out struct{ AuthToken string }
	resp.JSON(t, &out)
	c.token = out.AuthToken
	return c
}

// raw sends req as is and validates the response.
func (c *client) raw(req apitest.Request) *apitest.Response {
	c.t.Helper()
	resp := c.env.Do(req)
	validate(c.t, req.Method, req.Path, resp)
	if resp.Status >= 500 {
		id := resp.Header.Get("X-Request-Id")
		for _, line := range strings.Split(c.env.Logs.String(), "\n") {
			if id != "" && strings.Contains(line, id) {
				c.t.Logf("server log: %s", line)
			}
		}
	}
	return resp
}

// do sends an authenticated JSON request.
func (c *client) do(method, path, body string) *apitest.Response {
	c.t.Helper()
	return c.raw(apitest.Request{Method: method, Path: path, Body: body,
		Header: map[string]string{"Authorization": "Bearer " + c.token, "Content-Type": "application/json"}})
}

// mustStatus fails unless resp has status want.
func mustStatus(t testing.TB, resp *apitest.Response, want int) {
	t.Helper()
	if resp.Status != want {
		t.Fatalf("status %d, want %d: %s", resp.Status, want, resp.Body)
	}
}

// errorCode returns the errorCode of an ErrorInfo body.
func errorCode(t testing.TB, resp *apitest.Response) string {
	t.Helper()
	var e struct{ ErrorCode string }
	resp.JSON(t, &e)
	return e.ErrorCode
}

// createUser creates a user with the default required fields and returns
// its UUID.
func (c *client) createUser(userID string, extra ...string) string {
	c.t.Helper()
	body := `{"userId":"` + userID + `","firstName":"F","lastName":"L","email":"` + userID + `@example.com"`
	for _, e := range extra {
		body += "," + e
	}
	body += "}"
	resp := c.do("POST", "/api/web/v3/users", body)
	mustStatus(c.t, resp, 200)
	var u struct{ ID string }
	resp.JSON(c.t, &u)
	return u.ID
}

// TestSchemaValidatorCatches proves the validator is not vacuous: it
// rejects what the vendor's schema forbids, and the nullable relaxation
// reaches properties only.
func TestSchemaValidatorCatches(t *testing.T) {
	doc := loadSpec(t)
	s := func(name string) *openapi3.Schema { return doc.Components.Schemas[name].Value }
	opts := []openapi3.SchemaValidationOption{openapi3.VisitAsResponse(), openapi3.EnableFormatValidation()}
	cases := []struct {
		name   string
		schema string
		body   string
		ok     bool
	}{
		{"null property", "User", `{"id":"x","locale":null,"tempAccessCode":null}`, true},
		{"null body", "User", `null`, false},
		{"bad state", "User", `{"state":"GONE"}`, false},
		{"bad type", "User", `{"type":"ROBOT"}`, false},
		{"locked not bool", "User", `{"locked":"no"}`, false},
		{"bad alias type", "User", `{"userAliases":[{"type":"NICK"}]}`, false},
		{"null array item", "User", `{"userAliases":[null]}`, false},
		{"bad date-time", "User", `{"lastModified":"2018-05-29T19:12:54.000+0000"}`, false},
		{"group without name", "User", `{"groups":[{"id":"g"}]}`, false},
		{"error parameters not array", "ErrorInfo", `{"errorCode":"x","parameters":{}}`, false},
		{"result without success", "CreateUserResult", `{"user":null}`, false},
		{"paging limit 0", "UsersPage", `{"results":[],"paging":{"limit":0}}`, false},
		{"page without results", "UsersPage", `{"paging":{"limit":1}}`, false},
	}
	for _, tc := range cases {
		var v any
		if err := json.Unmarshal([]byte(tc.body), &v); err != nil {
			t.Fatal(err)
		}
		err := s(tc.schema).VisitJSON(v, opts...)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %s: got err %v, want ok=%v", tc.name, tc.body, err, tc.ok)
		}
	}
}
