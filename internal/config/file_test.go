package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestKeysCoverEnv: every variable FromEnv reads has a Key (so the file
// and `config print` know it) and no Key names a variable FromEnv does
// not read; a file key is its variable without ROSTER_, lower-cased.
func TestKeysCoverEnv(t *testing.T) {
	var read []string
	if _, err := FromEnv(func(name string) string { read = append(read, name); return "" }); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range Keys {
		keys = append(keys, k.Env)
		if want := "ROSTER_" + strings.ToUpper(k.Name); k.Env != want {
			t.Errorf("key %s: env %s, want %s", k.Name, k.Env, want)
		}
		if k.value == nil {
			t.Errorf("key %s: no value function", k.Name)
		}
	}
	slices.Sort(read)
	read = slices.Compact(read)
	slices.Sort(keys)
	if !slices.Equal(read, keys) {
		t.Errorf("FromEnv reads %v\nKeys has       %v", read, keys)
	}
}

// TestKeysDocumented: docs/OPERATIONS.md's configuration reference names
// every key and variable.
func TestKeysDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, k := range Keys {
		if !strings.Contains(doc, "`"+k.Name+"`") || !strings.Contains(doc, "`"+k.Env+"`") {
			t.Errorf("docs/OPERATIONS.md lacks key `%s` or `%s`", k.Name, k.Env)
		}
	}
}

func writeFile(t *testing.T, text string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "roster.toml")
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestLoadPrecedence: environment over file over default, for each kind
// of value, with the source of each setting.
func TestLoadPrecedence(t *testing.T) {
	file := `
db = "sqlite:/data/file.db"
listen = "0.0.0.0:9000"
max_body = 2097152
entrust_token_ttl = "30m"
trusted_proxies = ["10.0.0.0/8", "192.0.2.1"]
cors_origins = "https://a.example.com,https://b.example.com"
auth_throttle = false
`
	tests := []struct {
		name string
		env  map[string]string
		file string
		want func(*Config)
		src  map[string]Source
	}{
		{"defaults", nil, "", func(*Config) {}, map[string]Source{"db": SourceDefault, "listen": SourceDefault}},
		{"file", nil, file, func(c *Config) {
			c.DB, c.Listen, c.MaxBody, c.EntrustTokenTTL = "sqlite:/data/file.db", "0.0.0.0:9000", 2<<20, 30*time.Minute
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32")}
			c.CORSOrigins = []string{"https://a.example.com", "https://b.example.com"}
			c.AuthThrottleOff = true
		}, map[string]Source{"db": SourceFile, "max_body": SourceFile, "auth_throttle": SourceFile, "log_level": SourceDefault}},
		{"env over file", map[string]string{"ROSTER_DB": "sqlite:/env.db", "ROSTER_MAX_BODY": "4096", "ROSTER_AUTH_THROTTLE": "on",
			"ROSTER_TRUSTED_PROXIES": "172.16.0.0/12"}, file, func(c *Config) {
			c.DB, c.Listen, c.MaxBody, c.EntrustTokenTTL = "sqlite:/env.db", "0.0.0.0:9000", 4096, 30*time.Minute
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("172.16.0.0/12")}
			c.CORSOrigins = []string{"https://a.example.com", "https://b.example.com"}
		}, map[string]Source{"db": SourceEnv, "listen": SourceFile, "max_body": SourceEnv, "auth_throttle": SourceEnv}},
		{"empty file value is unset", nil, `log_level = ""`, func(*Config) {}, map[string]Source{"log_level": SourceDefault}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file, 0o644)
			}
			got, src, err := Load(path, envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			want := Default()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			for k, s := range tt.src {
				if src[k] != s {
					t.Errorf("source of %s: %s, want %s", k, src[k], s)
				}
			}
		})
	}
}

// TestLoadFileErrors: every problem with a file is an error that names
// the key (or the line) at fault.
func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name, file string
		mode       os.FileMode
		want       []string
	}{
		{"unknown key", "db = \"sqlite:x.db\"\nlisten_addr = \"x\"\nzzz = 1\n", 0o644, []string{`unknown key "listen_addr"`, `unknown key "zzz"`}},
		{"table", "[server]\nlisten = \"x\"\n", 0o644, []string{`unknown key "server"`}},
		{"int as string", `max_body = "1k"`, 0o644, []string{"key max_body: want an integer", `"1k"`}},
		{"duration as int", `read_timeout = 30`, 0o644, []string{"key read_timeout: want a duration string"}},
		{"bad duration", `read_timeout = "30 s"`, 0o644, []string{"key read_timeout:", "time: "}},
		{"bad list element", `cors_origins = [1]`, 0o644, []string{"key cors_origins: want an array of strings"}},
		{"bad proxy", `trusted_proxies = ["nope"]`, 0o644, []string{"key trusted_proxies:", `"nope" is not an IP address`}},
		{"bad on/off", `auth_throttle = "maybe"`, 0o644, []string{"key auth_throttle:", "want on or off"}},
		{"syntax", "db = \n", 0o644, []string{"line 1"}},
		{"key readable by others", `encryption_key = "k1:AAAA"`, 0o644, []string{"holds encryption_key", "want 0600"}},
		{"password readable by others", `db = "postgres://u:pw@db/roster"`, 0o640, []string{"a password in db", "want 0600"}},
		{"password parameter", `db = "postgres://db/roster?password=pw"`, 0o604, []string{"a password in db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Load(writeFile(t, tt.file, tt.mode), envOf(nil))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, _, err := Load(filepath.Join(t.TempDir(), "missing.toml"), envOf(nil)); err == nil {
		t.Error("a missing file: no error")
	}
	// The same secret in a private file is fine.
	if _, _, err := Load(writeFile(t, `db = "postgres://u:pw@db/roster"`, 0o600), envOf(nil)); err != nil {
		t.Errorf("private file with a password: %v", err)
	}
}

// TestTOMLRoundTrip: what `config print` writes loads back to the same
// configuration, and no secret appears in it.
func TestTOMLRoundTrip(t *testing.T) {
	c := Default()
	c.DB = "postgres://roster:s3cret-pw@db.internal:5432/roster?sslmode=require&password=other-pw"
	c.EncryptionKey = "k1:c2VjcmV0LWtleS1tYXRlcmlhbA=="
	c.Listen = ":9443"
	c.MaxBody = 4096
	c.EntrustTokenTTL = 90 * time.Minute
	c.LogLevel = "debug"
	c.PublicURL = `https://roster.example.com/"quoted"\path`
	c.RateLimit = 0
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/64")}
	c.AuthThrottleOff = true
	c.CORSOrigins = []string{"*"}
	c.TLSCert, c.TLSKey = "/etc/roster/cert.pem", "/etc/roster/key.pem"
	c.ReadTimeout = 45 * time.Second
	c.MaxHeaderBytes = 8192
	out := c.TOML(Sources{"db": SourceFlag})
	for _, secret := range []string{"s3cret-pw", "other-pw", "c2VjcmV0"} {
		if strings.Contains(out, secret) {
			t.Errorf("printed configuration contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`encryption_key = "<redacted>"`, "roster:xxxxx@db.internal", "# from flag (--db, ROSTER_DB)", "# from default (ROSTER_LOG_LEVEL)", `entrust_token_ttl = "1h30m"`} {
		if !strings.Contains(out, want) {
			t.Errorf("printed configuration lacks %q:\n%s", want, out)
		}
	}
	// Without the redacted lines it is a file that loads back to c.
	var kept []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "encryption_key") && !strings.HasPrefix(l, "db ") {
			kept = append(kept, l)
		}
	}
	got, _, err := Load(writeFile(t, strings.Join(kept, "\n"), 0o600), envOf(nil))
	if err != nil {
		t.Fatalf("load the printed configuration: %v\n%s", err, out)
	}
	got.DB, got.EncryptionKey = c.DB, c.EncryptionKey
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", got, c)
	}
}

func TestRedactDB(t *testing.T) {
	for in, want := range map[string]string{
		"sqlite:roster.db":                        "sqlite:roster.db",
		"postgres://u:pw@h/db":                    "postgres://u:xxxxx@h/db",
		"postgres://u@h/db":                       "postgres://u@h/db",
		"postgresql://h/db?password=pw&sslmode=x": "postgresql://h/db?password=xxxxx&sslmode=x",
	} {
		if got := RedactDB(in); got != want {
			t.Errorf("RedactDB(%q) = %q, want %q", in, got, want)
		}
	}
}
