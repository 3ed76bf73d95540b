package directory

import "context"

// Why an authentication failed, as AuthNote.Failure records it. The
// answer a client gets never tells these apart (every one is
// ErrUnauthenticated); only the operator's metrics do. The set is closed,
// so a metric labelled with it has bounded cardinality.
const (
	// AuthBadCredentials: a client id and secret that do not verify (an
	// unknown client id, a wrong secret, a secret of the wrong shape).
	AuthBadCredentials = "bad_credentials"
	// AuthRevoked: the credential, or the credential of a session
	// token, is revoked.
	AuthRevoked = "revoked"
	// AuthBadToken: a session token that is unknown, of another dialect,
	// or malformed.
	AuthBadToken = "bad_token"
	// AuthExpiredToken: a session token past its expiry.
	AuthExpiredToken = "expired_token"
)

// Why an authentication was refused before its credentials were looked
// at, or held, as AuthNote.Throttle records it.
const (
	// ThrottleAddress: too many failures from the caller's address this
	// minute (429).
	ThrottleAddress = "address"
	// ThrottleClientAddress: too many failures for the client id from the
	// caller's address this minute (429).
	ThrottleClientAddress = "client_address"
	// ThrottleClientDelay: the client id failed too often from anywhere,
	// so this failure's answer was held (ThrottleOptions.FailureDelay).
	ThrottleClientDelay = "client_delay"
	// ThrottleRateLimit: the credential is over its request budget (429).
	ThrottleRateLimit = "rate_limit"
)

// AuthNote is where the Service notes, for the request's metrics, why an
// authentication failed or was throttled. The HTTP middleware puts one in
// each request's context (WithAuthNote) and reads it when the request
// ends; the Service only writes it, from the request's goroutine.
type AuthNote struct {
	Failure  string // one of the Auth* reasons; "" when none failed
	Throttle string // one of the Throttle* reasons; "" when none applied
}

type authNoteKey struct{}

// WithAuthNote returns ctx carrying n.
func WithAuthNote(ctx context.Context, n *AuthNote) context.Context {
	return context.WithValue(ctx, authNoteKey{}, n)
}

func authNote(ctx context.Context) *AuthNote {
	n, _ := ctx.Value(authNoteKey{}).(*AuthNote)
	return n
}

// noteFailure records why an authentication failed, when ctx carries a
// note.
func noteFailure(ctx context.Context, reason string) {
	if n := authNote(ctx); n != nil {
		n.Failure = reason
	}
}

// noteThrottle records why an authentication was refused or held.
func noteThrottle(ctx context.Context, reason string) {
	if n := authNote(ctx); n != nil {
		n.Throttle = reason
	}
}
