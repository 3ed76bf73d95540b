package httpapi

import (
	"net/http"
	"strings"
)

// Router is what MiddlewareWith needs to route a path with a trailing slash
// to the route registered without one. *http.ServeMux implements it.
type Router interface {
	Handler(r *http.Request) (h http.Handler, pattern string)
}

// trimTrailingSlash returns r with the trailing slash of its path removed
// when the slashed path is served only by a catch-all ("/api/web/", "/")
// or by nothing, and the path without the slash by a route of its own or
// by that same catch-all (which then sees the path without the slash, as
// it would from a client that sent none: SCIM's catch-all matches resource
// names case-insensitively, "/scim/v2/users/" among them). Otherwise it
// returns r.
//
// Vendors and their clients disagree about trailing slashes: Truv's paths
// end in one, Entrust's, CL2C's, Ownli's and SCIM's do not, and generated
// clients add or drop one freely. Answering both spellings in one place,
// rather than registering each route twice in every dialect, keeps the
// dialects' route tables the vendors' own. A route that registers the
// slashed form itself (Truv's "/v1/users/{$}") keeps it: it is matched
// exactly, so nothing is rewritten. The request is routed, never
// redirected: many clients follow a redirected POST with a GET.
func trimTrailingSlash(rt Router, r *http.Request) *http.Request {
	p := r.URL.Path
	if len(p) < 2 || !strings.HasSuffix(p, "/") {
		return r
	}
	_, slashed := rt.Handler(r)
	if slashed != "" && !isCatchAll(slashed) {
		return r // a route of its own
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path = strings.TrimSuffix(p, "/")
	u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	r2.URL = &u
	_, trimmed := rt.Handler(r2)
	switch {
	case trimmed == "":
		return r
	case isCatchAll(trimmed) && (trimmed != slashed || patternPath(trimmed) == p):
		// Another catch-all, or the mux's redirect from "/x" to the
		// subtree root "/x/" that p already is.
		return r
	}
	return r2
}

// patternPath returns the path of a ServeMux pattern, without its method
// and host.
func patternPath(pattern string) string {
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		return pattern[i:]
	}
	return pattern
}

// isCatchAll reports whether a ServeMux pattern ("[METHOD ][HOST]/PATH")
// matches a whole subtree: its path ends in "/" (and not in "{$}").
func isCatchAll(pattern string) bool {
	return strings.HasSuffix(pattern, "/")
}
