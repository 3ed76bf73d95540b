package scim

import (
	"net/http"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// basePath is where the SCIM service lives.
const basePath = "/scim/v2"

// Limits advertised in /ServiceProviderConfig and enforced.
const (
	// MaxResults is the largest page a list or search returns (the
	// filter.maxResults of the ServiceProviderConfig); a larger count is
	// reduced to it, as RFC 7644 §3.4.2.4 allows.
	MaxResults = directory.MaxPageSize
	// MaxBulkOperations and MaxBulkPayload bound one /Bulk request; beyond
	// them the answer is 413 (RFC 7644 §3.7.4).
	MaxBulkOperations = 1000
	MaxBulkPayload    = httpapi.DefaultMaxBody // the server-wide body limit: 1 MiB
)

// maxBody bounds single-resource request bodies.
const maxBody = 256 << 10

var decodeOpts = httpapi.DecodeOptions{MaxBytes: maxBody, RequireJSONType: true}

// Options configure the SCIM dialect. The zero value is usable.
type Options struct {
	// BaseURL is the public origin used in meta.location and Location
	// headers, e.g. "https://roster.example.com". Empty: the request's
	// scheme and Host.
	BaseURL string
}

// Handler serves SCIM 2.0 (RFC 7643, RFC 7644) under /scim/v2.
type Handler struct {
	svc  *directory.Service
	opts Options
}

// New returns the SCIM dialect over svc.
func New(svc *directory.Service, o Options) *Handler {
	return &Handler{svc: svc, opts: o}
}

// Register mounts the routes on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	handle := func(pattern string, fn httpapi.HandlerFunc) {
		mux.Handle(pattern, httpapi.Tag("scim", httpapi.Adapt(fn, render)))
	}
	authed := func(pattern string, fn httpapi.HandlerFunc) { handle(pattern, h.auth(fn)) }
	// Creates, replaces and patches honour Idempotency-Key; /Bulk refuses
	// it (docs/scim.md).
	idem := func(pattern string, fn httpapi.HandlerFunc) { authed(pattern, httpapi.IdempotentHandler(h.svc, fn)) }
	notAllowed := func(allow string) httpapi.HandlerFunc {
		return func(http.ResponseWriter, *http.Request) error { return methodNotAllowed(allow) }
	}

	// Discovery needs no credential (RFC 7644 §4: "SHOULD NOT require
	// authentication"); it describes the server, not any tenant's data.
	handle("GET "+basePath+"/ServiceProviderConfig", h.serviceProviderConfig)
	handle("GET "+basePath+"/ResourceTypes", h.resourceTypes)
	handle("GET "+basePath+"/ResourceTypes/{id}", h.resourceType)
	handle("GET "+basePath+"/Schemas", h.schemas)
	handle("GET "+basePath+"/Schemas/{id}", h.schema)
	for _, p := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/{id}", "/Schemas", "/Schemas/{id}"} {
		handle(basePath+p, notAllowed("GET"))
	}

	authed("GET "+basePath+"/Users", h.listUsers)
	idem("POST "+basePath+"/Users", h.createUser)
	handle(basePath+"/Users", notAllowed("GET, POST"))
	authed("POST "+basePath+"/Users/.search", h.searchUsers)
	authed("GET "+basePath+"/Users/{id}", h.getUser)
	idem("PUT "+basePath+"/Users/{id}", h.replaceUser)
	idem("PATCH "+basePath+"/Users/{id}", h.patchUser)
	authed("DELETE "+basePath+"/Users/{id}", h.deleteUser)
	handle(basePath+"/Users/{id}", notAllowed("GET, PUT, PATCH, DELETE"))

	authed("GET "+basePath+"/Groups", h.listGroups)
	idem("POST "+basePath+"/Groups", h.createGroup)
	handle(basePath+"/Groups", notAllowed("GET, POST"))
	authed("POST "+basePath+"/Groups/.search", h.searchGroups)
	authed("GET "+basePath+"/Groups/{id}", h.getGroup)
	idem("PUT "+basePath+"/Groups/{id}", h.replaceGroup)
	idem("PATCH "+basePath+"/Groups/{id}", h.patchGroup)
	authed("DELETE "+basePath+"/Groups/{id}", h.deleteGroup)
	handle(basePath+"/Groups/{id}", notAllowed("GET, PUT, PATCH, DELETE"))
	// A method other than POST on .search: the {id} routes would read it as
	// an id; answer 405 instead.
	for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
		handle(m+" "+basePath+"/Users/.search", notAllowed("POST"))
		handle(m+" "+basePath+"/Groups/.search", notAllowed("POST"))
	}

	authed("POST "+basePath+"/Bulk", httpapi.RefusingIdempotencyKey(h.bulk))
	handle(basePath+"/Bulk", notAllowed("POST"))

	// RFC 7644 §3.11: a server without /Me answers 501.
	handle(basePath+"/Me", func(http.ResponseWriter, *http.Request) error {
		return &Error{Status: http.StatusNotImplemented, Detail: "/Me is not supported: credentials are not users."}
	})
	// Resource type and endpoint names are matched case-insensitively, as
	// Microsoft's reference server does (/scim/v2/users): a path that is
	// canonical only up to case is served as its canonical form; the
	// answers' meta.location keep the canonical spelling.
	handle(basePath+"/", func(w http.ResponseWriter, r *http.Request) error {
		if canon, ok := canonicalPath(r.URL.Path); ok && canon != r.URL.Path {
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = canon, ""
			mux.ServeHTTP(w, r2)
			return nil
		}
		return &Error{Status: http.StatusNotFound, Detail: "No SCIM endpoint at " + clip(r.URL.Path) + "."}
	})
}

// endpoints are the first path segments under basePath, canonically spelt.
var endpoints = []string{"Users", "Groups", "Schemas", "ResourceTypes", "ServiceProviderConfig", "Bulk", "Me"}

// canonicalPath returns p with its endpoint segment (and .search) spelt
// canonically, and without a trailing slash, when it names an endpoint.
func canonicalPath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, basePath+"/")
	if !ok {
		return "", false
	}
	seg, tail, _ := strings.Cut(rest, "/")
	for _, e := range endpoints {
		if strings.EqualFold(seg, e) {
			if strings.EqualFold(tail, ".search") {
				tail = ".search"
			}
			out := basePath + "/" + e
			if tail != "" {
				out += "/" + tail
			}
			return out, true // without a trailing slash: the routes have none
		}
	}
	return "", false
}

// writeResource writes one resource with its weak ETag.
func writeResource(w http.ResponseWriter, status int, res map[string]any, version int64, location string) error {
	w.Header().Set("ETag", etag(version))
	if location != "" {
		w.Header().Set("Location", location)
	}
	return writeSCIM(w, status, res)
}

// parseETags parses an If-Match or If-None-Match value: "*" or a list of
// entity tags, weak (W/"3") or strong ("3"). any is true for "*". A tag
// that is not one of Roster's versions is returned as -1, which matches
// nothing. (The shared httpapi.ParseETags, which every dialect uses.)
func parseETags(v string) (versions []int64, any bool) {
	return httpapi.ParseETags(v)
}

// ifMatch returns the version to pass to the core's ifVersion for a
// request's If-Match header: 0 when absent or "*"; with several tags,
// current (a function reading the stored version) picks the one that
// matches, or fails with ErrPrecondition (see httpapi.IfMatch).
func ifMatch(header string, current func() (int64, error)) (int64, error) {
	return httpapi.IfMatch(header, current)
}

// notModified answers 304 with the ETag, and reports true, when the
// request's If-None-Match matches version.
func notModified(w http.ResponseWriter, r *http.Request, version int64) bool {
	if !noneMatch(r, version) {
		return false
	}
	w.Header().Set("ETag", etag(version))
	w.WriteHeader(http.StatusNotModified)
	return true
}

// noneMatch reports whether If-None-Match matches version.
func noneMatch(r *http.Request, version int64) bool {
	return httpapi.NoneMatch(r.Header.Get("If-None-Match"), version)
}

// decodeObject reads a JSON object body.
func decodeObject(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	var m map[string]any
	if err := httpapi.DecodeJSON(w, r, &m, decodeOpts); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, badRequest(typeInvalidSyntax, "the request body must be a JSON object")
	}
	return m, nil
}
