package scim

import (
	"context"
	"errors"
	"net/http"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// RFC 7644 §3.3: "When the service provider successfully creates the new
// resource, an HTTP response SHALL be returned with HTTP status code 201
// (Created). The response body SHOULD contain the service provider's
// representation of the newly created resource. The URI of the created
// resource SHALL include, in the HTTP "Location" header and the HTTP body,
// a JSON representation [with] the attribute "meta.location"."
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) error {
	m, err := decodeObject(w, r)
	if err != nil {
		return err
	}
	u, err := h.createUserOp(r.Context(), principal(r), m)
	if err != nil {
		return err
	}
	base := h.baseURL(r)
	return writeResource(w, http.StatusCreated, userResource(u, nil, base), u.Version, base+"/Users/"+u.ID)
}

func (h *Handler) createUserOp(ctx context.Context, p directory.Principal, m map[string]any) (*directory.User, error) {
	m = canonicalize(m, userType)
	if err := checkSchemas(m, URNUser); err != nil {
		return nil, err
	}
	u := &directory.User{}
	if err := applyUser(m, u, false); err != nil {
		return nil, err
	}
	return h.svc.CreateUser(ctx, p, u, rules)
}

// RFC 7644 §3.4.1: "the server responds with 200 OK and the resource";
// §3.14: "If-None-Match ... the service provider returns 304 (Not
// Modified) if the resource has not changed."
func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	p := principal(r)
	u, err := h.svc.GetUser(r.Context(), p, id)
	if err != nil {
		return userErr(err, id)
	}
	if notModified(w, r, u.Version) {
		return nil
	}
	lp, err := parseListQuery(r.URL.Query())
	if err != nil {
		return err
	}
	res, err := h.userResources(r, p, []*directory.User{u}, lp)
	if err != nil {
		return err
	}
	return writeResource(w, http.StatusOK, res[0].(map[string]any), u.Version, "")
}

// userResources renders users with their groups (unless the projection
// drops groups), projected.
func (h *Handler) userResources(r *http.Request, p directory.Principal, users []*directory.User, lp listParams) ([]any, error) {
	base := h.baseURL(r)
	var groups map[string][]directory.GroupRef
	if len(users) > 0 && wants(userType, lp.Attributes, lp.Excluded, "groups") {
		ids := make([]string, len(users))
		for i, u := range users {
			ids[i] = u.ID
		}
		var err error
		if groups, err = h.svc.GroupsOfUsers(r.Context(), p, ids); err != nil {
			return nil, err
		}
	}
	out := make([]any, len(users))
	for i, u := range users {
		out[i] = project(userType, userResource(u, groups[u.ID], base), lp.Attributes, lp.Excluded)
	}
	return out, nil
}

// RFC 7644 §3.4.2: "GET /Users?filter=...&sortBy=...&startIndex=1&count=10
// ... The response to a query is a ListResponse with totalResults,
// itemsPerPage, startIndex and Resources."
func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) error {
	lp, err := parseListQuery(r.URL.Query())
	if err != nil {
		return err
	}
	return h.queryUsers(w, r, lp)
}

// RFC 7644 §3.4.3: "Clients MAY execute queries without passing parameters
// on the URL by using the HTTP POST verb combined with the "/.search" path
// extension."
func (h *Handler) searchUsers(w http.ResponseWriter, r *http.Request) error {
	raw, err := readBody(w, r)
	if err != nil {
		return err
	}
	lp, err := parseSearch(raw)
	if err != nil {
		return err
	}
	return h.queryUsers(w, r, lp)
}

func (h *Handler) queryUsers(w http.ResponseWriter, r *http.Request, lp listParams) error {
	q, err := lp.userQuery()
	if err != nil {
		return err
	}
	p := principal(r)
	page, err := h.svc.ListUsers(r.Context(), p, q)
	if err != nil {
		return err
	}
	users := page.Users
	if lp.Count == 0 {
		users = nil
	}
	res, err := h.userResources(r, p, users, lp)
	if err != nil {
		return err
	}
	return writeSCIM(w, http.StatusOK, newListResponse(page.Total, lp.StartIndex, res))
}

// RFC 7644 §3.5.1: "HTTP PUT is used to replace a resource's attributes
// ... readOnly attributes ... SHALL be ignored"; §3.14: "If-Match ... 412
// (Precondition Failed)" when the version differs.
func (h *Handler) replaceUser(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	p := principal(r)
	m, err := decodeObject(w, r)
	if err != nil {
		return err
	}
	ifv, err := ifMatch(r.Header.Get("If-Match"), httpapi.StoredVersion(r.Context(), h.svc, p, id))
	if err != nil {
		return userErr(err, id)
	}
	u, err := h.replaceUserOp(r.Context(), p, id, ifv, m)
	if err != nil {
		return userErr(err, id)
	}
	return h.writeUser(w, r, p, u, http.StatusOK)
}

func (h *Handler) replaceUserOp(ctx context.Context, p directory.Principal, id string, ifv int64, m map[string]any) (*directory.User, error) {
	m = canonicalize(m, userType)
	if err := checkSchemas(m, URNUser); err != nil {
		return nil, err
	}
	return h.svc.UpdateUser(ctx, p, id, rules, ifv, func(u *directory.User) error {
		return applyUser(m, u, false)
	})
}

// writeUser writes u with its groups.
func (h *Handler) writeUser(w http.ResponseWriter, r *http.Request, p directory.Principal, u *directory.User, status int) error {
	res, err := h.userResources(r, p, []*directory.User{u}, listParams{})
	if err != nil {
		return err
	}
	return writeResource(w, status, res[0].(map[string]any), u.Version, "")
}

// RFC 7644 §3.5.2: "The body of each request MUST contain the "schemas"
// attribute with the URI value of "urn:ietf:params:scim:api:messages:2.0:
// PatchOp" ... Each PATCH operation object MUST have exactly one "op"
// member ... "add", "remove", or "replace" ... the server either MUST return
// a 200 OK response code and the entire resource within the response body
// ... or MAY return HTTP status code 204." The operations apply all or
// none: they run on a copy inside the core's read-modify-write.
func (h *Handler) patchUser(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	p := principal(r)
	raw, err := readBody(w, r)
	if err != nil {
		return err
	}
	pr, err := parsePatch(raw)
	if err != nil {
		return err
	}
	ifv, err := ifMatch(r.Header.Get("If-Match"), httpapi.StoredVersion(r.Context(), h.svc, p, id))
	if err != nil {
		return userErr(err, id)
	}
	u, err := h.patchUserOp(r.Context(), p, id, ifv, pr)
	if err != nil {
		return userErr(err, id)
	}
	return h.writeUser(w, r, p, u, http.StatusOK)
}

func (h *Handler) patchUserOp(ctx context.Context, p directory.Principal, id string, ifv int64, pr *patchRequest) (*directory.User, error) {
	return h.svc.UpdateUser(ctx, p, id, rules, ifv, func(u *directory.User) error {
		rep := patchBase(u)
		if err := applyPatch(userType, rep, pr.Ops); err != nil {
			return err
		}
		return applyUser(rep, u, true)
	})
}

// RFC 7644 §3.6: "In response to a successful DELETE, the server SHALL
// return a successful HTTP status code 204 (No Content)."
func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	p := principal(r)
	ifv, err := ifMatch(r.Header.Get("If-Match"), httpapi.StoredVersion(r.Context(), h.svc, p, id))
	if err != nil {
		return userErr(err, id)
	}
	if err := h.svc.DeleteUser(r.Context(), p, id, ifv); err != nil {
		return userErr(err, id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// userErr names the user in a not-found error.
func userErr(err error, id string) error {
	if isNotFound(err) {
		return notFound("User", id)
	}
	return err
}

func isNotFound(err error) bool {
	return err != nil && errors.Is(err, directory.ErrNotFound)
}

// readBody reads a JSON request body (bounded) for handlers that parse it
// themselves.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if !httpapi.IsJSONContentType(r.Header.Get("Content-Type")) {
		return nil, &httpapi.DecodeError{Status: http.StatusUnsupportedMediaType, Msg: "Content-Type must be application/json"}
	}
	return httpapi.ReadBody(w, r, maxBody)
}
