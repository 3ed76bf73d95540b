package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAuditCommand drives tenant, credential and user changes through the
// command line and reads them back with `roster audit`, as text and JSON,
// filtered by --user and --since.
func TestAuditCommand(t *testing.T) {
	dir := tempDB(t)
	const ssn = "123-45-6789"
	if code, _, stderr := runCLI(t, "tenant", "create", "acme"); code != 0 {
		t.Fatalf("tenant create: %d %s", code, stderr)
	}
	code, out, stderr := runCLI(t, "credential", "create", "--tenant", "acme", "--json")
	if code != 0 {
		t.Fatalf("credential create: %d %s", code, stderr)
	}
	var cred struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal([]byte(out), &cred); err != nil {
		t.Fatal(err)
	}
	ndjson := filepath.Join(dir, "u.ndjson")
	rec := `{"username":"ann","first_name":"Ann","last_name":"Lee","email":"ann@example.com","ssn":"` + ssn + `"}` + "\n"
	if err := os.WriteFile(ndjson, []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runCLI(t, "user", "import", "--tenant", "acme", "--quiet", ndjson); code != 0 {
		t.Fatalf("import: %d %s %s", code, out, stderr)
	}
	if code, _, stderr := runCLI(t, "credential", "revoke", cred.ClientID); code != 0 {
		t.Fatalf("revoke: %d %s", code, stderr)
	}

	code, out, stderr = runCLI(t, "audit", "--tenant", "acme", "--json")
	if code != 0 {
		t.Fatalf("audit --json: %d %s", code, stderr)
	}
	var entries []auditJSON
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e auditJSON
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		entries = append(entries, e)
	}
	var actions []string
	var userID string
	for _, e := range entries {
		actions = append(actions, e.Action)
		// The command line has no credential: its changes, user import
		// included, are "admin"'s.
		if e.Actor != "admin" {
			t.Errorf("%s: actor %q, want admin", e.Action, e.Actor)
		}
		if e.Action == "user.create" {
			userID = e.TargetID
			if got := strings.Join(e.Fields, ","); !strings.Contains(got, "ssn") || !strings.Contains(got, "email") {
				t.Errorf("user.create fields %q, want ssn and email among them", got)
			}
		}
	}
	if got, want := strings.Join(actions, " "), "tenant.create credential.create user.create credential.revoke"; got != want {
		t.Fatalf("actions %q, want %q", got, want)
	}
	if strings.Contains(out, ssn) || strings.Contains(out, "ann@example.com") {
		t.Errorf("audit output holds a value:\n%s", out)
	}

	code, out, _ = runCLI(t, "audit", "--tenant", "acme", "--user", strings.ReplaceAll(userID, "-", ""))
	if code != 0 || !strings.HasPrefix(out, "TIME") || strings.Count(out, "\n") != 2 || !strings.Contains(out, "user.create") {
		t.Errorf("audit --user (32-hex id): %d\n%s", code, out)
	}
	if code, out, _ := runCLI(t, "audit", "--tenant", "acme", "--since", "1h"); code != 0 || strings.Count(out, "\n") != 5 {
		t.Errorf("audit --since 1h: %d\n%s", code, out)
	}
	future := time.Now().Add(48 * time.Hour).UTC().Format("2006-01-02")
	if code, out, _ := runCLI(t, "audit", "--tenant", "acme", "--since", future, "--json"); code != 0 || out != "" {
		t.Errorf("audit --since %s: %d %q, want nothing", future, code, out)
	}
	if code, _, _ := runCLI(t, "audit", "--tenant", "acme", "--since", "yesterday"); code != exitUsage {
		t.Errorf("audit --since yesterday: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := runCLI(t, "audit"); code != exitUsage {
		t.Errorf("audit without --tenant: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := runCLI(t, "audit", "--tenant", "nope"); code != 1 {
		t.Errorf("audit of an unknown tenant: exit %d, want 1", code)
	}
}
