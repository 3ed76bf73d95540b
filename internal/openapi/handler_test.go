package openapi_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/roster-dev/roster/internal/openapi"
)

func serve(t *testing.T, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	openapi.Register(mux, openapi.Default())
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

// TestServedDocuments checks each served document is the embedded one:
// it loads, validates, is OpenAPI 3.1, and has the operations of the
// package's copy.
func TestServedDocuments(t *testing.T) {
	rec := serve(t, "GET", "/openapi/")
	if rec.Code != http.StatusOK {
		t.Fatalf("index: %d", rec.Code)
	}
	var ix openapi.Index
	if err := json.Unmarshal(rec.Body.Bytes(), &ix); err != nil {
		t.Fatal(err)
	}
	if len(ix.Documents) != len(openapi.Names) {
		t.Fatalf("index has %d documents, want %d", len(ix.Documents), len(openapi.Names))
	}
	for i, e := range ix.Documents {
		if e.Name != openapi.Names[i] || e.URL != "/openapi/"+e.Name+".json" || e.OpenAPI != "3.1.0" {
			t.Errorf("index entry %d: %+v", i, e)
		}
		rec := serve(t, "GET", e.URL)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %s", e.URL, rec.Code, rec.Header().Get("Content-Type"))
		}
		doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", e.URL, err)
		}
		if err := doc.Validate(t.Context()); err != nil {
			t.Fatalf("%s: %v", e.URL, err)
		}
		if !strings.HasPrefix(rec.Body.String(), "{\n  \"openapi\": \"3.1.0\",") {
			t.Errorf("%s does not start with its version: %.40q", e.URL, rec.Body.String())
		}
		want := openapi.Default().Get(e.Name).Doc
		if got, want := doc.Paths.Len(), want.Paths.Len(); got != want {
			t.Errorf("%s: %d paths, want %d", e.URL, got, want)
		}
	}
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/openapi/", 200},
		{"HEAD", "/openapi/", 200},
		{"GET", "/openapi/scim.json", 200},
		{"GET", "/openapi/scim", 404},
		{"GET", "/openapi/nope.json", 404},
		{"GET", "/openapi/.json", 404},
		{"GET", "/openapi/scim.json.json", 404},
		{"GET", "/docs", 200},
		{"POST", "/docs", 405},
		{"DELETE", "/openapi/", 405},
		{"PUT", "/openapi/truv.json", 405},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := serve(t, tt.method, tt.path)
			if rec.Code != tt.want {
				t.Fatalf("got %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
			if tt.want >= 400 {
				var m map[string]string
				if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m["error"] == "" {
					t.Errorf("error body %q is not the server's JSON error", rec.Body)
				}
			}
			if tt.want == 405 && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q", rec.Header().Get("Allow"))
			}
		})
	}
}

// TestDocsPage checks /docs lists every operation of every document, needs
// nothing from elsewhere, and that its CSP allows exactly its style sheet.
func TestDocsPage(t *testing.T) {
	rec := serve(t, "GET", "/docs")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("%d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	page := rec.Body.String()
	for _, d := range openapi.Default().Docs {
		for path, item := range d.Doc.Paths.Map() {
			for method := range item.Operations() {
				want := `<code class="m ` + method + `">` + method + `</code> <code>` + path + `</code>`
				if !strings.Contains(page, want) {
					t.Errorf("%s: page does not show %s %s", d.Name, method, path)
				}
			}
		}
		for name := range d.Doc.Components.Schemas {
			if !strings.Contains(page, `id="`+d.Name+"-schema-"+name+`"`) {
				t.Errorf("%s: page does not show schema %s", d.Name, name)
			}
		}
	}
	// Every in-page link has its target.
	for _, m := range regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !strings.Contains(page, `id="`+m[1]+`"`) {
			t.Errorf("link to #%s has no target", m[1])
		}
	}
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "src=", `href="http`, `href="//`, "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: it must load nothing", bad)
		}
	}
	styles := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatch(page, -1)
	if len(styles) != 1 {
		t.Fatalf("%d style elements, want 1", len(styles))
	}
	sum := sha256.Sum256([]byte(styles[0][1]))
	hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "style-src "+hash) || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q does not allow the style sheet (%s) alone", csp, hash)
	}
}
