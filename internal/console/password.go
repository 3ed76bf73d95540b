package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/crypto/argon2"

	"github.com/roster-dev/roster/internal/directory"
)

// argon2id parameters: OWASP's first recommendation (19 MiB, two passes,
// one lane), about 25 ms a hash on our 2-core machines. A stored hash
// carries its own parameters, so raising them later keeps old ones valid.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Password length bounds. The minimum is NIST SP 800-63B's for a
// password chosen by its user; the maximum only bounds the hash's input.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// HashPassword returns the argon2id PHC string of password:
// $argon2id$v=19$m=19456,t=2,p=1$SALT$HASH (unpadded base64).
func HashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt) // crypto/rand never fails (Go 1.24+)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// errBadHash: a stored hash that does not parse. Sign-in treats it as a
// wrong password (and the operator is told nothing more).
var errBadHash = errors.New("malformed password hash")

// VerifyPassword reports whether password matches the PHC string hash,
// comparing in constant time.
func VerifyPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errBadHash
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 16 || p == 0 {
		return false, errBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is verified against when no operator has the e-mail given,
// so an unknown e-mail costs the same time as a wrong password and the
// answer's timing does not tell which e-mails exist.
// It is made on first use, not at start: every roster command links
// this package, and a hash costs 25 ms.
var dummyHash = sync.OnceValue(func() string { return HashPassword("roster-console-no-such-operator") })

// OperatorStore is the storage CreateOperator needs.
type OperatorStore interface {
	CreateOperator(ctx context.Context, o *directory.Operator) error
}

// NormalizeEmail is the form operator e-mails are unique and looked up
// in: trimmed and lower-cased.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CreateOperator validates and stores a new operator with the given
// role and password (hashed here; the password is not kept). A taken
// e-mail is a *directory.ConflictError with Field "email".
func CreateOperator(ctx context.Context, st OperatorStore, email string, role directory.Role, password string, now time.Time) (*directory.Operator, error) {
	email = strings.TrimSpace(email)
	if !directory.ValidEmail(email) || len(email) > 254 {
		return nil, directory.Invalid(directory.FieldEmail, directory.CodeInvalid, "operator e-mail must be an e-mail address")
	}
	if !role.Valid() {
		return nil, directory.Invalid("role", directory.CodeInvalid, "role must be admin or viewer")
	}
	if n := utf8.RuneCountInString(password); n < MinPasswordLen || len(password) > MaxPasswordLen || !utf8.ValidString(password) {
		return nil, directory.Invalid("password", directory.CodeInvalid,
			fmt.Sprintf("password must be %d to %d characters", MinPasswordLen, MaxPasswordLen))
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("create operator: %w", err)
	}
	o := &directory.Operator{ID: id.String(), Email: email, EmailNorm: NormalizeEmail(email), Role: role,
		PasswordHash: HashPassword(password), CreatedAt: now.UTC().Truncate(time.Microsecond)}
	if err := st.CreateOperator(ctx, o); err != nil {
		if errors.Is(err, directory.ErrConflict) {
			return nil, fmt.Errorf("create operator: %w", &directory.ConflictError{Field: directory.FieldEmail, Value: o.EmailNorm})
		}
		return nil, fmt.Errorf("create operator: %w", err)
	}
	return o, nil
}
