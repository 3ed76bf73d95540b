package config

import (
	"strings"
	"testing"
	"time"
)

// TestServerSettings: the HTTP server's timeouts, header limit and TLS
// files come from the environment, have bounded defaults, and refuse
// values that would switch a protection off.
func TestServerSettings(t *testing.T) {
	d := Default()
	if d.ReadHeaderTimeout != 10*time.Second || d.ReadTimeout != 30*time.Second || d.WriteTimeout != 60*time.Second ||
		d.IdleTimeout != 120*time.Second || d.MaxHeaderBytes != 64<<10 || d.TLSCert != "" {
		t.Fatalf("defaults: got %+v", d)
	}
	env := map[string]string{
		"ROSTER_READ_HEADER_TIMEOUT": "2s", "ROSTER_READ_TIMEOUT": "5s", "ROSTER_WRITE_TIMEOUT": "7s",
		"ROSTER_IDLE_TIMEOUT": "9s", "ROSTER_MAX_HEADER_BYTES": "8192",
		"ROSTER_TLS_CERT": "/etc/roster/cert.pem", "ROSTER_TLS_KEY": "/etc/roster/key.pem",
	}
	c, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.ReadHeaderTimeout != 2*time.Second || c.ReadTimeout != 5*time.Second || c.WriteTimeout != 7*time.Second ||
		c.IdleTimeout != 9*time.Second || c.MaxHeaderBytes != 8192 || c.TLSCert != env["ROSTER_TLS_CERT"] || c.TLSKey != env["ROSTER_TLS_KEY"] {
		t.Fatalf("from env: got %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if s := c.String(); !strings.Contains(s, "tls=true") || !strings.Contains(s, "read_header_timeout=2s") {
		t.Fatalf("String: %s", s)
	}
	if _, err := FromEnv(func(k string) string { return map[string]string{"ROSTER_MAX_HEADER_BYTES": "lots"}[k] }); err == nil {
		t.Fatal("ROSTER_MAX_HEADER_BYTES=lots: got no error")
	}

	for _, tt := range []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"cert without key", func(c *Config) { c.TLSCert = "c.pem" }, "tls: set both"},
		{"key without cert", func(c *Config) { c.TLSKey = "k.pem" }, "tls: set both"},
		{"no header timeout", func(c *Config) { c.ReadHeaderTimeout = 0 }, "read header timeout"},
		{"no write timeout", func(c *Config) { c.WriteTimeout = 0 }, "write timeout"},
		{"huge idle timeout", func(c *Config) { c.IdleTimeout = 2 * time.Hour }, "idle timeout"},
		{"header timeout above read timeout", func(c *Config) { c.ReadHeaderTimeout = time.Minute }, "must not exceed"},
		{"tiny header limit", func(c *Config) { c.MaxHeaderBytes = 100 }, "max header bytes"},
		{"huge header limit", func(c *Config) { c.MaxHeaderBytes = 8 << 20 }, "max header bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate: got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
