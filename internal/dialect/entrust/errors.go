package entrust

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// Error codes sent in ErrorInfo.errorCode. Entrust publishes no catalogue
// (its spec's only example is "invalid_user_response"), so these follow the
// example's lower_snake_case style. They are stable: clients may branch on
// them. docs/entrust.md lists them.
const (
	codeInvalidBody        = "invalid_request_body"    // 400: malformed JSON, wrong types, not UTF-8, empty
	codeValidation         = "validation_failed"       // 400: field errors; parameters name the fields
	codeInvalidSearch      = "invalid_search"          // 400: unsupported search attribute, operator or value
	codeInvalidCursor      = "invalid_cursor"          // 400: a cursor this server did not issue
	codeUnauthorized       = "unauthorized"            // 401: missing, unknown, expired or revoked credentials
	codeForbidden          = "forbidden"               // 403
	codeUserNotFound       = "user_not_found"          // 404
	codeNotFound           = "not_found"               // 404: no such route
	codeMethodNotAllowed   = "method_not_allowed"      // 405
	codeDuplicateUserID    = "duplicate_user_id"       // 409: userId taken by a userId or alias
	codeDuplicateAlias     = "duplicate_user_alias"    // 409: alias taken by a userId or alias
	codeDuplicateEmail     = "duplicate_email"         // 409: under the tenant's uniqueness policy
	codeDuplicatePhone     = "duplicate_phone"         // 409: phone or mobile, under the policy
	codeDuplicateExternal  = "duplicate_external_id"   // 409: under the policy
	codeAmbiguousExternal  = "ambiguous_external_id"   // 409: several users share the externalId
	codeConflict           = "conflict"                // 409: any other uniqueness conflict
	codeConcurrentUpdate   = "concurrent_update"       // 409: the user kept changing under the update
	codePrecondition       = "precondition_failed"     // 412: If-Match names another version, or is sent on a bulk route
	codeTooLarge           = "request_too_large"       // 413
	codeUnsupportedMedia   = "unsupported_media_type"  // 415
	codeTooManyRequests    = "too_many_requests"       // 429
	codeInternal           = "internal_error"          // 500
	codeUnavailable        = "service_unavailable"     // 503: the database is failing over or restarting; retry
	codeIdempotencyKey     = "invalid_idempotency_key" // 400: Idempotency-Key too long, malformed, or on a bulk route
	codeIdempotencyReuse   = "idempotency_key_reused"  // 422: the key was used with another request body
	codeIdempotencyBusy    = "idempotency_key_in_use"  // 409: the key's first request is still running
	msgInternal            = "An internal error occurred."
	msgUnauthorized        = "Authentication failed: the token is missing, invalid or expired."
	msgCredentialsRejected = "Authentication failed: invalid application id or shared secret."
)

// errorInfo is the vendor's ErrorInfo body.
type errorInfo struct {
	ErrorCode    string  `json:"errorCode"`
	ErrorMessage string  `json:"errorMessage"`
	Parameters   []param `json:"parameters"`
}

// param is one entry of ErrorInfo.parameters. For field errors Name is
// the wire name of the field (a JSON path such as "userAliases[1].type"),
// Reason one of required, invalid, too_long, not_allowed.
type param struct {
	Name      string `json:"name,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Message   string `json:"message,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// apiError is an error this dialect raises itself, already in wire terms.
type apiError struct {
	status int
	code   string
	msg    string
	params []param
}

func (e *apiError) Error() string { return fmt.Sprintf("entrust %d %s: %s", e.status, e.code, e.msg) }

// fieldErrors collects field errors of one request in wire terms.
type fieldErrors []param

func (fe *fieldErrors) add(name, reason, msg string) {
	*fe = append(*fe, param{Name: name, Reason: reason, Message: msg})
}

// err returns a 400 validation_failed error, or nil when nothing was added.
func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return &apiError{status: http.StatusBadRequest, code: codeValidation, msg: fe[0].Message, params: fe}
}

// invalidField returns a one-field validation error.
func invalidField(name, reason, msg string) error {
	var fe fieldErrors
	fe.add(name, reason, msg)
	return fe.err()
}

var (
	errUserNotFound = &apiError{status: http.StatusNotFound, code: codeUserNotFound, msg: "User not found."}
	errNoRoute      = &apiError{status: http.StatusNotFound, code: codeNotFound, msg: "No such resource."}
	errBadCursor    = &apiError{status: http.StatusBadRequest, code: codeInvalidCursor, msg: "The cursor is not valid.",
		params: []param{{Name: "cursor"}}}
	errCredentials = &apiError{status: http.StatusUnauthorized, code: codeUnauthorized, msg: msgCredentialsRejected}
	errBulkIfMatch = &apiError{status: http.StatusPreconditionFailed, code: codePrecondition,
		msg: "If-Match is not accepted on bulk requests; use the single-user routes.", params: []param{{Name: "If-Match"}}}
)

// wireFields names core fields in the vendor's words.
var wireFields = map[directory.Field]string{
	directory.FieldUsername:       "userId",
	directory.FieldFirstName:      "firstName",
	directory.FieldLastName:       "lastName",
	directory.FieldEmail:          "email",
	directory.FieldPhone:          "phone",
	directory.FieldMobile:         "mobile",
	directory.FieldLocale:         "locale",
	directory.FieldState:          "state",
	directory.FieldLocked:         "lock",
	directory.FieldExternalID:     "externalId",
	directory.FieldExternalSource: "externalSource",
	directory.FieldAliases:        "userAliases",
	directory.FieldAlias:          "userAliases",
	directory.FieldAttributes:     "userAttributeValues",
	directory.FieldExtras:         "userExtraAttributes",
}

// wireField returns the wire name of a core field.
func wireField(f directory.Field) string {
	if w, ok := wireFields[f]; ok {
		return w
	}
	if rest, ok := strings.CutPrefix(string(f), "extras."+extraPrefix); ok {
		if name, ok := strings.CutPrefix(rest, extraAttrPrefix); ok {
			return "userExtraAttributes[" + name + "]"
		}
		if key, ok := strings.CutPrefix(rest, otpContactPrefix); ok {
			return "preferredOtpDeliveryContactAttributes." + key
		}
		return rest
	}
	return string(f)
}

// wireMessage rewrites a core message that starts with the core field name.
func wireMessage(fe directory.FieldError) string {
	name := wireField(fe.Field)
	if rest, ok := strings.CutPrefix(fe.Message, string(fe.Field)+" "); ok {
		return name + " " + rest
	}
	return fe.Message
}

// describe maps any error a handler returns to the status and ErrorInfo
// body to send. It is the one place errors meet the wire: unknown errors are
// a 500 with a fixed phrase and the request id, never err.Error().
func describe(r *http.Request, err error) (int, errorInfo) {
	var (
		ae *apiError
		de *httpapi.DecodeError
		ve *directory.ValidationError
		ce *directory.ConflictError
		he *httpapi.HTTPError
	)
	switch {
	case errors.As(err, &ae):
		return ae.status, errorInfo{ae.code, ae.msg, nonNil(ae.params)}
	case errors.As(err, &de):
		code := codeInvalidBody
		switch de.Status {
		case http.StatusRequestEntityTooLarge:
			code = codeTooLarge
		case http.StatusUnsupportedMediaType:
			code = codeUnsupportedMedia
		}
		var ps []param
		if de.Field != "" {
			ps = append(ps, param{Name: de.Field})
		}
		return de.Status, errorInfo{code, de.Msg, nonNil(ps)}
	case errors.As(err, &ve):
		ps := make([]param, 0, len(ve.Errors))
		for _, fe := range ve.Errors {
			ps = append(ps, param{Name: wireField(fe.Field), Reason: fe.Code, Message: wireMessage(fe)})
		}
		msg := "Invalid user attributes."
		if len(ps) > 0 {
			msg = ps[0].Message
		}
		return http.StatusBadRequest, errorInfo{codeValidation, msg, ps}
	case errors.As(err, &ce):
		return http.StatusConflict, conflictInfo(ce)
	case errors.Is(err, directory.ErrNotFound):
		return http.StatusNotFound, errorInfo{codeUserNotFound, "User not found.", []param{}}
	case errors.Is(err, directory.ErrUnauthenticated):
		return http.StatusUnauthorized, errorInfo{codeUnauthorized, msgUnauthorized, []param{}}
	case errors.Is(err, directory.ErrForbidden):
		return http.StatusForbidden, errorInfo{codeForbidden, "The application may not perform this operation.", []param{}}
	case errors.Is(err, httpapi.ErrPreconditionFailed):
		// If-Match named a version the user no longer has; tested before
		// the bare ErrPrecondition, a write without If-Match.
		return http.StatusPreconditionFailed, errorInfo{codePrecondition,
			"The user has changed since the version in If-Match; read it again and retry.", []param{{Name: "If-Match"}}}
	case errors.Is(err, directory.ErrPrecondition):
		return http.StatusConflict, errorInfo{codeConcurrentUpdate, "The user was modified concurrently; retry the request.", []param{}}
	case errors.Is(err, directory.ErrRateLimited):
		return http.StatusTooManyRequests, errorInfo{codeTooManyRequests, "Too many requests; retry later.", []param{}}
	case errors.Is(err, directory.ErrUnavailable):
		return http.StatusServiceUnavailable, errorInfo{codeUnavailable, "The service is temporarily unavailable; retry later.", []param{}}
	case errors.Is(err, directory.ErrIdempotencyKeyInvalid):
		return http.StatusBadRequest, errorInfo{codeIdempotencyKey, msgIdempotencyKey, []param{{Name: "Idempotency-Key"}}}
	case errors.Is(err, directory.ErrIdempotencyMismatch):
		return http.StatusUnprocessableEntity, errorInfo{codeIdempotencyReuse, msgIdempotencyMismatch, []param{}}
	case errors.Is(err, directory.ErrIdempotencyInFlight):
		return http.StatusConflict, errorInfo{codeIdempotencyBusy, msgIdempotencyInFlight, []param{}}
	case errors.Is(err, directory.ErrInvalidFilter):
		return http.StatusBadRequest, errorInfo{codeInvalidSearch, "The search cannot be applied.", []param{}}
	case errors.As(err, &he) && he.Status == http.StatusMethodNotAllowed:
		return he.Status, errorInfo{codeMethodNotAllowed, "Method not allowed.", []param{}}
	case errors.As(err, &he) && he.Status >= 400 && he.Status < 500:
		code := codeInvalidBody
		switch he.Status {
		case http.StatusUnauthorized:
			code = codeUnauthorized
		case http.StatusForbidden:
			code = codeForbidden
		case http.StatusNotFound:
			code = codeNotFound
		case http.StatusConflict:
			code = codeConflict
		case http.StatusRequestEntityTooLarge:
			code = codeTooLarge
		case http.StatusUnsupportedMediaType:
			code = codeUnsupportedMedia
		case http.StatusTooManyRequests:
			code = codeTooManyRequests
		}
		return he.Status, errorInfo{code, he.Public, []param{}}
	}
	return http.StatusInternalServerError, errorInfo{codeInternal, msgInternal,
		[]param{{RequestID: httpapi.RequestIDFrom(r.Context())}}}
}

// conflictInfo names the identifier that is taken.
func conflictInfo(ce *directory.ConflictError) errorInfo {
	name := wireField(ce.Field)
	code, msg := codeConflict, "A unique value is already in use."
	switch ce.Field {
	case directory.FieldUsername:
		code, msg = codeDuplicateUserID, "The userId is already in use as the userId or alias of a user."
	case directory.FieldAlias:
		code, msg = codeDuplicateAlias, "A user alias is already in use as the userId or alias of a user."
	case directory.FieldEmail:
		code, msg = codeDuplicateEmail, "The email is already in use by another user."
	case directory.FieldPhone:
		code, msg = codeDuplicatePhone, "The phone number is already in use by another user."
	case directory.FieldExternalID:
		code, msg = codeDuplicateExternal, "The externalId is already in use by another user."
	}
	return errorInfo{code, msg, []param{{Name: name}}}
}

func nonNil(ps []param) []param {
	if ps == nil {
		return []param{}
	}
	return ps
}

// renderError is the dialect's httpapi.Renderer.
func renderError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := describe(r, err)
	_ = httpapi.WriteJSON(w, status, body)
}

// Idempotency-Key messages, shared by nothing else: each dialect words its
// own, these are Entrust's.
const (
	msgIdempotencyKey      = "The Idempotency-Key header must be 1 to 255 printable ASCII characters, sent once, and is not accepted on bulk requests."
	msgIdempotencyMismatch = "The Idempotency-Key was already used with a different request."
	msgIdempotencyInFlight = "A request with this Idempotency-Key is still being processed; retry later."
)
