package cl2c

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// The vendor documents two error bodies. This is the 400 one, ASP.NET
// Core's ValidationProblemDetails (RFC 7807), which the vendor documents as
// "Error (400) Content Type: application/json":
//
//	{"type":"string","title":"string","status":400,"detail":"string","instance":"string",
//	 "errors":{"fieldName":["Error message 1","Error message 2"]}}
type problem struct {
	Type     string              `json:"type"`
	Title    string              `json:"title"`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail"`
	Instance string              `json:"instance"`
	Errors   map[string][]string `json:"errors"`
	TraceID  string              `json:"traceId"`
}

// And this is the "default" one, fullstackhero's ErrorResult, for every
// other failure:
//
//	{"messages":["string"],"source":"string","exception":"string","errorId":"string",
//	 "supportMessage":"string","statusCode":0}
type errorResult struct {
	Messages       []string `json:"messages"`
	Source         string   `json:"source"`
	Exception      string   `json:"exception"`
	ErrorID        string   `json:"errorId"`
	SupportMessage string   `json:"supportMessage"`
	StatusCode     int      `json:"statusCode"`
}

const (
	problemType  = "https://tools.ietf.org/html/rfc9110#section-15.5.1"
	problemTitle = "One or more validation errors occurred."
	// problemCType is the vendor's documented type of its 400 body
	// (ASP.NET would send application/problem+json; the vendor's page says
	// application/json, and a client may check it).
	problemCType   = "application/json"
	supportMessage = "Provide the ErrorId to the support team for further analysis."
)

// Public messages of the default body. They follow the fullstackhero
// template's wording where it has one.
const (
	msgAuthFailed     = "Authentication Failed."
	msgAuthHeaders    = "The tenant and X-API-Key headers are required."
	msgForbidden      = "You are not authorized to access this resource."
	msgNotFound       = "User Not Found."
	msgRouteNotFound  = "The requested resource was not found."
	msgPrecondition   = "The user was modified concurrently. Retry the request."
	msgIfMatch        = "The user has changed since the version in If-Match. Read it again and retry."
	msgRateLimited    = "Too many requests. Retry later."
	msgInternal       = "An internal error occurred."
	msgUnavailable    = "The service is temporarily unavailable. Retry later."
	msgValidation     = "One or more fields are invalid. See errors for each field."
	msgInvalidRequest = "The request is invalid."

	msgIdempotencyKey      = "The Idempotency-Key header must be 1 to 255 printable ASCII characters, sent once."
	msgIdempotencyMismatch = "The Idempotency-Key was already used with a different request."
	msgIdempotencyInFlight = "A request with this Idempotency-Key is still being processed. Retry later."
)

// render writes err in the CL2C format: validation and decoding failures as
// a 400 problem, everything else as an ErrorResult. It is the only place
// that decides a status. Unknown errors are a 500 with a fixed phrase; the
// cause goes to the access log only, tagged with the errorId the client
// sees so that support can find it.
func render(w http.ResponseWriter, r *http.Request, err error) {
	var (
		ve *directory.ValidationError
		de *httpapi.DecodeError
		ce *directory.ConflictError
		he *httpapi.HTTPError
	)
	switch {
	case errors.Is(err, directory.ErrIdempotencyKeyInvalid):
		writeProblem(w, r, msgIdempotencyKey, map[string][]string{"Idempotency-Key": {msgIdempotencyKey}})
	case errors.Is(err, directory.ErrIdempotencyMismatch):
		writeResult(w, r, err, http.StatusUnprocessableEntity, msgIdempotencyMismatch)
	case errors.Is(err, directory.ErrIdempotencyInFlight):
		writeResult(w, r, err, http.StatusConflict, msgIdempotencyInFlight)
	case errors.As(err, &ve):
		errs := map[string][]string{}
		for _, fe := range ve.Errors {
			k := wireFieldOf(fe.Field).key
			errs[k] = append(errs[k], fieldMessage(fe))
		}
		writeProblem(w, r, msgValidation, errs)
	case errors.As(err, &de) && de.Status == http.StatusBadRequest:
		// ASP.NET keys JSON errors by their JSON path: "$" for the body,
		// "$.firstName" for one value.
		key := "$"
		if de.Field != "" {
			key = "$." + de.Field
		}
		writeProblem(w, r, de.Msg, map[string][]string{key: {de.Msg}})
	case errors.As(err, &de):
		writeResult(w, r, err, de.Status, de.Msg)
	case errors.As(err, &he) && he.Status == http.StatusBadRequest:
		writeProblem(w, r, he.Public, map[string][]string{"$": {he.Public}})
	case errors.As(err, &he) && he.Status >= 400:
		// Errors this package builds (401 for missing headers, 404 for
		// unknown routes, 405): their public message is the one to send.
		writeResult(w, r, err, he.Status, he.Public)
	case errors.As(err, &ce):
		writeResult(w, r, err, http.StatusConflict, conflictMessage(ce))
	case errors.Is(err, directory.ErrNotFound):
		writeResult(w, r, err, http.StatusNotFound, msgNotFound)
	case errors.Is(err, directory.ErrUnauthenticated):
		writeResult(w, r, err, http.StatusUnauthorized, msgAuthFailed)
	case errors.Is(err, directory.ErrForbidden):
		writeResult(w, r, err, http.StatusForbidden, msgForbidden)
	case errors.Is(err, httpapi.ErrPreconditionFailed):
		// If-Match named a version the user no longer has; tested before
		// the bare ErrPrecondition, a write without If-Match.
		writeResult(w, r, err, http.StatusPreconditionFailed, msgIfMatch)
	case errors.Is(err, directory.ErrPrecondition), errors.Is(err, directory.ErrConflict):
		writeResult(w, r, err, http.StatusConflict, msgPrecondition)
	case errors.Is(err, directory.ErrRateLimited):
		writeResult(w, r, err, http.StatusTooManyRequests, msgRateLimited)
	case errors.Is(err, directory.ErrUnavailable):
		writeResult(w, r, err, http.StatusServiceUnavailable, msgUnavailable)
	case errors.Is(err, directory.ErrInvalidReference):
		writeProblem(w, r, msgInvalidRequest, map[string][]string{"$": {msgInvalidRequest}})
	default: // ErrPanic, store failures, anything unforeseen
		writeResult(w, r, err, http.StatusInternalServerError, msgInternal)
	}
}

// writeProblem writes a 400 validation problem. traceId is the request id,
// which the access log carries too.
func writeProblem(w http.ResponseWriter, r *http.Request, detail string, errs map[string][]string) {
	_ = httpapi.WriteJSONAs(w, http.StatusBadRequest, problemCType, problem{
		Type:     problemType,
		Title:    problemTitle,
		Status:   http.StatusBadRequest,
		Detail:   detail,
		Instance: r.URL.Path,
		Errors:   errs,
		TraceID:  httpapi.RequestIDFrom(r.Context()),
	})
}

// writeResult writes an ErrorResult with a fresh errorId. exception carries
// the public message, never the internal error: fullstackhero puts the
// exception's message there, which for a server fault would leak internals.
func writeResult(w http.ResponseWriter, r *http.Request, err error, status int, public string) {
	id := uuid.NewString()
	info := httpapi.InfoFrom(r.Context())
	info.Err = fmt.Errorf("errorId %s: %w", id, err)
	_ = httpapi.WriteJSON(w, status, errorResult{
		Messages:       []string{public},
		Source:         source(r),
		Exception:      public,
		ErrorID:        id,
		SupportMessage: supportMessage,
		StatusCode:     status,
	})
}

// source names the operation that failed: the route pattern that matched
// ("POST /v1/cl2c/user"). fullstackhero sends the .NET type that threw.
func source(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return r.Method + " " + r.URL.Path
}

// fieldMessage words one field error as FluentValidation does
// ("'First Name' must not be empty.").
func fieldMessage(fe directory.FieldError) string {
	wf := wireFieldOf(fe.Field)
	switch fe.Code {
	case directory.CodeRequired:
		return fmt.Sprintf("'%s' must not be empty.", wf.display)
	case directory.CodeTooLong:
		if wf.max > 0 {
			return fmt.Sprintf("The length of '%s' must be %d characters or fewer.", wf.display, wf.max)
		}
		return fmt.Sprintf("'%s' is too long.", wf.display)
	case directory.CodeNotAllowed:
		return fmt.Sprintf("'%s' is not allowed.", wf.display)
	}
	switch fe.Field {
	case directory.FieldID:
		return "'Id' must be a valid UUID."
	}
	// The core's message reads "<field> <problem>": keep the problem.
	problem := fe.Message
	if i := strings.IndexByte(problem, ' '); i > 0 {
		problem = problem[i+1:]
	}
	if problem == "" {
		problem = "is not valid"
	}
	return fmt.Sprintf("'%s' %s.", wf.display, strings.TrimSuffix(problem, "."))
}

// conflictMessage words a uniqueness conflict as the fullstackhero
// validators do. Value is the core's normalised form of what was sent.
func conflictMessage(ce *directory.ConflictError) string {
	switch ce.Field {
	case directory.FieldUsername, directory.FieldAlias:
		return fmt.Sprintf("Username %s is already taken.", ce.Value)
	case directory.FieldEmail:
		return fmt.Sprintf("Email %s is already registered.", ce.Value)
	case directory.FieldPhone:
		return fmt.Sprintf("Phone number %s is already registered.", ce.Value)
	}
	return fmt.Sprintf("%s %s is already in use.", wireFieldOf(ce.Field).display, ce.Value)
}
