package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCORS: a preflight from an allowed origin is answered 204 before any
// handler (so before any dialect asks for credentials), with the headers
// every dialect needs; other origins, and servers without an allow-list,
// get no CORS headers at all.
func TestCORS(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/users/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Access-Secret") == "" {
			w.WriteHeader(http.StatusUnauthorized) // what an authenticating dialect does
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	newServer := func(origins []string) *httptest.Server {
		srv := httptest.NewServer(MiddlewareWith(mux, MiddlewareOptions{Logger: slog.New(slog.DiscardHandler), CORSOrigins: origins}))
		t.Cleanup(srv.Close)
		return srv
	}
	allowList := newServer([]string{"https://app.example.com", "http://localhost:3000"})
	wildcard := newServer([]string{"*"})
	none := newServer(nil)

	do := func(srv *httptest.Server, method string, h map[string]string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+"/v1/users/", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	preflight := func(origin string) map[string]string {
		return map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "content-type,x-access-client-id,x-access-secret"}
	}

	t.Run("preflight allowed", func(t *testing.T) {
		for _, srv := range []*httptest.Server{allowList, wildcard} {
			resp := do(srv, "OPTIONS", preflight("HTTPS://App.Example.com"))
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("status %d, want 204", resp.StatusCode)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "HTTPS://App.Example.com" {
				t.Errorf("Allow-Origin %q", got)
			}
			allowHeaders := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
			for _, h := range []string{"x-access-client-id", "x-access-secret", "tenant", "x-api-key", "partnerid",
				"clientid", "clientsecret", "authorization", "content-type", "if-match"} {
				if !strings.Contains(allowHeaders, h) {
					t.Errorf("Allow-Headers %q lacks %s", allowHeaders, h)
				}
			}
			for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
				if !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), m) {
					t.Errorf("Allow-Methods %q lacks %s", resp.Header.Get("Access-Control-Allow-Methods"), m)
				}
			}
			if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("Allow-Credentials sent; Roster uses no cookies cross-origin")
			}
			if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Origin") {
				t.Errorf("Vary %q lacks Origin", resp.Header.Values("Vary"))
			}
		}
	})
	t.Run("preflight refused", func(t *testing.T) {
		for name, tt := range map[string]struct {
			srv    *httptest.Server
			origin string
		}{
			"other origin":    {allowList, "https://evil.example.com"},
			"other port":      {allowList, "http://localhost:3001"},
			"other scheme":    {allowList, "http://app.example.com"},
			"no allow-list":   {none, "https://app.example.com"},
			"origin suffixed": {allowList, "https://app.example.com.evil.com"},
		} {
			resp := do(tt.srv, "OPTIONS", preflight(tt.origin))
			if resp.StatusCode == http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "" ||
				resp.Header.Get("Access-Control-Allow-Headers") != "" {
				t.Errorf("%s: got %d with Allow-Origin %q, want the handler's answer and no CORS headers",
					name, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
			}
		}
	})
	t.Run("actual request", func(t *testing.T) {
		resp := do(allowList, "GET", map[string]string{"Origin": "http://localhost:3000", "X-Access-Secret": "s"})
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
			t.Errorf("allowed origin: %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
			t.Errorf("Expose-Headers %q lacks X-Request-Id", resp.Header.Get("Access-Control-Expose-Headers"))
		}
		resp = do(allowList, "GET", map[string]string{"Origin": "https://evil.example.com", "X-Access-Secret": "s"})
		if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Expose-Headers") != "" {
			t.Errorf("other origin got CORS headers: %v", resp.Header)
		}
		resp = do(none, "GET", map[string]string{"Origin": "https://app.example.com", "X-Access-Secret": "s"})
		if resp.Header.Get("Vary") != "" || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("no allow-list, got CORS headers: %v", resp.Header)
		}
	})
	t.Run("OPTIONS without preflight headers reaches the handler", func(t *testing.T) {
		if resp := do(allowList, "OPTIONS", map[string]string{"Origin": "https://app.example.com"}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want the handler's 401", resp.StatusCode)
		}
	})
}
