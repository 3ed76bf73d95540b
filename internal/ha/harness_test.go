package ha

import (
	"bytes"
	"context"
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
)

// binDir holds the roster binary built for this test run.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "roster-ha-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "ha: temp dir:", err)
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

// rosterBin builds ./cmd/roster once per test run (without -race: the
// tests judge the server's behaviour; its packages run under the race
// detector in their own tests).
func rosterBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(binDir, "roster")
	buildOnce.Do(func() {
		cmd := exec.Command("go", "build", "-o", bin, "github.com/roster-dev/roster/cmd/roster")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build ./cmd/roster: %v\n%s", buildErr, buildOut)
	}
	return bin
}

// syncBuffer is a bytes.Buffer safe for a child's output copier and the
// test at once.
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

// env is the ROSTER_* environment of every roster command of one test.
type env struct {
	vars []string
}

func (e *env) environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ROSTER_") {
			out = append(out, kv)
		}
	}
	return append(out, e.vars...)
}

// run runs an admin command to completion and returns its standard output.
func (e *env) run(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), rosterBin(t), args...)
	cmd.Env = e.environ()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("roster %s: %v\n%s\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// credential is `roster credential create --json`.
type credential struct {
	TenantID string `json:"tenant_id"`
	Tenant   string `json:"tenant"`
	ClientID string `json:"client_id"`
	Secret   string `json:"secret"`
}

// newTenant migrates, creates a tenant with policy unique and a
// credential for it, through the command line.
func (e *env) newTenant(t *testing.T, name, unique string) credential {
	t.Helper()
	e.run(t, "migrate")
	e.run(t, "tenant", "create", name, "--unique", unique)
	var c credential
	out := e.run(t, "credential", "create", "--tenant", name, "--json")
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Secret == "" {
		t.Fatalf("credential create --json: %v: %q", err, out)
	}
	return c
}

// instance is one `roster serve` process.
type instance struct {
	name   string
	cmd    *exec.Cmd
	base   string
	stdout syncBuffer
	stderr syncBuffer
	exited chan struct{}
}

var listenRE = regexp.MustCompile(`listening on (http://\S+)`)

// serve starts `roster serve` on a free port and waits until /readyz is
// 200; it is killed when the test ends.
func (e *env) serve(t *testing.T, name string, args ...string) *instance {
	t.Helper()
	in := &instance{name: name, exited: make(chan struct{})}
	in.cmd = exec.Command(rosterBin(t), append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	in.cmd.Env = e.environ()
	in.cmd.Stdout, in.cmd.Stderr = &in.stdout, &in.stderr
	if err := in.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = in.cmd.Wait(); close(in.exited) }()
	t.Cleanup(func() {
		_ = in.cmd.Process.Kill()
		<-in.exited
		if t.Failed() {
			s := in.stderr.String()
			if len(s) > 8<<10 {
				s = "…" + s[len(s)-8<<10:]
			}
			t.Logf("%s stderr:\n%s", name, s)
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
			t.Fatalf("%s exited: %v\n%s\n%s", name, in.cmd.ProcessState, in.stdout.String(), in.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen within 60 s", name)
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
		time.Sleep(10 * time.Millisecond)
	}
}

// running reports whether the process is still the one started.
func (in *instance) running() bool {
	select {
	case <-in.exited:
		return false
	default:
		return true
	}
}

// request is one HTTP request in some dialect's wire format.
type request struct {
	method, path string
	header       map[string]string
	body         string
}

// response is what came back; err is set when no answer arrived.
type response struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func do(ctx context.Context, c *http.Client, base string, r request) response {
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

func (r response) jsonMap() map[string]any {
	var m map[string]any
	if json.Unmarshal(r.body, &m) != nil {
		return nil
	}
	return m
}

// Each dialect's credential headers (README "Calling it").
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

// unavailableShape checks that r is the 503 dialect d answers when the
// database is unavailable: Retry-After set, and the body in that
// dialect's own error format.
func unavailableShape(d string, r response) error {
	if r.status != http.StatusServiceUnavailable {
		return fmt.Errorf("status %d, want 503", r.status)
	}
	if r.header.Get("Retry-After") == "" {
		return fmt.Errorf("503 without Retry-After")
	}
	m := r.jsonMap()
	if m == nil {
		return fmt.Errorf("503 body is not a JSON object: %q", r.body)
	}
	ok := false
	switch d {
	case "truv":
		e, _ := m["error"].(map[string]any)
		ok = e != nil && e["code"] == "service_unavailable"
	case "cl2c":
		ok = m["statusCode"] == float64(503) && m["errorId"] != nil
	case "ownli":
		ok = m["error_code"] == "ERROR_SERVICE_UNAVAILABLE"
	case "scim":
		s, _ := m["schemas"].([]any)
		ok = m["status"] == "503" && len(s) == 1 && s[0] == "urn:ietf:params:scim:api:messages:2.0:Error"
	case "entrust":
		ok = m["errorCode"] == "service_unavailable"
	}
	if !ok {
		return fmt.Errorf("503 body not in %s's error format: %s", d, r.body)
	}
	return nil
}
