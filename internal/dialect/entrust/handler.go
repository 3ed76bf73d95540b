package entrust

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// Options configure the dialect. The zero value is the vendor's defaults.
type Options struct {
	// TokenTTL is the lifetime of an authenticate token; 15 minutes when
	// zero (the vendor's documented example).
	TokenTTL time.Duration
}

// required are the user fields a create must set: userId ("required when
// creating the user") and the vendor's default tenant configuration of
// mandatory attributes, first name, last name and e-mail.
var required = []directory.Field{directory.FieldUsername, directory.FieldFirstName, directory.FieldLastName, directory.FieldEmail}

// DefaultTokenTTL is the lifetime of an authenticate token.
const DefaultTokenTTL = 15 * time.Minute

// Handler serves the Entrust dialect.
type Handler struct {
	svc   *directory.Service
	ttl   time.Duration
	rules directory.Rules
}

// New returns the dialect's handler over svc.
func New(svc *directory.Service, o Options) *Handler {
	ttl := o.TokenTTL
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	return &Handler{
		svc: svc,
		ttl: ttl,
		rules: directory.Rules{
			Required: required,
			// Entrust documents no phone format (its own example phone is
			// not a possible number), so only e-mail syntax is checked,
			// beside the SSN's structure.
			Checks: directory.CheckEmail | directory.CheckSSNStructure,
		},
	}
}

// Decoding limits. Unknown fields are ignored, as the vendor's Java stack
// does by default; a Content-Type other than JSON is refused.
var (
	smallBody = httpapi.DecodeOptions{MaxBytes: 64 << 10, RequireJSONType: true}
	bulkBody  = httpapi.DecodeOptions{MaxBytes: httpapi.DefaultMaxBody, RequireJSONType: true}
)

// Register mounts the dialect's routes on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	handle := func(pattern string, fn httpapi.HandlerFunc) {
		mux.Handle(pattern, httpapi.Tag(tokenKind, httpapi.Adapt(fn, renderError)))
	}
	notAllowed := func(path string, allow ...string) {
		handle(path, methodNotAllowed(allow))
	}
	const (
		users     = "/api/web/v3/users"
		user      = users + "/{id}"
		byUserID  = users + "/userid"
		byExtID   = users + "/externalid"
		multiple  = users + "/multiple"
		paged     = "/api/web/v4/userspaged"
		authPath  = "/api/web/v1/adminapi/authenticate"
		statePath = "/api/web/v1/users/{id}/state"
		unlock    = "/api/web/v1/users/{id}/unlock"
	)
	handle("POST "+authPath, h.authenticate)
	notAllowed(authPath, "POST")

	// Creates and updates honour Idempotency-Key; the bulk routes refuse
	// it (docs/entrust.md).
	idem := func(fn httpapi.HandlerFunc) httpapi.HandlerFunc {
		return h.authed(httpapi.IdempotentHandler(h.svc, fn))
	}
	handle("POST "+users, idem(h.createUser))
	notAllowed(users, "POST")
	handle("GET "+user, h.authed(h.getUser))
	handle("PUT "+user, idem(h.updateUser))
	handle("DELETE "+user, h.authed(h.deleteUser))
	notAllowed(user, "GET", "PUT", "DELETE")

	// The literal sub-paths below would otherwise be taken by the {id}
	// routes for GET, PUT and DELETE, and by the {id} catch-all (whose
	// Allow names the {id} methods) for PATCH; methods no client sends
	// fall to that catch-all, which answers 405 too.
	handle("POST "+byUserID, h.authed(h.getByUserID))
	handle("POST "+byExtID, h.authed(h.getByExternalID))
	for _, p := range []string{byUserID, byExtID} {
		for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
			handle(m+" "+p, methodNotAllowed([]string{"POST"}))
		}
	}
	handle("POST "+multiple, h.authed(httpapi.RefusingIdempotencyKey(h.createUsers)))
	handle("PUT "+multiple, h.authed(httpapi.RefusingIdempotencyKey(h.updateUsers)))
	handle("DELETE "+multiple, h.authed(httpapi.RefusingIdempotencyKey(h.deleteUsers)))
	handle("GET "+multiple, methodNotAllowed([]string{"POST", "PUT", "DELETE"}))
	handle("PATCH "+multiple, methodNotAllowed([]string{"POST", "PUT", "DELETE"}))

	handle("POST "+paged, h.authed(h.usersPaged))
	notAllowed(paged, "POST")

	handle("PUT "+statePath, idem(h.setState))
	notAllowed(statePath, "PUT")
	handle("PUT "+unlock, h.authed(h.unlockUser))
	notAllowed(unlock, "PUT")

	// Everything else under the vendor's prefix is a 404 in ErrorInfo.
	handle("/api/web/", func(http.ResponseWriter, *http.Request) error { return errNoRoute })
}

// methodNotAllowed answers 405 with an Allow header.
func methodNotAllowed(allow []string) httpapi.HandlerFunc {
	v := strings.Join(allow, ", ")
	return func(w http.ResponseWriter, _ *http.Request) error {
		w.Header().Set("Allow", v)
		return httpapi.MethodNotAllowed
	}
}

func principal(r *http.Request) directory.Principal {
	p, _ := httpapi.PrincipalFrom(r.Context())
	return p
}

// respondUser writes a single user with every collection, and its ETag
// (Roster's addition, a header only: docs/entrust.md).
func (h *Handler) respondUser(w http.ResponseWriter, r *http.Request, u *directory.User, knownNoGroups bool) error {
	var groups []directory.GroupRef
	if !knownNoGroups {
		m, err := h.svc.GroupsOfUsers(r.Context(), principal(r), []string{u.ID})
		if err != nil {
			return err
		}
		groups = m[u.ID]
	}
	httpapi.SetETag(w, u.Version)
	return httpapi.WriteJSON(w, http.StatusOK, toUser(u, allAttributes, groups))
}

// create applies parms to a new user and creates it.
func (h *Handler) create(ctx context.Context, p directory.Principal, parms *userParms) (*directory.User, error) {
	u := &directory.User{}
	if err := parms.apply(u); err != nil {
		return nil, err
	}
	created, err := h.svc.CreateUser(ctx, p, u, h.rules)
	if err != nil {
		return nil, h.loginConflictFirst(ctx, p, u, "", err)
	}
	return created, nil
}

// update applies parms to the stored user id (a UUID). ifVersion is the
// core's: 0, or the version an If-Match named.
func (h *Handler) update(ctx context.Context, p directory.Principal, id string, ifVersion int64, parms *userParms) (*directory.User, error) {
	var want *directory.User
	u, err := h.svc.UpdateUser(ctx, p, id, h.rules, ifVersion, func(u *directory.User) error {
		if err := parms.apply(u); err != nil {
			return err
		}
		want = u.Clone()
		return nil
	})
	if err != nil && want != nil {
		return nil, httpapi.Precondition(h.loginConflictFirst(ctx, p, want, want.ID, err), ifVersion)
	}
	return u, httpapi.Precondition(err, ifVersion)
}

// loginConflictFirst reports a taken userId or alias in place of another
// conflict of the same write. The store names whichever claim it meets
// first, so a create whose userId and e-mail are both taken could come back
// as duplicate_email; Entrust's contract puts the userId first ("The userId
// must be unique with respect to aliases of this user and the userId and
// aliases of all other users"), and e-mail uniqueness is only Roster's
// tenant policy. The write has already failed and written nothing: the
// lookups only choose which conflict to name. selfID is the user being
// updated ("" on create), whose own logins are not a conflict.
func (h *Handler) loginConflictFirst(ctx context.Context, p directory.Principal, u *directory.User, selfID string, err error) error {
	var ce *directory.ConflictError
	if !errors.As(err, &ce) || ce.Field == directory.FieldUsername || ce.Field == directory.FieldAlias {
		return err
	}
	logins := []struct {
		field directory.Field
		value string
	}{{directory.FieldUsername, u.Username}}
	for _, a := range u.Aliases {
		logins = append(logins, struct {
			field directory.Field
			value string
		}{directory.FieldAlias, a.Value})
	}
	for _, l := range logins {
		if strings.TrimSpace(l.value) == "" {
			continue
		}
		holder, ferr := h.svc.FindUserByLogin(ctx, p, l.value)
		if ferr == nil && holder.ID != selfID {
			return &directory.ConflictError{Field: l.field, Value: strings.ToLower(strings.TrimSpace(l.value)), ExistingID: holder.ID}
		}
	}
	return err
}

// createUser implements POST /api/web/v3/users.
//
// Vendor: "Create a user. Caller requires the USERS:ADD permission."
// Body UserParms; 200 with the created User. userId "is required when
// creating the user"; first name, last name and e-mail "may or may not be
// required depending on configuration" (default tenant: required). "The
// userId must be unique with respect to aliases of this user and the userId
// and aliases of all other users."
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) error {
	var parms userParms
	if err := httpapi.DecodeJSON(w, r, &parms, smallBody); err != nil {
		return err
	}
	u, err := h.create(r.Context(), principal(r), &parms)
	if err != nil {
		return err
	}
	return h.respondUser(w, r, u, true)
}

// getUser implements GET /api/web/v3/users/{id}.
//
// Vendor: "Get the specified user by UUID." 200 User.
func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := h.svc.GetUser(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	if httpapi.NotModified(w, r, u.Version) {
		return nil
	}
	return h.respondUser(w, r, u, false)
}

// updateUser implements PUT /api/web/v3/users/{id}.
//
// Vendor: "Update the specified user." Body UserParms; 200 with no body.
// Absent fields are unchanged; "To unset the external ID, specify an empty
// string" (likewise for the other strings); lists, when present, replace.
// Roster's addition: an If-Match naming another version is 412
// precondition_failed; the 200 carries the new version's ETag.
func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request) error {
	var parms userParms
	if err := httpapi.DecodeJSON(w, r, &parms, smallBody); err != nil {
		return err
	}
	id := r.PathValue("id")
	ifv, err := httpapi.IfMatchUser(r, h.svc, principal(r), id)
	if err != nil {
		return err
	}
	u, err := h.update(r.Context(), principal(r), id, ifv, &parms)
	if err != nil {
		return err
	}
	httpapi.SetETag(w, u.Version)
	return httpapi.NoContent(w, http.StatusOK)
}

// deleteUser implements DELETE /api/web/v3/users/{id}.
//
// Vendor: "Delete the specified user." 200 with no body.
func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	ifv, err := httpapi.IfMatchUser(r, h.svc, principal(r), id)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteUser(r.Context(), principal(r), id, ifv); err != nil {
		return httpapi.Precondition(err, ifv)
	}
	return httpapi.NoContent(w, http.StatusOK)
}

// decodeGetParms reads a UserGetParms body and returns its userId.
func decodeGetParms(w http.ResponseWriter, r *http.Request) (string, error) {
	var body userGetParms
	if err := httpapi.DecodeJSON(w, r, &body, smallBody); err != nil {
		return "", err
	}
	if body.UserID == nil || strings.TrimSpace(*body.UserID) == "" {
		return "", invalidField("userId", directory.CodeRequired, "userId is required")
	}
	return strings.TrimSpace(*body.UserID), nil
}

// getByUserID implements POST /api/web/v3/users/userid.
//
// Vendor: "Get the specified user by userid or user alias." Body
// UserGetParms {userId}; 200 User.
func (h *Handler) getByUserID(w http.ResponseWriter, r *http.Request) error {
	login, err := decodeGetParms(w, r)
	if err != nil {
		return err
	}
	u, err := h.svc.FindUserByLogin(r.Context(), principal(r), login)
	if err != nil {
		return err
	}
	return h.respondUser(w, r, u, false)
}

// getByExternalID implements POST /api/web/v3/users/externalid.
//
// Vendor: "Get the user with the specified externalId." Body UserGetParms
// whose userId "specifies the externalId of the user to be fetched".
func (h *Handler) getByExternalID(w http.ResponseWriter, r *http.Request) error {
	ext, err := decodeGetParms(w, r)
	if err != nil {
		return err
	}
	u, err := h.findByExternalID(r.Context(), principal(r), ext)
	if err != nil {
		return err
	}
	return h.respondUser(w, r, u, false)
}

// findByExternalID returns the one user with externalId ext (exact match).
// Unless the tenant's policy makes externalId unique several users may
// share it; that is a 409, not a guess.
func (h *Handler) findByExternalID(ctx context.Context, p directory.Principal, ext string) (*directory.User, error) {
	page, err := h.svc.ListUsers(ctx, p, directory.UserQuery{
		Filter: directory.Cmp{Field: directory.FieldExternalID, Op: directory.OpEq, Value: ext},
		Limit:  2,
	})
	if err != nil {
		return nil, err
	}
	switch len(page.Users) {
	case 0:
		return nil, errUserNotFound
	case 1:
		return page.Users[0], nil
	}
	return nil, &apiError{status: http.StatusConflict, code: codeAmbiguousExternal,
		msg: "More than one user has this externalId.", params: []param{{Name: "userId"}}}
}

type stateParms struct {
	State *string `json:"state"`
}

// setState implements PUT /api/web/v1/users/{id}/state.
//
// Vendor: "Update the state of the specified user." Body
// UserChangeStateParms {state: ACTIVE|INACTIVE}; 200 with no body.
func (h *Handler) setState(w http.ResponseWriter, r *http.Request) error {
	var body stateParms
	if err := httpapi.DecodeJSON(w, r, &body, smallBody); err != nil {
		return err
	}
	if body.State == nil || !states[*body.State] {
		return invalidField("state", directory.CodeInvalid, "state must be ACTIVE or INACTIVE")
	}
	return h.patch(w, r, func(u *directory.User) { u.State = *body.State })
}

// patch applies change to user {id} under the request's If-Match and
// answers 200 with no body and the new version's ETag.
func (h *Handler) patch(w http.ResponseWriter, r *http.Request, change func(*directory.User)) error {
	id := r.PathValue("id")
	ifv, err := httpapi.IfMatchUser(r, h.svc, principal(r), id)
	if err != nil {
		return err
	}
	u, err := h.svc.UpdateUser(r.Context(), principal(r), id, h.rules, ifv, func(u *directory.User) error {
		change(u)
		return nil
	})
	if err != nil {
		return httpapi.Precondition(err, ifv)
	}
	httpapi.SetETag(w, u.Version)
	return httpapi.NoContent(w, http.StatusOK)
}

// unlockUser implements PUT /api/web/v1/users/{id}/unlock.
//
// Vendor: "Unlock the specified user." No body; 200 with no body.
func (h *Handler) unlockUser(w http.ResponseWriter, r *http.Request) error {
	return h.patch(w, r, func(u *directory.User) { u.Locked = false })
}
