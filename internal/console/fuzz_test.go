package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
)

// FuzzConsole sends a signed-in admin's requests with hostile paths,
// queries and form bodies (a valid CSRF token, so the handlers run) to
// every console route: whatever arrives, the answer is never a 5xx.
func FuzzConsole(f *testing.F) {
	e := newEnv(f, "sqlite")
	e.operator("ann@example.com", directory.RoleAdmin)
	if _, err := e.svc.CreateTenant(f.Context(), "acme", directory.UniquePolicy{}); err != nil {
		f.Fatal(err)
	}
	u := e.seedUser("acme", &directory.User{FirstName: "Maria", SSN: secret.Value("222336789")})
	b := e.browser()
	b.mustSignIn("ann@example.com")
	tok := b.csrf("/console/tenants")
	for _, seed := range [][3]string{
		{"GET", "users", "q=maria&page=2"},
		{"GET", "users/results", "q=%ff"},
		{"GET", "users/" + u.ID, ""},
		{"POST", "users/" + u.ID + "/reveal-ssn", ""},
		{"GET", "audit", "action=user.create&since=2026-01-01&before=1_x"},
		{"POST", "credentials", "x=1"},
		{"POST", "credentials/zz/revoke", ""},
		{"POST", "../../tenants", "name=a%00b&unique=email"},
		{"GET", "users", "q=" + strings.Repeat("(", 300)},
		{"POST", "users/../../", "name=" + strings.Repeat("x", 70)},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, method, path, rest string) {
		if method != "GET" {
			method = "POST"
		}
		target := e.srv.URL + "/console/tenants/acme/" + url.PathEscape(path)
		var req *http.Request
		if method == "GET" {
			req, _ = http.NewRequest(method, target+"?"+url.QueryEscape(rest), nil)
		} else {
			form, err := url.ParseQuery(rest)
			if err != nil {
				form = url.Values{"raw": {rest}}
			}
			form.Set("csrf", tok)
			req, _ = http.NewRequest(method, target, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if req == nil {
			return
		}
		req.URL.RawPath = "" // send the escaped path as such
		resp, err := b.c.Do(req)
		if err != nil {
			return // a request Go refuses to send tests nothing of ours
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s: %d", method, req.URL, resp.StatusCode)
		}
	})
}
