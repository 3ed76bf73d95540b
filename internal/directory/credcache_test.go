package directory_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/testdb"
)

// countingStore counts the credential reads and last-used writes that
// reach the store.
type countingStore struct {
	directory.Store
	gets, touches atomic.Int64
}

func (s *countingStore) GetCredential(ctx context.Context, clientID string) (*directory.CredentialInfo, error) {
	s.gets.Add(1)
	return s.Store.GetCredential(ctx, clientID)
}

func (s *countingStore) TouchCredential(ctx context.Context, clientID string, at time.Time) error {
	s.touches.Add(1)
	return s.Store.TouchCredential(ctx, clientID, at)
}

// fakeClock is an injectable clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestCredentialCacheRevocation: a verified secret is cached for the TTL
// (its next requests read no credential), a wrong secret never finds the
// cache, revocation is effective at once on the Service that revoked and,
// on a second Service over the same database (another instance), once
// the TTL has passed.
func TestCredentialCacheRevocation(t *testing.T) {
	const ttl = 5 * time.Second
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			st := testdb.Open(t, backend)
			clock := &fakeClock{t: time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC)}
			opts := directory.Options{Now: clock.Now, CredentialCacheTTL: ttl, Throttle: directory.ThrottleOptions{Off: true}}
			cs1, cs2 := &countingStore{Store: st}, &countingStore{Store: st}
			svc1, svc2 := directory.NewService(cs1, opts), directory.NewService(cs2, opts)
			ctx := t.Context()
			if _, err := svc1.CreateTenant(ctx, "acme", directory.DefaultUniquePolicy); err != nil {
				t.Fatal(err)
			}
			c, sec, err := svc1.CreateCredential(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			auth := func(svc *directory.Service, sec string) error {
				_, err := svc.Authenticate(ctx, c.ClientID, sec)
				return err
			}
			for _, svc := range []*directory.Service{svc1, svc2} {
				for range 3 {
					if err := auth(svc, sec); err != nil {
						t.Fatalf("authenticate: %v", err)
					}
				}
			}
			if g1, g2 := cs1.gets.Load(), cs2.gets.Load(); g1 != 1 || g2 != 1 {
				t.Fatalf("credential reads for 3 authentications each: %d, %d; want 1 each (then cached)", g1, g2)
			}

			// A wrong secret never matches a cached entry: it reads the
			// credential, compares once, and fails.
			var calls int
			orig := *directory.SecretEqual
			*directory.SecretEqual = func(a, b []byte) bool { calls++; return orig(a, b) }
			err = auth(svc1, wrongSecret(sec))
			*directory.SecretEqual = orig
			if !errors.Is(err, directory.ErrUnauthenticated) || calls != 1 || cs1.gets.Load() != 2 {
				t.Fatalf("wrong secret: %v, %d comparisons, %d reads; want ErrUnauthenticated, 1, 2", err, calls, cs1.gets.Load())
			}
			if err := auth(svc1, sec); err != nil || cs1.gets.Load() != 2 {
				t.Fatalf("right secret after a wrong one: %v, %d reads; want cached", err, cs1.gets.Load())
			}

			if err := svc1.RevokeCredential(ctx, c.ClientID); err != nil {
				t.Fatal(err)
			}
			if err := auth(svc1, sec); !errors.Is(err, directory.ErrUnauthenticated) {
				t.Fatalf("revoking instance, next request: %v, want ErrUnauthenticated", err)
			}
			// The other instance learns of it within the TTL: still
			// cached just before it ends, refused once it has.
			clock.Advance(ttl - time.Millisecond)
			if err := auth(svc2, sec); err != nil {
				t.Fatalf("other instance within the TTL: %v; the cache should still answer (the documented bound)", err)
			}
			clock.Advance(time.Millisecond)
			if err := auth(svc2, sec); !errors.Is(err, directory.ErrUnauthenticated) {
				t.Fatalf("other instance after the TTL: %v, want ErrUnauthenticated", err)
			}
			if err := auth(svc2, sec); !errors.Is(err, directory.ErrUnauthenticated) {
				t.Fatalf("other instance, again: %v, want ErrUnauthenticated (a refused credential is not cached)", err)
			}
		})
	}
}

// TestCredentialCacheOff: with no TTL every authentication reads its
// credential, so another instance's revocation is seen at the next request.
func TestCredentialCacheOff(t *testing.T) {
	st := testdb.SQLite(t)
	cs1, cs2 := &countingStore{Store: st}, &countingStore{Store: st}
	opts := directory.Options{Throttle: directory.ThrottleOptions{Off: true}}
	svc1, svc2 := directory.NewService(cs1, opts), directory.NewService(cs2, opts)
	ctx := t.Context()
	if _, err := svc1.CreateTenant(ctx, "acme", directory.DefaultUniquePolicy); err != nil {
		t.Fatal(err)
	}
	c, sec, err := svc1.CreateCredential(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := svc2.Authenticate(ctx, c.ClientID, sec); err != nil {
			t.Fatal(err)
		}
	}
	if n := cs2.gets.Load(); n != 3 {
		t.Fatalf("%d credential reads for 3 authentications without a cache", n)
	}
	if err := svc1.RevokeCredential(ctx, c.ClientID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc2.Authenticate(ctx, c.ClientID, sec); !errors.Is(err, directory.ErrUnauthenticated) {
		t.Fatalf("other instance after revoke: %v, want ErrUnauthenticated", err)
	}
}

// TestTouchCredentialCoalesced: last-used is written at most once a
// minute per credential, cached or not, not once per request.
func TestTouchCredentialCoalesced(t *testing.T) {
	for _, ttl := range []time.Duration{0, 5 * time.Second} {
		t.Run(ttl.String(), func(t *testing.T) {
			cs := &countingStore{Store: testdb.SQLite(t)}
			clock := &fakeClock{t: time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC)}
			svc := directory.NewService(cs, directory.Options{Now: clock.Now, CredentialCacheTTL: ttl})
			ctx := t.Context()
			if _, err := svc.CreateTenant(ctx, "acme", directory.DefaultUniquePolicy); err != nil {
				t.Fatal(err)
			}
			c, sec, err := svc.CreateCredential(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			for i := range 100 {
				if i == 50 {
					clock.Advance(30 * time.Second)
				}
				if _, err := svc.Authenticate(ctx, c.ClientID, sec); err != nil {
					t.Fatal(err)
				}
			}
			if n := cs.touches.Load(); n != 1 {
				t.Fatalf("%d last-used writes for 100 requests within a minute, want 1", n)
			}
			clock.Advance(time.Minute)
			if _, err := svc.Authenticate(ctx, c.ClientID, sec); err != nil {
				t.Fatal(err)
			}
			if n := cs.touches.Load(); n != 2 {
				t.Fatalf("%d last-used writes after a minute more, want 2", n)
			}
		})
	}
}

// wrongSecret is sec with its last character changed: replacing it with a
// fixed one would give sec back whenever sec already ends in it.
func wrongSecret(sec string) string {
	last := byte('A')
	if sec[len(sec)-1] == last {
		last = 'B'
	}
	return sec[:len(sec)-1] + string(last)
}
