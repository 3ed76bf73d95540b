package openapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	legacyrouter "github.com/getkin/kin-openapi/routers/legacy"

	"github.com/roster-dev/roster/internal/openapi"
)

// TestDocumentsLoad loads and validates every embedded document.
func TestDocumentsLoad(t *testing.T) {
	s, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Docs) != len(openapi.Names) {
		t.Fatalf("got %d documents, want %d", len(s.Docs), len(openapi.Names))
	}
}

// TestValidatorRejectsWrongResponses proves the validator the contract
// test relies on is live: answers that break a document (a wrong type, a
// missing required field, an undocumented status) are rejected, and the
// right answer is accepted.
func TestValidatorRejectsWrongResponses(t *testing.T) {
	doc := openapi.Default().Get("truv").Doc
	router, err := legacyrouter.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	const good = `{"id":"0190a1b2c3d47e5f8a9b0c1d2e3f4a5b","external_user_id":"1","created_at":"2022-05-04T11:30:00.000Z",
		"updated_at":"2022-05-04T11:30:00.000Z","first_name":"J","last_name":"D","email":null,"phone":null,"ssn":null}`
	tests := []struct {
		name   string
		status int
		body   string
		ok     bool
	}{
		{"the right answer", 200, good, true},
		{"wrong type", 200, strings.Replace(good, `"first_name":"J"`, `"first_name":7`, 1), false},
		{"missing required field", 200, strings.Replace(good, `"ssn":null`, `"extra":null`, 1), false},
		{"null where the type has none", 200, strings.Replace(good, `"first_name":"J"`, `"first_name":null`, 1), false},
		{"a number in a string-or-null", 200, strings.Replace(good, `"ssn":null`, `"ssn":222233333`, 1), false},
		{"id not 32 hex", 200, strings.Replace(good, "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b", "0190a1b2-c3d4", 1), false},
		{"an error body in place of the user", 200, `{"detail":"Not Found."}`, false},
		{"404 in the user's shape", 404, good, false},
		{"an undocumented status", 418, `{"detail":"teapot"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/v1/users/0190a1b2c3d47e5f8a9b0c1d2e3f4a5b/", nil)
			req.Header.Set("X-Access-Client-Id", "c")
			req.Header.Set("X-Access-Secret", "s")
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatal(err)
			}
			opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
			if err := openapi3filter.ValidateRequest(t.Context(), in); err != nil {
				t.Fatalf("request: %v", err)
			}
			h := http.Header{"Content-Type": {"application/json"}}
			err = openapi3filter.ValidateResponse(t.Context(), &openapi3filter.ResponseValidationInput{RequestValidationInput: in,
				Status: tt.status, Header: h, Body: io.NopCloser(strings.NewReader(tt.body)), Options: opts})
			if tt.ok && err != nil {
				t.Errorf("rejected a right answer: %v", err)
			}
			if !tt.ok && err == nil {
				t.Errorf("accepted a wrong answer")
			}
		})
	}
}

// BenchmarkLoad is what a process start pays for the documents (parse,
// validate, encode) and the /docs page.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		s, err := openapi.Load()
		if err != nil {
			b.Fatal(err)
		}
		openapi.Register(http.NewServeMux(), s)
	}
}

func BenchmarkRegister(b *testing.B) {
	s := openapi.Default()
	for b.Loop() {
		openapi.Register(http.NewServeMux(), s)
	}
}
