package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestServeQuickstart replays Truv's quickstart (truvhq/quickstart,
// golang/truv.go: createUser, then createUserBridgeToken) against `roster
// serve` on a fresh database of each backend, with the credential the
// first start prints: two users with one e-mail, then a bridge token for
// each. The banner names the first-start tenant's uniqueness policy.
func TestServeQuickstart(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			vars := map[string]string{"ROSTER_SHUTDOWN_GRACE": "5s"}
			if backend == "sqlite" {
				vars["ROSTER_DB"] = "sqlite:" + filepath.Join(t.TempDir(), "r.db")
			} else {
				vars["ROSTER_DB"] = testdb.PostgresURL(t)
				vars["ROSTER_ENCRYPTION_KEY"] = "k1:" + secret.NewKeySpec()
			}
			withEnv(t, vars)
			srv := startServe(t, listenRE)
			base, cancel, done := srv.base, srv.cancel, srv.done
			out := srv.stdout.String()
			clientID, sec := clientRE.FindStringSubmatch(out), secretRE.FindStringSubmatch(out)
			if clientID == nil || sec == nil {
				t.Fatalf("no bootstrap credential in:\n%s", out)
			}
			for _, want := range []string{"unique:    none", "--unique email,phone"} {
				if !strings.Contains(out, want) {
					t.Errorf("banner lacks %q:\n%s", want, out)
				}
			}

			call := func(path, body string) (int, map[string]any) {
				t.Helper()
				req, _ := http.NewRequest("POST", base+"/v1/"+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Access-Client-Id", clientID[1])
				req.Header.Set("X-Access-Secret", sec[1])
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var m map[string]any
				if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
					t.Fatalf("POST %s: %d, body not JSON: %v", path, resp.StatusCode, err)
				}
				return resp.StatusCode, m
			}
			ids := map[string]bool{}
			for run := 1; run <= 2; run++ {
				status, u := call("users/", fmt.Sprintf(`{"external_user_id":"qs-%d","first_name":"John","last_name":"Johnson","email":"j.johnson@example.com"}`, run))
				id, _ := u["id"].(string)
				if status != http.StatusCreated || len(id) != 32 {
					t.Fatalf("run %d: create: %d %v", run, status, u)
				}
				ids[id] = true
				status, bt := call("users/"+id+"/tokens/", `{"product_type":"income","client_name":"","tracking_info":"1338-0111-A"}`)
				if status != http.StatusOK || bt["bridge_token"] == "" || bt["user_id"] != id {
					t.Fatalf("run %d: bridge token: %d %v", run, status, bt)
				}
			}
			if len(ids) != 2 {
				t.Fatalf("two creates gave ids %v, want two users", ids)
			}
			cancel()
			if code := <-done; code != 0 {
				t.Fatalf("serve exited %d", code)
			}
		})
	}
}
