package truv

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/apitest"
)

// TestDisconnectMidCreate: a client that sends a valid create and closes
// its connection at once is never logged as a 5xx, and a retry leaves
// exactly one user (the first write either committed or was abandoned
// whole).
func TestDisconnectMidCreate(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		body := `{"external_user_id":"d-1","first_name":"Dis","last_name":"Connect","email":"gone@example.com"}`
		for i := 0; i < 20; i++ {
			conn, err := net.Dial("tcp", strings.TrimPrefix(env.Server.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(conn, "POST /v1/users/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Access-Client-Id: %s\r\nX-Access-Secret: %s\r\nContent-Length: %d\r\n\r\n%s",
				env.Creds.ClientID, env.Creds.Secret, len(body), body)
			conn.Close()
		}
		// The retry: 201 if every attempt was abandoned, else 409 (e-mail
		// is unique under the test tenant's policy).
		var resp *apitest.Response
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			resp = env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: headers(env.Creds), Body: body})
			if resp.Status == http.StatusCreated || resp.Status == http.StatusConflict {
				break
			}
		}
		if resp.Status != http.StatusCreated && resp.Status != http.StatusConflict {
			t.Fatalf("retry: %d %s", resp.Status, resp.Body)
		}
		var page listJSON
		env.Do(apitest.Request{Method: "GET", Path: "/v1/users/?external_user_id=d-1", Header: headers(env.Creds)}).JSON(t, &page)
		if page.Count != 1 {
			t.Fatalf("after disconnects and a retry: %d users, want 1", page.Count)
		}
		time.Sleep(100 * time.Millisecond) // the last access-log lines
		if logs := env.Logs.String(); strings.Contains(logs, `"status":500`) || strings.Contains(logs, `"level":"ERROR"`) {
			t.Fatalf("a disconnect was logged as a server error:\n%s", logs)
		}
	})
}
