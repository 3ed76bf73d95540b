package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// PprofServer is net/http/pprof on a listener of its own (--pprof ADDR),
// never on the API's: profiles show request internals and cost CPU, so
// they are for an operator on the machine, not for API clients.
type PprofServer struct {
	srv *http.Server
	ln  net.Listener
}

// StartPprof serves the net/http/pprof handlers on addr, which must be a
// loopback address ("127.0.0.1:6060", "[::1]:6060", "localhost:6060"; port
// 0 picks a free one). Any other address, a wildcard ("", ":6060",
// "0.0.0.0:6060") included, is refused: the endpoints have no
// authentication, so reaching them must need a shell on the host.
func StartPprof(addr string, logger *slog.Logger) (*PprofServer, error) {
	if err := CheckPprofAddr(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof listen: %w", err)
	}
	// "localhost" is whatever the resolver says: check what was bound.
	if ta, ok := ln.Addr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("pprof address %q bound %s, which is not loopback", addr, ln.Addr())
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // heap, goroutine, allocs, block, mutex, ...
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{
		Handler: mux,
		// No WriteTimeout: /profile?seconds=N writes after N seconds.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("pprof server stopped", "error", err.Error())
		}
	}()
	return &PprofServer{srv: srv, ln: ln}, nil
}

// CheckPprofAddr refuses a pprof address that is not HOST:PORT with a
// loopback HOST (an IP literal, or "localhost").
func CheckPprofAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("pprof address %q: want HOST:PORT on a loopback address: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("pprof address %q: not a loopback address (127.0.0.1, [::1] or localhost); pprof has no authentication", addr)
	}
	return nil
}

// Addr is the address the pprof server listens on.
func (p *PprofServer) Addr() string { return p.ln.Addr().String() }

// Close stops the pprof server, cutting off a profile in progress.
func (p *PprofServer) Close() error { return p.srv.Close() }
