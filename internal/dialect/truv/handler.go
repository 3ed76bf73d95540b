package truv

import (
	"net/http"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// dialect is the access-log tag of every Truv request.
const dialect = "truv"

// Options configure the Truv dialect. The zero value is the default.
type Options struct {
	// PublicURL is the origin clients reach Roster at (e.g.
	// https://roster.example.com), for the absolute next/previous links;
	// empty: taken from each request.
	PublicURL string
}

// Handler serves Truv's users API over a directory.Service.
type Handler struct {
	svc  *directory.Service
	opts Options
}

// New returns the Truv dialect over svc.
func New(svc *directory.Service, o Options) *Handler {
	return &Handler{svc: svc, opts: o}
}

// authedFunc is a handler that runs after authentication.
type authedFunc func(w http.ResponseWriter, r *http.Request, p directory.Principal) error

// Allow headers of the two resources.
const (
	allowCollection = "GET, POST, HEAD"
	allowItem       = "GET, PATCH, DELETE, HEAD"
	allowTokens     = "POST"
)

// Register mounts the routes on mux. Truv's paths end with "/"; both
// spellings are served directly (never redirected: a redirected POST loses
// its body with many clients). Any other method on a known path is a DRF
// 405, and any other path under /v1/ a Truv 404 (CL2C's /v1/cl2c/ is more
// specific and stays CL2C's).
func (h *Handler) Register(mux *http.ServeMux) {
	for _, path := range []string{"/v1/users", "/v1/users/{$}"} {
		mux.Handle("GET "+path, h.route(h.listUsers))
		mux.Handle("POST "+path, h.route(httpapi.IdempotentAuthed(h.svc, h.createUser)))
		mux.Handle(path, h.route(methodNotAllowed(allowCollection)))
	}
	for _, path := range []string{"/v1/users/{id}", "/v1/users/{id}/{$}"} {
		mux.Handle("GET "+path, h.route(h.getUser))
		mux.Handle("PATCH "+path, h.route(httpapi.IdempotentAuthed(h.svc, h.updateUser)))
		mux.Handle("DELETE "+path, h.route(h.deleteUser))
		mux.Handle(path, h.route(methodNotAllowed(allowItem)))
	}
	for _, path := range []string{"/v1/users/{id}/tokens", "/v1/users/{id}/tokens/{$}"} {
		mux.Handle("POST "+path, h.route(h.createBridgeToken))
		mux.Handle(path, h.route(methodNotAllowed(allowTokens)))
	}
	mux.Handle("/v1/", httpapi.Tag(dialect, httpapi.Adapt(notFound, writeError)))
}

// route negotiates the response type, authenticates, then runs fn; every
// error either returns is written by writeError. The order is DRF's
// (APIView.initial): content negotiation, then authentication, so an
// unauthenticated caller learns nothing else (not even a 405), and a client
// that accepts no JSON gets 406 whoever it is.
func (h *Handler) route(fn authedFunc) http.Handler {
	return httpapi.Tag(dialect, httpapi.Adapt(func(w http.ResponseWriter, r *http.Request) error {
		if !acceptsJSON(r.Header.Values("Accept")) {
			return errNotAcceptable
		}
		p, err := h.authenticate(r)
		if err != nil {
			return err
		}
		r = httpapi.WithPrincipal(r, p)
		return fn(w, r, p)
	}, writeError))
}

func methodNotAllowed(allow string) authedFunc {
	return func(http.ResponseWriter, *http.Request, directory.Principal) error {
		return &methodError{allow: allow}
	}
}

// notFound answers paths under /v1/ that name no resource Roster serves,
// such as Truv's /v1/orders/ or /v1/links/, in Truv's 404 shape.
func notFound(http.ResponseWriter, *http.Request) error { return directory.ErrNotFound }

// createUser implements Truv's "Create a user":
//
//	POST /v1/users/
//	Body: external_user_id (required), first_name (required),
//	last_name (required), email (string<email>), phone, ssn.
//	Response: the user object.
//
// Truv's docs do not show the status; every secondary source says 201.
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	var body userBody
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	in := &directory.User{}
	body.apply(in)
	u, err := h.svc.CreateUser(r.Context(), p, in, rules)
	if err != nil {
		return body.explain(err)
	}
	httpapi.SetETag(w, u.Version) // Roster's addition, a header only (docs/truv.md)
	return httpapi.WriteJSON(w, http.StatusCreated, toWire(u))
}

// listUsers implements Truv's "List all users":
//
//	GET /v1/users/
//	Query: created_at__gte, created_at__lte (ISO-8601), product_type.
//	Response: {"count", "next", "previous", "results": [user, ...]}.
//
// Paging is DRF's page number style (page, page_size); external_user_id
// filters as Truv's own MCP server uses it. Users are listed oldest first,
// so new users never shift the pages a client is walking.
func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	lq, err := parseListQuery(r.URL.Query())
	if err != nil {
		return err
	}
	offset := (lq.page - 1) * lq.size
	page, err := h.svc.ListUsers(r.Context(), p, directory.UserQuery{
		Filter: lq.filter,
		Sort:   []directory.SortKey{{Field: directory.FieldCreatedAt}},
		Offset: offset,
		Limit:  lq.size,
		Total:  true,
	})
	if err != nil {
		return err
	}
	if lq.page > 1 && len(page.Users) == 0 {
		return errInvalidPage // DRF serves an empty first page, never an empty later one
	}
	out := listJSON{Count: page.Total, Results: make([]userJSON, 0, len(page.Users))}
	for _, u := range page.Users {
		out.Results = append(out.Results, toWire(u))
	}
	if offset+len(page.Users) < page.Total {
		out.Next = pageURL(r, httpapi.Origin(r, h.opts.PublicURL), lq.page+1)
	}
	if lq.page > 1 {
		out.Previous = pageURL(r, httpapi.Origin(r, h.opts.PublicURL), lq.page-1)
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

// getUser implements Truv's "Retrieve a user":
//
//	GET /v1/users/{user_id}/
//	Response: the user object; 404 {"detail": "Not Found."} for an unknown
//	id or one that belongs to a different client.
func (h *Handler) getUser(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	u, err := h.svc.GetUser(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return httpapi.WriteCurrent(w, r, u.Version, toWire(u))
}

// updateUser implements Truv's "Update a user":
//
//	PATCH /v1/users/{user_id}/
//	Body: any of external_user_id, first_name, last_name, email, phone, ssn.
//	Response: the user object.
//
// Absent fields are left alone; null or "" clears email, phone or ssn and
// is refused for the three required fields. Roster's addition: an
// If-Match naming another version is 412 (docs/truv.md, "ETags and
// If-Match"); without one, concurrent PATCHes of different fields all land.
func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	id := r.PathValue("id")
	if _, ok := directory.ParseID(id); !ok {
		return directory.ErrNotFound // before reading the body, as DRF looks the object up first
	}
	var body userBody
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	ifv, err := httpapi.IfMatchUser(r, h.svc, p, id)
	if err != nil {
		return err
	}
	u, err := h.svc.UpdateUser(r.Context(), p, id, rules, ifv, func(u *directory.User) error {
		body.apply(u)
		return nil
	})
	if err != nil {
		return body.explain(httpapi.Precondition(err, ifv))
	}
	httpapi.SetETag(w, u.Version)
	return httpapi.WriteJSON(w, http.StatusOK, toWire(u))
}

// deleteUser implements Truv's "Delete a user":
//
//	DELETE /v1/users/{user_id}/
//	Response: 204 No Content.
func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	id := r.PathValue("id")
	ifv, err := httpapi.IfMatchUser(r, h.svc, p, id)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteUser(r.Context(), p, id, ifv); err != nil {
		return httpapi.Precondition(err, ifv)
	}
	return httpapi.NoContent(w, http.StatusNoContent)
}
