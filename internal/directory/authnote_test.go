package directory_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestAuthNoteReasons: every way an authentication fails or is throttled
// leaves its reason in the request's AuthNote (for the metrics), while the
// error the caller gets stays the same for all failures.
func TestAuthNoteReasons(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	svc := directory.NewService(testdb.SQLite(t), directory.Options{Now: clock,
		Throttle: directory.ThrottleOptions{PerAddress: 6, PerClientAddress: 2, PerClient: 3, FailureDelay: time.Millisecond}})
	ctx := t.Context()
	if _, err := svc.CreateTenant(ctx, "acme", directory.DefaultUniquePolicy); err != nil {
		t.Fatal(err)
	}
	c, sec, err := svc.CreateCredential(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	one := 1
	limited, limitedSec, err := svc.CreateCredentialWith(ctx, "acme", directory.CredentialOptions{RateLimit: &one})
	if err != nil {
		t.Fatal(err)
	}
	revoked, revokedSec, err := svc.CreateCredential(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Authenticate(ctx, revoked.ClientID, revokedSec)
	if err != nil {
		t.Fatal(err)
	}
	revokedTok, _, err := svc.IssueToken(ctx, p, "entrust", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.RevokeCredential(ctx, revoked.ClientID); err != nil {
		t.Fatal(err)
	}
	p, err = svc.Authenticate(ctx, c.ClientID, sec)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := svc.IssueToken(ctx, p, "entrust", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	// from returns a request context from addr carrying a fresh note.
	from := func(addr string) (context.Context, *directory.AuthNote) {
		n := &directory.AuthNote{}
		return directory.WithAuthNote(directory.WithSource(ctx, addr+":1234", nil), n), n
	}
	secretAuth := func(id, s string) func(context.Context) error {
		return func(ctx context.Context) error { _, err := svc.Authenticate(ctx, id, s); return err }
	}
	tokenAuth := func(kind, tok string) func(context.Context) error {
		return func(ctx context.Context) error { _, err := svc.AuthenticateToken(ctx, kind, tok); return err }
	}
	steps := []struct {
		name         string
		addr         string
		before       func()
		auth         func(context.Context) error
		wantFailure  string
		wantThrottle string
	}{
		{"success", "192.0.2.1", nil, secretAuth(c.ClientID, sec), "", ""},
		{"token success", "192.0.2.1", nil, tokenAuth("entrust", tok), "", ""},
		{"wrong secret", "192.0.2.2", nil, secretAuth(c.ClientID, secret.NewSecret(c.ClientID)), directory.AuthBadCredentials, ""},
		{"unknown client", "192.0.2.3", nil, secretAuth(secret.NewClientID(), sec), directory.AuthBadCredentials, ""},
		{"empty secret", "192.0.2.4", nil, secretAuth(c.ClientID, ""), directory.AuthBadCredentials, ""},
		{"revoked", "192.0.2.5", nil, secretAuth(revoked.ClientID, revokedSec), directory.AuthRevoked, ""},
		// Revoking a credential deletes its tokens: they are unknown now.
		{"token of a revoked credential", "192.0.2.6", nil, tokenAuth("entrust", revokedTok), directory.AuthBadToken, ""},
		{"unknown token", "192.0.2.7", nil, tokenAuth("entrust", "nope"), directory.AuthBadToken, ""},
		{"token of another dialect", "192.0.2.8", nil, tokenAuth("ownli", tok), directory.AuthBadToken, ""},
		{"expired token", "192.0.2.9", func() { advance(2 * time.Minute) }, tokenAuth("entrust", tok), directory.AuthExpiredToken, ""},
		// A new minute: the throttle's counts start again.
		{"pair failure 1", "198.51.100.1", func() { advance(time.Minute) }, secretAuth(c.ClientID, "x"), directory.AuthBadCredentials, ""},
		{"pair failure 2", "198.51.100.1", nil, secretAuth(c.ClientID, "x"), directory.AuthBadCredentials, ""},
		{"pair throttled", "198.51.100.1", nil, secretAuth(c.ClientID, sec), "", directory.ThrottleClientAddress},
		{"client failing everywhere", "198.51.100.2", nil, secretAuth(c.ClientID, "x"), directory.AuthBadCredentials, ""},
		{"client failing everywhere: held", "198.51.100.3", nil, secretAuth(c.ClientID, "x"), directory.AuthBadCredentials, directory.ThrottleClientDelay},
		{"address failure 3", "198.51.100.9", func() { advance(time.Minute) }, tokenAuth("entrust", "a"), directory.AuthBadToken, ""},
		{"address failure 4", "198.51.100.9", nil, tokenAuth("entrust", "b"), directory.AuthBadToken, ""},
		{"address failure 5", "198.51.100.9", nil, tokenAuth("entrust", "c"), directory.AuthBadToken, ""},
		{"address failure 6", "198.51.100.9", nil, tokenAuth("entrust", "d"), directory.AuthBadToken, ""},
		{"address failure 7", "198.51.100.9", nil, tokenAuth("entrust", "e"), directory.AuthBadToken, ""},
		{"address failure 8", "198.51.100.9", nil, tokenAuth("entrust", "f"), directory.AuthBadToken, ""},
		{"address throttled", "198.51.100.9", nil, tokenAuth("entrust", "g"), "", directory.ThrottleAddress},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		rctx, note := from(s.addr)
		err := s.auth(rctx)
		if note.Failure != s.wantFailure || note.Throttle != s.wantThrottle {
			t.Errorf("%s: note %+v (err %v), want failure %q throttle %q", s.name, *note, err, s.wantFailure, s.wantThrottle)
		}
		if s.wantFailure != "" && err != directory.ErrUnauthenticated {
			t.Errorf("%s: error %v, want exactly ErrUnauthenticated", s.name, err)
		}
	}

	// Over its budget (1 a minute, a burst of 10): rate_limit.
	var note *directory.AuthNote
	for i := range 20 {
		var rctx context.Context
		rctx, note = from("203.0.113.1")
		if _, err := svc.Authenticate(rctx, limited.ClientID, limitedSec); err != nil {
			break
		}
		if i == 19 {
			t.Fatal("20 requests at 1 a minute: none refused")
		}
	}
	if note.Throttle != directory.ThrottleRateLimit || note.Failure != "" {
		t.Errorf("over the budget: note %+v, want throttle %q", *note, directory.ThrottleRateLimit)
	}

	// Without a note in the context nothing is recorded, and nothing fails.
	if _, err := svc.Authenticate(ctx, c.ClientID, "x"); err != directory.ErrUnauthenticated {
		t.Errorf("no note: %v", err)
	}
}
