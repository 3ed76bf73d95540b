package directory

import "errors"

// ErrUnavailable: the database could not be reached or refused the work for
// a reason that passes (a failover in progress, a primary shutting down, a
// standby that is not yet writable, the pooler out of server connections).
// The store wraps such driver errors with it; every dialect answers 503
// with Retry-After in its own format, so a client retries instead of
// treating the request as failed for good.
//
// A write that ends in ErrUnavailable was not acknowledged: it may have
// committed or not (the connection can break after COMMIT was sent), which
// is why clients should retry writes with an Idempotency-Key.
var ErrUnavailable = errors.New("database unavailable")

// UnavailableRetryAfter is the Retry-After, in seconds, sent with
// ErrUnavailable: a PostgreSQL failover takes a few seconds, and a client
// that retries every second sees the new primary soon after it is promoted.
const UnavailableRetryAfter = 1
