package scim

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/dialect/scim/filter"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// scimType values (RFC 7644 §3.12, table 9).
const (
	typeInvalidFilter = "invalidFilter"
	typeTooMany       = "tooMany"
	typeUniqueness    = "uniqueness"
	typeMutability    = "mutability"
	typeInvalidSyntax = "invalidSyntax"
	typeInvalidPath   = "invalidPath"
	typeNoTarget      = "noTarget"
	typeInvalidValue  = "invalidValue"
	typeInvalidVers   = "invalidVers"
)

// Error is a SCIM protocol error raised by this package: the status, the
// scimType keyword (may be empty) and a public detail.
type Error struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *Error) Error() string { return fmt.Sprintf("scim %d %s: %s", e.Status, e.ScimType, e.Detail) }

func badRequest(scimType, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// errorBody is the SCIM error response (RFC 7644 §3.12). status is a
// string, as the RFC's examples and Entra ID expect.
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail"`
}

// describe maps any error a handler returns to its status and SCIM error
// body. It is the one place where domain and decoding errors become wire
// errors; anything it does not recognise is a 500 with a fixed phrase.
func describe(r *http.Request, err error) (int, errorBody) {
	status, scimType, detail := classify(err)
	if status == http.StatusInternalServerError {
		detail = "Internal server error."
		if id := httpapi.RequestIDFrom(r.Context()); id != "" {
			detail = fmt.Sprintf("Internal server error (request id %s).", id)
		}
	}
	return status, errorBody{Schemas: []string{URNError}, Status: strconv.Itoa(status), ScimType: scimType, Detail: detail}
}

func classify(err error) (status int, scimType, detail string) {
	var se *Error
	var fe *filter.Error
	var de *httpapi.DecodeError
	var he *httpapi.HTTPError
	var ve *directory.ValidationError
	var ce *directory.ConflictError
	switch {
	case errors.As(err, &se):
		return se.Status, se.ScimType, se.Detail
	case errors.As(err, &fe):
		return http.StatusBadRequest, typeInvalidFilter, "Invalid filter: " + fe.Error()
	case errors.Is(err, directory.ErrInvalidFilter):
		return http.StatusBadRequest, typeInvalidFilter, "The filter cannot be applied to these attributes."
	case errors.As(err, &de):
		switch de.Status {
		case http.StatusRequestEntityTooLarge:
			return de.Status, "", "The request body is too large: " + de.Msg + "."
		case http.StatusUnsupportedMediaType:
			return de.Status, "", "Content-Type must be application/scim+json or application/json."
		}
		return http.StatusBadRequest, typeInvalidSyntax, "The request body could not be parsed: " + de.Msg + "."
	case errors.As(err, &ve):
		return http.StatusBadRequest, typeInvalidValue, validationDetail(ve)
	case errors.As(err, &ce):
		return http.StatusConflict, typeUniqueness, conflictDetail(ce)
	case errors.Is(err, directory.ErrNotFound):
		return http.StatusNotFound, "", "Resource not found."
	case errors.Is(err, directory.ErrPrecondition):
		return http.StatusPreconditionFailed, "", "Failed to update: the resource has changed on the server (If-Match does not match its version)."
	case errors.Is(err, directory.ErrInvalidReference):
		return http.StatusBadRequest, typeInvalidValue, "Every member must be a user of this tenant."
	case errors.Is(err, directory.ErrConflict):
		return http.StatusConflict, typeUniqueness, "A unique attribute is already in use."
	case errors.Is(err, directory.ErrUnauthenticated):
		return http.StatusUnauthorized, "", "Authentication failed: send Authorization: Bearer <credential secret>."
	case errors.Is(err, directory.ErrForbidden):
		return http.StatusForbidden, "", "The credential may not perform this operation."
	case errors.Is(err, directory.ErrRateLimited):
		return http.StatusTooManyRequests, "", "Too many requests; retry later."
	case errors.Is(err, directory.ErrUnavailable):
		return http.StatusServiceUnavailable, "", "The service is temporarily unavailable; retry later."
	case errors.Is(err, directory.ErrIdempotencyKeyInvalid):
		return http.StatusBadRequest, typeInvalidValue, "Idempotency-Key must be 1 to 255 printable ASCII characters, sent once, and is not accepted on /Bulk."
	case errors.Is(err, directory.ErrIdempotencyMismatch):
		return http.StatusUnprocessableEntity, "", "Idempotency-Key was already used with a different request."
	case errors.Is(err, directory.ErrIdempotencyInFlight):
		return http.StatusConflict, "", "A request with this Idempotency-Key is still being processed; retry later."
	case errors.As(err, &he) && he.Status < 500:
		return he.Status, "", he.Public
	}
	return http.StatusInternalServerError, "", ""
}

// render is the dialect's httpapi.Renderer.
func render(w http.ResponseWriter, r *http.Request, err error) {
	status, body := describe(r, err)
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="roster"`)
	case http.StatusMethodNotAllowed:
		var he *httpapi.HTTPError
		if errors.As(err, &he) {
			if allow := allowOf(he); allow != "" {
				w.Header().Set("Allow", allow)
			}
		}
	}
	_ = writeSCIM(w, status, body)
}

// scimName is the SCIM attribute a core field is written as.
func scimName(f directory.Field) string {
	switch f {
	case directory.FieldUsername:
		return "userName"
	case directory.FieldExternalID:
		return "externalId"
	case directory.FieldFirstName:
		return "name.givenName"
	case directory.FieldLastName:
		return "name.familyName"
	case directory.FieldEmail:
		return "emails"
	case directory.FieldPhone, directory.FieldMobile:
		return "phoneNumbers"
	case directory.FieldLocale:
		return "locale"
	case directory.FieldState:
		return "active"
	case directory.FieldSSN:
		return URNRosterUser + ":ssn"
	case directory.FieldAliases, directory.FieldAlias:
		return URNRosterUser + ":aliases"
	case directory.FieldAttributes:
		return URNRosterUser + ":attributes"
	case directory.FieldDisplayName:
		return "displayName"
	case "members":
		return "members"
	}
	if strings.HasPrefix(string(f), "address.") || f == directory.FieldAddress {
		return "addresses"
	}
	if a, ok := kindAttr[directory.ValueKind(f)]; ok {
		return a
	}
	if key, ok := f.ExtraKey(); ok {
		if sf, ok := scimOwnedExtras[key]; ok {
			return sf
		}
		return URNRosterUser + ":extras"
	}
	if f == directory.FieldExtras {
		return URNRosterUser + ":extras"
	}
	return string(f)
}

// validationDetail writes a core validation error with SCIM attribute
// names.
func validationDetail(ve *directory.ValidationError) string {
	parts := make([]string, 0, len(ve.Errors))
	for _, fe := range ve.Errors {
		name := scimName(fe.Field)
		msg := fe.Message
		if rest, ok := strings.CutPrefix(msg, string(fe.Field)+" "); ok {
			msg = name + " " + rest
		} else if !strings.HasPrefix(msg, name) {
			msg = name + ": " + msg
		}
		parts = append(parts, msg)
	}
	if len(parts) == 0 {
		return "Invalid value."
	}
	return strings.Join(parts, "; ") + "."
}

func conflictDetail(ce *directory.ConflictError) string {
	return fmt.Sprintf("%s is already in use in this tenant.", scimName(ce.Field))
}

// notFound is the 404 for an id.
func notFound(kind, id string) *Error {
	if len(id) > 64 {
		id = id[:64]
	}
	return &Error{Status: http.StatusNotFound, Detail: fmt.Sprintf("%s %s not found.", kind, strconv.Quote(id))}
}

// methodNotAllowed is the 405 for a known path, with the methods it has.
func methodNotAllowed(allow string) error {
	return &httpapi.HTTPError{Status: http.StatusMethodNotAllowed,
		Public: "Method not allowed; this endpoint supports " + allow + ".", Cause: allowError(allow)}
}

type allowError string

func (a allowError) Error() string { return "allow " + string(a) }

func allowOf(he *httpapi.HTTPError) string {
	var a allowError
	if errors.As(he.Cause, &a) {
		return string(a)
	}
	return ""
}
