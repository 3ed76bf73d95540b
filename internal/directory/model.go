package directory

import (
	"time"

	"github.com/roster-dev/roster/internal/secret"
)

// Field names a field of the core model. Validation errors, conflicts,
// filters and sort keys all speak in Fields; dialects translate them to and
// from their wire names.
type Field string

// User fields.
const (
	FieldID             Field = "id"
	FieldUsername       Field = "username"
	FieldExternalID     Field = "external_id"
	FieldExternalSource Field = "external_source"
	FieldFirstName      Field = "first_name"
	FieldLastName       Field = "last_name"
	FieldEmail          Field = "email"
	FieldEmailVerified  Field = "email_verified"
	FieldPhone          Field = "phone"
	FieldPhoneVerified  Field = "phone_verified"
	FieldMobile         Field = "mobile"
	FieldLocale         Field = "locale"
	FieldState          Field = "state"
	FieldLocked         Field = "locked"
	FieldSSN            Field = "ssn"
	FieldAddress        Field = "address"
	FieldAddressLine1   Field = "address.line1"
	FieldAddressLine2   Field = "address.line2"
	FieldAddressCity    Field = "address.city"
	FieldAddressState   Field = "address.state"
	FieldAddressCountry Field = "address.country"
	FieldAddressZip     Field = "address.zip"
	FieldAliases        Field = "aliases"
	FieldAttributes     Field = "attributes"
	FieldExtras         Field = "extras"
	FieldPartnerCode    Field = "partner_code"
	FieldCreatedAt      Field = "created_at"
	FieldUpdatedAt      Field = "updated_at"
	FieldVersion        Field = "version"

	// FieldAlias matches the value of any alias of the user (filters) or
	// names an alias in a conflict.
	FieldAlias Field = "alias"
	// FieldLogin matches the username or any alias (Entrust's "userId"
	// search and lookup). Filters only.
	FieldLogin Field = "login"
	// FieldGroupID matches users that are members of the group with this
	// id. Filters only.
	FieldGroupID Field = "group_id"
)

// Group fields (filters, sort keys, conflicts).
const (
	FieldDisplayName Field = "display_name"
	FieldMemberID    Field = "member_id" // groups having this user as member
)

// Tenant fields (conflicts).
const (
	FieldTenantName Field = "tenant_name"
)

// User states.
const (
	StateActive   = "ACTIVE"
	StateInactive = "INACTIVE"
)

// UniquePolicy says which user identifiers are unique within a tenant.
// Usernames, aliases and partner codes are always unique; these are the
// optional ones. The default (DefaultUniquePolicy) is e-mail and phone.
type UniquePolicy struct {
	Email      bool
	Phone      bool
	ExternalID bool
}

// Names lists the identifiers p makes unique, as `roster tenant create
// --unique` names them, in that order; empty (not nil) when none.
func (p UniquePolicy) Names() []string {
	names := []string{}
	if p.Email {
		names = append(names, "email")
	}
	if p.Phone {
		names = append(names, "phone")
	}
	if p.ExternalID {
		names = append(names, "external_id")
	}
	return names
}

// DefaultUniquePolicy is the policy of a tenant created without --unique.
var DefaultUniquePolicy = UniquePolicy{Email: true, Phone: true}

// Tenant is one customer of the service. Every other record belongs to
// exactly one tenant, and every store query is scoped by TenantID.
type Tenant struct {
	ID        string // UUID v7, dashed
	Name      string // the slug clients send as CL2C "tenant" / Ownli "partnerId"
	Unique    UniquePolicy
	CreatedAt time.Time
}

// Credential is an API key pair of a tenant. Only SecretHash is stored.
type Credential struct {
	ClientID   string // 32 lowercase hex characters
	TenantID   string
	SecretHash []byte // secret.Hash of the secret
	CreatedAt  time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
	// RateLimit is the credential's own budget in requests a minute:
	// nil follows the server's limit, 0 is unlimited.
	RateLimit *int
}

// CredentialInfo is a credential joined with its tenant, as authentication
// needs it.
type CredentialInfo struct {
	Credential
	Tenant Tenant
}

// Token is a session token issued by an authenticate call (Entrust
// authenticate, Ownli /api/auth/token). Only Hash is stored.
type Token struct {
	Hash      []byte // secret.Hash of the token
	ClientID  string
	TenantID  string
	Kind      string // issuing dialect, e.g. "entrust", "ownli"
	Scope     string // dialect-defined, e.g. Ownli "admin" or "user"
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Principal is who is calling: the result of authentication. Every Service
// call that reads or writes users takes one, and the tenant comes from it,
// never from a request body.
type Principal struct {
	TenantID   string
	TenantName string
	ClientID   string
	Unique     UniquePolicy
	Scope      string // token scope, "" for a static credential
}

// Address is a postal address. Empty strings mean absent.
type Address struct {
	Line1   string
	Line2   string
	City    string
	State   string
	Country string
	Zip     string
}

// IsZero reports whether no field of the address is set.
func (a Address) IsZero() bool { return a == Address{} }

// Alias is an additional login name of a user (Entrust userAliases). Alias
// values share one namespace with usernames: unique per tenant, compared
// case-insensitively.
type Alias struct {
	ID    string // UUID v7, assigned by the core
	Type  string // e.g. Entrust "CUSTOM"
	Value string
}

// Attribute is a named custom value (Entrust userAttributeValues).
type Attribute struct {
	Name  string
	Value string
}

// User is one entry of a tenant's directory. Strings are empty when absent.
// The values are kept as the client sent them (trimmed); the *Norm fields
// beside them are the core's normalised forms, used for uniqueness and
// search, and are set by the Service, never by dialects.
type User struct {
	ID       string // UUID v7, dashed lower-case
	TenantID string

	Username       string
	ExternalID     string
	ExternalSource string
	FirstName      string
	LastName       string
	Email          string
	EmailVerified  bool
	Phone          string
	PhoneVerified  bool
	Mobile         string
	Locale         string
	State          string // StateActive or StateInactive
	Locked         bool
	SSN            secret.Value // 9 digits when set; encrypted at rest by the store
	Address        Address      // the primary (else first) of Values[KindAddress]
	// Values holds every value of the user's multi-valued attributes,
	// in the order written. Email, Phone, Mobile and Address are the
	// single-valued view of the e-mail, phone and address lists that
	// other dialects read and write; the Service keeps both in step
	// (see syncValues), so a list is never empty while its single field
	// is set.
	Values     map[ValueKind][]Value
	Aliases    []Alias
	Attributes []Attribute
	// Extras holds vendor-specific values with no column of their own:
	// Ownli tosAnswer, customField1..5, adminNote; CL2C walletAddress,
	// pushToken, authLocation; SCIM displayName, nickName, title and the
	// like. Keys are the dialect's documented names.
	Extras      map[string]string
	PartnerCode string // short code unique in the tenant (Ownli partnerCode)

	UsernameNorm string // lower-cased username
	EmailNorm    string // lower-cased e-mail
	PhoneNorm    string // E.164 where the phone parses, else its digits
	MobileNorm   string // as PhoneNorm, for Mobile

	Version   int64 // 1 on create, +1 on every update
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Clone returns a deep copy of u, so a mutation callback can be compared
// with the original.
func (u *User) Clone() *User {
	c := *u
	c.Aliases = append([]Alias(nil), u.Aliases...)
	c.Attributes = append([]Attribute(nil), u.Attributes...)
	c.Values = cloneValues(u.Values)
	if u.Extras != nil {
		c.Extras = make(map[string]string, len(u.Extras))
		for k, v := range u.Extras {
			c.Extras[k] = v
		}
	}
	return &c
}

// Member is one member of a group.
type Member struct {
	UserID  string
	Display string // filled on read: the user's display name (first + last, else username)
}

// Group is a named set of users of one tenant (SCIM Groups).
type Group struct {
	ID          string // UUID v7
	TenantID    string
	DisplayName string
	ExternalID  string
	Members     []Member
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// GroupRef is a group seen from one of its members (SCIM User.groups).
type GroupRef struct {
	ID          string
	DisplayName string
}
