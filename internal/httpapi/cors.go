package httpapi

import (
	"net/http"
	"strings"
)

// CORS answers browsers' cross-origin requests for an operator-configured
// allow-list of origins (ROSTER_CORS_ORIGINS). The zero value, and a nil
// *CORS, allow no origin: responses carry no CORS headers, as before.
//
// Roster authenticates with headers (Truv X-Access-*, CL2C tenant and
// X-API-Key, Ownli partnerId/clientId/clientSecret, bearer tokens), never
// with cookies, so responses never say Access-Control-Allow-Credentials:
// a browser on an allowed origin must send the headers itself, and a page
// on any other origin cannot make a visitor's browser call Roster with
// credentials it holds.
type CORS struct {
	any     bool
	origins map[string]bool // lower-cased "scheme://host[:port]"
}

// NewCORS returns the policy for origins: each "scheme://host[:port]", or
// "*" for every origin. Comparison ignores case. It returns nil when
// origins is empty.
func NewCORS(origins []string) *CORS {
	if len(origins) == 0 {
		return nil
	}
	c := &CORS{origins: map[string]bool{}}
	for _, o := range origins {
		if o == "*" {
			c.any = true
			continue
		}
		c.origins[strings.ToLower(strings.TrimRight(o, "/"))] = true
	}
	return c
}

// CORS response values. The request headers are every dialect's
// credential and conditional headers: Truv X-Access-Client-Id and
// X-Access-Secret; CL2C tenant and X-API-Key; Ownli partnerId, clientId and
// clientSecret; Entrust, Ownli-token and SCIM Authorization; SCIM If-Match
// and If-None-Match; and Content-Type, which browsers do not let through
// for application/json without a preflight.
const (
	corsAllowMethods  = "GET, HEAD, POST, PUT, PATCH, DELETE"
	corsAllowHeaders  = "Accept, Authorization, Content-Type, If-Match, If-None-Match, X-Request-Id, X-Access-Client-Id, X-Access-Secret, tenant, X-API-Key, partnerId, clientId, clientSecret"
	corsExposeHeaders = "X-Request-Id, Location, ETag, Allow, X-Total-Count"
	corsMaxAge        = "600" // seconds a browser may cache a preflight
)

// allowed reports whether origin may call Roster from a browser.
func (c *CORS) allowed(origin string) bool {
	if c == nil || origin == "" {
		return false
	}
	return c.any || c.origins[strings.ToLower(origin)]
}

// handle applies the policy to one request. It answers a preflight from an
// allowed origin itself (204, before any dialect authenticates: browsers
// send preflights without credentials) and reports true; for other
// requests from an allowed origin it adds the response headers and reports
// false. Requests from other origins pass untouched: no CORS headers, so
// the browser refuses to hand the response to the page.
func (c *CORS) handle(w http.ResponseWriter, r *http.Request) bool {
	if c == nil {
		return false
	}
	h := w.Header()
	// The answer depends on Origin (and, for preflights, on what is asked),
	// so caches must key on it even when the origin is refused.
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if !c.allowed(origin) {
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", corsAllowMethods)
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	return false
}
