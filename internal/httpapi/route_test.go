package httpapi

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTrailingSlash: one mechanism serves every route with and without a
// trailing slash, and leaves alone routes that register the slashed form
// themselves and paths no route serves.
func TestTrailingSlash(t *testing.T) {
	mux := http.NewServeMux()
	reply := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, name+" "+r.URL.Path+" "+r.PathValue("id"))
		}
	}
	mux.Handle("POST /api/users", reply("create"))
	mux.Handle("GET /api/users/{id}", reply("get"))
	mux.Handle("/api/users/{id}", reply("405"))
	mux.Handle("/api/", reply("api-404"))
	mux.Handle("GET /v1/users/{$}", reply("truv-list"))
	mux.Handle("GET /v1/users", reply("truv-list-noslash"))
	mux.Handle("POST /tree/", reply("tree"))
	mux.Handle("/api/things", reply("things"))
	mux.Handle("/api/things/", reply("things-404"))
	mux.Handle("/", reply("root-404"))
	srv := httptest.NewServer(Middleware(mux, slog.New(slog.DiscardHandler), 0))
	defer srv.Close()

	tests := []struct{ method, path, want string }{
		{"POST", "/api/users", "create /api/users "},
		{"POST", "/api/users/", "create /api/users "},
		{"GET", "/api/users/abc/", "get /api/users/abc abc"},
		{"DELETE", "/api/users/abc/", "405 /api/users/abc abc"},
		{"GET", "/api/nothing/", "api-404 /api/nothing "}, // the same catch-all, without the slash
		{"GET", "/api/a/b/", "api-404 /api/a/b "},
		{"GET", "/api/", "api-404 /api/ "},
		{"GET", "/v1/users/", "truv-list /v1/users/ "},
		{"GET", "/v1/users", "truv-list-noslash /v1/users "},
		{"GET", "/elsewhere/", "root-404 /elsewhere "},
		{"GET", "/", "root-404 / "},
		{"POST", "/tree/", "tree /tree/ "},             // a subtree route's own root
		{"POST", "/tree/x/", "tree /tree/x "},          // below it, as the catch-all
		{"GET", "/api/things/", "things /api/things "}, // a catch-all at a route's own path
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != tt.want {
			t.Errorf("%s %s: got %q, want %q", tt.method, tt.path, b, tt.want)
		}
	}
}

// TestReadBody: the one bounded reader answers 413 with one message that
// names the limit that was hit, the handler's or the server's.
func TestReadBody(t *testing.T) {
	for _, tt := range []struct {
		name       string
		size       int
		max        int64
		wantStatus int
		wantMsg    string
	}{
		{"under", 100, 1000, 0, ""},
		{"exactly", 1000, 1000, 0, ""},
		{"over", 1001, 1000, 413, "request body is larger than 1000 bytes"},
		{"default", DefaultMaxBody + 1, 0, 413, "request body is larger than 1048576 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", bytes.NewReader(bytes.Repeat([]byte("x"), tt.size)))
			raw, err := ReadBody(httptest.NewRecorder(), r, tt.max)
			if tt.wantStatus == 0 {
				if err != nil || len(raw) != tt.size {
					t.Fatalf("got %d bytes, %v; want %d bytes", len(raw), err, tt.size)
				}
				return
			}
			if got := StatusOf(err); got != tt.wantStatus {
				t.Fatalf("status %d (%v), want %d", got, err, tt.wantStatus)
			}
			de := err.(*DecodeError)
			if de.Msg != tt.wantMsg {
				t.Errorf("message %q, want %q", de.Msg, tt.wantMsg)
			}
		})
	}

	// A deep body is refused as too deep, also when it is over the limit.
	for _, size := range []int{100, 100000} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("[", size)))
		raw, err := ReadBody(httptest.NewRecorder(), r, 1000)
		if err == nil {
			err = Unmarshal(raw, new(any), false)
		}
		if StatusOf(err) != 400 || !strings.Contains(err.(*DecodeError).Msg, "deeper than") {
			t.Errorf("%d levels: got %v, want 400 too deep", size, err)
		}
	}
	for _, body := range []string{strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), `{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}`, `{"a":"\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}`} {
		if err := Unmarshal([]byte(body), new(any), false); err != nil {
			t.Errorf("%.40s: %v, want accepted", body, err)
		}
	}

	// The server-wide limit is the smaller one: its limit is reported.
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, err := ReadBody(w, r, 1<<20)
		_, _ = io.WriteString(w, err.(*DecodeError).Msg)
	})
	srv := httptest.NewServer(Middleware(mux, slog.New(slog.DiscardHandler), 2048))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/", "application/json", bytes.NewReader(make([]byte, 4096)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "request body is larger than 2048 bytes" {
		t.Errorf("server-wide limit: got %q", b)
	}
}
