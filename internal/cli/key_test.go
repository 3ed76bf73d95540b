package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
