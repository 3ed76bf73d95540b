package ownli

import (
	"net/http"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// tokenKind tags the session tokens this dialect issues: a token of
// another dialect (Entrust's) is not accepted here, nor ours there.
const tokenKind = "ownli"

// tokenTTL is Ownli's documented token lifetime ("expires_in": 3600).
const tokenTTL = time.Hour

// Token scopes. Legacy-header callers have no scope and the rights of
// "admin".
const (
	scopeAdmin = "admin"
	scopeUser  = "user"
)

// access says which callers a route admits.
type access int

const (
	adminOnly   access = iota // admin tokens and legacy headers
	userAllowed               // also user-scoped tokens
)

// userHandler is a handler that runs after authentication.
type userHandler func(w http.ResponseWriter, r *http.Request, p directory.Principal) error

// authed authenticates the request, checks the token scope against a and
// runs next with the principal.
func (h *Handler) authed(a access, next userHandler) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := h.authenticate(r)
		if err != nil {
			return err
		}
		r = httpapi.WithPrincipal(r, p)
		switch p.Scope {
		case "", scopeAdmin:
		case scopeUser:
			if a != userAllowed {
				return directory.ErrForbidden
			}
		default:
			return directory.ErrForbidden
		}
		return next(w, r, p)
	}
}

// authenticate reads either form of Ownli credentials.
//
// Ownli: "Authorization: Bearer <token>" with a token from /api/auth/token;
// or (deprecated, "still works") the headers partnerId, clientId and
// clientSecret on every request. An Authorization header, when present,
// decides alone: a bad token is 401 even if valid legacy headers are sent
// too, so a client never silently runs on the other credential.
func (h *Handler) authenticate(r *http.Request) (directory.Principal, error) {
	ctx := r.Context()
	if vals := r.Header.Values("Authorization"); len(vals) > 0 {
		if len(vals) != 1 {
			return directory.Principal{}, directory.ErrUnauthenticated
		}
		scheme, tok, ok := strings.Cut(strings.TrimSpace(vals[0]), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return directory.Principal{}, directory.ErrUnauthenticated
		}
		return h.svc.AuthenticateToken(ctx, tokenKind, strings.TrimSpace(tok))
	}
	partnerID, ok1 := single(r.Header, "partnerId")
	clientID, ok2 := single(r.Header, "clientId")
	sec, ok3 := single(r.Header, "clientSecret")
	if !ok1 || !ok2 || !ok3 {
		return directory.Principal{}, directory.ErrUnauthenticated
	}
	return h.authenticateTriple(r, partnerID, clientID, sec)
}

// authenticateTriple checks a credential and that it belongs to the
// partner (tenant) named. A mismatch is the same 401 as a wrong secret.
func (h *Handler) authenticateTriple(r *http.Request, partnerID, clientID, sec string) (directory.Principal, error) {
	p, err := h.svc.Authenticate(r.Context(), clientID, sec)
	if err != nil {
		return directory.Principal{}, err
	}
	if p.TenantName != partnerID {
		return directory.Principal{}, directory.ErrUnauthenticated
	}
	return p, nil
}

// single returns the one value of header name (case-insensitive, as HTTP
// says). Missing, empty or repeated headers are not credentials.
func single(hd http.Header, name string) (string, bool) {
	vals := hd.Values(name)
	if len(vals) != 1 {
		return "", false
	}
	v := strings.TrimSpace(vals[0])
	return v, v != ""
}
