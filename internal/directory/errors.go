package directory

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Dialects test for them with errors.Is and render each in
// their vendor's format; the store returns them (wrapped) from its methods.
var (
	// ErrNotFound: no such record in the caller's tenant. A record that
	// exists in another tenant is also "not found".
	ErrNotFound = errors.New("not found")
	// ErrConflict: a uniqueness rule rejected the write. The concrete error
	// is a *ConflictError that names the identifier.
	ErrConflict = errors.New("conflict")
	// ErrUnauthenticated: missing, unknown, revoked or wrong credentials,
	// or an expired token.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: the caller is authenticated but may not do this (for
	// example an Ownli token of scope "user" creating users).
	ErrForbidden = errors.New("forbidden")
	// ErrPrecondition: an optimistic-concurrency check failed (SCIM If-Match,
	// or the store's expected version no longer matches).
	ErrPrecondition = errors.New("precondition failed")
	// ErrRateLimited: the caller exceeded its request budget.
	ErrRateLimited = errors.New("rate limited")
	// ErrInvalidReference: a write referred to a record that does not exist
	// in the tenant (a group member that is not a user of the tenant). The
	// store returns it from a foreign-key violation.
	ErrInvalidReference = errors.New("invalid reference")
)

// FieldError is one rejected field. Field is the core's field path (see the
// Field constants, e.g. "email", "address.state"); dialects translate it to
// their wire names. Code is a stable machine word, Message is human text in
// English that dialects may pass through.
type FieldError struct {
	Field   Field
	Code    string // "required", "invalid", "too_long", "not_allowed"
	Message string
}

// Codes used in FieldError.Code.
const (
	CodeRequired   = "required"
	CodeInvalid    = "invalid"
	CodeTooLong    = "too_long"
	CodeNotAllowed = "not_allowed"
)

// ValidationError lists every rejected field of one request. Dialects map it
// to 400 in their own format.
type ValidationError struct {
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		parts[i] = fmt.Sprintf("%s: %s", fe.Field, fe.Message)
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Has reports whether the error lists field f.
func (e *ValidationError) Has(f Field) bool {
	for _, fe := range e.Errors {
		if fe.Field == f {
			return true
		}
	}
	return false
}

// add appends a field error.
func (e *ValidationError) add(f Field, code, msg string) {
	e.Errors = append(e.Errors, FieldError{Field: f, Code: code, Message: msg})
}

// orNil returns e when it lists any error, else nil.
func (e *ValidationError) orNil() error {
	if len(e.Errors) == 0 {
		return nil
	}
	return e
}

// Invalid builds a one-field *ValidationError; dialects use it for checks of
// their own wire syntax (an enum the vendor documents, say).
func Invalid(f Field, code, msg string) *ValidationError {
	return &ValidationError{Errors: []FieldError{{Field: f, Code: code, Message: msg}}}
}

// ConflictError says which identifier collided and with which user. It
// matches ErrConflict under errors.Is.
type ConflictError struct {
	// Field is the identifier: FieldUsername, FieldAlias, FieldEmail,
	// FieldPhone, FieldExternalID or FieldPartnerCode for users,
	// FieldDisplayName for groups (display names are unique per tenant,
	// compared lower-cased), FieldTenantName for tenants.
	Field Field
	// Value is the normalised value that collided.
	Value string
	// ExistingID is the id of the record that holds the value, when known.
	ExistingID string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("conflict: %s already in use", e.Field)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
