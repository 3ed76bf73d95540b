package scim

import (
	"net/http"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// auth requires "Authorization: Bearer <credential secret>", the OAuth
// bearer scheme that ServiceProviderConfig advertises (RFC 7644 §2; Okta
// "HTTP Header" and Entra ID "Secret Token" both send it so). The secret is
// the one `roster credential create` prints; it carries its client id.
func (h *Handler) auth(next httpapi.HandlerFunc) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tok, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			return directory.ErrUnauthenticated
		}
		p, err := h.svc.AuthenticateSecret(r.Context(), tok)
		if err != nil {
			return err
		}
		return next(w, httpapi.WithPrincipal(r, p))
	}
}

// bearer extracts the token of a Bearer authorization (scheme
// case-insensitive, RFC 7235 §2.1).
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// principal returns the authenticated caller; auth guarantees it.
func principal(r *http.Request) directory.Principal {
	p, _ := httpapi.PrincipalFrom(r.Context())
	return p
}
