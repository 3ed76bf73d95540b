package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/roster-dev/roster/internal/directory"
)

type ctxKey int

const (
	infoKey ctxKey = iota
	principalKey
)

// Info is the per-request record the access log writes. Middleware creates
// it; dialects fill Dialect (Tag), tenant and client (SetPrincipal) and the
// error (Adapt). It is only touched by the request's own goroutine.
type Info struct {
	RequestID string
	Dialect   string
	TenantID  string
	ClientID  string
	Err       error // the internal cause of an error response, logged only
}

// InfoFrom returns the request's Info, or a throwaway one outside the
// middleware (in unit tests).
func InfoFrom(ctx context.Context) *Info {
	if in, ok := ctx.Value(infoKey).(*Info); ok {
		return in
	}
	return &Info{}
}

// RequestIDFrom returns the request id ("" outside the middleware).
func RequestIDFrom(ctx context.Context) string { return InfoFrom(ctx).RequestID }

// WithPrincipal returns r carrying the authenticated principal, and notes
// its tenant and client for the access log.
func WithPrincipal(r *http.Request, p directory.Principal) *http.Request {
	in := InfoFrom(r.Context())
	in.TenantID, in.ClientID = p.TenantID, p.ClientID
	return r.WithContext(context.WithValue(r.Context(), principalKey, p))
}

// PrincipalFrom returns the principal an auth middleware stored. The bool
// is false on routes without authentication.
func PrincipalFrom(ctx context.Context) (directory.Principal, bool) {
	p, ok := ctx.Value(principalKey).(directory.Principal)
	return p, ok
}

// newRequestID returns 16 random hex characters.
func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// validRequestID reports whether an incoming X-Request-Id is safe to reuse
// (echoed in headers and logs): 1 to 64 of [A-Za-z0-9._-].
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
