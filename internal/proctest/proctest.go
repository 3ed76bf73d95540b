package proctest

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// binDir holds the roster binary built for this test run; Main sets it.
var binDir string

// Main runs the tests of a package that starts roster processes: it makes
// the directory the binary is built into and removes it afterwards. Call
// it from TestMain as os.Exit(proctest.Main(m)).
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "roster-proctest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "proctest: temp dir:", err)
		return 1
	}
	binDir = dir
	defer os.RemoveAll(dir)
	return m.Run()
}

var (
	buildOnce sync.Once
	buildErr  error
	buildOut  []byte
)

// Roster builds ./cmd/roster once per test run and returns its path. The
// package path is resolved by the go command from the test's working
// directory (the calling package, inside the module), so no module root
// has to be found by hand. The child is built without -race even under
// `go test -race`: the tests check the server's behaviour, and the race
// detector runs on the server's packages in their own tests.
func Roster(t testing.TB) string {
	t.Helper()
	if binDir == "" {
		t.Fatal("proctest.Roster: call os.Exit(proctest.Main(m)) from TestMain first")
	}
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

// Buffer is a bytes.Buffer safe for a child's (or a goroutine's) output
// writer and the test reading it at once.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Tail returns at most the last n bytes of s, from a line start, so that a
// failed test shows the end of a long log rather than all of it.
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return "…\n" + s
}

// stderrTail is how much of a child's standard error a failed test shows.
const stderrTail = 16 << 10

// Env is the environment of every roster command of one test: the
// process environment minus any ROSTER_* the developer has set, plus Vars
// (ROSTER_DB=… and the like).
type Env struct {
	Vars []string
}

// Environ is e as an exec.Cmd's Env.
func (e *Env) Environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ROSTER_") {
			env = append(env, kv)
		}
	}
	return append(env, e.Vars...)
}

// Run runs an admin command (migrate, tenant create, credential revoke, …)
// to completion and returns its standard output; it fails the test if the
// command fails.
func (e *Env) Run(t testing.TB, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), Roster(t), args...)
	cmd.Env = e.Environ()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("roster %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// Credential is the output of `roster credential create --json`.
type Credential struct {
	TenantID string `json:"tenant_id"`
	Tenant   string `json:"tenant"`
	ClientID string `json:"client_id"`
	Secret   string `json:"secret"`
}

// NewTenant creates a tenant with the --unique policy given and one
// credential for it, through the command line, migrating the database
// first.
func (e *Env) NewTenant(t testing.TB, name, unique string) Credential {
	t.Helper()
	// migrate creates the database; the other admin commands refuse a
	// SQLite path that does not exist, so that a typo in --db is an error.
	e.Run(t, "migrate")
	e.Run(t, "tenant", "create", name, "--unique", unique, "--json")
	var c Credential
	out := e.Run(t, "credential", "create", "--tenant", name, "--json")
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Secret == "" || c.TenantID == "" {
		t.Fatalf("credential create --json: %v: %q", err, out)
	}
	return c
}

// Instance is one `roster serve` child process.
type Instance struct {
	Name   string
	Base   string // http://127.0.0.1:PORT
	Cmd    *exec.Cmd
	Stdout Buffer
	Stderr Buffer
	exited chan struct{} // closed when Wait returned
}

// ListenRE matches the line of serve's banner that names its origin.
var ListenRE = regexp.MustCompile(`listening on (http://\S+)`)

// readyWithin bounds how long Serve waits for a child to listen and be
// ready: generous, for a loaded machine, yet a hung start fails the test.
const readyWithin = 60 * time.Second

// Serve starts `roster serve` with args on a free port of 127.0.0.1 (the
// kernel picks it: --listen 127.0.0.1:0, read back from the banner) and
// waits until /readyz answers 200. The process is killed when the test
// ends, and its standard error is logged if the test failed.
func (e *Env) Serve(t testing.TB, name string, args ...string) *Instance {
	t.Helper()
	in := &Instance{Name: name, exited: make(chan struct{})}
	in.Cmd = exec.CommandContext(t.Context(), Roster(t), append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	in.Cmd.Env = e.Environ()
	in.Cmd.Stdout, in.Cmd.Stderr = &in.Stdout, &in.Stderr
	if err := in.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = in.Cmd.Wait(); close(in.exited) }()
	t.Cleanup(func() {
		in.Kill()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, Tail(in.Stderr.String(), stderrTail))
		}
	})
	deadline := time.Now().Add(readyWithin)
	for in.Base == "" {
		if m := ListenRE.FindStringSubmatch(in.Stdout.String()); m != nil {
			in.Base = m[1]
			break
		}
		select {
		case <-in.exited:
			t.Fatalf("%s exited before listening: %v\nstdout:\n%s\nstderr:\n%s", name, in.Cmd.ProcessState, in.Stdout.String(), Tail(in.Stderr.String(), stderrTail))
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen within %v:\n%s", name, readyWithin, in.Stdout.String())
		}
	}
	for {
		resp, err := http.Get(in.Base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within %v: %v", name, readyWithin, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Running reports whether the process is still the one started.
func (in *Instance) Running() bool {
	select {
	case <-in.exited:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL (os.Process.Kill) and waits for the process to be
// gone, so its port and its database connections are released.
func (in *Instance) Kill() {
	if !in.Running() {
		return
	}
	_ = in.Cmd.Process.Kill()
	<-in.exited
}

// Stop sends SIGINT and waits for a graceful exit, failing the test if the
// process exits unsuccessfully or is still running after 15 s (it is then
// killed).
func (in *Instance) Stop(t testing.TB) {
	t.Helper()
	_ = in.Cmd.Process.Signal(os.Interrupt)
	select {
	case <-in.exited:
		if !in.Cmd.ProcessState.Success() {
			t.Errorf("%s exited with %v after SIGINT", in.Name, in.Cmd.ProcessState)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("%s did not stop within 15 s of SIGINT", in.Name)
		in.Kill()
	}
}
