package config

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// A setting comes from, in order of precedence: a command-line flag, a
// ROSTER_* environment variable, the configuration file (--config FILE or
// ROSTER_CONFIG), the built-in default. Load merges the last three; the
// command line applies its flags over the result (internal/cli).

// Source names where an effective setting came from.
type Source string

const (
	SourceDefault Source = "default"
	SourceFile    Source = "file"
	SourceEnv     Source = "env"
	SourceFlag    Source = "flag"
)

// Kind is the type of a setting's value in the configuration file.
type Kind int

const (
	KindString   Kind = iota // a TOML string
	KindInt                  // a TOML integer
	KindDuration             // a TOML string Go's time.ParseDuration reads: "15m", "1h30m"
	KindList                 // a TOML array of strings (or one comma-separated string)
	KindOnOff                // "on" or "off" (or true, false)
	KindBool                 // true or false
)

// Key is one setting: its name in the configuration file, its
// environment variable, its flag (if any command has one), its type, and
// how to read its effective value back out of a Config for `roster config
// print`. Every variable FromEnv reads has a Key (config tests check it),
// and a file key is its variable's name without ROSTER_, lower-cased.
type Key struct {
	Name   string // file key: "max_body"
	Env    string // "ROSTER_MAX_BODY"
	Flag   string // "--db"; "" when no flag sets it
	Kind   Kind
	Secret bool // printed redacted
	value  func(Config) any
}

// Keys lists every setting, in the order `roster config print` writes
// them. A setting added to FromEnv needs a row here.
var Keys = []Key{
	{Name: "db", Env: "ROSTER_DB", Flag: "--db", Kind: KindString, value: func(c Config) any { return c.DB }},
	{Name: "db_read", Env: "ROSTER_DB_READ", Flag: "--db-read", Kind: KindString, value: func(c Config) any { return c.DBRead }},
	{Name: "listen", Env: "ROSTER_LISTEN", Flag: "--listen", Kind: KindString, value: func(c Config) any { return c.Listen }},
	{Name: "encryption_key", Env: "ROSTER_ENCRYPTION_KEY", Kind: KindString, Secret: true, value: func(c Config) any { return c.EncryptionKey }},
	{Name: "key_file", Env: "ROSTER_KEY_FILE", Kind: KindString, value: func(c Config) any { return c.KeyFile }},
	{Name: "max_body", Env: "ROSTER_MAX_BODY", Kind: KindInt, value: func(c Config) any { return c.MaxBody }},
	{Name: "entrust_token_ttl", Env: "ROSTER_ENTRUST_TOKEN_TTL", Kind: KindDuration, value: func(c Config) any { return c.EntrustTokenTTL }},
	{Name: "shutdown_grace", Env: "ROSTER_SHUTDOWN_GRACE", Kind: KindDuration, value: func(c Config) any { return c.ShutdownGrace }},
	{Name: "log_level", Env: "ROSTER_LOG_LEVEL", Kind: KindString, value: func(c Config) any { return c.LogLevel }},
	{Name: "public_url", Env: "ROSTER_PUBLIC_URL", Kind: KindString, value: func(c Config) any { return c.PublicURL }},
	{Name: "rate_limit", Env: "ROSTER_RATE_LIMIT", Kind: KindInt, value: func(c Config) any { return int64(c.RateLimit) }},
	{Name: "trusted_proxies", Env: "ROSTER_TRUSTED_PROXIES", Kind: KindList, value: func(c Config) any {
		out := make([]string, len(c.TrustedProxies))
		for i, p := range c.TrustedProxies {
			out[i] = p.String()
		}
		return out
	}},
	{Name: "auth_throttle", Env: "ROSTER_AUTH_THROTTLE", Kind: KindOnOff, value: func(c Config) any { return onOff(!c.AuthThrottleOff) }},
	{Name: "credential_cache_ttl", Env: "ROSTER_CREDENTIAL_CACHE_TTL", Kind: KindDuration, value: func(c Config) any { return c.CredentialCacheTTL }},
	{Name: "allow_private_webhooks", Env: "ROSTER_ALLOW_PRIVATE_WEBHOOKS", Flag: "--allow-private-webhooks", Kind: KindBool, value: func(c Config) any { return c.AllowPrivateWebhooks }},
	{Name: "cors_origins", Env: "ROSTER_CORS_ORIGINS", Kind: KindList, value: func(c Config) any { return c.CORSOrigins }},
	{Name: "tls_cert", Env: "ROSTER_TLS_CERT", Flag: "--tls-cert", Kind: KindString, value: func(c Config) any { return c.TLSCert }},
	{Name: "tls_key", Env: "ROSTER_TLS_KEY", Flag: "--tls-key", Kind: KindString, value: func(c Config) any { return c.TLSKey }},
	{Name: "read_header_timeout", Env: "ROSTER_READ_HEADER_TIMEOUT", Kind: KindDuration, value: func(c Config) any { return c.ReadHeaderTimeout }},
	{Name: "read_timeout", Env: "ROSTER_READ_TIMEOUT", Kind: KindDuration, value: func(c Config) any { return c.ReadTimeout }},
	{Name: "write_timeout", Env: "ROSTER_WRITE_TIMEOUT", Kind: KindDuration, value: func(c Config) any { return c.WriteTimeout }},
	{Name: "idle_timeout", Env: "ROSTER_IDLE_TIMEOUT", Kind: KindDuration, value: func(c Config) any { return c.IdleTimeout }},
	{Name: "max_header_bytes", Env: "ROSTER_MAX_HEADER_BYTES", Kind: KindInt, value: func(c Config) any { return int64(c.MaxHeaderBytes) }},
}

// EnvConfigFile names the configuration file when --config is not given.
const EnvConfigFile = "ROSTER_CONFIG"

// KeyByFlag returns the key a flag ("db" or "--db") sets, or nil.
func KeyByFlag(flag string) *Key {
	flag = "--" + strings.TrimLeft(flag, "-")
	for i := range Keys {
		if Keys[i].Flag == flag {
			return &Keys[i]
		}
	}
	return nil
}

func keyByName(name string) *Key {
	for i := range Keys {
		if Keys[i].Name == name {
			return &Keys[i]
		}
	}
	return nil
}

// Sources says where each effective setting came from, by file key.
type Sources map[string]Source

// Load returns the defaults overridden by the configuration file at path
// (none when path is "") and then by the ROSTER_* variables getenv
// returns, and where each setting came from. The file's values go through
// the same parsing as the environment's, so a setting means the same
// whichever way it is given. A key the file does not know, a value of the
// wrong type, or a secret in a file others may read is an error.
func Load(path string, getenv func(string) string) (Config, Sources, error) {
	var file map[string]string // by environment variable
	if path != "" {
		var err error
		if file, err = readFile(path); err != nil {
			return Config{}, nil, err
		}
	}
	src := Sources{}
	for _, k := range Keys {
		switch {
		case getenv(k.Env) != "":
			src[k.Name] = SourceEnv
		case file[k.Env] != "":
			src[k.Name] = SourceFile
		default:
			src[k.Name] = SourceDefault
		}
	}
	c, err := FromEnv(func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return file[name]
	})
	if err != nil {
		return Config{}, nil, err
	}
	return c, src, nil
}

// readFile reads a TOML configuration file into the environment
// variables its keys stand for, each value in the form the variable takes.
func readFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var raw map[string]any
	if _, err := toml.Decode(string(b), &raw); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	out := map[string]string{}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		k := keyByName(name)
		if k == nil {
			errs = append(errs, fmt.Errorf("config file %s: unknown key %q (see docs/OPERATIONS.md#configuration)", path, name))
			continue
		}
		v, err := fileValue(k, raw[name])
		if err != nil {
			errs = append(errs, fmt.Errorf("config file %s: key %s: %w", path, name, err))
			continue
		}
		// Each value parsed alone, so that its error names the key it
		// came from rather than the variable it stands for.
		if _, err := FromEnv(func(n string) string {
			if n == k.Env {
				return v
			}
			return ""
		}); err != nil {
			errs = append(errs, fmt.Errorf("config file %s: key %s: %s", path, name, strings.TrimPrefix(err.Error(), k.Env+": ")))
			continue
		}
		out[k.Env] = v
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := checkFileMode(path, out); err != nil {
		return nil, err
	}
	return out, nil
}

// onOff is a KindOnOff setting's value, printed "on" or "off".
type onOff bool

// fileValue turns a TOML value into the string the key's variable takes.
func fileValue(k *Key, v any) (string, error) {
	switch k.Kind {
	case KindInt:
		n, ok := v.(int64)
		if !ok {
			return "", fmt.Errorf("want an integer, got %s", tomlType(v))
		}
		return strconv.FormatInt(n, 10), nil
	case KindList:
		switch v := v.(type) {
		case string:
			return v, nil
		case []any:
			parts := make([]string, len(v))
			for i, e := range v {
				s, ok := e.(string)
				if !ok || strings.Contains(s, ",") {
					return "", fmt.Errorf("want an array of strings without commas, got an element %s", tomlType(e))
				}
				parts[i] = s
			}
			return strings.Join(parts, ","), nil
		}
		return "", fmt.Errorf("want an array of strings, got %s", tomlType(v))
	case KindOnOff:
		switch v := v.(type) {
		case bool:
			if v {
				return "on", nil
			}
			return "off", nil
		case string:
			return v, nil
		}
		return "", fmt.Errorf(`want "on" or "off", got %s`, tomlType(v))
	case KindBool:
		b, ok := v.(bool)
		if !ok {
			return "", fmt.Errorf("want true or false, got %s", tomlType(v))
		}
		return strconv.FormatBool(b), nil
	default: // KindString, KindDuration
		s, ok := v.(string)
		if !ok {
			if k.Kind == KindDuration {
				return "", fmt.Errorf(`want a duration string such as "30s", got %s`, tomlType(v))
			}
			return "", fmt.Errorf("want a string, got %s", tomlType(v))
		}
		return s, nil
	}
}

func tomlType(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case int64:
		return "integer " + strconv.FormatInt(v, 10)
	case float64:
		return "float"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "table"
	}
	return fmt.Sprintf("%T", v)
}

// checkFileMode refuses a configuration file that holds a secret (the
// encryption key, a database password) and that its group or others may
// read, as the key file is refused (secret.LoadOrCreateKeyFile).
func checkFileMode(path string, values map[string]string) error {
	var secrets []string
	if values["ROSTER_ENCRYPTION_KEY"] != "" {
		secrets = append(secrets, "encryption_key")
	}
	if hasPassword(values["ROSTER_DB"]) {
		secrets = append(secrets, "a password in db")
	}
	if hasPassword(values["ROSTER_DB_READ"]) {
		secrets = append(secrets, "a password in db_read")
	}
	if len(secrets) == 0 {
		return nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("config file %s holds %s and has mode %v: want 0600 (chmod 600 %s), or set the secret through the environment", path, strings.Join(secrets, " and "), info.Mode().Perm(), path)
	}
	return nil
}

// hasPassword reports whether a database URL carries a password, in its
// user information or as a password parameter.
func hasPassword(db string) bool {
	u, err := url.Parse(db)
	if err != nil {
		return strings.Contains(db, "@") // unparsable: assume the worst
	}
	if _, ok := u.User.Password(); ok && u.User != nil {
		return true
	}
	return u.Query().Get("password") != ""
}

// RedactDB hides the password of a database URL, in its user information
// and in a password parameter.
func RedactDB(db string) string {
	u, err := url.Parse(db)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return redactURL(db)
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// redacted is what a secret prints as.
const redacted = "<redacted>"

// TOML writes c as a configuration file, with secrets redacted and each
// line's source as a comment: the output of `roster config print`.
// Without its redacted secrets it loads back to the same configuration.
func (c Config) TOML(src Sources) string {
	var b strings.Builder
	b.WriteString("# Roster's effective configuration. Precedence: flag > environment > file > default.\n")
	b.WriteString("# Secrets are redacted. Reference: docs/OPERATIONS.md#configuration\n")
	width := 0
	lines := make([][2]string, len(Keys))
	for i, k := range Keys {
		v := k.value(c)
		switch {
		case k.Secret && v != "":
			v = redacted
		case k.Name == "db" || k.Name == "db_read":
			v = RedactDB(v.(string))
		case k.Name == "key_file" && v == "" && IsSQLite(c.DB) && c.EncryptionKey == "":
			v = c.KeyFilePath() // the effective one
		}
		lines[i][0] = k.Name + " = " + tomlValue(v)
		width = max(width, len(lines[i][0]))
		s := src[k.Name]
		if s == "" {
			s = SourceDefault
		}
		set := k.Env
		if k.Flag != "" {
			set = k.Flag + ", " + k.Env
		}
		lines[i][1] = "# from " + string(s) + " (" + set + ")"
	}
	for _, l := range lines {
		fmt.Fprintf(&b, "%-*s  %s\n", width, l[0], l[1])
	}
	return b.String()
}

// tomlValue writes one value in TOML.
func tomlValue(v any) string {
	switch v := v.(type) {
	case string:
		return tomlString(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case time.Duration:
		// "15m", not time.Duration's "15m0s".
		d := v.String()
		if strings.HasSuffix(d, "m0s") {
			d = strings.TrimSuffix(d, "0s")
		}
		if strings.HasSuffix(d, "h0m") {
			d = strings.TrimSuffix(d, "0m")
		}
		return tomlString(d)
	case onOff:
		if v {
			return `"on"`
		}
		return `"off"`
	case bool:
		return strconv.FormatBool(v)
	case []string:
		q := make([]string, len(v))
		for i, s := range v {
			q[i] = tomlString(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return tomlString(fmt.Sprint(v))
}

// tomlString writes s as a TOML basic string: quotes, backslashes and
// control characters escaped, everything else as is.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
