package directory

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/secret"
)

// Service is the directory's API for dialects and the CLI. It is safe for
// concurrent use and keeps no state that matters in memory: several
// processes on one database behave as one service.
type Service struct {
	store    Store
	now      func() time.Time
	limits   *rateLimits
	throttle *authThrottle // nil: failures not throttled
	trusted  []netip.Prefix
	creds    *credCache // nil: every authentication reads its credential

	mu      sync.Mutex
	touched map[string]time.Time // client id -> last TouchCredential, to write at most once a minute
}

// Options configure a Service.
type Options struct {
	// Now is the clock; time.Now when nil. Tests inject a fake one.
	Now func() time.Time
	// RateLimit is how many authenticated requests a minute one
	// credential may make, unless the credential has its own limit; 0
	// means unlimited. On SQLite it is a token bucket in memory with a
	// burst of ten seconds' worth; on PostgreSQL a one-minute sliding
	// window counted in the database, shared by every instance. Over the
	// budget, authentication returns a *RateLimitError (ErrRateLimited),
	// which every dialect answers with 429 and Retry-After.
	RateLimit int
	// Throttle bounds repeated failed authentications.
	Throttle ThrottleOptions
	// TrustedProxies are the peers whose X-Forwarded-For names the
	// caller's address (see WithSource); empty: the peer is the caller.
	TrustedProxies []netip.Prefix
	// CredentialCacheTTL is how long a credential whose secret verified
	// is remembered, so that its next requests skip the lookup; 0 (or
	// less) turns the cache off. A revocation on this Service takes
	// effect at once; one made by another instance or the CLI within
	// this TTL (see credCache).
	CredentialCacheTTL time.Duration
}

// NewService returns a Service over store.
func NewService(store Store, o Options) *Service {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	var shared RateCounter
	if store != nil {
		shared = store.SharedRateCounter()
	}
	return &Service{store: store, now: now, touched: map[string]time.Time{},
		limits:   newRateLimits(o.RateLimit, shared, now),
		throttle: newAuthThrottle(o.Throttle, shared, now),
		trusted:  o.TrustedProxies,
		creds:    newCredCache(o.CredentialCacheTTL, now)}
}

// Now returns the service clock's time in UTC, truncated to microseconds
// (the precision both stores keep).
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// tenantName is what a tenant may be called: it travels in HTTP headers.
var tenantName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CreateTenant creates a tenant. A taken name is a *ConflictError.
func (s *Service) CreateTenant(ctx context.Context, name string, policy UniquePolicy) (*Tenant, error) {
	if !tenantName.MatchString(name) {
		return nil, Invalid(FieldTenantName, CodeInvalid,
			"tenant name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	t := &Tenant{ID: newID(), Name: name, Unique: policy, CreatedAt: s.Now()}
	ch := s.change(ctx, nil, t.ID, ActionTenantCreate, TargetTenant, t.ID, []string{"name", "unique"}, t.CreatedAt)
	if err := s.store.CreateTenant(ctx, t, ch); err != nil {
		return nil, fmt.Errorf("create tenant: %w", err)
	}
	return t, nil
}

// ListTenants returns every tenant.
func (s *Service) ListTenants(ctx context.Context) ([]*Tenant, error) {
	ts, err := s.store.ListTenants(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return ts, nil
}

// TenantByName returns the named tenant or ErrNotFound.
func (s *Service) TenantByName(ctx context.Context, name string) (*Tenant, error) {
	t, err := s.store.GetTenantByName(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("get tenant: %w", err)
	}
	return t, nil
}

// CreateCredential creates an API credential for the named tenant and
// returns it with its secret, which is not stored and cannot be shown again.
func (s *Service) CreateCredential(ctx context.Context, tenant string) (*Credential, string, error) {
	return s.CreateCredentialWith(ctx, tenant, CredentialOptions{})
}

// CredentialOptions are the settings of a new credential.
type CredentialOptions struct {
	// RateLimit is the credential's own budget in requests a minute (0:
	// unlimited), for bulk integrators; nil follows the server's limit.
	RateLimit *int
}

// CreateCredentialWith is CreateCredential with options.
func (s *Service) CreateCredentialWith(ctx context.Context, tenant string, o CredentialOptions) (*Credential, string, error) {
	if o.RateLimit != nil && *o.RateLimit < 0 {
		return nil, "", Invalid("rate_limit", CodeInvalid, "rate limit must be 0 (unlimited) or more requests a minute")
	}
	t, err := s.store.GetTenantByName(ctx, tenant)
	if err != nil {
		return nil, "", fmt.Errorf("create credential: tenant %q: %w", tenant, err)
	}
	c := &Credential{ClientID: secret.NewClientID(), TenantID: t.ID, CreatedAt: s.Now(), RateLimit: o.RateLimit}
	sec := secret.NewSecret(c.ClientID)
	c.SecretHash = secret.Hash(sec)
	var fields []string
	if o.RateLimit != nil {
		fields = []string{"rate_limit"} // the audit names it, like any field set
	}
	ch := s.change(ctx, nil, t.ID, ActionCredentialCreate, TargetCredential, c.ClientID, fields, c.CreatedAt)
	if err := s.store.CreateCredential(ctx, c, ch); err != nil {
		return nil, "", fmt.Errorf("create credential: %w", err)
	}
	return c, sec, nil
}

// ListCredentials returns the named tenant's credentials.
func (s *Service) ListCredentials(ctx context.Context, tenant string) ([]*Credential, error) {
	t, err := s.store.GetTenantByName(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("list credentials: tenant %q: %w", tenant, err)
	}
	cs, err := s.store.ListCredentials(ctx, t.ID)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return cs, nil
}

// RevokeCredential revokes a credential and every token issued to it.
func (s *Service) RevokeCredential(ctx context.Context, clientID string) error {
	// Read first for the tenant the audit entry belongs to; the revoke
	// itself is one UPDATE, so a race with another revoke is harmless.
	ci, err := s.store.GetCredential(ctx, clientID)
	if err != nil {
		return fmt.Errorf("revoke credential: %w", err)
	}
	now := s.Now()
	ch := s.change(ctx, nil, ci.TenantID, ActionCredentialRevoke, TargetCredential, clientID, []string{"revoked_at"}, now)
	if err := s.store.RevokeCredential(ctx, clientID, now, ch); err != nil {
		return fmt.Errorf("revoke credential: %w", err)
	}
	s.creds.forget(clientID) // effective here from the next request on
	return nil
}

// Bootstrap is what the first start on an empty database created.
type Bootstrap struct {
	Tenant   *Tenant
	ClientID string
	Secret   string
}

// BootstrapName is the tenant the first start creates.
const BootstrapName = "default"

// EnsureBootstrap creates tenant "default", with uniqueness policy
// policy, and one credential when the database has no tenant at all, and
// returns them. It returns nil when tenants exist, or when another instance
// on the same database created the tenant first (the tenant's unique name
// decides; that instance prints the credential).
func (s *Service) EnsureBootstrap(ctx context.Context, policy UniquePolicy) (*Bootstrap, error) {
	ts, err := s.store.ListTenants(ctx)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if len(ts) > 0 {
		return nil, nil
	}
	t, err := s.CreateTenant(ctx, BootstrapName, policy)
	if errors.Is(err, ErrConflict) {
		return nil, nil // another instance won the race; it prints the credential
	}
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	c, sec, err := s.CreateCredential(ctx, t.Name)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return &Bootstrap{Tenant: t, ClientID: c.ClientID, Secret: sec}, nil
}

// Authenticate checks a client id and secret and returns the principal.
// Every failure (unknown id, revoked, wrong secret) is ErrUnauthenticated,
// so a caller cannot tell which: each does one lookup and one hash
// comparison, an unknown id against a dummy hash. Repeated failures from
// the caller's address (see WithSource) are throttled (ThrottleOptions),
// and a credential over its request budget gets a *RateLimitError.
func (s *Service) Authenticate(ctx context.Context, clientID, sec string) (Principal, error) {
	keys := keysFor(boundedID(clientID), sourceAddr(ctx, s.trusted))
	if err := s.throttle.check(ctx, keys); err != nil {
		return Principal{}, err
	}
	if clientID == "" || sec == "" || len(clientID) > 64 || len(sec) > 256 || strings.ContainsRune(clientID, 0) {
		secretEqual(secret.Hash(sec), dummyHash)
		return Principal{}, s.failed(ctx, keys, AuthBadCredentials)
	}
	presented := secret.Hash(sec)
	if ci := s.creds.get(clientID, presented); ci != nil {
		// This very secret verified within the cache's TTL.
		if err := s.admit(ctx, ci); err != nil {
			return Principal{}, err
		}
		s.touch(ctx, clientID)
		return principalOf(ci, ""), nil
	}
	gen := s.creds.generation()
	ci, err := s.store.GetCredential(ctx, clientID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	want := dummyHash // an unknown id costs what a known one does
	if err == nil {
		want = ci.SecretHash
	}
	ok := secretEqual(presented, want)
	if err != nil || !ok {
		return Principal{}, s.failed(ctx, keys, AuthBadCredentials)
	}
	if ci.RevokedAt != nil {
		return Principal{}, s.failed(ctx, keys, AuthRevoked)
	}
	s.creds.put(ci, presented, gen)
	if err := s.admit(ctx, ci); err != nil {
		return Principal{}, err
	}
	s.touch(ctx, clientID)
	return principalOf(ci, ""), nil
}

// dummyHash is what an unknown client id's secret is compared with.
var dummyHash = secret.Hash(secret.NewToken("dummy"))

// secretEqual compares hashes in constant time; a variable so that a test
// can count comparisons.
var secretEqual = secret.Equal

// boundedID keeps an over-long client id out of the throttle's keys.
func boundedID(clientID string) string {
	if len(clientID) > 64 {
		return ""
	}
	return clientID
}

// failed counts a failed authentication, holds the answer when the client
// id is failing from everywhere (ThrottleOptions.PerClient), and returns
// ErrUnauthenticated.
func (s *Service) failed(ctx context.Context, keys throttleKeys, reason string) error {
	noteFailure(ctx, reason)
	if d := s.throttle.fail(ctx, keys); d > 0 {
		noteThrottle(ctx, ThrottleClientDelay)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	return ErrUnauthenticated
}

// admit takes one request from the credential's budget.
func (s *Service) admit(ctx context.Context, ci *CredentialInfo) error {
	ok, retry, err := s.limits.allow(ctx, ci.ClientID, ci.RateLimit)
	if err != nil {
		return fmt.Errorf("authenticate: %w", err)
	}
	if !ok {
		noteThrottle(ctx, ThrottleRateLimit)
		return &RateLimitError{RetryAfter: retry, Reason: "credential over its rate limit"}
	}
	return nil
}

// AuthenticateSecret checks a secret alone (CL2C X-API-Key, SCIM bearer):
// the client id is read from the secret itself.
func (s *Service) AuthenticateSecret(ctx context.Context, sec string) (Principal, error) {
	id, _ := secret.ClientIDOf(sec)
	// A secret of the wrong shape goes through Authenticate too, with no
	// client id: it is counted, throttled and timed like any failure.
	return s.Authenticate(ctx, id, sec)
}

func principalOf(ci *CredentialInfo, scope string) Principal {
	return Principal{
		TenantID:   ci.Tenant.ID,
		TenantName: ci.Tenant.Name,
		ClientID:   ci.ClientID,
		Unique:     ci.Tenant.Unique,
		Scope:      scope,
	}
}

// touch records a credential's use at most once a minute per process:
// last-used is for operators, not worth a write on every request.
func (s *Service) touch(ctx context.Context, clientID string) {
	now := s.Now()
	s.mu.Lock()
	last, seen := s.touched[clientID]
	if seen && now.Sub(last) < time.Minute {
		s.mu.Unlock()
		return
	}
	s.touched[clientID] = now
	s.mu.Unlock()
	// A failed touch must not fail the request it belongs to.
	_ = s.store.TouchCredential(ctx, clientID, now)
}

// IssueToken creates a session token for p, of the given dialect kind and
// scope, valid for ttl. It returns the token (shown once) and its record.
func (s *Service) IssueToken(ctx context.Context, p Principal, kind, scope string, ttl time.Duration) (string, *Token, error) {
	tok := secret.NewToken("")
	now := s.Now()
	t := &Token{
		Hash: secret.Hash(tok), ClientID: p.ClientID, TenantID: p.TenantID,
		Kind: kind, Scope: scope, CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return "", nil, fmt.Errorf("issue token: %w", err)
	}
	return tok, t, nil
}

// AuthenticateToken checks a session token of the given kind. Unknown,
// expired, other-kind tokens and tokens of a revoked credential are all
// ErrUnauthenticated.
func (s *Service) AuthenticateToken(ctx context.Context, kind, tok string) (Principal, error) {
	// A token names no client id: failures count per address only.
	keys := keysFor("", sourceAddr(ctx, s.trusted))
	if err := s.throttle.check(ctx, keys); err != nil {
		return Principal{}, err
	}
	if tok == "" || len(tok) > 512 {
		return Principal{}, s.failed(ctx, keys, AuthBadToken)
	}
	t, err := s.store.GetToken(ctx, secret.Hash(tok))
	if errors.Is(err, ErrNotFound) {
		return Principal{}, s.failed(ctx, keys, AuthBadToken)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate token: %w", err)
	}
	if t.Kind != kind {
		return Principal{}, s.failed(ctx, keys, AuthBadToken)
	}
	if !s.Now().Before(t.ExpiresAt) {
		return Principal{}, s.failed(ctx, keys, AuthExpiredToken)
	}
	ci, err := s.store.GetCredential(ctx, t.ClientID)
	if errors.Is(err, ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate token: %w", err)
	}
	if ci.RevokedAt != nil {
		return Principal{}, s.failed(ctx, keys, AuthRevoked)
	}
	if err := s.admit(ctx, ci); err != nil {
		return Principal{}, err
	}
	return principalOf(ci, t.Scope), nil
}

// PurgeExpiredTokens deletes tokens that have expired.
func (s *Service) PurgeExpiredTokens(ctx context.Context) (int64, error) {
	n, err := s.store.DeleteExpiredTokens(ctx, s.Now())
	if err != nil {
		return 0, fmt.Errorf("purge tokens: %w", err)
	}
	return n, nil
}
