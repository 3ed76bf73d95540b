package cl2c

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// maxBody is the request body limit (the server-wide limit applies as
// well). A CL2C body is five short strings; 64 KiB is generous.
const maxBody = 64 << 10

// Tag is the dialect's name in the access log.
const Tag = "cl2c"

// Handler serves the CL2C routes.
type Handler struct {
	svc    *directory.Service
	decode httpapi.DecodeOptions
}

// New returns the CL2C dialect over svc. It has nothing to configure: it
// serves the vendor's documented behaviour.
func New(svc *directory.Service) *Handler {
	return &Handler{svc: svc, decode: httpapi.DecodeOptions{
		MaxBytes: maxBody,
		// System.Text.Json ignores properties the target does not declare.
		RejectUnknown: false,
		// ASP.NET answers 415 to a [FromBody] request that is not JSON.
		RequireJSONType: true,
	}}
}

// Register mounts the CL2C routes on mux. A known path with another method
// answers 405, and any other path under /v1/cl2c/ 404, both in the CL2C
// error format.
func (h *Handler) Register(mux *http.ServeMux) {
	handle := func(pattern string, fn httpapi.HandlerFunc) {
		mux.Handle(pattern, httpapi.Tag(Tag, httpapi.Adapt(fn, render)))
	}
	handle("POST /v1/cl2c/user", h.authed(httpapi.IdempotentAuthed(h.svc, h.createUser)))
	handle("PUT /v1/cl2c/user", h.authed(httpapi.IdempotentAuthed(h.svc, h.updateUser)))
	handle("/v1/cl2c/user", methodNotAllowed("POST, PUT"))
	handle("GET /v1/cl2c/users", h.authed(h.listUsers))
	handle("/v1/cl2c/users", methodNotAllowed("GET, HEAD"))
	handle("GET /v1/cl2c/users/{id}", h.authed(h.getUser))
	handle("DELETE /v1/cl2c/users/{id}", h.authed(h.deleteUser))
	handle("/v1/cl2c/users/{id}", methodNotAllowed("GET, HEAD, DELETE"))
	handle("/v1/cl2c/", notFound)
}

// createUser: "The POST /v1/cl2c/user API endpoint allows you to create a
// new user. This requires specifying essential user details such as
// firstName, lastName, email, userName, and phoneNumber within the request
// body." Success is 200 with the user object; "userName: Unique username
// for the user."
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	var body createBody
	if err := httpapi.DecodeJSON(w, r, &body, h.decode); err != nil {
		return err
	}
	u, err := h.svc.CreateUser(r.Context(), p, body.toCore(), createRules)
	if err != nil {
		return err
	}
	httpapi.SetETag(w, u.Version) // Roster's addition, a header only (docs/cl2c.md)
	return httpapi.WriteJSON(w, http.StatusOK, toUser(u))
}

// updateUser: PUT /v1/cl2c/user "updates the profile information" of a
// user; the body is {id, firstName, lastName, phoneNumber, pushToken} and
// the answer 200 with the user object. The user is the one named by id, in
// the caller's tenant; fields absent from the body are left as they are.
// Roster's addition: an If-Match naming another version of that user is
// 412 (docs/cl2c.md, "ETags and If-Match").
func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	var body updateBody
	if err := httpapi.DecodeJSON(w, r, &body, h.decode); err != nil {
		return err
	}
	id, err := body.check()
	if err != nil {
		return err
	}
	ifv, err := httpapi.IfMatchUser(r, h.svc, p, id)
	if err != nil {
		return err
	}
	u, err := h.svc.UpdateUser(r.Context(), p, id, updateRules, ifv, func(u *directory.User) error {
		body.apply(u)
		return nil
	})
	if err != nil {
		return httpapi.Precondition(err, ifv)
	}
	httpapi.SetETag(w, u.Version)
	return httpapi.WriteJSON(w, http.StatusOK, toUser(u))
}

// Paging bounds of GET /v1/cl2c/users. pageNumber is bounded like a .NET
// int; pageSize like one store read.
const (
	maxPageNumber = 1<<31 - 1
	maxPageSize   = directory.MaxPageSize
)

// listUsers: GET /v1/cl2c/users returns the tenant's users as a bare JSON
// array whose items omit authValidUpto and authLocation. The vendor
// documents no paging; Roster adds optional 1-based pageNumber and pageSize
// parameters, returns at most maxPageSize users per call, and always sends
// the tenant's total in X-Total-Count.
func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	q := r.URL.Query()
	ve := &directory.ValidationError{}
	number := queryInt(q, "pageNumber", 1, maxPageNumber, 1, ve)
	size := queryInt(q, "pageSize", 1, maxPageSize, maxPageSize, ve)
	if len(ve.Errors) > 0 {
		return ve
	}
	page, err := h.svc.ListUsers(r.Context(), p, directory.UserQuery{
		Offset: (number - 1) * size,
		Limit:  size,
		Total:  true,
	})
	if err != nil {
		return err
	}
	items := make([]listItemJSON, len(page.Users))
	for i, u := range page.Users {
		items[i] = toListItem(u)
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(page.Total))
	return httpapi.WriteJSON(w, http.StatusOK, items)
}

// queryInt reads an optional integer parameter. Like ASP.NET model binding
// it matches the name case-insensitively and takes the first value.
func queryInt(q url.Values, name string, lo, hi, def int, ve *directory.ValidationError) int {
	for k, vs := range q {
		if !strings.EqualFold(k, name) || len(vs) == 0 {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(vs[0]))
		if err != nil || n < lo || n > hi {
			ve.Errors = append(ve.Errors, directory.FieldError{Field: directory.Field(name), Code: directory.CodeInvalid,
				Message: name + " must be a whole number between " + strconv.Itoa(lo) + " and " + strconv.Itoa(hi)})
			return def
		}
		return n
	}
	return def
}

// getUser: GET /v1/cl2c/users/{id} returns one user object. An id that is
// not a UUID names no user: 404.
func (h *Handler) getUser(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	u, err := h.svc.GetUser(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return httpapi.WriteCurrent(w, r, u.Version, toUser(u))
}

// deleteUser: not documented by the vendor. DELETE /v1/cl2c/users/{id}
// deletes the user and answers 200 with the user object as it was, which is
// what the vendor's other writes return. An If-Match naming another
// version is 412 and deletes nothing.
func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	ifMatch := httpapi.HeaderList(r, httpapi.IfMatchHeader)
	for attempt := 0; ; attempt++ {
		u, err := h.svc.GetUser(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return err
		}
		ifv, err := httpapi.IfMatch(ifMatch, func() (int64, error) { return u.Version, nil })
		if err != nil {
			return err
		}
		if ifv != 0 && ifv != u.Version {
			return httpapi.Precondition(fmt.Errorf("delete user: %w", directory.ErrPrecondition), ifv)
		}
		// Delete the version just read, so the body shows what was deleted;
		// a concurrent update makes us read again, unless If-Match pinned
		// the version, which then no longer holds.
		err = h.svc.DeleteUser(r.Context(), p, u.ID, u.Version)
		if errors.Is(err, directory.ErrPrecondition) && ifv == 0 && attempt < 3 {
			continue
		}
		if err != nil {
			return httpapi.Precondition(err, ifv)
		}
		return httpapi.WriteJSON(w, http.StatusOK, toUser(u))
	}
}

// methodNotAllowed answers a known path with an unsupported method.
func methodNotAllowed(allow string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allow)
		return httpapi.MethodNotAllowed
	}
}

// notFound answers any other path under /v1/cl2c/.
func notFound(w http.ResponseWriter, r *http.Request) error {
	return &httpapi.HTTPError{Status: http.StatusNotFound, Public: msgRouteNotFound}
}
