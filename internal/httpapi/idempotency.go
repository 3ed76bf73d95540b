package httpapi

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/roster-dev/roster/internal/directory"
)

// Idempotency headers (draft-ietf-httpapi-idempotency-key-header; the
// replay marker is Stripe's, which clients of that scheme look for).
const (
	IdempotencyKeyHeader = "Idempotency-Key"
	ReplayedHeader       = "Idempotent-Replayed"
)

// maxRecordedBody bounds a response body kept for replay. A larger one is
// not recorded; a retry then re-renders the stored record instead.
const maxRecordedBody = 1 << 20

// replayedHeaders are the response headers replayed with a recorded body.
var replayedHeaders = []string{"Content-Type", "Location", "ETag"}

// Idempotent runs next under the request's Idempotency-Key, if it has one,
// with Stripe's semantics: the first request with a key runs; its
// response, once its write has committed, is recorded and replayed to
// every retry with the same key, method, route and body, marked
// "Idempotent-Replayed: true"; the same key with another body is
// directory.ErrIdempotencyMismatch (422); the same key while the first
// request runs is directory.ErrIdempotencyInFlight (409); an over-long or
// malformed key is directory.ErrIdempotencyKeyInvalid (400). Errors are
// returned, so the dialect's renderer writes them in its format.
//
// A key is scoped to the principal's tenant and credential, the method and
// the request path. It must run after authentication: without a
// principal, next runs as if no key were sent.
//
// The key's write is tied to it in the write's own transaction (see
// directory.Change): a request that writes nothing (a validation error, a
// conflict) releases its key, and a retry runs again.
func Idempotent(svc *directory.Service, w http.ResponseWriter, r *http.Request, next HandlerFunc) error {
	keys := r.Header.Values(IdempotencyKeyHeader)
	if len(keys) == 0 {
		return next(w, r)
	}
	p, ok := PrincipalFrom(r.Context())
	if !ok {
		return next(w, r)
	}
	if len(keys) > 1 || !directory.ValidIdempotencyKey(keys[0]) {
		return fmt.Errorf("idempotency key: %w", directory.ErrIdempotencyKeyInvalid)
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		// Too large or unreadable: the handler's own read reports it in
		// the dialect's words, and nothing is written.
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(raw), errReader{err}))
		return next(w, r)
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", r.Method, r.URL.Path, r.URL.RawQuery)
	h.Write(raw)

	claim, resp, err := svc.BeginIdempotent(r.Context(), p, r.Method, r.URL.Path, keys[0], h.Sum(nil))
	if err != nil {
		if errors.Is(err, directory.ErrIdempotencyInFlight) {
			w.Header().Set("Retry-After", "1")
		}
		return fmt.Errorf("idempotency key: %w", err)
	}
	if resp != nil {
		return replay(w, resp)
	}
	if claim.Replay {
		w.Header().Set(ReplayedHeader, "true")
	}
	cw := &captureWriter{ResponseWriter: w}
	herr := next(cw, r.WithContext(directory.WithIdempotency(r.Context(), claim)))
	var rec *directory.IdempotentResponse
	if herr == nil && cw.status != 0 && !cw.overflow {
		rec = &directory.IdempotentResponse{Status: cw.status, Header: cw.header, Body: cw.body.Bytes()}
	}
	if ferr := svc.FinishIdempotent(r.Context(), claim, rec); ferr != nil {
		// The response stands: the write committed (or did not) either
		// way. A key left pending expires with its lease.
		InfoFrom(r.Context()).Err = ferr
	}
	return herr
}

// RefuseIdempotencyKey is for routes that do not honour the header (bulk
// requests, which run many writes, each in its own transaction): a request
// that sends one is directory.ErrIdempotencyKeyInvalid, rather than
// silently unprotected.
func RefuseIdempotencyKey(r *http.Request) error {
	if len(r.Header.Values(IdempotencyKeyHeader)) > 0 {
		return fmt.Errorf("idempotency key on a bulk route: %w", directory.ErrIdempotencyKeyInvalid)
	}
	return nil
}

func replay(w http.ResponseWriter, resp *directory.IdempotentResponse) error {
	for k, v := range resp.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set(ReplayedHeader, "true")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body) // the client may have gone; nothing to add
	return nil
}

// captureWriter passes a response through and keeps its status, the
// replayed headers and the body.
type captureWriter struct {
	http.ResponseWriter
	status   int
	header   map[string]string
	body     bytes.Buffer
	overflow bool
}

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
		for _, k := range replayedHeaders {
			if v := c.Header().Get(k); v != "" {
				if c.header == nil {
					c.header = map[string]string{}
				}
				c.header[k] = v
			}
		}
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if c.body.Len()+len(b) > maxRecordedBody {
		c.overflow = true
	} else if !c.overflow {
		c.body.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// IdempotentHandler wraps next, which runs after authentication, with
// Idempotent.
func IdempotentHandler(svc *directory.Service, next HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error { return Idempotent(svc, w, r, next) }
}

// IdempotentAuthed is IdempotentHandler for the dialects whose handlers
// take the principal as an argument.
func IdempotentAuthed[F ~func(http.ResponseWriter, *http.Request, directory.Principal) error](svc *directory.Service, next F) F {
	return func(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
		return Idempotent(svc, w, r, func(w http.ResponseWriter, r *http.Request) error { return next(w, r, p) })
	}
}

// RefusingIdempotencyKey wraps a bulk route's handler with
// RefuseIdempotencyKey.
func RefusingIdempotencyKey(next HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := RefuseIdempotencyKey(r); err != nil {
			return err
		}
		return next(w, r)
	}
}
