package entrust

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// tokenKind marks the session tokens this dialect issues; a token of
// another dialect (Ownli's, say) is not accepted here.
const tokenKind = "entrust"

// sessionCookie is the cookie authenticate sets when enableWebSession is
// true.
const sessionCookie = "INTELLITRUST_SESSION_ID"

// timeLayout is the vendor's date-time format ("2020-01-23T16:30:58Z").
const timeLayout = "2006-01-02T15:04:05Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

type authRequest struct {
	ApplicationID    *string `json:"applicationId"`
	SharedSecret     *string `json:"sharedSecret"`
	EnableWebSession bool    `json:"enableWebSession"`
}

type authResult struct {
	AuthToken      string `json:"authToken"`
	CreationTime   string `json:"creationTime"`
	ExpirationTime string `json:"expirationTime"`
}

// authenticate implements POST /api/web/v1/adminapi/authenticate.
//
// Vendor: "Authenticate to an Admin API application." Request
// AdminApiAuthentication {applicationId (required), sharedSecret
// (required), enableWebSession: "If set to true, a session cookie named
// INTELLITRUST_SESSION_ID is returned with the authentication response.
// This cookie must be returned with all subsequent requests."} Response
// AdminApiAuthenticationResult {authToken, creationTime, expirationTime}.
// The auth guide's example token lives 15 minutes, then calls answer 401.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) error {
	var body authRequest
	if err := httpapi.DecodeJSON(w, r, &body, smallBody); err != nil {
		return err
	}
	var fe fieldErrors
	if body.ApplicationID == nil || *body.ApplicationID == "" {
		fe.add("applicationId", directory.CodeRequired, "Application id cannot be null")
	}
	if body.SharedSecret == nil || *body.SharedSecret == "" {
		fe.add("sharedSecret", directory.CodeRequired, "Shared secret cannot be null")
	}
	if err := fe.err(); err != nil {
		return err
	}
	p, err := h.svc.Authenticate(r.Context(), strings.TrimSpace(*body.ApplicationID), *body.SharedSecret)
	if err != nil {
		if errors.Is(err, directory.ErrUnauthenticated) {
			return errCredentials
		}
		return err
	}
	r = httpapi.WithPrincipal(r, p) // for the access log
	tok, t, err := h.svc.IssueToken(r.Context(), p, tokenKind, "", h.ttl)
	if err != nil {
		return err
	}
	if body.EnableWebSession {
		http.SetCookie(w, &http.Cookie{
			Name:     sessionCookie,
			Value:    tok,
			Path:     "/",
			MaxAge:   int(h.ttl / time.Second),
			HttpOnly: true,
			Secure:   r.TLS != nil,
			SameSite: http.SameSiteStrictMode,
		})
	}
	return httpapi.WriteJSON(w, http.StatusOK, authResult{
		AuthToken:      tok,
		CreationTime:   formatTime(t.CreatedAt),
		ExpirationTime: formatTime(t.ExpiresAt),
	})
}

// authed wraps next with the vendor's authentication: the Authorization
// header carries "Bearer <token>" or a bare "<token>" (both documented),
// or "<applicationId>,<sharedSecret>" (the form the public intellitrust-js
// SDK sends without calling authenticate); without the header, the session
// cookie of an enableWebSession authentication is accepted. Tokens and
// secrets are base64url or hex, so a comma is unambiguous.
func (h *Handler) authed(next httpapi.HandlerFunc) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := h.principal(r)
		if err != nil {
			return err
		}
		return next(w, httpapi.WithPrincipal(r, p))
	}
}

func (h *Handler) principal(r *http.Request) (directory.Principal, error) {
	ctx := r.Context()
	if v := strings.TrimSpace(r.Header.Get("Authorization")); v != "" {
		if scheme, rest, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return h.svc.AuthenticateToken(ctx, tokenKind, strings.TrimSpace(rest))
		}
		if app, sec, ok := strings.Cut(v, ","); ok {
			return h.svc.Authenticate(ctx, strings.TrimSpace(app), strings.TrimSpace(sec))
		}
		return h.svc.AuthenticateToken(ctx, tokenKind, v)
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		return h.svc.AuthenticateToken(ctx, tokenKind, c.Value)
	}
	return directory.Principal{}, directory.ErrUnauthenticated
}
