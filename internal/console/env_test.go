package console_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/console"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/server"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// env is roster serve's whole handler (every dialect and the console)
// on a real HTTP server over a fresh database.
type env struct {
	t     testing.TB
	st    *store.Store
	svc   *directory.Service
	con   *console.Console
	srv   *httptest.Server
	clock *apitest.Clock
}

func newEnv(t testing.TB, backend string) *env {
	t.Helper()
	st := testdb.Open(t, backend)
	clock := apitest.NewClock()
	svc := directory.NewService(st, directory.Options{Now: clock.Now})
	con := console.New(svc, st, console.Options{Now: clock.Now})
	logs := &apitest.Buffer{}
	h := server.New(svc, server.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil)), Console: con})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, st: st, svc: svc, con: con, srv: srv, clock: clock}
}

const testPassword = "correct horse battery"

// operator creates an operator with testPassword.
func (e *env) operator(email string, role directory.Role) *directory.Operator {
	e.t.Helper()
	o, err := console.CreateOperator(e.t.Context(), e.st, email, role, testPassword, e.clock.Now())
	if err != nil {
		e.t.Fatalf("create operator: %v", err)
	}
	return o
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each answer.
type browser struct {
	t testing.TB
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) answer {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (b *browser) get(path string) answer {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) answer {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the page at path.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	a := b.get(path)
	m := csrfRE.FindStringSubmatch(a.body)
	if m == nil {
		b.t.Fatalf("GET %s: %d, no csrf field in %q", path, a.status, a.body)
	}
	return m[1]
}

// signIn signs in with email and password and returns the answer.
func (b *browser) signIn(email, password string) answer {
	b.t.Helper()
	tok := b.csrf("/console/sign-in")
	return b.post("/console/sign-in", url.Values{"csrf": {tok}, "email": {email}, "password": {password}})
}

// mustSignIn signs in and fails the test unless it worked.
func (b *browser) mustSignIn(email string) {
	b.t.Helper()
	if a := b.signIn(email, testPassword); a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/tenants" {
		b.t.Fatalf("sign in %s: got %d %q, want 303 to /console/tenants; body %s", email, a.status, a.header.Get("Location"), a.body)
	}
}

// postWithCSRF posts form to path with the CSRF token of page from.
func (b *browser) postWithCSRF(from, path string, form url.Values) answer {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf(from))
	return b.post(path, form)
}

func regexpMust(re string) *regexp.Regexp { return regexp.MustCompile(re) }
