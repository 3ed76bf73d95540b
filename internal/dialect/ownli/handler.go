package ownli

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// Handler serves the Ownli routes.
type Handler struct {
	svc *directory.Service
}

// New returns the Ownli dialect over svc. It has nothing to configure: it
// serves Ownli's documented behaviour.
func New(svc *directory.Service) *Handler {
	return &Handler{svc: svc}
}

// Paging of GET /api/users.
const (
	defaultPageSize = 50
	maxPageSize     = 200
	maxPage         = 1_000_000 // bounds the offset a client can ask the database for
)

// Register mounts the routes on mux. A known path with another method is
// 405 in Ownli's format; any other path under /api/users/ is 404.
func (h *Handler) Register(mux *http.ServeMux) {
	handle := func(pattern string, fn httpapi.HandlerFunc) {
		mux.Handle(pattern, httpapi.Tag("ownli", httpapi.Adapt(fn, render)))
	}
	handle("POST /api/auth/token", h.issueToken)
	handle("/api/auth/token", methodNotAllowed("POST"))

	handle("POST /api/users", h.authed(adminOnly, httpapi.IdempotentAuthed(h.svc, h.createUser)))
	handle("GET /api/users", h.authed(adminOnly, h.listUsers))
	handle("/api/users", methodNotAllowed("GET, HEAD, POST"))

	handle("GET /api/users/{userId}", h.authed(userAllowed, h.getUser))
	handle("PUT /api/users/{userId}", h.authed(userAllowed, httpapi.IdempotentAuthed(h.svc, h.updateUser)))
	handle("DELETE /api/users/{userId}", h.authed(adminOnly, h.deleteUser))
	handle("/api/users/{userId}", methodNotAllowed("DELETE, GET, HEAD, PUT"))

	handle("/api/users/", notFound)
}

// methodNotAllowed answers a known path with an unsupported method.
func methodNotAllowed(allow string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allow)
		return &apiError{Status: http.StatusMethodNotAllowed, Code: codeMethodNotAllowed,
			Message: "Method " + r.Method + " is not allowed on this path"}
	}
}

func notFound(w http.ResponseWriter, r *http.Request) error {
	return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "Not found"}
}

// issueToken implements the token flow.
//
// Ownli: "POST /api/auth/token with {clientId, clientSecret, partnerId,
// scope: "admin" | "user"} returns {access_token, token_type: "Bearer",
// expires_in: 3600, partner_id, scope}. Tokens expire after 1 hour. A
// user-scoped token cannot create or list users."
func (h *Handler) issueToken(w http.ResponseWriter, r *http.Request) error {
	var body tokenRequest
	if err := httpapi.DecodeJSON(w, r, &body, decodeOpts); err != nil {
		return err
	}
	if body.ClientID == "" || body.ClientSecret == "" || body.PartnerID == "" {
		return invalidParam("clientId, clientSecret and partnerId are required")
	}
	scope := body.Scope
	switch scope {
	case "":
		scope = scopeAdmin // what the legacy headers grant; the credential can ask for it anyway
	case scopeAdmin, scopeUser:
	default:
		return invalidParam(`scope must be "admin" or "user"`)
	}
	p, err := h.authenticateTriple(r, body.PartnerID, body.ClientID, body.ClientSecret)
	if err != nil {
		return err
	}
	r = httpapi.WithPrincipal(r, p)
	tok, t, err := h.svc.IssueToken(r.Context(), p, tokenKind, scope, tokenTTL)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	return httpapi.WriteJSON(w, http.StatusOK, tokenResponse{
		AccessToken: tok,
		TokenType:   "Bearer",
		ExpiresIn:   int(t.ExpiresAt.Sub(t.CreatedAt).Seconds()),
		PartnerID:   p.TenantName,
		Scope:       scope,
	})
}

// createUser implements user creation.
//
// Ownli: "POST /api/users — Create a user in the Ownli System. This method
// requires the caller to pass the user attributes. If a user with the same
// email or cell phone exists return an error." Query
// returnExistingUserIfExists: "Return the user object if a user matching the
// email or phone number exists. Default behavior is to return an error."
// Response: "The created user object."
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return invalidParam("the query string is malformed")
	}
	returnExisting, err := boolParam(q, "returnExistingUserIfExists")
	if err != nil {
		return err
	}
	var body createBody
	if err := httpapi.DecodeJSON(w, r, &body, decodeOpts); err != nil {
		return err
	}
	in, err := body.user()
	if err != nil {
		return err
	}
	var u *directory.User
	if returnExisting {
		u, _, err = h.svc.CreateOrGetUser(r.Context(), p, in, rules)
	} else {
		u, err = h.svc.CreateUser(r.Context(), p, in, rules)
	}
	if err != nil {
		return err
	}
	httpapi.SetETag(w, u.Version) // Roster's addition, a header only (docs/ownli.md)
	return httpapi.WriteJSON(w, http.StatusOK, toWire(u))
}

// updateUser implements the partial update.
//
// Ownli: "PUT /api/users/:userId — Update a user." Every body field is
// optional; "if address is sent, address.state is required". Errors: 404
// ERROR_USER_NOT_FOUND, 409 "User exists with phone or email". Roster's
// addition: an If-Match naming another version is 412
// ERROR_PRECONDITION_FAILED (docs/ownli.md, "ETags and If-Match").
func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	id, ok := directory.ParseID(r.PathValue("userId"))
	if !ok {
		return directory.ErrNotFound
	}
	var body updateBody
	if err := httpapi.DecodeJSON(w, r, &body, decodeOpts); err != nil {
		return err
	}
	if err := body.check(); err != nil {
		return err
	}
	ifv, err := httpapi.IfMatchUser(r, h.svc, p, id)
	if err != nil {
		return err
	}
	u, err := h.svc.UpdateUser(r.Context(), p, id, rules, ifv, body.apply)
	if err != nil {
		return httpapi.Precondition(err, ifv)
	}
	httpapi.SetETag(w, u.Version)
	return httpapi.WriteJSON(w, http.StatusOK, toWire(u))
}

// getUser returns one user. Not in Ownli's public pages; Roster's addition.
func (h *Handler) getUser(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	u, err := h.svc.GetUser(r.Context(), p, r.PathValue("userId"))
	if err != nil {
		return err
	}
	return httpapi.WriteCurrent(w, r, u.Version, toWire(u))
}

// deleteUser deletes one user and answers 204. Roster's addition.
func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	id := r.PathValue("userId")
	ifv, err := httpapi.IfMatchUser(r, h.svc, p, id)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteUser(r.Context(), p, id, ifv); err != nil {
		return httpapi.Precondition(err, ifv)
	}
	return httpapi.NoContent(w, http.StatusNoContent)
}

// listUsers returns a page of the partner's users, oldest first, with
// optional exact e-mail and phone filters. Roster's addition: Ownli's
// integration guide says admins can "list users" but documents no route.
func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return invalidParam("the query string is malformed")
	}
	page, err := intParam(q, "page", 1, 1, maxPage)
	if err != nil {
		return err
	}
	size, err := intParam(q, "pageSize", defaultPageSize, 1, maxPageSize)
	if err != nil {
		return err
	}
	var filters []directory.Expr
	if v, err := stringParam(q, "email"); err != nil {
		return err
	} else if v != "" {
		filters = append(filters, directory.Cmp{Field: directory.FieldEmail, Op: directory.OpEq, Value: directory.NormalizeEmail(v), Fold: true})
	}
	if v, err := stringParam(q, "phone"); err != nil {
		return err
	} else if v != "" {
		filters = append(filters, directory.Cmp{Field: directory.FieldPhone, Op: directory.OpEq, Value: v})
	}
	res, err := h.svc.ListUsers(r.Context(), p, directory.UserQuery{
		Filter: directory.AllOf(filters...),
		Offset: (page - 1) * size,
		Limit:  size,
		Total:  true,
	})
	if err != nil {
		return err
	}
	out := listBody{Users: make([]wireUser, 0, len(res.Users)), Page: page, PageSize: size, Total: res.Total}
	for _, u := range res.Users {
		out.Users = append(out.Users, toWire(u))
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

// stringParam returns the one value of a query parameter ("" when absent).
func stringParam(q url.Values, name string) (string, error) {
	vals := q[name]
	switch {
	case len(vals) == 0:
		return "", nil
	case len(vals) > 1:
		return "", invalidParam(name + " may be given only once")
	case len(vals[0]) > 256:
		return "", invalidParam(name + " is too long")
	}
	return strings.TrimSpace(vals[0]), nil
}

// boolParam reads an optional boolean query parameter: true/false in any
// case, or 1/0. Anything else, an empty value included, is 400.
func boolParam(q url.Values, name string) (bool, error) {
	vals, present := q[name]
	if !present {
		return false, nil
	}
	if len(vals) == 1 {
		switch strings.ToLower(vals[0]) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
	}
	return false, invalidParam(name + " must be true or false")
}

// intParam reads an optional integer query parameter in [lo, hi].
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	vals, present := q[name]
	if !present {
		return def, nil
	}
	if len(vals) == 1 {
		if n, err := strconv.Atoi(vals[0]); err == nil && n >= lo && n <= hi {
			return n, nil
		}
	}
	return 0, invalidParam(name + " must be an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi))
}
