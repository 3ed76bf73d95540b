package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Hash returns the SHA-256 of a credential secret or session token.
//
// A fast hash is the right tool here, not argon2 or bcrypt: every secret and
// token Roster issues carries 256 random bits, so there is nothing to
// brute-force, and a slow hash would cost ~25-60 ms of CPU per request
// (../shared/reference/go-modules.md). Password hashes exist to protect
// low-entropy human choices; these are not.
func Hash(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// Equal compares two hashes in constant time.
func Equal(a, b []byte) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare(a, b) == 1
}

// randomBytes returns n bytes from the operating system's CSPRNG.
// crypto/rand.Read never returns an error on supported platforms (Go 1.24+).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// NewClientID returns a client id: 32 lowercase hex characters (128 bits),
// the shape of Truv's documented client ids.
func NewClientID() string { return hex.EncodeToString(randomBytes(16)) }

// secretPrefix marks Roster credential secrets, so a leaked one is easy to
// recognise by secret scanners.
const secretPrefix = "rsk_"

// NewSecret returns a credential secret for clientID: "rsk_", the client id,
// "_", and 43 base64url characters (256 random bits). The client id is in
// the secret so that dialects that send only the secret (CL2C X-API-Key,
// SCIM bearer) can find the credential by its id and then compare hashes in
// constant time, rather than looking a secret up by its own hash.
func NewSecret(clientID string) string {
	return secretPrefix + clientID + "_" + base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

// ClientIDOf returns the client id embedded in a secret made by NewSecret.
func ClientIDOf(secret string) (string, bool) {
	rest, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return "", false
	}
	id, tail, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 32 || tail == "" {
		return "", false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	return id, true
}

// NewToken returns a session token: prefix followed by 43 base64url
// characters (256 random bits).
func NewToken(prefix string) string {
	return prefix + base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

// NewCode returns n characters of Crockford base32 (no I, L, O, U), for
// short human-shareable codes such as Ownli partner codes.
func NewCode(n int) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := randomBytes(n)
	out := make([]byte, n)
	for i := range b {
		out[i] = alphabet[b[i]&31]
	}
	return string(out)
}
