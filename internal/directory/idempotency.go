package directory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/secret"
)

// Idempotency errors. Every dialect renders them in its own format.
var (
	// ErrIdempotencyKeyInvalid: the Idempotency-Key header is empty,
	// longer than MaxIdempotencyKey, not printable ASCII, or sent on a
	// route that does not honour it (bulk requests). Answered 400.
	ErrIdempotencyKeyInvalid = errors.New("invalid idempotency key")
	// ErrIdempotencyMismatch: the key was used before, in the same scope,
	// with a different request body. Answered 422.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
	// ErrIdempotencyInFlight: the first request with this key has not
	// finished. Answered 409; the client retries later.
	ErrIdempotencyInFlight = errors.New("idempotency key in use by a request in progress")
)

// Idempotency limits.
const (
	// MaxIdempotencyKey is the longest key accepted, in bytes.
	MaxIdempotencyKey = 255
	// IdempotencyTTL is how long a key is remembered.
	IdempotencyTTL = 24 * time.Hour
	// IdempotencyLease is how long a request holds a key it has not
	// finished with. A process that dies mid-request leaves a lease that
	// expires, after which a retry takes the key over; the write of a
	// request that lost its lease fails (the owner is checked in the
	// write's transaction), so even a very slow first request cannot
	// write twice.
	IdempotencyLease = time.Minute
)

// IdempotencyKey is a key's scope and value: a key is the client's per
// tenant, credential, method and route (the request path).
type IdempotencyKey struct {
	TenantID, ClientID, Method, Route, Key string
}

// Idempotency record states.
const (
	IdemPending   = "pending"   // claimed; the write has not committed
	IdemCommitted = "committed" // the write committed; its response is not recorded yet
	IdemDone      = "done"      // the response is recorded and is replayed
)

// IdempotencyRecord is a stored key.
type IdempotencyRecord struct {
	Key        IdempotencyKey
	Hash       []byte // SHA-256 of method, route and body
	State      string
	Owner      string    // the request holding a pending key (a fencing token)
	LeaseUntil time.Time // a pending key's owner holds it until then
	ResourceID string    // the record the committed write created or changed
	Response   *IdempotentResponse
	CreatedAt  time.Time
}

// IdempotentResponse is a recorded response, replayed for retries.
type IdempotentResponse struct {
	Status int
	Header map[string]string // the few headers worth replaying (Content-Type, Location, ETag)
	Body   []byte
}

// IdempotencyMark is the part of a Change that ties a write to the key of
// the request making it: in the write's transaction the store moves the
// key from pending to committed, provided Owner still holds it, and fails
// the write with ErrIdempotencyInFlight otherwise.
type IdempotencyMark struct {
	Key        IdempotencyKey
	Owner      string
	ResourceID string
}

// IdempotencyClaim is a request's hold on its key, carried in its context
// (WithIdempotency) so the Service's writes can mark it.
type IdempotencyClaim struct {
	Key   IdempotencyKey
	Owner string
	// Replay: an earlier request with this key committed its write but
	// died before recording its response. The Service's write methods
	// then write nothing and return the record ResourceID names, so the
	// dialect renders the response again.
	Replay     bool
	ResourceID string

	committed bool
}

// Committed reports whether a write of the request committed (or, for a
// replay, whether there was one to replay).
func (c *IdempotencyClaim) Committed() bool { return c.committed || c.Replay }

// WithIdempotency returns ctx carrying c for the Service's writes.
func WithIdempotency(ctx context.Context, c *IdempotencyClaim) context.Context {
	return context.WithValue(ctx, idempotencyKey, c)
}

func idempotencyFrom(ctx context.Context) *IdempotencyClaim {
	c, _ := ctx.Value(idempotencyKey).(*IdempotencyClaim)
	return c
}

// replayOf returns the id of the record to re-render when ctx carries a
// replay claim of p's, else "".
func replayOf(ctx context.Context, p Principal) string {
	c := idempotencyFrom(ctx)
	if c == nil || !c.Replay || c.Key.TenantID != p.TenantID || c.Key.ClientID != p.ClientID {
		return ""
	}
	return c.ResourceID
}

// ValidIdempotencyKey reports whether k may be used as a key: 1 to
// MaxIdempotencyKey printable ASCII characters (the IETF draft's key is a
// structured-field string, which is that).
func ValidIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > MaxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// BeginIdempotent claims key for a request of p whose method, route and
// body hash to hash. It returns exactly one of:
//   - a recorded response to replay (the first request finished);
//   - a claim: the caller runs the request with WithIdempotency(ctx,
//     claim) and then calls FinishIdempotent. The claim may be a Replay;
//   - ErrIdempotencyMismatch, ErrIdempotencyInFlight or
//     ErrIdempotencyKeyInvalid.
//
// The database decides between racing requests (the key is the primary
// key of its table), so this holds across instances.
func (s *Service) BeginIdempotent(ctx context.Context, p Principal, method, route, key string, hash []byte) (*IdempotencyClaim, *IdempotentResponse, error) {
	if !ValidIdempotencyKey(key) {
		return nil, nil, ErrIdempotencyKeyInvalid
	}
	now := s.Now()
	rec := &IdempotencyRecord{
		Key:        IdempotencyKey{TenantID: p.TenantID, ClientID: p.ClientID, Method: method, Route: route, Key: key},
		Hash:       hash,
		State:      IdemPending,
		Owner:      secret.NewToken(""),
		LeaseUntil: now.Add(IdempotencyLease),
		CreatedAt:  now,
	}
	got, err := s.store.AcquireIdempotencyKey(ctx, rec, now.Add(-IdempotencyTTL))
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			// The acquisition may have committed before the connection
			// broke: release it once the database is back (a no-op if
			// it did not), rather than leave the key "in flight".
			go s.releaseLater(&IdempotencyClaim{Key: rec.Key, Owner: rec.Owner})
		}
		return nil, nil, fmt.Errorf("begin idempotent request: %w", err)
	}
	switch {
	case !bytes.Equal(got.Hash, hash):
		return nil, nil, ErrIdempotencyMismatch
	case got.Owner == rec.Owner && got.State == IdemPending:
		return &IdempotencyClaim{Key: rec.Key, Owner: rec.Owner}, nil, nil
	case got.State == IdemDone && got.Response != nil:
		return nil, got.Response, nil
	case got.State == IdemCommitted || got.State == IdemDone:
		return &IdempotencyClaim{Key: rec.Key, Owner: got.Owner, Replay: true, ResourceID: got.ResourceID}, nil, nil
	}
	return nil, nil, ErrIdempotencyInFlight
}

// FinishIdempotent ends a claim: when a write of the request committed, it
// records resp for replay (resp nil: the response could not be captured,
// and a retry re-renders it); otherwise it releases the key, so that a
// retry runs again. Like Stripe, a request that wrote nothing (it failed
// validation, say) leaves no result behind.
func (s *Service) FinishIdempotent(ctx context.Context, c *IdempotencyClaim, resp *IdempotentResponse) error {
	// The request's own context may be ending (the client went away);
	// the bookkeeping must still happen.
	ctx = context.WithoutCancel(ctx)
	var err error
	switch {
	case c.Committed() && resp != nil:
		err = s.store.CompleteIdempotencyKey(ctx, c.Key, resp)
	case c.Committed():
		return nil
	default:
		err = s.store.ReleaseIdempotencyKey(ctx, c.Key, c.Owner)
		if errors.Is(err, ErrUnavailable) {
			go s.releaseLater(c) // see releaseLater: a failover must not hold the key for its lease
		}
	}
	if err != nil {
		return fmt.Errorf("finish idempotent request: %w", err)
	}
	return nil
}

// PurgeExpiredIdempotencyKeys deletes keys older than IdempotencyTTL.
func (s *Service) PurgeExpiredIdempotencyKeys(ctx context.Context) (int64, error) {
	n, err := s.store.DeleteExpiredIdempotencyKeys(ctx, s.Now().Add(-IdempotencyTTL))
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return n, nil
}
