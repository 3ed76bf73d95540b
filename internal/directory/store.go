package directory

import (
	"context"
	"time"
)

// Claim is one unique identifier a user holds in its tenant. The store keeps
// claims in a table with UNIQUE (tenant_id, kind, value) and inserts them in
// the same transaction as the user row, so the database, not a prior read,
// decides uniqueness.
type Claim struct {
	Kind  ClaimKind
	Value string // already normalised by the Service
}

// ClaimKind is a uniqueness namespace.
type ClaimKind string

// Claim kinds. Usernames and aliases share ClaimLogin.
const (
	ClaimLogin       ClaimKind = "login"
	ClaimEmail       ClaimKind = "email"
	ClaimPhone       ClaimKind = "phone"
	ClaimExternalID  ClaimKind = "external_id"
	ClaimPartnerCode ClaimKind = "partner_code"
)

// ClaimConflict is what the store returns (wrapped or not) when a claim is
// already held: which claim, and the id of the user holding it, read in the
// same transaction. It matches ErrConflict under errors.Is. The Service turns
// it into a *ConflictError naming the user field.
type ClaimConflict struct {
	Claim      Claim
	ExistingID string
}

func (e *ClaimConflict) Error() string {
	return "claim " + string(e.Claim.Kind) + " already held"
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ClaimConflict) Is(target error) bool { return target == ErrConflict }

// Store is the persistence the core needs. internal/store implements it for
// SQLite and PostgreSQL; internal/directory/storetest is its contract.
//
// Every user and group method takes the tenant id and scopes every statement
// by it: a record of another tenant is ErrNotFound. Times are stored with
// microsecond precision in UTC. A method returns only after its write is
// durably committed.
//
// Every write method takes a *Change (nil: none) and writes it in the
// write's own transaction: its audit entry, and the mark of the request's
// Idempotency-Key, which fails the write with ErrIdempotencyInFlight when
// the request no longer holds its key. A write that fails writes neither.
type Store interface {
	// CreateTenant inserts t. A taken name is a *ConflictError with
	// Field FieldTenantName.
	CreateTenant(ctx context.Context, t *Tenant, ch *Change) error
	// GetTenantByName returns the tenant named name, or ErrNotFound.
	GetTenantByName(ctx context.Context, name string) (*Tenant, error)
	// ListTenants returns every tenant, oldest first.
	ListTenants(ctx context.Context) ([]*Tenant, error)

	// CreateCredential inserts c; its tenant must exist.
	CreateCredential(ctx context.Context, c *Credential, ch *Change) error
	// GetCredential returns the credential with its tenant, revoked or
	// not, or ErrNotFound.
	GetCredential(ctx context.Context, clientID string) (*CredentialInfo, error)
	// ListCredentials returns a tenant's credentials, oldest first.
	ListCredentials(ctx context.Context, tenantID string) ([]*Credential, error)
	// RevokeCredential sets RevokedAt (once; a second call keeps the first
	// time) and deletes the credential's tokens. ErrNotFound if unknown.
	RevokeCredential(ctx context.Context, clientID string, at time.Time, ch *Change) error
	// TouchCredential records a use at time at.
	TouchCredential(ctx context.Context, clientID string, at time.Time) error

	// CreateToken stores a session token (its hash).
	CreateToken(ctx context.Context, t *Token) error
	// GetToken returns the token with this hash, expired or not, or
	// ErrNotFound.
	GetToken(ctx context.Context, hash []byte) (*Token, error)
	// DeleteToken removes one token; no error if it is already gone.
	DeleteToken(ctx context.Context, hash []byte) error
	// DeleteExpiredTokens removes tokens that expired before t and returns
	// how many it removed.
	DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error)

	// CreateUser inserts u (u.ID, u.TenantID and timestamps set by the
	// caller) together with its claims, in one transaction. A claim held by
	// another user is a *ClaimConflict naming it and that user, and nothing
	// is written.
	CreateUser(ctx context.Context, u *User, claims []Claim, ch *Change) error
	// GetUser returns the user, or ErrNotFound.
	GetUser(ctx context.Context, tenantID, id string) (*User, error)
	// UpdateUser replaces the stored user u.ID with u and its claims with
	// claims, in one transaction, provided the stored version equals
	// expectVersion; the caller has already set u.Version to
	// expectVersion+1 and u.UpdatedAt. ErrNotFound if the user does not
	// exist, ErrPrecondition if its version differs, *ClaimConflict as in
	// CreateUser.
	UpdateUser(ctx context.Context, u *User, claims []Claim, expectVersion int64, ch *Change) error
	// DeleteUser removes the user, its claims, aliases and group
	// memberships. ErrNotFound if it does not exist; ErrPrecondition if
	// expectVersion is non-zero and differs from the stored version.
	DeleteUser(ctx context.Context, tenantID, id string, expectVersion int64, ch *Change) error
	// FindUserByClaim returns the user holding the claim, or ErrNotFound.
	FindUserByClaim(ctx context.Context, tenantID string, c Claim) (*User, error)
	// ListUsers returns one page of the tenant's users; see UserQuery.
	// A filter on a field the store does not know is an error wrapping
	// ErrInvalidFilter.
	ListUsers(ctx context.Context, tenantID string, q UserQuery) (*UserPage, error)

	// CreateGroup inserts g and its members. A member that is not a user
	// of the tenant is ErrInvalidReference. A display name another group
	// of the tenant holds (compared lower-cased) is a *ConflictError with
	// Field FieldDisplayName and the holder's id.
	CreateGroup(ctx context.Context, g *Group, ch *Change) error
	// GetGroup returns the group with its members, or ErrNotFound.
	GetGroup(ctx context.Context, tenantID, id string) (*Group, error)
	// UpdateGroup replaces the group and its member set, provided the
	// stored version equals expectVersion (the caller set g.Version to
	// expectVersion+1). Errors as UpdateUser and CreateGroup (a taken
	// display name included).
	UpdateGroup(ctx context.Context, g *Group, expectVersion int64, ch *Change) error
	// DeleteGroup removes the group. Errors as DeleteUser.
	DeleteGroup(ctx context.Context, tenantID, id string, expectVersion int64, ch *Change) error
	// ListGroups returns one page of the tenant's groups.
	ListGroups(ctx context.Context, tenantID string, q GroupQuery) (*GroupPage, error)
	// GroupsOfUsers returns, for each given user id, the groups it is a
	// member of, ordered by display name.
	GroupsOfUsers(ctx context.Context, tenantID string, userIDs []string) (map[string][]GroupRef, error)

	// AcquireIdempotencyKey inserts rec (pending, owned by rec.Owner) or
	// returns the record already stored under rec.Key. A stored record
	// created before expiredBefore is replaced as if absent; a pending
	// one whose lease has ended and whose hash equals rec's is taken over
	// (its owner and lease become rec's). The returned record is owned by
	// the caller exactly when its Owner is rec.Owner.
	AcquireIdempotencyKey(ctx context.Context, rec *IdempotencyRecord, expiredBefore time.Time) (*IdempotencyRecord, error)
	// CompleteIdempotencyKey records the response of a committed key;
	// a key already done keeps its first response.
	CompleteIdempotencyKey(ctx context.Context, k IdempotencyKey, resp *IdempotentResponse) error
	// ReleaseIdempotencyKey deletes a pending key owner holds.
	ReleaseIdempotencyKey(ctx context.Context, k IdempotencyKey, owner string) error
	// DeleteExpiredIdempotencyKeys deletes keys created before t.
	DeleteExpiredIdempotencyKeys(ctx context.Context, before time.Time) (int64, error)

	// ListAudit returns a tenant's audit entries matching q, oldest first.
	ListAudit(ctx context.Context, tenantID string, q AuditQuery) ([]*AuditEntry, error)

	// SharedRateCounter returns the rate counters every process on this
	// database shares, or nil when the store serves one process only
	// (SQLite): the Service then keeps its limits in memory and adds no
	// write per request.
	SharedRateCounter() RateCounter
}

// RateCounter is a set of counters in fixed windows, kept in the database
// so that several instances share one budget (Invariant 5). A window is
// named by its start; every method is one statement.
type RateCounter interface {
	// TakeRate counts one request in bucket's window starting at window
	// and reports whether it is admitted: it is when the window's count
	// after it, plus prevWeight times the count of the window starting at
	// prev, does not exceed limit (a sliding-window estimate). A refused
	// request is not counted.
	TakeRate(ctx context.Context, bucket string, window, prev time.Time, prevWeight float64, limit int) (bool, error)
	// AddRate counts one event in bucket's window and returns the count.
	AddRate(ctx context.Context, bucket string, window time.Time) (int64, error)
	// RateCounts returns the counts of the buckets in the window; a
	// bucket without a count is absent.
	RateCounts(ctx context.Context, buckets []string, window time.Time) (map[string]int64, error)
	// DeleteRateWindows removes the windows that started before before.
	DeleteRateWindows(ctx context.Context, before time.Time) (int64, error)
}

// ErrInvalidFilter: a filter names a field or operator the store cannot
// apply to it (a bool compared with "co", say).
var ErrInvalidFilter = errInvalidFilter{}

type errInvalidFilter struct{}

func (errInvalidFilter) Error() string { return "invalid filter" }
