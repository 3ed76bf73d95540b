package httpapi

import (
	"errors"
	"fmt"
	"net/http"
)

// HTTPError is an error with the status to send and the public message for
// the body; Cause is logged, never sent.
type HTTPError struct {
	Status int
	Public string
	Cause  error
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("http %d: %s: %v", e.Status, e.Public, e.Cause)
}

func (e *HTTPError) Unwrap() error { return e.Cause }

// Errorf returns an *HTTPError with a public message and no cause.
func Errorf(status int, format string, args ...any) *HTTPError {
	return &HTTPError{Status: status, Public: fmt.Sprintf(format, args...)}
}

// DecodeError is a request body that could not be read as the expected
// JSON. Status is 400, 413 (too large) or 415 (not JSON). Field, when set,
// is the JSON path of a value of the wrong type or an unknown field.
type DecodeError struct {
	Status int
	Field  string
	Msg    string // public: safe to send
	Err    error
}

func (e *DecodeError) Error() string { return "decode body: " + e.Msg }
func (e *DecodeError) Unwrap() error { return e.Err }

// ErrPanic marks the error Adapt hands to a renderer after a handler
// panicked: renderers answer it with their 500 body.
var ErrPanic = errors.New("handler panicked")

// StatusOf returns the status of an *HTTPError or *DecodeError in err's
// chain, and 0 when there is none.
func StatusOf(err error) int {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Status
	}
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Status
	}
	return 0
}

// MethodNotAllowed is the error a dialect returns for a known path with an
// unsupported method.
var MethodNotAllowed = &HTTPError{Status: http.StatusMethodNotAllowed, Public: "Method not allowed."}
