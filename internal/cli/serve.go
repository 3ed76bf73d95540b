package cli

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/config"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
	"github.com/roster-dev/roster/internal/server"
)

// tokenPurgeInterval is how often a server deletes expired session tokens.
// Several instances purging concurrently is harmless (a DELETE each).
const tokenPurgeInterval = 5 * time.Minute

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c, check := loadConfig(fs, true)
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "TLS certificate chain `FILE`, PEM; with --tls-key, serve HTTPS only (env ROSTER_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "TLS private key `FILE`, PEM (env ROSTER_TLS_KEY)")
	allowPrivateFlag(fs, c)
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof on its own listener at loopback `ADDR` (e.g. 127.0.0.1:6060; docs/OPERATIONS.md#profiling)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := exactly(pos, 0, "no arguments besides flags"); err != nil {
		return err
	}
	if err := check(); err != nil {
		return err
	}
	if c.TLSCert != "" {
		// Before the database is touched: a first start must not print its
		// one-time bootstrap secret and then fail on a bad certificate.
		if _, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey); err != nil {
			return fmt.Errorf("load tls certificate: %w", err)
		}
	}
	if err := checkPprofAddr(*pprofAddr); err != nil {
		return err
	}
	logger := newLogger(stderr, c.LogLevel)
	if *pprofAddr != "" {
		pp, err := httpapi.StartPprof(*pprofAddr, logger)
		if err != nil {
			return err
		}
		defer pp.Close()
		logger.Info("pprof listening", "addr", pp.Addr())
	}
	m, ops, err := newMetrics(c)
	if err != nil {
		return err
	}
	o, err := openObserved(ctx, c, stdout, ops.ObserveCommit)
	if err != nil {
		return err
	}
	defer o.Close()
	if err := ops.AddStore(o.store); err != nil {
		return err
	}

	boot, err := o.svc.EnsureBootstrap(ctx, firstStartPolicy)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	scheme := "http://"
	if c.TLSCert != "" {
		scheme = "https://"
	}
	base := scheme + displayAddr(ln.Addr().String())
	printWelcome(stdout, base, c, boot)
	logger.Info("roster started", "version", version(), "listen", ln.Addr().String(), "config", c.String())

	go purgeTokens(ctx, o.svc, logger)
	hooks, stopHooks := startWebhooks(ctx, o.store, logger, c.AllowPrivateWebhooks)
	defer stopHooks() // before o.Close: deliveries in flight record their outcome
	if err := ops.AddWebhookStats(hooks.Stats); err != nil {
		return err
	}
	if c.DBRead != "" {
		if err := ops.AddReplica(o.store.ReplicaReads); err != nil {
			return err
		}
	}
	con := newConsole(o, c, logger)
	go purgeConsoleSessions(ctx, con, logger)
	h := server.New(o.svc, server.Options{
		Logger: logger, MaxBody: c.MaxBody, EntrustTokenTTL: c.EntrustTokenTTL, Ready: o.store.Ping,
		PublicURL: c.PublicURL, CORSOrigins: c.CORSOrigins, Metrics: m, Console: con,
	})
	if err := httpapi.ServeWith(ctx, ln, h, logger, httpapi.ServerOptions{
		ReadHeaderTimeout: c.ReadHeaderTimeout, ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout,
		IdleTimeout: c.IdleTimeout, MaxHeaderBytes: c.MaxHeaderBytes,
		TLSCert: c.TLSCert, TLSKey: c.TLSKey, Grace: c.ShutdownGrace,
	}); err != nil {
		return err
	}
	logger.Info("roster stopped")
	return nil
}

// firstStartPolicy is the uniqueness policy of the tenant the first start
// creates: only the identifiers that are always unique (usernames, aliases,
// partner codes). It is the one policy every dialect's documented examples
// survive: Truv's quickstart creates many users with one e-mail, so a
// tenant with unique e-mail answers its second create 409. A tenant made
// with `roster tenant create` keeps that command's default (email,phone):
// an operator who creates one chooses for real partners, and Ownli, for
// one, documents e-mail and phone as unique.
var firstStartPolicy = directory.UniquePolicy{}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated by config
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// displayAddr turns a wildcard listen address into one a curl can reach.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func purgeTokens(ctx context.Context, svc *directory.Service, logger *slog.Logger) {
	t := time.NewTicker(tokenPurgeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			purgeOnce(ctx, svc, logger)
		}
	}
}

// purgeOnce deletes expired session tokens and Idempotency-Key records
// (older than directory.IdempotencyTTL). Every instance runs it; the
// deletes are idempotent, so several instances on one database only
// repeat each other's work.
func purgeOnce(ctx context.Context, svc *directory.Service, logger *slog.Logger) {
	if n, err := svc.PurgeExpiredTokens(ctx); err != nil && ctx.Err() == nil {
		logger.Warn("purge expired tokens", "error", err.Error())
	} else if n > 0 {
		logger.Debug("purged expired tokens", "count", n)
	}
	if n, err := svc.PurgeExpiredIdempotencyKeys(ctx); err != nil && ctx.Err() == nil {
		logger.Warn("purge expired idempotency keys", "error", err.Error())
	} else if n > 0 {
		logger.Debug("purged expired idempotency keys", "count", n)
	}
}

// printWelcome tells a new user how to call the server: on the first start
// with the bootstrap credential (shown this once), later with placeholders.
func printWelcome(w io.Writer, base string, c *config.Config, boot *directory.Bootstrap) {
	tenant, clientID, sec := "TENANT", "CLIENT_ID", "SECRET"
	fmt.Fprintf(w, "Roster %s listening on %s (database %s)\n", version(), base, dbLabel(c.DB))
	if boot != nil {
		tenant, clientID, sec = boot.Tenant.Name, boot.ClientID, boot.Secret
		fmt.Fprintf(w, "\nFirst start: created tenant %q and a credential. The secret is shown only now.\n", tenant)
		fmt.Fprintf(w, "  client_id: %s\n  secret:    %s\n", clientID, sec)
		fmt.Fprintf(w, "  unique:    %s (only usernames and aliases are unique, so every vendor's documented\n", UniqueString(boot.Tenant.Unique))
		fmt.Fprintf(w, "             examples run as shown; Truv's quickstart reuses one e-mail)\n")
		fmt.Fprintf(w, "For unique e-mail and phone, create a tenant with them and a credential for it:\n")
		fmt.Fprintf(w, "  roster tenant create NAME --unique email,phone && roster credential create --tenant NAME\n")
	} else {
		fmt.Fprintln(w, "\nCreate a credential with: roster credential create --tenant NAME")
	}
	fmt.Fprintf(w, "\nTry it:\n")
	lines := []string{
		fmt.Sprintf(`curl -s -X POST %s/v1/users/ -H 'Content-Type: application/json' -H 'X-Access-Client-Id: %s' -H 'X-Access-Secret: %s' -d '{"external_user_id":"12345","first_name":"John","last_name":"Doe","email":"john.doe@example.com"}'`, base, clientID, sec),
		fmt.Sprintf(`curl -s -X POST %s/api/web/v1/adminapi/authenticate -H 'Content-Type: application/json' -d '{"applicationId":"%s","sharedSecret":"%s"}'`, base, clientID, sec),
		fmt.Sprintf(`curl -s -X POST %s/v1/cl2c/user -H 'Content-Type: application/json' -H 'tenant: %s' -H 'X-API-Key: %s' -d '{"firstName":"Jane","lastName":"Roe","email":"jane@example.com","userName":"janeroe","phoneNumber":"+15556667777"}'`, base, tenant, sec),
		fmt.Sprintf(`curl -s -X POST '%s/api/users?returnExistingUserIfExists=true' -H 'Content-Type: application/json' -H 'partnerId: %s' -H 'clientId: %s' -H 'clientSecret: %s' -d '{"firstName":"Ann","lastName":"Lee","phone":"+15556667778","address":{"state":"CA"}}'`, base, tenant, clientID, sec),
		fmt.Sprintf(`curl -s %s/scim/v2/Users -H 'Authorization: Bearer %s'`, base, sec),
	}
	names := []string{"Truv", "Entrust (then send the authToken as Authorization)", "CL2C", "Ownli", "SCIM 2.0"}
	for i, l := range lines {
		fmt.Fprintf(w, "  # %s\n  %s\n", names[i], l)
	}
	fmt.Fprintln(w)
}

func dbLabel(db string) string {
	if config.IsSQLite(db) {
		return db
	}
	if i := strings.Index(db, "@"); i >= 0 {
		return "postgres://…" + db[i:]
	}
	return "postgres"
}
