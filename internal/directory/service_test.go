package directory_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/testdb"
)

func newService(t *testing.T, policy directory.UniquePolicy) (*directory.Service, directory.Principal) {
	t.Helper()
	svc := directory.NewService(testdb.SQLite(t), directory.Options{})
	tn, err := svc.CreateTenant(t.Context(), "acme", policy)
	if err != nil {
		t.Fatal(err)
	}
	return svc, directory.Principal{TenantID: tn.ID, TenantName: tn.Name, Unique: tn.Unique}
}

var ownliRules = directory.Rules{
	Required: []directory.Field{directory.FieldFirstName, directory.FieldPhone},
	Checks:   directory.CheckEmail | directory.CheckPhone,
}

func TestCreateOrGetUser(t *testing.T) {
	for _, policy := range []directory.UniquePolicy{directory.DefaultUniquePolicy, {}} {
		t.Run(fmt.Sprintf("%+v", policy), func(t *testing.T) {
			svc, p := newService(t, policy)
			ctx := t.Context()
			first, created, err := svc.CreateOrGetUser(ctx, p, &directory.User{FirstName: "Ann", Email: "ann@example.com", Phone: "+15556667777"}, ownliRules)
			if err != nil || !created {
				t.Fatalf("first create: created %v err %v", created, err)
			}
			again, created, err := svc.CreateOrGetUser(ctx, p, &directory.User{FirstName: "Other", Email: "ANN@example.com", Phone: "+15556667000"}, ownliRules)
			if err != nil || created || again.ID != first.ID || again.FirstName != "Ann" {
				t.Fatalf("same e-mail: got %+v created %v err %v, want the existing user unchanged", again, created, err)
			}
			byPhone, created, err := svc.CreateOrGetUser(ctx, p, &directory.User{FirstName: "X", Phone: "+15556667777"}, ownliRules)
			if err != nil || created || byPhone.ID != first.ID {
				t.Fatalf("same phone: got %v created %v err %v", byPhone, created, err)
			}
			// Invalid input is a validation error even when a user matches.
			_, _, err = svc.CreateOrGetUser(ctx, p, &directory.User{Email: "ann@example.com", Phone: "555"}, ownliRules)
			var ve *directory.ValidationError
			if !errors.As(err, &ve) || !ve.Has(directory.FieldFirstName) || !ve.Has(directory.FieldPhone) {
				t.Fatalf("invalid input matching a user: got %v, want a validation error", err)
			}
			_, created, err = svc.CreateOrGetUser(ctx, p, &directory.User{FirstName: "New", Email: "new@example.com", Phone: "+15556667001"}, ownliRules)
			if err != nil || !created {
				t.Fatalf("new contact: created %v err %v", created, err)
			}
		})
	}
}

// TestConcurrentUpdatesAreNotLost: partial updates racing on one user are
// all applied: UpdateUser re-reads and re-applies on a version conflict.
func TestConcurrentUpdatesAreNotLost(t *testing.T) {
	svc, p := newService(t, directory.DefaultUniquePolicy)
	ctx := t.Context()
	u, err := svc.CreateUser(ctx, p, &directory.User{Username: "ann"}, directory.Rules{})
	if err != nil {
		t.Fatal(err)
	}
	const writers = 8
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.UpdateUser(ctx, p, u.ID, directory.Rules{}, 0, func(u *directory.User) error {
				u.Attributes = append(u.Attributes, directory.Attribute{Name: fmt.Sprintf("a%d", i), Value: "x"})
				return nil
			})
			if err != nil {
				t.Errorf("update %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	got, err := svc.GetUser(ctx, p, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Attributes) != writers || got.Version != writers+1 {
		t.Fatalf("got %d attributes at version %d, want %d at %d: an update was lost", len(got.Attributes), got.Version, writers, writers+1)
	}
	// If-Match semantics: a stale version is ErrPrecondition, untouched.
	_, err = svc.UpdateUser(ctx, p, u.ID, directory.Rules{}, 1, func(u *directory.User) error { u.FirstName = "stale"; return nil })
	if !errors.Is(err, directory.ErrPrecondition) {
		t.Fatalf("stale ifVersion: got %v, want ErrPrecondition", err)
	}
}

func TestServiceAuthentication(t *testing.T) {
	svc, _ := newService(t, directory.DefaultUniquePolicy)
	ctx := t.Context()
	c, sec, err := svc.CreateCredential(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := svc.AuthenticateSecret(ctx, sec); err != nil || p.TenantName != "acme" {
		t.Fatalf("AuthenticateSecret: %+v %v", p, err)
	}
	bad := []struct{ id, sec string }{
		{c.ClientID, sec + "x"}, {c.ClientID, ""}, {"", sec}, {"0123456789abcdef0123456789abcdef", sec},
	}
	for _, b := range bad {
		if _, err := svc.Authenticate(ctx, b.id, b.sec); !errors.Is(err, directory.ErrUnauthenticated) {
			t.Errorf("Authenticate(%q, …): got %v, want ErrUnauthenticated", b.id, err)
		}
	}
	p, _ := svc.Authenticate(ctx, c.ClientID, sec)
	tok, _, err := svc.IssueToken(ctx, p, "entrust", "", 60e9)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateToken(ctx, "ownli", tok); !errors.Is(err, directory.ErrUnauthenticated) {
		t.Fatalf("token of another kind accepted: %v", err)
	}
	if err := svc.RevokeCredential(ctx, c.ClientID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateToken(ctx, "entrust", tok); !errors.Is(err, directory.ErrUnauthenticated) {
		t.Fatalf("token of a revoked credential accepted: %v", err)
	}
	if _, err := svc.AuthenticateSecret(ctx, sec); !errors.Is(err, directory.ErrUnauthenticated) {
		t.Fatalf("revoked secret accepted: %v", err)
	}
}

// TestUpdateGroupWithoutChange: re-adding an existing member writes
// nothing and keeps the version (so a client's ETag stays valid).
func TestUpdateGroupWithoutChange(t *testing.T) {
	svc, p := newService(t, directory.DefaultUniquePolicy)
	ctx := t.Context()
	u, err := svc.CreateUser(ctx, p, &directory.User{Username: "ann"}, directory.Rules{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := svc.CreateGroup(ctx, p, &directory.Group{DisplayName: "Staff", Members: []directory.Member{{UserID: u.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	same, err := svc.UpdateGroup(ctx, p, g.ID, 0, func(g *directory.Group) error {
		g.Members = append(g.Members, directory.Member{UserID: u.ID}) // already a member
		return nil
	})
	if err != nil || same.Version != g.Version || !same.UpdatedAt.Equal(g.UpdatedAt) {
		t.Fatalf("no-op update: version %d→%d, err %v; want unchanged", g.Version, same.Version, err)
	}
	renamed, err := svc.UpdateGroup(ctx, p, g.ID, 0, func(g *directory.Group) error { g.DisplayName = "Team"; return nil })
	if err != nil || renamed.Version != g.Version+1 {
		t.Fatalf("rename: version %d, err %v; want %d", renamed.Version, err, g.Version+1)
	}
}
