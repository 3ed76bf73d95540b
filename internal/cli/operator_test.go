package cli

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// withStdin makes s the standard input of the commands for one test.
func withStdin(t *testing.T, s string) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(s)
	t.Cleanup(func() { stdin = old })
}

// TestOperatorCreate: roster operator create reads the password from
// standard input, validates, refuses a taken e-mail, and the operator
// then signs in to the console roster serve mounts at /console/.
func TestOperatorCreate(t *testing.T) {
	dir := tempDB(t)
	const pw = "a long enough password"
	for _, c := range []struct {
		name  string
		args  []string
		stdin string
		code  int
		out   string // in stdout (code 0) or stderr
	}{
		{"created", []string{"--role", "admin", "--password-stdin", "Ann@Example.com"}, pw + "\n", 0, "created operator Ann@Example.com (admin"},
		{"taken", []string{"--role", "viewer", "--password-stdin", "ann@example.com"}, pw + "\n", 1, "already exists"},
		{"short password", []string{"--role", "viewer", "--password-stdin", "bob@example.com"}, "short\n", 1, "password must be"},
		{"bad e-mail", []string{"--role", "viewer", "--password-stdin", "bob"}, pw + "\n", 1, "e-mail"},
		{"no role", []string{"--password-stdin", "bob@example.com"}, pw + "\n", exitUsage, "--role"},
		{"bad role", []string{"--role", "root", "--password-stdin", "bob@example.com"}, pw + "\n", exitUsage, "--role"},
		{"no e-mail", []string{"--role", "admin", "--password-stdin"}, pw + "\n", exitUsage, "EMAIL"},
		{"not a terminal", []string{"--role", "admin", "bob@example.com"}, pw + "\n", exitUsage, "--password-stdin"},
	} {
		withStdin(t, c.stdin)
		code, stdout, stderr := runCLI(t, append([]string{"operator", "create"}, c.args...)...)
		got := stderr
		if code == 0 {
			got = stdout
		}
		if code != c.code || !strings.Contains(got, c.out) {
			t.Errorf("%s: got %d %q %q, want %d with %q", c.name, code, stdout, stderr, c.code, c.out)
		}
	}

	withEnv(t, map[string]string{"ROSTER_DB": "sqlite:" + filepath.Join(dir, "r.db"), "ROSTER_SHUTDOWN_GRACE": "5s"})
	srv := startServe(t, listenRE)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(srv.base + "/console/sign-in")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET /console/sign-in from roster serve: %d, csrf %v", resp.StatusCode, m != nil)
	}
	resp, err = client.PostForm(srv.base+"/console/sign-in", url.Values{"csrf": {string(m[1])}, "email": {"ann@example.com"}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/tenants" {
		t.Fatalf("sign in to roster serve's console: %d %q, want 303 to /console/tenants", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = client.Get(srv.base + "/console/tenants")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "default") {
		t.Errorf("console tenants page: %d, want 200 listing tenant default", resp.StatusCode)
	}
}
