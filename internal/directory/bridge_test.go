package directory_test

import (
	"errors"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestIssueUserToken: a user token is bound to a user of the caller's
// tenant, stored only as its hash with its expiry, and refused for a user
// the tenant does not have.
func TestIssueUserToken(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			st := testdb.Open(t, backend)
			now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
			svc := directory.NewService(st, directory.Options{Now: func() time.Time { return now }})
			ctx := t.Context()
			principal := func(tenant string) directory.Principal {
				if _, err := svc.CreateTenant(ctx, tenant, directory.UniquePolicy{}); err != nil {
					t.Fatal(err)
				}
				c, sec, err := svc.CreateCredential(ctx, tenant)
				if err != nil {
					t.Fatal(err)
				}
				p, err := svc.Authenticate(ctx, c.ClientID, sec)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			acme, other := principal("acme"), principal("other")
			u, err := svc.CreateUser(ctx, acme, &directory.User{FirstName: "Ann"}, directory.Rules{})
			if err != nil {
				t.Fatal(err)
			}

			tok, rec, got, err := svc.IssueUserToken(ctx, acme, "truv_bridge", directory.HexID(u.ID), 6*time.Hour)
			if err != nil {
				t.Fatalf("IssueUserToken: %v", err)
			}
			if got.ID != u.ID || rec.Scope != u.ID || rec.Kind != "truv_bridge" {
				t.Fatalf("got user %s, token scope %q kind %q; want user %s as scope", got.ID, rec.Scope, rec.Kind, u.ID)
			}
			stored, err := st.GetToken(ctx, secret.Hash(tok))
			if err != nil {
				t.Fatalf("token not stored under its hash: %v", err)
			}
			if !stored.ExpiresAt.Equal(now.Add(6*time.Hour)) || stored.Scope != u.ID || stored.TenantID != acme.TenantID {
				t.Fatalf("stored token %+v: want expiry %v, scope %s, tenant %s", stored, now.Add(6*time.Hour), u.ID, acme.TenantID)
			}
			if _, err := st.GetToken(ctx, []byte(tok)); !errors.Is(err, directory.ErrNotFound) {
				t.Fatalf("token findable by its plaintext: %v", err)
			}
			tok2, _, _, err := svc.IssueUserToken(ctx, acme, "truv_bridge", u.ID, 6*time.Hour)
			if err != nil || tok2 == tok {
				t.Fatalf("second token: %q, %v; want a fresh one", tok2, err)
			}

			for name, id := range map[string]string{"other tenant": u.ID, "unknown": directory.NewID(), "malformed": "nope"} {
				if _, _, _, err := svc.IssueUserToken(ctx, other, "truv_bridge", id, time.Hour); !errors.Is(err, directory.ErrNotFound) {
					t.Errorf("%s user: got %v, want ErrNotFound", name, err)
				}
			}
			if _, err := svc.AuthenticateToken(ctx, "entrust", tok); !errors.Is(err, directory.ErrUnauthenticated) {
				t.Errorf("a bridge token authenticated as an Entrust session: %v", err)
			}
			now = now.Add(6 * time.Hour)
			if n, err := svc.PurgeExpiredTokens(ctx); err != nil || n != 0 {
				t.Errorf("purge at expiry: %d, %v; want nothing purged yet", n, err)
			}
			now = now.Add(time.Second)
			if n, err := svc.PurgeExpiredTokens(ctx); err != nil || n != 2 {
				t.Errorf("purge after expiry: %d, %v; want both tokens purged", n, err)
			}
		})
	}
}
