package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
	"github.com/roster-dev/roster/internal/server"
)

func mountAll(mux *http.ServeMux, svc *directory.Service) { server.Mount(mux, svc, server.Options{}) }

// startServer runs ServeWith on a loopback port with a trivial handler
// wrapped in the middleware, and returns its address.
func startServer(t *testing.T, o httpapi.ServerOptions) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := httpapi.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = httpapi.WriteJSON(w, http.StatusOK, map[string]string{"proto": r.Proto})
	}), slog.New(slog.DiscardHandler), 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- httpapi.ServeWith(ctx, ln, h, slog.New(slog.DiscardHandler), o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeWith: %v", err)
		}
	})
	return ln.Addr().String()
}

// writeCert writes a fresh self-signed ECDSA certificate for 127.0.0.1
// and returns the cert and key paths and a pool that trusts it.
func writeCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "roster test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS: with a certificate and key, the server speaks TLS to a real
// client over HTTP/1.1 and over HTTP/2, sends HSTS there, and refuses
// plain HTTP; a missing key file fails at start.
func TestTLS(t *testing.T) {
	certFile, keyFile, pool := writeCert(t)
	addr := startServer(t, httpapi.ServerOptions{TLSCert: certFile, TLSKey: keyFile, Grace: time.Second})
	for _, tt := range []struct {
		name      string
		protocols func() *http.Protocols
		wantProto string
	}{
		{"http/1.1", func() *http.Protocols { p := new(http.Protocols); p.SetHTTP1(true); return p }, "HTTP/1.1"},
		{"h2", func() *http.Protocols { p := new(http.Protocols); p.SetHTTP2(true); return p }, "HTTP/2.0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, Protocols: tt.protocols()}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Get("https://" + addr + "/")
			if err != nil {
				t.Fatalf("GET over TLS: %v", err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || resp.Proto != tt.wantProto || resp.TLS == nil {
				t.Fatalf("got %d %s (tls %v), want 200 %s: %s", resp.StatusCode, resp.Proto, resp.TLS != nil, tt.wantProto, body)
			}
			if !strings.Contains(string(body), tt.wantProto) {
				t.Errorf("handler saw %s, want %s", body, tt.wantProto)
			}
			if got := resp.Header.Get("Strict-Transport-Security"); got != httpapi.HSTSValue {
				t.Errorf("Strict-Transport-Security: got %q, want %q", got, httpapi.HSTSValue)
			}
		})
	}
	t.Run("plain http refused", func(t *testing.T) {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			defer resp.Body.Close()
			if resp.StatusCode == 200 {
				t.Fatal("plain HTTP to the TLS port got 200")
			}
		}
	})
	t.Run("missing key fails at start", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		err = httpapi.ServeWith(t.Context(), ln, http.NotFoundHandler(), slog.New(slog.DiscardHandler),
			httpapi.ServerOptions{TLSCert: certFile, TLSKey: filepath.Join(t.TempDir(), "none.pem")})
		if err == nil || !strings.Contains(err.Error(), "tls certificate") {
			t.Fatalf("ServeWith with a missing key: got %v, want a tls certificate error", err)
		}
	})
}

// TestNoHSTSOverPlainHTTP: HSTS is a promise about TLS; plain answers
// carry the other security headers only.
func TestNoHSTSOverPlainHTTP(t *testing.T) {
	addr := startServer(t, httpapi.ServerOptions{Grace: time.Second})
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("HSTS over plain HTTP: %q", got)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options: got %q", got)
	}
}

// TestOversizeHeaders: headers over MaxHeaderBytes get 431, and headers
// under it are served.
func TestOversizeHeaders(t *testing.T) {
	addr := startServer(t, httpapi.ServerOptions{MaxHeaderBytes: 8 << 10, Grace: time.Second})
	for _, tt := range []struct {
		name string
		size int
		want int
	}{
		{"under the limit", 4 << 10, 200},
		// net/http allows 4 KiB of slack over MaxHeaderBytes.
		{"over the limit", 64 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", "http://"+addr+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Big", strings.Repeat("a", tt.size))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("%d bytes of header: got %d, want %d", tt.size, resp.StatusCode, tt.want)
			}
		})
	}
	t.Run("default limit is 64 KiB", func(t *testing.T) {
		if httpapi.DefaultServerOptions.MaxHeaderBytes != 64<<10 {
			t.Fatalf("DefaultServerOptions.MaxHeaderBytes = %d", httpapi.DefaultServerOptions.MaxHeaderBytes)
		}
	})
}

// TestSlowloris: a client that sends its headers one byte at a time, more
// slowly in total than ReadHeaderTimeout, is cut off at that timeout, not
// served and not kept.
func TestSlowloris(t *testing.T) {
	const timeout = 300 * time.Millisecond
	addr := startServer(t, httpapi.ServerOptions{ReadHeaderTimeout: timeout, ReadTimeout: time.Second, Grace: time.Second})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		// The server writes nothing (or a 408) and closes; a read
		// returning is the cut-off.
		_, _ = io.Copy(io.Discard, conn)
		closed <- time.Since(start)
	}()
	req := "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 200) + "\r\n\r\n"
	sent := 0
	var cutAt time.Duration
	for i := 0; i < len(req); i++ {
		if _, err := conn.Write([]byte{req[i]}); err != nil {
			break
		}
		sent++
		select {
		case cutAt = <-closed:
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break
	}
	if cutAt == 0 {
		select {
		case cutAt = <-closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("connection still open %v after the first byte; %d of %d bytes sent", time.Since(start), sent, len(req))
		}
	}
	if sent == len(req) {
		t.Fatalf("the whole request (%d bytes over %v) was accepted", len(req), time.Since(start))
	}
	if cutAt < timeout || cutAt > 3*time.Second {
		t.Fatalf("cut off after %v, want about %v", cutAt, timeout)
	}
	t.Logf("slowloris cut off after %v, %d of %d header bytes sent", cutAt, sent, len(req))
}

// TestSecurityHeadersEveryDialect: every response — a success, an error,
// an unknown path, in every dialect — carries the security headers.
func TestSecurityHeadersEveryDialect(t *testing.T) {
	env := apitest.New(t, "sqlite", mountAll)
	s := apitest.NewSpeaker(env, env.Creds)
	want := map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	}
	check := func(what string, r *apitest.Response) {
		t.Helper()
		for k, v := range want {
			if got := r.Header.Get(k); got != v {
				t.Errorf("%s (%d): %s = %q, want %q", what, r.Status, k, got, v)
			}
		}
		if got := r.Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("%s: HSTS over plain HTTP: %q", what, got)
		}
	}
	list := map[string]string{"truv": "/v1/users/", "entrust": "/api/web/v3/users/00000000-0000-7000-8000-000000000000",
		"cl2c": "/v1/cl2c/users", "ownli": "/api/users", "scim": "/scim/v2/Users"}
	for _, d := range apitest.Dialects {
		check(d+" list", s.Do(d, "GET", list[d], nil, nil))
		check(d+" unauthenticated", env.Do(apitest.Request{Method: "GET", Path: list[d]}))
	}
	check("unknown path", env.Do(apitest.Request{Method: "GET", Path: "/nowhere"}))
}

// TestManyQueryParameters: 10,000 query parameters on each dialect's
// list route get a 4xx in the dialect's format, quickly.
func TestManyQueryParameters(t *testing.T) {
	env := apitest.New(t, "sqlite", mountAll)
	s := apitest.NewSpeaker(env, env.Creds)
	var b strings.Builder
	for i := range 10000 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString("p")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString("=1")
	}
	q := b.String()
	for _, rt := range []struct{ dialect, method, path string }{
		{"truv", "GET", "/v1/users/"},
		{"entrust", "POST", "/api/web/v4/userspaged"},
		{"cl2c", "GET", "/v1/cl2c/users"},
		{"ownli", "GET", "/api/users"},
		{"scim", "GET", "/scim/v2/Users"},
		{"scim", "GET", "/scim/v2/Groups"},
	} {
		start := time.Now()
		r := s.Do(rt.dialect, rt.method, rt.path+"?"+q, []byte(`{}`), nil)
		d := time.Since(start)
		if r.Status < 400 || r.Status >= 500 {
			t.Errorf("%s %s with 10,000 parameters: got %d, want a 4xx: %.200s", rt.method, rt.path, r.Status, r.Body)
		} else if err := apitest.ErrorFormat(rt.dialect, r); err != nil {
			t.Errorf("%s %s: %d not in %s's format: %v: %.200s", rt.method, rt.path, r.Status, rt.dialect, err, r.Body)
		}
		if d > 2*time.Second {
			t.Errorf("%s %s with 10,000 parameters took %v", rt.method, rt.path, d)
		}
	}
}

// TestNoReadHeaderTimeoutZero guards the default: a server with no
// header timeout is the slowloris exposure this package exists to close.
func TestNoReadHeaderTimeoutZero(t *testing.T) {
	srv, err := httpapi.NewServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler), httpapi.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes != 64<<10 {
		t.Fatalf("zero options: got header %v read %v write %v idle %v max header %d; want the defaults",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
}
