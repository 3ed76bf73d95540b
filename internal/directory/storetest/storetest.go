package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
)

// Run runs the conformance suite. open must return a fresh, empty, migrated
// store for each call; it is called once per subtest. The subtests run in
// parallel (each on its own store), so open must be safe for concurrent
// use: most of a subtest's time is creating its database.
func Run(t *testing.T, open func(t *testing.T) directory.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s directory.Store)
	}{
		{"Tenants", testTenants},
		{"Credentials", testCredentials},
		{"Tokens", testTokens},
		{"UserRoundTrip", testUserRoundTrip},
		{"UpdateUser", testUpdateUser},
		{"DeleteUser", testDeleteUser},
		{"ClaimConflicts", testClaimConflicts},
		{"ClaimsReleased", testClaimsReleased},
		{"TenantIsolation", testTenantIsolation},
		{"Filters", testFilters},
		{"InvalidFilters", testInvalidFilters},
		{"SortAndOffset", testSortAndOffset},
		{"Keyset", testKeyset},
		{"KeysetStableUnderWrites", testKeysetStable},
		{"Groups", testGroups},
		{"ListGroups", testListGroups},
		{"RaceSameEmail", testRaceSameEmail},
		{"RaceSwapClaims", testRaceSwapClaims},
		{"ValuesRoundTrip", testValuesRoundTrip},
		{"ValuesUpdate", testValuesUpdate},
		{"ValuesDelete", testValuesDelete},
		{"ValuesTenantIsolation", testValuesTenantIsolation},
		{"ValueFilters", testValueFilters},
		{"InvalidValueFilters", testInvalidValueFilters},
		{"ExtrasFilters", testExtrasFilters},
		{"ExtrasSort", testExtrasSort},
		{"GroupNameUnique", testGroupNameUnique},
		{"RaceGroupName", testRaceGroupName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// base is the suite's clock origin; stamps are distinct microseconds after
// it, so creation order is total and survives the stores' precision.
var base = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

var clock atomic.Int64

// stamp returns a new, later time, in whole microseconds.
func stamp() time.Time {
	return base.Add(time.Duration(clock.Add(1)) * time.Millisecond).Add(123 * time.Microsecond)
}

// mustTenant creates a tenant with the default uniqueness policy.
func mustTenant(t *testing.T, s directory.Store, name string) *directory.Tenant {
	t.Helper()
	tn := &directory.Tenant{ID: directory.NewID(), Name: name, Unique: directory.DefaultUniquePolicy, CreatedAt: stamp()}
	if err := s.CreateTenant(t.Context(), tn, nil); err != nil {
		t.Fatalf("CreateTenant(%q): %v", name, err)
	}
	return tn
}

// newUser returns a user as the Service would hand it to the store:
// version 1, timestamps set, norms filled in by fix.
func newUser(tenantID, username, email string, mods ...func(*directory.User)) *directory.User {
	now := stamp()
	u := &directory.User{
		ID: directory.NewID(), TenantID: tenantID,
		Username: username, Email: email, State: directory.StateActive,
		Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	for _, m := range mods {
		m(u)
	}
	fix(u)
	return u
}

// fix recomputes the normalised fields, as the Service does.
func fix(u *directory.User) {
	u.UsernameNorm = strings.ToLower(u.Username)
	u.EmailNorm = directory.NormalizeEmail(u.Email)
	u.PhoneNorm, _ = directory.NormalizePhone(u.Phone)
	u.MobileNorm, _ = directory.NormalizePhone(u.Mobile)
}

// claimsOf returns u's claims under the default policy, as the Service
// computes them.
func claimsOf(u *directory.User) []directory.Claim {
	var cs []directory.Claim
	if u.UsernameNorm != "" {
		cs = append(cs, directory.Claim{Kind: directory.ClaimLogin, Value: u.UsernameNorm})
	}
	for _, a := range u.Aliases {
		cs = append(cs, directory.Claim{Kind: directory.ClaimLogin, Value: strings.ToLower(a.Value)})
	}
	if u.EmailNorm != "" {
		cs = append(cs, directory.Claim{Kind: directory.ClaimEmail, Value: u.EmailNorm})
	}
	if u.PhoneNorm != "" {
		cs = append(cs, directory.Claim{Kind: directory.ClaimPhone, Value: u.PhoneNorm})
	}
	if u.PartnerCode != "" {
		cs = append(cs, directory.Claim{Kind: directory.ClaimPartnerCode, Value: u.PartnerCode})
	}
	return cs
}

func mustCreate(t *testing.T, s directory.Store, u *directory.User) *directory.User {
	t.Helper()
	if err := s.CreateUser(t.Context(), u, claimsOf(u), nil); err != nil {
		t.Fatalf("CreateUser(%q): %v", u.Username, err)
	}
	return u
}

func mustGet(t *testing.T, s directory.Store, tenantID, id string) *directory.User {
	t.Helper()
	u, err := s.GetUser(t.Context(), tenantID, id)
	if err != nil {
		t.Fatalf("GetUser(%s): %v", id, err)
	}
	return u
}

// userDiff describes how got differs from want, field by field, or ""
// when they are equal. Empty and nil lists and maps count as equal: the
// store need not distinguish them.
func userDiff(got, want *directory.User) string {
	g, w := canonical(got), canonical(want)
	var diffs []string
	gv, wv := reflect.ValueOf(*g), reflect.ValueOf(*w)
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		a, b := gv.Field(i).Interface(), wv.Field(i).Interface()
		if !reflect.DeepEqual(a, b) {
			if name == "SSN" { // secret.Value prints redacted
				a, b = g.SSN.Reveal(), w.SSN.Reveal()
			}
			diffs = append(diffs, fmt.Sprintf("%s: got %#v, want %#v", name, a, b))
		}
	}
	return strings.Join(diffs, "; ")
}

func canonical(u *directory.User) *directory.User {
	c := u.Clone()
	if len(c.Aliases) == 0 {
		c.Aliases = nil
	}
	if len(c.Attributes) == 0 {
		c.Attributes = nil
	}
	if len(c.Extras) == 0 {
		c.Extras = nil
	}
	return c
}

// usernames returns the usernames of users, in order.
func usernames(users []*directory.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.Username
	}
	return out
}

func ids(users []*directory.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

// wantClaimConflict checks that err is a *ClaimConflict for claim held by
// holder, and matches ErrConflict.
func wantClaimConflict(t *testing.T, err error, claim directory.Claim, holder string) {
	t.Helper()
	if !errors.Is(err, directory.ErrConflict) {
		t.Fatalf("got err %v, want ErrConflict", err)
	}
	var cc *directory.ClaimConflict
	if !errors.As(err, &cc) {
		t.Fatalf("got err %T %v, want *ClaimConflict", err, err)
	}
	if cc.Claim != claim || cc.ExistingID != holder {
		t.Errorf("got conflict on %+v held by %q, want %+v held by %q", cc.Claim, cc.ExistingID, claim, holder)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got err %v, want %v", what, err, want)
	}
}

func testTenants(t *testing.T, s directory.Store) {
	ctx := t.Context()
	a := mustTenant(t, s, "acme")
	b := &directory.Tenant{ID: directory.NewID(), Name: "beta", Unique: directory.UniquePolicy{ExternalID: true}, CreatedAt: stamp()}
	if err := s.CreateTenant(ctx, b, nil); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}

	dup := &directory.Tenant{ID: directory.NewID(), Name: "acme", CreatedAt: stamp()}
	err := s.CreateTenant(ctx, dup, nil)
	var ce *directory.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, directory.ErrConflict) {
		t.Fatalf("CreateTenant with a taken name: got err %v, want *ConflictError", err)
	}
	if ce.Field != directory.FieldTenantName || ce.Value != "acme" {
		t.Errorf("conflict: got field %q value %q, want %q %q", ce.Field, ce.Value, directory.FieldTenantName, "acme")
	}

	got, err := s.GetTenantByName(ctx, "beta")
	if err != nil {
		t.Fatalf("GetTenantByName: %v", err)
	}
	if !reflect.DeepEqual(got, b) {
		t.Errorf("GetTenantByName: got %+v, want %+v", got, b)
	}
	_, err = s.GetTenantByName(ctx, "nope")
	wantErr(t, "GetTenantByName(unknown)", err, directory.ErrNotFound)

	all, err := s.ListTenants(ctx)
	if err != nil {
		t.Fatalf("ListTenants: %v", err)
	}
	if len(all) != 2 || !reflect.DeepEqual(all[0], a) || !reflect.DeepEqual(all[1], b) {
		t.Errorf("ListTenants: got %d tenants %+v, want acme then beta", len(all), all)
	}
}

func testCredentials(t *testing.T, s directory.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	other := mustTenant(t, s, "other")
	c1 := &directory.Credential{ClientID: "c1", TenantID: tn.ID, SecretHash: secret.Hash("s1"), CreatedAt: stamp()}
	c2 := &directory.Credential{ClientID: "c2", TenantID: tn.ID, SecretHash: secret.Hash("s2"), CreatedAt: stamp()}
	c3 := &directory.Credential{ClientID: "c3", TenantID: other.ID, SecretHash: secret.Hash("s3"), CreatedAt: stamp()}
	for _, c := range []*directory.Credential{c1, c2, c3} {
		if err := s.CreateCredential(ctx, c, nil); err != nil {
			t.Fatalf("CreateCredential(%s): %v", c.ClientID, err)
		}
	}
	if err := s.CreateCredential(ctx, &directory.Credential{ClientID: "c4", TenantID: directory.NewID(), SecretHash: []byte{1}, CreatedAt: stamp()}, nil); err == nil {
		t.Errorf("CreateCredential for an unknown tenant: got nil error, want one")
	}

	ci, err := s.GetCredential(ctx, "c1")
	if err != nil {
		t.Fatalf("GetCredential: %v", err)
	}
	if !reflect.DeepEqual(&ci.Credential, c1) || !reflect.DeepEqual(ci.Tenant, *tn) {
		t.Errorf("GetCredential: got %+v, want %+v with tenant %+v", ci, c1, tn)
	}
	_, err = s.GetCredential(ctx, "nope")
	wantErr(t, "GetCredential(unknown)", err, directory.ErrNotFound)

	list, err := s.ListCredentials(ctx, tn.ID)
	if err != nil {
		t.Fatalf("ListCredentials: %v", err)
	}
	if len(list) != 2 || list[0].ClientID != "c1" || list[1].ClientID != "c2" {
		t.Errorf("ListCredentials: got %+v, want c1, c2", list)
	}

	used := stamp()
	if err := s.TouchCredential(ctx, "c1", used); err != nil {
		t.Fatalf("TouchCredential: %v", err)
	}
	ci, _ = s.GetCredential(ctx, "c1")
	if ci.LastUsedAt == nil || !ci.LastUsedAt.Equal(used) {
		t.Errorf("after TouchCredential: got LastUsedAt %v, want %v", ci.LastUsedAt, used)
	}

	tok := &directory.Token{Hash: secret.Hash("t1"), ClientID: "c1", TenantID: tn.ID, Kind: "entrust", CreatedAt: stamp(), ExpiresAt: stamp().Add(time.Hour)}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	revoked := stamp()
	if err := s.RevokeCredential(ctx, "c1", revoked, nil); err != nil {
		t.Fatalf("RevokeCredential: %v", err)
	}
	if err := s.RevokeCredential(ctx, "c1", stamp(), nil); err != nil {
		t.Fatalf("RevokeCredential again: %v", err)
	}
	ci, _ = s.GetCredential(ctx, "c1")
	if ci.RevokedAt == nil || !ci.RevokedAt.Equal(revoked) {
		t.Errorf("after two revocations: got RevokedAt %v, want the first, %v", ci.RevokedAt, revoked)
	}
	_, err = s.GetToken(ctx, tok.Hash)
	wantErr(t, "GetToken after revocation", err, directory.ErrNotFound)
	if ci, _ := s.GetCredential(ctx, "c2"); ci.RevokedAt != nil {
		t.Errorf("revoking c1 revoked c2 too")
	}
	wantErr(t, "RevokeCredential(unknown)", s.RevokeCredential(ctx, "nope", stamp(), nil), directory.ErrNotFound)
}

func testTokens(t *testing.T, s directory.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	if err := s.CreateCredential(ctx, &directory.Credential{ClientID: "c1", TenantID: tn.ID, SecretHash: []byte{1}, CreatedAt: stamp()}, nil); err != nil {
		t.Fatalf("CreateCredential: %v", err)
	}
	now := stamp()
	old := &directory.Token{Hash: secret.Hash("old"), ClientID: "c1", TenantID: tn.ID, Kind: "ownli", Scope: "admin", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
	fresh := &directory.Token{Hash: secret.Hash("fresh"), ClientID: "c1", TenantID: tn.ID, Kind: "ownli", Scope: "user", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	for _, tok := range []*directory.Token{old, fresh} {
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
	}
	got, err := s.GetToken(ctx, old.Hash)
	if err != nil {
		t.Fatalf("GetToken(expired): %v", err)
	}
	if !reflect.DeepEqual(got, old) {
		t.Errorf("GetToken: got %+v, want %+v", got, old)
	}
	n, err := s.DeleteExpiredTokens(ctx, now)
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredTokens: got %d, %v, want 1, nil", n, err)
	}
	_, err = s.GetToken(ctx, old.Hash)
	wantErr(t, "GetToken(purged)", err, directory.ErrNotFound)
	if _, err := s.GetToken(ctx, fresh.Hash); err != nil {
		t.Fatalf("GetToken(fresh) after purge: %v", err)
	}
	if err := s.DeleteToken(ctx, fresh.Hash); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	_, err = s.GetToken(ctx, fresh.Hash)
	wantErr(t, "GetToken(deleted)", err, directory.ErrNotFound)
	if err := s.DeleteToken(ctx, fresh.Hash); err != nil {
		t.Errorf("DeleteToken of a gone token: got %v, want nil", err)
	}
}

// fullUser sets every field of the model, every value list included.
func fullUser(tenantID string) *directory.User {
	return newUser(tenantID, "Ann.Lee", "Ann.Lee@Example.COM", func(u *directory.User) {
		u.ExternalID, u.ExternalSource = "ext-1", "hr"
		u.FirstName, u.LastName = "Ann", "Lée"
		u.EmailVerified, u.PhoneVerified, u.Locked = true, true, true
		u.Phone, u.Mobile = "+1 (415) 555-0100", "415 555 0199"
		u.Locale, u.State = "en-US", directory.StateInactive
		u.SSN = "123456789"
		u.Address = directory.Address{Line1: "1 Main St", Line2: "Apt 2", City: "Boston", State: "MA", Country: "US", Zip: "02101"}
		u.Aliases = []directory.Alias{
			{ID: directory.NewID(), Type: "CUSTOM", Value: "zed"},
			{ID: directory.NewID(), Type: "CUSTOM", Value: "Annie"},
			{ID: directory.NewID(), Type: "EMAIL", Value: "alpha"},
		}
		u.Attributes = []directory.Attribute{{Name: "team", Value: "blue"}, {Name: "floor", Value: "3"}}
		u.Extras = map[string]string{"tosAnswer": "yes", "walletAddress": "0xabc", "quote": `"x" & <y>`}
		u.Values = richValues() // in step with Email, Phone, Mobile and Address
		u.PartnerCode = "PC7K2M9Q"
		u.Version = 1
	})
}

func testUserRoundTrip(t *testing.T, s directory.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	want := mustCreate(t, s, fullUser(tn.ID))
	got := mustGet(t, s, tn.ID, want.ID)
	if d := userDiff(got, want); d != "" {
		t.Errorf("GetUser after CreateUser: %s", d)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt: got location %v, want UTC", got.CreatedAt.Location())
	}

	// A user with nothing but a username reads back with empty fields.
	bare := mustCreate(t, s, newUser(tn.ID, "bare", "", func(u *directory.User) { u.State = "" }))
	if d := userDiff(mustGet(t, s, tn.ID, bare.ID), bare); d != "" {
		t.Errorf("GetUser(bare): %s", d)
	}

	for _, c := range []directory.Claim{
		{Kind: directory.ClaimEmail, Value: "ann.lee@example.com"},
		{Kind: directory.ClaimLogin, Value: "annie"},
		{Kind: directory.ClaimLogin, Value: "ann.lee"},
		{Kind: directory.ClaimPhone, Value: "+14155550100"},
		{Kind: directory.ClaimPartnerCode, Value: "PC7K2M9Q"},
	} {
		u, err := s.FindUserByClaim(ctx, tn.ID, c)
		if err != nil {
			t.Errorf("FindUserByClaim(%+v): %v", c, err)
			continue
		}
		if d := userDiff(u, want); d != "" {
			t.Errorf("FindUserByClaim(%+v): %s", c, d)
		}
	}
	_, err := s.FindUserByClaim(ctx, tn.ID, directory.Claim{Kind: directory.ClaimEmail, Value: "nobody@example.com"})
	wantErr(t, "FindUserByClaim(unknown)", err, directory.ErrNotFound)
	_, err = s.GetUser(ctx, tn.ID, directory.NewID())
	wantErr(t, "GetUser(unknown)", err, directory.ErrNotFound)

	page, err := s.ListUsers(ctx, tn.ID, directory.UserQuery{Filter: directory.Cmp{Field: directory.FieldID, Op: directory.OpEq, Value: want.ID}})
	if err != nil || len(page.Users) != 1 {
		t.Fatalf("ListUsers by id: got %v, %v, want one user", page, err)
	}
	if d := userDiff(page.Users[0], want); d != "" {
		t.Errorf("ListUsers: %s", d)
	}
}

func testUpdateUser(t *testing.T, s directory.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	u := mustCreate(t, s, fullUser(tn.ID))

	v2 := u.Clone()
	v2.FirstName, v2.Email, v2.SSN, v2.Locked = "Anna", "anna@example.com", "", false
	v2.Aliases = []directory.Alias{{ID: directory.NewID(), Type: "CUSTOM", Value: "new-alias"}, u.Aliases[0]}
	v2.Attributes, v2.Extras = nil, map[string]string{"k": "v"}
	v2.Address = directory.Address{City: "Austin"}
	v2.Version, v2.UpdatedAt = 2, stamp()
	fix(v2)
	if err := s.UpdateUser(ctx, v2, claimsOf(v2), 1, nil); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if d := userDiff(mustGet(t, s, tn.ID, u.ID), v2); d != "" {
		t.Errorf("GetUser after UpdateUser: %s", d)
	}

	stale := v2.Clone()
	stale.FirstName, stale.Version = "Stale", 3
	wantErr(t, "UpdateUser with a stale version", s.UpdateUser(ctx, stale, claimsOf(stale), 1, nil), directory.ErrPrecondition)
	if got := mustGet(t, s, tn.ID, u.ID); got.FirstName != "Anna" || got.Version != 2 {
		t.Errorf("after a stale update: got first name %q version %d, want %q 2", got.FirstName, got.Version, "Anna")
	}

	missing := v2.Clone()
	missing.ID = directory.NewID()
	wantErr(t, "UpdateUser of a missing user", s.UpdateUser(ctx, missing, claimsOf(missing), 1, nil), directory.ErrNotFound)
}

func testDeleteUser(t *testing.T, s directory.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	u := mustCreate(t, s, newUser(tn.ID, "ann", "ann@example.com"))
	wantErr(t, "DeleteUser with a stale version", s.DeleteUser(ctx, tn.ID, u.ID, 7, nil), directory.ErrPrecondition)
	mustGet(t, s, tn.ID, u.ID)
	if err := s.DeleteUser(ctx, tn.ID, u.ID, 1, nil); err != nil {
		t.Fatalf("DeleteUser with the right version: %v", err)
	}
	_, err := s.GetUser(ctx, tn.ID, u.ID)
	wantErr(t, "GetUser after DeleteUser", err, directory.ErrNotFound)
	wantErr(t, "DeleteUser again", s.DeleteUser(ctx, tn.ID, u.ID, 0, nil), directory.ErrNotFound)

	w := mustCreate(t, s, newUser(tn.ID, "bob", "bob@example.com"))
	if err := s.DeleteUser(ctx, tn.ID, w.ID, 0, nil); err != nil {
		t.Fatalf("DeleteUser without a version: %v", err)
	}
}

func testClaimConflicts(t *testing.T, s directory.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	ann := mustCreate(t, s, newUser(tn.ID, "ann", "Ann@Example.com", func(u *directory.User) {
		u.Aliases = []directory.Alias{{ID: directory.NewID(), Type: "CUSTOM", Value: "Annie"}}
	}))

	// Same e-mail, differently cased: the claim holds the normalised form.
	dupEmail := newUser(tn.ID, "ann2", "ANN@example.com")
	err := s.CreateUser(ctx, dupEmail, claimsOf(dupEmail), nil)
	wantClaimConflict(t, err, directory.Claim{Kind: directory.ClaimEmail, Value: "ann@example.com"}, ann.ID)
	_, err = s.GetUser(ctx, tn.ID, dupEmail.ID)
	wantErr(t, "GetUser of the rejected user", err, directory.ErrNotFound)
	if _, err := s.FindUserByClaim(ctx, tn.ID, directory.Claim{Kind: directory.ClaimLogin, Value: "ann2"}); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("rejected user's username claim: got err %v, want ErrNotFound (nothing written)", err)
	}

	// A username equal to another user's alias collides in ClaimLogin.
	aliasUser := newUser(tn.ID, "ANNIE", "other@example.com")
	err = s.CreateUser(ctx, aliasUser, claimsOf(aliasUser), nil)
	wantClaimConflict(t, err, directory.Claim{Kind: directory.ClaimLogin, Value: "annie"}, ann.ID)

	// A user claiming one value twice (username and alias) is not in
	// conflict with itself.
	self := newUser(tn.ID, "carl", "carl@example.com", func(u *directory.User) {
		u.Aliases = []directory.Alias{{ID: directory.NewID(), Type: "CUSTOM", Value: "CARL"}}
	})
	if err := s.CreateUser(ctx, self, claimsOf(self), nil); err != nil {
		t.Fatalf("CreateUser with username == alias: %v", err)
	}

	// Update into a held e-mail.
	bob := mustCreate(t, s, newUser(tn.ID, "bob", "bob@example.com"))
	upd := bob.Clone()
	upd.Email, upd.FirstName, upd.Version, upd.UpdatedAt = "ann@example.com", "Bobby", 2, stamp()
	fix(upd)
	err = s.UpdateUser(ctx, upd, claimsOf(upd), 1, nil)
	wantClaimConflict(t, err, directory.Claim{Kind: directory.ClaimEmail, Value: "ann@example.com"}, ann.ID)
	if d := userDiff(mustGet(t, s, tn.ID, bob.ID), bob); d != "" {
		t.Errorf("bob after a conflicting update: %s (want unchanged)", d)
	}
	if u, err := s.FindUserByClaim(ctx, tn.ID, directory.Claim{Kind: directory.ClaimEmail, Value: "bob@example.com"}); err != nil || u.ID != bob.ID {
		t.Errorf("bob's e-mail claim after a rolled-back update: got %v, %v, want bob", u, err)
	}

	// Uniqueness is per tenant.
	other := mustTenant(t, s, "other")
	mustCreate(t, s, newUser(other.ID, "ann", "ann@example.com"))
}

func testClaimsReleased(t *testing.T, s directory.Store) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	ann := mustCreate(t, s, newUser(tn.ID, "ann", "ann@example.com"))

	upd := ann.Clone()
	upd.Email, upd.Version, upd.UpdatedAt = "ann@new.example.com", 2, stamp()
	fix(upd)
	if err := s.UpdateUser(ctx, upd, claimsOf(upd), 1, nil); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	_, err := s.FindUserByClaim(ctx, tn.ID, directory.Claim{Kind: directory.ClaimEmail, Value: "ann@example.com"})
	wantErr(t, "FindUserByClaim(old e-mail)", err, directory.ErrNotFound)
	mustCreate(t, s, newUser(tn.ID, "ann2", "ann@example.com")) // the old e-mail is free

	if err := s.DeleteUser(ctx, tn.ID, ann.ID, 0, nil); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	mustCreate(t, s, newUser(tn.ID, "ann", "ann@new.example.com")) // username and new e-mail are free
}

func testTenantIsolation(t *testing.T, s directory.Store) {
	ctx := t.Context()
	a := mustTenant(t, s, "a")
	b := mustTenant(t, s, "b")
	u := mustCreate(t, s, newUser(a.ID, "ann", "ann@example.com"))

	_, err := s.GetUser(ctx, b.ID, u.ID)
	wantErr(t, "GetUser from another tenant", err, directory.ErrNotFound)
	_, err = s.FindUserByClaim(ctx, b.ID, directory.Claim{Kind: directory.ClaimEmail, Value: "ann@example.com"})
	wantErr(t, "FindUserByClaim from another tenant", err, directory.ErrNotFound)

	upd := u.Clone()
	upd.TenantID, upd.FirstName, upd.Version = b.ID, "Mallory", 2
	wantErr(t, "UpdateUser from another tenant", s.UpdateUser(ctx, upd, claimsOf(upd), 1, nil), directory.ErrNotFound)
	wantErr(t, "DeleteUser from another tenant", s.DeleteUser(ctx, b.ID, u.ID, 0, nil), directory.ErrNotFound)
	if got := mustGet(t, s, a.ID, u.ID); got.FirstName != "" {
		t.Errorf("after updates from another tenant: got first name %q, want unchanged", got.FirstName)
	}

	page, err := s.ListUsers(ctx, b.ID, directory.UserQuery{Total: true})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(page.Users) != 0 || page.Total != 0 {
		t.Errorf("ListUsers of tenant b: got %d users, total %d, want none", len(page.Users), page.Total)
	}
	// The same e-mail and username in another tenant are no conflict.
	mustCreate(t, s, newUser(b.ID, "ann", "ann@example.com"))
	page, _ = s.ListUsers(ctx, a.ID, directory.UserQuery{Total: true})
	if page.Total != 1 {
		t.Errorf("ListUsers of tenant a: got total %d, want 1", page.Total)
	}
}
