package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/roster-dev/roster/internal/directory"
)

// HandlerFunc is a handler that returns its error instead of writing it, so
// one handler can never write two bodies and no branch forgets to return.
type HandlerFunc func(http.ResponseWriter, *http.Request) error

// Renderer writes err in one dialect's error format. It maps domain errors
// with errors.Is/As to a status and a public message; everything it does
// not recognise is a 500 with a fixed phrase, never err.Error().
type Renderer func(w http.ResponseWriter, r *http.Request, err error)

// Adapt turns h into an http.Handler whose errors, and panics, are written by
// render in the dialect's format and recorded for the access log.
func Adapt(h HandlerFunc, render Renderer) http.Handler {
	h = withQueryLimit(h) // see MaxQueryParams
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw, ok := w.(*recorder)
		if !ok {
			rw = &recorder{ResponseWriter: w}
		}
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				panic(rec)
			}
			err := fmt.Errorf("%w: %v", ErrPanic, rec)
			InfoFrom(r.Context()).Err = err
			if !rw.wrote {
				render(rw, r, err)
			}
		}()
		// The caller's address, for the throttling of failed
		// authentications (directory.WithSource).
		r = r.WithContext(directory.WithSource(r.Context(), r.RemoteAddr, r.Header.Values("X-Forwarded-For")))
		if err := h(rw, r); err != nil {
			InfoFrom(r.Context()).Err = err
			if rw.wrote {
				return // the body was already started; nothing sane to add
			}
			// Every dialect answers ErrRateLimited 429; Retry-After is the
			// same header in all of them.
			if n, ok := directory.RetryAfterSeconds(err); ok {
				rw.Header().Set("Retry-After", strconv.Itoa(n))
			}
			// Likewise every dialect answers ErrUnavailable (a failover,
			// a database restart) 503, which a client should retry.
			if errors.Is(err, directory.ErrUnavailable) {
				rw.Header().Set("Retry-After", strconv.Itoa(directory.UnavailableRetryAfter))
			}
			render(rw, r, err)
		}
	})
}

// Tag names the dialect of every request h serves, for the access log.
func Tag(dialect string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		InfoFrom(r.Context()).Dialect = dialect
		h.ServeHTTP(w, r)
	})
}
