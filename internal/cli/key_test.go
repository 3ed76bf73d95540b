package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/secret"
)

// TestKeyRotateCommand: on SQLite with a key file, `key rotate` puts a new
// key first in the file, keeps the old one, and re-encrypts every SSN
// under the new key; `key status` counts them; users read back.
func TestKeyRotateCommand(t *testing.T) {
	dir := tempDB(t)
	if code, _, stderr := runCLI(t, "tenant", "create", "acme"); code != 0 {
		t.Fatal(stderr)
	}
	in := filepath.Join(dir, "users.ndjson")
	var lines []string
	for i := range 30 {
		lines = append(lines, fmt.Sprintf(`{"first_name":"U%d","username":"u%d","ssn":"222-33-%04d"}`, i, i, 1001+i))
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "user", "import", "--tenant", "acme", "--quiet", in); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	status := func() []keyStatusJSON {
		t.Helper()
		code, out, stderr := runCLI(t, "key", "status", "--json")
		if code != 0 {
			t.Fatalf("key status: %s", stderr)
		}
		var rows []keyStatusJSON
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("key status --json: %v: %s", err, out)
		}
		return rows
	}
	before := status()
	if len(before) != 1 || !before[0].Current || before[0].SSNs != 30 {
		t.Fatalf("before: %+v, want one current key with 30 SSNs", before)
	}
	code, out, stderr := runCLI(t, "key", "rotate", "--batch", "7")
	if code != 0 {
		t.Fatalf("key rotate: %d %s %s", code, out, stderr)
	}
	after := status()
	if len(after) != 2 || !after[0].Current || after[0].SSNs != 30 || after[1].KeyID != before[0].KeyID || after[1].SSNs != 0 || !after[1].InKeyring {
		t.Fatalf("after: %+v, want the new key current with 30 SSNs and the old one kept with 0", after)
	}
	// Remove the old key by hand, as the procedure says: every SSN still
	// reads back.
	keyFile := filepath.Join(dir, "r.db.key")
	b, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(b)), ",")
	if err := os.WriteFile(keyFile, []byte(first+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runCLI(t, "user", "export", "--tenant", "acme", "--with-ssn")
	if code != 0 || strings.Count(out, "22233") != 30 {
		t.Fatalf("export after removing the old key: %d %s %s", code, out, stderr)
	}
	// With keys from the environment the command refuses to add one.
	withEnv(t, map[string]string{"ROSTER_DB": "sqlite:" + filepath.Join(dir, "r.db"), "ROSTER_ENCRYPTION_KEY": first})
	if code, _, stderr := runCLI(t, "key", "rotate"); code == 0 || !strings.Contains(stderr, "--reencrypt") {
		t.Fatalf("rotate with ROSTER_ENCRYPTION_KEY: %d %s, want a refusal naming --reencrypt", code, stderr)
	}
	if code, _, stderr := runCLI(t, "key", "rotate", "--reencrypt"); code != 0 {
		t.Fatalf("rotate --reencrypt: %s", stderr)
	}
}

// TestCredentialRateLimitFlag: --rate-limit is stored with the credential
// and listed; a bad value is a usage error.
func TestCredentialRateLimitFlag(t *testing.T) {
	tempDB(t)
	if code, _, stderr := runCLI(t, "tenant", "create", "acme"); code != 0 {
		t.Fatal(stderr)
	}
	for _, v := range []string{"0", "120000"} {
		if code, _, stderr := runCLI(t, "credential", "create", "--tenant", "acme", "--rate-limit", v); code != 0 {
			t.Fatalf("--rate-limit %s: %s", v, stderr)
		}
	}
	if code, _, _ := runCLI(t, "credential", "create", "--tenant", "acme"); code != 0 {
		t.Fatal("create without --rate-limit")
	}
	for _, bad := range []string{"-1", "lots"} {
		if code, _, _ := runCLI(t, "credential", "create", "--tenant", "acme", "--rate-limit", bad); code != exitUsage {
			t.Fatalf("--rate-limit %s: exit %d, want %d", bad, code, exitUsage)
		}
	}
	code, out, stderr := runCLI(t, "credential", "list", "--tenant", "acme", "--json")
	if code != 0 {
		t.Fatal(stderr)
	}
	var got []credentialListJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].RateLimit == nil || *got[0].RateLimit != 0 || got[1].RateLimit == nil || *got[1].RateLimit != 120000 || got[2].RateLimit != nil {
		t.Fatalf("listed limits: %+v, want 0, 120000 and null", got)
	}
}

// TestKeyRotateWhileServing: `key rotate` runs beside a live `serve`,
// which keeps creating users during it; afterwards the old key is deleted
// from the key file and the same server, never restarted, reads every SSN.
func TestKeyRotateWhileServing(t *testing.T) {
	dir := tempDB(t)
	withEnv(t, map[string]string{"ROSTER_DB": "sqlite:" + filepath.Join(dir, "r.db"), "ROSTER_SHUTDOWN_GRACE": "5s"})
	srv := startServe(t, listenRE)
	ctx, base, stdout, stderr, cancel, done := t.Context(), srv.base, srv.stdout, srv.stderr, srv.cancel, srv.done
	id, sec := clientRE.FindStringSubmatch(stdout.String())[1], secretRE.FindStringSubmatch(stdout.String())[1]
	call := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Access-Client-Id", id)
		req.Header.Set("X-Access-Secret", sec)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", method, path, err)
			return 0, nil
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	ssns := map[string]string{} // user id -> SSN
	var mu sync.Mutex
	create := func(i int) {
		ssn := fmt.Sprintf("22233%04d", 1001+i)
		status, m := call("POST", "/v1/users/", fmt.Sprintf(`{"external_user_id":"%d","first_name":"A","last_name":"B","ssn":"%s"}`, i, ssn))
		if status != http.StatusCreated {
			t.Errorf("create %d: %d %v", i, status, m)
			return
		}
		mu.Lock()
		ssns[m["id"].(string)] = ssn
		mu.Unlock()
	}
	for i := range 20 {
		create(i)
	}
	// Creates keep arriving while the rotation runs.
	stop := make(chan struct{})
	writer := make(chan struct{})
	go func() {
		defer close(writer)
		for i := 20; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				create(i)
			}
		}
	}()
	code, out, errOut := runCLI(t, "key", "rotate", "--batch", "8")
	close(stop)
	<-writer
	if code != 0 {
		t.Fatalf("key rotate beside serve: %d %s %s", code, out, errOut)
	}
	// Whatever serve wrote after the wait is under the new key already;
	// a second pass finds nothing left.
	if code, out, _ := runCLI(t, "key", "rotate", "--reencrypt"); code != 0 || !strings.Contains(out, "re-encrypted 0 value(s)") {
		t.Fatalf("second pass: %d %s, want nothing left", code, out)
	}
	keyFile := filepath.Join(dir, "r.db.key")
	b, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	newest, _, _ := strings.Cut(strings.TrimSpace(string(b)), ",")
	if err := os.WriteFile(keyFile+".new", []byte(newest+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(keyFile+".new", keyFile); err != nil {
		t.Fatal(err)
	}
	time.Sleep(secret.ReloadInterval + 500*time.Millisecond) // serve drops the old key
	if len(ssns) < 25 {
		t.Fatalf("only %d users created around the rotation", len(ssns))
	}
	for uid, ssn := range ssns {
		status, m := call("GET", "/v1/users/"+uid+"/", "")
		if status != http.StatusOK {
			t.Fatalf("read %s after the old key was removed: %d %v", uid, status, m)
		}
		if got, _ := m["ssn"].(string); strings.ReplaceAll(got, "-", "") != ssn {
			t.Fatalf("user %s: ssn %q, want %s", uid, got, ssn)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
}
