// Package httpapi is the HTTP plumbing every dialect shares: the
// error-returning handler adapter, strict bounded JSON decoding, the request
// context (request id, principal, access-log annotations), middleware
// (request id, panic recovery, body limit, access log) and the server with
// its timeouts and graceful shutdown. Wire formats live in the dialects.
package httpapi
