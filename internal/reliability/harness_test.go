package reliability

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx", for the checks run on the database directly
	_ "modernc.org/sqlite"             // driver "sqlite"

	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/testdb"
)

// binDir holds the roster binary built for this test run.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "roster-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability: temp dir:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildErr  error
	buildOut  []byte
)

// rosterBin builds ./cmd/roster once per test run and returns its path. The
// package path is resolved by the go command from the test's working
// directory (this package, inside the module), so no module root has to be
// found by hand. The child is built without -race even under `go test
// -race`: the tests check the server's behaviour, and the race detector
// runs on the server's packages in their own tests.
func rosterBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(binDir, "roster")
	buildOnce.Do(func() {
		goCmd, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("find the go command: %w", err)
			return
		}
		start := time.Now()
		cmd := exec.Command(goCmd, "build", "-o", bin, "github.com/roster-dev/roster/cmd/roster")
		buildOut, buildErr = cmd.CombinedOutput()
		if buildErr == nil {
			t.Logf("built %s in %v", bin, time.Since(start).Round(time.Millisecond))
		}
	})
	if buildErr != nil {
		t.Fatalf("go build ./cmd/roster: %v\n%s", buildErr, buildOut)
	}
	return bin
}

// syncBuffer is a bytes.Buffer safe for a child's output copier and the
// test reading it at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tail returns at most the last n bytes of s, from a line start.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return "…\n" + s
}

// backendEnv is the environment of every roster command on one database.
type backendEnv struct {
	backend string
	dbURL   string
	vars    []string // ROSTER_* settings shared by every command on this database
}

// credentialCacheTTL is every instance's ROSTER_CREDENTIAL_CACHE_TTL.
const credentialCacheTTL = 500 * time.Millisecond

// newBackendEnv makes a fresh database of backend. PostgreSQL needs an
// encryption key configured (every instance must share it); SQLite
// generates its key file beside the database on the first command.
func newBackendEnv(t *testing.T, backend string) *backendEnv {
	t.Helper()
	e := &backendEnv{backend: backend, dbURL: testdb.URL(t, backend)}
	e.vars = []string{
		"ROSTER_DB=" + e.dbURL,
		"ROSTER_RATE_LIMIT=0", // the tests measure durability, not the limiter
		"ROSTER_SHUTDOWN_GRACE=2s",
		// Short, so that the revocation test can wait out the bound
		// within which other instances must refuse a revoked credential.
		"ROSTER_CREDENTIAL_CACHE_TTL=" + credentialCacheTTL.String(),
	}
	if backend == "postgres" {
		e.vars = append(e.vars, "ROSTER_ENCRYPTION_KEY=k1:"+secret.NewKeySpec())
	}
	return e
}

// environ is the process environment minus any ROSTER_* the developer
// has set, plus e's settings.
func (e *backendEnv) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ROSTER_") {
			env = append(env, kv)
		}
	}
	return append(env, e.vars...)
}

// run runs an admin command (tenant create, credential revoke, …) to
// completion and returns its standard output.
func (e *backendEnv) run(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), rosterBin(t), args...)
	cmd.Env = e.environ()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("roster %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// credential is the output of `roster credential create --json`.
type credential struct {
	TenantID string `json:"tenant_id"`
	Tenant   string `json:"tenant"`
	ClientID string `json:"client_id"`
	Secret   string `json:"secret"`
}

// newTenant creates a tenant with the --unique policy given and one
// credential for it, through the command line, migrating the database first.
func (e *backendEnv) newTenant(t *testing.T, name, unique string) credential {
	t.Helper()
	// migrate creates the database; the other admin commands refuse a
	// SQLite path that does not exist, so that a typo in --db is an error.
	e.run(t, "migrate")
	e.run(t, "tenant", "create", name, "--unique", unique, "--json")
	var c credential
	out := e.run(t, "credential", "create", "--tenant", name, "--json")
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Secret == "" || c.TenantID == "" {
		t.Fatalf("credential create --json: %v: %q", err, out)
	}
	return c
}

// openDB opens the database directly, for checks that must not go through
// Roster's own code.
func (e *backendEnv) openDB(t testing.TB) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", e.dbURL
	if e.backend == "sqlite" {
		driver, dsn = "sqlite", "file:"+strings.TrimPrefix(e.dbURL, "sqlite:")+"?_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open %s directly: %v", e.backend, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// instance is one `roster serve` child process.
type instance struct {
	name   string
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT
	stdout syncBuffer
	stderr syncBuffer
	exited chan struct{} // closed when Wait returned
}

var listenRE = regexp.MustCompile(`listening on (http://\S+)`)

// serve starts `roster serve` on a free port of 127.0.0.1 (the kernel
// picks it: --listen 127.0.0.1:0, read back from the banner) and waits
// until /readyz answers 200. The process is killed when the test ends, and
// its standard error is printed if the test failed.
func (e *backendEnv) serve(t *testing.T, name string) *instance {
	t.Helper()
	in := &instance{name: name, exited: make(chan struct{})}
	in.cmd = exec.CommandContext(t.Context(), rosterBin(t), "serve", "--listen", "127.0.0.1:0")
	in.cmd.Env = e.environ()
	in.cmd.Stdout, in.cmd.Stderr = &in.stdout, &in.stderr
	if err := in.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = in.cmd.Wait(); close(in.exited) }()
	t.Cleanup(func() {
		in.kill()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, tail(in.stderr.String(), 16<<10))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for in.base == "" {
		if m := listenRE.FindStringSubmatch(in.stdout.String()); m != nil {
			in.base = m[1]
			break
		}
		select {
		case <-in.exited:
			t.Fatalf("%s exited before listening: %v\nstdout:\n%s\nstderr:\n%s", name, in.cmd.ProcessState, in.stdout.String(), tail(in.stderr.String(), 16<<10))
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen within 60 s:\n%s", name, in.stdout.String())
		}
	}
	for {
		resp, err := http.Get(in.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within 60 s: %v", name, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kill sends SIGKILL (os.Process.Kill) and waits for the process to be
// gone, so its port and its database connections are released.
func (in *instance) kill() {
	select {
	case <-in.exited:
		return
	default:
	}
	_ = in.cmd.Process.Kill()
	<-in.exited
}

// stop sends SIGTERM and waits for a graceful exit.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	_ = in.cmd.Process.Signal(os.Interrupt)
	select {
	case <-in.exited:
		if !in.cmd.ProcessState.Success() {
			t.Errorf("%s exited with %v after SIGINT", in.name, in.cmd.ProcessState)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("%s did not stop within 15 s of SIGINT", in.name)
		in.kill()
	}
}

// dialectReq is one HTTP request in some dialect's wire format.
type dialectReq struct {
	method, path string
	header       map[string]string
	body         string
}

// response is what came back; err is set when no status line arrived (the
// server died or refused the connection).
type response struct {
	status int
	header http.Header
	body   []byte
	err    error // transport error: no answer, or the body was cut off
}

// do sends r to base with client c.
func do(ctx context.Context, c *http.Client, base string, r dialectReq) response {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, base+r.path, body)
	if err != nil {
		return response{err: err}
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// jsonMap decodes a JSON object body, or returns nil.
func (r response) jsonMap() map[string]any {
	var m map[string]any
	if json.Unmarshal(r.body, &m) != nil {
		return nil
	}
	return m
}

// Headers of each dialect's credential forms (README "Calling it").
func truvAuth(c credential) map[string]string {
	return map[string]string{"Content-Type": "application/json", "X-Access-Client-Id": c.ClientID, "X-Access-Secret": c.Secret}
}

func cl2cAuth(c credential) map[string]string {
	return map[string]string{"Content-Type": "application/json", "tenant": c.Tenant, "X-API-Key": c.Secret}
}

func ownliAuth(c credential) map[string]string {
	return map[string]string{"Content-Type": "application/json", "partnerId": c.Tenant, "clientId": c.ClientID, "clientSecret": c.Secret}
}

func scimAuth(c credential) map[string]string {
	return map[string]string{"Content-Type": "application/scim+json", "Authorization": "Bearer " + c.Secret}
}

func bearer(tok string) map[string]string {
	return map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok}
}
