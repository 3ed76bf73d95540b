package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testCert writes a self-signed certificate for 127.0.0.1 into dir.
func testCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "roster cli test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

var httpsRE = regexp.MustCompile(`listening on (https://\S+)`)

// TestServeTLS: `serve --tls-cert --tls-key` answers over HTTPS (with
// HSTS) and announces an https:// address; a bad key file stops the start
// before the first-start credential is created and printed.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := testCert(t, dir)

	t.Run("bad key", func(t *testing.T) {
		withEnv(t, map[string]string{"ROSTER_DB": "sqlite:" + filepath.Join(dir, "bad.db")})
		code, stdout, stderr := runCLI(t, "serve", "--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", certFile)
		if code == 0 || !strings.Contains(stderr, "tls certificate") {
			t.Fatalf("serve with a certificate as key: exit %d, stderr %q; want a tls certificate error", code, stderr)
		}
		if strings.Contains(stdout, "secret:") {
			t.Fatalf("printed the bootstrap secret before failing:\n%s", stdout)
		}
		if _, err := os.Stat(filepath.Join(dir, "bad.db")); err == nil {
			t.Fatal("created the database before checking the certificate")
		}
	})

	t.Run("https", func(t *testing.T) {
		withEnv(t, map[string]string{"ROSTER_DB": "sqlite:" + filepath.Join(dir, "r.db"), "ROSTER_SHUTDOWN_GRACE": "5s",
			"ROSTER_TLS_CERT": certFile, "ROSTER_TLS_KEY": keyFile})
		srv := startServe(t, httpsRE)
		base := srv.base
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			t.Fatalf("GET /healthz over TLS: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.TLS == nil || resp.ProtoMajor != 2 || resp.Header.Get("Strict-Transport-Security") == "" {
			t.Fatalf("got %d %s tls=%v hsts=%q; want 200 over h2 with HSTS", resp.StatusCode, resp.Proto, resp.TLS != nil, resp.Header.Get("Strict-Transport-Security"))
		}
		srv.stop(t)
	})
}
