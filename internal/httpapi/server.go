package httpapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServerOptions are the connection-level limits of Serve. A zero field
// takes the default of DefaultServerOptions, never "no limit".
type ServerOptions struct {
	// ReadHeaderTimeout bounds reading the request line and headers: a
	// client that trickles them (slowloris) is cut off after it.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading the whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds the handler and the response write.
	WriteTimeout time.Duration
	// IdleTimeout closes idle keep-alive connections.
	IdleTimeout time.Duration
	// MaxHeaderBytes caps the request line and headers; more is 431.
	MaxHeaderBytes int
	// TLSCert and TLSKey are PEM files; when set, the listener speaks TLS
	// (HTTP/1.1 and HTTP/2 by ALPN) and nothing else.
	TLSCert, TLSKey string
	// Grace is how long a shutdown waits for in-flight requests.
	Grace time.Duration
}

// DefaultServerOptions are the limits config.Default documents.
var DefaultServerOptions = ServerOptions{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       30 * time.Second,
	WriteTimeout:      60 * time.Second,
	IdleTimeout:       120 * time.Second,
	MaxHeaderBytes:    64 << 10,
	Grace:             20 * time.Second,
}

func (o ServerOptions) withDefaults() ServerOptions {
	d := DefaultServerOptions
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = d.ReadHeaderTimeout
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = d.ReadTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = d.WriteTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = d.IdleTimeout
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if o.Grace < 0 {
		o.Grace = 0
	}
	return o
}

// Serve serves h on ln until ctx is cancelled, then shuts down gracefully:
// it stops accepting, lets in-flight requests finish for up to grace, and
// returns. The timeouts are DefaultServerOptions'.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger, grace time.Duration) error {
	o := DefaultServerOptions
	o.Grace = grace
	return ServeWith(ctx, ln, h, logger, o)
}

// ServeWith is Serve with explicit limits and optional TLS. The timeouts
// bound slow clients (slowloris) and idle keep-alives.
func ServeWith(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger, o ServerOptions) error {
	srv, err := NewServer(h, logger, o)
	if err != nil {
		return err
	}
	o = o.withDefaults()
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			// The certificate is already loaded into TLSConfig.
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), o.Grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// NewServer returns the configured *http.Server for h, its certificate
// loaded when o names one (so a bad file fails at start, not on the first
// handshake). Serve it with ServeTLS(ln, "", "") when TLSConfig is set.
func NewServer(h http.Handler, logger *slog.Logger, o ServerOptions) (*http.Server, error) {
	o = o.withDefaults()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    o.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if o.TLSCert != "" || o.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load tls certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{
			Certificates: []tls.Certificate{cert},
			// TLS 1.2 is the floor every supported client reaches; Go's
			// default cipher suites for it are AEAD with forward secrecy.
			MinVersion: tls.VersionTLS12,
			// ServeTLS adds "h2" itself only when NextProtos is empty;
			// name both so the choice is explicit here.
			NextProtos: []string{"h2", "http/1.1"},
		}
	}
	return srv, nil
}
