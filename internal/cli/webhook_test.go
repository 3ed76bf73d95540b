package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/webhook"
)

// TestWebhookCommands: add refuses a loopback URL unless allowed (flag or
// environment), prints the secret once and stores it only encrypted;
// list, deliveries (of users imported meanwhile) and remove.
func TestWebhookCommands(t *testing.T) {
	dir := tempDB(t)
	db := "sqlite:" + filepath.Join(dir, "r.db")
	if code, _, stderr := runCLI(t, "tenant", "create", "acme"); code != 0 {
		t.Fatalf("tenant create: %s", stderr)
	}
	for _, tc := range []struct {
		args []string
		want int
		msg  string
	}{
		{[]string{"webhook", "add", "--tenant", "acme", "--url", "http://127.0.0.1:9/h"}, 1, "loopback"},
		{[]string{"webhook", "add", "--tenant", "acme", "--url", "http://169.254.169.254/h", "--allow-private-webhooks=false"}, 1, "metadata"},
		{[]string{"webhook", "add", "--tenant", "acme"}, exitUsage, "--url is required"},
		{[]string{"webhook", "add", "--tenant", "acme", "--url", "https://x.example/", "--events", "user.create"}, exitUsage, "unknown event type"},
		{[]string{"webhook", "add", "--url", "https://x.example/"}, exitUsage, "--tenant is required"},
		{[]string{"webhook", "add", "--tenant", "nope", "--url", "http://127.0.0.1:9/", "--allow-private-webhooks"}, 1, `tenant "nope" not found`},
		{[]string{"webhook", "deliveries", "--state", "lost"}, exitUsage, "--state"},
		{[]string{"webhook", "remove"}, exitUsage, "one webhook ID"},
		{[]string{"webhook", "remove", "nonsense"}, 1, "not found"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.want || !strings.Contains(stderr, tc.msg) {
			t.Errorf("roster %v: exit %d %q, want %d and %q", tc.args, code, stderr, tc.want, tc.msg)
		}
	}

	code, out, stderr := runCLI(t, "webhook", "add", "--tenant", "acme", "--url", "http://127.0.0.1:9/h", "--events", "user.created", "--allow-private-webhooks", "--json")
	if code != 0 {
		t.Fatalf("webhook add: %s", stderr)
	}
	var added webhookJSON
	if err := json.Unmarshal([]byte(out), &added); err != nil {
		t.Fatalf("webhook add --json: %v: %s", err, out)
	}
	if !strings.HasPrefix(added.Secret, "whsec_") || added.ID == "" || strings.Join(added.Events, ",") != "user.created" {
		t.Fatalf("webhook add --json = %+v", added)
	}
	if !strings.Contains(stderr, "plain http") {
		t.Errorf("no warning for a plain-http URL: %q", stderr)
	}
	// The environment variable allows it too; a malformed one is refused.
	withEnv(t, map[string]string{"ROSTER_DB": db, envAllowPrivateWebhooks: "true"})
	if code, out, stderr := runCLI(t, "webhook", "add", "--tenant", "acme", "--url", "http://localhost:9/second"); code != 0 || !strings.Contains(out, "secret:  whsec_") {
		t.Fatalf("webhook add with %s=true: %d %s %s", envAllowPrivateWebhooks, code, out, stderr)
	}
	withEnv(t, map[string]string{"ROSTER_DB": db, envAllowPrivateWebhooks: "maybe"})
	if code, _, stderr := runCLI(t, "webhook", "add", "--tenant", "acme", "--url", "http://localhost:9/third"); code == 0 || !strings.Contains(stderr, envAllowPrivateWebhooks) {
		t.Errorf("webhook add with %s=maybe: exit %d %q, want refused", envAllowPrivateWebhooks, code, stderr)
	}
	withEnv(t, map[string]string{"ROSTER_DB": db})

	code, out, _ = runCLI(t, "webhook", "list", "--tenant", "acme", "--json")
	var list []webhookJSON
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 || list[0].ID != added.ID || list[0].Secret != "" {
		t.Fatalf("webhook list --json: %d %s", code, out)
	}

	users := filepath.Join(dir, "users.ndjson")
	if err := os.WriteFile(users, []byte(`{"username":"a1","first_name":"A","last_name":"B","ssn":"222233333"}`+"\n"+`{"username":"a2","first_name":"C","last_name":"D"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "user", "import", "--tenant", "acme", "--quiet", users); code != 0 {
		t.Fatalf("user import: %s", stderr)
	}
	code, out, _ = runCLI(t, "webhook", "deliveries", "--tenant", "acme", "--state", "pending", "--json")
	var ds []deliveryJSON
	if code != 0 || json.Unmarshal([]byte(out), &ds) != nil || len(ds) != 4 {
		t.Fatalf("webhook deliveries: %d %s, want 2 users x 2 webhooks", code, out)
	}
	if ds[0].EventType != webhook.UserCreated || ds[0].State != webhook.StatePending || ds[0].NextAttempt == nil {
		t.Errorf("delivery %+v", ds[0])
	}
	if code, out, _ := runCLI(t, "webhook", "deliveries"); code != 0 || strings.Count(out, "user.created") != 4 {
		t.Errorf("webhook deliveries (text): %d\n%s", code, out)
	}

	if code, out, stderr := runCLI(t, "webhook", "remove", added.ID); code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("webhook remove: %d %s %s", code, out, stderr)
	}
	if code, _, stderr := runCLI(t, "webhook", "remove", added.ID); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("second remove: %d %s", code, stderr)
	}
	if code, out, _ := runCLI(t, "webhook", "deliveries", "--json"); code != 0 || strings.Count(out, `"seq"`) != 2 {
		t.Errorf("deliveries after remove: %s, want the other webhook's 2", out)
	}
	// Adding and removing a destination of the tenant's data is audited.
	if code, out, _ := runCLI(t, "audit", "--tenant", "acme", "--json"); code != 0 ||
		!strings.Contains(out, `"webhook.create"`) || !strings.Contains(out, `"webhook.delete"`) || !strings.Contains(out, added.ID) {
		t.Errorf("audit lacks the webhook changes: %s", out)
	}
	// The secret is stored sealed: its text is in no database file.
	for _, name := range []string{"r.db", "r.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if strings.Contains(string(b), added.Secret) || strings.Contains(string(b), strings.TrimPrefix(added.Secret, "whsec_")) {
			t.Errorf("%s holds the signing secret in clear", name)
		}
	}
}

// TestServeDeliversWebhooks: `roster serve` runs the dispatcher: a user
// created through the served API reaches a subscribed receiver, signed.
func TestServeDeliversWebhooks(t *testing.T) {
	dir := tempDB(t)
	db := "sqlite:" + filepath.Join(dir, "r.db")
	got := make(chan *http.Request, 4)
	bodies := make(chan []byte, 4)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	defer rcv.Close()
	withEnv(t, map[string]string{"ROSTER_DB": db, "ROSTER_SHUTDOWN_GRACE": "5s", envAllowPrivateWebhooks: "1"})
	srv := startServe(t, listenRE)
	out := srv.stdout.String()
	clientID, sec := clientRE.FindStringSubmatch(out), secretRE.FindStringSubmatch(out)
	if clientID == nil || sec == nil {
		t.Fatalf("no bootstrap credential:\n%s", out)
	}
	code, addOut, stderr := runCLI(t, "webhook", "add", "--tenant", "default", "--url", rcv.URL, "--json")
	if code != 0 {
		t.Fatalf("webhook add: %s", stderr)
	}
	var added webhookJSON
	if err := json.Unmarshal([]byte(addOut), &added); err != nil {
		t.Fatal(err)
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
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	select {
	case r := <-got:
		body := <-bodies
		if err := webhook.Verify([]byte(added.Secret), r.Header.Get(webhook.SignatureHeader), body, time.Now(), time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
		if r.Header.Get("Roster-Event-Type") != webhook.UserCreated {
			t.Errorf("event type %q", r.Header.Get("Roster-Event-Type"))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve delivered no webhook")
	}
	srv.cancel()
	if code := <-srv.done; code != 0 {
		t.Fatalf("serve exited %d: %s", code, srv.stderr.String())
	}
}
