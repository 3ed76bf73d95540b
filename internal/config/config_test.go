package config

import (
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		"ROSTER_DB":                "postgres://app:hunter2@db:5432/roster",
		"ROSTER_LISTEN":            ":9090",
		"ROSTER_ENCRYPTION_KEY":    "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"ROSTER_MAX_BODY":          "2048",
		"ROSTER_ENTRUST_TOKEN_TTL": "30m",
	}
	c, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":9090" || c.MaxBody != 2048 || c.EntrustTokenTTL != 30*time.Minute {
		t.Fatalf("got %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	s := c.String()
	if strings.Contains(s, "hunter2") || strings.Contains(s, "AAAA") {
		t.Fatalf("String leaks a secret: %s", s)
	}
	if !strings.Contains(s, "app:xxxxx@db") {
		t.Fatalf("String = %s, want redacted URL", s)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"default is valid", func(*Config) {}, ""},
		{"unknown db scheme", func(c *Config) { c.DB = "mysql://x" }, "want sqlite:PATH"},
		{"postgres without key", func(c *Config) { c.DB = "postgres://localhost/x" }, "ROSTER_ENCRYPTION_KEY must be set"},
		{"tiny body", func(c *Config) { c.MaxBody = 10 }, "max body"},
		{"bad level", func(c *Config) { c.LogLevel = "loud" }, "log level"},
		{"short ttl", func(c *Config) { c.EntrustTokenTTL = time.Second }, "entrust token ttl"},
		{"negative rate limit", func(c *Config) { c.RateLimit = -1 }, "rate limit"},
		{"public url ok", func(c *Config) { c.PublicURL = "https://roster.example.com/dir" }, ""},
		{"public url relative", func(c *Config) { c.PublicURL = "roster.example.com" }, "public url"},
		{"public url with query", func(c *Config) { c.PublicURL = "https://x.example.com/?a=1" }, "public url"},
		{"cors origins ok", func(c *Config) { c.CORSOrigins = []string{"https://app.example.com", "http://localhost:3000", "*"} }, ""},
		{"cors origin with path", func(c *Config) { c.CORSOrigins = []string{"https://app.example.com/ui"} }, "cors origin"},
		{"cors origin without scheme", func(c *Config) { c.CORSOrigins = []string{"app.example.com"} }, "cors origin"},
		{"cors origin pattern", func(c *Config) { c.CORSOrigins = []string{"https://*.example.com"} }, "cors origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFromEnvCORS(t *testing.T) {
	c, err := FromEnv(func(k string) string {
		if k == "ROSTER_CORS_ORIGINS" {
			return " https://app.example.com, ,http://localhost:3000 "
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.CORSOrigins, "|"); got != "https://app.example.com|http://localhost:3000" {
		t.Fatalf("CORSOrigins = %q", got)
	}
	if d := Default(); len(d.CORSOrigins) != 0 {
		t.Fatalf("default CORSOrigins = %q, want none", d.CORSOrigins)
	}
	if !strings.Contains(c.String(), "cors_origins=") {
		t.Errorf("String lacks cors_origins: %s", c.String())
	}
}

func TestFromEnvBadValues(t *testing.T) {
	env := map[string]string{"ROSTER_MAX_BODY": "lots", "ROSTER_SHUTDOWN_GRACE": "soon"}
	_, err := FromEnv(func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "ROSTER_MAX_BODY") || !strings.Contains(err.Error(), "ROSTER_SHUTDOWN_GRACE") {
		t.Fatalf("got %v, want both variables named", err)
	}
}

func TestKeyringFromFile(t *testing.T) {
	dir := t.TempDir()
	c := Default()
	c.DB = "sqlite:" + dir + "/r.db"
	kr, path, created, err := c.Keyring()
	if err != nil || !created || path != dir+"/r.db.key" {
		t.Fatalf("first Keyring: path %q created %v err %v", path, created, err)
	}
	kr2, _, created2, err := c.Keyring()
	if err != nil || created2 {
		t.Fatalf("second Keyring: created %v err %v", created2, err)
	}
	sealed := kr.Seal([]byte("123456789"), []byte("aad"))
	plain, err := kr2.Open(sealed, []byte("aad"))
	if err != nil || string(plain) != "123456789" {
		t.Fatalf("reloaded key cannot open: %v", err)
	}
}
