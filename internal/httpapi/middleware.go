package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
)

// recorder captures the status and size of a response for the access log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Middleware wraps the whole router: request id, security headers (see
// securityHeaders), access log, panic recovery, path cleaning and the
// server-wide body limit, in that order from the outside.
func Middleware(h http.Handler, logger *slog.Logger, maxBody int64) http.Handler {
	return MiddlewareWith(h, MiddlewareOptions{Logger: logger, MaxBody: maxBody})
}

// MiddlewareOptions configure MiddlewareWith.
type MiddlewareOptions struct {
	Logger  *slog.Logger
	MaxBody int64    // 0: DefaultMaxBody
	Metrics *Metrics // nil: none
	// CORSOrigins are the origins browsers may call from ("*": any);
	// empty: no CORS headers at all. See CORS.
	CORSOrigins []string
}

// MiddlewareWith is Middleware with metrics and CORS. When h is a Router
// (an *http.ServeMux), a path with a trailing slash that only a catch-all
// would serve is routed to the route without it (see trimTrailingSlash).
func MiddlewareWith(h http.Handler, o MiddlewareOptions) http.Handler {
	logger, maxBody, metrics := o.Logger, o.MaxBody, o.Metrics
	cors := NewCORS(o.CORSOrigins)
	rt, _ := h.(Router)
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		info := &Info{RequestID: id}
		// The core reads the request id too, for the audit log, and
		// notes why an authentication failed, for the metrics.
		note := &directory.AuthNote{}
		r = r.WithContext(directory.WithAuthNote(directory.WithRequestID(context.WithValue(r.Context(), infoKey, info), id), note))
		preflight := false
		w.Header().Set("X-Request-Id", id)
		setSecurityHeaders(w.Header(), r)
		rw := &recorder{ResponseWriter: w}
		defer func() {
			if rec := recover(); rec != nil {
				if rec == http.ErrAbortHandler {
					panic(rec)
				}
				// A panic outside any dialect's Adapt (in a dialect's
				// own middleware, say): answer in a neutral format.
				info.Err = panicError{rec}
				if !rw.wrote {
					_ = WriteJSON(rw, http.StatusInternalServerError,
						map[string]string{"error": "internal server error", "request_id": id})
				}
			}
			d := time.Since(start)
			status := recordedStatus(r, rw)
			logAccess(logger, r, status, rw.bytes, info, d)
			if metrics != nil {
				// ServeMux set r.Pattern on the request it routed (r is
				// that request, trimmed or not): a registered pattern,
				// never the raw path, so the label set stays bounded.
				route := r.Pattern
				if preflight {
					route = routePreflight
				}
				metrics.observe(info.Dialect, route, status, d, note, info.Err)
			}
		}()
		if clean := cleanPath(r.URL.Path); clean != r.URL.Path && r.URL.RawPath == "" {
			// ServeMux would answer a 301 to the clean path, and clients
			// (Go's among them) follow a 301 on POST with a GET: a create
			// would silently turn into a list. Route the clean path
			// instead, as nginx's merge_slashes does.
			r.URL.Path = clean
		}
		if rt != nil {
			r = trimTrailingSlash(rt, r)
		}
		if cors.handle(rw, r) {
			preflight = true
			return // a preflight, answered
		}
		// ReadBody turns an over-limit body into the dialect's 413; the
		// limit here also covers handlers that read the body otherwise.
		r.Body = http.MaxBytesReader(rw, r.Body, maxBody)
		h.ServeHTTP(rw, r)
	})
}

// cleanPath is path.Clean that keeps a trailing slash (Truv routes end in
// one) and a leading one.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	c := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// StatusClientClosed is what the access log and metrics record for a
// request whose client went away before the answer was ready (nginx's
// 499): the write it asked for was abandoned, which is no server fault.
const StatusClientClosed = 499

// recordedStatus is the status to log and count: the one written (200 if
// none), except that a 5xx answered to a client that has already gone is
// StatusClientClosed. The request's context is cancelled only when the
// client disconnects while the handler runs (the server cancels it on
// return, after this), so a 5xx then is the cancelled write failing, and
// alerts on 5xx keep meaning server faults.
func recordedStatus(r *http.Request, rw *recorder) int {
	status := rw.status
	if !rw.wrote {
		status = http.StatusOK
	}
	if status >= 500 && r.Context().Err() != nil {
		return StatusClientClosed
	}
	return status
}

type panicError struct{ v any }

func (p panicError) Error() string { return "panic: " + slog.AnyValue(p.v).String() }

// logAccess writes one line per request. It logs the path but never the
// query string, headers or bodies: those carry secrets and personal data.
func logAccess(logger *slog.Logger, r *http.Request, status int, bytes int64, info *Info, d time.Duration) {
	attrs := []slog.Attr{
		slog.String("request_id", info.RequestID),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", bytes),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
	}
	if info.Dialect != "" {
		attrs = append(attrs, slog.String("dialect", info.Dialect))
	}
	if info.TenantID != "" {
		attrs = append(attrs, slog.String("tenant_id", info.TenantID), slog.String("client_id", info.ClientID))
	}
	level := slog.LevelInfo
	if info.Err != nil {
		attrs = append(attrs, slog.String("error", info.Err.Error()))
		if status >= 500 {
			level = slog.LevelError
		}
	}
	logger.LogAttrs(r.Context(), level, "request", attrs...)
}
