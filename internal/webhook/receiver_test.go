package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/webhook"
)

// verifyRoster is the receiver's verification from docs/WEBHOOKS.md,
// copied here verbatim (standard library only) so the documented code is
// proven against what the dispatcher sends.
func verifyRoster(secret, header string, body []byte, now time.Time) bool {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if age := now.Sub(time.Unix(sec, 0)); age > 5*time.Minute || age < -5*time.Minute {
		return false // too old (a replay) or from the future
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := hex.EncodeToString(m.Sum(nil))
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

func TestDocumentedVerifier(t *testing.T) {
	sec := webhook.NewSecret()
	body := []byte(`{"id":"e","type":"user.updated","user":{"first_name":"Zoë"}}`)
	now := time.Now()
	h := webhook.Sign([]byte(sec), now, body)
	if !verifyRoster(sec, h, body, now) {
		t.Fatal("documented verifier refuses a valid signature")
	}
	if verifyRoster(sec, h, append(body, ' '), now) || verifyRoster("whsec_x", h, body, now) || verifyRoster(sec, h, body, now.Add(time.Hour)) {
		t.Fatal("documented verifier accepts a tampered body, a wrong secret or a replay")
	}
}

// TestDocumentedShellVerification runs the shell verification of
// docs/WEBHOOKS.md, taken from the page itself, with bash and openssl on
// a body the dispatcher's signing signed: valid, then tampered.
func TestDocumentedShellVerification(t *testing.T) {
	for _, bin := range []string{"bash", "openssl"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not found; CI must run this test", bin)
			}
			t.Skipf("%s not found", bin)
		}
	}
	doc, err := os.ReadFile("../../docs/WEBHOOKS.md")
	if err != nil {
		t.Fatal(err)
	}
	var script []string
	in := false
	for _, line := range strings.Split(string(doc), "\n") {
		switch {
		case line == "```sh":
			in, script = true, nil
		case line == "```" && in:
			in = false
			if strings.Contains(strings.Join(script, "\n"), "openssl dgst") {
				goto found
			}
		case in && !strings.HasPrefix(line, "secret="): // the test sets it
			script = append(script, line)
		}
	}
	t.Fatal("no sh block with openssl in docs/WEBHOOKS.md")
found:
	sec := webhook.NewSecret()
	body := []byte(`{"id":"e","type":"user.created","user":{"first_name":"Zoë 'q' % \\ $x"}}`)
	header := webhook.Sign([]byte(sec), time.Now(), body)
	for _, tc := range []struct {
		body []byte
		want string
	}{{body, "valid"}, {[]byte(strings.Replace(string(body), "Zoë", "Zoe", 1)), "invalid"}} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "body.json"), tc.body, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", "-c", strings.Join(script, "\n"))
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "secret="+sec, "header="+header)
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != tc.want {
			t.Errorf("documented shell check: %q (%v), want %q", out, err, tc.want)
		}
	}
}
