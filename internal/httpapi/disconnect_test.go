package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestClientClosedIsNot5xx: a client that disconnects while its request is
// being served makes the handler's write fail with a cancelled context; the
// access log and metrics record 499 at info level, not a 500, so alerts on
// 5xx mean server faults only.
func TestClientClosedIsNot5xx(t *testing.T) {
	handled := make(chan struct{})
	h := Adapt(func(w http.ResponseWriter, r *http.Request) error {
		defer close(handled)
		if _, err := ReadBody(w, r, 0); err != nil {
			return err
		}
		select {
		case <-r.Context().Done(): // the client went away: the write is abandoned
			return fmt.Errorf("create user: %w", r.Context().Err())
		case <-time.After(5 * time.Second):
			return WriteJSON(w, 200, map[string]string{"ok": "late"})
		}
	}, func(w http.ResponseWriter, r *http.Request, err error) {
		_ = WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal"})
	})
	logs := &lockedBuffer{}
	m := NewMetrics()
	mux := http.NewServeMux()
	mux.Handle("/x", Tag("test", h))
	mux.Handle("/metrics", m)
	srv := httptest.NewServer(MiddlewareWith(mux, MiddlewareOptions{Logger: slog.New(slog.NewJSONHandler(logs, nil)), Metrics: m}))
	defer srv.Close()

	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"first_name":"Ann"}`
	fmt.Fprintf(conn, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	time.Sleep(50 * time.Millisecond) // let the server read the request
	conn.Close()
	select {
	case <-handled:
	case <-time.After(10 * time.Second):
		t.Fatal("handler never saw the disconnect")
	}

	// The middleware logs and counts just after the handler returns.
	var exposition []byte
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		exposition, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(exposition), `dialect="test"`) {
			break
		}
	}
	if !strings.Contains(string(exposition), `roster_http_requests_total{dialect="test",route="/x",status_class="4xx"} 1`) ||
		strings.Contains(string(exposition), `status_class="5xx"`) {
		t.Errorf("metrics: want one 499 and no 500:\n%s", exposition)
	}
	log := logs.String()
	if !strings.Contains(log, `"status":499`) || strings.Contains(log, `"level":"ERROR"`) {
		t.Errorf("access log: want status 499 at INFO:\n%s", log)
	}
	if !strings.Contains(log, context.Canceled.Error()) {
		t.Errorf("access log lacks the cause:\n%s", log)
	}
}

// lockedBuffer is a strings.Builder safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
