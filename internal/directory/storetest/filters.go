package storetest

import (
	"errors"
	"slices"
	"testing"

	d "github.com/roster-dev/roster/internal/directory"
)

// filterFixture creates four users chosen so that each filter below tells
// case-sensitive from folded matching, wildcard characters from literal
// ones, and normalised from raw phones.
func filterFixture(t *testing.T, s d.Store) (tenantID string, users map[string]*d.User, groupID string) {
	t.Helper()
	tn := mustTenant(t, s, "acme")
	users = map[string]*d.User{}
	for _, u := range []*d.User{
		newUser(tn.ID, "ann", "Ann@Example.com", func(u *d.User) {
			u.FirstName, u.LastName = "Ann", "Lee"
			u.Phone = "+1 415 555 0100"
			u.EmailVerified = true
			u.Aliases = []d.Alias{{ID: d.NewID(), Type: "CUSTOM", Value: "Annie"}}
			u.ExternalID = "ext_1"
			u.Address.City = "Boston"
			u.PartnerCode = "P1"
		}),
		newUser(tn.ID, "bob", "bob@example.org", func(u *d.User) {
			u.FirstName, u.LastName = "Bob", "100%_sure"
			u.Locked = true
			u.Aliases = []d.Alias{{ID: d.NewID(), Type: "CUSTOM", Value: "b.o.b"}}
			u.ExternalID = "ext%1"
			u.Address.City = "boston"
		}),
		newUser(tn.ID, "carl", "carl@EXAMPLE.com", func(u *d.User) {
			u.FirstName, u.LastName = "carl", "Lee"
			u.Mobile = "(415) 555-0199"
			u.State = d.StateInactive
			u.Address.City = "Bos_ton"
		}),
		newUser(tn.ID, "Dána", "", func(u *d.User) {
			u.FirstName, u.LastName = "Dana", "Müller"
			u.Phone = "12"
			u.ExternalID = "EXT_2"
			u.Version = 3
		}),
	} {
		users[u.Username] = mustCreate(t, s, u)
	}
	g := &d.Group{ID: d.NewID(), TenantID: tn.ID, DisplayName: "Team", Version: 1, CreatedAt: stamp(), UpdatedAt: stamp(),
		Members: []d.Member{{UserID: users["ann"].ID}, {UserID: users["carl"].ID}}}
	if err := s.CreateGroup(t.Context(), g, nil); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	// Another tenant's look-alike must never show up.
	other := mustTenant(t, s, "other")
	mustCreate(t, s, newUser(other.ID, "ann", "ann@example.com", func(u *d.User) { u.FirstName = "Ann" }))
	return tn.ID, users, g.ID
}

func eq(f d.Field, v any) d.Cmp           { return d.Cmp{Field: f, Op: d.OpEq, Value: v} }
func op(f d.Field, o d.Op, v any) d.Cmp   { return d.Cmp{Field: f, Op: o, Value: v} }
func fold(f d.Field, o d.Op, v any) d.Cmp { return d.Cmp{Field: f, Op: o, Value: v, Fold: true} }

func testFilters(t *testing.T, s d.Store) {
	tenantID, users, groupID := filterFixture(t, s)
	ann, bob, carl := users["ann"], users["bob"], users["carl"]
	all := []string{"ann", "bob", "carl", "Dána"}
	tests := []struct {
		name   string
		filter d.Expr
		want   []string // usernames, in id order
	}{
		{"username eq", eq(d.FieldUsername, "ann"), []string{"ann"}},
		{"username eq is case-sensitive", eq(d.FieldUsername, "ANN"), nil},
		{"username eq folded", fold(d.FieldUsername, d.OpEq, "ANN"), []string{"ann"}},
		{"username folded is Unicode", fold(d.FieldUsername, d.OpEq, "DÁNA"), []string{"Dána"}},
		{"username gt", op(d.FieldUsername, d.OpGt, "bob"), []string{"carl"}}, // "Dána" < "bob" bytewise
		{"username le", op(d.FieldUsername, d.OpLe, "bob"), []string{"ann", "bob", "Dána"}},
		{"email eq raw", eq(d.FieldEmail, "Ann@Example.com"), []string{"ann"}},
		{"email eq raw is case-sensitive", eq(d.FieldEmail, "ann@example.com"), nil},
		{"email eq folded", fold(d.FieldEmail, d.OpEq, "ANN@example.COM"), []string{"ann"}},
		{"email ew folded", fold(d.FieldEmail, d.OpEw, "@EXAMPLE.COM"), []string{"ann", "carl"}},
		{"email ew", op(d.FieldEmail, d.OpEw, "@example.com"), nil},
		{"email pr", op(d.FieldEmail, d.OpPr, nil), []string{"ann", "bob", "carl"}},
		{"email ne", op(d.FieldEmail, d.OpNe, "bob@example.org"), []string{"ann", "carl", "Dána"}},
		{"first_name eq folded", fold(d.FieldFirstName, d.OpEq, "CARL"), []string{"carl"}},
		{"first_name sw is case-sensitive", op(d.FieldFirstName, d.OpSw, "a"), nil},
		{"first_name sw", op(d.FieldFirstName, d.OpSw, "A"), []string{"ann"}},
		{"first_name sw folded", fold(d.FieldFirstName, d.OpSw, "c"), []string{"carl"}},
		{"first_name co", op(d.FieldFirstName, d.OpCo, "ar"), []string{"carl"}},
		{"first_name co is case-sensitive", op(d.FieldFirstName, d.OpCo, "AR"), nil},
		{"first_name co folded", fold(d.FieldFirstName, d.OpCo, "AR"), []string{"carl"}},
		{"last_name ew", op(d.FieldLastName, d.OpEw, "ee"), []string{"ann", "carl"}},
		{"last_name ew is case-sensitive", op(d.FieldLastName, d.OpEw, "EE"), nil},
		{"last_name ew folded", fold(d.FieldLastName, d.OpEw, "EE"), []string{"ann", "carl"}},
		{"last_name ew longer than value", op(d.FieldLastName, d.OpEw, "xxLee"), nil},
		{"last_name co percent is literal", op(d.FieldLastName, d.OpCo, "%"), []string{"bob"}},
		{"last_name co underscore is literal", op(d.FieldLastName, d.OpCo, "_"), []string{"bob"}},
		{"last_name co percent folded is literal", fold(d.FieldLastName, d.OpCo, "%"), []string{"bob"}},
		{"last_name co underscore folded is literal", fold(d.FieldLastName, d.OpCo, "_"), []string{"bob"}},
		{"last_name sw folded with wildcards", fold(d.FieldLastName, d.OpSw, "100%_S"), []string{"bob"}},
		{"last_name folded is ASCII-only", fold(d.FieldLastName, d.OpEq, "MÜLLER"), nil},
		{"last_name folded ASCII part", fold(d.FieldLastName, d.OpEq, "müller"), []string{"Dána"}},
		{"city eq folded", fold(d.FieldAddressCity, d.OpEq, "BOSTON"), []string{"ann", "bob"}},
		{"city co underscore folded", fold(d.FieldAddressCity, d.OpCo, "S_T"), []string{"carl"}},
		{"external_id sw", op(d.FieldExternalID, d.OpSw, "ext"), []string{"ann", "bob"}},
		{"external_id sw folded", fold(d.FieldExternalID, d.OpSw, "ext"), []string{"ann", "bob", "Dána"}},
		{"external_id ew percent folded", fold(d.FieldExternalID, d.OpEw, "%1"), []string{"bob"}},
		{"external_id sw underscore", op(d.FieldExternalID, d.OpSw, "ext_"), []string{"ann"}},
		{"state ne", op(d.FieldState, d.OpNe, d.StateActive), []string{"carl"}},
		{"partner_code eq", eq(d.FieldPartnerCode, "P1"), []string{"ann"}},
		{"id eq", eq(d.FieldID, bob.ID), []string{"bob"}},
		{"phone eq normalises", eq(d.FieldPhone, "(415) 555-0100"), []string{"ann"}},
		{"phone eq E.164", eq(d.FieldPhone, "+14155550100"), []string{"ann"}},
		{"phone eq impossible number", eq(d.FieldPhone, "12"), []string{"Dána"}},
		{"phone pr", op(d.FieldPhone, d.OpPr, nil), []string{"ann", "Dána"}},
		{"mobile eq normalises", eq(d.FieldMobile, "+1 415 555 0199"), []string{"carl"}},
		{"locked eq true", eq(d.FieldLocked, true), []string{"bob"}},
		{"locked ne true", op(d.FieldLocked, d.OpNe, true), []string{"ann", "carl", "Dána"}},
		{"locked pr", op(d.FieldLocked, d.OpPr, nil), all},
		{"email_verified eq true", eq(d.FieldEmailVerified, true), []string{"ann"}},
		{"phone_verified eq false", eq(d.FieldPhoneVerified, false), all},
		{"created_at gt", op(d.FieldCreatedAt, d.OpGt, bob.CreatedAt), []string{"carl", "Dána"}},
		{"created_at ge", op(d.FieldCreatedAt, d.OpGe, bob.CreatedAt), []string{"bob", "carl", "Dána"}},
		{"created_at lt", op(d.FieldCreatedAt, d.OpLt, bob.CreatedAt), []string{"ann"}},
		{"created_at le", op(d.FieldCreatedAt, d.OpLe, bob.CreatedAt), []string{"ann", "bob"}},
		{"created_at eq", eq(d.FieldCreatedAt, carl.CreatedAt), []string{"carl"}},
		{"updated_at ne", op(d.FieldUpdatedAt, d.OpNe, ann.UpdatedAt), []string{"bob", "carl", "Dána"}},
		{"version gt", op(d.FieldVersion, d.OpGt, int64(1)), []string{"Dána"}},
		{"version eq", eq(d.FieldVersion, int64(1)), []string{"ann", "bob", "carl"}},
		{"alias eq", eq(d.FieldAlias, "Annie"), []string{"ann"}},
		{"alias eq is case-sensitive", eq(d.FieldAlias, "annie"), nil},
		{"alias eq folded", fold(d.FieldAlias, d.OpEq, "ANNIE"), []string{"ann"}},
		{"alias co dot", op(d.FieldAlias, d.OpCo, "."), []string{"bob"}},
		{"alias pr", op(d.FieldAlias, d.OpPr, nil), []string{"ann", "bob"}},
		{"alias ne", op(d.FieldAlias, d.OpNe, "Annie"), []string{"bob", "carl", "Dána"}},
		{"login eq alias", eq(d.FieldLogin, "ANNIE"), []string{"ann"}},
		{"login eq username", eq(d.FieldLogin, "Bob"), []string{"bob"}},
		{"login sw", op(d.FieldLogin, d.OpSw, "B"), []string{"bob"}},
		{"login ne", op(d.FieldLogin, d.OpNe, "annie"), []string{"bob", "carl", "Dána"}},
		{"group_id eq", eq(d.FieldGroupID, groupID), []string{"ann", "carl"}},
		{"group_id ne", op(d.FieldGroupID, d.OpNe, groupID), []string{"bob", "Dána"}},
		{"group_id pr", op(d.FieldGroupID, d.OpPr, nil), []string{"ann", "carl"}},
		{"and", d.And{L: eq(d.FieldLastName, "Lee"), R: eq(d.FieldState, d.StateActive)}, []string{"ann"}},
		{"or", d.Or{L: eq(d.FieldUsername, "ann"), R: eq(d.FieldLocked, true)}, []string{"ann", "bob"}},
		{"not", d.Not{X: eq(d.FieldLastName, "Lee")}, []string{"bob", "Dána"}},
		{"not or", d.Not{X: d.Or{L: eq(d.FieldUsername, "ann"), R: eq(d.FieldUsername, "bob")}}, []string{"carl", "Dána"}},
		{"const true", d.Const(true), all},
		{"const false", d.Const(false), nil},
		{"and const false", d.And{L: d.Const(false), R: eq(d.FieldUsername, "ann")}, nil},
		{"or const true", d.Or{L: d.Const(true), R: eq(d.FieldUsername, "nobody")}, all},
		{"nil filter", nil, all},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListUsers(t.Context(), tenantID, d.UserQuery{Filter: tc.filter, Total: true})
			if err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			want := byID(users, tc.want)
			if got := usernames(page.Users); !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
			if page.Total != len(want) {
				t.Errorf("got Total %d, want %d", page.Total, len(want))
			}
		})
	}
}

// byID orders usernames as the default listing does: by user id.
func byID(users map[string]*d.User, names []string) []string {
	out := slices.Clone(names)
	slices.SortFunc(out, func(a, b string) int {
		switch {
		case users[a].ID < users[b].ID:
			return -1
		case users[a].ID > users[b].ID:
			return 1
		}
		return 0
	})
	if out == nil {
		out = []string{}
	}
	return out
}

func testInvalidFilters(t *testing.T, s d.Store) {
	tn := mustTenant(t, s, "acme")
	tests := []struct {
		name string
		q    d.UserQuery
	}{
		{"unknown field", d.UserQuery{Filter: eq("nope", "x")}},
		{"ssn is not filterable", d.UserQuery{Filter: eq(d.FieldSSN, "123456789")}},
		{"co on a bool", d.UserQuery{Filter: op(d.FieldLocked, d.OpCo, true)}},
		{"string value on a bool", d.UserQuery{Filter: eq(d.FieldLocked, "true")}},
		{"int value on a string", d.UserQuery{Filter: eq(d.FieldUsername, 5)}},
		{"string value on a time", d.UserQuery{Filter: op(d.FieldCreatedAt, d.OpGt, "2025-01-01")}},
		{"co on a time", d.UserQuery{Filter: op(d.FieldCreatedAt, d.OpCo, base)}},
		{"unknown operator", d.UserQuery{Filter: op(d.FieldUsername, "regex", "a.*")}},
		{"nested in not", d.UserQuery{Filter: d.Not{X: d.And{L: d.Const(true), R: eq("nope", "x")}}}},
		{"unsortable field", d.UserQuery{Sort: []d.SortKey{{Field: d.FieldPhone}}}},
		{"cursor of another sort", d.UserQuery{Sort: []d.SortKey{{Field: d.FieldLastName}}, After: &d.Cursor{ID: d.NewID()}}},
		{"cursor time not a number", d.UserQuery{Sort: []d.SortKey{{Field: d.FieldCreatedAt}}, After: &d.Cursor{Values: []string{"x"}, ID: d.NewID()}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.ListUsers(t.Context(), tn.ID, tc.q)
			if !errors.Is(err, d.ErrInvalidFilter) {
				t.Errorf("got err %v, want ErrInvalidFilter", err)
			}
		})
	}
	_, err := s.ListGroups(t.Context(), tn.ID, d.GroupQuery{Filter: eq(d.FieldUsername, "x")})
	if !errors.Is(err, d.ErrInvalidFilter) {
		t.Errorf("ListGroups by a user field: got err %v, want ErrInvalidFilter", err)
	}
}
