package directory_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/testdb"
)

// instances returns n Services, each over its own *store.Store, on one
// fresh database of backend (for SQLite, n must be 1: one process), all
// reading the same fixed clock.
func instances(t *testing.T, backend string, n int, o directory.Options) []*directory.Service {
	t.Helper()
	url := testdb.URL(t, backend)
	kr := testdb.Keyring(t)
	var svcs []*directory.Service
	for range n {
		svcs = append(svcs, directory.NewService(testdb.OpenURL(t, url, kr), o))
	}
	return svcs
}

// fixedAt is a clock at the start of a minute, so that every request of a
// test falls in one rate window with an empty previous one.
func fixedAt() func() time.Time {
	at := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	return func() time.Time { return at }
}

// hammer sends each of perInstance authentications through every service
// at once and returns how many were admitted; anything but admission or
// ErrRateLimited fails the test.
func hammer(t *testing.T, svcs []*directory.Service, clientID, sec string, perInstance int) int {
	t.Helper()
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for _, svc := range svcs {
		for range 4 { // concurrent callers per instance
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perInstance / 4 {
					_, err := svc.Authenticate(context.Background(), clientID, sec)
					switch {
					case err == nil:
						admitted.Add(1)
					case errors.Is(err, directory.ErrRateLimited):
					default:
						t.Errorf("authenticate: %v", err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	return int(admitted.Load())
}

// TestRateLimitSharedAcrossInstances: three instances on one PostgreSQL
// database admit, together, one credential's budget, not three times it;
// a credential's own limit and "unlimited" hold across instances too.
func TestRateLimitSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	svcs := instances(t, "postgres", 3, directory.Options{RateLimit: 60, Now: fixedAt()})
	ctx := t.Context()
	if _, err := svcs[0].CreateTenant(ctx, "acme", directory.DefaultUniquePolicy); err != nil {
		t.Fatal(err)
	}
	five, zero := 5, 0
	tests := []struct {
		name string
		own  *int
		want int
	}{
		{"server limit", nil, 60},
		{"credential's own limit", &five, 5},
		{"credential unlimited", &zero, 120},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, sec, err := svcs[0].CreateCredentialWith(ctx, "acme", directory.CredentialOptions{RateLimit: tc.own})
			if err != nil {
				t.Fatal(err)
			}
			got := hammer(t, svcs, c.ClientID, sec, 40) // 120 attempts over 3 instances
			if got != tc.want {
				t.Fatalf("admitted %d of 120 across 3 instances, want %d", got, tc.want)
			}
		})
	}
	if _, _, err := svcs[0].CreateCredentialWith(ctx, "acme", directory.CredentialOptions{RateLimit: new(int(-1))}); err == nil {
		t.Fatal("negative rate limit accepted")
	}
}

// TestRateLimitSQLiteInMemory: on SQLite the budget is the process's token
// bucket (burst of ten seconds' worth) and the store offers no shared
// counter, so a request adds no write to the group commit.
func TestRateLimitSQLiteInMemory(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t)
	if st.SharedRateCounter() != nil {
		t.Fatal("SQLite store offers a shared rate counter: every request would write")
	}
	svc := directory.NewService(st, directory.Options{RateLimit: 60, Now: fixedAt()})
	if _, err := svc.CreateTenant(t.Context(), "acme", directory.DefaultUniquePolicy); err != nil {
		t.Fatal(err)
	}
	c, sec, err := svc.CreateCredential(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if got := hammer(t, []*directory.Service{svc}, c.ClientID, sec, 40); got != 10 {
		t.Fatalf("admitted %d, want the burst of 10", got)
	}
}

// TestAuthFailureThrottle, on both backends: repeated failures from one
// address are answered with a RateLimitError (Retry-After), across
// instances on PostgreSQL; the owner of the client id still gets in from
// its own address, even while someone fails at its id from everywhere.
func TestAuthFailureThrottle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		backend string
		n       int
	}{{"sqlite", 1}, {"postgres", 3}} {
		t.Run(tc.backend, func(t *testing.T) {
			t.Parallel()
			o := directory.Options{Now: fixedAt(), Throttle: directory.ThrottleOptions{
				PerAddress: 12, PerClientAddress: 4, PerClient: 6, FailureDelay: 20 * time.Millisecond}}
			svcs := instances(t, tc.backend, tc.n, o)
			ctx := t.Context()
			if _, err := svcs[0].CreateTenant(ctx, "acme", directory.DefaultUniquePolicy); err != nil {
				t.Fatal(err)
			}
			c, sec, err := svcs[0].CreateCredential(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			from := func(addr string) context.Context {
				return directory.WithSource(ctx, addr+":4711", nil)
			}
			attacker := from("203.0.113.66")
			// Wrong secrets for the victim's id, spread over the instances.
			failures, refusedAt := 0, 0
			for i := range 20 {
				_, err := svcs[i%tc.n].Authenticate(attacker, c.ClientID, "rsk_wrong")
				if errors.Is(err, directory.ErrRateLimited) {
					refusedAt = i + 1
					var rl *directory.RateLimitError
					if n, ok := directory.RetryAfterSeconds(err); !errors.As(err, &rl) || !ok || n < 1 || n > 60 {
						t.Fatalf("refusal %v: Retry-After %d, want 1..60", err, n)
					}
					break
				}
				if !errors.Is(err, directory.ErrUnauthenticated) {
					t.Fatalf("attempt %d: %v, want unauthenticated", i+1, err)
				}
				failures++
			}
			// PerClientAddress is 4; each instance may let one more through
			// before it reads the shared count.
			if refusedAt == 0 || failures > 4+tc.n-1 {
				t.Fatalf("%d failures before a refusal (at %d), want at most %d", failures, refusedAt, 4+tc.n-1)
			}
			// Even the right secret is refused from the throttled pair:
			// otherwise a throttled guesser would learn when it guessed right.
			if _, err := svcs[0].Authenticate(attacker, c.ClientID, sec); !errors.Is(err, directory.ErrRateLimited) {
				t.Fatalf("right secret from the throttled address: %v, want rate limited", err)
			}
			// Failures from many addresses push the id over PerClient: they
			// are slowed, but the owner is neither refused nor slowed.
			for i := range 8 {
				_, err := svcs[i%tc.n].Authenticate(from("198.51.100."+string(rune('1'+i))), c.ClientID, "rsk_wrong")
				if !errors.Is(err, directory.ErrUnauthenticated) {
					t.Fatalf("distributed failure %d: %v", i+1, err)
				}
			}
			start := time.Now()
			_, err = svcs[tc.n-1].Authenticate(from("192.0.2.10"), "ffffffffffffffffffffffffffffffff", "rsk_wrong")
			if !errors.Is(err, directory.ErrUnauthenticated) {
				t.Fatal(err)
			}
			for _, svc := range svcs {
				if _, err := svc.Authenticate(from("192.0.2.10"), c.ClientID, sec); err != nil {
					t.Fatalf("owner from its own address after the attack: %v", err)
				}
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("owner took %v", d)
			}
		})
	}
}

// TestUnknownClientComparesHash: an unknown client id, a revoked one and a
// wrong secret each cost exactly one hash comparison and give one error.
func TestUnknownClientComparesHash(t *testing.T) {
	svc := directory.NewService(testdb.SQLite(t), directory.Options{Throttle: directory.ThrottleOptions{Off: true}})
	ctx := t.Context()
	if _, err := svc.CreateTenant(ctx, "acme", directory.DefaultUniquePolicy); err != nil {
		t.Fatal(err)
	}
	c, sec, err := svc.CreateCredential(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	r, rsec, err := svc.CreateCredential(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.RevokeCredential(ctx, r.ClientID); err != nil {
		t.Fatal(err)
	}
	var calls int
	orig := *directory.SecretEqual
	*directory.SecretEqual = func(a, b []byte) bool { calls++; return orig(a, b) }
	t.Cleanup(func() { *directory.SecretEqual = orig })
	unknown := secret.NewClientID()
	tests := []struct{ name, id, sec string }{
		{"unknown client id", unknown, secret.NewSecret(unknown)},
		{"wrong secret", c.ClientID, secret.NewSecret(c.ClientID)},
		{"revoked", r.ClientID, rsec},
		{"malformed", "", sec},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls = 0
			_, err := svc.Authenticate(ctx, tc.id, tc.sec)
			if err != directory.ErrUnauthenticated {
				t.Fatalf("got %v, want exactly ErrUnauthenticated", err)
			}
			if calls != 1 {
				t.Fatalf("%d hash comparisons, want 1", calls)
			}
		})
	}
}
