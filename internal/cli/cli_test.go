package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/proctest"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/testdb"
)

// withEnv points the commands at a fresh SQLite database for one test.
func withEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	old := env
	env = func(k string) string { return vars[k] }
	t.Cleanup(func() { env = old })
}

// tempDB points the commands at a new, migrated SQLite database (only
// serve and migrate create one) and returns its directory.
func tempDB(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	withEnv(t, map[string]string{"ROSTER_DB": "sqlite:" + filepath.Join(dir, "r.db")})
	if code, _, stderr := runCLI(t, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	return dir
}

// runCLI runs one command and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsageErrors(t *testing.T) {
	tempDB(t)
	tests := []struct {
		args []string
		want int
	}{
		{nil, exitUsage},
		{[]string{"bogus"}, exitUsage},
		{[]string{"tenant"}, exitUsage},
		{[]string{"tenant", "create"}, exitUsage},
		{[]string{"tenant", "create", "a", "b"}, exitUsage},
		{[]string{"tenant", "create", "a", "--unique", "email,fax"}, exitUsage},
		{[]string{"credential", "create"}, exitUsage},
		{[]string{"serve", "--nope"}, exitUsage},
		{[]string{"user", "export", "--tenant", "x", "--format", "xml"}, exitUsage},
		{[]string{"help"}, 0},
		{[]string{"version"}, 0},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, tt.args...)
		if code != tt.want {
			t.Errorf("roster %v: exit %d (%s), want %d", tt.args, code, stderr, tt.want)
		}
	}
}

func TestTenantAndCredentialCommands(t *testing.T) {
	dir := tempDB(t)
	code, out, stderr := runCLI(t, "tenant", "create", "acme", "--unique", "email,external_id", "--json")
	if code != 0 {
		t.Fatalf("tenant create: %d %s", code, stderr)
	}
	var tj tenantJSON
	if err := json.Unmarshal([]byte(out), &tj); err != nil || tj.Name != "acme" || strings.Join(tj.Unique, ",") != "email,external_id" {
		t.Fatalf("tenant create --json = %s (%v)", out, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "r.db.key")); err != nil {
		t.Fatalf("key file not created beside the database: %v", err)
	}
	if code, _, stderr := runCLI(t, "tenant", "create", "acme"); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Fatalf("duplicate tenant: exit %d %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, "tenant", "create", "bad name!"); code != 1 || !strings.Contains(stderr, "tenant name") {
		t.Fatalf("invalid tenant name: exit %d %q", code, stderr)
	}
	code, out, _ = runCLI(t, "tenant", "list")
	if code != 0 || !strings.Contains(out, "acme") || !strings.Contains(out, "email,external_id") {
		t.Fatalf("tenant list: %d %s", code, out)
	}

	code, out, stderr = runCLI(t, "credential", "create", "--tenant", "acme", "--json")
	if code != 0 {
		t.Fatalf("credential create: %d %s", code, stderr)
	}
	var cj map[string]string
	if err := json.Unmarshal([]byte(out), &cj); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tenant_id", "tenant", "client_id", "secret"} {
		if cj[k] == "" {
			t.Errorf("credential create --json lacks %q: %s", k, out)
		}
	}
	if len(cj) != 4 || cj["tenant_id"] != tj.ID {
		t.Errorf("credential JSON = %s, want exactly the four documented keys for tenant %s", out, tj.ID)
	}
	if code, _, _ := runCLI(t, "credential", "create", "--tenant", "nobody"); code != 1 {
		t.Errorf("credential for unknown tenant: exit %d, want 1", code)
	}
	code, out, _ = runCLI(t, "credential", "list", "--tenant", "acme", "--json")
	if code != 0 || !strings.Contains(out, cj["client_id"]) || strings.Contains(out, cj["secret"]) {
		t.Fatalf("credential list: %d %s", code, out)
	}
	if code, _, stderr := runCLI(t, "credential", "revoke", cj["client_id"]); code != 0 {
		t.Fatalf("revoke: %d %s", code, stderr)
	}
	if code, _, _ := runCLI(t, "credential", "revoke", "0123456789abcdef0123456789abcdef"); code != 1 {
		t.Fatalf("revoke unknown: exit %d, want 1", code)
	}
	code, out, _ = runCLI(t, "credential", "list", "--tenant", "acme", "--json")
	if code != 0 || strings.Contains(out, `"revoked_at": null`) {
		t.Fatalf("revoked credential still listed as active: %s", out)
	}
	if code, out, _ := runCLI(t, "migrate"); code != 0 || !strings.Contains(out, "applied 0 migration") {
		t.Fatalf("migrate on a migrated database: %d %s", code, out)
	}
	// The database file never holds the secret in plaintext.
	raw, _ := os.ReadFile(filepath.Join(dir, "r.db"))
	wal, _ := os.ReadFile(filepath.Join(dir, "r.db-wal"))
	if bytes.Contains(append(raw, wal...), []byte(cj["secret"])) {
		t.Fatal("the credential secret is stored in plaintext")
	}
}

func TestUserImportExport(t *testing.T) {
	dir := tempDB(t)
	if code, _, stderr := runCLI(t, "tenant", "create", "acme"); code != 0 {
		t.Fatal(stderr)
	}
	ndjson := filepath.Join(dir, "in.ndjson")
	lines := `{"username":"ann","first_name":"Ann","last_name":"Lee","email":"ann@example.com","ssn":"222-23-3333","address":{"state":"CA"},"aliases":[{"type":"CUSTOM","value":"annie"}]}

{"username":"bob","email":"bob@example.com","extras":{"tosAnswer":"Accepted"}}
{"username":"dup","email":"ANN@example.com"}
{"username":"bad","email":"not-an-email"}
{"bogus_field":1}
`
	if err := os.WriteFile(ndjson, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "user", "import", "--tenant", "acme", "--quiet", ndjson)
	if code != 1 {
		t.Fatalf("import with bad records: exit %d, want 1 (%s %s)", code, out, stderr)
	}
	if !strings.Contains(out, "2 imported, 0 updated, 0 unchanged, 0 skipped, 3 failed (2 invalid, 1 conflict)") ||
		!strings.Contains(stderr, "line 4: conflict: email") || !strings.Contains(stderr, "line 6: bad JSON") {
		t.Fatalf("import report:\n%s\n%s", out, stderr)
	}
	csvPath := filepath.Join(dir, "in.csv")
	csvData := "username,first_name,email,locked,aliases\ncarol,Carol,carol@example.com,true,\"[{\"\"type\"\":\"\"CUSTOM\"\",\"\"value\"\":\"\"caz\"\"}]\"\n"
	if err := os.WriteFile(csvPath, []byte(csvData), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runCLI(t, "user", "import", "--tenant", "acme", csvPath); code != 0 {
		t.Fatalf("csv import: %d %s %s", code, out, stderr)
	}

	code, out, _ = runCLI(t, "user", "export", "--tenant", "acme")
	if code != 0 {
		t.Fatal(out)
	}
	var recs []userRecord
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r userRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 3 || recs[0].Username != "ann" || recs[2].Username != "carol" {
		t.Fatalf("export = %+v, want ann, bob, carol in creation order", recs)
	}
	if recs[0].SSN != "" {
		t.Fatal("export without --with-ssn includes the SSN")
	}
	if len(recs[0].Aliases) != 1 || recs[0].Aliases[0].Value != "annie" || !recs[2].Locked || recs[1].Extras["tosAnswer"] != "Accepted" {
		t.Fatalf("export lost data: %+v", recs)
	}
	code, out, _ = runCLI(t, "user", "export", "--tenant", "acme", "--with-ssn", "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, strings.Join(csvColumns, ",")) || !strings.Contains(out, "222233333") {
		t.Fatalf("csv export with ssn:\n%s", out)
	}
	// The CSV export imports into another tenant.
	if code, _, _ := runCLI(t, "tenant", "create", "copy"); code != 0 {
		t.Fatal("tenant copy")
	}
	exported := filepath.Join(dir, "out.csv")
	if err := os.WriteFile(exported, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runCLI(t, "user", "import", "--tenant", "copy", "--quiet", exported); code != 0 || !strings.Contains(out, "3 imported") {
		t.Fatalf("re-import of export: %d %s %s", code, out, stderr)
	}
}

// syncBuffer is written by the server goroutine and read by the test.
type syncBuffer = proctest.Buffer

// served is a `roster serve` a test runs in-process on a free loopback
// port.
type served struct {
	base           string // the announced origin, e.g. http://127.0.0.1:41234
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc // stops it (gracefully)
	done           chan int           // its exit code, once stopped
}

// startServe runs `roster serve --listen 127.0.0.1:0` and waits up to 30 s
// for its banner: addr (listenRE, or httpsRE for TLS) names the origin,
// and the SCIM curl line ends the banner. It fails the test if the server
// does not start; cleanup stops it.
func startServe(t *testing.T, addr *regexp.Regexp, extra ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	s := &served{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	t.Cleanup(cancel)
	args := append([]string{"serve", "--listen", "127.0.0.1:0"}, extra...)
	go func() { s.done <- Run(ctx, args, s.stdout, s.stderr) }()
	for deadline := time.Now().Add(30 * time.Second); s.base == "" && time.Now().Before(deadline); {
		if m := addr.FindStringSubmatch(s.stdout.String()); m != nil && strings.Contains(s.stdout.String(), "SCIM") {
			s.base = m[1]
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if s.base == "" {
		cancel()
		t.Fatalf("serve did not start:\n%s\n%s", s.stdout.String(), s.stderr.String())
	}
	return s
}

// stop stops the server gracefully and fails the test unless it exits 0
// within 15 s.
func (s *served) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, s.stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not shut down")
	}
}

var (
	listenRE = proctest.ListenRE
	clientRE = regexp.MustCompile(`client_id: (\S+)`)
	secretRE = regexp.MustCompile(`secret:\s+(\S+)`)
)

// TestServe starts the real server on a free port, bootstraps, calls it
// with the printed credential, and shuts it down gracefully.
func TestServe(t *testing.T) {
	dir := tempDB(t)
	withEnv(t, map[string]string{"ROSTER_DB": "sqlite:" + filepath.Join(dir, "r.db"), "ROSTER_SHUTDOWN_GRACE": "5s"})
	srv := startServe(t, listenRE)
	base, stdout, stderr := srv.base, srv.stdout, srv.stderr
	out := stdout.String()
	clientID, sec := clientRE.FindStringSubmatch(out), secretRE.FindStringSubmatch(out)
	if clientID == nil || sec == nil || !strings.Contains(out, "curl") {
		t.Fatalf("first start did not print the bootstrap credential and curl lines:\n%s", out)
	}

	req, _ := http.NewRequest("POST", base+"/v1/users/", strings.NewReader(`{"external_user_id":"1","first_name":"A","last_name":"B","ssn":"222233333"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Access-Client-Id", clientID[1])
	req.Header.Set("X-Access-Secret", sec[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create through the served API: %d %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		r, err := http.Get(base + path)
		if err != nil || r.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, r, err)
		}
		r.Body.Close()
	}

	srv.stop(t)
	logs := stderr.String()
	if !strings.Contains(logs, `"msg":"request"`) || !strings.Contains(logs, "roster stopped") {
		t.Fatalf("logs lack access lines or the shutdown line:\n%s", logs)
	}
	if strings.Contains(logs, sec[1]) || strings.Contains(logs, "222233333") {
		t.Fatal("logs contain the secret or the SSN")
	}

	// A second start does not bootstrap again.
	srv2 := startServe(t, listenRE)
	srv2.stop(t)
	if out2 := srv2.stdout.String(); strings.Contains(out2, "First start") || !strings.Contains(out2, "listening on") {
		t.Fatalf("second start output:\n%s", out2)
	}
}

// TestPostgresCommands runs the admin commands and serve against
// PostgreSQL, where the encryption key must be configured.
func TestPostgresCommands(t *testing.T) {
	url := testdb.PostgresURL(t)
	withEnv(t, map[string]string{"ROSTER_DB": url})
	if code, _, stderr := runCLI(t, "migrate"); code != 1 || !strings.Contains(stderr, "ROSTER_ENCRYPTION_KEY") {
		t.Fatalf("migrate without a key: exit %d %q, want a refusal naming ROSTER_ENCRYPTION_KEY", code, stderr)
	}
	withEnv(t, map[string]string{"ROSTER_DB": url, "ROSTER_ENCRYPTION_KEY": "k1:" + secret.NewKeySpec()})
	// A fresh database gets every migration (however many the binary has).
	if code, out, stderr := runCLI(t, "migrate"); code != 0 || !strings.Contains(out, "applied ") || strings.Contains(out, "applied 0 ") {
		t.Fatalf("migrate: %d %s %s", code, out, stderr)
	}
	if code, out, _ := runCLI(t, "migrate"); code != 0 || !strings.Contains(out, "applied 0 migration") {
		t.Fatalf("second migrate: %d %s", code, out)
	}
	if code, _, stderr := runCLI(t, "tenant", "create", "pg-tenant", "--unique", "none"); code != 0 {
		t.Fatalf("tenant create: %s", stderr)
	}
	code, out, stderr := runCLI(t, "credential", "create", "--tenant", "pg-tenant", "--json")
	if code != 0 {
		t.Fatalf("credential create: %s", stderr)
	}
	var cj map[string]string
	if err := json.Unmarshal([]byte(out), &cj); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "tenant", "list", "--json")
	if code != 0 || !strings.Contains(out, `"pg-tenant"`) || !strings.Contains(out, `"unique": []`) {
		t.Fatalf("tenant list: %s", out)
	}

	srv := startServe(t, listenRE)
	base, stdout := srv.base, srv.stdout
	if strings.Contains(stdout.String(), "First start") {
		t.Fatal("serve bootstrapped although a tenant exists")
	}
	req, _ := http.NewRequest("GET", base+"/scim/v2/Users", nil)
	req.Header.Set("Authorization", "Bearer "+cj["secret"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("SCIM list on PostgreSQL-backed serve: %d", resp.StatusCode)
	}
	srv.stop(t)
}
