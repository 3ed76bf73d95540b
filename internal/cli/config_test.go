package cli

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "roster.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// printed returns the line of key in `config print` output.
func printed(t *testing.T, out, key string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, key+" = ") {
			return l
		}
	}
	t.Fatalf("config print has no %s:\n%s", key, out)
	return ""
}

// TestConfigPrecedence: flag > env > file > default, for a setting that
// has all four (listen), through --config and ROSTER_CONFIG; the printed
// configuration names each line's source.
func TestConfigPrecedence(t *testing.T) {
	file := writeConfig(t, "listen = \"127.0.0.1:7001\"\nlog_level = \"warn\"\nmax_body = 4096\n")
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantListen string
		wantSource string
	}{
		{"default", nil, nil, `"127.0.0.1:8080"`, "# from default"},
		{"file by flag", nil, []string{"--config", file}, `"127.0.0.1:7001"`, "# from file"},
		{"file by env", map[string]string{"ROSTER_CONFIG": file}, nil, `"127.0.0.1:7001"`, "# from file"},
		{"env over file", map[string]string{"ROSTER_CONFIG": file, "ROSTER_LISTEN": "127.0.0.1:7002"}, nil, `"127.0.0.1:7002"`, "# from env"},
		{"flag over env", map[string]string{"ROSTER_CONFIG": file, "ROSTER_LISTEN": "127.0.0.1:7002"},
			[]string{"--listen", "127.0.0.1:7003"}, `"127.0.0.1:7003"`, "# from flag"},
		{"flag before --config", map[string]string{"ROSTER_LISTEN": "127.0.0.1:7002"},
			[]string{"--listen", "127.0.0.1:7003", "--config", file}, `"127.0.0.1:7003"`, "# from flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withEnv(t, tt.env)
			code, out, stderr := runCLI(t, append([]string{"config", "print"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			l := printed(t, out, "listen")
			if !strings.Contains(l, tt.wantListen) || !strings.Contains(l, tt.wantSource+" (--listen, ROSTER_LISTEN)") {
				t.Errorf("listen line %q, want %s from %s", l, tt.wantListen, tt.wantSource)
			}
		})
	}
	// The file's other settings stay under an env or flag override.
	withEnv(t, map[string]string{"ROSTER_CONFIG": file, "ROSTER_LOG_LEVEL": "error"})
	_, out, _ := runCLI(t, "config", "print", "--listen", "127.0.0.1:7003")
	if l := printed(t, out, "max_body"); !strings.Contains(l, "4096") || !strings.Contains(l, "# from file") {
		t.Errorf("max_body line %q, want 4096 from the file", l)
	}
	if l := printed(t, out, "log_level"); !strings.Contains(l, `"error"`) || !strings.Contains(l, "# from env") {
		t.Errorf("log_level line %q, want error from env", l)
	}
}

// TestConfigPrintRedacts: secrets never reach the output, whichever
// layer they come from.
func TestConfigPrintRedacts(t *testing.T) {
	file := writeConfig(t, "encryption_key = \"k1:c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcy1sb25nISE=\"\n")
	withEnv(t, map[string]string{"ROSTER_CONFIG": file})
	code, out, stderr := runCLI(t, "config", "print", "--db", "postgres://roster:hunter2@db.internal/roster?sslmode=disable")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, secret := range []string{"hunter2", "c2VjcmV0"} {
		if strings.Contains(out+stderr, secret) {
			t.Errorf("output contains %q:\n%s", secret, out)
		}
	}
	if l := printed(t, out, "encryption_key"); !strings.Contains(l, `"<redacted>"`) || !strings.Contains(l, "# from file") {
		t.Errorf("encryption_key line %q", l)
	}
	if l := printed(t, out, "db"); !strings.Contains(l, "postgres://roster:xxxxx@db.internal/roster") || !strings.Contains(l, "# from flag") {
		t.Errorf("db line %q", l)
	}
}

// TestConfigFileErrors: a file with an unknown key, or a value of the
// wrong type, stops every command that reads the configuration, naming
// the key; an invalid but parseable configuration is printed, then
// reported.
func TestConfigFileErrors(t *testing.T) {
	for _, tc := range []struct {
		file string
		args []string
		want string
	}{
		{"listen = \"x\"\nlisten_address = \"y\"\n", []string{"config", "print"}, `unknown key "listen_address"`},
		{"max_body = \"big\"\n", []string{"tenant", "list"}, "key max_body: want an integer"},
		{"rate_limit = 10\nshutdown_grace = \"soon\"\n", []string{"migrate"}, "key shutdown_grace"},
	} {
		withEnv(t, map[string]string{"ROSTER_CONFIG": writeConfig(t, tc.file)})
		code, _, stderr := runCLI(t, tc.args...)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v with %q: exit %d, %q; want 1 and %q", tc.args, tc.file, code, stderr, tc.want)
		}
	}
	withEnv(t, nil)
	code, out, stderr := runCLI(t, "config", "print", "--config", writeConfig(t, "log_level = \"loud\"\n"))
	if code != 1 || !strings.Contains(printed(t, out, "log_level"), `"loud"`) || !strings.Contains(stderr, `log level "loud"`) {
		t.Errorf("invalid configuration: exit %d, %q, %q", code, out, stderr)
	}
	if code, _, stderr := runCLI(t, "config", "print", "--config", filepath.Join(t.TempDir(), "none.toml")); code != 1 || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing file: exit %d, %q", code, stderr)
	}
}

// TestServeReadsConfigFile: serve takes its database and settings from
// the file, its flags win over the file, and /metrics is served by the
// client_golang registry with the operational families.
func TestServeReadsConfigFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "from-file.db")
	file := writeConfig(t, fmt.Sprintf("db = %q\nlisten = \"127.0.0.1:1\"\nshutdown_grace = \"5s\"\nlog_level = \"warn\"\n", "sqlite:"+db))
	withEnv(t, map[string]string{"ROSTER_CONFIG": file})
	srv := startServe(t, listenRE) // --listen 127.0.0.1:0 overrides the file's port 1
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("serve did not use the file's database: %v\n%s", err, srv.stdout.String())
	}
	clientID, sec := clientRE.FindStringSubmatch(srv.stdout.String()), secretRE.FindStringSubmatch(srv.stdout.String())
	if clientID == nil || sec == nil {
		t.Fatalf("no bootstrap credential:\n%s", srv.stdout.String())
	}
	req, _ := http.NewRequest("POST", srv.base+"/v1/users/", strings.NewReader(`{"external_user_id":"1","first_name":"A","last_name":"B"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Access-Client-Id", clientID[1])
	req.Header.Set("X-Access-Secret", sec[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	resp, err = http.Get(srv.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, re := range []string{
		`roster_build_info\{backend="sqlite",goversion="go[^"]+",revision="[^"]*",version="[^"]+"\} 1`,
		`roster_http_requests_total\{dialect="truv",route="POST /v1/users/\{\$\}",status_class="2xx"\} 1`,
		`roster_store_commit_writes_count [1-9]`,
		`roster_users\{tenant_id="[0-9a-f-]{36}"\} 1`,
		`go_sql_open_connections\{db_name="writer"\} 1`,
	} {
		if !regexp.MustCompile(re).Match(body) {
			t.Errorf("/metrics lacks %s", re)
		}
	}
	srv.cancel()
	select {
	case code := <-srv.done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, srv.stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	// log_level = "warn" from the file: no info-level access lines.
	if strings.Contains(srv.stderr.String(), `"msg":"request"`) {
		t.Errorf("log level from the file not applied:\n%s", srv.stderr.String())
	}
}
