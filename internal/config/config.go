// Package config is Roster's typed configuration: defaults, environment
// variables and command-line flags, validation, and a String that redacts
// secrets.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/secret"
)

// Config is everything `roster serve` and the admin commands need.
type Config struct {
	// DB is "sqlite:PATH" or a postgres:// URL (ROSTER_DB).
	DB string
	// DBRead is an optional postgres:// URL of a streaming replica of DB
	// that serves user lists and searches once it has caught up
	// (ROSTER_DB_READ; docs/SCALING.md#read-replicas).
	DBRead string
	// Listen is the HTTP address (ROSTER_LISTEN).
	Listen string
	// EncryptionKey is the SSN key specification (ROSTER_ENCRYPTION_KEY):
	// "BASE64" or "ID:BASE64[,ID:BASE64...]", current key first.
	EncryptionKey string
	// KeyFile is where the SQLite default keeps a generated key when
	// EncryptionKey is empty (ROSTER_KEY_FILE; default: the database path
	// plus ".key").
	KeyFile string
	// MaxBody caps request bodies in bytes (ROSTER_MAX_BODY).
	MaxBody int64
	// EntrustTokenTTL is how long an Entrust admin-API token lives
	// (ROSTER_ENTRUST_TOKEN_TTL).
	EntrustTokenTTL time.Duration
	// ShutdownGrace is how long a stopping server waits for in-flight
	// requests (ROSTER_SHUTDOWN_GRACE).
	ShutdownGrace time.Duration
	// LogLevel is debug, info, warn or error (ROSTER_LOG_LEVEL).
	LogLevel string
	// PublicURL is the origin clients reach Roster at, for absolute links
	// in bodies (Truv next/previous, SCIM meta.location) behind a proxy
	// (ROSTER_PUBLIC_URL); empty: taken from each request.
	PublicURL string
	// RateLimit is the requests a minute one credential may make (unless
	// it has its own limit), shared by every instance on PostgreSQL; 0
	// disables it (ROSTER_RATE_LIMIT).
	RateLimit int
	// TrustedProxies are the proxies (addresses or CIDR prefixes) whose
	// X-Forwarded-For header names the caller's address, for throttling
	// failed authentications (ROSTER_TRUSTED_PROXIES, comma-separated);
	// empty: the TCP peer is the caller.
	TrustedProxies []netip.Prefix
	// AuthThrottleOff turns off the throttling of failed authentications
	// (ROSTER_AUTH_THROTTLE=off), for a deployment that does it in front
	// of Roster; default on.
	AuthThrottleOff bool
	// CORSOrigins are the origins browser front ends may call Roster from,
	// each "scheme://host[:port]", or "*" for any (ROSTER_CORS_ORIGINS,
	// comma-separated); empty: none, and no CORS headers are sent.
	CORSOrigins []string
	// TLSCert and TLSKey are PEM files (ROSTER_TLS_CERT, ROSTER_TLS_KEY;
	// --tls-cert, --tls-key): when both are set, serve speaks HTTPS only
	// (HTTP/1.1 and HTTP/2) and sends Strict-Transport-Security.
	TLSCert string
	TLSKey  string
	// ReadHeaderTimeout bounds reading a request's headers; it is what
	// cuts off a slowloris client (ROSTER_READ_HEADER_TIMEOUT).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included
	// (ROSTER_READ_TIMEOUT).
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the
	// end of the response (ROSTER_WRITE_TIMEOUT).
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long
	// (ROSTER_IDLE_TIMEOUT).
	IdleTimeout time.Duration
	// MaxHeaderBytes caps the request line and headers; more is answered
	// 431 (ROSTER_MAX_HEADER_BYTES).
	MaxHeaderBytes int
	// CredentialCacheTTL is how long a verified credential is remembered
	// in memory, so a client's next requests skip its lookup; a
	// revocation made on another instance (or by the CLI) takes effect
	// within it (ROSTER_CREDENTIAL_CACHE_TTL; 0 turns the cache off).
	CredentialCacheTTL time.Duration
	// AllowPrivateWebhooks lets webhooks reach loopback, private,
	// link-local and cloud metadata addresses
	// (ROSTER_ALLOW_PRIVATE_WEBHOOKS, --allow-private-webhooks; default
	// false: public addresses only, docs/WEBHOOKS.md).
	AllowPrivateWebhooks bool
}

// Default returns the built-in defaults: embedded SQLite in the working
// directory, loopback only.
func Default() Config {
	return Config{
		DB:              "sqlite:roster.db",
		Listen:          "127.0.0.1:8080",
		MaxBody:         1 << 20,
		EntrustTokenTTL: 15 * time.Minute,
		ShutdownGrace:   20 * time.Second,
		LogLevel:        "info",
		RateLimit:       6000,
		// A header block arrives in one or two packets; 10 s is generous
		// for a slow mobile link and short enough to shed slowloris.
		ReadHeaderTimeout: 10 * time.Second,
		// A 1 MiB body (MaxBody) over a slow link fits in 30 s.
		ReadTimeout: 30 * time.Second,
		// The slowest answer is a large list or export page; 60 s.
		WriteTimeout:   60 * time.Second,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		// Short enough that a revocation elsewhere is effective within
		// seconds, long enough that a busy client reads its credential a
		// few times a minute instead of on every request.
		CredentialCacheTTL: 5 * time.Second,
	}
}

// FromEnv returns Default overridden by the ROSTER_* variables getenv
// returns.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Default()
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	str("ROSTER_DB", &c.DB)
	str("ROSTER_DB_READ", &c.DBRead)
	str("ROSTER_LISTEN", &c.Listen)
	str("ROSTER_ENCRYPTION_KEY", &c.EncryptionKey)
	str("ROSTER_KEY_FILE", &c.KeyFile)
	str("ROSTER_LOG_LEVEL", &c.LogLevel)
	str("ROSTER_PUBLIC_URL", &c.PublicURL)
	str("ROSTER_TLS_CERT", &c.TLSCert)
	str("ROSTER_TLS_KEY", &c.TLSKey)
	var errs []error
	if v := getenv("ROSTER_MAX_BODY"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("ROSTER_MAX_BODY: %w", err))
		}
		c.MaxBody = n
	}
	if v := getenv("ROSTER_RATE_LIMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("ROSTER_RATE_LIMIT: %w", err))
		}
		c.RateLimit = n
	}
	if v := getenv("ROSTER_MAX_HEADER_BYTES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("ROSTER_MAX_HEADER_BYTES: %w", err))
		}
		c.MaxHeaderBytes = n
	}
	dur := func(name string, dst *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			*dst = d
		}
	}
	if v := getenv("ROSTER_CORS_ORIGINS"); v != "" {
		c.CORSOrigins = splitList(v)
	}
	for _, f := range splitList(getenv("ROSTER_TRUSTED_PROXIES")) {
		p, err := parsePrefix(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("ROSTER_TRUSTED_PROXIES: %w", err))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	switch v := getenv("ROSTER_AUTH_THROTTLE"); v {
	case "", "on":
	case "off":
		c.AuthThrottleOff = true
	default:
		errs = append(errs, fmt.Errorf("ROSTER_AUTH_THROTTLE: %q: want on or off", v))
	}
	dur("ROSTER_ENTRUST_TOKEN_TTL", &c.EntrustTokenTTL)
	dur("ROSTER_SHUTDOWN_GRACE", &c.ShutdownGrace)
	dur("ROSTER_READ_HEADER_TIMEOUT", &c.ReadHeaderTimeout)
	dur("ROSTER_READ_TIMEOUT", &c.ReadTimeout)
	dur("ROSTER_WRITE_TIMEOUT", &c.WriteTimeout)
	dur("ROSTER_IDLE_TIMEOUT", &c.IdleTimeout)
	dur("ROSTER_CREDENTIAL_CACHE_TTL", &c.CredentialCacheTTL)
	if v := getenv("ROSTER_ALLOW_PRIVATE_WEBHOOKS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("ROSTER_ALLOW_PRIVATE_WEBHOOKS=%q: want true or false", v))
		}
		c.AllowPrivateWebhooks = b
	}
	return c, errors.Join(errs...)
}

// Validate reports every invalid setting at once.
func (c Config) Validate() error {
	var errs []error
	if !IsSQLite(c.DB) && !IsPostgres(c.DB) {
		errs = append(errs, fmt.Errorf("db %q: want sqlite:PATH or a postgres:// URL", redactURL(c.DB)))
	}
	if c.DBRead != "" && (!IsPostgres(c.DB) || !IsPostgres(c.DBRead)) {
		errs = append(errs, fmt.Errorf("db read %q: a read replica needs a postgres:// URL, and a PostgreSQL database", redactURL(c.DBRead)))
	}
	if IsPostgres(c.DB) && c.EncryptionKey == "" {
		errs = append(errs, errors.New("ROSTER_ENCRYPTION_KEY must be set with PostgreSQL: every instance needs the same key, so none can be generated locally"))
	}
	if c.MaxBody < 1024 || c.MaxBody > 64<<20 {
		errs = append(errs, fmt.Errorf("max body %d: want 1 KiB to 64 MiB", c.MaxBody))
	}
	if c.EntrustTokenTTL < time.Minute || c.EntrustTokenTTL > 24*time.Hour {
		errs = append(errs, fmt.Errorf("entrust token ttl %v: want 1m to 24h", c.EntrustTokenTTL))
	}
	if c.CredentialCacheTTL < 0 || c.CredentialCacheTTL > time.Minute {
		errs = append(errs, fmt.Errorf("credential cache ttl %v: want 0 (off) to 1m", c.CredentialCacheTTL))
	}
	if c.ShutdownGrace < 0 {
		errs = append(errs, fmt.Errorf("shutdown grace %v: must not be negative", c.ShutdownGrace))
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("public url %q: want an absolute http(s) URL such as https://roster.example.com", c.PublicURL))
		}
	}
	if c.RateLimit < 0 {
		errs = append(errs, fmt.Errorf("rate limit %d: must not be negative (0 disables it)", c.RateLimit))
	}
	for _, o := range c.CORSOrigins {
		if err := checkOrigin(o); err != nil {
			errs = append(errs, err)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls: set both the certificate and the key (--tls-cert, --tls-key), or neither"))
	}
	// Zero would mean "no limit" to net/http: the very slowloris exposure
	// the timeouts exist to close, so it is refused rather than allowed.
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"read header timeout", c.ReadHeaderTimeout}, {"read timeout", c.ReadTimeout},
		{"write timeout", c.WriteTimeout}, {"idle timeout", c.IdleTimeout}} {
		if d.v < 100*time.Millisecond || d.v > time.Hour {
			errs = append(errs, fmt.Errorf("%s %v: want 100ms to 1h", d.name, d.v))
		}
	}
	if c.ReadHeaderTimeout > c.ReadTimeout && c.ReadTimeout > 0 {
		errs = append(errs, fmt.Errorf("read header timeout %v: must not exceed the read timeout %v", c.ReadHeaderTimeout, c.ReadTimeout))
	}
	if c.MaxHeaderBytes < 4<<10 || c.MaxHeaderBytes > 1<<20 {
		errs = append(errs, fmt.Errorf("max header bytes %d: want 4 KiB to 1 MiB", c.MaxHeaderBytes))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}

// splitList splits a comma-separated setting, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// checkOrigin reports whether o is "*" or a web origin as browsers send it
// in the Origin header: http(s)://host[:port] with no path, query or
// fragment.
func checkOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.Contains(u.Host, "*") {
		return fmt.Errorf("cors origin %q: want * or an origin such as https://app.example.com (scheme, host, optional port; no path)", o)
	}
	return nil
}

// IsSQLite reports whether db names an SQLite database.
func IsSQLite(db string) bool {
	return strings.HasPrefix(db, "sqlite:") || strings.HasPrefix(db, "file:")
}

// IsPostgres reports whether db is a PostgreSQL URL.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// SQLitePath returns the file path of an SQLite db setting.
func SQLitePath(db string) string {
	p := strings.TrimPrefix(strings.TrimPrefix(db, "sqlite:"), "file:")
	p = strings.TrimPrefix(p, "//")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

// KeyFilePath is the SQLite key file in use: KeyFile, or the database
// path + ".key".
func (c Config) KeyFilePath() string {
	if c.KeyFile != "" {
		return c.KeyFile
	}
	return SQLitePath(c.DB) + ".key"
}

// Keyring returns the SSN keyring: from EncryptionKey when set, else (SQLite
// only) from the key file beside the database, created on first use.
// created reports a new key file, which the caller should announce.
func (c Config) Keyring() (kr *secret.Keyring, keyFile string, created bool, err error) {
	if c.EncryptionKey != "" {
		kr, err = secret.ParseKeyring(c.EncryptionKey)
		if err != nil {
			return nil, "", false, fmt.Errorf("ROSTER_ENCRYPTION_KEY: %w", err)
		}
		return kr, "", false, nil
	}
	if !IsSQLite(c.DB) {
		return nil, "", false, errors.New("ROSTER_ENCRYPTION_KEY must be set with PostgreSQL")
	}
	path := c.KeyFilePath()
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, "", false, fmt.Errorf("key directory: %w", err)
		}
	}
	kr, created, err = secret.LoadOrCreateKeyFile(path)
	return kr, path, created, err
}

// String prints the configuration with secrets redacted, for logs.
func (c Config) String() string {
	key := "(unset)"
	if c.EncryptionKey != "" {
		key = "<redacted>"
	}
	return fmt.Sprintf("db=%s listen=%s encryption_key=%s key_file=%q max_body=%d entrust_token_ttl=%v shutdown_grace=%v log_level=%s rate_limit=%d public_url=%q cors_origins=%q tls=%v read_header_timeout=%v read_timeout=%v write_timeout=%v idle_timeout=%v max_header_bytes=%d",
		redactURL(c.DB), c.Listen, key, c.KeyFile, c.MaxBody, c.EntrustTokenTTL, c.ShutdownGrace, c.LogLevel, c.RateLimit, c.PublicURL,
		strings.Join(c.CORSOrigins, ","), c.TLSCert != "", c.ReadHeaderTimeout, c.ReadTimeout, c.WriteTimeout, c.IdleTimeout, c.MaxHeaderBytes)
}

// redactURL hides a password in a database URL.
func redactURL(u string) string {
	at := strings.LastIndexByte(u, '@')
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	creds := u[scheme+3 : at]
	if user, _, ok := strings.Cut(creds, ":"); ok {
		return u[:scheme+3] + user + ":xxxxx" + u[at:]
	}
	return u
}

// parsePrefix reads an address ("10.0.0.1", a prefix of one) or a CIDR
// prefix ("10.0.0.0/8").
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
