// Package httpapi is the HTTP plumbing every dialect shares: the
// error-returning handler adapter, the one bounded body reader (ReadBody)
// and strict JSON decoding over it, the request context (request id,
// principal, access-log annotations), middleware (request id, panic
// recovery, path cleaning, trailing-slash routing, CORS, body limit, access
// log, metrics) and the server with its timeouts and graceful shutdown.
// Wire formats live in the dialects.
package httpapi
