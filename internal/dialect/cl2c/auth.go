package cl2c

import (
	"fmt"
	"net/http"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// maxTenantName bounds the tenant header before any lookup: tenant names
// are at most 64 characters (directory.Service.CreateTenant).
const maxTenantName = 64

// authedFunc is a handler that runs for an authenticated caller.
type authedFunc func(w http.ResponseWriter, r *http.Request, p directory.Principal) error

// authed authenticates the request and calls next with the principal.
//
// The vendor: "Authentication headers including tenant and X-API-Key are
// required to ensure secure access." The tenant header is the tenant's name
// and X-API-Key a credential secret of that tenant. A key of another tenant
// is refused like a wrong key: the pair must agree.
func (h *Handler) authed(next authedFunc) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := h.authenticate(r)
		if err != nil {
			return err
		}
		return next(w, httpapi.WithPrincipal(r, p), p)
	}
}

// authenticate checks the tenant and X-API-Key headers. Every failure is
// 401; the causes differ only in the access log.
func (h *Handler) authenticate(r *http.Request) (directory.Principal, error) {
	tenants, keys := r.Header.Values("tenant"), r.Header.Values("X-API-Key")
	if len(tenants) == 0 || len(keys) == 0 || tenants[0] == "" || keys[0] == "" {
		return directory.Principal{}, &httpapi.HTTPError{Status: http.StatusUnauthorized,
			Public: msgAuthHeaders, Cause: fmt.Errorf("%w: missing tenant or X-API-Key header", directory.ErrUnauthenticated)}
	}
	if len(tenants) > 1 || len(keys) > 1 {
		return directory.Principal{}, fmt.Errorf("%w: repeated tenant or X-API-Key header", directory.ErrUnauthenticated)
	}
	if len(tenants[0]) > maxTenantName {
		return directory.Principal{}, fmt.Errorf("%w: tenant header too long", directory.ErrUnauthenticated)
	}
	p, err := h.svc.AuthenticateSecret(r.Context(), keys[0])
	if err != nil {
		return directory.Principal{}, err // ErrUnauthenticated, or a store failure (500)
	}
	if p.TenantName != tenants[0] {
		return directory.Principal{}, fmt.Errorf("%w: X-API-Key belongs to another tenant", directory.ErrUnauthenticated)
	}
	return p, nil
}
