// Package bench is `roster bench`: a load generator that measures Roster
// beside its floor in one run. The floor is the same HTTP stack (the
// httpapi server and middleware chain serve uses) with a handler that
// decodes the same request JSON and writes Roster's own response to it,
// re-encoded per request, without touching a store. Floor and Roster are
// measured interleaved (floor, Roster, floor, Roster), so a machine whose
// load drifts during the run moves both figures alike.
//
// The Roster under test is started in-process on a temporary database
// (SQLite in a temporary directory; or a PostgreSQL database the user
// names, which bench creates if needed and writes into), or is a running
// server reached with --url. Only loopback targets are accepted unless
// AllowRemote is set: a load generator pointed at a production host by a
// typo is an outage.
package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-dev/roster/internal/config"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/server"
	"github.com/roster-dev/roster/internal/store"

	_ "github.com/jackc/pgx/v5/stdlib" // CREATE DATABASE for --db postgres://
)

// Workloads are the workload names Run accepts.
var Workloads = []string{"create", "get", "list", "search", "mixed"}

// Dialects are the dialects the create workload speaks.
var Dialects = []string{"truv", "entrust", "cl2c", "ownli", "scim"}

// defaultReadUsers is how many users the read workloads pre-populate when
// --users is 0: a get or search of an empty tenant measures a 404.
const defaultReadUsers = 1000

// Options configure Run.
type Options struct {
	Workload    string        // one of Workloads
	Dialect     string        // create's dialect, one of Dialects
	Conns       int           // keep-alive connections (concurrent clients)
	Duration    time.Duration // measured time per target, split over Rounds
	Rounds      int           // interleaved rounds per target; 0: 2
	Warmup      time.Duration // unmeasured load on each target first
	Users       int           // users to pre-populate
	DB          string        // in-process database: "" (temporary SQLite), sqlite:PATH or postgres://
	URL         string        // a running server instead of an in-process one
	Tenant      string        // with URL: the tenant (CL2C and Ownli name it)
	ClientID    string        // with URL: the credential
	Secret      string        // with URL
	AllowRemote bool          // accept non-loopback targets
	Pprof       string        // serve net/http/pprof on this loopback address while the bench runs ("": none)
	Progress    bool          // draw a live progress line on Stderr
	Env         func(string) string
	Stderr      io.Writer // progress and notes; nil: discarded
}

// Stats are one target's figures over all its rounds.
type Stats struct {
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"requests_per_second"`
	P50ms     float64 `json:"p50_ms"`
	P90ms     float64 `json:"p90_ms"`
	P99ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	// CPUmsPerRequest is the bench process's CPU (user + system, from
	// getrusage) per request while this target ran: the server and the
	// load generator share the process, so it is an upper bound on the
	// server's; -1 with --url (the server is another process).
	CPUmsPerRequest float64 `json:"cpu_ms_per_request"`
	FirstError      string  `json:"first_error,omitempty"`
}

// Report is everything one run measured.
type Report struct {
	Workload     string  `json:"workload"`
	Dialect      string  `json:"dialect,omitempty"`
	Target       string  `json:"target"` // "in-process sqlite", "in-process postgres", or the URL
	Conns        int     `json:"conns"`
	Rounds       int     `json:"rounds"`
	RoundSeconds float64 `json:"round_seconds"`
	WarmupSecs   float64 `json:"warmup_seconds"`
	RateLimitOff bool    `json:"rate_limit_off"`
	Users        int     `json:"prepopulated_users"`
	UsersSeconds float64 `json:"prepopulate_seconds"`
	UsersPerSec  float64 `json:"prepopulate_users_per_second"`
	UsersVia     string  `json:"prepopulate_via,omitempty"`
	Roster       Stats   `json:"roster"`
	Floor        Stats   `json:"floor"`
	Ratio        float64 `json:"ratio"` // Roster's requests/s over the floor's
	GOMAXPROCS   int     `json:"gomaxprocs"`
	Started      string  `json:"started"`
	// After the run, in-process only: the users stored (every tenant),
	// the SQLite files' size (database and WAL) and per user, and this
	// process's resident memory, now and at its peak (server, floor and
	// load generator together; /proc/self/status, Linux).
	StoredUsers  int64   `json:"stored_users,omitempty"`
	DBBytes      int64   `json:"db_bytes,omitempty"`
	BytesPerUser float64 `json:"db_bytes_per_user,omitempty"`
	RSSMiB       float64 `json:"rss_mib,omitempty"`
	PeakRSSMiB   float64 `json:"peak_rss_mib,omitempty"`
}

func (o *Options) defaults() error {
	if o.Workload == "" {
		o.Workload = "create"
	}
	if o.Dialect == "" {
		o.Dialect = "truv"
	}
	if !slices.Contains(Workloads, o.Workload) {
		return fmt.Errorf("unknown workload %q: want one of %s", o.Workload, strings.Join(Workloads, ", "))
	}
	if !slices.Contains(Dialects, o.Dialect) {
		return fmt.Errorf("unknown dialect %q: want one of %s", o.Dialect, strings.Join(Dialects, ", "))
	}
	if o.Workload != "create" && o.Dialect != "truv" {
		return fmt.Errorf("--dialect applies to the create workload only (get, list and mixed speak Truv, search SCIM)")
	}
	if o.Conns <= 0 {
		o.Conns = 64
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Rounds <= 0 {
		o.Rounds = 2
	}
	if o.Users < 0 {
		return errors.New("--users must not be negative")
	}
	if o.Workload != "create" && o.Users == 0 {
		o.Users = defaultReadUsers
	}
	if o.Env == nil {
		o.Env = os.Getenv
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.URL != "" && o.DB != "" {
		return errors.New("--url and --db exclude each other: --db is the in-process server's database")
	}
	if o.URL != "" && (o.ClientID == "" || o.Secret == "" || o.Tenant == "") {
		return errors.New("--url needs --tenant, --client-id and --secret of a credential on that server")
	}
	return nil
}

// CheckLoopback refuses a host that does not resolve only to loopback
// addresses. A literal address is checked as is; a name is resolved (a
// name that does not resolve is refused too).
func CheckLoopback(ctx context.Context, host string) error {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return errors.New("no host")
	}
	var addrs []net.IP
	if ip := net.ParseIP(host); ip != nil {
		addrs = []net.IP{ip}
	} else {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		ips, err := net.DefaultResolver.LookupIP(ctx, "ip", host)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", host, err)
		}
		addrs = ips
	}
	if len(addrs) == 0 {
		return fmt.Errorf("%s resolves to no address", host)
	}
	for _, ip := range addrs {
		if !ip.IsLoopback() {
			return fmt.Errorf("%s resolves to %s, which is not a loopback address (--allow-remote to bench it anyway)", host, ip)
		}
	}
	return nil
}

// target is what the workload talks to: a base URL and its credential.
type target struct {
	base            string
	tenant, id, sec string
	entrustToken    string
	svc             *directory.Service // nil with --url
	principal       directory.Principal
	close           func()
	label           string
	serverOpts      httpapi.ServerOptions
	serverLog       *slog.Logger
	maxBody         int64
	usersVia        string
	truvIDs         []string     // pre-populated users, Truv's id form
	usernames       []string     // their usernames
	sqlitePath      string       // the in-process SQLite database file; "" otherwise
	st              *store.Store // the in-process server's store; nil with --url
}

// Run runs one benchmark and returns its report. ctx cancels it.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	rep := &Report{Workload: o.Workload, Conns: o.Conns, Rounds: o.Rounds,
		RoundSeconds: (o.Duration / time.Duration(o.Rounds)).Seconds(), WarmupSecs: o.Warmup.Seconds(),
		GOMAXPROCS: runtimeProcs(), Started: time.Now().UTC().Format(time.RFC3339)}
	if o.Workload == "create" {
		rep.Dialect = o.Dialect
	}
	if o.Pprof != "" {
		// The whole process: in-process server, floor and load generator.
		pp, err := httpapi.StartPprof(o.Pprof, slog.New(slog.NewTextHandler(o.Stderr, nil)))
		if err != nil {
			return nil, err
		}
		defer pp.Close()
		fmt.Fprintf(o.Stderr, "pprof: http://%s/debug/pprof/ (this process: server, floor and load generator)\n", pp.Addr())
	}
	var t *target
	var err error
	if o.URL != "" {
		t, err = remoteTarget(ctx, o)
	} else {
		t, err = startInProcess(ctx, o)
		rep.RateLimitOff = true
	}
	if err != nil {
		return nil, err
	}
	defer t.close()
	rep.Target = t.label
	run := newRunID()
	if o.Users > 0 {
		start := time.Now()
		if err := t.populate(ctx, o.Users, o.Conns, run); err != nil {
			return nil, err
		}
		rep.Users = o.Users
		rep.UsersSeconds = time.Since(start).Seconds()
		rep.UsersPerSec = float64(o.Users) / max(rep.UsersSeconds, 1e-9)
		rep.UsersVia = t.usersVia
		fmt.Fprintf(o.Stderr, "pre-populated %d users in %.2fs (%.0f users/s via %s)\n", o.Users, rep.UsersSeconds, rep.UsersPerSec, t.usersVia)
	}
	if o.Workload == "create" && o.Dialect == "entrust" {
		if err := t.entrustLogin(ctx); err != nil {
			return nil, err
		}
	}
	gen := t.generator(o, run)
	client := newClient(o.Conns)
	defer client.CloseIdleConnections()
	kinds := 1
	if o.Workload == "mixed" {
		kinds = 2 // a create and a get
	}
	samples, err := t.samples(ctx, client, gen, kinds)
	if err != nil {
		return nil, err
	}
	floor, err := startFloor(t, samples)
	if err != nil {
		return nil, err
	}
	defer floor.close()
	floorClient := newClient(o.Conns)
	defer floorClient.CloseIdleConnections()

	inProcess := t.svc != nil
	prog := &progressLine{w: o.Stderr, on: o.Progress}
	if o.Warmup > 0 {
		prog.phase = "warm-up floor"
		runPhase(ctx, floorClient, floor.base, gen, o.Conns, o.Warmup, prog)
		prog.phase = "warm-up roster"
		runPhase(ctx, client, t.base, gen, o.Conns, o.Warmup, prog)
	}
	var rosterRes, floorRes []phaseResult
	round := o.Duration / time.Duration(o.Rounds)
	for i := range o.Rounds {
		prog.phase = fmt.Sprintf("floor %d/%d", i+1, o.Rounds)
		floorRes = append(floorRes, runPhase(ctx, floorClient, floor.base, gen, o.Conns, round, prog))
		prog.phase = fmt.Sprintf("roster %d/%d", i+1, o.Rounds)
		rosterRes = append(rosterRes, runPhase(ctx, client, t.base, gen, o.Conns, round, prog))
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	prog.clear()
	rep.Roster = summarize(rosterRes, inProcess)
	rep.Floor = summarize(floorRes, true) // the floor always runs in this process
	if rep.Floor.PerSecond > 0 {
		rep.Ratio = rep.Roster.PerSecond / rep.Floor.PerSecond
	}
	if t.st != nil {
		measureStorage(ctx, t, rep)
	}
	return rep, nil
}

// measureStorage fills the report's after-run figures: users stored, the
// SQLite files' size, the process's resident memory. A figure that cannot
// be read stays zero (omitted).
func measureStorage(ctx context.Context, t *target, rep *Report) {
	if counts, err := t.st.CountUsersByTenant(ctx); err == nil {
		for _, n := range counts {
			rep.StoredUsers += n
		}
	}
	if t.sqlitePath != "" {
		for _, p := range []string{t.sqlitePath, t.sqlitePath + "-wal"} {
			if fi, err := os.Stat(p); err == nil {
				rep.DBBytes += fi.Size()
			}
		}
		if rep.StoredUsers > 0 {
			rep.BytesPerUser = float64(rep.DBBytes) / float64(rep.StoredUsers)
		}
	}
	rep.RSSMiB, rep.PeakRSSMiB = residentMiB()
}

// residentMiB reads VmRSS and VmHWM (peak) from /proc/self/status; zeros
// where there is no such file.
func residentMiB() (now, peak float64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		var kb float64
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb); err == nil {
				now = kb / 1024
			}
		} else if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb); err == nil {
				peak = kb / 1024
			}
		}
	}
	return now, peak
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// newRunID is a short random tag that keeps this run's usernames, e-mail
// addresses and phone numbers apart from an earlier run's on one server.
func newRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newClient(conns int) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
		IdleConnTimeout: 90 * time.Second, DisableCompression: true,
	}}
}

// startInProcess opens the database, creates a tenant and a credential and
// serves Roster on a loopback port, as serve would but with the rate limit
// off.
func startInProcess(ctx context.Context, o Options) (*target, error) {
	cfg, err := config.FromEnv(o.Env)
	if err != nil {
		return nil, err
	}
	// Bench measures the server, not a request budget: the default 6,000
	// a minute per credential would answer 429 above ~100 requests/s.
	cfg.RateLimit = 0
	fmt.Fprintln(o.Stderr, "rate limit: off for the bench server (ROSTER_RATE_LIMIT=0)")
	cleanup := []func(){}
	closeAll := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	label := "in-process sqlite"
	var sqlitePath string
	switch {
	case o.DB == "" || config.IsSQLite(o.DB) && o.DB == "sqlite:":
		dir, err := os.MkdirTemp("", "roster-bench-")
		if err != nil {
			return nil, fmt.Errorf("temporary directory: %w", err)
		}
		cleanup = append(cleanup, func() { os.RemoveAll(dir) })
		cfg.DB = "sqlite:" + filepath.Join(dir, "bench.db")
		cfg.EncryptionKey, cfg.KeyFile = "", filepath.Join(dir, "bench.db.key")
	case config.IsSQLite(o.DB):
		cfg.DB = o.DB
		label = "in-process " + o.DB
		// As the other commands: a new key beside an existing database
		// would leave its stored SSNs unreadable.
		if _, err := os.Stat(config.SQLitePath(cfg.DB)); err == nil && cfg.EncryptionKey == "" {
			if _, err := os.Stat(cfg.KeyFilePath()); errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("--db %s exists but its SSN key file %s does not: restore it (or set ROSTER_KEY_FILE or ROSTER_ENCRYPTION_KEY), or omit --db for a temporary database", o.DB, cfg.KeyFilePath())
			}
		}
	case config.IsPostgres(o.DB):
		if err := preparePostgres(ctx, o.DB, o.AllowRemote); err != nil {
			return nil, err
		}
		cfg.DB = o.DB
		if cfg.EncryptionKey == "" {
			// The bench writes no SSNs; a throwaway key satisfies the store.
			cfg.EncryptionKey = secret.NewKeySpec()
		}
		label = "in-process postgres"
	default:
		return nil, fmt.Errorf("--db %q: want sqlite:PATH or a postgres:// URL", o.DB)
	}
	if config.IsSQLite(cfg.DB) {
		sqlitePath = config.SQLitePath(cfg.DB)
	}
	kr, _, _, err := cfg.Keyring()
	if err != nil {
		closeAll()
		return nil, err
	}
	st, err := store.Open(ctx, cfg.DB, store.Options{Keyring: kr})
	if err != nil {
		closeAll()
		return nil, err
	}
	cleanup = append(cleanup, func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		closeAll()
		return nil, err
	}
	svc := directory.NewService(st, directory.Options{RateLimit: cfg.RateLimit,
		TrustedProxies: cfg.TrustedProxies, Throttle: directory.ThrottleOptions{Off: cfg.AuthThrottleOff},
		CredentialCacheTTL: cfg.CredentialCacheTTL})
	name := "bench-" + newRunID()
	tn, err := svc.CreateTenant(ctx, name, directory.DefaultUniquePolicy)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("create bench tenant: %w", err)
	}
	cred, sec, err := svc.CreateCredential(ctx, name)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("create bench credential: %w", err)
	}
	// serve logs one JSON line per request; the bench formats the same
	// lines (so their cost is measured) and discards them.
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	h := server.New(svc, server.Options{Logger: logger, MaxBody: cfg.MaxBody, EntrustTokenTTL: cfg.EntrustTokenTTL,
		Ready: st.Ping, PublicURL: cfg.PublicURL, CORSOrigins: cfg.CORSOrigins})
	so := httpapi.ServerOptions{ReadHeaderTimeout: cfg.ReadHeaderTimeout, ReadTimeout: cfg.ReadTimeout,
		WriteTimeout: cfg.WriteTimeout, IdleTimeout: cfg.IdleTimeout, MaxHeaderBytes: cfg.MaxHeaderBytes}
	base, stop, err := listen(h, logger, so)
	if err != nil {
		closeAll()
		return nil, err
	}
	cleanup = append(cleanup, stop)
	return &target{base: base, tenant: name, id: cred.ClientID, sec: sec, svc: svc,
		principal: directory.Principal{TenantID: tn.ID, TenantName: tn.Name, Unique: tn.Unique, ClientID: directory.ActorAdmin},
		close:     closeAll, label: label, serverOpts: so, serverLog: logger, maxBody: cfg.MaxBody,
		sqlitePath: sqlitePath, st: st}, nil
}

// listen serves h through httpapi.NewServer on a loopback port.
func listen(h http.Handler, logger *slog.Logger, so httpapi.ServerOptions) (string, func(), error) {
	srv, err := httpapi.NewServer(h, logger, so)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen: %w", err)
	}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// preparePostgres checks that url names a database of the user's (not the
// server's maintenance database) on a loopback host, and creates it when
// it does not exist.
func preparePostgres(ctx context.Context, raw string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("--db: %w", err)
	}
	if !allowRemote {
		if err := CheckLoopback(ctx, u.Hostname()); err != nil {
			return fmt.Errorf("--db: %w", err)
		}
	}
	name := strings.TrimPrefix(u.Path, "/")
	switch {
	case name == "":
		return errors.New("--db: name the database bench may write into (postgres://host/NAME); bench creates it when missing and leaves it behind")
	case name == "postgres" || strings.HasPrefix(name, "template"):
		return fmt.Errorf("--db: %q is the server's own database: name one for the bench (postgres://host/roster_bench)", name)
	case strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
	}):
		return fmt.Errorf("--db: database name %q: use lower-case letters, digits and _", name)
	}
	admin := *u
	admin.Path = "/postgres"
	db, err := sql.Open("pgx", admin.String())
	if err != nil {
		return fmt.Errorf("connect to create database %s: %w", name, err)
	}
	defer db.Close()
	// The name was checked above to be [a-z0-9_]: safe to interpolate
	// (DDL takes no parameters).
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil && !strings.Contains(err.Error(), "42P04") {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// remoteTarget checks --url and logs in where the dialect needs it.
func remoteTarget(ctx context.Context, o Options) (*target, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q: want http://HOST:PORT", o.URL)
	}
	if !o.AllowRemote {
		if err := CheckLoopback(ctx, u.Hostname()); err != nil {
			return nil, fmt.Errorf("--url: %w", err)
		}
	}
	fmt.Fprintln(o.Stderr, "rate limit: whatever the server at --url has (run it with ROSTER_RATE_LIMIT=0, or give the credential --rate-limit 0)")
	return &target{base: strings.TrimSuffix(u.String(), "/"), tenant: o.Tenant, id: o.ClientID, sec: o.Secret,
		close: func() {}, label: u.String(), serverOpts: httpapi.DefaultServerOptions,
		serverLog: slog.New(slog.NewJSONHandler(io.Discard, nil)), maxBody: 1 << 20}, nil
}

// populate stores n users: through the Service's ImportUser with conns
// workers in process (concurrent writes share SQLite's group commits), or
// SCIM creates over HTTP with --url.
func (t *target) populate(ctx context.Context, n, conns int, run string) error {
	t.truvIDs = make([]string, n)
	t.usernames = make([]string, n)
	if t.svc != nil {
		return t.populateBulk(ctx, n, run)
	}
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	client := newClient(conns)
	defer client.CloseIdleConnections()
	if t.svc != nil {
		t.usersVia = fmt.Sprintf("Service.ImportUser, %d workers", conns)
	} else {
		t.usersVia = fmt.Sprintf("SCIM POST /scim/v2/Users, %d connections", conns)
	}
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				name := fmt.Sprintf("pre-%s-%d", run, i)
				id, err := t.populateOne(ctx, client, name, i, run)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("pre-populate user %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
				t.truvIDs[i] = strings.ReplaceAll(id, "-", "")
				t.usernames[i] = name
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

func (t *target) populateOne(ctx context.Context, client *http.Client, name string, i int, run string) (string, error) {
	email := fmt.Sprintf("%s@pre.example.com", name)
	if t.svc != nil {
		u, _, err := t.svc.ImportUser(ctx, t.principal, &directory.User{Username: name, FirstName: "Pre", LastName: "User",
			Email: email}, directory.Rules{Checks: directory.CheckEmail}, directory.ConflictFail)
		if err != nil {
			return "", err
		}
		return u.ID, nil
	}
	body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"name":{"givenName":"Pre","familyName":"User"},"emails":[{"value":%q,"primary":true}]}`, name, email)
	req, _ := http.NewRequestWithContext(ctx, "POST", t.base+"/scim/v2/Users", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("Authorization", "Bearer "+t.sec)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var v struct {
		ID string `json:"id"`
	}
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return "", fmt.Errorf("SCIM create: %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.ID == "" {
		return "", fmt.Errorf("SCIM create: no id in the answer (%v)", err)
	}
	return v.ID, nil
}

// entrustLogin gets an Entrust admin API token for the create workload.
func (t *target) entrustLogin(ctx context.Context) error {
	body, _ := json.Marshal(map[string]string{"applicationId": t.id, "sharedSecret": t.sec})
	req, _ := http.NewRequestWithContext(ctx, "POST", t.base+"/api/web/v1/adminapi/authenticate", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("entrust authenticate: %w", err)
	}
	defer resp.Body.Close()
	var v struct {
		AuthToken string `json:"authToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK || v.AuthToken == "" {
		return fmt.Errorf("entrust authenticate: status %d (%v)", resp.StatusCode, err)
	}
	t.entrustToken = v.AuthToken
	return nil
}

// request is one request of a workload, built afresh for each send.
type request struct {
	method, path, ctype string
	body                []byte
	header              [][2]string
}

// generator returns the workload's next request; seq is unique per run.
type generator func(seq int64, rng *mrand.Rand) request

func (t *target) generator(o Options, run string) generator {
	create := t.createGen(o.Dialect, run)
	get := func(_ int64, rng *mrand.Rand) request {
		id := t.truvIDs[rng.IntN(len(t.truvIDs))]
		return t.truv("GET", "/v1/users/"+id+"/", nil)
	}
	switch o.Workload {
	case "get":
		return get
	case "list":
		return func(int64, *mrand.Rand) request { return t.truv("GET", "/v1/users/?page_size=100", nil) }
	case "search":
		return func(_ int64, rng *mrand.Rand) request {
			name := t.usernames[rng.IntN(len(t.usernames))]
			q := url.Values{"filter": {fmt.Sprintf("userName eq %q", name)}}
			return request{method: "GET", path: "/scim/v2/Users?" + q.Encode(), header: [][2]string{{"Authorization", "Bearer " + t.sec}}}
		}
	case "mixed":
		return func(seq int64, rng *mrand.Rand) request {
			if rng.IntN(10) == 0 {
				return create(seq, rng)
			}
			return get(seq, rng)
		}
	}
	return create
}

func (t *target) truv(method, path string, body []byte) request {
	r := request{method: method, path: path, body: body,
		header: [][2]string{{"X-Access-Client-Id", t.id}, {"X-Access-Secret", t.sec}}}
	if body != nil {
		r.ctype = "application/json"
	}
	return r
}

// createGen returns unique-user creates in dialect's wire format: every
// request a new e-mail, phone (where the dialect has one) and username.
func (t *target) createGen(dialect, run string) generator {
	return func(seq int64, _ *mrand.Rand) request {
		email := fmt.Sprintf("b%s-%d@example.com", run, seq)
		phone := fmt.Sprintf("+1415%07d", seq%10_000_000)
		user := fmt.Sprintf("b%s-%d", run, seq)
		js := func(v any) []byte { b, _ := json.Marshal(v); return b }
		switch dialect {
		case "entrust":
			return request{method: "POST", path: "/api/web/v3/users", ctype: "application/json",
				body:   js(map[string]any{"userId": user, "firstName": "Bench", "lastName": "User", "email": email}),
				header: [][2]string{{"Authorization", t.entrustToken}}}
		case "cl2c":
			return request{method: "POST", path: "/v1/cl2c/user", ctype: "application/json",
				body:   js(map[string]any{"firstName": "Bench", "lastName": "User", "email": email, "userName": user, "phoneNumber": phone}),
				header: [][2]string{{"tenant", t.tenant}, {"X-API-Key", t.sec}}}
		case "ownli":
			return request{method: "POST", path: "/api/users", ctype: "application/json",
				body:   js(map[string]any{"firstName": "Bench", "lastName": "User", "email": email, "phone": phone, "address": map[string]string{"state": "CA"}}),
				header: [][2]string{{"partnerId", t.tenant}, {"clientId", t.id}, {"clientSecret", t.sec}}}
		case "scim":
			return request{method: "POST", path: "/scim/v2/Users", ctype: "application/scim+json",
				body: js(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": user,
					"name": map[string]string{"givenName": "Bench", "familyName": "User"}, "emails": []map[string]any{{"value": email, "primary": true}}}),
				header: [][2]string{{"Authorization", "Bearer " + t.sec}}}
		}
		return t.truv("POST", "/v1/users/", js(map[string]any{"external_user_id": "e" + user, "first_name": "Bench",
			"last_name": "User", "email": email, "phone": phone}))
	}
}

// sample is Roster's answer to one request of a kind (by method), which
// the floor repeats.
type sample struct {
	status int
	ctype  string
	body   any
}

// samples sends each method of the workload once to Roster and keeps the
// answers. A non-2xx answer ends the run: there is nothing to measure.
func (t *target) samples(ctx context.Context, client *http.Client, gen generator, kinds int) (map[string]sample, error) {
	out := map[string]sample{}
	rng := mrand.New(mrand.NewPCG(1, 2))
	for i := 0; len(out) < kinds && i < 1000; i++ {
		r := gen(seqCounter.Add(1), rng)
		if _, ok := out[r.method]; ok {
			continue
		}
		resp, err := send(ctx, client, t.base, r)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read sample answer: %w", err)
		}
		if resp.StatusCode/100 != 2 {
			return nil, fmt.Errorf("%s %s answered %d: %s", r.method, r.path, resp.StatusCode, truncate(b, 300))
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("%s %s: answer is not JSON: %w", r.method, r.path, err)
		}
		out[r.method] = sample{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: v}
	}
	return out, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// floorHandler is the floor's handler: it decodes a request's JSON body,
// as a dialect would, and writes samples[method] (Roster's own answer to
// such a request) with its status, encoded afresh. It touches no store.
func floorHandler(samples map[string]sample) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := samples[r.Method]
		if !ok {
			_ = httpapi.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method"})
			return
		}
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			var v map[string]any
			if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
				_ = httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "bad json"})
				return
			}
		}
		_ = httpapi.WriteJSONAs(w, s.status, s.ctype, s.body)
	})
}

type floorServer struct {
	base  string
	close func()
}

// startFloor serves floorHandler behind the middleware chain server.New
// puts around the dialects (request id, security headers, access log to
// the same discarding JSON logger, metrics, path cleaning, body limit) and
// the same http.Server settings.
func startFloor(t *target, samples map[string]sample) (*floorServer, error) {
	mux := http.NewServeMux()
	mux.Handle("/", floorHandler(samples))
	h := httpapi.MiddlewareWith(mux, httpapi.MiddlewareOptions{Logger: t.serverLog, MaxBody: t.maxBody, Metrics: httpapi.NewMetrics()})
	base, stop, err := listen(h, t.serverLog, t.serverOpts)
	if err != nil {
		return nil, err
	}
	return &floorServer{base: base, close: stop}, nil
}

func send(ctx context.Context, client *http.Client, base string, r request) (*http.Response, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, base+r.path, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	for _, h := range r.header {
		req.Header.Set(h[0], h[1])
	}
	return client.Do(req)
}

// phaseResult is one round against one target.
type phaseResult struct {
	lat      []time.Duration
	errors   int64
	firstErr string
	elapsed  time.Duration
	cpu      time.Duration
}

var seqCounter atomic.Int64

// runPhase drives conns concurrent clients against base for d. A client
// starts no request after d; requests in flight finish and are counted.
func runPhase(ctx context.Context, client *http.Client, base string, gen generator, conns int, d time.Duration, prog *progressLine) phaseResult {
	var wg sync.WaitGroup
	lats := make([][]time.Duration, conns)
	var errs, done atomic.Int64
	var firstErr atomic.Value
	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(d)
	stopProg := prog.start(start, d, &done)
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for time.Now().Before(deadline) && ctx.Err() == nil {
				r := gen(seqCounter.Add(1), rng)
				t0 := time.Now()
				resp, err := send(ctx, client, base, r)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode/100 != 2 {
						err = fmt.Errorf("%s %s: status %d", r.method, strings.SplitN(r.path, "?", 2)[0], resp.StatusCode)
					}
				}
				lats[w] = append(lats[w], time.Since(t0))
				done.Add(1)
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	stopProg()
	res := phaseResult{elapsed: time.Since(start), cpu: processCPU() - cpu0, errors: errs.Load()}
	if s, ok := firstErr.Load().(string); ok {
		res.firstErr = s
	}
	for _, l := range lats {
		res.lat = append(res.lat, l...)
	}
	return res
}

func summarize(rs []phaseResult, cpuKnown bool) Stats {
	var s Stats
	var all []time.Duration
	var elapsed, cpu time.Duration
	for _, r := range rs {
		all = append(all, r.lat...)
		s.Errors += r.errors
		elapsed += r.elapsed
		cpu += r.cpu
		if s.FirstError == "" {
			s.FirstError = r.firstErr
		}
	}
	s.Requests = int64(len(all))
	s.Seconds = elapsed.Seconds()
	if s.Seconds > 0 {
		s.PerSecond = float64(s.Requests) / s.Seconds
	}
	slices.Sort(all)
	ms := func(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return ms(all[min(len(all)-1, int(math.Ceil(p*float64(len(all))))-1)])
	}
	s.P50ms, s.P90ms, s.P99ms = pct(0.50), pct(0.90), pct(0.99)
	if len(all) > 0 {
		s.MaxMs = ms(all[len(all)-1])
	}
	s.CPUmsPerRequest = -1
	if cpuKnown && cpuMeasured && s.Requests > 0 {
		s.CPUmsPerRequest = float64(cpu.Microseconds()) / 1000 / float64(s.Requests)
	}
	return s
}

// progressLine redraws one status line on a terminal, five times a second.
type progressLine struct {
	w     io.Writer
	on    bool
	phase string
	drawn bool
}

func (p *progressLine) start(start time.Time, d time.Duration, done *atomic.Int64) func() {
	if !p.on {
		return func() {}
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tk := time.NewTicker(200 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				el := time.Since(start)
				fmt.Fprintf(p.w, "\r\033[Kbench: %s  %4.1fs/%.1fs  %d requests  %.0f/s", p.phase, el.Seconds(), d.Seconds(), done.Load(), float64(done.Load())/el.Seconds())
				p.drawn = true
			}
		}
	}()
	return func() { close(stop); <-finished }
}

func (p *progressLine) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// WriteText prints r for a person.
func WriteText(w io.Writer, r *Report) {
	what := r.Workload
	if r.Dialect != "" {
		what += " (" + r.Dialect + ")"
	}
	fmt.Fprintf(w, "roster bench: workload %s, %d connections, %d rounds of %.1fs per target, interleaved floor/roster (warm-up %.1fs), target %s, GOMAXPROCS %d\n",
		what, r.Conns, r.Rounds, r.RoundSeconds, r.WarmupSecs, r.Target, r.GOMAXPROCS)
	if r.RateLimitOff {
		fmt.Fprintln(w, "rate limit: off (the in-process server runs with ROSTER_RATE_LIMIT=0)")
	}
	if r.Users > 0 {
		fmt.Fprintf(w, "pre-populated: %d users in %.2fs = %.0f users/s (%s)\n", r.Users, r.UsersSeconds, r.UsersPerSec, r.UsersVia)
	}
	fmt.Fprintf(w, "\n%-7s %10s %7s %10s %8s %8s %8s %8s %11s\n", "", "requests", "errors", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "cpu-ms/req")
	for _, row := range []struct {
		name string
		s    Stats
	}{{"roster", r.Roster}, {"floor", r.Floor}} {
		cpu := "n/a"
		if row.s.CPUmsPerRequest >= 0 {
			cpu = fmt.Sprintf("%.3f", row.s.CPUmsPerRequest)
		}
		fmt.Fprintf(w, "%-7s %10d %7d %10.0f %8.2f %8.2f %8.2f %8.2f %11s\n", row.name, row.s.Requests, row.s.Errors,
			row.s.PerSecond, row.s.P50ms, row.s.P90ms, row.s.P99ms, row.s.MaxMs, cpu)
	}
	fmt.Fprintf(w, "\nratio roster/floor (req/s): %.3f\n", r.Ratio)
	if r.StoredUsers > 0 || r.PeakRSSMiB > 0 {
		fmt.Fprintf(w, "after the run: %d users stored", r.StoredUsers)
		if r.DBBytes > 0 {
			fmt.Fprintf(w, ", database %.1f MiB = %.0f bytes/user", float64(r.DBBytes)/(1<<20), r.BytesPerUser)
		}
		fmt.Fprintf(w, "; process RSS %.0f MiB, peak %.0f MiB (server, floor and load generator)\n", r.RSSMiB, r.PeakRSSMiB)
	}
	fmt.Fprintln(w, "cpu-ms/req: this process's CPU per request (server and load generator share it; PostgreSQL's own CPU is not in it).")
	for _, row := range []struct {
		name string
		s    Stats
	}{{"roster", r.Roster}, {"floor", r.Floor}} {
		if row.s.FirstError != "" {
			fmt.Fprintf(w, "%s: first error: %s\n", row.name, row.s.FirstError)
		}
	}
}
