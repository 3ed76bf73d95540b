package directory

import (
	"context"
	"errors"
	"time"
)

// releaseRetryEvery is how often a key whose release failed because the
// database was unavailable is released again.
const releaseRetryEvery = 500 * time.Millisecond

// releaseLater releases c's key in the background once the database is
// back, trying until its lease would have ended anyway. It is for a
// request whose write did not commit (or whose COMMIT's outcome is
// unknown) and whose release failed with ErrUnavailable, as in a
// failover: without it, a client retrying with the same Idempotency-Key
// would be told "in flight" (409) for the rest of the lease, a minute,
// although nothing is running. The release is safe whatever happened to
// the write: it deletes the key only while it is still pending with this
// owner, and a write that did commit moved it out of pending in its own
// transaction.
func (s *Service) releaseLater(c *IdempotencyClaim) {
	deadline := time.Now().Add(IdempotencyLease)
	for time.Now().Before(deadline) {
		time.Sleep(releaseRetryEvery)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := s.store.ReleaseIdempotencyKey(ctx, c.Key, c.Owner)
		cancel()
		if !errors.Is(err, ErrUnavailable) {
			return // released, or an error a retry will not cure: the lease ends it
		}
	}
}
