package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	d "github.com/roster-dev/roster/internal/directory"
)

// testRaceSameEmail: many concurrent creates of one e-mail; the database,
// not a read before the write, must let exactly one through and name it to
// every loser.
func testRaceSameEmail(t *testing.T, s d.Store) {
	const n = 50
	tn := mustTenant(t, s, "acme")
	users := make([]*d.User, n)
	errs := make([]error, n)
	for i := range users {
		users[i] = newUser(tn.ID, "racer"+strings.Repeat("x", i), "same@example.com")
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.CreateUser(t.Context(), users[i], claimsOf(users[i]), nil)
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("users %d and %d both created with one e-mail", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no user was created; first error: %v", errs[0])
	}
	claim := d.Claim{Kind: d.ClaimEmail, Value: "same@example.com"}
	for i, err := range errs {
		if i == winner {
			continue
		}
		var cc *d.ClaimConflict
		if !errors.Is(err, d.ErrConflict) || !errors.As(err, &cc) {
			t.Errorf("loser %d: got err %v, want a *ClaimConflict", i, err)
			continue
		}
		if cc.Claim != claim || cc.ExistingID != users[winner].ID {
			t.Errorf("loser %d: got conflict %+v held by %q, want %+v held by %q", i, cc.Claim, cc.ExistingID, claim, users[winner].ID)
		}
	}
	page, err := s.ListUsers(t.Context(), tn.ID, d.UserQuery{Total: true})
	if err != nil || page.Total != 1 {
		t.Errorf("after the race: got %v users (err %v), want 1", page.Total, err)
	}
}

// testRaceSwapClaims: two users concurrently take each other's e-mail.
// Each update must either succeed or fail with a *ClaimConflict (never a
// deadlock or other database error), and afterwards every e-mail claim must
// belong to the user whose row holds that e-mail.
func testRaceSwapClaims(t *testing.T, s d.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	a := mustCreate(t, s, newUser(tn.ID, "a", "a@example.com"))
	b := mustCreate(t, s, newUser(tn.ID, "b", "b@example.com"))
	// Enough rounds to hit the deadlock interleaving on PostgreSQL most
	// runs; each deadlock costs its deadlock_timeout (1 s by default).
	for range 10 {
		cur := []*d.User{mustGet(t, s, tn.ID, a.ID), mustGet(t, s, tn.ID, b.ID)}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, u := range cur {
			next := u.Clone()
			next.Email = cur[1-i].Email
			next.Version, next.UpdatedAt = u.Version+1, stamp()
			fix(next)
			wg.Go(func() { errs[i] = s.UpdateUser(ctx, next, claimsOf(next), u.Version, nil) })
		}
		wg.Wait()
		for i, err := range errs {
			var cc *d.ClaimConflict
			if err != nil && !errors.As(err, &cc) {
				t.Fatalf("update %d: got err %v, want nil or a *ClaimConflict", i, err)
			}
		}
		for _, id := range []string{a.ID, b.ID} {
			u := mustGet(t, s, tn.ID, id)
			holder, err := s.FindUserByClaim(ctx, tn.ID, d.Claim{Kind: d.ClaimEmail, Value: u.EmailNorm})
			if err != nil || holder.ID != id {
				t.Fatalf("claim of %s's e-mail %s: got %v, %v, want held by %s", u.Username, u.EmailNorm, holder, err, id)
			}
		}
	}
}

// testRaceGroupName: concurrent creates of one display name, spelled in
// different cases. The unique index lets exactly one through, and every
// loser is told which group holds the name.
func testRaceGroupName(t *testing.T, s d.Store) {
	const n = 20
	tn := mustTenant(t, s, "acme")
	groups := make([]*d.Group, n)
	errs := make([]error, n)
	for i := range groups {
		// Each spelling upper-cases the letters of one bit pattern.
		name := []byte("engineering")
		for j := range name {
			if i>>(j%5)&1 == 1 {
				name[j] -= 'a' - 'A'
			}
		}
		groups[i] = newGroup(tn.ID, string(name))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.CreateGroup(t.Context(), groups[i], nil)
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("groups %q and %q both created", groups[winner].DisplayName, groups[i].DisplayName)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no group was created; first error: %v", errs[0])
	}
	for i, err := range errs {
		if i != winner {
			wantNameConflict(t, fmt.Sprintf("loser %d", i), err, "engineering", groups[winner].ID)
		}
	}
	page, err := s.ListGroups(t.Context(), tn.ID, d.GroupQuery{Total: true})
	if err != nil || page.Total != 1 || page.Groups[0].ID != groups[winner].ID {
		t.Errorf("after the race: got %+v (err %v), want only the winner", page, err)
	}
}
