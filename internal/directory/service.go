package directory

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/secret"
)

// Service is the directory's API for dialects and the CLI. It is safe for
// concurrent use and keeps no state that matters in memory: several
// processes on one database behave as one service.
type Service struct {
	store   Store
	now     func() time.Time
	limiter *limiter // nil: no rate limit

	mu      sync.Mutex
	touched map[string]time.Time // client id -> last TouchCredential, to write at most once a minute
}

// Options configure a Service.
type Options struct {
	// Now is the clock; time.Now when nil. Tests inject a fake one.
	Now func() time.Time
	// RateLimit is how many authenticated requests a minute one
	// credential may make (per process), with a burst of ten seconds'
	// worth; 0 means unlimited. Over the budget, authentication returns
	// ErrRateLimited, which every dialect answers with 429.
	RateLimit int
}

// NewService returns a Service over store.
func NewService(store Store, o Options) *Service {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now, limiter: newLimiter(o.RateLimit), touched: map[string]time.Time{}}
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
	t, err := s.store.GetTenantByName(ctx, tenant)
	if err != nil {
		return nil, "", fmt.Errorf("create credential: tenant %q: %w", tenant, err)
	}
	c := &Credential{ClientID: secret.NewClientID(), TenantID: t.ID, CreatedAt: s.Now()}
	sec := secret.NewSecret(c.ClientID)
	c.SecretHash = secret.Hash(sec)
	ch := s.change(ctx, nil, t.ID, ActionCredentialCreate, TargetCredential, c.ClientID, nil, c.CreatedAt)
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
// so a caller cannot tell which.
func (s *Service) Authenticate(ctx context.Context, clientID, sec string) (Principal, error) {
	if clientID == "" || sec == "" || len(clientID) > 64 || len(sec) > 256 {
		return Principal{}, ErrUnauthenticated
	}
	ci, err := s.store.GetCredential(ctx, clientID)
	if errors.Is(err, ErrNotFound) {
		// Hash anyway so an unknown id costs what a known one does.
		secret.Equal(secret.Hash(sec), make([]byte, 32))
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	ok := secret.Equal(secret.Hash(sec), ci.SecretHash)
	if !ok || ci.RevokedAt != nil {
		return Principal{}, ErrUnauthenticated
	}
	if s.limiter != nil && !s.limiter.allow(clientID, s.now()) {
		return Principal{}, ErrRateLimited
	}
	s.touch(ctx, clientID)
	return principalOf(ci, ""), nil
}

// AuthenticateSecret checks a secret alone (CL2C X-API-Key, SCIM bearer):
// the client id is read from the secret itself.
func (s *Service) AuthenticateSecret(ctx context.Context, sec string) (Principal, error) {
	id, ok := secret.ClientIDOf(sec)
	if !ok {
		return Principal{}, ErrUnauthenticated
	}
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
	if tok == "" || len(tok) > 512 {
		return Principal{}, ErrUnauthenticated
	}
	t, err := s.store.GetToken(ctx, secret.Hash(tok))
	if errors.Is(err, ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate token: %w", err)
	}
	if t.Kind != kind || !s.Now().Before(t.ExpiresAt) {
		return Principal{}, ErrUnauthenticated
	}
	ci, err := s.store.GetCredential(ctx, t.ClientID)
	if errors.Is(err, ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate token: %w", err)
	}
	if ci.RevokedAt != nil {
		return Principal{}, ErrUnauthenticated
	}
	if s.limiter != nil && !s.limiter.allow(t.ClientID, s.now()) {
		return Principal{}, ErrRateLimited
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
