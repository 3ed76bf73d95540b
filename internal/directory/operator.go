package directory

import "time"

// Role is what an operator of the admin console may do.
type Role string

// Operator roles. A viewer reads; an admin also creates tenants and
// credentials, revokes credentials and reveals SSNs.
const (
	RoleAdmin  Role = "admin"
	RoleViewer Role = "viewer"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleViewer }

// Operator is a person who signs in to the admin console. Operators are
// separate from tenant credentials: they belong to no tenant and cannot
// call the dialect APIs.
type Operator struct {
	ID           string
	Email        string // as entered
	EmailNorm    string // lower-cased: unique
	Role         Role
	PasswordHash string // argon2id PHC string; never the password
	CreatedAt    time.Time
	LockedUntil  time.Time // zero: not locked
	LastSignIn   time.Time // zero: never
}

// OperatorSession is a signed-in console session. Only the SHA-256 of its
// token is stored.
type OperatorSession struct {
	Hash       []byte
	OperatorID string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// ActionUserSSNRevealed is the audit action of an operator revealing a
// user's SSN in the console: reading, not changing, but audited all the
// same.
const ActionUserSSNRevealed = "user.ssn_revealed"

// AuditSearch selects one tenant's audit entries newest first, for the
// admin console's audit view. Empty strings match anything; matches are
// exact.
type AuditSearch struct {
	Action   string
	Actor    string
	TargetID string
	Since    time.Time    // zero: from the start
	Before   *AuditCursor // nil: from the newest; else strictly older entries
	Limit    int          // <= 0 or > MaxAuditPage: MaxAuditPage
}

// AuditCursor is a position in the audit log's (at, id) order.
type AuditCursor struct {
	At time.Time
	ID string
}
