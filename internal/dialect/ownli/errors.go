package ownli

import (
	"errors"
	"net/http"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// Ownli's error codes. The first five are the vendor's (ERROR_USER_EXISTS is
// cut off in every copy of its docs and reconstructed); the rest are
// Roster's, in the same style, for statuses Ownli does not document.
const (
	codeInvalidParameters = "ERROR_INVALID_PARAMETERS"
	codeInvalidStateCode  = "ERROR_INVALID_STATE_CODE"
	codeUserNotFound      = "ERROR_USER_NOT_FOUND"
	codeUserExists        = "ERROR_USER_EXISTS"
	codeUnauthorized      = "ERROR_UNAUTHORIZED"
	codeForbidden         = "ERROR_FORBIDDEN"
	codeNotFound          = "ERROR_NOT_FOUND"
	codeMethodNotAllowed  = "ERROR_METHOD_NOT_ALLOWED"
	codeConcurrentUpdate  = "ERROR_CONCURRENT_UPDATE"
	codePrecondition      = "ERROR_PRECONDITION_FAILED"
	codePayloadTooLarge   = "ERROR_PAYLOAD_TOO_LARGE"
	codeUnsupportedMedia  = "ERROR_UNSUPPORTED_MEDIA_TYPE"
	codeTooManyRequests   = "ERROR_TOO_MANY_REQUESTS"
	codeInternal          = "ERROR_INTERNAL"
	codeUnavailable       = "ERROR_SERVICE_UNAVAILABLE"

	codeIdempotencyKey    = "ERROR_INVALID_IDEMPOTENCY_KEY"
	codeIdempotencyReused = "ERROR_IDEMPOTENCY_KEY_REUSED"
	codeIdempotencyInUse  = "ERROR_IDEMPOTENCY_KEY_IN_USE"
)

// Fixed public messages.
const (
	msgUserExists   = "User exists with phone or email"
	msgUserNotFound = "User not found"
	msgUnauthorized = "Invalid or missing API keys"
	msgForbidden    = "The token's scope does not allow this operation"
	msgInternal     = "Internal server error"
)

// errorBody is Ownli's error object (snake_case, unlike its resources).
type errorBody struct {
	ErrorCode    string `json:"error_code"`
	ErrorMessage string `json:"error_message"`
}

// apiError is an error this dialect raises itself (bad query parameters,
// unknown routes), already in Ownli's terms.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return "ownli: " + e.Code + ": " + e.Message }

func invalidParam(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: codeInvalidParameters, Message: msg}
}

// render writes err as Ownli's error body. It is the one place that maps
// domain, decoding and HTTP errors to statuses and codes; anything it does
// not recognise is a 500 with a fixed message and the request id, never
// err.Error().
func render(w http.ResponseWriter, r *http.Request, err error) {
	status, body := classify(err)
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="ownli"`)
	case http.StatusInternalServerError:
		if id := httpapi.RequestIDFrom(r.Context()); id != "" {
			body.ErrorMessage += " (request id " + id + ")"
		}
	}
	_ = httpapi.WriteJSON(w, status, body)
}

// classify returns the status and body for err.
func classify(err error) (int, errorBody) {
	var (
		ae *apiError
		de *httpapi.DecodeError
		he *httpapi.HTTPError
		ve *directory.ValidationError
	)
	switch {
	case errors.Is(err, httpapi.ErrPanic):
		return http.StatusInternalServerError, errorBody{codeInternal, msgInternal}
	case errors.As(err, &ae):
		return ae.Status, errorBody{ae.Code, ae.Message}
	case errors.Is(err, directory.ErrIdempotencyKeyInvalid):
		return http.StatusBadRequest, errorBody{codeIdempotencyKey, "Idempotency-Key must be 1 to 255 printable ASCII characters, sent once"}
	case errors.Is(err, directory.ErrIdempotencyMismatch):
		return http.StatusUnprocessableEntity, errorBody{codeIdempotencyReused, "Idempotency-Key was already used with a different request"}
	case errors.Is(err, directory.ErrIdempotencyInFlight):
		return http.StatusConflict, errorBody{codeIdempotencyInUse, "A request with this Idempotency-Key is still being processed; retry later"}
	case errors.As(err, &de):
		switch de.Status {
		case http.StatusRequestEntityTooLarge:
			return de.Status, errorBody{codePayloadTooLarge, "Request body is too large"}
		case http.StatusUnsupportedMediaType:
			return de.Status, errorBody{codeUnsupportedMedia, "Content-Type must be application/json"}
		}
		return http.StatusBadRequest, errorBody{codeInvalidParameters, de.Msg}
	case errors.As(err, &he):
		return he.Status, errorBody{codeForStatus(he.Status), he.Public}
	case errors.As(err, &ve):
		return http.StatusBadRequest, validationBody(ve)
	case errors.Is(err, directory.ErrConflict):
		return http.StatusConflict, errorBody{codeUserExists, msgUserExists}
	case errors.Is(err, directory.ErrNotFound):
		return http.StatusNotFound, errorBody{codeUserNotFound, msgUserNotFound}
	case errors.Is(err, directory.ErrUnauthenticated):
		return http.StatusUnauthorized, errorBody{codeUnauthorized, msgUnauthorized}
	case errors.Is(err, directory.ErrForbidden):
		return http.StatusForbidden, errorBody{codeForbidden, msgForbidden}
	case errors.Is(err, httpapi.ErrPreconditionFailed):
		// If-Match named a version the user no longer has; tested before
		// the bare ErrPrecondition, a write without If-Match.
		return http.StatusPreconditionFailed, errorBody{codePrecondition, "The user has changed since the version in If-Match; read it again and retry"}
	case errors.Is(err, directory.ErrPrecondition):
		// Only after UpdateUser exhausted its retries against concurrent
		// writers; the client should retry.
		return http.StatusConflict, errorBody{codeConcurrentUpdate, "The user was modified concurrently; retry the request"}
	case errors.Is(err, directory.ErrRateLimited):
		return http.StatusTooManyRequests, errorBody{codeTooManyRequests, "Too many requests"}
	case errors.Is(err, directory.ErrUnavailable):
		return http.StatusServiceUnavailable, errorBody{codeUnavailable, "Service temporarily unavailable; retry later"}
	case errors.Is(err, directory.ErrInvalidFilter), errors.Is(err, directory.ErrInvalidReference):
		return http.StatusBadRequest, errorBody{codeInvalidParameters, "Invalid parameters"}
	}
	return http.StatusInternalServerError, errorBody{codeInternal, msgInternal}
}

// codeForStatus names an *httpapi.HTTPError's status in Ownli's style.
func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return codeInvalidParameters
	case http.StatusUnauthorized:
		return codeUnauthorized
	case http.StatusForbidden:
		return codeForbidden
	case http.StatusNotFound:
		return codeNotFound
	case http.StatusMethodNotAllowed:
		return codeMethodNotAllowed
	case http.StatusConflict:
		return codeUserExists
	case http.StatusRequestEntityTooLarge:
		return codePayloadTooLarge
	case http.StatusUnsupportedMediaType:
		return codeUnsupportedMedia
	case http.StatusTooManyRequests:
		return codeTooManyRequests
	}
	return codeInternal
}

// validationBody renders the core's field errors. An invalid state code is
// Ownli's ERROR_INVALID_STATE_CODE (even beside other problems, which the
// message still lists); everything else is ERROR_INVALID_PARAMETERS.
func validationBody(ve *directory.ValidationError) errorBody {
	code := codeInvalidParameters
	msgs := make([]string, 0, len(ve.Errors))
	for _, fe := range ve.Errors {
		if fe.Field == directory.FieldAddressState && fe.Code == directory.CodeInvalid {
			code = codeInvalidStateCode
		}
		msgs = append(msgs, fieldMessage(fe))
	}
	if len(msgs) == 0 {
		msgs = append(msgs, "Invalid parameters")
	}
	return errorBody{code, strings.Join(msgs, "; ")}
}

// fieldMessage words one field error with Ownli's field names. The core's
// own messages name core fields, so they are reworded.
func fieldMessage(fe directory.FieldError) string {
	name := wireField(fe.Field)
	switch fe.Code {
	case directory.CodeRequired:
		return name + " is required"
	case directory.CodeTooLong:
		return name + " is too long"
	}
	switch fe.Field {
	case directory.FieldEmail:
		return "email is not a valid e-mail address"
	case directory.FieldPhone:
		return "phone must be in E.164 format, e.g. +15556667777"
	case directory.FieldAddressState:
		return "address.state must be a 2 letter US state code, e.g. CA"
	case directory.FieldAddressCountry:
		return "address.country must be US"
	}
	// The core words the rest "<core field> <problem>" ("first_name
	// contains a control character"); extras are already named by their key.
	if rest, ok := strings.CutPrefix(fe.Message, string(fe.Field)+" "); ok {
		return name + " " + rest
	}
	if k, ok := strings.CutPrefix(string(fe.Field), "extras."); ok && strings.HasPrefix(fe.Message, k+" ") {
		return fe.Message
	}
	return name + " is invalid"
}
