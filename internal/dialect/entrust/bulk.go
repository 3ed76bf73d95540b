package entrust

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// maxBulk bounds the users of one bulk request (the vendor states none).
const maxBulk = 100

// bulkBodyIn is the envelope of CreateUsersParms, UpdateUsersParms and
// DeleteUsersParms. Items are decoded one by one, so a malformed item fails
// alone (in its result) rather than the whole request.
type bulkBodyIn struct {
	Users       *[]json.RawMessage `json:"users"`
	StopOnError bool               `json:"stopOnError"`
}

// bulkResult is UpdateUserResult or DeleteUserResult.
type bulkResult struct {
	Success bool       `json:"success"`
	Error   *errorInfo `json:"error"`
}

// createResult is CreateUserResult; runBulk collects these for every kind.
type createResult struct {
	Success bool       `json:"success"`
	User    *userOut   `json:"user"`
	Error   *errorInfo `json:"error"`
}

type idParms struct {
	ID     *string    `json:"id"`
	IDType *string    `json:"idType"`
	Parms  *userParms `json:"parms"`
}

// decodeBulk reads the envelope. If-Match is refused (412, nothing
// written): one header cannot name the versions of many users, and the
// vendor's item bodies have no field for one; a client that needs the
// check uses the single-user routes (docs/entrust.md).
func decodeBulk(w http.ResponseWriter, r *http.Request) ([]json.RawMessage, bool, error) {
	if len(r.Header.Values(httpapi.IfMatchHeader)) > 0 {
		return nil, false, errBulkIfMatch
	}
	var body bulkBodyIn
	if err := httpapi.DecodeJSON(w, r, &body, bulkBody); err != nil {
		return nil, false, err
	}
	if body.Users == nil {
		return nil, false, invalidField("users", directory.CodeRequired, "users is required")
	}
	if len(*body.Users) > maxBulk {
		return nil, false, invalidField("users", directory.CodeTooLong, fmt.Sprintf("at most %d users per request", maxBulk))
	}
	return *body.Users, body.StopOnError, nil
}

// runBulk calls do for each item and collects the results. It stops after
// the first failure when stopOnError is set, and after any server-side
// failure (a 5xx) regardless: results then list the items processed so
// far, each of which is committed or not as its result says.
func runBulk(r *http.Request, items []json.RawMessage, stopOnError bool, do func(i int, raw json.RawMessage) (*userOut, error)) []createResult {
	out := make([]createResult, 0, len(items))
	for i, raw := range items {
		u, err := do(i, raw)
		if err == nil {
			out = append(out, createResult{Success: true, User: u})
			continue
		}
		status, info := describe(r, err)
		out = append(out, createResult{Error: &info})
		if stopOnError || status >= 500 {
			break
		}
	}
	return out
}

// createUsers implements POST /api/web/v3/users/multiple.
//
// Vendor: "Create multiple users." CreateUsersParms {users: [UserParms],
// stopOnError: "If set to true, the operation stops on the first operation
// that fails. Otherwise the operation continues for each specified user. If
// not specified, this defaults to false."} 200 [CreateUserResult {success,
// user, error}].
func (h *Handler) createUsers(w http.ResponseWriter, r *http.Request) error {
	items, stop, err := decodeBulk(w, r)
	if err != nil {
		return err
	}
	p := principal(r)
	res := runBulk(r, items, stop, func(_ int, raw json.RawMessage) (*userOut, error) {
		var parms userParms
		if err := httpapi.Unmarshal(raw, &parms, false); err != nil {
			return nil, err
		}
		u, err := h.create(r.Context(), p, &parms)
		if err != nil {
			return nil, err
		}
		return toUser(u, allAttributes, nil), nil
	})
	return httpapi.WriteJSON(w, http.StatusOK, res)
}

// updateUsers implements PUT /api/web/v3/users/multiple.
//
// Vendor: "Update multiple users." UpdateUsersParms {users: [{id, idType:
// UUID (default) | USERID | EXTERNALID, parms: UserParms}], stopOnError};
// 200 [UpdateUserResult {success, error}].
func (h *Handler) updateUsers(w http.ResponseWriter, r *http.Request) error {
	items, stop, err := decodeBulk(w, r)
	if err != nil {
		return err
	}
	p := principal(r)
	res := runBulk(r, items, stop, func(_ int, raw json.RawMessage) (*userOut, error) {
		var it idParms
		if err := httpapi.Unmarshal(raw, &it, false); err != nil {
			return nil, err
		}
		if it.Parms == nil {
			return nil, invalidField("parms", directory.CodeRequired, "parms is required")
		}
		id, err := h.resolve(r.Context(), p, it)
		if err != nil {
			return nil, err
		}
		_, err = h.update(r.Context(), p, id, 0, it.Parms)
		return nil, err
	})
	return httpapi.WriteJSON(w, http.StatusOK, withoutUsers(res))
}

// deleteUsers implements DELETE /api/web/v3/users/multiple.
//
// Vendor: "Delete multiple users." DeleteUsersParms {users: [{id, idType}],
// stopOnError}; 200 [DeleteUserResult {success, error}].
func (h *Handler) deleteUsers(w http.ResponseWriter, r *http.Request) error {
	items, stop, err := decodeBulk(w, r)
	if err != nil {
		return err
	}
	p := principal(r)
	res := runBulk(r, items, stop, func(_ int, raw json.RawMessage) (*userOut, error) {
		var it idParms
		if err := httpapi.Unmarshal(raw, &it, false); err != nil {
			return nil, err
		}
		id, err := h.resolve(r.Context(), p, it)
		if err != nil {
			return nil, err
		}
		return nil, h.svc.DeleteUser(r.Context(), p, id, 0)
	})
	return httpapi.WriteJSON(w, http.StatusOK, withoutUsers(res))
}

// withoutUsers drops the user member, which UpdateUserResult and
// DeleteUserResult do not have.
func withoutUsers(rs []createResult) []bulkResult {
	out := make([]bulkResult, len(rs))
	for i, r := range rs {
		out[i] = bulkResult{Success: r.Success, Error: r.Error}
	}
	return out
}

// resolve returns the UUID of the user an item names by idType.
func (h *Handler) resolve(ctx context.Context, p directory.Principal, it idParms) (string, error) {
	if it.ID == nil || strings.TrimSpace(*it.ID) == "" {
		return "", invalidField("id", directory.CodeRequired, "id is required")
	}
	id := strings.TrimSpace(*it.ID)
	idType := "UUID"
	if it.IDType != nil && *it.IDType != "" {
		idType = *it.IDType
	}
	switch idType {
	case "UUID":
		canon, ok := directory.ParseID(id)
		if !ok {
			return "", errUserNotFound
		}
		return canon, nil
	case "USERID":
		u, err := h.svc.FindUserByLogin(ctx, p, id)
		if err != nil {
			return "", err
		}
		if !strings.EqualFold(u.Username, id) { // an alias, not the userId
			return "", errUserNotFound
		}
		return u.ID, nil
	case "EXTERNALID":
		u, err := h.findByExternalID(ctx, p, id)
		if err != nil {
			return "", err
		}
		return u.ID, nil
	}
	return "", invalidField("idType", directory.CodeInvalid, "idType must be UUID, USERID or EXTERNALID")
}
