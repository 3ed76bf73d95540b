package truv

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// errorEnvelope is Truv's error body:
//
//	{"error": {"code": "incorrect_parameters", "message": "Incorrect request parameters",
//	           "extra": {"invalid-params": [{"field": "first_name", "message": "..."}]}}}
//
// extra is Truv's on 400 only; Roster adds one on its own 409. request_id is
// Roster's, on 500 only, so an operator can find the log line.
type errorEnvelope struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Extra     any    `json:"extra,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

type invalidParams struct {
	InvalidParams []paramJSON `json:"invalid-params"`
}

type paramJSON struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

type conflictExtra struct {
	Field          string `json:"field"`
	ExistingUserID string `json:"existing_user_id,omitempty"`
}

// detailJSON is DRF's own error body, which Truv sends for 404 and which
// DRF sends for 405, 406 and 415.
type detailJSON struct {
	Detail string `json:"detail"`
}

// nonFieldErrors is DRF's key for errors not tied to one field; Roster uses
// it for a body that is not a JSON object at all.
const nonFieldErrors = "non_field_errors"

// methodError is a known path called with a method it does not serve.
type methodError struct {
	allow string // the Allow header
}

func (e *methodError) Error() string { return "method not allowed" }

// writeError is the package's httpapi.Renderer.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := errorResponse(r, err)
	var me *methodError
	if errors.As(err, &me) {
		w.Header().Set("Allow", me.allow)
	}
	_ = httpapi.WriteJSON(w, status, body)
}

// errorResponse maps every error a handler can return to Truv's status and
// body. Unknown errors are 500 with a fixed phrase; err.Error() is never
// sent (the access log has it).
func errorResponse(r *http.Request, err error) (int, any) {
	var (
		de  *httpapi.DecodeError
		me  *methodError
		pe  *paramError
		pes paramErrors
		ve  *directory.ValidationError
		ce  *directory.ConflictError
		he  *httpapi.HTTPError
	)
	switch {
	case errors.Is(err, httpapi.ErrPanic):
		return internalError(r)
	case errors.As(err, &de):
		return decodeErrorResponse(r, de)
	case errors.As(err, &me):
		return http.StatusMethodNotAllowed, detailJSON{fmt.Sprintf("Method %q not allowed.", r.Method)}
	case errors.As(err, &pe):
		return badRequest(paramJSON{pe.Param, pe.Message})
	case errors.As(err, &pes):
		return badRequest(pes...)
	case errors.Is(err, errNotAcceptable):
		return http.StatusNotAcceptable, detailJSON{"Could not satisfy the request Accept header."}
	case errors.As(err, &ve):
		var be *bodyError
		var sent map[directory.Field]sentAs
		if errors.As(err, &be) {
			sent = be.sent
		}
		return badRequest(validationParams(ve, sent)...)
	case errors.Is(err, errNoCredentials):
		return http.StatusUnauthorized, errorEnvelope{errorJSON{Code: "authentication_failed",
			Message: "Authentication credentials were not provided."}}
	case errors.Is(err, directory.ErrUnauthenticated):
		return http.StatusUnauthorized, errorEnvelope{errorJSON{Code: "authentication_failed",
			Message: "Incorrect authentication credentials."}}
	case errors.Is(err, directory.ErrForbidden):
		return http.StatusForbidden, errorEnvelope{errorJSON{Code: "not_authenticated",
			Message: "You do not have permission to perform this action."}}
	case errors.Is(err, directory.ErrNotFound):
		return http.StatusNotFound, detailJSON{"Not Found."}
	case errors.Is(err, errInvalidPage):
		return http.StatusNotFound, detailJSON{"Invalid page."}
	case errors.As(err, &ce):
		name := wireName(ce.Field)
		return http.StatusConflict, errorEnvelope{errorJSON{Code: "conflict",
			Message: fmt.Sprintf("A user with this %s already exists.", name),
			Extra:   conflictExtra{Field: name, ExistingUserID: directory.HexID(ce.ExistingID)}}}
	case errors.Is(err, httpapi.ErrPreconditionFailed):
		// If-Match named a version the user no longer has (Roster's
		// addition; Truv sends no ETags). Tested before the bare
		// ErrPrecondition below, which is a write without If-Match.
		return http.StatusPreconditionFailed, errorEnvelope{errorJSON{Code: "precondition_failed",
			Message: "The user has changed since the version in If-Match; read it again and retry."}}
	case errors.Is(err, directory.ErrConflict), errors.Is(err, directory.ErrPrecondition):
		// A claim conflict the core could not name, or an update that lost
		// every retry to concurrent writers: the client may retry.
		return http.StatusConflict, errorEnvelope{errorJSON{Code: "conflict",
			Message: "The request conflicts with the current state of the user; retry it."}}
	case errors.Is(err, directory.ErrRateLimited):
		return http.StatusTooManyRequests, errorEnvelope{errorJSON{Code: "throttled",
			Message: "Request was throttled."}}
	case errors.Is(err, directory.ErrUnavailable):
		// Django REST framework's ServiceUnavailable, code and phrase.
		return http.StatusServiceUnavailable, errorEnvelope{errorJSON{Code: "service_unavailable",
			Message: "Service temporarily unavailable, try again later."}}
	case errors.Is(err, directory.ErrIdempotencyKeyInvalid):
		return badRequest(paramJSON{"Idempotency-Key", "Ensure this header has 1 to 255 printable ASCII characters and is sent once."})
	case errors.Is(err, directory.ErrIdempotencyMismatch):
		return http.StatusUnprocessableEntity, errorEnvelope{errorJSON{Code: "idempotency_key_reused",
			Message: "This Idempotency-Key was already used with a different request."}}
	case errors.Is(err, directory.ErrIdempotencyInFlight):
		return http.StatusConflict, errorEnvelope{errorJSON{Code: "idempotency_key_in_use",
			Message: "A request with this Idempotency-Key is still being processed; retry later."}}
	case errors.Is(err, directory.ErrInvalidReference):
		return badRequest(paramJSON{nonFieldErrors, "The request refers to a record that does not exist."})
	case errors.As(err, &he) && he.Status >= 400 && he.Status < 500:
		return statusResponse(he.Status, he.Public)
	}
	return internalError(r)
}

// internalError is the 500 body: a fixed phrase and the request id.
func internalError(r *http.Request) (int, any) {
	return http.StatusInternalServerError, errorEnvelope{errorJSON{Code: "internal_error",
		Message: "Internal server error", RequestID: httpapi.RequestIDFrom(r.Context())}}
}

// badRequest is Truv's 400.
func badRequest(params ...paramJSON) (int, any) {
	return http.StatusBadRequest, errorEnvelope{errorJSON{Code: "incorrect_parameters",
		Message: "Incorrect request parameters", Extra: invalidParams{params}}}
}

// decodeErrorResponse renders a body that could not be read.
func decodeErrorResponse(r *http.Request, de *httpapi.DecodeError) (int, any) {
	switch de.Status {
	case http.StatusUnsupportedMediaType:
		// DRF: Unsupported media type "text/plain" in request.
		ct := r.Header.Get("Content-Type")
		if len(ct) > 200 {
			ct = ct[:200]
		}
		return http.StatusUnsupportedMediaType, detailJSON{fmt.Sprintf("Unsupported media type %q in request.", ct)}
	case http.StatusRequestEntityTooLarge:
		limit := int64(maxBody)
		var mbe *http.MaxBytesError
		if errors.As(de, &mbe) {
			limit = mbe.Limit // the server-wide limit may be the smaller one
		}
		return http.StatusRequestEntityTooLarge, errorEnvelope{errorJSON{Code: "payload_too_large",
			Message: fmt.Sprintf("Request body is larger than %d bytes.", limit)}}
	}
	if de.Field != "" {
		// Every field of a Truv body is a string; DRF's CharField says so.
		return badRequest(paramJSON{de.Field, "Not a valid string."})
	}
	var te *json.UnmarshalTypeError
	if errors.As(de, &te) {
		return badRequest(paramJSON{nonFieldErrors, fmt.Sprintf("Invalid data. Expected a dictionary, but got %s.", pythonType(te.Value))})
	}
	if errors.Is(de, errNullBody) {
		return badRequest(paramJSON{nonFieldErrors, "Invalid data. Expected a dictionary, but got NoneType."})
	}
	return badRequest(paramJSON{nonFieldErrors, "JSON parse error - " + de.Msg + "."})
}

// pythonType names a JSON value kind (as encoding/json reports it) the way
// DRF's message does.
func pythonType(jsonKind string) string {
	switch jsonKind {
	case "array":
		return "list"
	case "string":
		return "str"
	case "bool":
		return "bool"
	case "object":
		return "dict"
	case "null":
		return "NoneType"
	}
	if len(jsonKind) >= 6 && jsonKind[:6] == "number" {
		return "int"
	}
	return jsonKind
}

// statusResponse renders a bare status and public message in the format
// Truv uses for that status.
func statusResponse(status int, public string) (int, any) {
	switch status {
	case http.StatusBadRequest:
		return badRequest(paramJSON{nonFieldErrors, public})
	case http.StatusUnauthorized:
		return status, errorEnvelope{errorJSON{Code: "authentication_failed", Message: public}}
	case http.StatusForbidden:
		return status, errorEnvelope{errorJSON{Code: "not_authenticated", Message: public}}
	case http.StatusTooManyRequests:
		return status, errorEnvelope{errorJSON{Code: "throttled", Message: public}}
	}
	return status, detailJSON{public}
}

// validationParams turns the core's field errors into invalid-params in
// Truv's field order, worded as DRF words them.
func validationParams(ve *directory.ValidationError, sent map[directory.Field]sentAs) []paramJSON {
	ps := make([]paramJSON, 0, len(ve.Errors))
	for _, fe := range ve.Errors {
		ps = append(ps, paramJSON{wireName(fe.Field), fieldMessage(fe, sent[fe.Field])})
	}
	sort.SliceStable(ps, func(i, j int) bool { return wireOrder(ps[i].Field) < wireOrder(ps[j].Field) })
	return ps
}

// fieldMessage words one core field error. The core's own messages use its
// field names, not Truv's, so each is rewritten in DRF's style.
func fieldMessage(fe directory.FieldError, how sentAs) string {
	switch fe.Code {
	case directory.CodeRequired:
		switch how {
		case sentNull:
			return "This field may not be null."
		case sentBlank:
			return "This field may not be blank."
		}
		return "This field is required."
	case directory.CodeTooLong:
		return "Ensure this field is not longer than the allowed length."
	case directory.CodeInvalid:
		switch fe.Field {
		case directory.FieldEmail:
			return "Enter a valid email address."
		case directory.FieldSSN:
			return "Enter a valid SSN: 9 digits, dashes allowed."
		}
		return "This field contains invalid characters."
	}
	return "Invalid value."
}
