package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestStartPprofRefusesNonLoopback: pprof has no authentication, so only
// loopback addresses are accepted; a wildcard or a routable address is
// refused before anything listens.
func TestStartPprofRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"", ":0", "0.0.0.0:0", "[::]:0", "10.0.0.1:6060", "192.168.1.2:0", "example.com:6060", "127.0.0.1"} {
		t.Run(addr, func(t *testing.T) {
			p, err := StartPprof(addr, slog.New(slog.DiscardHandler))
			if err == nil {
				p.Close()
				t.Fatalf("StartPprof(%q) listened on %s; want refused", addr, p.Addr())
			}
		})
	}
}

// TestStartPprofServes: on a loopback address the profile index and a
// heap profile answer, on a listener of their own.
func TestStartPprofServes(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		t.Run(addr, func(t *testing.T) {
			p, err := StartPprof(addr, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			for path, want := range map[string]string{
				"/debug/pprof/":             "goroutine",
				"/debug/pprof/heap?debug=1": "heap profile",
				"/debug/pprof/cmdline":      "",
			} {
				resp, err := http.Get("http://" + p.Addr() + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
					t.Errorf("GET %s: %d, body lacks %q", path, resp.StatusCode, want)
				}
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := http.Get("http://" + p.Addr() + "/debug/pprof/"); err == nil {
				t.Error("pprof still answers after Close")
			}
		})
	}
}
